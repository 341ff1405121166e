"""The small POST forms of the client page's actions. They only check that
the value is one the service knows; whether the action is allowed from the
client's current state is the service's decision."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.models import ClientStatus, PostpayPermission


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
