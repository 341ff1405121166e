from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from users.models import (
    AutofillField,
    Manager,
    PasswordResetEmail,
    PasswordResetRequest,
    Reseller,
    User,
)
from users.services import manager_role_sync


class PanelUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "middle_name", "last_name")


class PanelUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PanelUserChangeForm
    add_form = PanelUserCreationForm
    ordering = ["email"]
    list_display = ["email", "last_name", "first_name", "middle_name", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "first_name", "last_name", "middle_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            pgettext_lazy("a person's full name", "Name"),
            {"fields": ("first_name", "middle_name", "last_name")},
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined", "password_reset_sent_at")}),
    )
    readonly_fields = ["password_reset_sent_at"]
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "first_name",
                    "middle_name",
                    "last_name",
                    "password1",
                    "password2",
                ),
            },
        ),
    )


class ResellerAdminForm(forms.ModelForm):
    autofill_fields = forms.MultipleChoiceField(
        label=_("fields filled by autofill"),
        choices=AutofillField.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Reseller
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin's fieldsets choose the fields

    def clean(self) -> dict:
        cleaned = super().clean()
        default_country = cleaned.get("default_country")
        allowed = cleaned.get("allowed_countries") or []
        if default_country and allowed and str(default_country) not in [str(c) for c in allowed]:
            self.add_error(
                "default_country", _("The default country must be one of the allowed countries.")
            )
        return cleaned


class ManagerInline(admin.TabularInline):
    model = Manager
    extra = 0
    fields = ["user", "key", "role", "status", "phone"]
    autocomplete_fields = ["user"]


@admin.register(Reseller)
class ResellerAdmin(admin.ModelAdmin):
    form = ResellerAdminForm
    list_display = ["name", "parent", "postpay_mode", "terms_required", "autofill_enabled"]
    list_filter = ["postpay_mode", "terms_required", "autofill_enabled", "latin_contacts"]
    search_fields = ["name"]
    autocomplete_fields = ["parent"]
    inlines = [ManagerInline]

    def save_formset(self, request, form, formset, change) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Manager:
            # A manager added or given another role here joins its role's group.
            for manager in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
                manager_role_sync(manager=manager)

    fieldsets = (
        (None, {"fields": ("name", "parent", "created_at")}),
        (_("Finance"), {"fields": ("postpay_mode",)}),
        (_("Terms and conditions"), {"fields": ("terms_required", "terms_url")}),
        (
            _("Countries and contacts"),
            {"fields": ("default_country", "allowed_countries", "latin_contacts")},
        ),
        (
            _("Autofill from the organization directory"),
            {
                "fields": (
                    "autofill_enabled",
                    "autofill_url",
                    "autofill_api_key",
                    "autofill_fields",
                )
            },
        ),
        (_("Notifications"), {"fields": ("notification_language", "panel_url")}),
    )


@admin.register(Manager)
class ManagerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user_email", "reseller", "key", "role", "status", "phone"]
    list_filter = ["status", "role", "reseller"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "key", "phone"]
    list_select_related = ["user", "reseller"]
    autocomplete_fields = ["user", "reseller"]

    def save_model(self, request, obj: Manager, form, change) -> None:
        super().save_model(request, obj, form, change)
        manager_role_sync(manager=obj)

    @admin.display(description=_("email"), ordering="user__email")
    def user_email(self, manager: Manager) -> str:
        return manager.user.email


class ReadOnlyAdmin(admin.ModelAdmin):
    """Bookkeeping the services write and prune; admins look, nobody edits."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PasswordResetRequest)
class PasswordResetRequestAdmin(ReadOnlyAdmin):
    """The "forgot password" requests of the last PASSWORD_RESET_ADDRESS_MINUTES."""

    list_display = ["address", "requested_at"]
    search_fields = ["address"]


@admin.register(PasswordResetEmail)
class PasswordResetEmailAdmin(ReadOnlyAdmin):
    """Emails (as digests) with a reset queued in the last PASSWORD_RESET_MIN_INTERVAL."""

    list_display = ["email_digest", "queued_at"]
