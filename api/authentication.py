"""``X-Api-Token``: the manager's token decides who acts, with which role
and over which resellers; failures and requests are counted in the database
so that every web process shares the limits."""

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from api.services import api_token_use, rate_count

HEADER = "HTTP_X_API_TOKEN"


def _refuse(request, error: exceptions.APIException):
    """Count a failed authentication against the address; past the limit
    the answer is 429 instead of 401, whatever the token."""
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    count = rate_count(key=f"api-auth-fail:{address}", window=settings.API_AUTH_FAILURE_WINDOW)
    if count.count > settings.API_AUTH_FAILURE_LIMIT:
        raise exceptions.Throttled(wait=count.retry_after)
    raise error


class ApiTokenAuthentication(BaseAuthentication):
    """The request's manager from its ``X-Api-Token``: ``request.user`` is
    the manager's user (its role's permissions apply), ``request.auth`` the
    token, with ``.manager``."""

    def authenticate(self, request):
        secret = request.META.get(HEADER, "").strip()
        if not secret:
            _refuse(request, exceptions.NotAuthenticated())
        token = api_token_use(secret=secret)
        if token is None:
            _refuse(request, exceptions.AuthenticationFailed())
        count = rate_count(key=f"api-token:{token.pk}", window=settings.API_TOKEN_RATE_WINDOW)
        if count.count > settings.API_TOKEN_RATE_LIMIT:
            raise exceptions.Throttled(wait=count.retry_after)
        return token.manager.user, token

    def authenticate_header(self, request) -> str:
        return 'X-Api-Token realm="api"'
