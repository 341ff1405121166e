"""The links of the emails: the owner's password-setup link, with a token
generator of its own, and the owner's terms-acceptance link.

Its own salt means a password-reset token never serves as an invitation and
back; its own timeout (``OWNER_INVITATION_TIMEOUT``) lets the invitation live
longer than a reset link. Like a reset token it hashes the user's password,
so it stops working as soon as a password is set: one use.
"""

import enum

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class TokenState(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


class OwnerInvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "notifications.tokens.OwnerInvitationTokenGenerator"

    def check_token(self, user, token) -> bool:
        return self.token_state(user=user, token=token) is TokenState.VALID

    def token_state(self, *, user, token: str | None) -> TokenState:
        """Like ``check_token`` but tells an expired token from a bad one, so
        the page can say which."""
        if not (user and token):
            return TokenState.INVALID
        try:
            ts_b36, _hash = token.split("-")
            timestamp = base36_to_int(ts_b36)
        except ValueError:
            return TokenState.INVALID
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(
                self._make_token_with_timestamp(user, timestamp, secret), token
            ):
                break
        else:
            return TokenState.INVALID
        if self._num_seconds(self._now()) - timestamp > settings.OWNER_INVITATION_TIMEOUT:
            return TokenState.EXPIRED
        return TokenState.VALID


owner_invitation_token_generator = OwnerInvitationTokenGenerator()


# --- the owner's acceptance of the terms ---------------------------------------------

TERMS_SALT = "notifications.tokens.terms_acceptance"


def terms_acceptance_token(*, client_id: int, user_id: int) -> str:
    """A signed, timestamped token naming a client and its owner, for the
    link that lets an owner who has a password accept the client's terms.
    It serves once: after the acceptance the page says so (the client's terms
    are no longer waiting), and it names the owner, so after a transfer of
    ownership it no longer works for the old one."""
    return signing.dumps({"client": client_id, "user": user_id}, salt=TERMS_SALT)


def terms_acceptance_token_read(token: str) -> tuple[TokenState, int | None, int | None]:
    """The token's state and the client and user IDs it names (None, None
    when it is not valid; an expired one still names them)."""
    try:
        payload = signing.loads(token, salt=TERMS_SALT, max_age=settings.OWNER_INVITATION_TIMEOUT)
        state = TokenState.VALID
    except signing.SignatureExpired:
        payload = signing.loads(token, salt=TERMS_SALT)
        state = TokenState.EXPIRED
    except signing.BadSignature:
        return TokenState.INVALID, None, None
    if not isinstance(payload, dict):
        return TokenState.INVALID, None, None
    client_id, user_id = payload.get("client"), payload.get("user")
    if not isinstance(client_id, int) or not isinstance(user_id, int):
        return TokenState.INVALID, None, None
    return state, client_id, user_id
