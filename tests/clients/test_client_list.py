"""The client list: columns, search, filters, sort, pagination and the
defensive reading of its URL parameters."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import ClientAttributeValue, ClientStatus, PostpayPermission
from tests.conftest import make_client, make_manager, make_user
from users.models import PostpayMode

LIST_URL = reverse("clients:list")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Every test client has an owner with a password; hashing it properly is slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def listed_ids(response) -> list[int]:
    """The client IDs of the page's table rows, in their order."""
    return [int(pk) for pk in re.findall(r'data-client-id="(\d+)"', response.content.decode())]


@pytest.fixture
def world(sub_reseller, sub_rules, petr):
    """Пётр's reseller with a few distinct clients."""
    other_manager = make_manager(reseller=sub_reseller, first_name="Анна", last_name="Белова")
    owner = make_user(email="owner.alpha@example.com", first_name="Алла", last_name="Альфа")
    alpha = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        owner=owner,
        name="Альфа Сервис",
        client_type=sub_rules["company"],
        company_name="Альфа Сервис",
        service_rule=sub_rules["vip"],
        manager=petr,
        phone="+79161110001",
        city="Тверь",
        created_at=timezone.make_aware(dt.datetime(2026, 1, 10, 12, 0)),
    )
    ClientAttributeValue.objects.create(
        client=alpha, attribute=sub_rules["attributes"]["inn"], value="7707083893"
    )
    beta = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        name="Бета Петров",
        manager=other_manager,
        phone="+79162220002",
        city="Казань",
        status=ClientStatus.ADMINISTRATIVE_HOLD,
        created_at=timezone.make_aware(dt.datetime(2026, 2, 10, 12, 0)),
    )
    gamma = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        name="Гамма Иванов",
        phone="+79163330003",
        city="Архангельск",
        status=ClientStatus.CREDIT_HOLD,
        created_at=timezone.make_aware(dt.datetime(2026, 3, 10, 12, 0)),
    )
    deleted = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        name="Дельта Удалённый",
        status=ClientStatus.DELETED,
        created_at=timezone.make_aware(dt.datetime(2026, 4, 10, 12, 0)),
    )
    return {
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "deleted": deleted,
        "other_manager": other_manager,
        "rules": sub_rules,
    }


def test_lists_every_column_and_links_to_the_client(petr_browser, world):
    response = petr_browser.get(LIST_URL)
    assert response.status_code == 200
    page = response.content.decode()
    alpha = world["alpha"]
    detail = reverse("clients:detail", args=[alpha.pk])
    assert f'href="{detail}">{alpha.pk}</a>' in page
    assert f'href="{detail}">Альфа Сервис</a>' in page
    for text in ("VIP", 'data-rule-colour="#E53935"', "Юридическое лицо", "Тверь", "+79161110001"):
        assert text in page
    assert "owner.alpha@example.com" in page
    assert "Альфа Алла" in page
    # The rule colour is data for the script, not an inline style.
    assert "style=" not in page.split("<table", 1)[1]


def test_newest_first_and_deleted_hidden_by_default(petr_browser, world):
    response = petr_browser.get(LIST_URL)
    assert listed_ids(response) == [world["gamma"].pk, world["beta"].pk, world["alpha"].pk]


def test_status_filter_including_deleted_shows_deleted(petr_browser, world):
    response = petr_browser.get(LIST_URL, {"status": ["deleted"]})
    assert listed_ids(response) == [world["deleted"].pk]
    response = petr_browser.get(LIST_URL, {"status": ["active", "deleted"]})
    assert listed_ids(response) == [world["deleted"].pk, world["alpha"].pk]


def test_status_filter(petr_browser, world):
    response = petr_browser.get(LIST_URL, {"status": ["credit_hold", "administrative_hold"]})
    assert listed_ids(response) == [world["gamma"].pk, world["beta"].pk]


def test_type_rule_and_manager_filters(petr_browser, world, petr):
    rules = world["rules"]
    assert listed_ids(petr_browser.get(LIST_URL, {"client_type": rules["company"].pk})) == [
        world["alpha"].pk
    ]
    assert listed_ids(petr_browser.get(LIST_URL, {"service_rule": rules["standard"].pk})) == [
        world["gamma"].pk,
        world["beta"].pk,
    ]
    assert listed_ids(petr_browser.get(LIST_URL, {"manager": world["other_manager"].pk})) == [
        world["beta"].pk
    ]
    assert listed_ids(petr_browser.get(LIST_URL, {"manager": petr.pk})) == [world["alpha"].pk]


def test_creation_date_range_is_inclusive_in_whole_days(petr_browser, world):
    response = petr_browser.get(
        LIST_URL, {"created_from": "2026-02-10", "created_to": "2026-03-10"}
    )
    assert listed_ids(response) == [world["gamma"].pk, world["beta"].pk]
    response = petr_browser.get(LIST_URL, {"created_to": "2026-01-10"})
    assert listed_ids(response) == [world["alpha"].pk]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("Альфа", ["alpha"]),
        ("owner.alpha@", ["alpha"]),
        ("7707083893", ["alpha"]),  # INN
        ("+7 916 222-00-02", ["beta"]),  # phone as people type it
        ("9163330003", ["gamma"]),
        ("Петров", ["beta"]),
        ("nothing-like-this", []),
    ],
)
def test_search(petr_browser, world, search, expected):
    response = petr_browser.get(LIST_URL, {"q": search})
    assert sorted(listed_ids(response)) == sorted(world[name].pk for name in expected)


def test_search_by_id_is_exact(petr_browser, world):
    gamma = world["gamma"]
    response = petr_browser.get(LIST_URL, {"q": str(gamma.pk)})
    assert gamma.pk in listed_ids(response)
    response = petr_browser.get(LIST_URL, {"q": f"#{gamma.pk}"})
    assert listed_ids(response) == [gamma.pk]


def test_search_does_not_reveal_deleted_clients(petr_browser, world):
    response = petr_browser.get(LIST_URL, {"q": "Дельта"})
    assert listed_ids(response) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["alpha", "beta", "gamma"]),
        ("-name", ["gamma", "beta", "alpha"]),
        ("city", ["gamma", "beta", "alpha"]),  # Архангельск, Казань, Тверь
        ("created", ["alpha", "beta", "gamma"]),
        ("status", ["alpha", "beta", "gamma"]),  # active, administrative_hold, credit_hold
        ("rule", ["alpha", "beta", "gamma"]),  # VIP < Стандарт; then by ID
        ("-rule", ["gamma", "beta", "alpha"]),
        ("phone", ["alpha", "beta", "gamma"]),
        ("manager", ["beta", "alpha", "gamma"]),  # Белова, Кузнецов, none last
        ("-manager", ["alpha", "beta", "gamma"]),
        ("owner_email", None),
        ("id", ["alpha", "beta", "gamma"]),
        ("-id", ["gamma", "beta", "alpha"]),
    ],
)
def test_sort_by_column(petr_browser, world, sort, expected):
    response = petr_browser.get(LIST_URL, {"sort": sort})
    assert response.status_code == 200
    if expected is not None:
        assert listed_ids(response) == [world[name].pk for name in expected]


def test_sort_by_owner(petr_browser, sub_reseller, sub_rules):
    first = make_client(
        reseller=sub_reseller, rules=sub_rules, owner=make_user(last_name="Яковлев")
    )
    second = make_client(
        reseller=sub_reseller, rules=sub_rules, owner=make_user(last_name="Абрамов")
    )
    assert listed_ids(petr_browser.get(LIST_URL, {"sort": "owner"})) == [second.pk, first.pk]
    assert listed_ids(petr_browser.get(LIST_URL, {"sort": "-owner"})) == [first.pk, second.pk]


def test_sort_ties_are_broken_by_id(petr_browser, sub_reseller, sub_rules):
    clients = [
        make_client(reseller=sub_reseller, rules=sub_rules, name="Одинаковый", city="Омск")
        for _ in range(4)
    ]
    ids = [client.pk for client in clients]
    assert listed_ids(petr_browser.get(LIST_URL, {"sort": "name"})) == ids
    assert listed_ids(petr_browser.get(LIST_URL, {"sort": "-city"})) == ids[::-1]


def test_header_links_toggle_the_sort_and_keep_the_filters(petr_browser, world):
    page = petr_browser.get(LIST_URL, {"sort": "name", "q": "а", "page": "1"}).content.decode()
    assert 'href="?sort=-name&amp;q=%D0%B0"' in page  # the second click reverses
    assert 'href="?sort=city&amp;q=%D0%B0"' in page
    assert 'aria-sort="ascending"' in page


def next_link(response) -> str:
    """The query string of the page's "Next" link (keyset pagination)."""
    match = re.search(r'href="(\?[^"]*)" rel="next"', response.content.decode())
    assert match, "no Next link"
    return html.unescape(match.group(1))


def test_pagination_keeps_the_filters(petr_browser, sub_reseller, sub_rules):
    for _ in range(55):
        make_client(reseller=sub_reseller, rules=sub_rules, city="Сочи")
    response = petr_browser.get(LIST_URL, {"q": "", "sort": "id"})
    assert len(listed_ids(response)) == 50
    link = next_link(response)
    assert "after=" in link and "sort=id" in link
    second = petr_browser.get(LIST_URL + link)
    assert len(listed_ids(second)) == 5
    assert 'rel="next"' not in second.content.decode()
    assert 'rel="prev"' in second.content.decode()
    assert len(listed_ids(petr_browser.get(LIST_URL, {"per_page": "100"}))) == 55
    # Legacy page numbers, made-up and foreign cursors land on a real page.
    assert petr_browser.get(LIST_URL, {"page": "999"}).status_code == 200
    assert petr_browser.get(LIST_URL, {"page": "abc"}).status_code == 200
    for cursor in ("abc", "W10", "WzEsMiwzXQ", "!!!"):
        response = petr_browser.get(LIST_URL, {"after": cursor, "sort": "id"})
        assert len(listed_ids(response)) == 50


def test_postpay_column_only_while_manual(petr_browser, world, sub_reseller):
    assert "Postpay permission" not in petr_browser.get(LIST_URL).content.decode()
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    world["alpha"].postpay_permission = PostpayPermission.APPROVAL_REQUIRED
    world["alpha"].save()
    page = petr_browser.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Postpay permission" in page
    assert "Approval required" in page


@pytest.mark.parametrize(
    "params",
    [
        {"q": "Аль\x00фа"},
        {"q": "\x00"},
        {"status": ["active\x00"]},
        {"status": ["nonsense"]},
        {"client_type": "abc"},
        {"client_type": "1\x00"},
        {"service_rule": "99999999999999999999999"},
        {"manager": "-1"},
        {"reseller": "1"},
        {"created_from": "2026-13-45"},
        {"created_from": "0001-01-01", "created_to": "9999-12-31"},
        {"created_from": "2026-05-01", "created_to": "2026-01-01"},
        {"sort": "password"},
        {"sort": "-\x00name"},
        {"per_page": "100000"},
        {"page": "-1"},
        {"after": "x" * 5000},
        {"before": "WyJcdTAwMDAiLDFd"},
        {"after": "WzEuNSwyXQ", "sort": "name"},
        {"last": "maybe"},
        {"q": "x" * 5000},
        {"\x00q": "y"},
    ],
)
def test_hostile_parameters_never_fail(petr_browser, world, params):
    response = petr_browser.get(LIST_URL, params)
    assert response.status_code == 200
    export = petr_browser.get(reverse("clients:export"), params)
    assert export.status_code == 200
    b"".join(export.streaming_content)


def test_nul_bytes_are_stripped_from_the_search(petr_browser, world):
    response = petr_browser.get(LIST_URL, {"q": "Аль\x00фа"})
    assert listed_ids(response) == [world["alpha"].pk]


def test_invalid_parameters_are_reported_and_the_rest_applied(petr_browser, world):
    response = petr_browser.get(
        LIST_URL,
        {"client_type": "abc", "city": "x", "status": ["administrative_hold"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert listed_ids(response) == [world["beta"].pk]
    assert 'data-testid="ignored-parameters"' in response.content.decode()


def test_reversed_date_range_is_reported(petr_browser, world):
    response = petr_browser.get(
        LIST_URL, {"created_from": "2026-05-01", "created_to": "2026-01-01"}
    )
    assert 'data-testid="ignored-parameters"' in response.content.decode()


def test_root_staff_see_every_reseller_and_filter_by_reseller(
    irina_browser, world, root_reseller, root_rules, sub_reseller
):
    own = make_client(reseller=root_reseller, rules=root_rules, name="Корневой")
    everyone = listed_ids(irina_browser.get(LIST_URL, {"sort": "id"}))
    assert everyone == [world["alpha"].pk, world["beta"].pk, world["gamma"].pk, own.pk]
    assert listed_ids(irina_browser.get(LIST_URL, {"reseller": root_reseller.pk})) == [own.pk]
    page = irina_browser.get(LIST_URL, {"reseller": sub_reseller.pk}).content.decode()
    assert 'name="reseller"' in page
    assert listed_ids(irina_browser.get(LIST_URL, {"reseller": sub_reseller.pk, "sort": "id"})) == [
        world["alpha"].pk,
        world["beta"].pk,
        world["gamma"].pk,
    ]


def test_sub_reseller_staff_get_no_reseller_filter(petr_browser, world, root_reseller, root_rules):
    make_client(reseller=root_reseller, rules=root_rules)
    response = petr_browser.get(LIST_URL, {"reseller": root_reseller.pk})
    assert 'name="reseller"' not in response.content.decode()
    assert sorted(listed_ids(response)) == sorted(
        world[name].pk for name in ("alpha", "beta", "gamma")
    )


def test_filters_offer_only_the_own_resellers_choices(petr_browser, world, root_rules):
    page = petr_browser.get(LIST_URL).content.decode()
    assert f'value="{world["rules"]["vip"].pk}"' in page
    assert f'<option value="{root_rules["vip"].pk}"' not in page


def test_another_resellers_choice_is_ignored(petr_browser, world, root_rules):
    response = petr_browser.get(LIST_URL, {"service_rule": root_rules["vip"].pk})
    assert sorted(listed_ids(response)) == sorted(
        world[name].pk for name in ("alpha", "beta", "gamma")
    )
    assert 'data-testid="ignored-parameters"' in response.content.decode()


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_phones_are_written_as_people_write_them_and_can_be_called(petr_browser, world):
    page = petr_browser.get(reverse("clients:list")).content.decode()
    assert '<a href="tel:+79162220002">+7 916 222-00-02</a>' in page
