"""Reads of the notifications app."""

import hashlib
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.http import urlsafe_base64_decode

from clients.models import AccessLevel, Client, ClientAccess, ClientStatus, TermsStatus
from notifications.models import (
    Channel,
    Delivery,
    EventHandler,
    InvitationUse,
    TemplateContent,
)
from notifications.tokens import (
    TokenState,
    owner_invitation_token_generator,
    terms_acceptance_token_read,
)
from users.models import Reseller, User


def handler_for_event(
    *, reseller: Reseller, event: str, channel: str = Channel.EMAIL
) -> EventHandler | None:
    """The reseller's handler of the event, or the nearest ancestor's when the
    reseller has none. A disabled handler is returned too: it stops the walk,
    so a sub-reseller can switch off what its parent sends."""
    seen: set[int] = set()
    current: Reseller | None = reseller
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        handler = (
            EventHandler.objects.select_related("template")
            .filter(reseller=current, event=event, channel=channel)
            .first()
        )
        if handler is not None:
            return handler
        current = current.parent
    return None


def client_owner(*, client: Client) -> User | None:
    access = (
        ClientAccess.objects.select_related("user")
        .filter(client=client, level=AccessLevel.OWNER)
        .first()
    )
    return access.user if access else None


def template_content_for_language(*, template_id: int, language: str) -> TemplateContent | None:
    """The template's text in the language, else in any language (Russian first)."""
    contents = {c.language: c for c in TemplateContent.objects.filter(template_id=template_id)}
    for code in (language, "ru", "en"):
        if code in contents:
            return contents[code]
    return next(iter(contents.values()), None)


def token_digest(token: str) -> str:
    """How a used token is remembered: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def delivery_list_for_client(*, client: Client) -> QuerySet[Delivery]:
    """The client's notifications, newest first, with their attempts prefetched
    (``delivery.attempt_log.all``)."""
    return (
        Delivery.objects.filter(client=client)
        .select_related("template")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class InvitationCheck:
    """What a password-setup link is worth: ``state`` is valid, used, expired
    or invalid; ``user`` is set when the link names an existing active user."""

    state: str
    user: User | None


def invitation_check(*, uidb64: str, token: str) -> InvitationCheck:
    """Check a password-setup link without changing anything. A token whose
    digest was recorded when it set a password reads as used; one that no
    longer matches for another reason (tampered, or made before a later
    password change) as invalid."""
    try:
        user = User.objects.filter(pk=int(urlsafe_base64_decode(uidb64).decode())).first()
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        user = None
    if user is None or not user.is_active:
        return InvitationCheck(state="invalid", user=None)
    state = owner_invitation_token_generator.token_state(user=user, token=token)
    if state is TokenState.VALID:
        return InvitationCheck(state="valid", user=user)
    if InvitationUse.objects.filter(user=user, token_digest=token_digest(token)).exists():
        return InvitationCheck(state="used", user=user)
    return InvitationCheck(state=state.value, user=user)


@dataclass(frozen=True)
class TermsCheck:
    """What a terms-acceptance link is worth: ``state`` is valid, accepted
    (the terms were accepted already), expired or invalid (altered, or its
    user is no longer the client's owner, or nothing waits to be accepted);
    ``client`` and ``user`` are set when valid or accepted."""

    state: str
    client: Client | None = None
    user: User | None = None


def terms_acceptance_check(*, token: str) -> TermsCheck:
    """Check a terms-acceptance link without changing anything."""
    state, client_id, user_id = terms_acceptance_token_read(token)
    if state is TokenState.INVALID:
        return TermsCheck(state="invalid")
    client = (
        Client.objects.select_related("reseller")
        .filter(pk=client_id)
        .exclude(status=ClientStatus.DELETED)
        .first()
    )
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if client is None or user is None:
        return TermsCheck(state="invalid")
    if client.terms_status == TermsStatus.ACCEPTED:
        return TermsCheck(state="accepted", client=client, user=user)
    is_owner = ClientAccess.objects.filter(
        client=client, user=user, level=AccessLevel.OWNER
    ).exists()
    if client.terms_status != TermsStatus.PENDING or not is_owner:
        return TermsCheck(state="invalid")
    if state is TokenState.EXPIRED:
        return TermsCheck(state="expired")
    return TermsCheck(state="valid", client=client, user=user)
