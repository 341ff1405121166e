"""The gate of every panel page: a signed-in, active manager."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

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
