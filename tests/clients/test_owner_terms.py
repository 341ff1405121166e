"""The owner's own acceptance of the terms: on the password-setup page (an
owner without a password) and through the one-use link of the email (an
owner with one); recorded with the owner, the time and the address, shown in
the event log as visible to the client and on the client page."""

from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone, translation

from clients import services
from clients.events import event_wording
from clients.models import AccessLevel, ClientAccess, EventType, TermsStatus
from notifications.services import notify
from notifications.tokens import terms_acceptance_token
from tests.clients.lifecycle import events_of, in_english, make_handlers, send_all
from tests.conftest import make_client, make_user
from tests.notifications.test_password_setup import STRONG, setup_url

TERMS_URL = "https://partner.example/terms"


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def reseller(sub_reseller, root_reseller):
    sub_reseller.terms_required = True
    sub_reseller.terms_url = TERMS_URL
    sub_reseller.save()
    make_handlers(root_reseller)
    return sub_reseller


def pending_client(reseller, rules, owner, **fields):
    return make_client(
        reseller=reseller, rules=rules, owner=owner, terms_status=TermsStatus.PENDING, **fields
    )


def post_setup(url: str, **extra):
    return HttpClient(REMOTE_ADDR="203.0.113.7").post(
        url, {"new_password1": STRONG, "new_password2": STRONG, **extra}
    )


# --- the password-setup page -----------------------------------------------------------


def test_the_setup_page_asks_a_new_owner_to_accept_the_terms(reseller, sub_rules):
    owner = make_user(password=None, first_name="Анна", last_name="Орлова")
    client = pending_client(reseller, sub_rules, owner, name="Ромашка")
    url = setup_url(owner)

    page = HttpClient().get(url, HTTP_ACCEPT_LANGUAGE="en").text
    assert f'href="{TERMS_URL}"' in page
    assert f'name="accept_terms_{client.pk}"' in page

    # Without the box ticked nothing is saved: no password, no acceptance.
    refused = post_setup(url)
    assert refused.status_code == 200
    owner.refresh_from_db()
    assert not owner.has_usable_password()
    client.refresh_from_db()
    assert client.terms_status == TermsStatus.PENDING

    accepted = post_setup(url, **{f"accept_terms_{client.pk}": "on"})
    assert accepted.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(STRONG)
    client.refresh_from_db()
    assert client.terms_status == TermsStatus.ACCEPTED
    assert client.terms_accepted_by_owner == owner
    assert client.terms_accepted_by is None
    assert client.terms_accepted_at is not None
    assert client.terms_accepted_from == "203.0.113.7"
    [event] = events_of(client, EventType.TERMS_ACCEPTED)
    assert event.visible_to_client
    assert event.actor == owner
    assert event.created_at == client.terms_accepted_at
    with translation.override("en"):  # the requests above switched the language
        assert event_wording(event.event_type, event.data) == (
            "Terms and conditions accepted",
            "The owner Орлова Анна accepted the terms and conditions.",
        )


def test_an_owner_without_terms_to_accept_sees_no_box(reseller, sub_rules):
    owner = make_user(password=None)
    make_client(
        reseller=reseller,
        rules=sub_rules,
        owner=owner,
        terms_status=TermsStatus.ACCEPTED,
        terms_accepted_at=timezone.now(),
    )

    page = HttpClient().get(setup_url(owner)).text

    assert "accept_terms_" not in page
    assert post_setup(setup_url(owner)).status_code == 302


def test_a_user_who_is_not_the_owner_is_not_asked(reseller, sub_rules):
    admin = make_user(password=None)
    client = pending_client(reseller, sub_rules, make_user())
    ClientAccess.objects.create(client=client, user=admin, level=AccessLevel.ADMIN)

    assert "accept_terms_" not in HttpClient().get(setup_url(admin)).text


# --- the one-use link for an owner who has a password ----------------------------------


def test_the_client_created_email_carries_the_terms_link_for_an_owner_with_a_password(
    reseller, sub_rules, petr
):
    owner = make_user(email="boss@client.example")
    client = pending_client(reseller, sub_rules, owner)
    notify(event=EventType.CLIENT_CREATED, client=client, actor=petr.user)

    [message] = send_all()

    assert message.to == ["boss@client.example"]
    link = message.body.split("terms=")[1].strip()
    assert urlsplit(link).path.startswith("/welcome/terms/")
    browser = in_english(HttpClient(REMOTE_ADDR="198.51.100.4"))
    page = browser.get(urlsplit(link).path)
    assert page.status_code == 200
    assert f'href="{TERMS_URL}"' in page.text
    # The box must be ticked.
    assert browser.post(urlsplit(link).path, {}).status_code == 200
    client.refresh_from_db()
    assert client.terms_status == TermsStatus.PENDING

    done = browser.post(urlsplit(link).path, {"accept": "on"}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("welcome:terms_accept_done")
    client.refresh_from_db()
    assert (client.terms_status, client.terms_accepted_by_owner, client.terms_accepted_from) == (
        TermsStatus.ACCEPTED,
        owner,
        "198.51.100.4",
    )
    # One use: the link now says the terms are accepted, and records nothing more.
    again = browser.get(urlsplit(link).path)
    assert 'data-testid="terms-link-accepted"' in again.text
    browser.post(urlsplit(link).path, {"accept": "on"})
    assert len(events_of(client, EventType.TERMS_ACCEPTED)) == 1


def test_an_owner_without_a_password_gets_no_terms_link(reseller, sub_rules, petr):
    client = pending_client(reseller, sub_rules, make_user(password=None))
    notify(event=EventType.CLIENT_CREATED, client=client, actor=petr.user)

    [message] = send_all()

    assert message.body.endswith("terms=")


def test_after_a_transfer_the_old_owners_link_no_longer_works(reseller, sub_rules, petr):
    old, new = make_user(), make_user()
    client = pending_client(reseller, sub_rules, old)
    ClientAccess.objects.create(client=client, user=new, level=AccessLevel.USER)
    path = reverse(
        "welcome:terms_accept",
        args=[terms_acceptance_token(client_id=client.pk, user_id=old.pk)],
    )
    services.client_ownership_transfer(actor=petr, client=client, user=new)

    page = HttpClient().get(path)
    HttpClient().post(path, {"accept": "on"})

    assert 'data-testid="terms-link-invalid"' in page.text
    client.refresh_from_db()
    assert client.terms_status == TermsStatus.PENDING
    # The new owner is told, with a link of their own.
    messages = {m.to[0]: m.body for m in send_all() if m.subject == EventType.OWNERSHIP_TRANSFERRED}
    assert "/welcome/terms/" in messages[new.email]
    assert "terms= " in messages[old.email]


@pytest.mark.parametrize("token", ["garbage", "eyJjbGllbnQiOjF9:bad:signature"])
def test_an_altered_link_is_refused(db, token):
    page = HttpClient().get(reverse("welcome:terms_accept", args=[token]))

    assert page.status_code == 200
    assert 'data-testid="terms-link-invalid"' in page.text


def test_an_expired_link_says_so(reseller, sub_rules, settings):
    owner = make_user()
    client = pending_client(reseller, sub_rules, owner)
    path = reverse(
        "welcome:terms_accept",
        args=[terms_acceptance_token(client_id=client.pk, user_id=owner.pk)],
    )
    settings.OWNER_INVITATION_TIMEOUT = -1  # every token is older than that

    page = HttpClient().get(path)
    HttpClient().post(path, {"accept": "on"})

    assert 'data-testid="terms-link-expired"' in page.text
    client.refresh_from_db()
    assert client.terms_status == TermsStatus.PENDING


# --- the service and the client page ----------------------------------------------------


def test_only_the_owner_accepts_and_only_terms_that_wait(reseller, sub_rules):
    owner = make_user()
    client = pending_client(reseller, sub_rules, owner)
    stranger = make_user()
    nothing = make_client(reseller=reseller, rules=sub_rules, owner=owner)

    with pytest.raises(ValidationError) as not_owner:
        services.client_terms_accept_by_owner(client=client, user=stranger, address=None)
    with pytest.raises(ValidationError) as no_terms:
        services.client_terms_accept_by_owner(client=nothing, user=owner, address=None)

    assert not_owner.value.messages == ["Only the client's owner accepts its terms."]
    assert no_terms.value.messages == ["This client has no terms to accept."]
    client.refresh_from_db()
    assert client.terms_status == TermsStatus.PENDING
    assert client.events.count() == 0


def test_the_client_page_says_who_accepted_or_who_is_awaited(reseller, sub_rules, petr_browser):
    owner = make_user(first_name="Анна", last_name="Орлова")
    client = pending_client(reseller, sub_rules, owner)
    url = reverse("clients:detail", args=[client.pk])
    browser = in_english(petr_browser)

    waiting = browser.get(url).text
    services.client_terms_accept_by_owner(client=client, user=owner, address="192.0.2.1")
    accepted = browser.get(url).text

    assert "Waiting for the owner Орлова Анна" in waiting
    assert "Accepted by the owner Орлова Анна" in accepted
    assert "from 192.0.2.1" in accepted
    assert "The owner Орлова Анна accepted the terms and conditions." in accepted
