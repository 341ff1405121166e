"""Database-level rules of client types, service rules and attributes."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from rules.models import Attribute, AttributeOption, ClientType, ServiceRule


def test_second_default_client_type_fails_at_the_database(root_rules, root_reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientType.objects.create(
            reseller=root_reseller, name="Другой", key="other", is_default=True
        )
    assert ClientType.objects.filter(reseller=root_reseller, is_default=True).count() == 1


def test_each_reseller_has_its_own_default_client_type(root_rules, sub_rules):
    assert ClientType.objects.filter(is_default=True).count() == 2


def test_client_type_key_is_unique_per_reseller(root_rules, root_reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientType.objects.create(reseller=root_reseller, name="Копия", key="person")


def test_second_default_service_rule_fails_at_the_database(root_rules, root_reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRule.objects.create(reseller=root_reseller, name="Ещё", key="more", is_default=True)
    assert ServiceRule.objects.filter(reseller=root_reseller, is_default=True).count() == 1


def test_service_rule_key_is_unique_per_reseller(root_rules, root_reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRule.objects.create(reseller=root_reseller, name="Копия", key="vip")


def test_list_attribute_cannot_have_a_format(root_reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        Attribute.objects.create(
            reseller=root_reseller, name="Сегмент", key="segment", value_type="list", format=r"\d+"
        )


def test_attribute_option_key_is_unique_per_attribute(root_reseller):
    attribute = Attribute.objects.create(
        reseller=root_reseller, name="Сегмент", key="segment", value_type="list"
    )
    AttributeOption.objects.create(attribute=attribute, name="Малый", key="smb")
    with pytest.raises(IntegrityError), transaction.atomic():
        AttributeOption.objects.create(attribute=attribute, name="Малый 2", key="smb")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("%company", "%company"),
        ("Клиент", "хотя бы одну"),
    ],
)
def test_name_pattern_accepts_only_known_variables(root_rules, pattern, message):
    client_type = root_rules["company"]
    client_type.name_pattern = pattern
    with pytest.raises(ValidationError) as error:
        client_type.full_clean()
    assert message in str(error.value.message_dict["name_pattern"])


def test_name_pattern_builds_the_display_name(root_rules):
    person = root_rules["person"]
    name = person.build_display_name(
        primary_name="", first_name="Иван", middle_name="", last_name="Петров"
    )
    assert name == "Петров Иван"


def test_attribute_format_must_be_a_valid_regex(root_reseller):
    attribute = Attribute(reseller=root_reseller, name="X", key="x", format="[")
    with pytest.raises(ValidationError) as error:
        attribute.full_clean()
    assert "недопустимое регулярное выражение" in str(error.value.message_dict["format"])


def test_service_rule_colour_must_be_hex(root_rules):
    rule = root_rules["vip"]
    rule.colour = "red"
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "colour" in error.value.message_dict
