"""The client list's search, filter, sort and page-size parameters.

Everything arrives in the URL, so anything may arrive: the form cleans what it
can, and a value it cannot use is dropped (and reported on the page) rather
than failing the request."""

import datetime as dt

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from clients.models import ClientStatus
from clients.selectors import (
    CLIENT_LIST_DEFAULT_SORT,
    CLIENT_LIST_SORTS,
    ClientListFilters,
    client_list_choices,
    client_list_cursor,
)
from users.models import Manager

# The default first: an unchosen select shows it.
PAGE_SIZES = (50, 100, 200)
DEFAULT_PAGE_SIZE = PAGE_SIZES[0]
# Dates outside these years are typos, and the extremes would overflow when
# turned into the bounds of a day in the panel's time zone.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
# A cursor holds at most a few sort values (names of up to 255 characters).
CURSOR_MAX_LENGTH = 2000


def clean_query(data: QueryDict) -> QueryDict:
    """A copy of the query without NUL characters, which PostgreSQL refuses in
    text and which nobody types on purpose."""
    cleaned = QueryDict(mutable=True)
    for key, values in data.lists():
        cleaned.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
    cleaned._mutable = False
    return cleaned


def _sort_choices() -> list[tuple[str, str]]:
    return [(key, key) for key in CLIENT_LIST_SORTS] + [
        (f"-{key}", f"-{key}") for key in CLIENT_LIST_SORTS
    ]


class _RowChoiceField(forms.ChoiceField):
    """A select of rows read beforehand (selectors.client_list_choices reads
    the types, rules, managers and resellers in one query): a submitted ID
    is looked up among them, not in the database; the cleaned value is the
    row. Names the reseller when several resellers' rows are offered."""

    # Django's own wording (and translation) of a choice that is not offered.
    default_error_messages = {
        "invalid_choice": forms.ModelChoiceField.default_error_messages["invalid_choice"]
    }

    def __init__(self, *, empty_label: str, **kwargs) -> None:
        super().__init__(choices=(), **kwargs)
        self.empty_label = empty_label
        self.rows: dict[str, object] = {}

    def offer(self, rows, *, show_reseller: bool = False) -> None:
        self.rows = {str(row.pk): row for row in rows}
        self.choices = [
            ("", self.empty_label),
            *(
                (key, f"{row} ({row.reseller})" if show_reseller else str(row))
                for key, row in self.rows.items()
            ),
        ]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.rows[str(value)]
        except KeyError:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None

    def validate(self, value) -> None:
        forms.Field.validate(self, value)


class ClientListForm(forms.Form):
    """The GET form above the client list; its fields are the URL parameters."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "class": "form-control",
                "placeholder": _("ID, name, owner email, phone or INN"),
            }
        ),
    )
    status = forms.MultipleChoiceField(
        label=_("Status"),
        required=False,
        choices=ClientStatus.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("Deleted clients are shown only when Deleted is ticked."),
    )
    client_type = _RowChoiceField(
        label=_("Client type"),
        required=False,
        empty_label=_("Any type"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    service_rule = _RowChoiceField(
        label=_("Service rule"),
        required=False,
        empty_label=_("Any rule"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    manager = _RowChoiceField(
        label=_("Manager"),
        required=False,
        empty_label=_("Any manager"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    reseller = _RowChoiceField(
        label=_("Reseller"),
        required=False,
        empty_label=_("Any reseller"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    created_from = forms.DateField(
        label=_("Created from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    created_to = forms.DateField(
        label=_("Created to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=_sort_choices)
    per_page = forms.TypedChoiceField(
        label=_("Per page"),
        required=False,
        coerce=int,
        choices=[(size, size) for size in PAGE_SIZES],
        empty_value=DEFAULT_PAGE_SIZE,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    # Keyset pagination: the sort values of the row a page starts after (or
    # ends before), opaque to people; "last" reads the list from its end.
    after = forms.CharField(label=_("Page"), required=False, max_length=CURSOR_MAX_LENGTH)
    before = forms.CharField(label=_("Page"), required=False, max_length=CURSOR_MAX_LENGTH)
    last = forms.BooleanField(required=False)

    def __init__(self, data: QueryDict, *, manager: Manager) -> None:
        super().__init__(clean_query(data))
        choices = client_list_choices(manager=manager)
        several = choices.resellers is not None
        self.fields["client_type"].offer(choices.client_types, show_reseller=several)
        self.fields["service_rule"].offer(choices.service_rules, show_reseller=several)
        self.fields["manager"].offer(choices.managers, show_reseller=several)
        if several:
            self.fields["reseller"].offer(choices.resellers)
        else:
            # Only the root reseller's staff see several resellers; a reseller
            # parameter from anyone else is not even read.
            del self.fields["reseller"]
        # The list names its rows' types, rules and managers from the same rows.
        self.choices = choices

    def _clean_day(self, name: str) -> dt.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise forms.ValidationError(
                _("Enter a date between the years %(first)s and %(last)s."),
                code="out_of_range",
                params={"first": EARLIEST_YEAR, "last": LATEST_YEAR},
            )
        return day

    def clean_created_from(self) -> dt.date | None:
        return self._clean_day("created_from")

    def clean_created_to(self) -> dt.date | None:
        return self._clean_day("created_to")

    def clean(self) -> dict:
        cleaned_data = super().clean()
        start, end = cleaned_data.get("created_from"), cleaned_data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("The end of the range is before its start."))
        # A cursor is checked against the sort the list will use: one made up,
        # or made for another sort, is reported and the first page is shown.
        sort = cleaned_data.get("sort") or CLIENT_LIST_DEFAULT_SORT
        for name in ("after", "before"):
            cursor = cleaned_data.get(name)
            if cursor and client_list_cursor(cursor, sort=sort) is None:
                self.add_error(
                    name, _("This page link does not fit the list; the first page is shown.")
                )
        return cleaned_data

    # The list uses whatever was valid; call is_valid() (or touch errors) first.

    def filters(self) -> ClientListFilters:
        data = self.cleaned_data
        return ClientListFilters(
            search=data.get("q") or "",
            statuses=tuple(data.get("status") or ()),
            client_type=data.get("client_type"),
            service_rule=data.get("service_rule"),
            manager=data.get("manager"),
            reseller=data.get("reseller"),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
        )

    def sort_value(self) -> str:
        return self.cleaned_data.get("sort") or CLIENT_LIST_DEFAULT_SORT

    def page_size(self) -> int:
        return self.cleaned_data.get("per_page") or DEFAULT_PAGE_SIZE

    def cursor(self) -> dict:
        """The page asked for: ``after``, ``before`` or ``last``, the first
        page when none; the arguments of ``selectors.client_list_page``."""
        data = self.cleaned_data
        return {
            "after": data.get("after") or "",
            "before": data.get("before") or "",
            "last": bool(data.get("last")),
        }
