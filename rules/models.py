"""What a reseller's admins configure: client types, service rules, extra
parameters (attributes) and the installation-wide account validation."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from users.models import Reseller

key_validator = RegexValidator(
    r"^[A-Za-z0-9_.-]+\Z",
    _("Use only Latin letters, digits, underscore, dot and hyphen."),
)
colour_validator = RegexValidator(
    r"^#[0-9A-Fa-f]{6}\Z", _("Enter a colour as #RRGGBB, for example #1E88E5.")
)

NAME_PATTERN_VARIABLES = ("%primary_name", "%first_name", "%middle_name", "%last_name")


def validate_name_pattern(value: str) -> None:
    """A name pattern may use only the four known variables, and at least one of them."""
    unknown = [
        word for word in re.findall(r"%[A-Za-z_]+", value) if word not in NAME_PATTERN_VARIABLES
    ]
    if unknown:
        raise ValidationError(
            _("Unknown variable %(variable)s; use %(known)s."),
            params={"variable": unknown[0], "known": ", ".join(NAME_PATTERN_VARIABLES)},
            code="unknown_variable",
        )
    if not any(variable in value for variable in NAME_PATTERN_VARIABLES):
        raise ValidationError(
            _("The pattern must use at least one of %(known)s."),
            params={"known": ", ".join(NAME_PATTERN_VARIABLES)},
            code="no_variable",
        )


def validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as error:
        raise ValidationError(
            _("This is not a valid regular expression: %(error)s."),
            params={"error": error},
            code="invalid_regex",
        ) from error


class ClientType(models.Model):
    """A kind of client (private person, company…); decides the company-name
    field, the display name and the extra parameters of the Add client page."""

    reseller = models.ForeignKey(
        Reseller, verbose_name=_("reseller"), on_delete=models.CASCADE, related_name="client_types"
    )
    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("key"), max_length=64, validators=[key_validator])
    primary_name = models.CharField(
        _("primary name"),
        max_length=100,
        blank=True,
        help_text=_(
            "The label of the company-name field. Leave empty for private persons: "
            "the page then has no company-name field."
        ),
    )
    name_pattern = models.CharField(
        _("name pattern"),
        max_length=200,
        default="%last_name %first_name %middle_name",
        validators=[validate_name_pattern],
        help_text=_(
            "Builds the client's display name from %primary_name, %first_name, "
            "%middle_name and %last_name (the contract person's names)."
        ),
    )
    is_default = models.BooleanField(_("default"), default=False)
    autofill = models.BooleanField(
        _("autofill from the organization directory"),
        default=False,
        help_text=_("Offer directory suggestions on the Add client page for this type."),
    )

    class Meta:
        verbose_name = _("client type")
        verbose_name_plural = _("client types")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["reseller", "key"],
                name="rules_clienttype_key_unique",
                violation_error_message=_("This reseller already has a client type with this key."),
            ),
            models.UniqueConstraint(
                fields=["reseller"],
                condition=models.Q(is_default=True),
                name="rules_clienttype_one_default",
                violation_error_message=_("This reseller already has a default client type."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_company_name(self) -> bool:
        return bool(self.primary_name)

    def build_display_name(
        self, *, primary_name: str, first_name: str, middle_name: str, last_name: str
    ) -> str:
        """Apply the name pattern; the longest variable names are replaced first,
        and the spaces left by empty parts are collapsed."""
        values = {
            "%primary_name": primary_name,
            "%first_name": first_name,
            "%middle_name": middle_name,
            "%last_name": last_name,
        }
        result = re.sub(
            r"%(primary_name|first_name|middle_name|last_name)",
            lambda match: values[match.group(0)],
            self.name_pattern,
        )
        return " ".join(result.split())


class PaymentModel(models.TextChoices):
    PREPAY = "prepay", _("Prepay")
    POSTPAY = "postpay", _("Postpay")


class ServiceRule(models.Model):
    """How a client is served and billed; its colour marks clients in the list."""

    reseller = models.ForeignKey(
        Reseller, verbose_name=_("reseller"), on_delete=models.CASCADE, related_name="service_rules"
    )
    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("key"), max_length=64, validators=[key_validator])
    colour = models.CharField(
        _("colour"), max_length=7, default="#6C757D", validators=[colour_validator]
    )
    default_payment_model = models.CharField(
        _("default payment model"),
        max_length=10,
        choices=PaymentModel.choices,
        default=PaymentModel.PREPAY,
    )
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("service rule")
        verbose_name_plural = _("service rules")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["reseller", "key"],
                name="rules_servicerule_key_unique",
                violation_error_message=_(
                    "This reseller already has a service rule with this key."
                ),
            ),
            models.UniqueConstraint(
                fields=["reseller"],
                condition=models.Q(is_default=True),
                name="rules_servicerule_one_default",
                violation_error_message=_("This reseller already has a default service rule."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AttributeValueType(models.TextChoices):
    STRING = "string", _("String")
    TEXT = "text", _("Text")
    CHECKBOX = "checkbox", _("Checkbox")
    DATE = "date", _("Date")
    PASSWORD = "password", _("Password")
    LIST = "list", _("List")


# The longest value a client may have for an attribute, in characters: the
# column (clients.ClientAttributeValue.value), the Add client page's field and
# the service all use this number. Identifiers and passport data are short; a
# free text of a few paragraphs fits.
ATTRIBUTE_VALUE_MAX_LENGTH = 1000


class Attribute(models.Model):
    """An extra parameter of a client, shown in "Additional information"."""

    reseller = models.ForeignKey(
        Reseller, verbose_name=_("reseller"), on_delete=models.CASCADE, related_name="attributes"
    )
    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(
        _("key"),
        max_length=64,
        validators=[key_validator],
        help_text=_("The keys inn, kpp and ogrn are checked with their checksums."),
    )
    value_type = models.CharField(
        _("value type"),
        max_length=10,
        choices=AttributeValueType.choices,
        default=AttributeValueType.STRING,
    )
    format = models.CharField(
        _("format (regular expression)"),
        max_length=255,
        blank=True,
        validators=[validate_regex],
        help_text=_("The whole value must match. Not for lists."),
    )
    default_value = models.CharField(_("default value"), max_length=255, blank=True)
    required = models.BooleanField(_("required"), default=False)
    read_only_for_client = models.BooleanField(_("read-only for client"), default=False)
    read_only_for_admin = models.BooleanField(
        _("read-only for admin"),
        default=False,
        help_text=_("Such attributes are not shown on the Add client page."),
    )
    weight = models.IntegerField(
        _("weight"), default=0, help_text=_("A higher weight places the field lower on the page.")
    )
    masked_in_log = models.BooleanField(
        _("masked in the event log"),
        default=False,
        help_text=_(
            "Personal data such as passport details: the event log records a change without "
            "showing the values. Password attributes are always masked."
        ),
    )
    client_types = models.ManyToManyField(
        ClientType, verbose_name=_("client types"), related_name="attributes", blank=True
    )

    class Meta:
        verbose_name = _("attribute")
        verbose_name_plural = _("attributes")
        ordering = ["weight", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["reseller", "key"],
                name="rules_attribute_key_unique",
                violation_error_message=_("This reseller already has an attribute with this key."),
            ),
            models.CheckConstraint(
                condition=~models.Q(value_type="list") | models.Q(format=""),
                name="rules_attribute_no_format_for_list",
                violation_error_message=_("A list attribute cannot have a format."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AttributeOption(models.Model):
    """One choice of a List attribute."""

    attribute = models.ForeignKey(
        Attribute, verbose_name=_("attribute"), on_delete=models.CASCADE, related_name="options"
    )
    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("key"), max_length=64, validators=[key_validator])
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("attribute option")
        verbose_name_plural = _("attribute options")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["attribute", "key"],
                name="rules_attributeoption_key_unique",
                violation_error_message=_("This attribute already has an option with this key."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


# Shipped with the installation: Crimea and Sevastopol in Russian, Ukrainian
# and English spellings (the usual sanctions-compliance list).
DEFAULT_FORBIDDEN_REGIONS = "\n".join(
    [
        "Крым",
        "Республика Крым",
        "Автономная Республика Крым",
        "Севастополь",
        "Крим",
        "Республіка Крим",
        "Автономна Республіка Крим",
        "Севастополь",
        "Crimea",
        "Republic of Crimea",
        "Autonomous Republic of Crimea",
        "Krym",
        "Sevastopol",
        "Sebastopol",
    ]
)


class AccountValidationSettings(models.Model):
    """Installation-wide checks of company names and regions; one row, held by
    the root reseller."""

    reseller = models.OneToOneField(
        Reseller,
        verbose_name=_("root reseller"),
        on_delete=models.CASCADE,
        related_name="account_validation",
        limit_choices_to={"parent__isnull": True},
    )
    forbidden_characters = models.CharField(
        _("forbidden characters in company names"),
        max_length=100,
        blank=True,
        default="<>{}[]|\\^~`$@#",
    )
    forbidden_abbreviations = models.TextField(
        _("forbidden abbreviations in company names"),
        blank=True,
        help_text=_("One per line, matched as a whole word in any letter case."),
    )
    forbidden_tlds = models.TextField(
        _("forbidden top-level domains in company names"),
        blank=True,
        help_text=_("One per line, with or without the dot, for example .ru"),
    )
    forbidden_regions = models.TextField(
        _("forbidden regions"),
        blank=True,
        default=DEFAULT_FORBIDDEN_REGIONS,
        help_text=_("One per line; compared without regard to case and spacing."),
    )

    class Meta:
        verbose_name = _("account validation settings")
        verbose_name_plural = _("account validation settings")

    def __str__(self) -> str:
        return str(_("Account validation settings"))

    def clean(self) -> None:
        if self.reseller_id and self.reseller.parent_id is not None:
            raise ValidationError(
                {"reseller": _("Account validation belongs to the root reseller.")}
            )

    @staticmethod
    def split_lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]
