"""Database-level rules of users, resellers and managers."""

import pytest
from django.db import IntegrityError, transaction

from users.models import Manager, Reseller, User


def test_email_is_unique_in_any_letter_case(db):
    User.objects.create_user(email="Anna@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="anna@example.com")
    assert User.objects.count() == 1


def test_sign_in_email_is_found_in_any_letter_case(db):
    user = User.objects.create_user(email="Anna@Example.com")
    assert User.objects.get_by_natural_key("ANNA@example.COM") == user


def test_only_one_root_reseller(root_reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        Reseller.objects.create(name="Второй корень")
    assert Reseller.objects.filter(parent__isnull=True).count() == 1


def test_many_sub_resellers_under_one_root(root_reseller):
    Reseller.objects.create(name="A", parent=root_reseller)
    Reseller.objects.create(name="B", parent=root_reseller)
    assert root_reseller.children.count() == 2


def test_terms_url_is_required_when_terms_are_requested(root_reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        Reseller.objects.create(name="X", parent=root_reseller, terms_required=True)


def test_autofill_url_is_required_when_autofill_is_on(root_reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        Reseller.objects.create(name="X", parent=root_reseller, autofill_enabled=True)


def test_manager_key_is_unique_per_reseller(irina, root_reseller, sub_reseller):
    other = User.objects.create_user(email="other@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Manager.objects.create(user=other, reseller=root_reseller, key=irina.key)
    # The same key under another reseller is fine.
    Manager.objects.create(user=other, reseller=sub_reseller, key=irina.key)


@pytest.mark.parametrize("key", ["ivan.petrov", "ivan_petrov-2", "IVAN"])
def test_manager_key_accepts_latin_digits_and_punctuation(irina, key):
    irina.key = key
    irina.full_clean()


@pytest.mark.parametrize("key", ["иван", "ivan petrov", "ivan@home", ""])
def test_manager_key_rejects_other_characters(irina, key):
    from django.core.exceptions import ValidationError

    irina.key = key
    with pytest.raises(ValidationError) as error:
        irina.full_clean()
    assert "key" in error.value.message_dict
