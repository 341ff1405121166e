"""Django admin for the API: tokens (a new one shown once), storefront links,
and the idempotency keys and request counters to look at."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api.models import ApiToken, IdempotencyKey, RateCounter, StorefrontLink
from api.services import api_token_create, api_token_revoke


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["manager", "name", "expires_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "hint",
        "manager",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["manager__reseller", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "hint", "manager__user__email", "manager__key"]
    list_select_related = ["manager__user"]
    autocomplete_fields = ["manager"]
    actions = ["revoke"]
    readonly_fields = [
        "manager",
        "name",
        "hint",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["manager", "name", "expires_at"] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        """A new token goes through the service; the admin sees it once, in
        the message on the next page."""
        if change:
            return
        token, secret = api_token_create(
            manager=form.cleaned_data["manager"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
            created_by=request.user,
        )
        obj.pk = token.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            _("The new token (copy it now, it is not shown again): %(token)s") % {"token": secret},
        )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens))
            % {"count": len(tokens)},
        )


@admin.register(StorefrontLink)
class StorefrontLinkAdmin(admin.ModelAdmin):
    list_display = ["reseller", "link_template"]
    autocomplete_fields = ["reseller"]


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(_ReadOnlyAdmin):
    list_display = ["key", "manager", "created_at", "completed_at", "response_status"]
    search_fields = ["key"]
    list_select_related = ["manager__user"]


@admin.register(RateCounter)
class RateCounterAdmin(_ReadOnlyAdmin):
    list_display = ["key", "window_start", "count"]
    search_fields = ["key"]
