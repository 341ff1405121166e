"""The client list's links (clients.views.listing._ListLinks) are what Django's
``{% querystring %}`` writes for the same query and changes: the page's
position dropped, a key changed in place or added at the end, every value
of a repeated key kept, any alphabet encoded alike."""

import pytest
from django.http import QueryDict
from django.template import Context, Template
from django.utils.html import escape

from clients.views.listing import _ListLinks

QUERIES = [
    "",
    "q=%D0%92%D0%B5%D0%BA%D1%82%D0%BE%D1%80&status=active&status=credit_hold&sort=-name",
    "sort=city&after=WyJhIiwxXQ&per_page=100",
    "last=1&q=a+b%26c%3Dd&before=x&page=3&created_from=2026-01-01",
    "q=&status=&client_type=7",
]
CHANGES = [
    {},
    {"sort": "phone"},
    {"sort": "-created"},
    {"after": "WyIyMDI2Il0"},
    {"before": "WyIyMDI2Il0"},
    {"last": 1},
]
TAG = Template(
    "{% querystring query page=None after=None before=None last=None %}"
    "|{% querystring query page=None after=None before=None last=None sort=sort %}"
    "|{% querystring query page=None after=after before=None last=None %}"
    "|{% querystring query page=None after=None before=before last=None %}"
    "|{% querystring query page=None after=None before=None last=last %}"
)


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("changes", CHANGES)
def test_the_links_are_what_the_querystring_tag_writes(query, changes):
    data = QueryDict(query)
    links = _ListLinks(data)
    context = {"query": data, "sort": None, "after": None, "before": None, "last": None}
    context.update(changes)
    expected = TAG.render(Context(context)).split("|")

    ours = [
        links(),
        links(sort=context["sort"]),
        links(after=context["after"]),
        links(before=context["before"]),
        links(last=context["last"]),
    ]

    # The template escapes both alike ("&" as "&amp;").
    assert [escape(link) for link in ours] == expected
