from django.contrib.auth.forms import SetPasswordForm


class OwnerPasswordForm(SetPasswordForm):
    """Django's set-password form (with AUTH_PASSWORD_VALIDATORS); the view
    hands the password to ``services.owner_password_set`` instead of ``save``."""
