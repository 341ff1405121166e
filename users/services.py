"""Writes about users and managers."""

from django.contrib.auth.models import Group
from django.db import transaction

from users.models import Manager
from users.roles import ROLE_GROUP_PREFIX, ROLE_PERMISSIONS, ensure_roles, role_group_name


@transaction.atomic
def manager_role_sync(*, manager: Manager) -> None:
    """Put the manager's user in the group of its role and in no other role
    group; call it when a manager is created or its role changes. Groups that
    are not role groups (given by hand in admin) are left alone."""
    name = role_group_name(manager.role)
    group = Group.objects.filter(name=name).first()
    if group is None and manager.role in ROLE_PERMISSIONS:
        ensure_roles()  # a database flushed after migrate (tests)
        group = Group.objects.get(name=name)
    user = manager.user
    stale = user.groups.filter(name__startswith=ROLE_GROUP_PREFIX)
    if group is not None:
        stale = stale.exclude(pk=group.pk)
    user.groups.remove(*stale)
    if group is not None:
        user.groups.add(group)


@transaction.atomic
def manager_create(**fields) -> Manager:
    """Create a manager and put its user in its role's group."""
    manager = Manager.objects.create(**fields)
    manager_role_sync(manager=manager)
    return manager
