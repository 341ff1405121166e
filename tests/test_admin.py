"""Django admin lists and edits every model for a superuser."""

import pytest
from django.contrib import admin
from django.test import Client as HttpClient
from django.urls import reverse

from tests.conftest import make_client, make_user

PANEL_APPS = {"users", "rules", "clients", "notifications"}


@pytest.fixture
def superuser_browser(db) -> HttpClient:
    user = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    browser = HttpClient()
    browser.force_login(user)
    return browser


def panel_models():
    return [model for model in admin.site._registry if model._meta.app_label in PANEL_APPS]


def test_every_panel_model_is_registered():
    registered = {model._meta.label for model in panel_models()}
    assert {
        "users.User",
        "users.Reseller",
        "users.Manager",
        "rules.ClientType",
        "rules.ServiceRule",
        "rules.Attribute",
        "rules.AccountValidationSettings",
        "clients.Client",
        "clients.ClientAccess",
        "clients.ClientEvent",
    } <= registered


def test_superuser_opens_every_changelist_and_change_page(
    superuser_browser, root_reseller, root_rules, irina
):
    make_client(reseller=root_reseller, rules=root_rules, manager=irina)
    for model in panel_models():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert superuser_browser.get(changelist).status_code == 200, changelist
        obj = model._default_manager.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert superuser_browser.get(change).status_code == 200, change


def test_superuser_edits_a_service_rule(superuser_browser, root_rules):
    rule = root_rules["vip"]
    url = reverse("admin:rules_servicerule_change", args=[rule.pk])
    response = superuser_browser.post(
        url,
        {
            "reseller": rule.reseller_id,
            "name": "VIP+",
            "key": "vip",
            "colour": "#112233",
            "default_payment_model": "postpay",
        },
    )
    assert response.status_code == 302, response.content
    rule.refresh_from_db()
    assert (rule.name, rule.colour, rule.default_payment_model) == ("VIP+", "#112233", "postpay")


def test_admin_refuses_a_second_default_service_rule_with_a_message(superuser_browser, root_rules):
    rule = root_rules["vip"]
    response = superuser_browser.post(
        reverse("admin:rules_servicerule_change", args=[rule.pk]),
        {
            "reseller": rule.reseller_id,
            "name": "VIP",
            "key": "vip",
            "colour": "#112233",
            "default_payment_model": "prepay",
            "is_default": "on",
        },
    )
    assert response.status_code == 200
    assert "уже есть правило обслуживания по умолчанию" in response.content.decode()
    rule.refresh_from_db()
    assert not rule.is_default


def test_event_log_is_read_only_in_admin(superuser_browser, root_reseller, root_rules):
    from clients.models import ClientEvent

    client = make_client(reseller=root_reseller, rules=root_rules)
    event = ClientEvent.objects.create(client=client, event_type="client.created", subject="x")
    response = superuser_browser.post(
        reverse("admin:clients_clientevent_change", args=[event.pk]), {"subject": "changed"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.subject == "x"
