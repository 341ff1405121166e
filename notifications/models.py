"""Event handlers, notification templates and the delivery log.

An event handler of a reseller says whether an event (``clients.EventType``)
is announced, on which channel and with which template; a reseller without
its own handler for an event uses its parent's. A template has one content
per language. Every queued message is a ``Delivery`` row, every try to send
it a ``DeliveryAttempt`` row.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, ClientEvent, EventType
from notifications.rendering import template_content_check
from rules.models import key_validator
from users.models import Reseller


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")


class NotificationTemplate(models.Model):
    """A message with one subject and body per language."""

    name = models.CharField(_("name"), max_length=200)
    key = models.CharField(_("key"), max_length=64, unique=True, validators=[key_validator])

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TemplateContent(models.Model):
    """The text of a template in one language, in Django template syntax."""

    template = models.ForeignKey(
        NotificationTemplate,
        verbose_name=_("template"),
        on_delete=models.CASCADE,
        related_name="contents",
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("plain-text body"))
    body_html = models.TextField(
        _("HTML body"), blank=True, help_text=_("Optional; sent beside the plain text.")
    )

    class Meta:
        verbose_name = _("template content")
        verbose_name_plural = _("template contents")
        ordering = ["template", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "language"],
                name="notifications_content_once_per_language",
                violation_error_message=_("This template already has a text in this language."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} ({self.language})"

    def clean(self) -> None:
        # Every way in that validates (admin, full_clean) refuses a text that
        # breaks or uses a tag or filter emails may not use; sending checks again.
        template_content_check(
            subject=self.subject, body_text=self.body_text, body_html=self.body_html
        )


class EventHandler(models.Model):
    """Whether and how a reseller announces an event to the client's owner."""

    reseller = models.ForeignKey(
        Reseller,
        verbose_name=_("reseller"),
        on_delete=models.CASCADE,
        related_name="event_handlers",
        help_text=_("Sub-resellers without a handler of their own use this one."),
    )
    event = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.EMAIL
    )
    template = models.ForeignKey(
        NotificationTemplate,
        verbose_name=_("template"),
        on_delete=models.PROTECT,
        related_name="handlers",
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("event handler")
        verbose_name_plural = _("event handlers")
        ordering = ["reseller__name", "event", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["reseller", "event", "channel"],
                name="notifications_handler_once_per_event",
                violation_error_message=_(
                    "This reseller already has a handler for this event and channel."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reseller}: {self.get_event_display()} → {self.get_channel_display()}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    RETRYING = "retrying", _("Failed, will retry")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """One message to one recipient, from queueing to its last attempt."""

    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="notification_deliveries",
    )
    event = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    # The event-log entry behind the message: its facts (the previous manager
    # or owner, the new user's level) are what the template may add.
    client_event = models.ForeignKey(
        ClientEvent,
        verbose_name=_("event-log entry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    handler = models.ForeignKey(
        EventHandler,
        verbose_name=_("event handler"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    template = models.ForeignKey(
        NotificationTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    recipient = models.EmailField(_("recipient"))
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    subject = models.TextField(_("subject"), blank=True, help_text=_("As rendered when sent."))
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    last_error = models.TextField(_("last error"), blank=True)
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("delivery log")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {self.recipient}"


class AttemptOutcome(models.TextChoices):
    STARTED = "started", _("Started")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    INTERRUPTED = "interrupted", _("Interrupted (worker stopped)")


class DeliveryAttempt(models.Model):
    """One try to hand a message to the mail server."""

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField(_("number"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=AttemptOutcome.choices, default=AttemptOutcome.STARTED
    )
    error = models.TextField(_("error"), blank=True)
    worker_id = models.CharField(_("worker"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="notifications_attempt_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.get_outcome_display()}"


class InvitationUse(models.Model):
    """A password-setup link that has served: lets the page say "already used"
    instead of "not valid". Only a digest of the token is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    token_digest = models.CharField(_("token digest"), max_length=64, unique=True)
    used_at = models.DateTimeField(_("used at"), default=timezone.now)

    class Meta:
        verbose_name = _("used password-setup link")
        verbose_name_plural = _("used password-setup links")

    def __str__(self) -> str:
        return f"{self.user} {self.used_at:%Y-%m-%d %H:%M}"
