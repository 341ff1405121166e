from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from rules.models import (
    AccountValidationSettings,
    Attribute,
    AttributeOption,
    AttributeValueType,
    ClientType,
    ServiceRule,
)


@admin.register(ClientType)
class ClientTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "reseller", "primary_name", "name_pattern", "is_default"]
    list_filter = ["reseller", "is_default", "autofill"]
    search_fields = ["name", "key"]
    list_select_related = ["reseller"]


class ColourInput(forms.TextInput):
    input_type = "color"


@admin.register(ServiceRule)
class ServiceRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "reseller", "colour", "default_payment_model", "is_default"]
    list_filter = ["reseller", "default_payment_model", "is_default"]
    search_fields = ["name", "key"]
    list_select_related = ["reseller"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "colour":
            kwargs["widget"] = ColourInput
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class AttributeOptionInline(admin.TabularInline):
    model = AttributeOption
    extra = 0
    fields = ["position", "name", "key"]


class AttributeAdminForm(forms.ModelForm):
    class Meta:
        model = Attribute
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin's fieldsets choose the fields

    def clean(self) -> dict:
        cleaned = super().clean()
        reseller = cleaned.get("reseller")
        for client_type in cleaned.get("client_types") or []:
            if reseller and client_type.reseller_id != reseller.pk:
                self.add_error(
                    "client_types",
                    _("%(type)s belongs to another reseller.") % {"type": client_type},
                )
        if cleaned.get("value_type") == AttributeValueType.LIST and cleaned.get("format"):
            self.add_error("format", _("A list attribute cannot have a format."))
        return cleaned


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    form = AttributeAdminForm
    list_display = [
        "name",
        "key",
        "reseller",
        "value_type",
        "required",
        "read_only_for_client",
        "read_only_for_admin",
        "masked_in_log",
        "weight",
    ]
    list_filter = ["reseller", "value_type", "required", "read_only_for_admin", "client_types"]
    search_fields = ["name", "key"]
    list_select_related = ["reseller"]
    filter_horizontal = ["client_types"]
    inlines = [AttributeOptionInline]


@admin.register(AccountValidationSettings)
class AccountValidationSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "reseller"]

    def has_add_permission(self, request) -> bool:
        # One row for the installation, held by the root reseller.
        return (
            super().has_add_permission(request) and not AccountValidationSettings.objects.exists()
        )
