"""Tasks of the users app, run by ``manage.py db_worker``."""

from django.tasks import task

from users.forms import PanelPasswordResetForm


@task()
def send_password_reset(*, email: str, domain: str, use_https: bool) -> int:
    """Send the password-reset link to the panel user with this email, if
    there is one; the request page queued this without looking. Returns how
    many emails were sent (0 or 1)."""
    form = PanelPasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    form.save(
        domain_override=domain,
        use_https=use_https,
        subject_template_name="users/password_reset_subject.txt",
        email_template_name="users/password_reset_email.txt",
    )
    return len(users)
