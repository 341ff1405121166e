"""Templates: checked when saved (admin), rendered safely when sent."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from notifications.models import NotificationTemplate, TemplateContent
from notifications.rendering import SAMPLE_CONTEXT, render_message, template_source_check
from tests.conftest import make_user


@pytest.mark.parametrize(
    "source",
    [
        "{{ client.name }} {{ owner.full_name }} {{ reseller.panel_url }}",
        "{{ client.contract_person.email }} {{ owner_password_setup_url }}",
        "{% if client.company_name %}{{ client.company_name|upper }}{% endif %}",
        "{% for part in client.name.split %}{{ part }}{{ forloop.counter }}{% endfor %}",
        "{% with n=client.name %}{{ n }}{% endwith %}",
        "{{ client.email|default:owner.email }}",
        "No variables at all.",
    ],
)
def test_good_source_passes(source):
    template_source_check(source=source)


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("{{ client.nmae }}", "unknown_variable"),
        ("{{ password }}", "unknown_variable"),
        ("{{ client.contract_person.phone }}", "unknown_variable"),
        ("{% if client.is_vip %}{{ client.name }}{% endif %}", "unknown_variable"),
        # In a branch the sample context never takes: found by walking the template.
        ("{% if not client.name %}{{ client.secret }}{% endif %}", "unknown_variable"),
        ("{{ client.email|default:owner.mail }}", "unknown_variable"),
        ("{% endif %}", "syntax"),
        ("{% if %}", "syntax"),
        ("{% load i18n %}", "tag_not_allowed"),
        ("{{ client.name|no_such_filter }}", "syntax"),
        ('{% include "base.html" %}', "tag_not_allowed"),
        ("{{ client.name|wordwrap:0 }}", "render"),
    ],
)
def test_bad_source_is_rejected(source, code):
    with pytest.raises(ValidationError) as raised:
        template_source_check(source=source)

    assert raised.value.code == code


def test_default_templates_from_the_migration_pass(db):
    contents = TemplateContent.objects.filter(template__key="client_created")

    assert {c.language for c in contents} == {"ru", "en"}
    for content in contents:
        template_source_check(source=content.subject)
        template_source_check(source=content.body_text)
        template_source_check(source=content.body_html, html=True)


def test_subject_loses_line_breaks():
    name = "A\r\nBcc: x\u2028y"
    context = {**SAMPLE_CONTEXT, "client": {**SAMPLE_CONTEXT["client"], "name": name}}

    rendered = render_message(
        subject="New: {{ client.name }}\n", body_text="", body_html="", context=context
    )

    assert rendered.subject == "New: A Bcc: x y"


def test_html_is_escaped_text_is_not():
    context = {**SAMPLE_CONTEXT, "client": {**SAMPLE_CONTEXT["client"], "name": "<b>R&D</b>"}}

    rendered = render_message(
        subject="{{ client.name }}",
        body_text="{{ client.name }}",
        body_html="<p>{{ client.name }}</p>",
        context=context,
    )

    assert rendered.body_text == "<b>R&D</b>"
    assert rendered.body_html == "<p>&lt;b&gt;R&amp;D&lt;/b&gt;</p>"


@pytest.fixture
def admin_browser(db) -> HttpClient:
    browser = HttpClient()
    browser.force_login(make_user(is_staff=True, is_superuser=True))
    return browser


def admin_post(browser: HttpClient, body_text: str, subject: str = "{{ client.name }}"):
    return browser.post(
        reverse("admin:notifications_notificationtemplate_add"),
        {
            "name": "Welcome",
            "key": "welcome",
            "contents-TOTAL_FORMS": "1",
            "contents-INITIAL_FORMS": "0",
            "contents-MIN_NUM_FORMS": "1",
            "contents-MAX_NUM_FORMS": "1000",
            "contents-0-language": "ru",
            "contents-0-subject": subject,
            "contents-0-body_text": body_text,
            "contents-0-body_html": "",
        },
    )


def test_admin_saves_a_good_template(admin_browser):
    response = admin_post(admin_browser, "Hello {{ owner.first_name }}")

    assert response.status_code == 302
    assert TemplateContent.objects.filter(template__key="welcome").count() == 1


@pytest.mark.parametrize(
    ("body", "subject", "shown"),
    [
        ("Hello {{ owner.nickname }}", "{{ client.name }}", "owner.nickname"),
        ("Hello {% if %}", "{{ client.name }}", "Unexpected end of expression in if tag"),
        ("Hello", "{{ client.vip }}", "client.vip"),
    ],
)
def test_admin_rejects_a_broken_template_with_the_error(admin_browser, body, subject, shown):
    response = admin_post(admin_browser, body, subject)

    assert response.status_code == 200
    assert shown in response.text
    assert not NotificationTemplate.objects.filter(key="welcome").exists()


def test_delivery_log_admin_lists_and_shows(admin_browser, client_of_root, root_handler):
    from clients.models import EventType
    from notifications.services import notify

    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)

    listing = admin_browser.get(reverse("admin:notifications_delivery_changelist"))
    detail = admin_browser.get(reverse("admin:notifications_delivery_change", args=[delivery.pk]))

    assert listing.status_code == 200
    assert "owner@client.example" in listing.text
    assert detail.status_code == 200
    assert delivery.message_id.strip("<>") in detail.text
