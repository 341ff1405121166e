"""End to end: a real SMTP server on loopback and the real worker process."""

import email
import email.policy
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.db import connection, transaction
from django.test import Client as HttpClient

from clients.models import EventType
from notifications.models import AttemptOutcome, DeliveryStatus
from notifications.services import notify
from tests.notifications.conftest import LINK_RE

BASE_DIR = Path(__file__).resolve().parents[2]


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The test database, as the worker process must reach it."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def run_worker_process(port: int, *extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_BACKEND": "smtp",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_TIMEOUT": "5",
        "NOTIFICATION_RETRY_BASE_DELAY": "0",  # retries are due at once: no waiting
        "NOTIFICATION_MAX_ATTEMPTS": "5",
        "PANEL_URL": "http://panel.test",
    }
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload"]
    command += ["--no-startup-delay", "--interval=0", *extra]
    # The timeout only keeps a broken worker from hanging the suite.
    result = subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.django_db(transaction=True)
def test_worker_retries_while_smtp_is_down_then_delivers_once(
    root_reseller, root_rules, client_of_root, root_handler, irina
):
    port = free_port()
    with transaction.atomic():
        [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=irina.user)

    # SMTP down: two attempts, both failed and logged, the third one queued.
    run_worker_process(port, "--max-tasks=2")

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.attempts == 2
    assert [a.outcome for a in delivery.attempt_log.all()] == [AttemptOutcome.FAILED] * 2
    assert delivery.last_error

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        run_worker_process(port)
        run_worker_process(port)  # nothing left: the message is not sent twice
    finally:
        controller.stop()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 3
    assert [a.outcome for a in delivery.attempt_log.all()] == [
        AttemptOutcome.FAILED,
        AttemptOutcome.FAILED,
        AttemptOutcome.SENT,
    ]
    assert inbox.recipients == [["owner@client.example"]]
    [message] = inbox.messages
    assert message["To"] == "owner@client.example"
    assert message["Subject"] == "Клиент Ромашка создан"
    assert message["Message-ID"] == delivery.message_id
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = LINK_RE.search(body).group(0)
    assert link.startswith("http://panel.test/welcome/")

    # The link opens the password page of this panel, and works once.
    path = urlsplit(link).path
    browser = HttpClient()
    assert 'name="new_password1"' in browser.get(path).text
    password = "Tverskaya-street-1-kiosk"
    response = browser.post(path, {"new_password1": password, "new_password2": password})
    assert response.status_code == 302
    assert 'data-testid="link-used"' in browser.get(path).text
