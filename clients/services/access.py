"""After creation: the client's manager, its users and their access levels,
the ownership, the owner's own acceptance of the terms and welcome."""

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients import selectors
from clients.inputs import NewUser
from clients.models import AccessLevel, Client, ClientAccess, EventType, TermsStatus
from clients.search import search_text
from clients.services.checks import (
    _check_new_user,
    _Errors,
    _manager_problem,
    new_user_email_problem,
)
from clients.services.events import _name, client_event_record
from clients.services.lifecycle import _check_actor, _lock_client, _mark_changed, _refuse_if_deleted
from notifications.services import owner_password_set
from users.models import Manager, User
from users.selectors import user_may_own_clients

# The levels a manager gives or changes by hand; the Owner changes only by a
# transfer (client_ownership_transfer), so that there is always exactly one.
ASSIGNABLE_LEVELS = (AccessLevel.ADMIN, AccessLevel.FINANCE_MANAGER, AccessLevel.USER)


def _apply_manager(
    client: Client, *, manager: Manager | None, actor: Manager, now: dt.datetime
) -> None:
    old = client.manager
    client.manager = manager
    client_event_record(
        client=client,
        event_type=EventType.MANAGER_CHANGED,
        data={
            "old_manager_id": old.pk if old else None,
            "old_manager": str(old) if old else None,
            "new_manager_id": manager.pk if manager else None,
            "new_manager": str(manager) if manager else None,
            "actor": _name(actor.user),
        },
        actor=actor.user,
        visible_to_client=True,
        created_at=now,
    )


def client_set_manager(*, actor: Manager, client: Client, manager: Manager | None) -> Client:
    """Give the client another responsible manager, an active one of the
    client's reseller, or none; logged (visible to the client) and announced
    as ``client.manager_changed``, in one transaction under the client's row
    lock. Setting the manager the client already has changes and logs
    nothing (a repeated submit). Returns the client as saved."""
    _check_actor(actor=actor, client=client)
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        problem = _manager_problem(manager, reseller_id=locked.reseller_id)
        if problem is not None:
            raise ValidationError({"manager": [problem]})
        if locked.manager_id != (manager.pk if manager else None):
            now = timezone.now()
            locked.manager = (
                Manager.objects.select_related("user").get(pk=locked.manager_id)
                if locked.manager_id
                else None
            )
            _apply_manager(locked, manager=manager, actor=actor, now=now)
            locked.save(update_fields=["manager", *_mark_changed(locked, actor=actor, now=now)])
    client.manager = locked.manager
    client.version = locked.version
    return locked


def _client_user_problem(*, client: Client, user: User) -> ValidationError | None:
    """Why this existing user cannot be given access to the client: the
    client's reseller must reach them (as an owner at creation), and the
    panel's own people are nobody's users (``user_may_own_clients``)."""
    reachable = selectors.user_list_reachable(reseller=client.reseller)
    if not reachable.filter(pk=user.pk).exists():
        return ValidationError(_("Select a user of your reseller's clients."), code="unreachable")
    if not user_may_own_clients(user=user):
        return ValidationError(
            _(
                "Staff, administrators and panel managers cannot be a client's users: "
                "select another user or invite a new one."
            ),
            code="panel_person",
        )
    return None


def _level_problem(level: str) -> ValidationError | None:
    if level in ASSIGNABLE_LEVELS:
        return None
    if level == AccessLevel.OWNER:
        return ValidationError(
            _("The owner changes only by a transfer of ownership."), code="owner_level"
        )
    return ValidationError(_("Choose Admin, Finance manager or User."), code="invalid_level")


def _grant(
    *, client: Client, user: User, level: str, actor: Manager, invited: bool
) -> ClientAccess:
    now = timezone.now()
    access = ClientAccess.objects.create(client=client, user=user, level=level, created_at=now)
    client_event_record(
        client=client,
        event_type=EventType.USER_ADDED,
        data={
            "user_id": user.pk,
            "user": _name(user),
            "level": level,
            "invited": invited,
            "actor": _name(actor.user),
        },
        actor=actor.user,
        visible_to_client=True,
        recipients=[user],
        created_at=now,
    )
    return access


def _already_has_access(access: ClientAccess, *, field: str) -> ValidationError:
    return ValidationError(
        {
            field: [
                ValidationError(
                    _(
                        "%(user)s already has access to this client as %(level)s; "
                        "change the level in the list of users instead."
                    ),
                    code="has_access",
                    params={"user": _name(access.user), "level": access.get_level_display()},
                )
            ]
        }
    )


def client_access_add(
    *, actor: Manager, client: Client, user: User, level: str
) -> tuple[ClientAccess, bool]:
    """Give an existing user access to the client at a level (Admin, Finance
    manager or User). The user must be one the actor reaches, as for the
    owner picker, and no staff, administrator or panel manager. Logged
    (visible to the client) and announced as ``client.user_added`` to the
    user. Returns the access and whether it was made: a repeated submit
    finds the same access at the same level and adds nothing; another level
    is an error that points to changing the level."""
    _check_actor(actor=actor, client=client)
    problem = _level_problem(level)
    if problem is not None:
        raise ValidationError({"level": [problem]})
    problem = _client_user_problem(client=client, user=user)
    if problem is not None:
        raise ValidationError({"user": [problem]})
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        existing = ClientAccess.objects.select_related("user").filter(client=locked, user=user)
        existing = existing.first()
        if existing is not None:
            if existing.level == level:
                return existing, False
            raise _already_has_access(existing, field="user")
        return _grant(client=locked, user=user, level=level, actor=actor, invited=False), True


def client_user_invite(
    *, actor: Manager, client: Client, new_user: NewUser, level: str
) -> tuple[ClientAccess, bool]:
    """Create a new user and give them access to the client at a level, in
    one transaction; the ``client.user_added`` email to them carries the
    password-setup link, as a new owner's does. The name and email are
    checked as a new owner's are (required, the email valid with an ASCII
    local part, nobody's yet in any letter case). Returns the access and
    whether it was made: a repeated submit of the same invitation finds the
    user it made, with this access, and makes nothing."""
    _check_actor(actor=actor, client=client)
    errors = _Errors()
    problem = _level_problem(level)
    if problem is not None:
        errors.add("level", problem)
    new_user = _check_new_user(errors, new_user, prefix="new_user.")
    if errors.by_key and new_user.email:
        # Reported with the other errors in one round; otherwise checked under
        # the client's lock below, where a repeated submit is recognised.
        problem = new_user_email_problem(
            actor=actor, reseller=client.reseller, email=new_user.email, as_owner=False
        )
        if problem is not None:
            errors.add("new_user.email", problem)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            locked = _lock_client(client)
            _refuse_if_deleted(locked)
            existing = User.objects.filter(email__iexact=new_user.email).first()
            if existing is not None:
                access = (
                    ClientAccess.objects.select_related("user")
                    .filter(client=locked, user=existing)
                    .first()
                )
                if access is not None and access.level == level:
                    return access, False
                if access is not None:
                    raise _already_has_access(access, field="new_user.email")
                raise ValidationError({"new_user.email": [_email_taken(client, new_user.email)]})
            user = User.objects.create_user(
                email=new_user.email,
                password=None,
                first_name=new_user.first_name,
                middle_name=new_user.middle_name,
                last_name=new_user.last_name,
            )
            return _grant(client=locked, user=user, level=level, actor=actor, invited=True), True
    except IntegrityError:
        # The same email made a user elsewhere at this moment.
        existing = User.objects.filter(email__iexact=new_user.email).first()
        if existing is None:
            raise
        raise ValidationError({"new_user.email": [_email_taken(client, new_user.email)]}) from None


def _email_taken(client: Client, email: str) -> ValidationError:
    return selectors.new_owner_email_problem(
        reseller=client.reseller, email=email, as_owner=False
    ) or ValidationError(_("A user with this email already exists."), code="email_taken")


def _locked_access(client: Client, user: User) -> ClientAccess | None:
    return (
        ClientAccess.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(client=client, user=user)
        .first()
    )


def _no_access(user: User) -> ValidationError:
    return ValidationError(
        {
            "user": [
                ValidationError(
                    _("%(user)s has no access to this client."),
                    code="no_access",
                    params={"user": _name(user)},
                )
            ]
        }
    )


def client_access_set_level(
    *, actor: Manager, client: Client, user: User, level: str
) -> tuple[ClientAccess, bool]:
    """Change a user's access level among Admin, Finance manager and User,
    logged (visible to the client) and announced as
    ``client.user_level_changed`` to the user. The owner's level does not
    change here: ownership moves only by ``client_ownership_transfer``.
    Returns the access and whether it changed (a repeated submit does not)."""
    _check_actor(actor=actor, client=client)
    problem = _level_problem(level)
    if problem is not None:
        raise ValidationError({"level": [problem]})
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        access = _locked_access(locked, user)
        if access is None:
            raise _no_access(user)
        if access.level == AccessLevel.OWNER:
            raise ValidationError(
                {
                    "level": [
                        ValidationError(
                            _(
                                "The owner's level cannot be changed: transfer the ownership "
                                "to another user first."
                            ),
                            code="owner_level",
                        )
                    ]
                }
            )
        if access.level == level:
            return access, False
        old_level = access.level
        access.level = level
        access.save(update_fields=["level"])
        client_event_record(
            client=locked,
            event_type=EventType.USER_LEVEL_CHANGED,
            data={
                "user_id": user.pk,
                "user": _name(access.user),
                "old_level": old_level,
                "new_level": level,
                "actor": _name(actor.user),
            },
            actor=actor.user,
            visible_to_client=True,
            recipients=[access.user],
        )
    return access, True


def client_access_remove(*, actor: Manager, client: Client, user: User) -> bool:
    """Take a user's access to the client away (the user stays), logged
    (visible to the client) and announced as ``client.user_removed`` to the
    user. The owner cannot be removed: transfer the ownership first. Returns
    whether an access was removed; a repeated submit finds none and does
    nothing."""
    _check_actor(actor=actor, client=client)
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        access = _locked_access(locked, user)
        if access is None:
            return False
        if access.level == AccessLevel.OWNER:
            raise ValidationError(
                {
                    "user": [
                        ValidationError(
                            _(
                                "The owner cannot be removed: transfer the ownership to "
                                "another user first."
                            ),
                            code="owner_removal",
                        )
                    ]
                }
            )
        level = access.level
        access.delete()
        client_event_record(
            client=locked,
            event_type=EventType.USER_REMOVED,
            data={
                "user_id": user.pk,
                "user": _name(user),
                "level": level,
                "actor": _name(actor.user),
            },
            actor=actor.user,
            visible_to_client=True,
            recipients=[user],
        )
    return True


def client_ownership_transfer(*, actor: Manager, client: Client, user: User) -> bool:
    """Make another user of the client its owner in one step: the old owner
    becomes an Admin. Logged (visible to the client) and announced as
    ``client.ownership_transferred`` to both. The client's row is locked
    first, so transfers at the same moment happen one after the other on
    fresh data and the database's one-owner index always holds. The new
    owner must already be a user of the client, active, and no panel
    person. Returns whether the owner changed: transferring to the owner
    changes nothing (a repeated submit)."""
    _check_actor(actor=actor, client=client)
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        # The users too: the new owner's email goes into the search text, and
        # an email changed in Django admin meanwhile is waited for.
        accesses = list(
            ClientAccess.objects.select_for_update(of=("self", "user"))
            .select_related("user")
            .filter(client=locked)
        )
        target = next((access for access in accesses if access.user_id == user.pk), None)
        if target is None:
            raise ValidationError(
                {
                    "user": [
                        ValidationError(
                            _("%(user)s is not a user of this client: add them first."),
                            code="no_access",
                            params={"user": _name(user)},
                        )
                    ]
                }
            )
        if target.level == AccessLevel.OWNER:
            return False
        if not target.user.is_active or not user_may_own_clients(user=target.user):
            raise ValidationError(
                {
                    "user": [
                        ValidationError(
                            _("%(user)s cannot own a client."),
                            code="cannot_own",
                            params={"user": _name(target.user)},
                        )
                    ]
                }
            )
        old = next((access for access in accesses if access.level == AccessLevel.OWNER), None)
        # The old owner steps down first: the one-owner index is checked per row.
        if old is not None:
            old.level = AccessLevel.ADMIN
            old.save(update_fields=["level"])
        old_level = target.level
        target.level = AccessLevel.OWNER
        target.save(update_fields=["level"])
        locked.search_text = search_text(
            name=locked.name, phone=locked.phone, owner_email=target.user.email
        )
        locked.save(update_fields=["search_text"])
        client_event_record(
            client=locked,
            event_type=EventType.OWNERSHIP_TRANSFERRED,
            data={
                "old_owner_id": old.user_id if old else None,
                "old_owner": _name(old.user) if old else None,
                "new_owner_id": target.user_id,
                "new_owner": _name(target.user),
                "new_owner_old_level": old_level,
                "actor": _name(actor.user),
            },
            actor=actor.user,
            visible_to_client=True,
            recipients=[target.user, *([old.user] if old else [])],
        )
    return True


def client_terms_accept_by_owner(*, client: Client, user: User, address: str | None) -> bool:
    """Record that the client's owner accepted the reseller's terms
    themselves (on the password-setup page or through the one-use link of an
    email): the owner, the time and the address, with an event-log entry the
    client sees (the operator's acceptance stays hidden from the client).
    Only the client's current owner accepts, and only terms that wait for
    them. Returns whether it was recorded now: terms accepted already (a
    second click of the link) record nothing."""
    with transaction.atomic():
        locked = _lock_client(client)
        if locked.terms_status == TermsStatus.ACCEPTED:
            return False
        if locked.terms_status != TermsStatus.PENDING:
            raise ValidationError(_("This client has no terms to accept."), code="no_terms")
        is_owner = ClientAccess.objects.filter(
            client=locked, user=user, level=AccessLevel.OWNER
        ).exists()
        if not is_owner:
            raise ValidationError(_("Only the client's owner accepts its terms."), code="not_owner")
        now = timezone.now()
        locked.terms_status = TermsStatus.ACCEPTED
        locked.terms_accepted_at = now
        locked.terms_accepted_by = None
        locked.terms_accepted_by_owner = user
        locked.terms_accepted_from = address or None
        locked.save(
            update_fields=[
                "terms_status",
                "terms_accepted_at",
                "terms_accepted_by",
                "terms_accepted_by_owner",
                "terms_accepted_from",
            ]
        )
        client_event_record(
            client=locked,
            event_type=EventType.TERMS_ACCEPTED,
            data={
                "owner_id": user.pk,
                "owner": _name(user),
                "terms_url": locked.reseller.terms_url,
                "address": address or "",
            },
            actor=user,
            visible_to_client=True,
            created_at=now,
        )
    client.terms_status = locked.terms_status
    client.terms_accepted_at = locked.terms_accepted_at
    return True


def client_owner_welcome(
    *,
    user: User,
    token: str,
    password: str,
    accept_terms_of: Sequence[Client] = (),
    address: str | None = None,
) -> User:
    """The password-setup page's submit: set the user's password through
    the one-use link (``notifications.services.owner_password_set``) and
    record the owner's acceptance of the terms of ``accept_terms_of``, in one
    transaction: both happen or neither."""
    with transaction.atomic():
        user = owner_password_set(user=user, token=token, password=password)
        for client in accept_terms_of:
            try:
                client_terms_accept_by_owner(client=client, user=user, address=address)
            except ValidationError:
                # The ownership moved since the page was shown: nothing of
                # this user's to accept any more, and the password still counts.
                continue
    return user
