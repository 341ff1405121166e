"""Template tags of the client pages."""

import datetime as dt
import html
from collections.abc import Callable
from typing import NamedTuple

from django import template
from django.forms import widgets
from django.forms.boundfield import BoundField, BoundWidget
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import date_format, get_format, number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from clients.events import event_wording
from clients.models import Client, ClientEvent, ClientStatus, PostpayPermission
from clients.selectors import AttributeRow, ClientRow, ClientTotal
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


def _html(template: str, **values: object) -> SafeString:
    """format_html for plain values: each is escaped as Django's escape()
    escapes (html.escape), safe HTML passes as it is, without the lazy-string
    checks format_html makes on every value."""
    return mark_safe(  # noqa: S308 - every value is escaped here
        template.format(
            **{
                name: value.__html__() if hasattr(value, "__html__") else html.escape(str(value))
                for name, value in values.items()
            }
        )
    )


# Django date format characters that strftime writes alike.
_STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "y": "%y", "H": "%H", "i": "%M", "s": "%S"}


def _moment_formatter(format_: str) -> Callable[[dt.datetime], str]:
    """Writes a moment in the current time zone in a Django date format:
    with strftime when the format has only characters it writes alike (the
    Russian "d.m.Y H:i"), with Django's dateformat otherwise (the English
    "m/d/Y P" says "4 p.m."). strftime takes a tenth of the time."""
    zone = timezone.get_current_timezone()
    pieces = []
    for character in format_:
        if character in _STRFTIME:
            pieces.append(_STRFTIME[character])
        elif character.isalpha() or character == "\\":
            return lambda moment: dateformat.format(moment.astimezone(zone), format_)
        else:
            pieces.append(character.replace("%", "%%"))
    pattern = "".join(pieces)
    return lambda moment: moment.astimezone(zone).strftime(pattern)


class _ListRows:
    """Writes the lines of the client list, its cells in the order of
    views.listing.LIST_COLUMNS. What is the same on every line is worked out once
    per page: the client page's address (reverse() costs more than the rest
    of a line), the date format, the badge of each status."""

    def __init__(self, *, show_reseller: bool, show_postpay: bool) -> None:
        self.show_reseller = show_reseller
        self.show_postpay = show_postpay
        marker = 987654321
        self.url_head, _, self.url_tail = html.escape(
            reverse("clients:detail", args=[marker])
        ).partition(str(marker))
        self.moment = _moment_formatter(get_format("SHORT_DATETIME_FORMAT"))
        # The labels, each looked up (and translated) once per value.
        self.statuses = {value: str(label) for value, label in ClientStatus.choices}
        self.postpays = {value: str(label) for value, label in PostpayPermission.choices}
        self._countries = Client._meta.get_field("country").countries
        self._country_names: dict[str, str] = {}
        self.badges: dict[str, str] = {}

    def badge(self, status: str) -> str:
        if status not in self.badges:
            self.badges[status] = status_badge(status, self.statuses.get(status, status))
        return self.badges[status]

    def country(self, code: str) -> str:
        if code not in self._country_names:
            self._country_names[code] = str(self._countries.name(code)) if code else ""
        return self._country_names[code]

    def line(self, client: ClientRow) -> str:
        escape = html.escape
        url = f"{self.url_head}{client.pk}{self.url_tail}"
        reseller = f"<td>{escape(client.reseller)}</td>" if self.show_reseller else ""
        postpay = ""
        if self.show_postpay:
            label = self.postpays.get(client.postpay_permission, client.postpay_permission)
            postpay = f"<td>{escape(label)}</td>"
        if client.phone:
            phone = (
                f'<a href="tel:{escape(client.phone)}">'
                f"{escape(phone_for_display(client.phone))}</a>"
            )
        else:
            phone = EMPTY
        return (
            f'<tr data-client-id="{client.pk}">'
            f'<td><a href="{url}">{client.pk}</a></td>'
            f"{reseller}"
            f'<td><a href="{url}">{escape(client.name)}</a></td>'
            f"<td>{self.badge(client.status)}</td>"
            '<td class="text-nowrap">'
            f'<span class="rule-badge" data-rule-colour="{escape(client.service_rule_colour)}">'
            f"</span> {escape(client.service_rule)}</td>"
            f"<td>{escape(client.client_type)}</td>"
            f"<td>{escape(client.manager or EMPTY)}</td>"
            f"<td>{escape(self.country(client.country))}</td>"
            f"<td>{escape(client.city)}</td>"
            f'<td class="text-nowrap">{phone}</td>'
            f"<td>{escape(client.owner_name or EMPTY)}</td>"
            f'<td class="text-break">{escape(client.owner_email or EMPTY)}</td>'
            f"<td>{self.moment(client.created_at)}</td>"
            f"{postpay}"
            "</tr>"
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
    rows = _ListRows(show_reseller=show_reseller, show_postpay=show_postpay)
    return mark_safe("\n".join(rows.line(client) for client in clients))  # noqa: S308 - escaped


def _two_figures(number: int) -> int:
    """An estimate rounded to two significant figures (838,196 → 840,000):
    more would promise a precision it does not have."""
    if number < 100:
        return number
    scale = 10 ** (len(str(number)) - 2)
    return round(number / scale) * scale


@register.simple_tag
def client_total(total: ClientTotal) -> SafeString:
    """The number of matches above the list: exact, "about" PostgreSQL's
    estimate, or "more than" the count's cap, with what it means on hover."""
    if total.about:
        number = _two_figures(total.number)
        text = ngettext("about %(number)s client", "about %(number)s clients", number)
        hint = gettext(
            "PostgreSQL's estimate: counting every match would take longer than the page itself."
        )
    elif total.more_than:
        number = total.number
        text = ngettext("more than %(number)s client", "more than %(number)s clients", number)
        hint = gettext("Matches are counted up to %(cap)s.") % {
            "cap": number_format(number, force_grouping=True)
        }
    else:
        number = total.number
        text = ngettext("%(number)s client", "%(number)s clients", number)
        hint = ""
    text %= {"number": number_format(number, force_grouping=True)}
    if hint:
        return format_html(
            '<small class="text-secondary fs-6" data-testid="client-count" title="{}">{}</small>',
            hint,
            text,
        )
    return format_html(
        '<small class="text-secondary fs-6" data-testid="client-count">{}</small>', text
    )


def _attributes(attrs: dict) -> str:
    """Django's widgets/attrs.html: a True value is a bare name, False is left out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    """Django's widgets/input.html."""
    value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{value}{_attributes(widget["attrs"])}>'
    )


def _select(widget: dict) -> str:
    """Django's widgets/select.html and select_option.html (no option groups)."""
    options = "".join(
        f'\n  <option value="{conditional_escape(option["value"])}"'
        f"{_attributes(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
        for _group, group_options, _index in widget["optgroups"]
        for option in group_options
    )
    return (
        f'<select name="{conditional_escape(widget["name"])}"{_attributes(widget["attrs"])}>'
        f"{options}\n</select>"
    )


@register.simple_tag
def field_widget(field: BoundField) -> SafeString:
    """The field's widget as ``{{ field }}`` renders it (BoundField.as_widget),
    written here for inputs and selects without option groups: Django's
    widget templates include one template per option and per attribute
    list, which made the list's filter form cost more than its rows."""
    widget = field.field.widget
    if not isinstance(widget, widgets.Input | widgets.Select):
        return field.as_widget()
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    if isinstance(widget, widgets.Input):
        html = _input(context)
    elif any(group for group, _options, _index in context["optgroups"]):
        return field.as_widget()
    else:
        html = _select(context)
    return mark_safe(html)  # noqa: S308 - every value is escaped above


@register.simple_tag
def option_widget(option: BoundWidget) -> SafeString:
    """One checkbox of a CheckboxSelectMultiple as ``{{ option.tag }}`` renders it."""
    return mark_safe(_input(option.data))  # noqa: S308 - every value is escaped in _input


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
