"""A client's users and their access levels: add an existing user, invite a
new one, change a level, remove, transfer the ownership (services and the
client page), each logged, announced and safe against a repeated submit."""

from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from clients import services
from clients.events import event_wording
from clients.inputs import NewUser
from clients.models import AccessLevel, ClientAccess, EventType
from notifications.models import Delivery
from tests.clients.lifecycle import events_of, in_english, make_handlers, send_all
from tests.conftest import make_client, make_manager, make_user
from users.models import ManagerRole, User

STRONG = "Tverskaya-street-1-kiosk"


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def world(sub_reseller, sub_rules, root_reseller):
    make_handlers(root_reseller)
    return sub_reseller, sub_rules


@pytest.fixture
def owner(db):
    return make_user(email="owner@client.example", first_name="Ольга", last_name="Владелец")


@pytest.fixture
def client(world, owner):
    reseller, rules = world
    return make_client(reseller=reseller, rules=rules, owner=owner, name="Ромашка")


@pytest.fixture
def colleague(world):
    """A user of another of Пётр's reseller's clients: one Пётр reaches."""
    reseller, rules = world
    user = make_user(email="maria@client.example", first_name="Мария", last_name="Петрова")
    make_client(reseller=reseller, rules=rules, owner=user)
    return user


def levels(client) -> dict[str, str]:
    return dict(client.accesses.values_list("user__email", "level"))


def messages_of(browser_response) -> str:
    return browser_response.text


# --- adding an existing user ---------------------------------------------------------


def test_an_existing_user_is_added_logged_and_told(petr, client, colleague, owner):
    access, created = services.client_access_add(
        actor=petr, client=client, user=colleague, level=AccessLevel.FINANCE_MANAGER
    )

    assert created
    assert access.level == AccessLevel.FINANCE_MANAGER
    assert levels(client) == {
        "owner@client.example": AccessLevel.OWNER,
        "maria@client.example": AccessLevel.FINANCE_MANAGER,
    }
    [event] = events_of(client, EventType.USER_ADDED)
    assert event.visible_to_client
    assert event.actor == petr.user
    assert event_wording(event.event_type, event.data) == (
        "User added: Петрова Мария (Finance manager)",
        "Added by Кузнецов Пётр.",
    )
    [message] = send_all()
    assert message.to == ["maria@client.example"]
    # She has a password: no link to set one, and never the owner's link.
    assert message.body == "added maria@client.example as Финансовый менеджер link= owner-link="


def test_adding_the_same_user_again_adds_nothing(petr, client, colleague):
    services.client_access_add(actor=petr, client=client, user=colleague, level=AccessLevel.USER)

    _access, created = services.client_access_add(
        actor=petr, client=client, user=colleague, level=AccessLevel.USER
    )

    assert not created
    assert client.accesses.count() == 2
    assert len(events_of(client, EventType.USER_ADDED)) == 1
    assert Delivery.objects.count() == 1


def test_a_user_who_has_access_at_another_level_is_pointed_to_the_level(petr, client, colleague):
    services.client_access_add(actor=petr, client=client, user=colleague, level=AccessLevel.USER)

    with pytest.raises(ValidationError) as raised:
        services.client_access_add(
            actor=petr, client=client, user=colleague, level=AccessLevel.ADMIN
        )

    assert raised.value.message_dict == {
        "user": [
            "Петрова Мария already has access to this client as User; "
            "change the level in the list of users instead."
        ]
    }
    assert levels(client)["maria@client.example"] == AccessLevel.USER


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("unreachable", "Select a user of your reseller's clients."),
        (
            "manager",
            "Staff, administrators and panel managers cannot be a client's users: "
            "select another user or invite a new one.",
        ),
        (
            "staff",
            "Staff, administrators and panel managers cannot be a client's users: "
            "select another user or invite a new one.",
        ),
    ],
)
def test_a_user_the_manager_may_not_add_is_refused(
    petr, client, root_reseller, root_rules, who, message
):
    if who == "unreachable":
        user = make_user()
        make_client(reseller=root_reseller, rules=root_rules, owner=user)
    elif who == "manager":
        user = make_manager(reseller=petr.reseller).user
        make_client(reseller=petr.reseller, rules={**_rules(client)}, owner=user)
    else:
        user = make_user(is_staff=True)
        make_client(reseller=petr.reseller, rules={**_rules(client)}, owner=user)

    with pytest.raises(ValidationError) as raised:
        services.client_access_add(actor=petr, client=client, user=user, level=AccessLevel.USER)

    assert raised.value.message_dict == {"user": [message]}
    assert client.accesses.count() == 1
    assert client.events.count() == 0
    assert Delivery.objects.count() == 0


def _rules(client) -> dict:
    return {"person": client.client_type, "standard": client.service_rule}


@pytest.mark.parametrize(
    ("level", "message"),
    [
        ("owner", "The owner changes only by a transfer of ownership."),
        ("root", "Choose Admin, Finance manager or User."),
    ],
)
def test_only_the_three_levels_can_be_given(petr, client, colleague, level, message):
    with pytest.raises(ValidationError) as raised:
        services.client_access_add(actor=petr, client=client, user=colleague, level=level)

    assert raised.value.message_dict == {"level": [message]}
    assert client.accesses.count() == 1


# --- inviting a new user ---------------------------------------------------------------


def new_user(**fields) -> NewUser:
    values = {"first_name": "Анна", "last_name": "Новикова", "email": "anna@client.example"}
    values.update(fields)
    return NewUser(**values)


def test_an_invited_user_gets_a_password_setup_link(petr, client):
    access, created = services.client_user_invite(
        actor=petr, client=client, new_user=new_user(), level=AccessLevel.ADMIN
    )

    assert created
    user = access.user
    assert (user.email, user.first_name, user.last_name) == (
        "anna@client.example",
        "Анна",
        "Новикова",
    )
    assert not user.has_usable_password()
    [event] = events_of(client, EventType.USER_ADDED)
    assert event_wording(event.event_type, event.data)[1] == (
        "Invited as a new user by Кузнецов Пётр."
    )
    [message] = send_all()
    assert message.to == ["anna@client.example"]
    assert "as Администратор" in message.body
    assert "owner-link=" in message.body and message.body.endswith("owner-link=")
    link = message.body.split("link=")[1].split()[0]
    # The link sets her password, once.
    path = urlsplit(link).path
    response = HttpClient().post(path, {"new_password1": STRONG, "new_password2": STRONG})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_a_repeated_invitation_makes_one_user(petr, client):
    services.client_user_invite(
        actor=petr, client=client, new_user=new_user(), level=AccessLevel.USER
    )

    _access, created = services.client_user_invite(
        actor=petr, client=client, new_user=new_user(email="ANNA@client.example"), level="user"
    )

    assert not created
    assert User.objects.filter(email__iexact="anna@client.example").count() == 1
    assert client.accesses.count() == 2
    assert len(events_of(client, EventType.USER_ADDED)) == 1


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"first_name": " ", "last_name": "", "email": ""},
            {
                "new_user.first_name": ["This field is required."],
                "new_user.last_name": ["This field is required."],
                "new_user.email": ["This field is required."],
            },
        ),
        ({"email": "not-an-email"}, {"new_user.email": ["Enter a valid email address."]}),
        (
            # The long s passes Django's check (it matches "S" ignoring case).
            {"email": "ſasha@client.example"},
            {"new_user.email": ["Use only Latin letters, digits and punctuation before “@”."]},
        ),
        (
            {"last_name": "Я" * 151},
            {"new_user.last_name": ["Ensure this value has at most 150 characters (it has 151)."]},
        ),
    ],
)
def test_an_invitation_with_bad_details_saves_nothing(petr, client, fields, errors):
    users_before = User.objects.count()

    with pytest.raises(ValidationError) as raised:
        services.client_user_invite(
            actor=petr, client=client, new_user=new_user(**fields), level=AccessLevel.USER
        )

    assert raised.value.message_dict == errors
    assert User.objects.count() == users_before
    assert client.accesses.count() == 1
    assert client.events.count() == 0


def test_an_email_that_is_a_reachable_users_points_to_adding_them(petr, client, colleague):
    with pytest.raises(ValidationError) as raised:
        services.client_user_invite(
            actor=petr,
            client=client,
            new_user=new_user(email="Maria@Client.example"),
            level=AccessLevel.USER,
        )

    [error] = raised.value.error_dict["new_user.email"]
    assert error.messages == [
        "Петрова Мария <maria@client.example> already has this email: "
        "add this user as an existing user instead."
    ]
    assert error.params["user_id"] == colleague.pk
    assert client.accesses.count() == 1


def test_an_email_of_someone_out_of_reach_names_nobody(petr, client, root_reseller, root_rules):
    stranger = make_user(email="stranger@example.com")
    make_client(reseller=root_reseller, rules=root_rules, owner=stranger)

    with pytest.raises(ValidationError) as raised:
        services.client_user_invite(
            actor=petr,
            client=client,
            new_user=new_user(email="stranger@example.com"),
            level=AccessLevel.USER,
        )

    [message] = raised.value.message_dict["new_user.email"]
    assert "stranger" not in message
    assert client.accesses.count() == 1


# --- levels and removal ------------------------------------------------------------------


def test_a_level_changes_and_is_logged(petr, client, colleague):
    services.client_access_add(actor=petr, client=client, user=colleague, level=AccessLevel.USER)

    _access, changed = services.client_access_set_level(
        actor=petr, client=client, user=colleague, level=AccessLevel.ADMIN
    )

    assert changed
    assert levels(client)["maria@client.example"] == AccessLevel.ADMIN
    [event] = events_of(client, EventType.USER_LEVEL_CHANGED)
    assert event_wording(event.event_type, event.data)[0] == (
        "Access level of Петрова Мария: User → Admin"
    )
    _access, changed = services.client_access_set_level(
        actor=petr, client=client, user=colleague, level=AccessLevel.ADMIN
    )
    assert not changed
    assert len(events_of(client, EventType.USER_LEVEL_CHANGED)) == 1


def test_the_owner_is_neither_demoted_nor_removed(petr, client, owner):
    with pytest.raises(ValidationError) as demoted:
        services.client_access_set_level(
            actor=petr, client=client, user=owner, level=AccessLevel.ADMIN
        )
    with pytest.raises(ValidationError) as removed:
        services.client_access_remove(actor=petr, client=client, user=owner)

    assert demoted.value.message_dict == {
        "level": [
            "The owner's level cannot be changed: transfer the ownership to another user first."
        ]
    }
    assert removed.value.message_dict == {
        "user": ["The owner cannot be removed: transfer the ownership to another user first."]
    }
    assert levels(client) == {"owner@client.example": AccessLevel.OWNER}
    assert client.events.count() == 0


def test_a_user_is_removed_once(petr, client, colleague):
    services.client_access_add(actor=petr, client=client, user=colleague, level=AccessLevel.USER)

    assert services.client_access_remove(actor=petr, client=client, user=colleague)
    assert not services.client_access_remove(actor=petr, client=client, user=colleague)

    assert levels(client) == {"owner@client.example": AccessLevel.OWNER}
    assert User.objects.filter(pk=colleague.pk).exists()
    [event] = events_of(client, EventType.USER_REMOVED)
    assert event_wording(event.event_type, event.data) == (
        "User removed: Петрова Мария (User)",
        "Removed by Кузнецов Пётр.",
    )


def test_a_level_of_someone_without_access_is_refused(petr, client, colleague):
    with pytest.raises(ValidationError) as raised:
        services.client_access_set_level(
            actor=petr, client=client, user=colleague, level=AccessLevel.ADMIN
        )

    assert raised.value.message_dict == {"user": ["Петрова Мария has no access to this client."]}


# --- ownership ----------------------------------------------------------------------------


def test_ownership_moves_in_one_step_and_both_are_told(petr, client, owner, colleague):
    services.client_access_add(actor=petr, client=client, user=colleague, level=AccessLevel.USER)

    assert services.client_ownership_transfer(actor=petr, client=client, user=colleague)

    assert levels(client) == {
        "owner@client.example": AccessLevel.ADMIN,
        "maria@client.example": AccessLevel.OWNER,
    }
    [event] = events_of(client, EventType.OWNERSHIP_TRANSFERRED)
    assert event.visible_to_client
    assert event_wording(event.event_type, event.data) == (
        "Ownership transferred: Владелец Ольга → Петрова Мария",
        "Transferred by Кузнецов Пётр; the previous owner is now an Admin.",
    )
    messages = {
        message.to[0]: message.body
        for message in send_all()
        if message.subject == EventType.OWNERSHIP_TRANSFERRED
    }
    assert messages == {
        "maria@client.example": "owner maria@client.example previous owner@client.example to "
        "maria@client.example is-owner=True terms= owner-link=",
        "owner@client.example": "owner maria@client.example previous owner@client.example to "
        "owner@client.example is-owner=False terms= owner-link=",
    }


def test_a_transfer_to_the_owner_changes_nothing(petr, client, owner):
    assert not services.client_ownership_transfer(actor=petr, client=client, user=owner)

    assert levels(client) == {"owner@client.example": AccessLevel.OWNER}
    assert client.events.count() == 0


def test_ownership_goes_only_to_a_user_of_the_client_who_may_own(petr, client, colleague):
    with pytest.raises(ValidationError) as outsider:
        services.client_ownership_transfer(actor=petr, client=client, user=colleague)
    staff = make_user(is_staff=True, first_name="Степан", last_name="Штатный")
    ClientAccess.objects.create(client=client, user=staff, level=AccessLevel.ADMIN)
    with pytest.raises(ValidationError) as panel_person:
        services.client_ownership_transfer(actor=petr, client=client, user=staff)

    assert outsider.value.message_dict == {
        "user": ["Петрова Мария is not a user of this client: add them first."]
    }
    assert panel_person.value.message_dict == {"user": ["Штатный Степан cannot own a client."]}
    assert levels(client)["owner@client.example"] == AccessLevel.OWNER
    assert client.events.count() == 0


# --- the client page ----------------------------------------------------------------------


def test_the_add_page_finds_adds_and_survives_a_double_submit(petr_browser, client, colleague):
    browser = in_english(petr_browser)
    url = reverse("clients:user_add", args=[client.pk])
    search = browser.get(
        reverse("clients:user_search", args=[client.pk]), {"user-query": "Петрова"}
    )
    assert f'value="{colleague.pk}"' in search.text
    owner_row = browser.get(
        reverse("clients:user_search", args=[client.pk]), {"user-query": "Владелец"}
    )
    assert "has access: Owner" in owner_row.text and "disabled" in owner_row.text
    # Without JavaScript: Find shows the same.
    found = browser.post(
        url, {"user-level": "admin", "user-mode": "existing", "_find": "1", "user-query": "Петрова"}
    )
    assert f'value="{colleague.pk}"' in found.text

    data = {"user-level": "admin", "user-mode": "existing", "user-user": colleague.pk}
    first = browser.post(url, data, follow=True)
    second = browser.post(url, data, follow=True)

    assert "Петрова Мария now has access as Admin." in first.text
    assert "Петрова Мария already has access as Admin." in second.text
    assert levels(client)["maria@client.example"] == AccessLevel.ADMIN
    assert len(events_of(client, EventType.USER_ADDED)) == 1


def test_the_add_page_puts_errors_beside_the_fields(petr_browser, client, colleague):
    browser = in_english(petr_browser)
    url = reverse("clients:user_add", args=[client.pk])

    response = browser.post(
        url,
        {
            "user-level": "user",
            "user-mode": "new",
            "user-new_first_name": "Анна",
            "user-new_last_name": "",
            "user-new_email": "maria@client.example",
        },
    )

    assert response.status_code == 200
    html = response.text
    assert 'id="error_1_id_user-new_last_name"' in html or "This field is required." in html
    assert "already has this email: add this user as an existing user instead." in html
    assert client.accesses.count() == 1


def test_the_users_table_changes_levels_removes_and_transfers(petr_browser, client, colleague):
    browser = in_english(petr_browser)
    ClientAccess.objects.create(client=client, user=colleague, level=AccessLevel.USER)
    detail = browser.get(reverse("clients:detail", args=[client.pk])).text
    for name in ("user_level", "user_remove", "ownership_transfer", "user_add"):
        assert reverse(f"clients:{name}", args=[client.pk]) in detail

    level = browser.post(
        reverse("clients:user_level", args=[client.pk]),
        {"user": colleague.pk, "level": "finance_manager"},
        follow=True,
    )
    assert "Петрова Мария is now Finance manager." in level.text
    confirm = browser.get(
        reverse("clients:ownership_transfer", args=[client.pk]), {"user": colleague.pk}
    )
    assert "Make Петрова Мария &lt;maria@client.example&gt; the owner of Ромашка?" in confirm.text
    transfer = browser.post(
        reverse("clients:ownership_transfer", args=[client.pk]),
        {"user": colleague.pk},
        follow=True,
    )
    assert "Петрова Мария is now the owner; the previous owner is an Admin." in transfer.text
    again = browser.post(
        reverse("clients:ownership_transfer", args=[client.pk]),
        {"user": colleague.pk},
        follow=True,
    )
    assert "Петрова Мария is the owner already." in again.text
    old_owner = client.accesses.get(level=AccessLevel.ADMIN).user
    removed = browser.post(
        reverse("clients:user_remove", args=[client.pk]), {"user": old_owner.pk}, follow=True
    )
    assert "no longer has access to this client." in removed.text
    twice = browser.post(
        reverse("clients:user_remove", args=[client.pk]), {"user": old_owner.pk}, follow=True
    )
    assert "This user has no access to this client (any more)." in twice.text
    assert levels(client) == {"maria@client.example": AccessLevel.OWNER}
    assert len(events_of(client, EventType.OWNERSHIP_TRANSFERRED)) == 1
    assert len(events_of(client, EventType.USER_REMOVED)) == 1


@pytest.mark.parametrize(
    ("role", "manage", "transfer"),
    [
        (ManagerRole.SALES, True, False),
        (ManagerRole.MARKETING, False, False),
        (ManagerRole.PRODUCT_OWNER, True, True),
        (ManagerRole.SYSTEM_ADMINISTRATOR, True, True),
    ],
)
def test_each_action_needs_its_permission(world, client, colleague, role, manage, transfer):
    reseller, _rules = world
    ClientAccess.objects.create(client=client, user=colleague, level=AccessLevel.USER)
    browser = HttpClient()
    browser.force_login(make_manager(reseller=reseller, role=role).user)
    detail = browser.get(reverse("clients:detail", args=[client.pk])).text

    answers = {
        "add": browser.get(reverse("clients:user_add", args=[client.pk])).status_code,
        "search": browser.get(
            reverse("clients:user_search", args=[client.pk]), {"user-query": "Петрова"}
        ).status_code,
        "level": browser.post(
            reverse("clients:user_level", args=[client.pk]),
            {"user": colleague.pk, "level": "admin"},
        ).status_code,
        "transfer": browser.post(
            reverse("clients:ownership_transfer", args=[client.pk]), {"user": colleague.pk}
        ).status_code,
        "remove": browser.post(
            reverse("clients:user_remove", args=[client.pk]), {"user": colleague.pk}
        ).status_code,
    }

    assert answers["add"] == answers["search"] == (200 if manage else 403)
    assert answers["level"] == answers["remove"] == (302 if manage else 403)
    assert answers["transfer"] == (302 if transfer else 403)
    assert (reverse("clients:user_add", args=[client.pk]) in detail) == manage
    assert (reverse("clients:user_remove", args=[client.pk]) in detail) == manage
    assert (reverse("clients:ownership_transfer", args=[client.pk]) in detail) == transfer
    expected = (
        {"owner@client.example": AccessLevel.ADMIN, "maria@client.example": AccessLevel.OWNER}
        if transfer
        else {"owner@client.example": AccessLevel.OWNER}
        if manage
        else {"owner@client.example": AccessLevel.OWNER, "maria@client.example": "user"}
    )
    assert levels(client) == expected


def test_the_posts_need_the_csrf_token(petr, client, colleague):
    ClientAccess.objects.create(client=client, user=colleague, level=AccessLevel.USER)
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(petr.user)

    for name, data in [
        ("user_add", {"user-level": "admin", "user-mode": "existing", "user-user": colleague.pk}),
        ("user_level", {"user": colleague.pk, "level": "admin"}),
        ("user_remove", {"user": colleague.pk}),
        ("ownership_transfer", {"user": colleague.pk}),
    ]:
        assert browser.post(reverse(f"clients:{name}", args=[client.pk]), data).status_code == 403

    assert levels(client) == {
        "owner@client.example": AccessLevel.OWNER,
        "maria@client.example": AccessLevel.USER,
    }
