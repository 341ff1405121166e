"""The owner's password-setup link: a token generator of its own.

Its own salt means a password-reset token never serves as an invitation and
back; its own timeout (``OWNER_INVITATION_TIMEOUT``) lets the invitation live
longer than a reset link. Like a reset token it hashes the user's password,
so it stops working as soon as a password is set: one use.
"""

import enum

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
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
