"""Structured logs: one line per request and per task run, with the request
id from X-Request-ID (or made) returned in the response and carried into the
tasks the request queued."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django_tasks_db.models import DBTaskResult

from operations import logs
from operations.tasks_backend import CONTEXT_KEY
from tests.clients.test_client_create_page import CREATE_URL, page_data, person
from tests.notifications.test_smtp_worker import database_url

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_lines():
    """What the root logger writes, rendered as LOG_FORMAT says."""
    stream = io.StringIO()
    root = logging.getLogger()
    handlers = []

    def capture(log_format: str = "json") -> None:
        formatter_config = dict(
            logs.logging_config(log_format=log_format, level="INFO")["formatters"]["structlog"]
        )
        factory = formatter_config.pop("()")
        handler = logging.StreamHandler(stream)
        handler.setFormatter(factory(**formatter_config))
        root.addHandler(handler)
        handlers.append(handler)

    def lines() -> list[str]:
        return [line for line in stream.getvalue().splitlines() if line.strip()]

    capture.lines = lines
    yield capture
    for handler in handlers:
        root.removeHandler(handler)


def request_lines(lines: list[str]) -> list[dict]:
    records = [json.loads(line) for line in lines]
    return [r for r in records if r.get("event") == "request_finished"]


@pytest.mark.django_db
def test_one_json_line_per_request_without_query_values(log_lines, petr_browser, petr):
    log_lines("json")
    response = petr_browser.get(
        "/clients/?q=ivanov@example.com&status=active", HTTP_X_REQUEST_ID="req-123"
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-123"
    [line] = request_lines(log_lines.lines())
    assert line["request_id"] == "req-123"
    assert line["method"] == "GET"
    assert line["path"] == "/clients/"
    assert line["request"] == "GET /clients/"
    assert line["query_keys"] == ["q", "status"]
    assert line["view"] == "clients:list"
    assert line["status"] == line["code"] == 200
    assert line["user_id"] == petr.user.pk
    assert line["reseller_id"] == petr.reseller_id
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"
    assert "ivanov" not in "".join(log_lines.lines())


@pytest.mark.django_db
@pytest.mark.parametrize("upstream", [None, "has spaces", "x" * 200, "new\nline"])
def test_a_request_id_is_made_when_none_or_an_unsafe_one_comes(log_lines, upstream):
    log_lines("json")
    headers = {"HTTP_X_REQUEST_ID": upstream} if upstream else {}
    response = HttpClient().get("/accounts/login/", **headers)
    made = response["X-Request-ID"]
    assert uuid.UUID(made)
    [line] = request_lines(log_lines.lines())
    assert line["request_id"] == made
    assert line["user_id"] is None
    assert line["reseller_id"] is None


@pytest.mark.django_db
def test_text_format_is_one_readable_line(log_lines):
    log_lines("text")
    response = HttpClient().get("/accounts/login/?next=/clients/")
    [line] = [line for line in log_lines.lines() if "request_finished" in line]
    assert f"request_id={response['X-Request-ID']}" in line
    assert "path=/accounts/login/" in line
    assert "next=" not in line.replace("query_keys=['next']", "")


def test_log_format_must_be_json_or_text():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.logging_config(log_format="xml", level="INFO")


@pytest.mark.django_db(transaction=True)
def test_the_request_id_travels_into_the_task_and_the_workers_lines(
    petr_browser, sub_rules, client_created_handler
):
    data = person(
        page_data(petr_browser.get(CREATE_URL)),
        **{"owner-new_email": "traced@example.com", "contacts-email": "t@example.com"},
    )
    response = petr_browser.post(CREATE_URL, data, HTTP_X_REQUEST_ID="trace-42")
    assert response.status_code == 302
    [task] = DBTaskResult.objects.all()
    assert task.args_kwargs[CONTEXT_KEY] == {"request_id": "trace-42"}
    assert task.task_result.kwargs == {"delivery_id": task.args_kwargs["kwargs"]["delivery_id"]}

    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LOG_FORMAT": "json",
        "EMAIL_BACKEND": "locmem",
    }
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload"]
    command += ["--no-startup-delay", "--interval=0"]
    result = subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    [finished] = [r for r in records if r.get("event") == "task_finished"]
    assert finished["request_id"] == "trace-42"
    assert finished["task"] == "notifications.tasks.deliver_notification"
    assert finished["status"] == "successful"
    assert finished["task_id"] == str(task.pk)
    assert isinstance(finished["duration_ms"], float)
    # Every line of the worker is JSON.
    assert all(re.match(r"^\{.*\}$", line) for line in result.stderr.splitlines() if line)
