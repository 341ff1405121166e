"""The new owner's email is no way to learn which emails have accounts.

A manager is offered the user behind an email their reseller reaches ("Select
this user"). Any other email the panel cannot use gets one neutral answer,
the same text in the same page, whether it belongs to another reseller's
user or cannot be used because the manager has checked too many such emails
in the last hour (OWNER_EMAIL_CHECKS_PER_HOUR); past that limit a new email
gets it too, so the answer does not show whether the limit was hit.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from clients import services
from clients.inputs import NewOwner
from clients.models import Client, OwnerEmailCheck
from clients.services import email_normalized
from tests.clients.test_client_create_page import CREATE_URL, page_data
from tests.clients.test_client_create_page_errors import field_errors, submit
from tests.clients.test_client_create_service import arguments, assert_rejected, client_create
from tests.conftest import make_client, make_manager, make_user
from tests.pages import person
from users.models import User

pytestmark = pytest.mark.usefixtures("english")

NEUTRAL = (
    "This email cannot be used for a new owner. Choose another email or select an existing user."
)


@pytest.fixture(autouse=True)
def notifications_on(client_created_handler):
    """A created client queues its notification; a refused one must not."""


@pytest.fixture
def elsewhere(root_reseller, root_rules):
    """Users of the root reseller's clients: out of Пётр's reach."""
    users = [
        make_user(email=f"secret{number}@oblako.example", first_name="Тайна", last_name="Тайнова")
        for number in range(3)
    ]
    for user in users:
        make_client(reseller=root_reseller, rules=root_rules, owner=user)
    return users


@pytest.fixture
def own_user(sub_reseller, sub_rules):
    """A user of one of Пётр's reseller's clients."""
    user = make_user(email="anna.belova@partner.example", first_name="Анна", last_name="Белова")
    make_client(reseller=sub_reseller, rules=sub_rules, owner=user)
    return user


def new_owner_email_problem(*, actor, email: str):
    """The counted check of an email the manager typed for a new owner."""
    return services.new_user_email_problem(actor=actor, reseller=actor.reseller, email=email)


def post_owner_email(browser, email: str):
    """The Add client page, valid but for what the new owner's email makes it."""
    data = person(page_data(browser.get(CREATE_URL)), **{"owner-new_email": email})
    return browser.post(CREATE_URL, data)


def email_error(response) -> str:
    """The text beside the new owner's email, tags left out."""
    return re.sub(r"<[^>]+>", "", field_errors(response, "id_owner-new_email")).strip()


def shape(response, email: str) -> str:
    """The page with what differs between any two posts taken out: the email
    typed, the CSRF token and the page's one-time token."""
    html = response.content.decode().replace(email, "EMAIL")
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "CSRF", html)
    html = re.sub(r'"X-CSRFToken": "[^"]*"', "CSRF", html)  # htmx's header
    return re.sub(r'name="creation_token" value="[^"]*"', "TOKEN", html)


def test_another_resellers_users_email_reads_as_any_unusable_email(
    petr_browser, sub_rules, elsewhere, settings
):
    settings.OWNER_EMAIL_CHECKS_PER_HOUR = 1
    taken = elsewhere[0].email
    free = "never.used@example.com"

    # Another reseller's user, then a new email once the one check is spent.
    taken_answer = submit(
        petr_browser,
        person(
            page_data(petr_browser.get(CREATE_URL)),
            **{
                "owner-new_email": taken,
            },
        ),
    )
    free_answer = submit(
        petr_browser,
        person(
            page_data(petr_browser.get(CREATE_URL)),
            **{
                "owner-new_email": free,
            },
        ),
    )

    assert email_error(taken_answer) == NEUTRAL
    assert email_error(free_answer) == NEUTRAL
    assert shape(taken_answer, taken) == shape(free_answer, free)
    html = taken_answer.content.decode()
    assert "Тайна" not in html and "owner-select_user" not in html
    assert "already exists" not in html


def test_the_users_own_reseller_reaches_are_still_offered(petr_browser, sub_rules, own_user):
    response = submit(
        petr_browser,
        person(
            page_data(petr_browser.get(CREATE_URL)),
            **{"owner-new_email": "ANNA.belova@partner.example"},
        ),
    )
    errors = field_errors(response, "id_owner-new_email")
    assert "Белова Анна <anna.belova@partner.example> already has this email" in errors
    assert "Select this user" in errors
    assert f'name="owner-select_user" value="{own_user.pk}"' in response.content.decode()


def test_past_the_limit_every_email_out_of_reach_gets_the_neutral_answer(
    petr, petr_browser, sub_rules, elsewhere, own_user, settings
):
    settings.OWNER_EMAIL_CHECKS_PER_HOUR = 2
    for user in elsewhere[:2]:
        assert new_owner_email_problem(actor=petr, email=user.email).messages == [NEUTRAL]
    assert OwnerEmailCheck.objects.filter(manager=petr).count() == 2

    # A new email now gets the same answer, and nothing is created.
    before = Client.objects.count()
    response = submit(
        petr_browser,
        person(
            page_data(petr_browser.get(CREATE_URL)),
            **{
                "owner-new_email": "brand.new@example.com",
            },
        ),
    )
    assert email_error(response) == NEUTRAL
    assert Client.objects.count() == before
    assert_rejected(
        petr,
        {"owner.new_email": NEUTRAL},
        **arguments(
            sub_rules,
            owner=NewOwner(first_name="А", last_name="Б", email="brand.new@example.com"),
        ),
    )
    # So does a third email of another reseller's user, uncounted.
    assert new_owner_email_problem(actor=petr, email=elsewhere[2].email).messages == [NEUTRAL]
    assert OwnerEmailCheck.objects.filter(manager=petr).count() == 2
    # The manager's own reach is still offered.
    problem = new_owner_email_problem(actor=petr, email=own_user.email)
    assert problem.code == "email_taken" and problem.params["user_id"] == own_user.pk


def test_the_limit_counts_different_emails_in_the_last_hour(
    petr, petr_browser, sub_rules, elsewhere, settings
):
    settings.OWNER_EMAIL_CHECKS_PER_HOUR = 2
    for _ in range(3):  # the same email again and again is one check
        new_owner_email_problem(actor=petr, email=elsewhere[0].email.upper())
    assert new_owner_email_problem(actor=petr, email="fresh@example.com") is None

    new_owner_email_problem(actor=petr, email=elsewhere[1].email)
    assert new_owner_email_problem(actor=petr, email="fresh@example.com").messages == [NEUTRAL]

    # An hour later the checks are spent no more.
    OwnerEmailCheck.objects.filter(manager=petr).update(
        checked_at=timezone.now() - dt.timedelta(minutes=61)
    )
    response = post_owner_email(petr_browser, "fresh@example.com")
    assert response.status_code == 302
    assert User.objects.filter(email="fresh@example.com").exists()


def test_the_limit_is_per_manager(petr, sub_reseller, sub_rules, elsewhere, settings):
    settings.OWNER_EMAIL_CHECKS_PER_HOUR = 1
    new_owner_email_problem(actor=petr, email=elsewhere[0].email)
    assert new_owner_email_problem(actor=petr, email="fresh@example.com") is not None
    colleague = make_manager(reseller=sub_reseller)
    assert new_owner_email_problem(actor=colleague, email="fresh@example.com") is None


@pytest.mark.parametrize(
    "typed",
    [
        "KATE.SMITH@EXAMPLE.COM",
        "kate.smith@\uff45xample.\uff43om",  # fullwidth letters in the domain
        "kate.smith@EXAMPLE.\uff23OM",
    ],
)
def test_a_look_alike_of_a_taken_email_is_that_users(
    petr, petr_browser, sub_reseller, sub_rules, root_reseller, root_rules, typed
):
    """A look-alike domain is read in plain letters (NFKC), and the email
    matched as the login (UPPER) and the unique constraint (LOWER) do:
    fullwidth letters made a second account whose mail went to the first
    one's address."""
    kate = make_user(email="kate.smith@example.com", first_name="Катя", last_name="Смит")
    make_client(reseller=sub_reseller, rules=sub_rules, owner=kate)
    response = submit(
        petr_browser,
        person(page_data(petr_browser.get(CREATE_URL)), **{"owner-new_email": typed}),
    )
    assert "Select this user" in field_errors(response, "id_owner-new_email")

    # Another reseller's user by a look-alike: the neutral answer, no 500.
    kate.client_accesses.all().delete()
    make_client(reseller=root_reseller, rules=root_rules, owner=kate)
    assert_rejected(
        petr,
        {"owner.new_email": NEUTRAL},
        **arguments(sub_rules, owner=NewOwner(first_name="А", last_name="Б", email=typed)),
    )


@pytest.mark.parametrize(
    "typed",
    [
        "\u212aate.smith@example.com",  # the Kelvin sign: LOWER() makes it k, UPPER() keeps it
        "kate.\u017fmith@example.com",  # the long s: UPPER() makes it S
        "kate.sm\u0131th@example.com",  # the dotless i: UPPER() makes it I
    ],
)
def test_a_look_alike_before_the_at_is_refused_before_any_look_up(
    petr, sub_reseller, sub_rules, root_reseller, root_rules, typed
):
    """Not folded into the taken login it imitates (the Kelvin sign was a
    500): refused as typed, with the same words whoever has the email, and
    not counted as a check."""
    kate = make_user(email="kate.smith@example.com", first_name="Катя", last_name="Смит")
    make_client(reseller=root_reseller, rules=root_rules, owner=kate)
    assert_rejected(
        petr,
        {"owner.new_email": "Use only Latin letters, digits and punctuation before “@”."},
        **arguments(sub_rules, owner=NewOwner(first_name="А", last_name="Б", email=typed)),
    )
    assert not OwnerEmailCheck.objects.exists()


def test_a_new_owners_email_is_kept_in_plain_letters(petr, sub_rules):
    client = client_create(
        actor=petr,
        **arguments(
            sub_rules,
            owner=NewOwner(first_name="А", last_name="Б", email="Kate@\uff45xample.COM"),
        ),
    )
    assert client.accesses.get().user.email == "Kate@example.com"


def test_plain_letters_longer_than_the_column_are_refused(petr_browser, petr, sub_rules):
    """ﬃ is one character typed and three kept: the column's length is checked
    on the email as it would be kept."""
    typed = "o" * 64 + "@" + "\ufb03" * 60 + "." + "d" * 60 + ".example.com"
    assert len(typed) <= 254 < len(email_normalized(typed))
    assert_rejected(
        petr,
        {"owner.new_email": "Ensure this value has at most 254 characters"},
        **arguments(sub_rules, owner=NewOwner(first_name="А", last_name="Б", email=typed)),
    )
    response = submit(
        petr_browser,
        person(page_data(petr_browser.get(CREATE_URL)), **{"owner-new_email": typed}),
    )
    assert "Ensure this value has at most 254 characters" in email_error(response)
