"""Database-level rules of client accesses."""

import pytest
from django.db import IntegrityError, transaction

from clients.models import AccessLevel, ClientAccess
from tests.conftest import make_client, make_user


def test_second_owner_of_a_client_fails_at_the_database(root_reseller, root_rules):
    client = make_client(reseller=root_reseller, rules=root_rules)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientAccess.objects.create(client=client, user=make_user(), level=AccessLevel.OWNER)
    assert client.accesses.filter(level=AccessLevel.OWNER).count() == 1


def test_a_client_may_have_many_admins(root_reseller, root_rules):
    client = make_client(reseller=root_reseller, rules=root_rules)
    ClientAccess.objects.create(client=client, user=make_user(), level=AccessLevel.ADMIN)
    ClientAccess.objects.create(client=client, user=make_user(), level=AccessLevel.ADMIN)
    assert client.accesses.count() == 3


def test_a_user_has_one_access_per_client(root_reseller, root_rules):
    owner = make_user()
    client = make_client(reseller=root_reseller, rules=root_rules, owner=owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientAccess.objects.create(client=client, user=owner, level=AccessLevel.ADMIN)


def test_one_user_may_own_several_clients(root_reseller, root_rules):
    owner = make_user()
    make_client(reseller=root_reseller, rules=root_rules, owner=owner)
    make_client(reseller=root_reseller, rules=root_rules, owner=owner)
    assert ClientAccess.objects.filter(user=owner, level=AccessLevel.OWNER).count() == 2
