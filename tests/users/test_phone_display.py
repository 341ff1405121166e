"""phone_for_display: the stored E.164 number as people write it. Its quick
way (split by the country code, no parse()) must say exactly what
phonenumbers' parse-and-format says, for every region's example numbers."""

import phonenumbers
import pytest

from users.validators import phone_for_display

TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.VOIP,
)


def example_numbers() -> list[str]:
    numbers = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for number_type in TYPES:
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                numbers.add(
                    phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                )
    return sorted(numbers)


def parsed_and_formatted(value: str) -> str:
    return phonenumbers.format_number(
        phonenumbers.parse(value, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def test_every_regions_examples_read_as_phonenumbers_reads_them():
    numbers = example_numbers()
    assert len(numbers) > 600
    wrong = {
        n: phone_for_display(n) for n in numbers if phone_for_display(n) != parsed_and_formatted(n)
    }
    assert wrong == {}


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+79161234567", "+7 916 123-45-67"),
        ("+390212345678", "+39 02 1234 5678"),  # Italy keeps its leading zero
        ("+12015550123", "+1 201-555-0123"),
        ("not a phone", "not a phone"),
        ("+999123", "+999123"),  # no such country code: shown as it is
        ("", ""),
    ],
)
def test_stored_numbers_and_anything_else(stored, shown):
    assert phone_for_display(stored) == shown
