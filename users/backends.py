"""Sign-in by email for the panel and Django admin."""

from django.contrib.auth.backends import ModelBackend

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
