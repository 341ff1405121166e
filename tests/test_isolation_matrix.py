"""Isolation matrix: every named panel URL is listed here, and each one that
takes an object answers 404 to another reseller's manager.

The test walks Django's URL resolver: a new named URL that is not added to
MATRIX fails ``test_every_named_panel_url_is_in_the_matrix``.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clients.models import AccessLevel, ClientAccess, ClientStatus, PostpayPermission
from tests.conftest import make_client, make_manager, make_user
from users.models import ManagerRole, PostpayMode, Reseller, User

# Namespaces and names outside the panel's own pages.
# api_v3: the reseller API, whose reach is tested in tests/api/test_scoping.py.
EXCLUDED_NAMESPACES = {"admin", "bench", "api_v3"}
EXCLUDED_NAMES = {"set_language", "javascript-catalog"}

# name → how it is reached: "client" (takes a client ID: another reseller's
# manager gets 404, for each listed method and query), "scoped" (no object in
# the URL; the answer holds only the manager's reseller's data: covered by
# tests/clients/test_client_isolation.py and test_hostile_input.py), "public"
# (sign-in, password reset, the owner's password setup: no reseller data),
# "token" (a signed one-time link: another's token is refused, tests/users and
# tests/notifications).
# Stand-ins in a request for users of the target client, put in by the test:
# its second user (an Admin) and a user of another of its reseller's clients.
SECOND = "__second__"
OTHER = "__other__"

MATRIX: dict[str, tuple[str, list[tuple[str, str, dict]]]] = {
    "home": ("scoped", []),
    "login": ("public", []),
    "logout": ("public", []),
    "password_change": ("scoped", []),
    "password_change_done": ("scoped", []),
    "password_reset": ("public", []),
    "password_reset_done": ("public", []),
    "password_reset_confirm": ("token", []),
    "password_reset_complete": ("public", []),
    "clients:list": ("scoped", []),
    "clients:export": ("scoped", []),
    "clients:create": ("scoped", []),
    "clients:create_type": ("scoped", []),
    "clients:owner_search": ("scoped", []),
    "clients:autofill_suggest": ("scoped", []),
    "clients:detail": ("client", [("get", "", {}), ("get", "?events_page=2", {})]),
    "clients:status": (
        "client",
        [
            ("get", f"?status={ClientStatus.ADMINISTRATIVE_HOLD}", {}),
            ("post", "", {"status": ClientStatus.ADMINISTRATIVE_HOLD}),
            ("post", "", {"status": ClientStatus.DELETED}),
        ],
    ),
    "clients:postpay": (
        "client",
        [
            ("get", f"?decision={PostpayPermission.APPROVED}", {}),
            ("post", "", {"decision": PostpayPermission.APPROVED}),
        ],
    ),
    "clients:manager": ("client", [("get", "", {}), ("post", "", {"manager": ""})]),
    "clients:edit": (
        "client",
        [
            ("get", "", {}),
            ("post", "", {"version": "1", "contacts-city": "Тверь", "contacts-country": "RU"}),
        ],
    ),
    "clients:edit_type": ("client", [("post", "", {"client_info-client_type": ""})]),
    "clients:user_add": (
        "client",
        [
            ("get", "", {}),
            ("post", "", {"user-level": "admin", "user-mode": "existing", "user-user": OTHER}),
            (
                "post",
                "",
                {
                    "user-level": "user",
                    "user-mode": "new",
                    "user-new_first_name": "Анна",
                    "user-new_last_name": "Новикова",
                    "user-new_email": "isolation-invite@example.com",
                },
            ),
        ],
    ),
    "clients:user_search": ("client", [("get", "?user-query=Фамилия", {})]),
    "clients:user_level": ("client", [("post", "", {"user": SECOND, "level": "user"})]),
    "clients:user_remove": (
        "client",
        [("get", f"?user={SECOND}", {}), ("post", "", {"user": SECOND})],
    ),
    "clients:ownership_transfer": (
        "client",
        [("get", f"?user={SECOND}", {}), ("post", "", {"user": SECOND})],
    ),
    "welcome:password_setup": ("token", []),
    "welcome:password_setup_done": ("public", []),
    "welcome:terms_accept": ("token", []),
    "welcome:terms_accept_done": ("public", []),
    # Each manager's own tokens; another's token answers 404 (tests/api/test_tokens.py).
    "api_tokens:list": ("scoped", []),
    "api_tokens:revoke": ("scoped", []),
}


def named_panel_urls() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in EXCLUDED_NAMESPACES:
                    continue
                inner = pattern.namespace or namespace
                if namespace and pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}"
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                if pattern.name in EXCLUDED_NAMES:
                    continue
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_named_panel_url_is_in_the_matrix():
    missing = named_panel_urls() - set(MATRIX)
    assert not missing, f"add these URLs to the isolation matrix: {sorted(missing)}"


def test_the_walk_finds_the_panel_urls():
    names = named_panel_urls()
    assert {"clients:detail", "clients:list", "login"} <= names
    assert not any(name.startswith("admin:") for name in names)


CLIENT_URLS = [name for name, (kind, _) in MATRIX.items() if kind == "client"]


@pytest.fixture
def sibling(root_reseller):
    """A third reseller, beside Пётр's, with a system administrator (every
    permission: a 404 must come from the scoping, not from a 403)."""
    reseller = Reseller.objects.create(name="Сосед", parent=root_reseller)
    return make_manager(reseller=reseller, role=ManagerRole.SYSTEM_ADMINISTRATOR)


@pytest.mark.parametrize("name", CLIENT_URLS)
def test_another_resellers_manager_gets_404_for_each_object_url(
    name, client, sibling, petr, sub_reseller, sub_rules, root_reseller, root_rules
):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    petrs_client = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        postpay_permission=PostpayPermission.APPROVAL_REQUIRED,
    )
    roots_client = make_client(reseller=root_reseller, rules=root_rules)
    stand_ins = {}
    for target, reseller, rules in [
        (petrs_client, sub_reseller, sub_rules),
        (roots_client, root_reseller, root_rules),
    ]:
        second = make_user()
        ClientAccess.objects.create(client=target, user=second, level=AccessLevel.ADMIN)
        other = make_client(reseller=reseller, rules=rules)
        stand_ins[target.pk] = {
            SECOND: str(second.pk),
            OTHER: str(other.accesses.get().user_id),
        }

    def accesses(target) -> set:
        return set(target.accesses.values_list("user_id", "level"))

    before = {target.pk: accesses(target) for target in (petrs_client, roots_client)}
    users_before = User.objects.count()
    _kind, requests = MATRIX[name]
    assert requests, f"{name}: list the requests to try"
    # A sibling reseller's manager and a sub-reseller's manager (Пётр, looking
    # up at the root reseller's client) both get 404 and change nothing.
    for manager, target in [(sibling, petrs_client), (petr, roots_client)]:
        client.force_login(manager.user)
        url = reverse(name, args=[target.pk])
        for method, query, data in requests:
            for stand_in, value in stand_ins[target.pk].items():
                query = query.replace(stand_in, value)
            data = {key: stand_ins[target.pk].get(value, value) for key, value in data.items()}
            response = getattr(client, method)(url + query, data)
            assert response.status_code == 404, (name, manager, method, query)
        target.refresh_from_db()
        assert target.status == ClientStatus.ACTIVE
        assert target.manager_id is None
        assert (target.city, target.version) == ("Москва", 1)
        assert accesses(target) == before[target.pk]
        assert target.events.count() == 0
    assert User.objects.count() == users_before
    petrs_client.refresh_from_db()
    assert petrs_client.postpay_permission == PostpayPermission.APPROVAL_REQUIRED
    # The reseller's own manager reaches it (the matrix's requests are real).
    client.force_login(petr.user)
    method, first_query, data = requests[0]
    for stand_in, value in stand_ins[petrs_client.pk].items():
        first_query = first_query.replace(stand_in, value)
    data = {key: stand_ins[petrs_client.pk].get(value, value) for key, value in data.items()}
    response = getattr(client, method)(reverse(name, args=[petrs_client.pk]) + first_query, data)
    assert response.status_code in (200, 302)


def test_a_missing_object_is_404_too(petr_browser):
    for name in CLIENT_URLS:
        method = MATRIX[name][1][0][0]
        answer = getattr(petr_browser, method)(reverse(name, args=[987654321]))
        assert answer.status_code == 404, name
