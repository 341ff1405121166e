"""Template tags of the client pages."""

import datetime as dt
import html
from typing import NamedTuple

from django import template
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import date_format, get_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from clients.events import event_wording
from clients.models import Client, ClientEvent, ClientStatus, PostpayPermission
from clients.selectors import AttributeRow, ClientRow
from rules.models import AttributeValueType
from users.validators import phone_for_display

register = template.Library()


class EventText(NamedTuple):
    subject: str
    description: str


# The badge colour of each status; any other (Deleted) is grey.
STATUS_BADGE_CLASSES = {
    "active": "text-bg-success",
    "credit_hold": "text-bg-warning",
    "administrative_hold": "text-bg-danger",
}
_STATUS_BADGE = '<span class="badge {css}" data-status="{status}">{label}</span>'
EMPTY = "—"


@register.simple_tag
def status_badge(status: str, label: str) -> SafeString:
    """The client's status as a coloured badge."""
    return _html(
        _STATUS_BADGE,
        css=STATUS_BADGE_CLASSES.get(status, "text-bg-secondary"),
        status=status,
        label=label,
    )


# One line of the client list, its cells in the order of views.LIST_COLUMNS.
_LIST_ROW = (
    '<tr data-client-id="{pk}">'
    '<td><a href="{url}">{pk}</a></td>'
    "{reseller}"
    '<td><a href="{url}">{name}</a></td>'
    "<td>{status}</td>"
    '<td class="text-nowrap">'
    '<span class="rule-badge" data-rule-colour="{colour}"></span> {rule}</td>'
    "<td>{client_type}</td>"
    "<td>{manager}</td>"
    "<td>{country}</td>"
    "<td>{city}</td>"
    '<td class="text-nowrap">{phone}</td>'
    "<td>{owner_name}</td>"
    '<td class="text-break">{owner_email}</td>'
    "<td>{created_at}</td>"
    "{postpay}"
    "</tr>"
)


def _html(template: str, **values: object) -> SafeString:
    """format_html for a row's plain values: each is escaped as Django's
    escape() escapes (html.escape), safe HTML passes as it is, without the
    lazy-string checks format_html makes on every value."""
    return mark_safe(  # noqa: S308 - every value is escaped here
        template.format(
            **{
                name: value.__html__() if hasattr(value, "__html__") else html.escape(str(value))
                for name, value in values.items()
            }
        )
    )


@register.simple_tag
def client_list_rows(
    clients: list[ClientRow], *, show_reseller: bool, show_postpay: bool
) -> SafeString:
    """The lines of the client list, built here rather than by template
    tags: the list shows fifty (up to two hundred) on every page, and a
    dozen variables, filters and links per row cost more in the template
    language than the page's query does (Django admin builds its result
    rows in Python too, in items_for_result)."""
    words = _RowWords()
    return mark_safe(  # noqa: S308 - each row is built by _html
        "\n".join(
            _list_row(client, show_reseller=show_reseller, show_postpay=show_postpay, words=words)
            for client in clients
        )
    )


class _RowWords:
    """The labels and formats of one page of rows, each looked up (and
    translated) once per value rather than once per row."""

    def __init__(self) -> None:
        self.date_time = get_format("SHORT_DATETIME_FORMAT")
        self.statuses = {value: str(label) for value, label in ClientStatus.choices}
        self.postpays = {value: str(label) for value, label in PostpayPermission.choices}
        self._countries = Client._meta.get_field("country").countries
        self._country_names: dict[str, str] = {}

    def country(self, code: str) -> str:
        if code not in self._country_names:
            self._country_names[code] = str(self._countries.name(code)) if code else ""
        return self._country_names[code]


def _list_row(
    client: ClientRow, *, show_reseller: bool, show_postpay: bool, words: _RowWords
) -> str:
    return _html(
        _LIST_ROW,
        pk=client.pk,
        url=reverse("clients:detail", args=[client.pk]),
        reseller=_html("<td>{name}</td>", name=client.reseller) if show_reseller else "",
        name=client.name,
        status=status_badge(client.status, words.statuses.get(client.status, client.status)),
        colour=client.service_rule_colour,
        rule=client.service_rule,
        client_type=client.client_type,
        manager=client.manager or EMPTY,
        country=words.country(client.country),
        city=client.city,
        phone=phone_link(client.phone),
        owner_name=client.owner_name or EMPTY,
        owner_email=client.owner_email or EMPTY,
        created_at=dateformat.format(timezone.localtime(client.created_at), words.date_time),
        postpay=_html(
            "<td>{label}</td>",
            label=words.postpays.get(client.postpay_permission, client.postpay_permission),
        )
        if show_postpay
        else "",
    )


@register.filter
def phone_link(value: str) -> SafeString | str:
    """A stored phone as a tel: link, written as people write it."""
    if not value:
        return EMPTY
    return format_html('<a href="tel:{}">{}</a>', value, phone_for_display(value))


@register.filter
def attribute_value(row: AttributeRow) -> str:
    """A client's attribute value as the page shows it: a checkbox as yes or
    no, a password hidden, a list option by its name, a date in the reader's
    short format; "" for no value."""
    if row.value_type == AttributeValueType.CHECKBOX:
        return gettext("Yes") if row.value else gettext("No")
    if row.value_type == AttributeValueType.PASSWORD:
        return "••••••" if row.value else ""
    if row.value_type == AttributeValueType.LIST:
        return row.option_name or row.value
    if row.value_type == AttributeValueType.DATE and row.value:
        try:
            return date_format(dt.date.fromisoformat(row.value), "SHORT_DATE_FORMAT")
        except ValueError:
            return row.value
    return row.value


@register.filter
def event_text(event: ClientEvent) -> EventText:
    """The event's subject and description in the reader's language (as
    stored when its data cannot word them)."""
    wording = event_wording(event.event_type, event.data)
    return EventText(*wording) if wording else EventText(event.subject, event.description)
