"""Fixtures of the notifications tests: the default template (from the data
migration, re-made here because transactional tests flush it), the root
reseller's "client created" handler and a client with its owner."""

import re

import pytest
from django.core import mail
from django.core.management import call_command

from clients.models import Client, EventType
from notifications.models import Channel, EventHandler, NotificationTemplate, TemplateContent
from tests.conftest import make_client, make_user
from users.models import User

TEST_TEMPLATES = {
    "ru": (
        "Клиент {{ client.name }} создан",
        "Здравствуйте, {{ owner.first_name }}! Пароль: {{ owner_password_setup_url }}",
    ),
    "en": (
        "Client {{ client.name }} created",
        "Hello, {{ owner.first_name }}! Password: {{ owner_password_setup_url }}",
    ),
}
LINK_RE = re.compile(r"https?://\S+/welcome/\S+/")


def make_template(key: str = "test_created") -> NotificationTemplate:
    template = NotificationTemplate.objects.create(name=key, key=key)
    for language, (subject, body) in TEST_TEMPLATES.items():
        TemplateContent.objects.create(
            template=template, language=language, subject=subject, body_text=body
        )
    return template


@pytest.fixture
def template(db) -> NotificationTemplate:
    return make_template()


@pytest.fixture
def root_handler(root_reseller, template) -> EventHandler:
    return EventHandler.objects.create(
        reseller=root_reseller,
        event=EventType.CLIENT_CREATED,
        channel=Channel.EMAIL,
        template=template,
    )


@pytest.fixture
def owner(db) -> User:
    """A new owner without a password, as the Add client page creates one."""
    return make_user(
        email="owner@client.example", password=None, first_name="Анна", last_name="Орлова"
    )


@pytest.fixture
def client_of_root(root_reseller, root_rules, owner) -> Client:
    return make_client(reseller=root_reseller, rules=root_rules, owner=owner, name="Ромашка")


def run_worker() -> None:
    """The real worker command, in this process, until the queue is empty.
    Only in transactional tests: the worker closes a connection left inside
    a transaction, as a test's transaction is."""
    call_command(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval=0", verbosity=0
    )


def link_in(message: mail.EmailMessage) -> str:
    match = LINK_RE.search(message.body)
    assert match, message.body
    return match.group(0)
