"""End to end in headless Chromium: search, filter, sort, open a client, put
it on administrative hold and back, and see both entries in its event log."""

import re

import pytest

from clients.models import ClientStatus
from tests.browser import chromium_page
from tests.conftest import PASSWORD, make_client, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server, monkeypatch):
    with chromium_page(monkeypatch, language="en") as page:
        yield page


def test_search_filter_sort_and_hold_and_back(page, live_server, petr, sub_reseller, sub_rules):
    make_client(reseller=sub_reseller, rules=sub_rules, name="Борис Ярцев", city="Ярославль")
    target = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        name="Анна Ярцева",
        city="Абакан",
        owner=make_user(email="anna@example.com", password=None),
    )
    make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        name="Вера Ярцева",
        status=ClientStatus.ADMINISTRATIVE_HOLD,
    )

    page.goto(f"{live_server.url}/accounts/login/?next=/clients/")
    page.fill("input[name=username]", petr.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/clients/$"))

    rows = page.locator("[data-testid=client-table] tbody tr[data-client-id]")
    page.fill("input[name=q]", "Ярцев")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=%D0%AF"))
    assert rows.count() == 3

    # Filtering by a status applies at once.
    page.check("input[name=status][value=active]")
    page.wait_for_url(re.compile(r"status=active"))
    assert rows.count() == 2

    # Sort by city, twice to reverse.
    page.click("th a[data-sort=city]")
    page.wait_for_url(re.compile(r"sort=city"))
    assert rows.first.get_attribute("data-client-id") == str(target.pk)
    page.click("th a[data-sort=city]")
    page.wait_for_url(re.compile(r"sort=-city"))
    assert rows.last.get_attribute("data-client-id") == str(target.pk)
    assert "q=" in page.url and "status=active" in page.url  # the view is in the URL

    page.click(f"tr[data-client-id='{target.pk}'] td:nth-child(2) a")
    page.wait_for_url(re.compile(rf"/clients/{target.pk}/$"))

    page.click("[data-bs-target='#status-modal-administrative_hold']")
    page.locator("#status-modal-administrative_hold button[type=submit]").click()
    page.wait_for_selector("[data-testid=client-status] [data-status=administrative_hold]")

    page.click("[data-bs-target='#status-modal-active']")
    page.locator("#status-modal-active button[type=submit]").click()
    page.wait_for_selector("[data-testid=client-status] [data-status=active]")

    log = page.locator("[data-testid=event-log] tbody tr[data-event-type='client.status_changed']")
    assert log.count() == 2
    assert "Active → Administrative hold" in log.nth(1).inner_text()
    assert "Administrative hold → Active" in log.nth(0).inner_text()
