"""The rows of our Django admin's client changelist, written faster.

Django's ``{% result_list %}`` works out every cell from scratch: which field
or method the column is, its empty value, its choices (rebuilt as a dict for
every cell), the change page's address with the preserved filters (a
reverse() and a URL parse per row), then ``format_html``. A hundred rows of
twelve columns took longer than the page's queries. Here each column is
worked out once per page and each cell made by a small function; the markup
is Django's (tests/clients/test_admin_changelist.py compares them cell by
cell). Anything this does not know (list_editable, popups, a column that is
not a model field or a ModelAdmin method) goes to Django's own code.
"""

import datetime
import html
from collections.abc import Callable

from django import template
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.utils import display_for_field, display_for_value, quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

register = template.Library()

MARKER = 987654321


def _escape(value: object) -> str:
    """django.utils.html.conditional_escape, without its lazy-string wrapper
    (which checked every argument of 1,200 cells a page)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _cell_function(
    cl: ChangeList, name: str, *, linked: bool
) -> tuple[Callable[[models.Model], object], str] | None:
    """What a column shows for a row as Django's items_for_result works it
    out (before escaping), and the cell's classes; None when this module
    does not know the column."""
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    try:
        field = cl.lookup_opts.get_field(name)
    except FieldDoesNotExist:
        method = getattr(model_admin, name, None)
        if not callable(method) or getattr(method, "boolean", False):
            return None
        shown = getattr(method, "empty_value_display", empty)
        classes = "action-checkbox" if name == "action_checkbox" else f"field-{name}"

        def call(row: models.Model) -> object:
            value = method(row)
            if isinstance(value, datetime.date | datetime.time):
                return _Dated(display_for_value(value, shown))
            return display_for_value(value, shown)

        return call, classes
    if field.is_relation and not isinstance(field, models.ForeignKey):
        return None
    classes = f"field-{name}"
    if field.auto_created:
        # The automatic primary key: shown as a plain value.
        return (lambda row: display_for_value(getattr(row, field.attname), empty)), classes
    if isinstance(field, models.DateField | models.TimeField | models.ForeignKey):
        classes += " nowrap"
    if isinstance(field, models.ForeignKey):

        def related(row: models.Model) -> object:
            value = getattr(row, name)
            return empty if value is None else value

        return related, classes
    if field.flatchoices:
        labels = dict(field.flatchoices)
        return (lambda row: labels.get(getattr(row, field.attname), empty)), classes
    made: dict = {}

    def plain(row: models.Model) -> object:
        value = getattr(row, field.attname)
        # A page often repeats a value (a date, a city): shown once.
        try:
            return made[value]
        except KeyError:
            made[value] = display_for_field(value, field, empty, avoid_link=linked)
            return made[value]
        except TypeError:
            return display_for_field(value, field, empty, avoid_link=linked)

    return plain, classes


class _Dated(str):
    """A callable column's date or time: Django adds "nowrap" to its cell."""


def client_results(cl: ChangeList) -> list[ResultList]:
    """The rows, as django.contrib.admin's results(cl) makes them."""
    if cl.formset or cl.is_popup or cl.to_field or cl.list_display_links is None:
        return list(results(cl))
    names = list(cl.list_display)
    if not all(isinstance(name, str) for name in names):
        return list(results(cl))
    links = set(cl.list_display_links) if cl.list_display_links else {names[0]}
    cells = []
    for name in names:
        made = _cell_function(cl, name, linked=name in links)
        if made is None:
            return list(results(cl))
        cells.append((name, *made))
    # The change page's address with the preserved filters, made once for a
    # marker ID and completed for each row.
    url = add_preserved_filters(
        {"preserved_filters": cl.preserved_filters, "opts": cl.opts},
        cl.url_for_result(_Marker(cl.pk_attname)),
    )
    url_head, _, url_tail = conditional_escape(url).partition(str(MARKER))
    rows = []
    for row in cl.result_list:
        items = []
        linked = False
        for name, function, classes in cells:
            value = function(row)
            shown = _escape(value)
            row_class = (
                f' class="{classes} nowrap"' if isinstance(value, _Dated) else f' class="{classes}"'
            )
            if name in links:
                tag = "td" if linked else "th"
                linked = True
                pk = _escape(quote(getattr(row, cl.pk_attname)))
                items.append(
                    SafeString(
                        f'<{tag}{row_class}><a href="{url_head}{pk}{url_tail}">{shown}</a></{tag}>'
                    )
                )
            else:
                items.append(SafeString(f"<td{row_class}>{shown}</td>"))
        rows.append(ResultList(None, items))
    return rows


class _Marker:
    """A stand-in row whose primary key is the marker, for one reverse()."""

    def __init__(self, attname: str) -> None:
        setattr(self, attname, MARKER)


def client_result_list(cl: ChangeList) -> dict:
    """django.contrib.admin's result_list, with the rows from client_results."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(
            1 for header in headers if header["sortable"] and header["sorted"]
        ),
        "results": client_results(cl),
    }


@register.tag(name="client_result_list")
def client_result_list_tag(parser, token):
    return InclusionAdminNode(
        "client_result_list",
        parser,
        token,
        func=client_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
