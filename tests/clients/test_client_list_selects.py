"""The list's filter selects (types, rules, managers, resellers), read in one
query: what they offer, in which order, and what a submitted value does."""

import re
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from clients.forms.list import ClientListForm
from clients.selectors import client_list_choices
from clients.templatetags.client_tags import field_widget, option_widget
from tests.conftest import make_client, make_manager
from users.models import ManagerStatus

LIST_URL = reverse("clients:list")


def options(page: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.DOTALL).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)


def test_a_reseller_manager_is_offered_their_resellers_rows(
    petr_browser, petr, oleg, sub_reseller, sub_rules, root_rules
):
    anna = make_manager(reseller=sub_reseller, email="anna@partner.example", first_name="Анна")
    page = petr_browser.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert options(page, "client_type") == [
        ("", "Any type"),
        (str(sub_rules["person"].pk), "Физическое лицо"),
        (str(sub_rules["company"].pk), "Юридическое лицо"),
    ]
    assert options(page, "service_rule") == [
        ("", "Any rule"),
        (str(sub_rules["vip"].pk), "VIP"),
        (str(sub_rules["partner"].pk), "Партнёрский"),
        (str(sub_rules["standard"].pk), "Стандарт"),
    ]
    # By last name, first name, email; the inactive Олег too (clients may be his).
    assert options(page, "manager") == [
        ("", "Any manager"),
        (str(petr.pk), "Кузнецов Пётр"),
        (str(oleg.pk), "Попов Олег"),
        (str(anna.pk), str(anna)),
    ]
    assert oleg.status == ManagerStatus.INACTIVE
    assert 'name="reseller"' not in page


def test_root_staff_are_offered_every_resellers_rows(
    irina_browser, irina, root_reseller, root_rules, sub_reseller, sub_rules, petr
):
    page = irina_browser.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert options(page, "reseller") == [
        ("", "Any reseller"),
        (str(root_reseller.pk), "Облако"),
        (str(sub_reseller.pk), "Партнёр"),
    ]
    assert (str(petr.pk), "Кузнецов Пётр (Партнёр)") in options(page, "manager")
    assert (str(root_rules["vip"].pk), "VIP (Облако)") in options(page, "service_rule")
    assert len(options(page, "client_type")) == 5


def test_a_chosen_filter_is_looked_up_among_the_offered_rows(
    petr_browser, petr, sub_reseller, sub_rules, root_rules
):
    mine = make_client(reseller=sub_reseller, rules=sub_rules, manager=petr)
    make_client(reseller=sub_reseller, rules=sub_rules)
    with CaptureQueriesContext(connection) as unfiltered:
        petr_browser.get(LIST_URL)
    cache.clear()  # both pages read the selects' rows
    with CaptureQueriesContext(connection) as filtered:
        page = petr_browser.get(LIST_URL, {"manager": petr.pk}).content.decode()
    assert re.findall(r'data-client-id="(\d+)"', page) == [str(mine.pk)]
    assert f'<option value="{petr.pk}" selected>' in page
    # No query reads the chosen manager: it is one of the select's rows.
    assert len(filtered) == len(unfiltered)
    # Another reseller's rule is not offered: ignored, and said so.
    page = petr_browser.get(
        LIST_URL, {"service_rule": root_rules["vip"].pk}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'data-testid="ignored-parameters"' in page
    assert "That choice is not one of the available choices." in page
    assert len(re.findall(r"data-client-id=", page)) == 2


def test_the_selects_are_kept_a_while_by_reseller(petr, sub_reseller, sub_rules, settings):
    """Kept CLIENT_LIST_CHOICES_SECONDS: the next page reads no selects; a
    rule added meanwhile shows once they are read again."""
    from rules.models import ServiceRule

    settings.CLIENT_LIST_CHOICES_SECONDS = 10
    client_list_choices(manager=petr)
    ServiceRule.objects.create(reseller=sub_reseller, name="Новое", key="new", colour="#000000")
    with CaptureQueriesContext(connection) as queries:
        kept = client_list_choices(manager=petr)
    assert len(queries) == 0
    assert "Новое" not in [rule.name for rule in kept.service_rules]
    cache.clear()
    assert "Новое" in [rule.name for rule in client_list_choices(manager=petr).service_rules]
    settings.CLIENT_LIST_CHOICES_SECONDS = 0
    with CaptureQueriesContext(connection) as queries:
        client_list_choices(manager=petr)
    assert len(queries) == 1


def test_the_selects_are_one_query(petr, sub_rules):
    with CaptureQueriesContext(connection) as queries:
        choices = client_list_choices(manager=petr)
    assert len(queries) == 1
    assert [item.name for item in choices.client_types] == ["Физическое лицо", "Юридическое лицо"]
    assert (choices.service_rules[0].name, choices.service_rules[0].colour) == ("VIP", "#E53935")
    assert choices.resellers is None


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"q": '"><script>alert(1)</script> & «ёлка»', "per_page": "100", "status": ["active"]},
        {"client_type": "999999", "service_rule": "x", "manager": "", "created_from": "2026-13-45"},
        {"status": ["deleted", "nonsense"], "created_to": "1899-01-01", "per_page": "7"},
    ],
)
def test_the_filter_widgets_read_as_djangos(irina, petr, sub_rules, root_rules, data, language):
    """The list writes its filter widgets itself (client_tags.field_widget,
    for speed): the same markup as Django's {{ field }}, errors included."""
    for manager in (irina, petr):
        form = ClientListForm(QueryDict(urlencode(data, doseq=True)), manager=manager)
        form.is_valid()
        with translation.override(language):
            for field in form:
                if field.name in ("sort", "after", "before", "last"):
                    continue
                if field.name == "status":
                    for option in field:
                        assert option_widget(option) == option.tag()
                else:
                    assert field_widget(field) == str(field), field.name
