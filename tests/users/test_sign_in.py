"""Who may sign in to the panel, and what an anonymous visitor sees."""

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tests.conftest import PASSWORD, make_user


def sign_in(email: str, password: str = PASSWORD):
    browser = HttpClient()
    response = browser.post(reverse("login"), {"username": email, "password": password})
    return browser, response


def test_active_manager_signs_in_and_sees_the_layout(petr):
    browser, response = sign_in("PETR@partner.example")
    assert response.status_code == 302
    page = browser.get(reverse("clients:list"))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Кузнецов Пётр" in content
    assert "Партнёр" in content


def test_inactive_manager_cannot_sign_in(oleg):
    browser, response = sign_in("oleg@partner.example")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in browser.session


def test_wrong_password_is_refused(petr):
    browser, response = sign_in("petr@partner.example", "wrong")
    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session


def test_user_who_is_no_manager_cannot_sign_in(db):
    make_user(email="owner@example.com")
    browser, response = sign_in("owner@example.com")
    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session


def test_manager_made_inactive_is_signed_out_on_the_next_page(petr, petr_browser):
    petr.status = "inactive"
    petr.save()
    response = petr_browser.get(reverse("clients:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in petr_browser.session


@pytest.mark.parametrize("url_name", ["clients:list", "home"])
def test_anonymous_visitor_is_sent_to_the_login_page(db, client, url_name):
    response = client.get(reverse(url_name), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert response.status_code == 200


def test_login_page_speaks_russian_by_default_and_english_after_switching(db):
    browser = HttpClient()
    assert "Войти" in browser.get(reverse("login")).content.decode()
    browser.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert "Sign in" in browser.get(reverse("login")).content.decode()
