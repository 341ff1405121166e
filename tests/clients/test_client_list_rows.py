"""The client list's rows: read as plain values in one query, named from the
filter selects' rows, built in Python (client_tags.client_list_rows) and
escaped there like any template variable."""

from django.urls import reverse

from clients.models import Client, ClientAccess, ClientStatus, PostpayPermission
from clients.selectors import ClientListChoices, client_list_page
from clients.templatetags.client_tags import status_badge
from rules.models import ClientType, ServiceRule
from tests.conftest import make_client, make_manager, make_user
from users.models import Manager, PostpayMode, Reseller

LIST_URL = reverse("clients:list")


def test_every_value_of_a_row_is_escaped(petr_browser, petr, sub_reseller, sub_rules):
    hostile = '<script>alert("x")</script> & Co'
    client = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        owner=make_user(email="o'wner@example.com", first_name="<b>Анна</b>", last_name="Ли"),
        name=hostile,
        city="<i>Тверь</i>",
        manager=petr,
    )
    page = petr_browser.get(LIST_URL).content.decode()
    table = page.split('data-testid="client-table"', 1)[1]
    assert "<script>" not in table and "<b>" not in table and "<i>" not in table
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in table
    assert "&lt;i&gt;Тверь&lt;/i&gt;" in table
    assert "Ли &lt;b&gt;Анна&lt;/b&gt;" in table
    assert "o&#x27;wner@example.com" in table
    detail = reverse("clients:detail", args=[client.pk])
    assert f'<td><a href="{detail}">{client.pk}</a></td>' in table


def test_a_row_shows_what_the_list_promises(petr_browser, petr, sub_reseller, sub_rules):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    client = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        name="Бета",
        status=ClientStatus.CREDIT_HOLD,
        postpay_permission=PostpayPermission.APPROVAL_REQUIRED,
        client_type=sub_rules["company"],
        service_rule=sub_rules["vip"],
        manager=petr,
        country="KZ",
    )
    ClientAccess.objects.filter(client=client).delete()  # no owner
    browser_page = petr_browser.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en")
    row = browser_page.content.decode().split(f'data-client-id="{client.pk}"', 1)[1]
    row = row.split("</tr>", 1)[0]
    assert status_badge("credit_hold", "Credit hold") in row
    assert 'data-rule-colour="#E53935"></span> VIP</td>' in row
    assert f"<td>{sub_rules['company'].name}</td>" in row
    assert "<td>Кузнецов Пётр</td>" in row
    assert "<td>Kazakhstan</td>" in row
    # Neither owner name nor email (the email's cell may break anywhere).
    assert row.count("<td>—</td>") == 1 and '<td class="text-break">—</td>' in row
    assert row.endswith("<td>Approval required</td>")


def test_rows_name_what_the_selects_do_not_offer(petr, sub_reseller, sub_rules):
    """Names come from the filter selects' rows; a row referring to anything
    else (here: selects offering nothing) still gets its names, read by ID."""
    other = make_manager(reseller=sub_reseller, email="anna@partner.example", first_name="")
    make_client(reseller=sub_reseller, rules=sub_rules, manager=other, name="Гамма")
    nothing = ClientListChoices(
        client_types=ClientType.objects.none(),
        service_rules=ServiceRule.objects.none(),
        managers=Manager.objects.none(),
        resellers=Reseller.objects.none(),
    )
    (row,) = client_list_page(manager=petr, size=10, choices=nothing).clients
    assert row.name == "Гамма"
    assert row.client_type == sub_rules["person"].name
    assert (row.service_rule, row.service_rule_colour) == (
        sub_rules["standard"].name,
        sub_rules["standard"].colour,
    )
    assert row.manager == str(other)
    assert row.reseller == sub_reseller.name


def test_the_page_reads_its_rows_in_one_query(petr, sub_reseller, sub_rules):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        make_client(reseller=sub_reseller, rules=sub_rules, manager=petr)
    choices = ClientListChoices(
        client_types=ClientType.objects.filter(reseller=sub_reseller),
        service_rules=ServiceRule.objects.filter(reseller=sub_reseller),
        managers=Manager.objects.filter(reseller=sub_reseller).select_related("user"),
        resellers=None,
    )
    list(choices.client_types), list(choices.service_rules), list(choices.managers)
    with CaptureQueriesContext(connection) as queries:
        page = client_list_page(manager=petr, size=3, choices=choices)
    assert len(page.clients) == 3
    assert len(queries) == 1, [query["sql"] for query in queries.captured_queries]
    assert Client.objects.count() == 5
