"""The CSV export written by PostgreSQL (COPY) gives the bytes the csv module
gives for the same rows: hostile text, every status and postpay value, empty
relations, both languages, every sort, searches and filters."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.urls import reverse

from clients import views
from clients.export import client_csv_lines
from clients.models import Client, ClientAccess, ClientStatus, PostpayPermission
from rules.models import ServiceRule
from tests.conftest import make_client, make_manager, make_user
from users.models import PostpayMode

EXPORT_URL = reverse("clients:export")

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="COPY is PostgreSQL's; elsewhere the csv module writes the file",
)

# Text that a CSV writer or a spreadsheet must take care of.
NASTY = [
    'Кавычки "двойные", запятая',
    "Строка\nперенос",
    "Возврат\rкаретки",
    "Windows\r\nстрока",
    '=HYPERLINK("http://evil")',
    "+79161234567",
    "-2+3",
    "@SUM(A1)",
    "\tТаб",
    "\rCR в начале",
    "'уже с апострофом",
    "Ок=1",
    "  пробелы по краям  ",
    'C:\\путь\\n "и" \\.',
    "\\.",
    "NULL",
    ",",
    '"',
    "😀 эмодзи",
    "",
]


@pytest.fixture
def hostile(sub_reseller, sub_rules, petr):
    """Clients of the sub-reseller with hostile text in every text column,
    each status and postpay value, with and without manager and owner."""
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    odd_rule = ServiceRule.objects.create(
        reseller=sub_reseller, name='=Правило, "VIP"\nновое', key="odd", colour="#000000"
    )
    sub_rules["company"].name = "+Тип\r\nкомпании"
    sub_rules["company"].save()
    nameless = make_manager(
        reseller=sub_reseller, email="-nameless@partner.example", first_name="", last_name=""
    )
    odd_manager = make_manager(
        reseller=sub_reseller, email="m@partner.example", first_name="@Имя", last_name=""
    )
    managers = [None, petr, nameless, odd_manager]
    statuses = list(ClientStatus.values)
    postpays = list(PostpayPermission.values)
    countries = ["RU", "KZ", "AM", "US", "XX", ""]
    moments = [
        dt.datetime(2026, 11, 29, 20, 59, tzinfo=dt.UTC),  # the next day in Moscow
        dt.datetime(2012, 6, 1, 12, 0, tzinfo=dt.UTC),  # Moscow was UTC+4 then
        dt.datetime(1995, 1, 1, 0, 0, tzinfo=dt.UTC),
    ]
    clients = []
    for number, text in enumerate(NASTY):
        owner = make_user(
            password=None,
            email=f"{'=' if number % 5 == 0 else ''}owner{number}@example.com",
            first_name=NASTY[(number + 1) % len(NASTY)],
            middle_name=NASTY[(number + 2) % len(NASTY)] if number % 2 else "",
            last_name=NASTY[(number + 3) % len(NASTY)] if number % 3 else "",
        )
        client = make_client(
            reseller=sub_reseller,
            rules=sub_rules,
            owner=owner,
            name=text or "-",
            city=NASTY[(number + 4) % len(NASTY)],
            phone=NASTY[(number + 5) % len(NASTY)][:20],
            country=countries[number % len(countries)],
            status=statuses[number % len(statuses)],
            postpay_permission=postpays[number % len(postpays)],
            manager=managers[number % len(managers)],
            client_type=sub_rules["company"] if number % 2 else sub_rules["person"],
            service_rule=odd_rule if number % 3 == 0 else sub_rules["standard"],
            created_at=moments[number % len(moments)] + dt.timedelta(minutes=number),
        )
        clients.append(client)
    # No owner at all (bulk-loaded data may lack one).
    ClientAccess.objects.filter(client=clients[7]).delete()
    # A status and a postpay value that are no longer choices show their key.
    Client.objects.filter(pk=clients[8].pk).update(status="archived")
    Client.objects.filter(pk=clients[9].pk).update(postpay_permission="legacy")
    return clients


def export_both_ways(browser, monkeypatch, params: dict, language: str) -> tuple[bytes, bytes]:
    """The export through COPY, then through the csv module, of the same
    request (the same form, filters, sort and language)."""
    copied = browser.get(EXPORT_URL, params, HTTP_ACCEPT_LANGUAGE=language)
    assert copied.status_code == 200
    copied_bytes = b"".join(copied.streaming_content)
    with monkeypatch.context() as patch:
        patch.setattr(views.listing, "client_csv", client_csv_lines)
        written = browser.get(EXPORT_URL, params, HTTP_ACCEPT_LANGUAGE=language)
        written_bytes = b"".join(
            part.encode() if isinstance(part, str) else part for part in written.streaming_content
        )
    return copied_bytes, written_bytes


SORTS = [
    "-created",
    "id",
    "-id",
    "name",
    "-name",
    "status",
    "rule",
    "type",
    "-manager",
    "manager",
    "country",
    "city",
    "phone",
    "owner",
    "-owner",
    "owner_email",
    "-owner_email",
    "postpay",
]


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("sort", SORTS)
def test_copy_gives_the_csv_modules_bytes(petr_browser, hostile, monkeypatch, language, sort):
    params = {"sort": sort, "status": list(ClientStatus.values)}
    copied, written = export_both_ways(petr_browser, monkeypatch, params, language)
    assert copied == written
    rows = list(csv.reader(io.StringIO(copied.decode("utf-8-sig"), newline="")))
    # Every client but the ones whose status is no longer a choice (the
    # filter asks for the four statuses).
    assert len(rows) == 1 + len(hostile) - 1
    assert copied.count(b"\r\n") >= len(rows)


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize(
    "params",
    [
        {},  # Deleted left out
        {"q": "перенос"},
        {"q": "=HYP"},
        {"q": "owner1"},  # owners' emails
        {"q": "9161"},  # phones
        {"q": "ab"},  # too short for a substring: matches nothing here
        {"q": "nothing matches this"},
        {"status": ["deleted"], "sort": "-name"},
        {"created_from": "2012-06-01", "created_to": "2012-06-01"},
    ],
)
def test_copy_honours_search_and_filters(petr_browser, hostile, monkeypatch, language, params):
    copied, written = export_both_ways(petr_browser, monkeypatch, params, language)
    assert copied == written


@pytest.mark.parametrize("language", ["ru", "en"])
def test_root_staff_export_with_the_reseller_column(
    irina_browser, hostile, monkeypatch, sub_reseller, language
):
    sub_reseller.name = '=Партнёр, "ООО"'
    sub_reseller.save()
    copied, written = export_both_ways(
        irina_browser, monkeypatch, {"status": list(ClientStatus.values)}, language
    )
    assert copied == written
    assert b"\"'=\xd0\x9f" in copied  # the reseller's name, quoted and neutralised


def test_copy_output_is_what_people_expect(petr_browser, hostile):
    """Not only equal to the csv module's: the cells themselves."""
    response = petr_browser.get(
        EXPORT_URL, {"sort": "id", "status": list(ClientStatus.values)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbfID,Name,Status,")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    header, *data = rows
    assert header[-1] == "Postpay permission"
    by_id = {row[0]: row for row in data}
    formula = by_id[str(hostile[4].pk)]
    assert formula[1] == '\'=HYPERLINK("http://evil")'
    multiline = by_id[str(hostile[3].pk)]
    assert multiline[1] == "Windows\r\nстрока"
    moscow = by_id[str(hostile[0].pk)]
    assert moscow[11] == "2026-11-29 23:59"  # 20:59 UTC
    assert by_id[str(hostile[7].pk)][9:11] == ["", ""]  # no owner


def test_the_export_reads_no_model_rows_on_postgresql(petr_browser, hostile, monkeypatch):
    """The rows come from COPY, not from the ORM's iterator."""
    from django.db.models import QuerySet

    def refuse(self, chunk_size=None):
        raise AssertionError("iterator() used")

    monkeypatch.setattr(QuerySet, "iterator", refuse)
    response = petr_browser.get(EXPORT_URL)
    assert response.status_code == 200
    assert len(b"".join(response.streaming_content).split(b"\r\n")) > 2


@pytest.mark.django_db(transaction=True)
def test_a_download_broken_off_leaves_the_connection_usable(petr_browser, sub_reseller, sub_rules):
    owner = make_user(password=None)
    make_client(reseller=sub_reseller, rules=sub_rules, owner=owner)
    template = Client.objects.get()
    Client.objects.bulk_create(
        Client(
            **{
                field.attname: getattr(template, field.attname)
                for field in Client._meta.concrete_fields
                if not field.primary_key and field.name != "creation_token"
            }
        )
        for _ in range(3000)
    )
    response = petr_browser.get(EXPORT_URL)
    blocks = iter(response.streaming_content)
    assert next(blocks).startswith(b"\xef\xbb\xbf")
    response.close()  # the browser went away
    assert Client.objects.count() == 3001
    again = petr_browser.get(EXPORT_URL)
    assert b"".join(again.streaming_content).count(b"\r\n") == 3002
