"""What the Add client page's script reads from data attributes."""

from django import template

from clients.contract_copy import contract_copy_pairs_json, contract_defaults_json

register = template.Library()


@register.simple_tag
def contract_copy_pairs() -> str:
    """The contract person → new owner field pairs, in JSON (autoescaped into
    the attribute that holds it)."""
    return contract_copy_pairs_json()


@register.simple_tag
def contract_defaults() -> str:
    """The contract person → empty contacts field pairs, in JSON."""
    return contract_defaults_json()
