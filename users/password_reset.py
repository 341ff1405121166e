"""Sending the "forgot password" link, run by the task that
``users.services.password_reset_request`` queued (``users.tasks``): to the
panel user with the typed email, if there is one and no link went to the
account lately. Imports run one way: services → tasks → this module."""

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from users.forms import PanelPasswordResetForm
from users.models import User


def _password_reset_claim(*, user: User, now: dt.datetime) -> bool:
    """Mark the user as sent a reset link now, unless one went less than
    PASSWORD_RESET_MIN_INTERVAL ago; one conditional UPDATE, so of two
    workers sending to the same account only one wins."""
    due = Q(password_reset_sent_at__isnull=True) | Q(
        password_reset_sent_at__lte=now - dt.timedelta(seconds=settings.PASSWORD_RESET_MIN_INTERVAL)
    )
    return bool(User.objects.filter(due, pk=user.pk).update(password_reset_sent_at=now))


def password_reset_send(*, email: str, domain: str, use_https: bool) -> int:
    """Send the password-reset link to the panel user (an active manager or
    an admin with a password) with this email, if there is one and the
    account was not sent a link in the last PASSWORD_RESET_MIN_INTERVAL
    seconds, whatever spelling of the email asked. Run by the task that
    ``users.services.password_reset_request`` queued; returns how many emails were sent."""
    form = PanelPasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    now = timezone.now()
    form.recipients = {
        user.pk
        for user in form.get_users(form.cleaned_data["email"])
        if _password_reset_claim(user=user, now=now)
    }
    if not form.recipients:
        return 0
    form.save(
        domain_override=domain,
        use_https=use_https,
        subject_template_name="users/password_reset_subject.txt",
        email_template_name="users/password_reset_email.txt",
    )
    return len(form.recipients)
