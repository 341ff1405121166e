"""The Add client page, the client page and the list on a wide and a narrow
screen, in Debian's headless Chromium: two columns of sections from 1200 px
in reading order, the sticky action bar with the sections in error, print,
tables inside their cards, the list without a horizontal scroll; axe-core
finds no serious or critical violation. The screenshots in docs/ are made
here."""

import datetime as dt
import itertools
import re

import pytest
from django.utils import timezone

from clients.models import (
    AccessLevel,
    ClientAccess,
    ClientEvent,
    ClientStatus,
    EventType,
    PostpayPermission,
)
from notifications.models import (
    AttemptOutcome,
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
)
from tests.browser import PHONE, WIDE, axe_violations, chromium_page, describe, page_screenshot
from tests.clients.test_autofill_browser import switch_on
from tests.conftest import PASSWORD, VALID_INN, make_client, make_user
from users.models import PostpayMode

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("empty_cache")]

# The Add client page with every section shown, company type chosen, at
# 1440 × 900 fits in two screen heights (3,082 px before the grid).
MAX_CREATE_PAGE_HEIGHT = 2 * WIDE["height"]
LONG_EMAIL = "konstantin.konstantinopolsky-vasilievich@northwest-industrial-trading.example"
LONG_NAME = "Северо-Западная торгово-промышленная компания «Балтийские технологии»"
GRID_WIDTHS = (390, 768, 1024, 1199, 1200, 1440, 1920)


def sign_in(page, live_server, manager, path: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.fill("input[name=username]", manager.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def every_section(reseller) -> None:
    """The tallest Add client page: terms, manual postpay, autofill."""
    reseller.terms_required = True
    reseller.terms_url = "https://partner.example/terms"
    reseller.postpay_mode = PostpayMode.MANUAL
    reseller.save()


def choose_company(page) -> None:
    page.select_option("#id_client_info-client_type", label="Юридическое лицо")
    page.locator("#id_client_info-company_name").wait_for()
    page.locator("#id_attributes-inn").wait_for()


def box(page, selector: str) -> dict:
    found = page.locator(selector).bounding_box()
    assert found, f"{selector} is not shown"
    return found


def page_height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def horizontal_overflow(page) -> int:
    """How far the page runs past the window's width (0: no horizontal scroll)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


SECTIONS = [
    "#section-client_info",
    "#section-contacts",
    "#section-contract_person",
    "#section-owner",
    "#section-agreements",
    "#section-attributes",
]


def assert_reading_order(page) -> None:
    """The fields in page order (the keyboard's order: no positive tabindex,
    no CSS order) are where a reader's eye goes next: within a section to
    the right on the same line or further down; a section below the one
    before it in its column, or at the top of the next column."""
    fields = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              '#client-create-form input:not([type=hidden]), #client-create-form select,'
              + '#client-create-form textarea'))
            .filter((el) => el.offsetParent !== null && el.tabIndex >= 0)
            .map((el) => {
              const r = el.getBoundingClientRect();
              return {name: el.name, section: el.closest('section').id,
                      top: r.top + scrollY, left: r.left, order: getComputedStyle(el).order};
            })"""
    )
    assert page.locator("#client-create-form [tabindex]:not([tabindex='-1'])").count() == 0
    for before, after in itertools.pairwise(fields):
        if before["section"] != after["section"]:
            continue
        same_line = abs(after["top"] - before["top"]) < 4
        assert (same_line and after["left"] > before["left"]) or (
            after["top"] > before["top"] + 4
        ), (before, after)
    boxes = [box(page, selector) | {"id": selector} for selector in SECTIONS]
    for before, after in itertools.pairwise(boxes):
        below = after["y"] >= before["y"] + before["height"] - 1
        next_column = after["x"] > before["x"] + before["width"] - 1
        assert below or next_column, (before, after)
    assert page.evaluate(
        "Array.from(document.querySelectorAll('.section-grid, .section-grid > *, .form-section'))"
        ".every((el) => getComputedStyle(el).order === '0')"
    )


def test_add_client_uses_a_wide_screen_and_stays_one_column_on_a_phone(
    live_server, monkeypatch, petr, sub_reseller, sub_rules
):
    every_section(sub_reseller)
    with chromium_page(monkeypatch, language="ru", viewport=WIDE) as page:
        sign_in(page, live_server, petr, "/clients/create/")
        choose_company(page)
        assert page_height(page) <= MAX_CREATE_PAGE_HEIGHT
        assert horizontal_overflow(page) == 0

        # Client information and contacts on the left, the people on the right,
        # additional information below across both.
        info, contacts = box(page, SECTIONS[0]), box(page, SECTIONS[1])
        person, owner = box(page, SECTIONS[2]), box(page, SECTIONS[3])
        extra = box(page, SECTIONS[5])
        assert info["x"] == contacts["x"] < person["x"] == owner["x"]
        assert abs(info["y"] - person["y"]) < 1
        assert extra["x"] == info["x"]
        assert extra["width"] > person["x"] + person["width"] - info["x"] - 1
        assert extra["y"] >= max(contacts["y"] + contacts["height"], owner["y"] + owner["height"])
        assert_reading_order(page)
        # Every field keeps its label.
        for field in page.locator(
            "#client-create-form .form-control, #client-create-form .form-select"
        ).all():
            if field.is_visible():
                assert field.evaluate("(el) => el.labels.length") >= 1, field.get_attribute("name")

        # The action bar stays at the bottom of the window from the top of the page.
        submit = page.locator("#client-create-submit")
        assert submit.is_visible()
        top_of_bar = box(page, "[data-testid=form-actions]")["y"]
        assert WIDE["height"] - 120 < top_of_bar < WIDE["height"]

        # After an error the bar lists the sections with errors; a link goes to
        # the section's first field in error.
        page.fill("#id_client_info-company_name", "Ромашка")
        page.fill("#id_attributes-inn", VALID_INN)
        page.fill("#id_contacts-city", "Москва")
        submit.click()
        page.wait_for_load_state("networkidle")
        page.locator("#error-summary").wait_for()
        links = page.locator("[data-testid=form-actions-errors] a")
        assert links.all_inner_texts() == [
            "Контакты",
            "Лицо, уполномоченное на заключение договора",
            "Контактное лицо клиента",
        ]
        page.wait_for_function("document.activeElement.id === 'error-summary'")
        assert box(page, "[data-testid=form-actions]")["y"] < WIDE["height"]
        links.nth(1).click()
        page.wait_for_function("document.activeElement.id === 'id_contract_person-first_name'")
        focused = box(page, "#id_contract_person-first_name")
        assert focused["y"] >= 0 and focused["y"] + focused["height"] < top_of_bar
        page.evaluate("window.scrollTo(0, 0)")
        assert page_height(page) <= MAX_CREATE_PAGE_HEIGHT
        page_screenshot(page, "add-client-error-1440.png")

        # Printed: no navigation, no action bar, no buttons; the sections stay.
        page.emulate_media(media="print")
        assert not page.locator("nav.navbar").is_visible()
        assert not page.locator("[data-testid=form-actions]").is_visible()
        assert not page.locator(".js-copy-contract").is_visible()
        assert page.locator("#section-owner").is_visible()
        page.emulate_media(media="screen")

        # A phone: one column, in page order, no horizontal scroll.
        page.set_viewport_size(PHONE)
        boxes = [box(page, selector) for selector in SECTIONS]
        assert len({round(item["x"]) for item in boxes}) == 1
        assert [item["y"] for item in boxes] == sorted(item["y"] for item in boxes)
        assert horizontal_overflow(page) == 0
        assert_reading_order(page)
        page_screenshot(page, "add-client-error-390.png")


@pytest.mark.parametrize("width", GRID_WIDTHS)
def test_the_add_client_grid_at_every_width(
    width, live_server, monkeypatch, petr, sub_reseller, sub_rules
):
    every_section(sub_reseller)
    with chromium_page(monkeypatch, viewport={"width": width, "height": 900}) as page:
        sign_in(page, live_server, petr, "/clients/create/")
        choose_company(page)
        columns = {round(box(page, selector)["x"]) for selector in SECTIONS}
        assert len(columns) == (2 if width >= 1200 else 1)
        assert horizontal_overflow(page) == 0
        assert_reading_order(page)


@pytest.fixture
def long_company(sub_reseller, sub_rules, petr):
    """A company whose name is its company name, with a long owner email and
    two more users; fixed ID and times, so that its screenshot stays the same."""
    created = timezone.make_aware(dt.datetime(2026, 3, 2, 10, 15))
    client = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        pk=4217,
        client_type=sub_rules["company"],
        company_name=LONG_NAME,
        name=LONG_NAME,
        manager=petr,
        region="Ленинградская область",
        postal_code="188300",
        email="info@baltic-technologies-northwest.example",
        contract_middle_name="Петрович",
        contract_email="ivanov.ivan.petrovich@baltic-technologies-northwest.example",
        created_at=created,
        owner=make_user(email=LONG_EMAIL, first_name="Константин", last_name="Константинопольский"),
    )
    for email, first_name, last_name, level in [
        (
            "finance.department.accounting@baltic-technologies-northwest.example",
            "Ольга",
            "Захарова",
            AccessLevel.FINANCE_MANAGER,
        ),
        ("a.smirnova@baltic-technologies-northwest.example", "Анна", "Смирнова", AccessLevel.ADMIN),
    ]:
        user = make_user(email=email, first_name=first_name, last_name=last_name)
        ClientAccess.objects.create(client=client, user=user, level=level)
    inn = sub_rules["attributes"]["inn"]
    client.attribute_values.create(attribute=inn, value=VALID_INN)
    ClientEvent.objects.create(
        client=client,
        event_type=EventType.CLIENT_CREATED,
        subject="Client created",
        created_at=created,
        actor=petr.user,
    )
    ClientEvent.objects.create(
        client=client,
        event_type=EventType.TERMS_ACCEPTED,
        subject="Terms accepted by the manager",
        created_at=created,
        actor=petr.user,
        visible_to_client=False,
    )
    for number, status in enumerate(DeliveryStatus.values):
        delivery = Delivery.objects.create(
            client=client,
            event=EventType.CLIENT_CREATED,
            channel=Channel.EMAIL,
            language="ru",
            recipient=LONG_EMAIL,
            status=status,
            message_id=f"<{number}@layout.test>",
            created_at=created,
            next_attempt_at=created if status == DeliveryStatus.RETRYING else None,
            sent_at=created if status == DeliveryStatus.SENT else None,
        )
        if status in (DeliveryStatus.RETRYING, DeliveryStatus.FAILED):
            DeliveryAttempt.objects.create(
                delivery=delivery,
                number=1,
                started_at=created,
                outcome=AttemptOutcome.FAILED,
                error="421 Service not available",
            )
    return client


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("width", GRID_WIDTHS)
def test_the_client_page_keeps_its_tables_in_their_cards(
    width, language, live_server, monkeypatch, petr, long_company
):
    viewport = {"width": width, "height": 900}
    with chromium_page(monkeypatch, language=language, viewport=viewport) as page:
        sign_in(page, live_server, petr, f"/clients/{long_company.pk}/")
        assert horizontal_overflow(page) == 0
        card = box(page, "[data-testid=client-users]")
        # From a tablet up the table wraps (long emails anywhere) rather than
        # scrolls; on a phone it may scroll, inside its card.
        wrapper = page.locator("[data-testid=client-users] .table-responsive")
        scrolls = wrapper.evaluate("(el) => el.scrollWidth > el.clientWidth")
        assert not scrolls or width < 576
        inside = box(page, "[data-testid=client-users] .table-responsive")
        assert card["x"] < inside["x"] and inside["x"] + inside["width"] < card["x"] + card["width"]
        info = box(page, "[data-testid=section-client-information]")
        person = box(page, "[data-testid=section-contract-person]")
        if width >= 1200:
            assert abs(info["y"] - person["y"]) < 1 and person["x"] > info["x"]
        else:
            assert person["x"] == info["x"] and person["y"] > info["y"]


def test_the_client_page_wide_and_narrow(live_server, monkeypatch, petr, long_company):
    with chromium_page(monkeypatch, language="ru", viewport=WIDE) as page:
        sign_in(page, live_server, petr, f"/clients/{long_company.pk}/")
        # One name row: the company name is the client's name here.
        section = page.locator("[data-testid=section-client-information]")
        assert section.locator("dt").all_inner_texts()[:3] == [
            "Тип клиента",
            "Наименование компании",
            "Менеджер",
        ]
        assert section.get_by_text(LONG_NAME).count() == 1
        page_screenshot(page, "client-page-1440.png")
        page.set_viewport_size(PHONE)
        assert horizontal_overflow(page) == 0
        page_screenshot(page, "client-page-390.png")
        page.emulate_media(media="print")
        assert not page.locator("nav.navbar").is_visible()


def test_the_edit_page_uses_the_same_grid(
    live_server, monkeypatch, petr, sub_reseller, long_company
):
    """Edit client: the Add client page's sections but the owner, in the same
    grid, with the same action bar."""
    every_section(sub_reseller)
    with chromium_page(monkeypatch, language="ru", viewport=WIDE) as page:
        sign_in(page, live_server, petr, f"/clients/{long_company.pk}/edit/")
        info, contacts = box(page, SECTIONS[0]), box(page, SECTIONS[1])
        person, terms = box(page, SECTIONS[2]), box(page, SECTIONS[4])
        extra = box(page, SECTIONS[5])
        assert info["x"] == contacts["x"] < person["x"] == terms["x"]
        assert abs(info["y"] - person["y"]) < 1
        assert extra["x"] == info["x"] and extra["y"] > contacts["y"] + contacts["height"]
        assert page.locator("#section-owner").count() == 0
        assert page_height(page) <= MAX_CREATE_PAGE_HEIGHT
        assert horizontal_overflow(page) == 0
        top_of_bar = box(page, "[data-testid=form-actions]")["y"]
        assert top_of_bar < WIDE["height"]
        assert page.locator("#client-edit-submit").is_visible()

        page.fill("#id_contacts-city", "")
        page.click("#client-edit-submit")
        page.locator("#error-summary").wait_for()
        links = page.locator("[data-testid=form-actions-errors] a")
        assert links.all_inner_texts() == ["Контакты"]
        links.first.click()
        page.wait_for_function("document.activeElement.id === 'id_contacts-city'")
        page.set_viewport_size(PHONE)
        assert (
            len(
                {
                    round(box(page, selector)["x"])
                    for selector in SECTIONS
                    if selector != "#section-owner"
                }
            )
            == 1
        )
        assert horizontal_overflow(page) == 0


def test_the_list_fits_1440_pixels(
    live_server, monkeypatch, irina, root_reseller, sub_reseller, sub_rules
):
    """The widest list: the root reseller's staff see the reseller column,
    and postpay by hand adds the postpay column."""
    root_reseller.postpay_mode = PostpayMode.MANUAL
    root_reseller.save()
    statuses = [status for status, _label in ClientStatus.choices if status != "deleted"]
    for number in range(12):
        make_client(
            reseller=sub_reseller,
            rules=sub_rules,
            status=statuses[number % len(statuses)],
            service_rule=sub_rules["partner"],
            client_type=sub_rules["company"],
            name=f"{LONG_NAME} {number}",
            city="Санкт-Петербург",
            postpay_permission=PostpayPermission.NOT_VERIFIED,
            owner=make_user(
                email=f"{number}.{LONG_EMAIL}",
                first_name="Константин",
                last_name="Константинопольский",
                middle_name="Александрович",
            ),
        )
    for language in ("ru", "en"):
        with chromium_page(monkeypatch, language=language, viewport=WIDE) as page:
            sign_in(page, live_server, irina, "/clients/")
            assert page.locator("[data-testid=client-table] tbody tr").count() == 12
            assert horizontal_overflow(page) == 0, language
            wrapper = page.locator(".table-responsive").first
            assert wrapper.evaluate("(el) => el.scrollWidth <= el.clientWidth"), language


def test_axe_finds_no_serious_violations(
    live_server, monkeypatch, petr, sub_reseller, sub_rules, long_company, stub
):
    """The list (every status badge, service rule colours), the Add client
    page with a company: directory suggestions with their status badges, the
    autofill highlight, errors; the client page (event and delivery badges);
    the Edit client page, also with an error."""
    every_section(sub_reseller)
    switch_on(sub_reseller, stub.base_url)
    for status, _label in ClientStatus.choices:
        make_client(reseller=sub_reseller, rules=sub_rules, status=status)
    found = {}
    for language in ("ru", "en"):
        with chromium_page(monkeypatch, language=language, viewport=WIDE, bypass_csp=True) as page:
            sign_in(page, live_server, petr, "/clients/")
            found[f"list {language}"] = axe_violations(page)
            page.goto(
                f"{live_server.url}/clients/?{'&'.join(f'status={s}' for s in ClientStatus.values)}"
            )
            assert page.locator("[data-testid=client-table] .badge").count() == 5
            found[f"list, every status {language}"] = axe_violations(page)

            page.goto(f"{live_server.url}/clients/create/")
            choose_company(page)
            found[f"add client {language}"] = axe_violations(page)
            name = page.locator("#id_client_info-company_name")
            name.press_sequentially("север", delay=20)
            page.locator("#autofill-company-results-option-3").wait_for()
            found[f"add client, suggestions {language}"] = axe_violations(page)
            name.press("ArrowDown")
            name.press("Enter")
            assert page.locator(".is-autofilled").count() > 5
            found[f"add client, autofilled {language}"] = axe_violations(page)
            page.fill("#id_contacts-city", "")
            page.click("#client-create-submit")
            page.locator("#error-summary").wait_for()
            found[f"add client with errors {language}"] = axe_violations(page)

            page.goto(f"{live_server.url}/clients/{long_company.pk}/")
            found[f"client page {language}"] = axe_violations(page)

            page.goto(f"{live_server.url}/clients/{long_company.pk}/edit/")
            found[f"edit client {language}"] = axe_violations(page)
            page.fill("#id_contacts-city", "")
            page.click("#client-edit-submit")
            page.locator("#error-summary").wait_for()
            found[f"edit client with errors {language}"] = axe_violations(page)
    assert found == {name: [] for name in found}, describe(
        [{"page": name, "violations": found[name]} for name in found if found[name]]
    )
