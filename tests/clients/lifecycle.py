"""Shared pieces of the tests of a client after its creation: email handlers
for the events that are announced, and reading what was queued."""

from django.core import mail

from clients.models import ClientEvent, EventType
from notifications.models import Channel, Delivery, EventHandler, NotificationTemplate
from notifications.tasks import delivery_send

# Each event's handler prints what the test needs to see in the message.
BODIES = {
    EventType.CLIENT_CREATED: "created {{ recipient.email }} terms={{ terms.acceptance_url }}",
    EventType.MANAGER_CHANGED: "manager {{ previous_manager.full_name }} -> "
    "{{ manager.full_name }}",
    EventType.USER_ADDED: "added {{ recipient.email }} as {{ access_level }} "
    "link={{ recipient_password_setup_url }} owner-link={{ owner_password_setup_url }}",
    EventType.OWNERSHIP_TRANSFERRED: "owner {{ owner.email }} previous {{ previous_owner.email }} "
    "to {{ recipient.email }} is-owner={{ recipient_is_owner }} terms={{ terms.acceptance_url }} "
    "owner-link={{ owner_password_setup_url }}",
    EventType.USER_LEVEL_CHANGED: "level {{ recipient.email }} {{ access_level }}",
    EventType.USER_REMOVED: "removed {{ recipient.email }}",
}


def make_handlers(reseller) -> None:
    from notifications.models import TemplateContent

    for event, body in BODIES.items():
        template = NotificationTemplate.objects.create(
            name=event, key=f"test_{event.replace('.', '_')}"
        )
        for language in ("ru", "en"):
            TemplateContent.objects.create(
                template=template, language=language, subject=event, body_text=body
            )
        EventHandler.objects.update_or_create(
            reseller=reseller,
            event=event,
            channel=Channel.EMAIL,
            defaults={"template": template},
        )


def send_all() -> list[mail.EmailMessage]:
    """Send every queued delivery in this process (no worker: the test's own
    transaction holds them) and return the messages sent."""
    mail.outbox.clear()
    for delivery in Delivery.objects.order_by("pk"):
        delivery_send(delivery_id=delivery.pk)
    return list(mail.outbox)


def events_of(client, event_type: str) -> list[ClientEvent]:
    return list(ClientEvent.objects.filter(client=client, event_type=event_type).order_by("pk"))


def in_english(browser):
    """The test browser with the panel's language switched to English."""
    from django.conf import settings

    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return browser
