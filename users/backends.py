"""Sign-in by email for the panel and Django admin."""

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from users.models import ManagerStatus


class EmailBackend(ModelBackend):
    """Django's model backend, with one extra rule: only active managers and
    staff (admins) may sign in. A client's own users set a password through
    their invitation, but this panel is not theirs."""

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        if user.is_staff:
            return True
        manager = getattr(user, "manager", None)
        return manager is not None and manager.status == ManagerStatus.ACTIVE


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The account django-axes counts failures for: the typed email, trimmed
    and lower-cased, so that "Petr@" and "petr@" share one count; whether the
    email exists plays no part."""
    source = credentials if credentials else getattr(request, "POST", {})
    return str(source.get("username") or "").strip().lower()[:254]
