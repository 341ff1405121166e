"""The company-name rules are linear in the name's length and find what they
found before.

The forbidden-domain check used to be the regular expression
``\\S*suffix(?!\\w)``, which backtracks over every start: 1.1 s for 8,000
characters, 45.6 s for a 60,000-character name from a directory answer. The
rules now split the name into words once.
"""

import re

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from rules import validation
from rules.models import AccountValidationSettings
from tests.guards import finishes_within


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def demo_settings() -> AccountValidationSettings:
    """The demo's rules, plus abbreviations and domains with punctuation."""
    return AccountValidationSettings(
        forbidden_abbreviations="ООО\nОАО\nЗАО\nПАО\nИП\nOOO\nLLC\nLtd\nS.A.\nLtd.",
        forbidden_tlds=".ru\n.рф\n.com\n.net\n.org\nco.uk",
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("x" * 200_000, id="one-word"),
        pytest.param("Ромашка." * 25_000, id="dots"),
        pytest.param("a.rux" * 40_000, id="domain-followed-by-letters"),
        pytest.param("ООО." * 50_000, id="abbreviations"),
        pytest.param("S.S.A" * 40_000, id="punctuated-abbreviation"),
    ],
)
def test_a_name_of_200000_characters_is_checked_without_backtracking(name):
    # A functional bound, not a speed target: the linear rules take a few
    # milliseconds here, the old search for a domain was quadratic (45.6 s at
    # 60,000 characters, so minutes at 200,000). 5 s only tells the two apart.
    with finishes_within(5, "the company-name rules on 200,000 characters"):
        problems = validation.company_name_problems(name, settings=demo_settings())
    assert isinstance(problems, list)


def test_what_a_long_name_breaks_is_still_found_and_quoted():
    name = "x" * 60_000 + " ooo Ромашка.RU/shop"
    with finishes_within(5, "the company-name rules on 60,000 characters"):
        problems = validation.company_name_problems(name, settings=demo_settings())
    assert problems == [
        "The company name contains the forbidden abbreviation “ooo”: leave the legal form out.",
        "The company name contains the forbidden domain “Ромашка.RU”.",
    ]


# The old rules, as a reference: what the new ones must find on short names.


def reference_problems(value: str, settings: AccountValidationSettings) -> list[str]:
    found = []
    characters = [char for char in dict.fromkeys(value) if char in settings.forbidden_characters]
    if characters:
        found.append(("characters", characters))
    for abbreviation in settings.split_lines(settings.forbidden_abbreviations):
        match = re.search(rf"(?<!\w){re.escape(abbreviation)}(?!\w)", value, re.IGNORECASE)
        if match:
            found.append(("abbreviation", [match.group(0)]))
    for tld in settings.split_lines(settings.forbidden_tlds):
        suffix = "." + tld.lstrip(".")
        match = re.search(rf"\S*{re.escape(suffix)}(?!\w)", value, re.IGNORECASE)
        if match:
            found.append(("domain", [match.group(0)]))
    return found


PIECES = [
    *"оОпПрРфФlLtTdDsSaAxX1_.,-/ \t$|",
    "ru",
    "RU",
    ".ru",
    ".com",
    ".co.uk",
    "рф",
    "ООО",
    "ооо",
    "LLC",
    "Ltd.",
    "S.A.",
    "ИП",
]


@given(st.lists(st.sampled_from(PIECES), max_size=16).map("".join))
def test_the_rules_find_what_the_regular_expressions_found(name):
    settings = demo_settings()
    settings.forbidden_characters = "$|"
    expected = reference_problems(name, settings)
    problems = validation.company_name_problems(name, settings=settings)
    assert len(problems) == len(expected), (name, problems, expected)
    for message, (kind, parts) in zip(problems, expected, strict=True):
        assert kind in message
        for part in parts:
            assert f"“{part}”" in message, (name, message, part)
