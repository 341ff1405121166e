"""The owner search's minimum, for the hint under its results."""

from django import template

from clients.selectors import OWNER_SEARCH_MIN_LENGTH, owner_search_words

register = template.Library()


@register.simple_tag
def owner_search_min_length() -> int:
    """The fewest characters (spaces aside) the owner search looks for."""
    return OWNER_SEARCH_MIN_LENGTH


@register.filter
def owner_search_too_short(query: str | None) -> bool:
    """Whether the owner search ignores this query as too short."""
    return not owner_search_words(query or "")
