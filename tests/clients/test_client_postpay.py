"""Postpay decisions: only while the reseller decides by hand, only from an
undecided permission, logged and final."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients import services
from clients.models import ClientEvent, EventType, PostpayPermission
from tests.conftest import make_client, make_manager
from users.models import PostpayMode, Reseller

P = PostpayPermission


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def manual(sub_reseller):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    return sub_reseller


@pytest.fixture
def client_with(sub_reseller, sub_rules):
    def make(permission: str = P.NOT_VERIFIED):
        return make_client(reseller=sub_reseller, rules=sub_rules, postpay_permission=permission)

    return make


def postpay_url(client) -> str:
    return reverse("clients:postpay", args=[client.pk])


@pytest.mark.parametrize("start", [P.NOT_VERIFIED, P.APPROVAL_REQUIRED])
@pytest.mark.parametrize("decision", [P.APPROVED, P.DECLINED])
def test_decision_is_recorded_and_logged(manual, petr, client_with, start, decision):
    client = client_with(start)
    services.client_decide_postpay(actor=petr, client=client, decision=decision)
    client.refresh_from_db()
    assert client.postpay_permission == decision
    assert client.postpay_decided_at is not None
    assert client.postpay_decided_by == petr.user
    event = ClientEvent.objects.get(client=client, event_type=EventType.POSTPAY_DECIDED)
    assert event.actor == petr.user
    assert event.data == {
        "old_permission": start,
        "new_permission": decision,
        "actor": "Кузнецов Пётр",
    }
    assert event.visible_to_client is False


@pytest.mark.parametrize("first", [P.APPROVED, P.DECLINED])
@pytest.mark.parametrize("second", [P.APPROVED, P.DECLINED])
def test_decision_is_final(manual, petr, client_with, first, second):
    client = client_with()
    services.client_decide_postpay(actor=petr, client=client, decision=first)
    with pytest.raises(ValidationError) as refused:
        services.client_decide_postpay(actor=petr, client=client, decision=second)
    assert refused.value.code == "postpay_decided"
    client.refresh_from_db()
    assert client.postpay_permission == first
    assert ClientEvent.objects.filter(client=client).count() == 1


@pytest.mark.parametrize("start", [P.APPROVED, P.DECLINED])
def test_an_already_settled_permission_cannot_be_decided(manual, petr, client_with, start):
    client = client_with(start)
    with pytest.raises(ValidationError):
        services.client_decide_postpay(actor=petr, client=client, decision=P.APPROVED)


@pytest.mark.parametrize("decision", [P.NOT_VERIFIED, P.APPROVAL_REQUIRED, "maybe"])
def test_only_approve_or_decline(manual, petr, client_with, decision):
    client = client_with()
    with pytest.raises(ValidationError):
        services.client_decide_postpay(actor=petr, client=client, decision=decision)


def test_not_while_automatic(sub_reseller, petr, client_with):
    assert sub_reseller.postpay_mode == PostpayMode.AUTOMATIC
    client = client_with()
    with pytest.raises(ValidationError) as refused:
        services.client_decide_postpay(actor=petr, client=client, decision=P.APPROVED)
    assert refused.value.code == "postpay_automatic"


def test_another_resellers_manager_cannot_decide(manual, client_with, root_reseller):
    third = Reseller.objects.create(name="Третий", parent=root_reseller)
    stranger = make_manager(reseller=third)
    client = client_with()
    with pytest.raises(ValidationError):
        services.client_decide_postpay(actor=stranger, client=client, decision=P.APPROVED)
    client.refresh_from_db()
    assert client.postpay_decided_at is None


# --- Through the page -----------------------------------------------------------------


def test_page_offers_the_decision_while_undecided(manual, petr_browser, client_with):
    client = client_with(P.APPROVAL_REQUIRED)
    page = petr_browser.get(reverse("clients:detail", args=[client.pk])).content.decode()
    assert 'data-testid="postpay-form-approved"' in page
    assert 'data-testid="postpay-form-declined"' in page


@pytest.mark.parametrize("start", [P.APPROVED, P.DECLINED])
def test_page_offers_no_decision_once_settled(manual, petr_browser, client_with, start):
    client = client_with(start)
    page = petr_browser.get(reverse("clients:detail", args=[client.pk])).content.decode()
    assert 'data-testid="postpay-form-' not in page


def test_page_hides_postpay_while_automatic(petr_browser, client_with):
    client = client_with()
    page = petr_browser.get(reverse("clients:detail", args=[client.pk])).content.decode()
    assert 'data-testid="postpay-permission"' not in page
    assert 'data-testid="postpay-form-' not in page


def test_confirm_then_decide_through_the_page(manual, petr_browser, petr, client_with):
    client = client_with()
    confirm = petr_browser.get(postpay_url(client), {"decision": P.DECLINED})
    assert confirm.status_code == 200
    assert 'data-testid="postpay-form-declined"' in confirm.content.decode()
    response = petr_browser.post(postpay_url(client), {"decision": P.DECLINED}, follow=True)
    assert response.status_code == 200
    client.refresh_from_db()
    assert client.postpay_permission == P.DECLINED
    assert client.postpay_decided_by == petr.user
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_a_second_decision_through_the_page_is_refused(manual, petr_browser, client_with):
    client = client_with()
    petr_browser.post(postpay_url(client), {"decision": P.APPROVED}, follow=True)
    response = petr_browser.post(postpay_url(client), {"decision": P.DECLINED}, follow=True)
    client.refresh_from_db()
    assert client.postpay_permission == P.APPROVED
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


@pytest.mark.parametrize("payload", [{}, {"decision": "approval_required"}, {"decision": "x"}])
def test_forged_decisions_are_refused(manual, petr_browser, client_with, payload):
    client = client_with()
    response = petr_browser.post(postpay_url(client), payload, follow=True)
    client.refresh_from_db()
    assert client.postpay_permission == P.NOT_VERIFIED
    assert client.postpay_decided_at is None
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_confirmation_page_redirects_when_nothing_to_decide(petr_browser, client_with):
    client = client_with()  # the reseller decides automatically
    assert petr_browser.get(postpay_url(client), {"decision": P.APPROVED}).status_code == 302
