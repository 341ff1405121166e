"""Rendering notification templates, and checking them when they are saved.

Templates are Django templates, rendered by an engine of their own against a
fixed context of plain dictionaries: a template can reach only the values
listed in ``SAMPLE_CONTEXT``, never a model and its relations (a reseller's
API key, say). The engine knows only the tags and filters of
``notifications.template_library`` (an allow-list: no ``debug``, ``url``,
``autoescape``, ``|safe``, ``load``, ``include``…).

``template_features_check`` is the one place that says which tag or filter
a text may not use; the model's ``clean`` (hence admin) calls it through
``template_source_check`` on save, and ``render_message`` calls it again
before every render, so a text written straight to the database is refused
at sending with the same reason instead of being rendered.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import FilterExpression, Lexer, Node, NodeList, TokenType, Variable
from django.template.defaulttags import FilterNode, ForNode, WithNode
from django.utils.translation import gettext_lazy as _

from notifications.template_library import ALLOWED_FILTERS, ALLOWED_TAG_WORDS, ALLOWED_TAGS

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
    "recipient": {
        "first_name": "Мария",
        "middle_name": "",
        "last_name": "Петрова",
        "full_name": "Петрова Мария",
        "email": "maria@example.com",
    },
    "recipient_is_owner": False,
    "access_level": "Admin",
    "manager": {
        "first_name": "Ирина",
        "middle_name": "",
        "last_name": "Смирнова",
        "full_name": "Смирнова Ирина",
        "email": "irina@oblako.example",
        "phone": "+79160000001",
    },
    "previous_manager": {
        "first_name": "Пётр",
        "middle_name": "",
        "last_name": "Кузнецов",
        "full_name": "Кузнецов Пётр",
        "email": "petr@oblako.example",
        "phone": "",
    },
    "previous_owner": {
        "first_name": "Иван",
        "middle_name": "Иванович",
        "last_name": "Иванов",
        "full_name": "Иванов Иван Иванович",
        "email": "owner@example.com",
    },
    "reseller": {"name": "Облако", "panel_url": "https://panel.example.com"},
    "owner_password_setup_url": "https://panel.example.com/welcome/MQ/token/",
    "recipient_password_setup_url": "https://panel.example.com/welcome/Mg/token/",
    "owner_password_setup_valid_days": 7,
    "terms": {
        "pending": True,
        "url": "https://oblako.example/terms",
        "acceptance_url": "https://panel.example.com/welcome/terms/token/",
    },
}

_UNKNOWN_MARK = "\x00unknown:%s\x00"
_UNKNOWN_RE = re.compile("\x00unknown:(.*?)\x00")


class NotificationEngine(Engine):
    """Django's engine whose only builtins are the allowed tags and filters
    (the ``builtins`` argument could only add to Django's defaults)."""

    default_builtins = ["notifications.template_library"]


# Django's full set of tags and filters, only to parse a text and name what
# it uses that the allow-list lacks; it never renders.
_INSPECTION_ENGINE = Engine(libraries={}, loaders=[])


class TemplateNotAllowed(Exception):
    """A stored template text uses a tag or filter that emails may not use."""


def _engine(*, html: bool, string_if_invalid: str = "") -> Engine:
    return NotificationEngine(
        autoescape=html, string_if_invalid=string_if_invalid, libraries={}, loaders=[]
    )


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
    """Render a template's texts; HTML is autoescaped, plain text and subject
    are not. A text with a tag or filter outside the allow-list raises
    TemplateNotAllowed naming it, and nothing is rendered."""
    for source in (subject, body_text, body_html):
        try:
            template_features_check(source=source)
        except ValidationError as error:
            raise TemplateNotAllowed(" ".join(error.messages)) from error
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


def _filter_expressions(root: Any) -> Iterator[FilterExpression]:
    """Every filter expression of a parsed template, in any tag (if, for,
    with, filters' arguments…), found by walking Django's node objects. No
    depth limit (deep nesting must not hide a filter): each object is
    visited once, which also ends any cycle."""
    stack, seen = [root], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, FilterExpression):
            yield obj
        elif isinstance(obj, list | tuple | NodeList):
            stack.extend(reversed(obj))
        elif isinstance(obj, dict):
            stack.extend(reversed(obj.values()))
        elif type(obj).__module__.startswith("django.template") and hasattr(obj, "__dict__"):
            stack.extend(
                value
                for name, value in reversed(vars(obj).items())
                if name not in {"origin", "token", "template"}
            )


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
    # {% filter upper %} applies "var|upper" to its content: that "var" is no variable.
    filter_tags = {id(node.filter_expr) for node in nodelist.get_nodes_by_type(FilterNode)}
    unknown = []
    for expression in _filter_expressions(list(nodelist)):
        main = [] if id(expression) in filter_tags else [expression.var]
        variables = main + [
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


def template_features_check(*, source: str) -> None:
    """Raise ValidationError naming the first tag or filter of a template text
    that is not in the allow-list (notifications.template_library).

    Tags are read from the text's tokens, so even one a Django version no
    longer knows (``ssi``) is named. Filters are found by parsing with
    Django's full set and walking every filter expression, in any tag's
    arguments too; a text that does not parse is left to the syntax check."""
    sources = [source]
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK or not token.contents.split():
            continue
        bits = token.split_contents()
        if bits[0] not in ALLOWED_TAG_WORDS:
            raise ValidationError(
                _(
                    "The tag “%(name)s” cannot be used in a notification template. "
                    "Allowed tags: %(allowed)s."
                ),
                params={"name": bits[0], "allowed": ", ".join(ALLOWED_TAGS)},
                code="tag_not_allowed",
            )
        if bits[0] == "filter" and len(bits) == 2:
            # Django's own parse of {% filter safe %} stops with its own error;
            # as an expression the filters can be named.
            sources.append("{{ var|" + bits[1] + " }}")
    for text in sources:
        try:
            template = _INSPECTION_ENGINE.from_string(text)
        except TemplateSyntaxError:
            continue
        for expression in _filter_expressions(list(template.nodelist)):
            for function, _arguments in expression.filters:
                name = getattr(function, "_filter_name", function.__name__)
                if name not in ALLOWED_FILTERS:
                    raise ValidationError(
                        _(
                            "The filter “%(name)s” cannot be used in a notification "
                            "template. Allowed filters: %(allowed)s."
                        ),
                        params={"name": name, "allowed": ", ".join(sorted(ALLOWED_FILTERS))},
                        code="filter_not_allowed",
                    )


def template_source_check(*, source: str, html: bool = False) -> None:
    """Raise ValidationError when a template text uses a tag or filter
    outside the allow-list, has broken syntax, an unknown variable, or fails
    to render against the sample context."""
    template_features_check(source=source)
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


def template_content_check(*, subject: str, body_text: str, body_html: str) -> None:
    """Check a template's texts in one language (``TemplateContent.clean``):
    raise one ValidationError with each failing text's error under its field."""
    errors = {}
    for field, source, html in (
        ("subject", subject, False),
        ("body_text", body_text, False),
        ("body_html", body_html, True),
    ):
        if not source:
            continue
        try:
            template_source_check(source=source, html=html)
        except ValidationError as error:
            errors[field] = error
    if errors:
        raise ValidationError(errors)


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
