"""What the Add client page's script reads from data attributes."""

from django import template

from clients.contract_copy import contract_copy_pairs_json

register = template.Library()


@register.simple_tag
def contract_copy_pairs() -> str:
    """The contract person → new owner field pairs, in JSON (autoescaped into
    the attribute that holds it)."""
    return contract_copy_pairs_json()
