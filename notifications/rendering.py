"""Rendering notification templates, and checking them when they are saved.

Templates are Django templates, rendered by an engine of their own (no
template tag libraries, no includes) against a fixed context of plain
dictionaries: a template can reach only the values listed in
``SAMPLE_CONTEXT``, never a model and its relations (a reseller's API key,
say). ``template_source_check`` rejects unknown variables and broken syntax
when an admin saves a template, so sending never meets them.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import FilterExpression, Node, NodeList, Variable
from django.template.defaulttags import ForNode, WithNode
from django.utils.translation import gettext_lazy as _

# The documented context; the values are the sample a template is checked against.
SAMPLE_CONTEXT: dict[str, Any] = {
    "event": "client.created",
    "client": {
        "id": 1042,
        "name": "Иванов Иван Иванович",
        "company_name": "Ромашка",
        "type_key": "company",
        "type_name": "Юридическое лицо",
        "rule_key": "standard",
        "rule_name": "Стандарт",
        "status": "active",
        "status_display": "Active",
        "country": "RU",
        "country_name": "Russia",
        "region": "Московская область",
        "city": "Москва",
        "postal_code": "101000",
        "address": "ул. Тверская, 1",
        "phone": "+79161234567",
        "email": "info@example.com",
        "created_at": "2026-01-01T10:00:00+03:00",
        "contract_person": {
            "first_name": "Иван",
            "middle_name": "Иванович",
            "last_name": "Иванов",
            "full_name": "Иванов Иван Иванович",
            "email": "ivanov@example.com",
        },
    },
    "owner": {
        "first_name": "Иван",
        "middle_name": "Иванович",
        "last_name": "Иванов",
        "full_name": "Иванов Иван Иванович",
        "email": "owner@example.com",
    },
    "reseller": {"name": "Облако", "panel_url": "https://panel.example.com"},
    "owner_password_setup_url": "https://panel.example.com/welcome/MQ/token/",
    "owner_password_setup_valid_days": 7,
}

_UNKNOWN_MARK = "\x00unknown:%s\x00"
_UNKNOWN_RE = re.compile("\x00unknown:(.*?)\x00")


def _engine(*, html: bool, string_if_invalid: str = "") -> Engine:
    return Engine(autoescape=html, string_if_invalid=string_if_invalid, libraries={}, loaders=[])


_TEXT_ENGINE = _engine(html=False)
_HTML_ENGINE = _engine(html=True)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body_text: str
    body_html: str


def clean_subject(subject: str) -> str:
    """A header value built from client data: line breaks (any Unicode ones)
    would split or break the header, so all whitespace runs become one space."""
    return " ".join(subject.split())


def render_message(
    *, subject: str, body_text: str, body_html: str, context: dict[str, Any]
) -> RenderedMessage:
    """Render a template's texts; HTML is autoescaped, plain text and subject are not."""
    # Context's own autoescape decides, not the engine's: off for plain text.
    text = Context(context, autoescape=False)
    return RenderedMessage(
        subject=clean_subject(_TEXT_ENGINE.from_string(subject).render(text)),
        body_text=_TEXT_ENGINE.from_string(body_text).render(text),
        body_html=(
            _HTML_ENGINE.from_string(body_html).render(Context(context, autoescape=True))
            if body_html
            else ""
        ),
    )


def _filter_expressions(obj: Any, depth: int = 0) -> Iterator[FilterExpression]:
    """Every filter expression of a parsed template, in any tag (if, for,
    with, filters' arguments…), found by walking Django's node objects."""
    if depth > 50:
        return
    if isinstance(obj, FilterExpression):
        yield obj
        return
    if isinstance(obj, list | tuple | NodeList):
        for item in obj:
            yield from _filter_expressions(item, depth + 1)
        return
    if isinstance(obj, dict):
        for item in obj.values():
            yield from _filter_expressions(item, depth + 1)
        return
    if type(obj).__module__.startswith("django.template") and hasattr(obj, "__dict__"):
        for name, value in vars(obj).items():
            if name in {"origin", "token", "template"}:
                continue
            yield from _filter_expressions(value, depth + 1)


def _bound_names(nodelist: NodeList) -> set[str]:
    """Names a template binds itself: loop variables and ``with`` names."""
    names = {"forloop", "block"}
    for node in nodelist.get_nodes_by_type(Node):
        if isinstance(node, ForNode):
            names.update(node.loopvars)
        elif isinstance(node, WithNode):
            names.update(node.extra_context)
    return names


def _unknown_variables(nodelist: NodeList, context: dict[str, Any]) -> list[str]:
    bound = _bound_names(nodelist)
    unknown = []
    for expression in _filter_expressions(list(nodelist)):
        variables = [expression.var] + [
            arg for _func, args in expression.filters for lookup, arg in args if lookup
        ]
        for variable in variables:
            if not isinstance(variable, Variable) or not variable.lookups:
                continue
            if variable.lookups[0] in bound:
                continue
            value: Any = context
            for part in variable.lookups:
                if not isinstance(value, dict):
                    break  # past the documented dictionaries: a str method, say
                if part not in value:
                    unknown.append(variable.var)
                    break
                value = value[part]
    return unknown


def template_source_check(*, source: str, html: bool = False) -> None:
    """Raise ValidationError when a template text has broken syntax, an
    unknown variable, or fails to render against the sample context."""
    strict = _engine(html=html, string_if_invalid=_UNKNOWN_MARK)
    try:
        template = strict.from_string(source)
    except TemplateSyntaxError as error:
        raise ValidationError(
            _("Template syntax error: %(error)s"), params={"error": error}, code="syntax"
        ) from error
    _raise_unknown(_unknown_variables(template.nodelist, SAMPLE_CONTEXT))
    try:
        output = template.render(Context(SAMPLE_CONTEXT, autoescape=html))
    except Exception as error:
        raise ValidationError(
            _("The template cannot be rendered: %(error)s"),
            params={"error": error},
            code="render",
        ) from error
    _raise_unknown(_UNKNOWN_RE.findall(output))


def _raise_unknown(unknown: list[str]) -> None:
    if unknown:
        raise ValidationError(
            _("Unknown variable: %(variables)s. Available: %(available)s."),
            params={
                "variables": ", ".join(dict.fromkeys(unknown)),
                "available": ", ".join(SAMPLE_CONTEXT),
            },
            code="unknown_variable",
        )
