"""What each manager role may do: the panel's custom permissions and the
role → permission map, in one place.

The permissions live on the ``clients.Client`` content type (``clients.<codename>``
in ``user.has_perm``); each role is a Django group named after it. Both are
created, idempotently, after every ``migrate`` (``users.apps``), as Django
creates its default permissions; a manager's user is kept in its role's group
by ``users.services.manager_role_sync``. Viewing the list and the client page
needs no permission: every active manager sees the reseller's clients.

| permission               | sales | marketing | product owner | sysadmin |
|--------------------------|:-----:|:---------:|:-------------:|:--------:|
| create clients           |   ✓   |           |       ✓       |    ✓     |
| edit a client's details  |   ✓   |           |       ✓       |    ✓     |
| change a client's manager|   ✓   |           |       ✓       |    ✓     |
| manage a client's users  |   ✓   |           |       ✓       |    ✓     |
| transfer ownership       |       |           |       ✓       |    ✓     |
| change a client's status |   ✓   |           |       ✓       |    ✓     |
| decide postpay           |       |           |       ✓       |    ✓     |
| export the list (CSV)    |   ✓   |     ✓     |       ✓       |    ✓     |

Whoever may create a client may correct it, give it another manager and
manage its users (the Add client page sets all of those); handing the
client's account to another person is the product owner's decision.
"""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from users.models import ManagerRole

PERMISSION_APP_LABEL = "clients"
PERMISSION_MODEL = "client"

CREATE_CLIENT = "create_client"
# Not "change_client": Django's own default permission of the Client model.
EDIT_CLIENT = "edit_client_details"
CHANGE_MANAGER = "change_client_manager"
MANAGE_USERS = "manage_client_users"
TRANSFER_OWNERSHIP = "transfer_client_ownership"
CHANGE_STATUS = "change_client_status"
DECIDE_POSTPAY = "decide_client_postpay"
EXPORT_CLIENTS = "export_clients"

# codename → name (Django's permission names are short English sentences).
PERMISSIONS: dict[str, str] = {
    CREATE_CLIENT: "Can create clients in the panel",
    EDIT_CLIENT: "Can edit a client's details in the panel",
    CHANGE_MANAGER: "Can change a client's manager in the panel",
    MANAGE_USERS: "Can add and remove a client's users and change their access levels",
    TRANSFER_OWNERSHIP: "Can transfer a client's ownership to another of its users",
    CHANGE_STATUS: "Can change a client's status in the panel",
    DECIDE_POSTPAY: "Can decide a client's postpay permission in the panel",
    EXPORT_CLIENTS: "Can export the client list",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    ManagerRole.SALES: frozenset(
        {CREATE_CLIENT, EDIT_CLIENT, CHANGE_MANAGER, MANAGE_USERS, CHANGE_STATUS, EXPORT_CLIENTS}
    ),
    ManagerRole.MARKETING: frozenset({EXPORT_CLIENTS}),
    ManagerRole.PRODUCT_OWNER: frozenset(
        {
            CREATE_CLIENT,
            EDIT_CLIENT,
            CHANGE_MANAGER,
            MANAGE_USERS,
            TRANSFER_OWNERSHIP,
            CHANGE_STATUS,
            DECIDE_POSTPAY,
            EXPORT_CLIENTS,
        }
    ),
    ManagerRole.SYSTEM_ADMINISTRATOR: frozenset(PERMISSIONS),
}

ROLE_GROUP_PREFIX = "Role: "


def perm(codename: str) -> str:
    """The name ``has_perm`` takes: ``clients.create_client``."""
    return f"{PERMISSION_APP_LABEL}.{codename}"


def role_group_name(role: str) -> str:
    """The group of a role, e.g. "Role: sales" (the key: it never changes)."""
    return f"{ROLE_GROUP_PREFIX}{role}"


ROLE_LABELS = {role.value: role.label for role in ManagerRole}
GROUP_HELP = _("Managers of this role; kept in step with each manager's role.")


def ensure_roles(**kwargs) -> None:
    """post_migrate: create the permissions and one group per role with
    exactly the role's permissions. Safe to run any number of times."""
    # Named by its natural key, as has_perm names it ("clients.create_client"),
    # so the users app does not import clients; created here because users'
    # post_migrate runs before the one that creates the clients app's types.
    content_type, _created = ContentType.objects.get_or_create(
        app_label=PERMISSION_APP_LABEL, model=PERMISSION_MODEL
    )
    permissions = {}
    for codename, name in PERMISSIONS.items():
        permission, _created = Permission.objects.update_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        permissions[codename] = permission
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role_group_name(role))
        group.permissions.set([permissions[codename] for codename in sorted(codenames)])
