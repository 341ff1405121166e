"""The "forgot password" request answers alike for known and unknown emails:
same status, same body, the same work (one queued task), and so no timing a
script could use. The statistical timing test is marked ``timing``."""

import statistics
import time

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tests.conftest import make_user
from users.tasks import send_password_reset

RESET_URL = reverse("password_reset")


def request_reset(browser: HttpClient, email: str):
    return browser.post(RESET_URL, {"email": email})


def test_known_and_unknown_emails_get_the_same_answer_and_the_same_work(petr):
    answers = []
    for email in ["petr@partner.example", "ghost@partner.example"]:
        before = DBTaskResult.objects.count()
        response = request_reset(HttpClient(), email)
        answers.append((response.status_code, response["Location"], response.content))
        assert DBTaskResult.objects.count() == before + 1
    assert answers[0] == answers[1]
    assert answers[0][1] == reverse("password_reset_done")
    assert mail.outbox == []  # nothing is sent by the request itself


def test_the_task_sends_the_link_to_a_panel_user_only(petr, oleg):
    owner = make_user(email="owner@example.com")  # a client's user, no manager
    for email in ["PETR@partner.example", "ghost@example.com", owner.email, oleg.user.email]:
        send_password_reset.call(email=email, domain="panel.example", use_https=True)
    assert [message.to for message in mail.outbox] == [["petr@partner.example"]]
    message = mail.outbox[0]
    assert "\n" not in message.subject
    assert "https://panel.example/accounts/password/reset/" in message.body


def test_the_link_sets_a_new_password(petr):
    send_password_reset.call(email=petr.user.email, domain="testserver", use_https=False)
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    browser = HttpClient()
    form_page = browser.get(link.removeprefix("http://testserver"), follow=True)
    assert form_page.status_code == 200
    response = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    petr.user.refresh_from_db()
    assert petr.user.check_password("a-new-long-passphrase")


@pytest.mark.timing
def test_no_timing_difference_between_known_and_unknown_emails(petr):
    """Median over 200 requests each, interleaved: the difference stays under 20 ms."""
    browser = HttpClient()
    durations: dict[str, list[float]] = {"known": [], "unknown": []}
    emails = {"known": "petr@partner.example", "unknown": "ghost@partner.example"}
    for _ in range(5):  # warm-up
        request_reset(browser, emails["known"])
        request_reset(browser, emails["unknown"])
    for number in range(400):
        kind = ("known", "unknown")[number % 2]
        start = time.perf_counter()
        response = request_reset(browser, emails[kind])
        durations[kind].append(time.perf_counter() - start)
        assert response.status_code == 302
    difference = abs(
        statistics.median(durations["known"]) - statistics.median(durations["unknown"])
    )
    print(f"median difference: {difference * 1000:.3f} ms")
    assert difference < 0.020
