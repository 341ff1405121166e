"""Our Django admin's client changelist writes some cells itself (for speed,
bench/run.py): they read as Django's own would."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_list import results
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import translation

from clients.models import Client
from clients.templatetags.client_admin import client_results
from tests.conftest import make_client, make_user

CHANGELIST = reverse("admin:clients_client_changelist")


@pytest.fixture
def superuser_browser(db) -> HttpClient:
    browser = HttpClient()
    browser.force_login(make_user(email="root@example.com", is_staff=True, is_superuser=True))
    return browser


@pytest.mark.parametrize(("language", "country"), [("en", "Kazakhstan"), ("ru", "Казахстан")])
def test_rows_read_as_djangos(superuser_browser, sub_reseller, sub_rules, language, country):
    client = make_client(
        reseller=sub_reseller, rules=sub_rules, name='Кавычки "и" <теги>', country="KZ"
    )
    page = superuser_browser.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    row = re.search(r"<tr>.*?</tr>", page.split("<tbody>", 1)[1], re.DOTALL).group(0)
    assert f'<td class="field-country_name">{country}</td>' in row
    # The link to the change page, as Django's ChangeList.url_for_result makes it.
    change = reverse("admin:clients_client_change", args=[client.pk])
    assert f'<a href="{change}">{client.pk}</a>' in row
    # The action checkbox, as ModelAdmin.action_checkbox renders it.
    with translation.override(language):
        stock = admin.ModelAdmin.action_checkbox(admin.site._registry[Client], client)
    assert stock in row
    assert f'name="{helpers.ACTION_CHECKBOX_NAME}" value="{client.pk}"' in stock


def test_the_country_column_sorts_by_the_code(superuser_browser, sub_reseller, sub_rules):
    for code in ("RU", "AM", "KZ"):
        make_client(reseller=sub_reseller, rules=sub_rules, country=code)
    page = superuser_browser.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    header = re.search(r'<th scope="col" class="sortable column-country_name">.*?</th>', page, re.S)
    link = re.search(r'href="(\?o=[^"]+)"', header.group(0)).group(1)
    sorted_page = superuser_browser.get(CHANGELIST + link, HTTP_ACCEPT_LANGUAGE="en")
    countries = re.findall(
        r'<td class="field-country_name">([^<]*)</td>', sorted_page.content.decode()
    )
    assert countries in (["Armenia", "Kazakhstan", "Russia"], ["Russia", "Kazakhstan", "Armenia"])


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"o": "-3.2"},
        {"status__exact": "active", "o": "9"},
        {"q": "Кавычки"},
        {"postpay_permission__exact": "declined", "reseller__id__exact": "SUB"},
    ],
)
def test_fast_rows_are_djangos_rows(
    rf, sub_reseller, sub_rules, root_reseller, root_rules, irina, language, params
):
    """client_admin.client_results gives the cells Django's results(cl) gives."""
    superuser = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        name='Кавычки "и" <теги> & «ёлки»',
        city="  ",
        country="XX",
        postpay_permission="declined",
    )
    make_client(reseller=root_reseller, rules=root_rules, manager=irina, status="credit_hold")
    make_client(reseller=sub_reseller, rules=sub_rules, name="=formula", status="weird")
    model_admin = admin.site._registry[Client]
    params = {
        key: str(sub_reseller.pk) if value == "SUB" else value for key, value in params.items()
    }
    request = rf.get(CHANGELIST, params)
    request.user = superuser
    with translation.override(language):
        changelist = model_admin.get_changelist_instance(request)
        assert changelist.result_list
        stock = [list(row) for row in results(changelist)]
        fast = [list(row) for row in client_results(changelist)]
    assert fast == stock
