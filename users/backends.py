"""Sign-in by email for the panel and Django admin."""

import unicodedata

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from users.models import ManagerStatus, User


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


def login_key(email: str) -> str:
    """One folded form of a typed email, for counting: sign-in failures
    (django-axes) and "forgot password" requests. Compatibility forms are
    decomposed (NFKD), accents and other combining marks dropped, and the
    text upper- then lower-cased, so that the letters Python's and
    PostgreSQL's case rules treat differently fold alike: "ſasha" (long s),
    "sasha.ıvanov" (dotless i), "ＳＡＳＨＡ" (full width) and "Sasha" all count
    as "sasha". It only ever joins counts, so folding too much costs nothing."""
    decomposed = unicodedata.normalize("NFKD", email.strip())
    bare = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return bare.upper().lower()[:254]


def user_for_login(email: str) -> User | None:
    """The user a sign-in with this email is checked against: the same
    look-up the backend makes (``UserManager.get_by_natural_key``)."""
    if "\x00" in email:
        return None  # no stored email has one, and PostgreSQL refuses it in a query
    try:
        return User._default_manager.get_by_natural_key(email)
    except User.DoesNotExist:
        return None


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The account django-axes counts failures for and locks: the account the
    typed email signs in to, by its stored email; an email that reaches no
    account by its own folded form. Both go through ``login_key``, so "Petr@"
    and "petr@" share one count, and a look-alike spelling ("ſasha@" for
    "sasha@") counts toward, and is locked with, the account it imitates,
    whether or not the look-up would take it there. Known and unknown emails
    cost the same: one look-up each."""
    source = credentials if credentials else getattr(request, "POST", {})
    typed = str(source.get("username") or "")[:254]
    user = user_for_login(typed)
    return login_key(user.email if user is not None else typed)
