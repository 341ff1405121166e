"""Validators shared by the users' and clients' fields."""

import functools
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The longest phone a person may type, spaces, brackets and dashes included
# (+7 (916) 123-45-67 ext. 1234 has 28 characters): the column keeps the number
# in E.164, at most 16 characters of its 20.
PHONE_INPUT_MAX_LENGTH = 32


def phone_to_e164(value: str, *, region: str | None = None) -> str:
    """Parse a phone number typed by a person and return it in E.164 (+79161234567).

    A number without a leading "+" is read in ``region`` (an ISO country code).
    Raises ``ValidationError`` when the number is not a valid one.
    """
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            _("Enter the phone number in international format, for example +7 916 123-45-67."),
            code="invalid_phone",
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("This phone number does not exist: %(value)s."),
            code="invalid_phone",
            params={"value": value},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A stored number: "+" and up to 15 digits (E.164).
_E164 = re.compile(r"\+[1-9]\d{3,14}")


@functools.lru_cache(maxsize=4096)
def phone_for_display(value: str) -> str:
    """A stored E.164 number as people write it (+7 916 123-45-67); anything
    that does not parse is shown as it is.

    The client list shows fifty on every page, and phonenumbers' parse()
    costs twice its formatting: a stored number is split by its country code
    instead (codes are prefix-free, so the first one known is the one), and
    the answers are kept, as the same numbers come back page after page
    (tests/users/test_phone_display.py compares both ways for every region)."""
    if _E164.fullmatch(value):
        for length in (1, 2, 3):
            country_code = int(value[1 : 1 + length])
            if country_code not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                continue
            national = value[1 + length :]
            # Leading zeros (Italy, Gabon, …) are kept apart by parse(): let it.
            if not national.startswith("0"):
                number = phonenumbers.PhoneNumber(
                    country_code=country_code, national_number=int(national)
                )
                return phonenumbers.format_number(
                    number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
                )
            break
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def validate_phone(value: str) -> None:
    """Model-field validator: the stored phone must already be a valid E.164 number."""
    if value and phone_to_e164(value) != value:
        raise ValidationError(
            _("Store the phone in E.164 format, for example +79161234567."), code="not_e164"
        )


def validate_email_local_part_ascii(value: str) -> None:
    """The part of an email before "@" must be ASCII. Look-alike letters from
    other alphabets ("ſ", "ı", Cyrillic "а") make an address that reads like
    another person's; the panel does not create such logins."""
    local_part = value.rpartition("@")[0] if "@" in value else value
    if not local_part.isascii():
        raise ValidationError(
            _("Use only Latin letters, digits and punctuation before “@”."),
            code="email_local_part_not_ascii",
        )
