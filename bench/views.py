"""The framework's floor: a signed-in page that runs no query of its own.

Behind the same middleware (session, authentication, CSRF, messages, …) and
the same ``manager_required`` gate as every panel page, it renders a
one-line template; what it costs is what any page costs before its own work.
Mounted only when the BENCH_URLS setting is on (bench/urls.py)."""

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.views.decorators.http import require_safe

from users.access import manager_required

FLOOR = engines["django"].from_string("<p>{{ manager }}: floor</p>\n")


@require_safe
@manager_required
def floor(request: HttpRequest) -> HttpResponse:
    """One line, no query beyond the session, the user and the manager."""
    return HttpResponse(FLOOR.render({"manager": request.manager}, request))
