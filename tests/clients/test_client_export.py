"""CSV export: the list's rows as they are filtered and sorted, streamed,
readable by Excel, and safe to open in a spreadsheet."""

import csv
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.urls import reverse

from clients.export import neutralise
from clients.models import ClientStatus, PostpayPermission
from tests.conftest import make_client, make_user
from users.models import PostpayMode

EXPORT_URL = reverse("clients:export")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def read_csv(response) -> tuple[bytes, list[list[str]]]:
    body = b"".join(response.streaming_content)
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def clients(sub_reseller, sub_rules):
    return {
        "ivanov": make_client(
            reseller=sub_reseller,
            rules=sub_rules,
            name="Иванов Иван",
            city="Санкт-Петербург",
            owner=make_user(email="ivanov@example.com", first_name="Иван", last_name="Иванов"),
        ),
        "formula": make_client(
            reseller=sub_reseller, rules=sub_rules, name='=HYPERLINK("http://x")', city="@SUM(1)"
        ),
        "held": make_client(
            reseller=sub_reseller,
            rules=sub_rules,
            name="Холд",
            status=ClientStatus.ADMINISTRATIVE_HOLD,
        ),
        "deleted": make_client(
            reseller=sub_reseller, rules=sub_rules, name="Удалённый", status=ClientStatus.DELETED
        ),
    }


def test_streamed_utf8_csv_with_bom(petr_browser, clients):
    response = petr_browser.get(EXPORT_URL, {"sort": "id"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="clients-')
    body, rows = read_csv(response)
    assert body.startswith(b"\xef\xbb\xbf")
    assert "Иванов Иван".encode() in body  # Cyrillic as UTF-8, not mangled
    header, *data = rows
    assert len(header) == 12
    assert [row[0] for row in data] == [
        str(clients[name].pk) for name in ("ivanov", "formula", "held")
    ]
    ivanov = data[0]
    assert ivanov[1] == "Иванов Иван"
    assert "Санкт-Петербург" in ivanov
    assert "Иванов Иван" in ivanov[9]  # owner
    assert ivanov[10] == "ivanov@example.com"


def test_formula_cells_are_neutralised(petr_browser, clients):
    _, rows = read_csv(petr_browser.get(EXPORT_URL, {"q": "HYPERLINK"}))
    row = rows[1]
    assert row[1] == '\'=HYPERLINK("http://x")'
    assert row[7] == "'@SUM(1)"
    assert row[8] == "'+79161234567"  # a leading plus is a formula to Excel too


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+7", "'+7"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("Ок=1", "Ок=1"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_filters_and_sort_apply(petr_browser, clients):
    _, rows = read_csv(
        petr_browser.get(EXPORT_URL, {"status": ["administrative_hold", "deleted"], "sort": "-id"})
    )
    assert [row[0] for row in rows[1:]] == [str(clients["deleted"].pk), str(clients["held"].pk)]
    _, rows = read_csv(petr_browser.get(EXPORT_URL, {"q": "Иванов"}))
    assert [row[0] for row in rows[1:]] == [str(clients["ivanov"].pk)]


def test_deleted_left_out_by_default(petr_browser, clients):
    _, rows = read_csv(petr_browser.get(EXPORT_URL))
    assert str(clients["deleted"].pk) not in [row[0] for row in rows[1:]]


def test_every_page_is_exported(petr_browser, sub_reseller, sub_rules):
    for _ in range(60):
        make_client(reseller=sub_reseller, rules=sub_rules, owner=make_user(password=None))
    _, rows = read_csv(petr_browser.get(EXPORT_URL, {"page": "2", "per_page": "50"}))
    assert len(rows) == 61


def test_postpay_column_only_while_manual(petr_browser, clients, sub_reseller):
    _, rows = read_csv(petr_browser.get(EXPORT_URL, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Postpay permission" not in rows[0]
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    clients["ivanov"].postpay_permission = PostpayPermission.DECLINED
    clients["ivanov"].save()
    _, rows = read_csv(petr_browser.get(EXPORT_URL, {"q": "Иванов"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert rows[0][-1] == "Postpay permission"
    assert rows[1][-1] == "Declined"


def test_root_staff_export_names_the_reseller(irina_browser, clients):
    _, rows = read_csv(irina_browser.get(EXPORT_URL, {"q": "Иванов"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert rows[0][1] == "Reseller"
    assert rows[1][1] == "Партнёр"


def test_export_link_carries_the_current_view(petr_browser, clients):
    page = petr_browser.get(
        reverse("clients:list"), {"q": "Ив", "sort": "-name", "page": "1"}
    ).content.decode()
    assert f'href="{EXPORT_URL}?q=%D0%98%D0%B2&amp;sort=-name"' in page


@pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="PostgreSQL writes the file with COPY (test_client_export_copy.py)",
)
def test_rows_come_from_the_database_in_chunks(petr_browser, clients, monkeypatch):
    """The file is never built in memory: the rows are read with iterator()."""
    from django.db.models import QuerySet

    chunk_sizes = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    response = petr_browser.get(EXPORT_URL)
    assert chunk_sizes == []  # nothing read before the response starts streaming
    read_csv(response)
    assert chunk_sizes == [500]
