"""The client page: details by section, users, event log and actions."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from clients.models import (
    AccessLevel,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
    EventType,
    PostpayPermission,
    TermsStatus,
)
from clients.services import client_set_status
from rules.models import Attribute, AttributeOption, AttributeValueType
from tests.conftest import make_client, make_user
from users.models import PostpayMode


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def detail(browser, client, **params):
    return browser.get(
        reverse("clients:detail", args=[client.pk]), params, HTTP_ACCEPT_LANGUAGE="en"
    )


@pytest.fixture
def company(sub_reseller, sub_rules, petr):
    client = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        client_type=sub_rules["company"],
        company_name="Ромашка",
        name="Ромашка",
        manager=petr,
        region="Московская область",
        postal_code="101000",
        address_line2="офис 5",
        contract_middle_name="Петрович",
        terms_status=TermsStatus.ACCEPTED,
        terms_accepted_at=timezone.now(),
        terms_accepted_by=petr,
        owner=make_user(email="owner@romashka.example", first_name="Олга", last_name="Зайцева"),
    )
    attributes = sub_rules["attributes"]
    segment = Attribute.objects.create(
        reseller=sub_reseller,
        key="segment",
        name="Сегмент",
        value_type=AttributeValueType.LIST,
        weight=5,
    )
    AttributeOption.objects.create(attribute=segment, key="smb", name="Малый бизнес")
    vat = Attribute.objects.create(
        reseller=sub_reseller,
        key="vat",
        name="Плательщик НДС",
        value_type=AttributeValueType.CHECKBOX,
        weight=40,
    )
    secret = Attribute.objects.create(
        reseller=sub_reseller,
        key="secret",
        name="Пароль ЛК",
        value_type=AttributeValueType.PASSWORD,
        weight=50,
    )
    for attribute, value in [
        (attributes["ogrn"], "1027700132195"),  # weight 30
        (attributes["inn"], "7707083893"),  # weight 10
        (segment, "smb"),  # weight 5
        (vat, "1"),
        (secret, "hunter2"),
    ]:
        ClientAttributeValue.objects.create(client=client, attribute=attribute, value=value)
    return client


def test_sections_in_the_order_of_the_add_client_page(petr_browser, company):
    page = detail(petr_browser, company).content.decode()
    positions = [
        page.index(f'data-testid="{section}"')
        for section in (
            "section-client-information",
            "section-contacts",
            "section-contract-person",
            "section-agreements",
            "section-additional-information",
        )
    ]
    assert positions == sorted(positions)
    for text in (
        "Наименование компании",  # the type's primary name labels the company name
        "Ромашка",
        "Московская область",
        "101000",
        "офис 5",
        "Петрович",
        "Accepted",
        "Стандарт",
    ):
        assert text in page


def test_attributes_by_weight_and_shown_for_people(petr_browser, company):
    page = detail(petr_browser, company).content.decode()
    section = page.split('data-testid="section-additional-information"', 1)[1]
    order = [section.index(name) for name in ("Сегмент", "ИНН", "ОГРН", "Плательщик НДС")]
    assert order == sorted(order)
    assert "Малый бизнес" in section  # the option's name, not its key
    assert "Yes" in section
    assert "hunter2" not in page  # a password is never shown


def test_users_with_access_levels_owner_first(petr_browser, company):
    ClientAccess.objects.create(
        client=company, user=make_user(email="aaa@example.com"), level=AccessLevel.USER
    )
    ClientAccess.objects.create(
        client=company, user=make_user(email="bbb@example.com"), level=AccessLevel.ADMIN
    )
    page = detail(petr_browser, company).content.decode()
    section = page.split('data-testid="client-users"', 1)[1]
    order = [
        section.index(email)
        for email in ("owner@romashka.example", "bbb@example.com", "aaa@example.com")
    ]
    assert order == sorted(order)
    assert "Owner" in section and "Admin" in section


def test_event_log_with_system_and_actor(petr_browser, company, petr):
    ClientEvent.objects.create(
        client=company,
        event_type=EventType.STATUS_CHANGED,
        subject="Финансовая блокировка",
        description="Баланс ниже нуля",
        created_at=timezone.now() - dt.timedelta(hours=1),
    )
    ClientEvent.objects.create(
        client=company,
        event_type=EventType.CLIENT_CREATED,
        subject="Клиент создан",
        description="Вручную",
        actor=petr.user,
        visible_to_client=False,
    )
    page = detail(petr_browser, company).content.decode()
    log = page.split('data-testid="event-log"', 1)[1]
    assert log.index("Клиент создан") < log.index("Финансовая блокировка")  # newest first
    assert "System" in log
    assert "Кузнецов Пётр" in log
    assert "Баланс ниже нуля" in log


def test_event_log_is_worded_in_the_readers_language(petr_browser, company, petr):
    with translation.override("ru"):
        client_set_status(actor=petr, client=company, status=ClientStatus.ADMINISTRATIVE_HOLD)
    stored = ClientEvent.objects.get(client=company, event_type=EventType.STATUS_CHANGED)
    assert stored.subject == "Статус изменен: Активен → Административная блокировка"

    english = detail(petr_browser, company).content.decode().split('data-testid="event-log"')[1]
    russian = petr_browser.get(
        reverse("clients:detail", args=[company.pk]), HTTP_ACCEPT_LANGUAGE="ru"
    )
    russian = russian.content.decode().split('data-testid="event-log"')[1]

    assert "Status changed: Active → Administrative hold" in english
    assert "Changed by Кузнецов Пётр." in english
    assert "Статус изменен: Активен → Административная блокировка" in russian
    assert "Изменено пользователем Кузнецов Пётр." in russian


def test_event_log_is_paginated(petr_browser, company):
    ClientEvent.objects.bulk_create(
        ClientEvent(client=company, event_type=EventType.STATUS_CHANGED, subject=f"Событие {n}")
        for n in range(60)
    )
    page = detail(petr_browser, company).content.decode()
    assert "events_page=2" in page
    assert detail(petr_browser, company, events_page="2").status_code == 200
    assert detail(petr_browser, company, events_page="x\x00").status_code == 200


def test_postpay_shown_only_while_manual(petr_browser, company, sub_reseller):
    assert 'data-testid="postpay-permission"' not in detail(petr_browser, company).content.decode()
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    company.postpay_permission = PostpayPermission.APPROVAL_REQUIRED
    company.save()
    page = detail(petr_browser, company).content.decode()
    assert 'data-testid="postpay-permission"' in page
    assert "Approval required" in page


def test_actions_follow_the_status(petr_browser, company):
    page = detail(petr_browser, company).content.decode()
    assert 'data-bs-target="#status-modal-administrative_hold"' in page
    assert 'data-bs-target="#status-modal-deleted"' in page
    assert 'data-bs-target="#status-modal-active"' not in page
    company.status = ClientStatus.ADMINISTRATIVE_HOLD
    company.save()
    page = detail(petr_browser, company).content.decode()
    assert 'data-bs-target="#status-modal-active"' in page
    assert 'data-bs-target="#status-modal-administrative_hold"' not in page


def test_no_inline_script_or_style(petr_browser, company):
    page = detail(petr_browser, company).content.decode()
    main = page.split("<main", 1)[1]
    assert "<script" not in main
    assert "style=" not in main


def test_unknown_client_is_404(petr_browser, db):
    assert petr_browser.get(reverse("clients:detail", args=[987654])).status_code == 404


def test_the_phone_is_written_as_people_write_it_and_can_be_called(petr_browser, company):
    company.phone = "+74951234567"
    company.save(update_fields=["phone"])
    page = detail(petr_browser, company).content.decode()
    assert '<a href="tel:+74951234567">+7 495 123-45-67</a>' in page
