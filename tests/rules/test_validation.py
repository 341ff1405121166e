"""rules.validation: the pure checks behind the Add client page."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from rules import validation
from rules.models import AccountValidationSettings, Attribute, AttributeValueType

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def settings_row() -> AccountValidationSettings:
    """The shipped defaults plus a few abbreviations and domains, unsaved."""
    return AccountValidationSettings(
        forbidden_abbreviations="ООО\nLLC\nИП", forbidden_tlds="ru\n.рф\n.com"
    )


@pytest.mark.parametrize(
    ("name", "problems"),
    [
        ("Ромашка", []),
        ("Ромашка ип", ["forbidden abbreviation “ип”"]),
        ("Типография", []),
        ("Ромашка.РФ", ["forbidden domain “Ромашка.РФ”"]),
        ("see romashka.com today", ["forbidden domain “romashka.com”"]),
        ("Ромашка.community", []),
        ("A|B~C", ["forbidden characters: “|”, “~”"]),
        (
            "ООО Ромашка.ru $",
            [
                "forbidden characters: “$”",
                "forbidden abbreviation “ООО”",
                "forbidden domain “Ромашка.ru”",
            ],
        ),
    ],
)
def test_company_name_problems(settings_row, name, problems):
    found = validation.company_name_problems(name, settings=settings_row)
    assert len(found) == len(problems)
    for message, expected in zip(found, problems, strict=True):
        assert expected in message


def test_quotation_marks_follow_the_language(settings_row):
    """“…” in English (above), «…» in Russian, around each quoted part."""
    with translation.override("ru"):
        problems = validation.company_name_problems("ООО Ромашка.ru $|", settings=settings_row)
        with pytest.raises(ValidationError) as caught:
            validation.validate_region("Крым", settings=AccountValidationSettings())
        region_messages = caught.value.messages
    assert problems == [
        "Наименование компании содержит запрещенные символы: «$», «|».",
        "Наименование компании содержит запрещенное сокращение «ООО»: "
        "не указывайте организационно-правовую форму.",
        "Наименование компании содержит запрещенный домен «Ромашка.ru».",
    ]
    assert region_messages == [
        "Клиенты из региона «Крым» не обслуживаются: регион входит в список запрещенных как «Крым»."
    ]
    assert "“" not in "".join(problems + region_messages)


@pytest.mark.parametrize(
    ("value", "tokens"),
    [
        ("Республика Крым", ["respublika", "krim"]),
        ("Автономна Республіка Крим", ["avtonomna", "respublika", "krim"]),
        ("Crimea", ["krimea"]),
        ("Севастополь", ["sevastopol"]),
        ("Херсонская обл.", ["hersonskaia", "obl"]),
    ],
)
def test_region_tokens_fold_the_usual_spellings(value, tokens):
    assert validation.region_tokens(value) == tokens


@pytest.mark.parametrize(
    "region",
    [
        "Крым",
        "крым",
        "КРЫМ ",
        "Krym",
        "Krim",
        "Crimea",
        "РеспубликаКрым",
        "Sevastopol",
        "Sebastopol",
    ],
)
def test_default_forbidden_regions(region):
    assert validation.forbidden_region_match(region, settings=AccountValidationSettings())


@pytest.mark.parametrize("region", ["Москва", "Крымск", "Crimean Tatar street, Kazan", ""])
def test_other_regions_pass(region):
    assert validation.forbidden_region_match(region, settings=AccountValidationSettings()) is None


def test_latin_check_offers_anyascii():
    validation.validate_latin("Lenina 1")
    with pytest.raises(ValidationError) as caught:
        validation.validate_latin("Ленина 1")
    assert caught.value.code == "not_latin"
    assert caught.value.params == {"suggestion": "Lenina 1"}


@pytest.mark.parametrize(
    ("check", "value", "code"),
    [
        (validation.validate_inn, "7707083893", None),
        (validation.validate_inn, "500100732259", None),
        (validation.validate_inn, "500100732258", "inn_checksum"),
        (validation.validate_inn, "50010073225", "inn_length"),
        (validation.validate_inn, "5001-00732259", "inn_format"),
        (validation.validate_ogrn, "1027700132195", None),
        (validation.validate_ogrn, "1027700132194", "ogrn_checksum"),
        (validation.validate_ogrn, "5027700132195", "ogrn_checksum"),
        (validation.validate_ogrn, "0027700132195", "ogrn_component"),
        (validation.validate_ogrn, "102770013219", "ogrn_length"),
        (validation.validate_kpp, "773601001", None),
        (validation.validate_kpp, "7736AB001", None),
        (validation.validate_kpp, "7736ab001", "kpp_format"),
        (validation.validate_kpp, "7736010011", "kpp_length"),
    ],
)
def test_identifiers(check, value, code):
    if code is None:
        check(value)
        return
    with pytest.raises(ValidationError) as caught:
        check(value)
    assert caught.value.code == code


def attribute(value_type: str, **fields) -> Attribute:
    return Attribute(key=fields.pop("key", "x"), name="X", value_type=value_type, **fields)


def test_attribute_defaults_by_type():
    assert validation.attribute_default(attribute(AttributeValueType.CHECKBOX, default_value="Yes"))
    assert not validation.attribute_default(attribute(AttributeValueType.CHECKBOX))
    assert validation.attribute_default(
        attribute(AttributeValueType.DATE, default_value="2024-02-29")
    ) == datetime.date(2024, 2, 29)
    assert (
        validation.attribute_default(attribute(AttributeValueType.DATE, default_value="soon"))
        is None
    )
    assert (
        validation.attribute_default(attribute(AttributeValueType.STRING, default_value="a")) == "a"
    )


def test_formats_match_the_whole_value():
    digits = attribute(AttributeValueType.STRING, format=r"\d{4}")
    assert validation.clean_attribute_value(digits, " 1234 ") == "1234"
    for value in ("12345", "a1234", "123"):
        with pytest.raises(ValidationError):
            validation.clean_attribute_value(digits, value)


def test_inn_attribute_is_checked_by_key():
    inn = attribute(AttributeValueType.STRING, key="INN")
    assert validation.clean_attribute_value(inn, "7707083893") == "7707083893"
    with pytest.raises(ValidationError, match="checksum"):
        validation.clean_attribute_value(inn, "7707083894")


# Text fields -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        ("  Москва ", {}, "Москва"),
        ("", {}, ""),
        ("   ", {}, ""),
        (" pass ", {"strip": False}, " pass "),
        ("x" * 150, {}, "x" * 150),
    ],
)
def test_clean_text_keeps_what_may_be_stored(value, options, expected):
    assert validation.clean_text(value, max_length=150, **options) == expected


@pytest.mark.parametrize(
    ("value", "options", "message"),
    [
        (" ", {"required": True}, "This field is required."),
        ("x" * 151, {}, "at most 150 characters (it has 151)"),
        ("a\x00b", {}, "Null characters are not allowed."),
    ],
)
def test_clean_text_refuses(value, options, message):
    with pytest.raises(ValidationError) as caught:
        validation.clean_text(value, max_length=150, **options)
    assert any(message in text for text in caught.value.messages)


def test_clean_email_checks_the_form_and_the_column():
    assert validation.clean_email(" a@example.com ", max_length=254) == "a@example.com"
    with pytest.raises(ValidationError, match="valid email"):
        validation.clean_email("a@", max_length=254)
    with pytest.raises(ValidationError, match="at most 20 characters"):
        validation.clean_email("abcdefghij@example.com", max_length=20)
