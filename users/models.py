"""Users, resellers and their managers.

The reseller tree mirrors the platform's sales channel: the root reseller is
the installation itself and holds installation-wide settings (see
``rules.AccountValidationSettings``); every other reseller has a parent.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries import countries
from django_countries.fields import CountryField

from users.outbound import validate_autofill_url
from users.validators import validate_email_local_part_ascii, validate_phone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> "User":
        if not email:
            raise ValueError("The email must be set.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        """The user whose email is ``username`` in any letter case, as the
        unique constraint compares them: the database's LOWER() of both sides.
        (UPPER(), which ``iexact`` uses on PostgreSQL, also matches look-alike
        letters: "ſ" (long s) and "ı" (dotless i) upper-case to S and I.)"""
        return self.alias(email_lower=Lower("email")).get(
            email_lower=Lower(Value(username or "", output_field=models.CharField()))
        )


def full_name(last_name: str | None, first_name: str | None, middle_name: str | None) -> str:
    """A person's name as the panel writes it: last, first, middle name; also
    for names read as plain columns, without a User."""
    return " ".join(part for part in (last_name, first_name, middle_name) if part)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a manager of a reseller, an admin or a client's user."""

    email = models.EmailField(
        _("email"), max_length=254, validators=[validate_email_local_part_ascii]
    )
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Whether the user can sign in to Django admin."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # The last "forgot password" email (users.password_reset.password_reset_send):
    # at most one per PASSWORD_RESET_MIN_INTERVAL, whichever worker sends it.
    password_reset_sent_at = models.DateTimeField(
        _("password reset link sent at"), null=True, blank=True, editable=False
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="users_user_email_ci_unique",
                violation_error_message=_("A user with this email already exists."),
            ),
        ]

    def __str__(self) -> str:
        name = self.get_full_name()
        return f"{name} <{self.email}>" if name else self.email

    def get_full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)

    def get_short_name(self) -> str:
        return self.first_name or self.email


class PostpayMode(models.TextChoices):
    AUTOMATIC = "automatic", _("Automatically")
    MANUAL = "manual", _("Manually")


class AutofillField(models.TextChoices):
    """Fields of the Add client page that the organization directory may fill."""

    COMPANY_NAME = "company_name", _("Company name")
    INN = "inn", _("INN")
    KPP = "kpp", _("KPP")
    OGRN = "ogrn", _("OGRN")
    COUNTRY = "country", _("Country")
    REGION = "region", _("Region")
    CITY = "city", _("City")
    POSTAL_CODE = "postal_code", _("Postal code")
    ADDRESS = "address", _("Address")
    CONTRACT_PERSON = "contract_person", _("Contract person")


class Reseller(models.Model):
    """A node of the sales tree; its settings shape the Add client page."""

    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent reseller"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("Empty only for the root reseller, the installation itself."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    # Financial settings.
    postpay_mode = models.CharField(
        _("allow client postpay"),
        max_length=16,
        choices=PostpayMode.choices,
        default=PostpayMode.AUTOMATIC,
        help_text=_("Manually shows the postpay permission on the Add client page and the list."),
    )
    # Terms and conditions.
    terms_required = models.BooleanField(
        _("request agreement with terms and conditions"), default=False
    )
    terms_url = models.URLField(_("terms and conditions URL"), blank=True)
    # Countries.
    default_country = CountryField(_("default country"), default="RU")
    allowed_countries = CountryField(
        _("allowed countries"),
        multiple=True,
        blank=True,
        help_text=_("Empty means every country."),
    )
    latin_contacts = models.BooleanField(
        _("contact data must be Latin (ASCII)"),
        default=False,
        help_text=_("Some domain registrars accept only Latin contact data."),
    )
    # Autofill from the organization directory (DaData-compatible API).
    autofill_enabled = models.BooleanField(_("autofill service on"), default=False)
    autofill_url = models.URLField(
        _("autofill service URL"),
        blank=True,
        validators=[validate_autofill_url],
        help_text=_(
            "https:// and a public address: the server sends the API key there "
            "(see DIRECTORY_ALLOW_PRIVATE_NETWORKS for a local stand-in)."
        ),
    )
    autofill_api_key = models.CharField(_("autofill service API key"), max_length=200, blank=True)
    autofill_fields = models.JSONField(
        _("fields filled by autofill"),
        default=list,
        blank=True,
        help_text=_("Which fields of the Add client page a chosen suggestion fills."),
    )
    # Notifications.
    notification_language = models.CharField(
        _("notification language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="ru",
        help_text=_("The language of the emails sent to this reseller's clients."),
    )
    panel_url = models.URLField(
        _("panel address"),
        blank=True,
        help_text=_(
            "The address of this panel as the reseller's clients reach it, used in the links "
            "of emails. Empty means the installation's PANEL_URL setting."
        ),
    )

    class Meta:
        verbose_name = _("reseller")
        verbose_name_plural = _("resellers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                models.Case(models.When(parent__isnull=True, then=models.Value(1))),
                condition=models.Q(parent__isnull=True),
                name="users_reseller_single_root",
                violation_error_message=_("There is already a root reseller."),
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")),
                name="users_reseller_not_own_parent",
                violation_error_message=_("A reseller cannot be its own parent."),
            ),
            models.CheckConstraint(
                condition=models.Q(terms_required=False) | ~models.Q(terms_url=""),
                name="users_reseller_terms_url_when_required",
                violation_error_message=_("Give the terms URL when terms acceptance is requested."),
            ),
            models.CheckConstraint(
                condition=models.Q(autofill_enabled=False) | ~models.Q(autofill_url=""),
                name="users_reseller_autofill_url_when_on",
                violation_error_message=_("Give the autofill service URL when autofill is on."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def postpay_is_manual(self) -> bool:
        return self.postpay_mode == PostpayMode.MANUAL

    def country_choices(self) -> list[tuple[str, str]]:
        """The (code, name) pairs the country select offers."""
        if self.allowed_countries:
            allowed = {country.code for country in self.allowed_countries}
            return [(code, name) for code, name in countries if code in allowed]
        return list(countries)


class ManagerRole(models.TextChoices):
    SALES = "sales", _("Sales")
    MARKETING = "marketing", _("Marketing")
    PRODUCT_OWNER = "product_owner", _("Product owner")
    SYSTEM_ADMINISTRATOR = "sysadmin", _("System administrator")


class ManagerStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("manager status", "Active")
    INACTIVE = "inactive", _("Inactive")


manager_key_validator = RegexValidator(
    r"^[A-Za-z0-9_.-]+\Z",
    _("Use only Latin letters, digits, underscore, dot and hyphen."),
)


class Manager(models.Model):
    """A reseller's employee who works in the panel."""

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="manager"
    )
    reseller = models.ForeignKey(
        Reseller, verbose_name=_("reseller"), on_delete=models.PROTECT, related_name="managers"
    )
    role = models.CharField(
        _("role"), max_length=20, choices=ManagerRole.choices, default=ManagerRole.SALES
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ManagerStatus.choices, default=ManagerStatus.ACTIVE
    )
    key = models.CharField(_("key"), max_length=64, validators=[manager_key_validator])
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])

    class Meta:
        verbose_name = _("manager")
        verbose_name_plural = _("managers")
        ordering = ["user__last_name", "user__first_name", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["reseller", "key"],
                name="users_manager_key_unique_per_reseller",
                violation_error_message=_("This reseller already has a manager with this key."),
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.email

    @property
    def is_active(self) -> bool:
        return self.status == ManagerStatus.ACTIVE


class PasswordResetRequest(models.Model):
    """A "forgot password" request from an address, kept for
    PASSWORD_RESET_ADDRESS_MINUTES: at most PASSWORD_RESET_ADDRESS_LIMIT of them
    per address in that time queue anything (users.services)."""

    address = models.CharField(_("address"), max_length=45)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)

    class Meta:
        verbose_name = _("password reset request")
        verbose_name_plural = _("password reset requests")
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["address", "requested_at"], name="users_reset_address_time"),
            models.Index(fields=["requested_at"], name="users_reset_time"),
        ]

    def __str__(self) -> str:
        return f"{self.address} {self.requested_at:%Y-%m-%d %H:%M:%S}"


class PasswordResetEmail(models.Model):
    """When a reset email was last queued for a typed email: at most one task
    per email per PASSWORD_RESET_MIN_INTERVAL. The email is kept as a digest of
    its folded form (users.backends.login_key), never in clear: the table
    holds unknown emails as well as known ones."""

    email_digest = models.CharField(_("email digest"), max_length=64, primary_key=True)
    queued_at = models.DateTimeField(_("queued at"))

    class Meta:
        verbose_name = _("password reset email")
        verbose_name_plural = _("password reset emails")
        ordering = ["-queued_at"]
        indexes = [models.Index(fields=["queued_at"], name="users_reset_email_time")]

    def __str__(self) -> str:
        return self.email_digest
