"""Template features that do not belong in an email: refused on save (model
and admin) with the tag's or filter's name, and refused again when a stored
text is sent, however it got into the database."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from clients.models import Client, EventType
from notifications.models import DeliveryStatus, NotificationTemplate, TemplateContent
from notifications.rendering import (
    SAMPLE_CONTEXT,
    TemplateNotAllowed,
    render_message,
    template_source_check,
)
from notifications.services import notify
from notifications.tasks import delivery_send
from tests.conftest import make_user

# (source, the name the refusal must give)
REFUSED = [
    ("{% debug %}", "debug"),
    ("{% lorem 3 p %}", "lorem"),
    ("{% url 'clients:list' %}", "url"),
    ("{{ client.name|safe }}", "safe"),
    ("{% autoescape off %}{{ client.name }}{% endautoescape %}", "autoescape"),
    ("{% include 'clients/detail.html' %}", "include"),
    ("{% extends 'base.html' %}", "extends"),
    ("{% load i18n %}", "load"),
    ("{% load static %}", "load"),
    ("{% ssi '/etc/passwd' %}", "ssi"),
    ("{% for part in client.name|safeseq %}{{ part }}{% endfor %}", "safeseq"),
    ("{% csrf_token %}", "csrf_token"),
    ("{% block body %}x{% endblock %}", "block"),
    ("{% querystring %}", "querystring"),
    ("{% partialdef p %}x{% endpartialdef %}", "partialdef"),
    ("{{ client|pprint }}", "pprint"),
    ("{{ client.name|json_script:'n' }}", "json_script"),
    ("{{ client.name|ljust:'999999999' }}", "ljust"),
    ("{{ client.id|stringformat:'0999999999d' }}", "stringformat"),
    # In any tag's arguments, and however deep.
    ("{% if client.name|safe %}x{% endif %}", "safe"),
    ("{% with n=client.name|safe %}{{ n }}{% endwith %}", "safe"),
    ("{% if 1 %}" * 40 + "{{ client.name|safe }}" + "{% endif %}" * 40, "safe"),
]


def names(text: str, name: str) -> bool:
    """Whether a message quotes the name, in English or in Russian."""
    return f"“{name}”" in text or f"«{name}»" in text


def content(source: str, field: str = "body_text") -> TemplateContent:
    texts = {"subject": "{{ client.name }}", "body_text": "Hello", "body_html": ""}
    texts[field] = source
    return TemplateContent(template=NotificationTemplate(name="t", key="t"), language="ru", **texts)


@pytest.mark.parametrize(("source", "name"), REFUSED)
@pytest.mark.parametrize("field", ["subject", "body_text", "body_html"])
def test_model_refuses_the_construct_naming_it(source, name, field):
    with pytest.raises(ValidationError) as refused:
        content(source, field).full_clean(exclude=["template"])

    # (A subject over 255 characters also gets the length error.)
    messages = refused.value.message_dict[field]
    assert any(names(message, name) for message in messages), messages


@pytest.mark.parametrize(
    "source",
    [
        "{% now 'Y' %} {{ client.name|upper|truncatechars:20 }}",
        "{% filter upper %}{{ client.name }}{% endfilter %}",
        "{% comment %}a note{% endcomment %}{{ owner.first_name|default:'client' }}",
        "{{ owner_password_setup_valid_days }} day{{ owner_password_setup_valid_days|pluralize }}",
        "{% verbatim %}{% debug %}{% endverbatim %}",
    ],
)
def test_allowed_tags_and_filters_pass(source):
    template_source_check(source=source, html=True)


@pytest.fixture
def admin_browser(db) -> HttpClient:
    browser = HttpClient()
    browser.force_login(make_user(is_staff=True, is_superuser=True))
    return browser


def admin_add(browser: HttpClient, *, body_text: str = "Hello", body_html: str = ""):
    return browser.post(
        reverse("admin:notifications_notificationtemplate_add"),
        {
            "name": "Welcome",
            "key": "welcome",
            "contents-TOTAL_FORMS": "1",
            "contents-INITIAL_FORMS": "0",
            "contents-MIN_NUM_FORMS": "1",
            "contents-MAX_NUM_FORMS": "1000",
            "contents-0-language": "en",
            "contents-0-subject": "{{ client.name }}",
            "contents-0-body_text": body_text,
            "contents-0-body_html": body_html,
        },
        headers={"accept-language": "en"},
    )


@pytest.mark.parametrize(("source", "name"), REFUSED)
def test_admin_refuses_the_construct_with_a_form_error(admin_browser, source, name):
    response = admin_add(admin_browser, body_html=source)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    [message] = errors["body_html"]
    assert names(message, name)
    assert message in response.text.replace("&#x27;", "'").replace("&quot;", '"')
    assert not NotificationTemplate.objects.filter(key="welcome").exists()
    assert not TemplateContent.objects.filter(template__key="welcome").exists()


def test_admin_still_saves_an_allowed_template(admin_browser):
    response = admin_add(admin_browser, body_html="<p>{{ client.name|upper }}</p>{% now 'Y' %}")

    assert response.status_code == 302
    assert TemplateContent.objects.filter(template__key="welcome").count() == 1


# --- At sending: a text written straight to the database is refused too -----------


@pytest.mark.parametrize(
    ("field", "source", "name"),
    [
        ("body_text", "{% debug %}", "debug"),
        ("subject", "{% lorem %}", "lorem"),
        ("body_html", "<p>{{ client.name|safe }}</p>", "safe"),
        ("body_html", "{% autoescape off %}{{ client.name }}{% endautoescape %}", "autoescape"),
        ("body_text", "{% url 'clients:list' %}", "url"),
    ],
)
def test_stored_construct_fails_the_delivery_and_sends_nothing(
    client_of_root, root_handler, field, source, name
):
    """The chosen behaviour: the delivery fails at once, without retry, with
    the reason in its log; nothing is rendered and no email leaves."""
    Client.objects.filter(pk=client_of_root.pk).update(name="<script>alert(1)</script>")
    TemplateContent.objects.filter(template=root_handler.template).update(**{field: source})
    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)

    assert delivery_send(delivery_id=delivery.pk) == DeliveryStatus.FAILED

    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("TemplateNotAllowed: ")
    assert names(delivery.last_error, name)
    assert DBTaskResult.objects.count() == 1  # no retry queued
    assert mail.outbox == []


def test_client_name_with_a_script_stays_escaped_in_html_mail(client_of_root, root_handler):
    Client.objects.filter(pk=client_of_root.pk).update(name="<script>alert(1)</script>")
    TemplateContent.objects.filter(template=root_handler.template).update(
        body_html="<p>{{ client.name }}</p>"
    )
    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)

    assert delivery_send(delivery_id=delivery.pk) == DeliveryStatus.SENT

    [message] = mail.outbox
    [(html, _mimetype)] = message.alternatives
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


@pytest.mark.parametrize(
    "source",
    [
        "{{ client.name|safe }}",
        "{% autoescape off %}{{ client.name }}{% endautoescape %}",
        "{% filter safe %}{{ client.name }}{% endfilter %}",
    ],
)
def test_render_never_unescapes(source):
    context = {**SAMPLE_CONTEXT, "client": {**SAMPLE_CONTEXT["client"], "name": "<script>"}}

    with pytest.raises(TemplateNotAllowed) as refused:
        render_message(subject="x", body_text="x", body_html=source, context=context)

    assert names(str(refused.value), "safe") or names(str(refused.value), "autoescape")
