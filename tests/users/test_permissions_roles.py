"""Permissions by manager role (users.roles): who may create clients, change
status, decide postpay and export; the rest get 403 and no button."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import ClientStatus, PostpayPermission
from tests.conftest import make_client, make_manager
from users import roles
from users.models import ManagerRole, PostpayMode
from users.services import manager_role_sync

ALLOWED = {
    ManagerRole.SALES: {"create", "status", "export"},
    ManagerRole.MARKETING: {"export"},
    ManagerRole.PRODUCT_OWNER: {"create", "status", "postpay", "export"},
    ManagerRole.SYSTEM_ADMINISTRATOR: {"create", "status", "postpay", "export"},
}


@pytest.fixture
def world(sub_reseller, sub_rules):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    return sub_reseller, sub_rules


def browser_for(manager) -> HttpClient:
    browser = HttpClient()
    browser.force_login(manager.user)
    return browser


@pytest.mark.parametrize("role", list(ManagerRole))
def test_each_role_reaches_exactly_its_actions(world, role):
    reseller, rules = world
    manager = make_manager(reseller=reseller, role=role)
    client = make_client(
        reseller=reseller, rules=rules, postpay_permission=PostpayPermission.APPROVAL_REQUIRED
    )
    browser = browser_for(manager)
    answers = {
        "create": browser.get(reverse("clients:create")).status_code,
        "owner_search": browser.get(reverse("clients:owner_search"), {"q": "ab"}).status_code,
        "export": browser.get(reverse("clients:export")).status_code,
        "status": browser.post(
            reverse("clients:status", args=[client.pk]),
            {"status": ClientStatus.ADMINISTRATIVE_HOLD},
        ).status_code,
        "postpay": browser.post(
            reverse("clients:postpay", args=[client.pk]), {"decision": PostpayPermission.APPROVED}
        ).status_code,
    }
    allowed = ALLOWED[role]
    assert answers["create"] == (200 if "create" in allowed else 403)
    assert answers["owner_search"] == (200 if "create" in allowed else 403)
    assert answers["export"] == (200 if "export" in allowed else 403)
    assert answers["status"] == (302 if "status" in allowed else 403)
    assert answers["postpay"] == (302 if "postpay" in allowed else 403)
    client.refresh_from_db()
    assert (client.status == ClientStatus.ADMINISTRATIVE_HOLD) == ("status" in allowed)
    assert (client.postpay_permission == PostpayPermission.APPROVED) == ("postpay" in allowed)
    # The list and the client page stay open to every role.
    assert browser.get(reverse("clients:list")).status_code == 200
    assert browser.get(reverse("clients:detail", args=[client.pk])).status_code == 200


@pytest.mark.parametrize("role", list(ManagerRole))
def test_the_ui_offers_only_what_the_role_may_do(world, role):
    reseller, rules = world
    manager = make_manager(reseller=reseller, role=role)
    client = make_client(
        reseller=reseller, rules=rules, postpay_permission=PostpayPermission.APPROVAL_REQUIRED
    )
    browser = browser_for(manager)
    allowed = ALLOWED[role]
    listing = browser.get(reverse("clients:list")).content.decode()
    assert (reverse("clients:create") in listing) == ("create" in allowed)
    assert (reverse("clients:export") in listing) == ("export" in allowed)
    detail = browser.get(reverse("clients:detail", args=[client.pk])).content.decode()
    assert (reverse("clients:status", args=[client.pk]) in detail) == ("status" in allowed)
    assert (reverse("clients:postpay", args=[client.pk]) in detail) == ("postpay" in allowed)


def test_groups_match_the_map_and_migrate_is_idempotent(db):
    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)
    for role, codenames in roles.ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=roles.role_group_name(role))
        assert set(group.permissions.values_list("codename", flat=True)) == set(codenames)
    assert Group.objects.filter(name__startswith=roles.ROLE_GROUP_PREFIX).count() == 4


def test_a_role_change_moves_the_manager_to_the_new_group(sub_reseller):
    manager = make_manager(reseller=sub_reseller, role=ManagerRole.SALES)
    hand_given = Group.objects.create(name="Auditors")
    manager.user.groups.add(hand_given)
    manager.role = ManagerRole.MARKETING
    manager.save()
    manager_role_sync(manager=manager)
    names = set(manager.user.groups.values_list("name", flat=True))
    assert names == {roles.role_group_name(ManagerRole.MARKETING), "Auditors"}
    manager.user = type(manager.user).objects.get(pk=manager.user.pk)  # no permission cache
    assert manager.user.has_perm(roles.perm(roles.EXPORT_CLIENTS))
    assert not manager.user.has_perm(roles.perm(roles.CREATE_CLIENT))


def test_the_admin_save_keeps_the_group(admin_client, sub_reseller):
    manager = make_manager(reseller=sub_reseller, role=ManagerRole.SALES)
    url = reverse("admin:users_manager_change", args=[manager.pk])
    response = admin_client.post(
        url,
        {
            "user": manager.user.pk,
            "reseller": sub_reseller.pk,
            "role": ManagerRole.PRODUCT_OWNER,
            "status": manager.status,
            "key": manager.key,
            "phone": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    names = set(manager.user.groups.values_list("name", flat=True))
    assert names == {roles.role_group_name(ManagerRole.PRODUCT_OWNER)}
