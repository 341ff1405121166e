"""Pure checks of the values a client is created with.

Nothing here reads the database: the caller passes the settings and the
attribute. ``clients.services.client_create`` is the one caller that decides
(the Add client page and the API reach these checks only through it); the
page's autofill asks ``company_name_problems`` only to choose which spelling
of a directory name to fill in.
"""

import bisect
import datetime
import re
import unicodedata
from collections.abc import Iterable

from anyascii import anyascii
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    ProhibitNullCharactersValidator,
    validate_email,
)
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_errors
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

from rules.models import (
    ATTRIBUTE_VALUE_MAX_LENGTH,
    AccountValidationSettings,
    Attribute,
    AttributeValueType,
)

# The one definition of this message in the project (Django's forms have their own).
REQUIRED_MESSAGE = _("This field is required.")


def _quote(parts: Iterable[str]) -> str:
    """The parts in the quotation marks of the active language: “…” in
    English, «…» in Russian (the catalogue holds the marks)."""
    quoted = pgettext("quotation marks around a quoted value", "“%(value)s”")
    return ", ".join(quoted % {"value": part} for part in parts)


# Text fields -----------------------------------------------------------------


def clean_text(
    value: str,
    *,
    max_length: int,
    required: bool = False,
    strip: bool = True,
    multiline: bool = False,
) -> str:
    """A typed text as it is stored: without surrounding spaces (unless
    ``strip`` is off), present when required, without NUL characters (which
    PostgreSQL cannot store), no longer than its column and without a
    character a reader cannot see (``validate_visible_text``; a ``multiline``
    text keeps its tabs and line breaks)."""
    text = value.strip() if strip else value
    if not text:
        if required:
            raise ValidationError(REQUIRED_MESSAGE, code="required")
        return ""
    ProhibitNullCharactersValidator()(text)
    MaxLengthValidator(max_length)(text)
    validate_visible_text(text, multiline=multiline)
    return text


def clean_email(value: str, *, max_length: int, required: bool = False) -> str:
    """An email address as it is stored (see ``clean_text``), in a valid form."""
    text = clean_text(value, max_length=max_length, required=required)
    if text:
        validate_email(text)
    return text


# Company names ---------------------------------------------------------------

# Every rule below is linear in the name's length: the name is split into its
# words once, an abbreviation is looked up among them, and a domain is looked
# for where one can end. The earlier search for a domain, \S*suffix(?!\w),
# backtracked over every start: 45 s for a 60,000-character name.
_WORD = re.compile(r"\w+")
_PART = re.compile(r"\S+")


def company_name_errors(
    value: str, *, settings: AccountValidationSettings
) -> list[ValidationError]:
    """Every reason the installation forbids this company name, each message
    quoting the offending part and with its code (forbidden_characters,
    forbidden_abbreviation, forbidden_domain); an empty list when the name is
    fine."""
    problems: list[ValidationError] = []
    forbidden = set(settings.forbidden_characters)
    characters = [char for char in dict.fromkeys(value) if char in forbidden]
    if characters:
        problems.append(
            ValidationError(
                gettext("The company name contains forbidden characters: %(parts)s.")
                % {"parts": _quote(characters)},
                code="forbidden_characters",
            )
        )
    words: dict[str, tuple[int, int]] = {}  # a word in any letter case -> its first place
    for match in _WORD.finditer(value):
        words.setdefault(match.group().casefold(), match.span())
    for abbreviation in settings.split_lines(settings.forbidden_abbreviations):
        found = _abbreviation(value, abbreviation, words=words)
        if found is not None:
            problems.append(
                ValidationError(
                    gettext(
                        "The company name contains the forbidden abbreviation %(part)s: "
                        "leave the legal form out."
                    )
                    % {"part": _quote([value[found[0] : found[1]]])},
                    code="forbidden_abbreviation",
                )
            )
    parts = [match.span() for match in _PART.finditer(value)]
    for tld in settings.split_lines(settings.forbidden_tlds):
        found = _domain(value, "." + tld.lstrip("."), parts=parts)
        if found is not None:
            problems.append(
                ValidationError(
                    gettext("The company name contains the forbidden domain %(part)s.")
                    % {"part": _quote([value[found[0] : found[1]]])},
                    code="forbidden_domain",
                )
            )
    return problems


def company_name_problems(value: str, *, settings: AccountValidationSettings) -> list[str]:
    """The messages of ``company_name_errors``."""
    return [error.message for error in company_name_errors(value, settings=settings)]


def _abbreviation(
    value: str, abbreviation: str, *, words: dict[str, tuple[int, int]]
) -> tuple[int, int] | None:
    """Where the abbreviation first stands as a whole word in any letter case:
    "ООО" is caught in "ооо Ромашка" but not inside "Зоопарк"."""
    if _WORD.fullmatch(abbreviation):
        return words.get(abbreviation.casefold())
    # One with punctuation ("Ltd.", "S.A."): a search for a fixed text, which
    # tries each start once, so it is linear too.
    match = re.search(rf"(?<!\w){re.escape(abbreviation)}(?!\w)", value, re.IGNORECASE)
    return match.span() if match else None


def _domain(value: str, suffix: str, *, parts: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The first whitespace-separated part of the name holding the suffix
    (".ru") where no word character follows it, from the part's start to the
    last such place in it: "Ромашка.ru" in "ООО Ромашка.ru/shop"."""
    if any(char.isspace() for char in suffix):
        return None  # a suffix with a space never sits inside one part
    # Each place where the suffix ends a domain, found by trying each start once.
    ends = re.compile(rf"(?=({re.escape(suffix)})(?!\w))", re.IGNORECASE)
    first = ends.search(value)
    if first is None:
        return None
    start, stop = parts[bisect.bisect_right(parts, (first.start(), len(value))) - 1]
    last = first
    for last in ends.finditer(value, first.start(), stop):  # noqa: B007 - the last one counts
        pass
    return start, last.end(1)


def validate_company_name(value: str, *, settings: AccountValidationSettings) -> None:
    problems = company_name_errors(value, settings=settings)
    if problems:
        raise ValidationError(problems)


# Regions ---------------------------------------------------------------------

# The usual differences between Russian, Ukrainian and English spellings once
# transliterated: Крым/Крим → krym/krim, Crimea/Krimea, Херсон/Kherson/Herson.
_SPELLING_FOLDS = (("kh", "h"), ("c", "k"), ("y", "i"), ("j", "i"), ("ii", "i"))


def region_tokens(value: str) -> list[str]:
    """The words of a region name, transliterated to Latin, lower-case, without
    punctuation, soft signs or the usual spelling differences."""
    words = re.findall(r"[a-z0-9]+", anyascii(value).lower().replace("'", ""))
    folded = []
    for word in words:
        for old, new in _SPELLING_FOLDS:
            word = word.replace(old, new)
        folded.append(word)
    return folded


def _contains(words: list[str], part: list[str]) -> bool:
    size = len(part)
    return any(words[start : start + size] == part for start in range(len(words) - size + 1))


def forbidden_region_match(value: str, *, settings: AccountValidationSettings) -> str | None:
    """The entry of the forbidden list that the region matches, or None.

    A region matches when an entry's words appear in it in order ("Республика
    Крым" matches "Крым"), or when both are the same once spaces and hyphens
    are dropped ("Республика-Крым", "РеспубликаКрым")."""
    words = region_tokens(value)
    if not words:
        return None
    for entry in settings.split_lines(settings.forbidden_regions):
        entry_words = region_tokens(entry)
        if not entry_words:
            continue
        if _contains(words, entry_words) or "".join(words) == "".join(entry_words):
            return entry
    return None


def validate_region(value: str, *, settings: AccountValidationSettings) -> None:
    entry = forbidden_region_match(value, settings=settings)
    if entry is not None:
        raise ValidationError(
            _(
                "Clients from the region %(region)s cannot be served: "
                "it is on the forbidden list as %(entry)s."
            ),
            code="forbidden_region",
            params={"region": _quote([value.strip()]), "entry": _quote([entry])},
        )


# Latin-only contacts -----------------------------------------------------------


def transliterate(value: str) -> str:
    """The Latin (ASCII) spelling of a text, as offered to the operator."""
    return anyascii(value)


def validate_latin(value: str) -> None:
    """Reject non-ASCII text; the error carries the transliteration in
    ``params["suggestion"]`` so that the page can offer it in one click."""
    if value.isascii():
        return
    suggestion = transliterate(value)
    raise ValidationError(
        _(
            "Use Latin letters only: this reseller's contact data must be in ASCII. "
            "Suggested: “%(suggestion)s”."
        ),
        code="not_latin",
        params={"suggestion": suggestion},
    )


# Russian company identifiers ---------------------------------------------------


def _stdnum_message(key: str, name: str, error: Exception, lengths: str) -> ValidationError:
    if isinstance(error, stdnum_errors.InvalidLength):
        message, code = (
            _("%(name)s: wrong length, it must have %(lengths)s digits (length check failed)."),
            "length",
        )
    elif isinstance(error, stdnum_errors.InvalidChecksum):
        message, code = _("%(name)s: the check digit is wrong (checksum failed)."), "checksum"
    elif isinstance(error, stdnum_errors.InvalidComponent):
        message, code = (
            _("%(name)s: it cannot start with this digit (format check failed)."),
            "component",
        )
    else:
        message, code = _("%(name)s: only digits are allowed (format check failed)."), "format"
    return ValidationError(message, code=f"{key}_{code}", params={"name": name, "lengths": lengths})


def validate_inn(value: str) -> str:
    """A company's (10 digits) or person's (12 digits) INN, checksum included."""
    try:
        return stdnum_inn.validate(value)
    except stdnum_errors.ValidationError as error:
        raise _stdnum_message("inn", gettext("INN"), error, "10 / 12") from error


def validate_ogrn(value: str) -> str:
    """An OGRN (13 digits) or OGRNIP (15 digits), checksum included."""
    try:
        return stdnum_ogrn.validate(value)
    except stdnum_errors.ValidationError as error:
        raise _stdnum_message("ogrn", gettext("OGRN"), error, "13 / 15") from error


def validate_kpp(value: str) -> str:
    """A KPP: 9 characters, four digits (tax office), two digits or capital
    letters (reason), three digits. KPP has no checksum."""
    value = value.replace(" ", "")
    if len(value) != 9:
        raise ValidationError(
            _("%(name)s: wrong length, it must have 9 characters (length check failed)."),
            code="kpp_length",
            params={"name": gettext("KPP")},
        )
    if not re.fullmatch(r"\d{4}[0-9A-Z]{2}\d{3}", value):
        raise ValidationError(
            _(
                "%(name)s: four digits, two digits or capital letters, three digits "
                "(format check failed)."
            ),
            code="kpp_format",
            params={"name": gettext("KPP")},
        )
    return value


IDENTIFIER_CHECKS = {"inn": validate_inn, "kpp": validate_kpp, "ogrn": validate_ogrn}


# Attribute values ------------------------------------------------------------------

_TRUE_TEXTS = {"1", "true", "yes", "on", "y"}


def attribute_default(attribute: Attribute) -> object:
    """The attribute's default value as the page's field expects it."""
    if attribute.value_type == AttributeValueType.CHECKBOX:
        return attribute.default_value.strip().lower() in _TRUE_TEXTS
    if attribute.value_type == AttributeValueType.DATE:
        try:
            return datetime.date.fromisoformat(attribute.default_value.strip())
        except ValueError:
            return None
    return attribute.default_value


def clean_attribute_value(attribute: Attribute, value: object) -> str:
    """Check one attribute's value against its type, required flag, format and
    (for the keys inn, kpp, ogrn) identifier checks; return it as stored text:
    a checkbox "1" or "", a date in ISO format, a list option's key."""
    value_type = attribute.value_type
    if value_type == AttributeValueType.CHECKBOX:
        ticked = (
            value if isinstance(value, bool) else str(value or "").strip().lower() in _TRUE_TEXTS
        )
        if attribute.required and not ticked:
            raise ValidationError(_("Tick this box to continue."), code="required")
        return "1" if ticked else ""

    if value is None:
        value = ""
    if value_type == AttributeValueType.DATE:
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            return value.isoformat()
        text = str(value).strip()
        if not text:
            if attribute.required:
                raise ValidationError(REQUIRED_MESSAGE, code="required")
            return ""
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError as error:
            raise ValidationError(_("Enter a valid date."), code="invalid_date") from error

    # Length and visible characters before the format: an administrator's
    # pattern never runs over a megabyte.
    text = clean_text(
        str(value),
        max_length=ATTRIBUTE_VALUE_MAX_LENGTH,
        required=attribute.required,
        strip=value_type != AttributeValueType.PASSWORD,
        multiline=value_type == AttributeValueType.TEXT,
    )
    if not text:
        return ""

    if value_type == AttributeValueType.LIST:
        keys = [option.key for option in attribute.options.all()]
        if text not in keys:
            raise ValidationError(
                _("Select a valid choice. %(value)s is not one of the available choices."),
                code="invalid_choice",
                params={"value": text},
            )
        return text

    if attribute.format:
        try:
            matches = re.fullmatch(attribute.format, text) is not None
        except re.error:
            # A broken pattern saved past the admin's validator must not take the
            # page down; it checks nothing until an admin fixes it.
            matches = True
        if not matches:
            raise ValidationError(
                _("Enter the value in the format %(format)s."),
                code="format",
                params={"format": attribute.format},
            )

    check = IDENTIFIER_CHECKS.get(attribute.key.lower())
    if check is not None:
        text = check(text)
    return text


# Invisible and direction-changing characters ------------------------------------------

# Letters that show as nothing at all: the Hangul fillers.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
# The whitespace a multi-line text keeps; a one-line field keeps none.
_MULTILINE_CONTROLS = frozenset("\t\n\r")
# Categories refused everywhere: control characters, line and paragraph
# separators and surrogates (besides format characters, Cf, named apart).
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})


def validate_visible_text(value: str, *, multiline: bool = False) -> None:
    """Refuse a text with a character a reader cannot see or that changes how
    the text around it reads: format characters (Unicode category Cf: the
    bidirectional controls U+202A–U+202E and U+2066–U+2069, the marks
    U+200E/U+200F, zero-width space and joiners U+200B–U+200D, the word joiner
    U+2060, the byte-order mark U+FEFF, the soft hyphen U+00AD, tags…),
    letters that show as nothing (Hangul fillers), and control characters,
    including NUL, line separators and lone surrogates. A multi-line text may
    hold tabs and line breaks.

    Such characters let a name read differently from what is stored ("Ромашка"
    and "Ром\u200bашка" are two clients; U+202E shows "moc.elpmaxe" as
    "example.com"), so they are refused with the first one's code point and
    its position (from 1), rather than stripped behind the operator's back."""
    for position, character in enumerate(value, start=1):
        category = unicodedata.category(character)
        if category == "Cf" or character in _BLANK_LETTERS:
            message = _(
                "The value contains an invisible or direction-changing character "
                "(%(code)s) at position %(position)s."
            )
        elif category in _CONTROL_CATEGORIES and not (
            multiline and character in _MULTILINE_CONTROLS
        ):
            message = _(
                "The value contains a control character (%(code)s) at position %(position)s."
            )
        else:
            continue
        raise ValidationError(
            message,
            code="invisible_character",
            params={"code": f"U+{ord(character):04X}", "position": position},
        )
