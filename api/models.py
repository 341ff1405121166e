"""What the reseller API keeps: managers' tokens, idempotency keys, request
counters, and each reseller's storefront link."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from users.models import Manager, Reseller

# A token is TOKEN_PREFIX plus 43 URL-safe characters (32 random bytes). The
# prefix tells a leaked token apart in logs and secret scanners.
TOKEN_PREFIX = "opk_"
# How many characters of a token are kept in clear to tell tokens apart.
TOKEN_HINT_LENGTH = len(TOKEN_PREFIX) + 6


class ApiToken(models.Model):
    """A manager's API token. Only its SHA-256 is stored: the token is 32
    random bytes, so a fast hash is enough (no dictionary to try), and the
    look-up is one indexed equality. The token is shown once, on creation."""

    manager = models.ForeignKey(
        Manager, verbose_name=_("manager"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(_("SHA-256"), max_length=64, unique=True, editable=False)
    hint = models.CharField(
        _("beginning"),
        max_length=TOKEN_HINT_LENGTH,
        editable=False,
        help_text=_("The first characters of the token, to tell tokens apart."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Updated at most once a minute (API_TOKEN_LAST_USED_PRECISION), not on
    # every request.
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    def is_usable(self, *, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` of a create request: the request's fingerprint,
    the one-time creation token handed to ``client_create`` (so that however
    the key is retried, one client is born), and the first answer to replay."""

    manager = models.ForeignKey(Manager, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    creation_token = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_location = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["manager", "key"], name="api_idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class RateCounter(models.Model):
    """Requests counted in a fixed window, shared by every web process: one
    row per token or address, moved to the current window by an upsert."""

    key = models.CharField(max_length=200, unique=True)
    window_start = models.BigIntegerField()  # Unix seconds
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("request counter")
        verbose_name_plural = _("request counters")

    def __str__(self) -> str:
        return self.key


def validate_link_template(value: str) -> None:
    if "{manager_key}" not in value:
        raise ValidationError(
            _("Put {manager_key} where the manager's key goes."), code="no_placeholder"
        )
    URLValidator(schemes=["http", "https"])(value.replace("{manager_key}", "key"))


class StorefrontLink(models.Model):
    """A reseller's storefront link template: a storefront that passes the
    ``manager_key`` in it to the API binds the new client to that manager."""

    reseller = models.OneToOneField(
        Reseller,
        verbose_name=_("reseller"),
        on_delete=models.CASCADE,
        related_name="storefront_link",
    )
    link_template = models.CharField(
        _("storefront link template"),
        max_length=500,
        validators=[validate_link_template],
        help_text=_("For example https://store.example/?manager_key={manager_key}"),
    )

    class Meta:
        verbose_name = _("storefront link")
        verbose_name_plural = _("storefront links")

    def __str__(self) -> str:
        return self.link_template
