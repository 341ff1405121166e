"""The gate of every panel page: a signed-in, active manager."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from users.roles import perm
from users.selectors import manager_for_user


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let the view run only for a signed-in active manager, available as
    ``request.manager``. A user who is signed in but is no (longer an) active
    manager is signed out and sent to the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        manager = manager_for_user(user=request.user)
        if manager is None:
            # The backend already treats a deactivated manager as anonymous;
            # flush the session too so the stale sign-in cannot come back.
            if SESSION_KEY in request.session:
                logout(request)
            return redirect_to_login(request.get_full_path())
        request.manager = manager
        return view(request, *args, **kwargs)

    return wrapper


def manager_permission_required(
    codename: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """``manager_required`` plus one of the panel's permissions (users.roles):
    a manager whose role lacks it gets 403 Forbidden."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def check(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(perm(codename)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return manager_required(check)

    return decorator
