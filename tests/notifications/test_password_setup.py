"""The owner's password-setup page: one use, expiring, its own tokens."""

import datetime as dt

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from notifications.tokens import OwnerInvitationTokenGenerator, owner_invitation_token_generator

STRONG = "Tverskaya-street-1-kiosk"


def setup_url(user, token: str | None = None) -> str:
    return reverse(
        "welcome:password_setup",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": token or owner_invitation_token_generator.make_token(user),
        },
    )


def post_password(url: str, password: str = STRONG, confirmation: str | None = None):
    return HttpClient().post(
        url, {"new_password1": password, "new_password2": confirmation or password}
    )


def test_anonymous_owner_sees_the_form(owner):
    response = HttpClient().get(setup_url(owner))

    assert response.status_code == 200
    assert 'name="new_password1"' in response.text
    assert owner.email in response.text


def test_password_is_set_and_confirmation_shown(owner):
    response = post_password(setup_url(owner))

    assert response.status_code == 302
    assert response["Location"] == reverse("welcome:password_setup_done")
    owner.refresh_from_db()
    assert owner.check_password(STRONG)
    done = HttpClient().get(response["Location"])
    assert done.status_code == 200


def test_confirmation_names_the_owner_and_client_area(owner, settings):
    settings.CLIENT_AREA_URL = "https://my.example.com/login"
    browser = HttpClient()
    url = setup_url(owner)

    response = browser.post(url, {"new_password1": STRONG, "new_password2": STRONG}, follow=True)

    assert owner.email in response.text
    assert 'href="https://my.example.com/login"' in response.text


def test_used_link_says_used(owner):
    url = setup_url(owner)
    assert post_password(url).status_code == 302

    again = HttpClient().get(url)
    resubmit = post_password(url, "Another-long-password-42")

    assert again.status_code == 200
    assert 'data-testid="link-used"' in again.text
    assert 'data-testid="link-used"' in resubmit.text
    owner.refresh_from_db()
    assert owner.check_password(STRONG)


def test_expired_link_says_expired(owner, monkeypatch, settings):
    settings.OWNER_INVITATION_TIMEOUT = 3600
    url = setup_url(owner)
    later = dt.datetime.now() + dt.timedelta(seconds=3601)
    monkeypatch.setattr(OwnerInvitationTokenGenerator, "_now", lambda self: later)

    response = HttpClient().get(url)
    post = post_password(url)

    assert 'data-testid="link-expired"' in response.text
    assert 'data-testid="link-expired"' in post.text
    owner.refresh_from_db()
    assert not owner.has_usable_password()


def test_link_within_its_timeout_works(owner, monkeypatch, settings):
    settings.OWNER_INVITATION_TIMEOUT = 3600
    url = setup_url(owner)
    later = dt.datetime.now() + dt.timedelta(seconds=3500)
    monkeypatch.setattr(OwnerInvitationTokenGenerator, "_now", lambda self: later)

    assert 'name="new_password1"' in HttpClient().get(url).text


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("0" if token[-1] != "0" else "1"),
        lambda token: "zz" + token,
        lambda token: "not-a-token-at-all",
        lambda token: "nohyphen",
    ],
)
def test_tampered_token_says_invalid(owner, tamper):
    token = owner_invitation_token_generator.make_token(owner)

    response = HttpClient().get(setup_url(owner, tamper(token)))

    assert response.status_code == 200
    assert 'data-testid="link-invalid"' in response.text


@pytest.mark.parametrize("uidb64", ["AAAA", "!!!", "OTk5OTk5OTk"])
def test_tampered_user_id_says_invalid(owner, uidb64):
    token = owner_invitation_token_generator.make_token(owner)
    url = reverse("welcome:password_setup", kwargs={"uidb64": uidb64, "token": token})

    response = HttpClient().get(url)

    assert response.status_code == 200
    assert 'data-testid="link-invalid"' in response.text


def test_password_reset_token_is_no_invitation(owner):
    reset_token = default_token_generator.make_token(owner)

    response = HttpClient().get(setup_url(owner, reset_token))

    assert 'data-testid="link-invalid"' in response.text


def test_invitation_token_is_no_password_reset(owner):
    assert not default_token_generator.check_token(
        owner, owner_invitation_token_generator.make_token(owner)
    )


def test_inactive_user_link_is_invalid(owner):
    url = setup_url(owner)
    owner.is_active = False
    owner.save()

    assert 'data-testid="link-invalid"' in HttpClient().get(url).text


@pytest.mark.parametrize("weak", ["12345678", "password", "short1!", "owner@client.example"])
def test_weak_password_is_rejected(owner, weak):
    url = setup_url(owner)

    response = post_password(url, weak)

    assert response.status_code == 200
    assert 'class="invalid-feedback' in response.text or "errorlist" in response.text
    owner.refresh_from_db()
    assert not owner.has_usable_password()
    # The link still works after a rejected password.
    assert post_password(url).status_code == 302


def test_mismatched_confirmation_is_rejected(owner):
    response = post_password(setup_url(owner), STRONG, STRONG + "x")

    assert response.status_code == 200
    owner.refresh_from_db()
    assert not owner.has_usable_password()
