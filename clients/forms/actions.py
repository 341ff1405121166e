"""The small POST forms of the client page's actions. They only check that
the value is one the service knows; whether the action is allowed from the
client's current state is the service's decision."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from clients.inputs import NewUser
from clients.models import AccessLevel, Client, ClientStatus, PostpayPermission
from clients.services import ASSIGNABLE_LEVELS
from users.models import Manager


class ClientStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=ClientStatus.choices)


class ClientPostpayForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (PostpayPermission.APPROVED, PostpayPermission.APPROVED.label),
            (PostpayPermission.DECLINED, PostpayPermission.DECLINED.label),
        ],
    )


class ClientManagerForm(forms.Form):
    """The client's responsible manager: one of its reseller's managers, or
    none. Which of them may be chosen (active ones) is the service's rule;
    the select offers only those."""

    manager = forms.ModelChoiceField(
        label=_("Manager"),
        queryset=Manager.objects.none(),
        required=False,
        empty_label=_("No manager"),
    )

    def __init__(self, *args, client: Client, offered: QuerySet[Manager], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["manager"]
        # Any manager of the client's reseller turns into a Manager (the service
        # says why an inactive one cannot be chosen); the select shows the active ones.
        field.queryset = Manager.objects.filter(reseller_id=client.reseller_id).select_related(
            "user"
        )
        field.widget.choices = [("", field.empty_label)] + [
            (manager.pk, str(manager)) for manager in offered
        ]
        self.initial.setdefault("manager", client.manager_id)


class ClientUserPickForm(forms.Form):
    """One user of the client, by ID, for the actions on a row of the users
    table (level, removal, ownership)."""

    user = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class ClientUserLevelForm(ClientUserPickForm):
    level = forms.ChoiceField(
        label=_("Access level"), choices=[(level.value, level.label) for level in ASSIGNABLE_LEVELS]
    )


class UserMode(models.TextChoices):
    EXISTING = "existing", _("Add an existing user")
    NEW = "new", _("Invite a new user")


class ClientUserAddForm(forms.Form):
    """The Add a user page: an access level and either an existing user
    (search by name or email, then choose) or a new user to invite."""

    prefix = "user"

    level = forms.ChoiceField(
        label=_("Access level"),
        choices=[(level.value, level.label) for level in ASSIGNABLE_LEVELS],
        initial=AccessLevel.USER,
    )
    mode = forms.ChoiceField(
        label="", choices=UserMode.choices, initial=UserMode.EXISTING, widget=forms.RadioSelect
    )
    query = forms.CharField(label=_("Search by name or email"), required=False, max_length=200)
    user = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    new_first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    new_last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    new_middle_name = forms.CharField(label=_("Middle name"), max_length=150, required=False)
    new_email = forms.CharField(label=_("Email"), max_length=254, required=False)

    # Service error keys → the field the message goes beside.
    ERROR_FIELDS = {
        "user": "query",
        "level": "level",
        "new_user.first_name": "new_first_name",
        "new_user.last_name": "new_last_name",
        "new_user.middle_name": "new_middle_name",
        "new_user.email": "new_email",
    }

    def enable_search(self, url: str) -> None:
        """Search as the operator types (htmx), into the results list."""
        self.fields["query"].widget.attrs.update(
            {
                "autocomplete": "off",
                "hx-get": url,
                "hx-trigger": "input changed delay:250ms, search",
                "hx-target": "#user-results",
                "hx-sync": "this:replace",
            }
        )

    def clean_query(self) -> str:
        return self.cleaned_data["query"].replace("\x00", "")

    def clean(self) -> dict:
        cleaned = super().clean()
        choosing = cleaned.get("mode") == UserMode.EXISTING
        if choosing and not cleaned.get("user") and "user" not in self.errors:
            self.add_error("query", _("Search by name or email and choose the user."))
        return cleaned

    def new_user(self) -> NewUser:
        data = self.cleaned_data
        return NewUser(
            first_name=data["new_first_name"].replace("\x00", ""),
            middle_name=data["new_middle_name"].replace("\x00", ""),
            last_name=data["new_last_name"].replace("\x00", ""),
            email=data["new_email"].replace("\x00", ""),
        )

    def add_service_errors(self, error: ValidationError) -> None:
        """Put the service's errors beside their fields (one about the whole
        request above the form)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, messages in error.message_dict.items():
            field = self.ERROR_FIELDS.get(key)
            for message in messages:
                self.add_error(field, message)
