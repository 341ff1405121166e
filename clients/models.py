"""Clients, who may act for them, and what happened to them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from clients.search import NAME_MAX_LENGTH, PHONE_MAX_LENGTH, SEARCH_TEXT_MAX_LENGTH
from rules.models import ATTRIBUTE_VALUE_MAX_LENGTH, Attribute, ClientType, ServiceRule
from users.models import Manager, Reseller
from users.validators import validate_phone


class ClientStatus(models.TextChoices):
    # "Active" is also a manager's and an organization's status, each worded
    # differently in Russian (Активен, Активный, Действующая).
    ACTIVE = "active", pgettext_lazy("client status", "Active")
    CREDIT_HOLD = "credit_hold", _("Credit hold")
    ADMINISTRATIVE_HOLD = "administrative_hold", _("Administrative hold")
    DELETED = "deleted", _("Deleted")


class PostpayPermission(models.TextChoices):
    APPROVED = "approved", _("Approved")
    NOT_VERIFIED = "not_verified", _("Verification not performed")
    APPROVAL_REQUIRED = "approval_required", _("Approval required")
    DECLINED = "declined", _("Declined")


class TermsStatus(models.TextChoices):
    NOT_REQUESTED = "not_requested", _("Not requested")
    ACCEPTED = "accepted", _("Accepted")
    PENDING = "pending", _("Waiting for the owner to accept")


class Client(models.Model):
    """A company or a person who buys cloud services from a reseller."""

    reseller = models.ForeignKey(
        Reseller, verbose_name=_("reseller"), on_delete=models.PROTECT, related_name="clients"
    )
    client_type = models.ForeignKey(
        ClientType, verbose_name=_("client type"), on_delete=models.PROTECT, related_name="clients"
    )
    company_name = models.CharField(_("company name"), max_length=255, blank=True)
    name = models.CharField(
        _("name"),
        max_length=NAME_MAX_LENGTH,
        help_text=_("Built from the client type's name pattern."),
    )
    manager = models.ForeignKey(
        Manager,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clients",
    )
    service_rule = models.ForeignKey(
        ServiceRule,
        verbose_name=_("service rule"),
        on_delete=models.PROTECT,
        related_name="clients",
    )
    postpay_permission = models.CharField(
        _("postpay permission"),
        max_length=20,
        choices=PostpayPermission.choices,
        default=PostpayPermission.NOT_VERIFIED,
    )
    # Set when a manager approves or declines postpay by hand: the decision is final.
    postpay_decided_at = models.DateTimeField(_("postpay decided at"), null=True, blank=True)
    postpay_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("postpay decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )

    # Contacts.
    country = CountryField(_("country"))
    region = models.CharField(_("region"), max_length=150, blank=True)
    city = models.CharField(_("city"), max_length=150)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    address_line1 = models.CharField(_("address"), max_length=255)
    address_line2 = models.CharField(_("address, line 2"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=PHONE_MAX_LENGTH, validators=[validate_phone])
    email = models.EmailField(_("email"))

    # The person authorised to sign the contract.
    contract_first_name = models.CharField(_("first name"), max_length=150)
    contract_middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    contract_last_name = models.CharField(_("last name"), max_length=150)
    contract_email = models.EmailField(_("email"))

    terms_status = models.CharField(
        _("terms and conditions"),
        max_length=20,
        choices=TermsStatus.choices,
        default=TermsStatus.NOT_REQUESTED,
    )
    terms_accepted_at = models.DateTimeField(_("terms accepted at"), null=True, blank=True)
    terms_accepted_by = models.ForeignKey(
        Manager,
        verbose_name=_("terms accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The manager who accepted on the client's behalf."),
    )
    # The owner who accepted themselves (on the password-setup page or through
    # the one-use link of the email), and from which address.
    terms_accepted_by_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("terms accepted by the owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    terms_accepted_from = models.GenericIPAddressField(
        _("terms accepted from the address"), null=True, blank=True
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
    # The one-time token of the Add client page that created this client: a
    # second submit of the same page finds the client instead of making another.
    creation_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # Counts the changes of what the Edit client page shows (details, manager,
    # attributes): a save that started from an older version is refused
    # instead of overwriting the other manager's change.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("changed at"), null=True, blank=True, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    # The name, phone and owner's email as the list's search reads them
    # (clients/search.py), written by the services that change them.
    search_text = models.CharField(
        _("search text"), max_length=SEARCH_TEXT_MAX_LENGTH, blank=True, default="", editable=False
    )

    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ClientAccess", related_name="clients"
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(terms_status="accepted")
                | models.Q(terms_accepted_at__isnull=False),
                name="clients_client_terms_accepted_has_time",
                violation_error_message=_("Accepted terms need the time of acceptance."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AccessLevel(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    FINANCE_MANAGER = "finance_manager", _("Finance manager")
    USER = "user", _("User")


class ClientAccess(models.Model):
    """A user's access level in a client; every client has exactly one Owner."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="accesses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="client_accesses",
    )
    level = models.CharField(
        _("access level"), max_length=20, choices=AccessLevel.choices, default=AccessLevel.USER
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("client access")
        verbose_name_plural = _("client accesses")
        ordering = ["client", "level", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "user"],
                name="clients_access_user_once_per_client",
                violation_error_message=_("This user already has access to this client."),
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(level="owner"),
                name="clients_access_one_owner",
                violation_error_message=_("This client already has an owner."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_level_display()}"


class ClientAttributeValue(models.Model):
    """A client's value of one extra parameter, kept as text (checkbox "1"/"",
    date ISO, list option key)."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="attribute_values"
    )
    attribute = models.ForeignKey(
        Attribute, verbose_name=_("attribute"), on_delete=models.PROTECT, related_name="values"
    )
    value = models.CharField(_("value"), max_length=ATTRIBUTE_VALUE_MAX_LENGTH, blank=True)

    class Meta:
        verbose_name = _("attribute value")
        verbose_name_plural = _("attribute values")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "attribute"], name="clients_attributevalue_once_per_client"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attribute}: {self.value}"


class EventType(models.TextChoices):
    """The one place that names what can happen to a client."""

    CLIENT_CREATED = "client.created", _("Client created")
    TERMS_ACCEPTED = "client.terms_accepted", _("Terms accepted")
    STATUS_CHANGED = "client.status_changed", _("Status changed")
    MANAGER_CHANGED = "client.manager_changed", _("Manager changed")
    POSTPAY_DECIDED = "client.postpay_decided", _("Postpay permission decided")
    CLIENT_UPDATED = "client.updated", _("Client details changed")
    USER_ADDED = "client.user_added", _("User added")
    USER_LEVEL_CHANGED = "client.user_level_changed", _("Access level changed")
    USER_REMOVED = "client.user_removed", _("User removed")
    OWNERSHIP_TRANSFERRED = "client.ownership_transferred", _("Ownership transferred")


class ClientEvent(models.Model):
    """An entry of the client's event log; an empty actor means the System."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="events"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    event_type = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    subject = models.CharField(_("subject"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    visible_to_client = models.BooleanField(_("visible to client"), default=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("event log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "-created_at"], name="clients_event_client_time")]

    def __str__(self) -> str:
        return self.subject


class OwnerEmailCheck(models.Model):
    """A manager typed, as a new owner's email, the email of a user out of
    their reach. The panel answers such emails as it answers any it cannot
    use, and counts them per manager (OWNER_EMAIL_CHECKS_PER_HOUR): past the
    limit every email out of reach, taken or not, gets that answer, so the
    Add client page cannot be used to learn which emails have accounts
    (clients.services.new_user_email_problem)."""

    manager = models.ForeignKey(
        Manager, verbose_name=_("manager"), on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(_("email"))  # in lower case: one row per email and hour
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)

    class Meta:
        verbose_name = _("owner email check")
        verbose_name_plural = _("owner email checks")
        indexes = [
            models.Index(fields=["manager", "checked_at"], name="clients_ownercheck_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.manager}: {self.email}"
