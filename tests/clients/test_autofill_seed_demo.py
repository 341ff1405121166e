"""The demo resellers get autofill from the local stand-in directory, also in a
database seeded before autofill existed, and seeding again changes nothing."""

import io

from django.core.management import call_command

from clients.directory import directory_enabled
from clients.management.commands.seed_demo import DIRECTORY_STUB_URL
from rules.models import ClientType
from users.models import AutofillField, Reseller


def seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def test_the_demo_resellers_autofill_from_the_local_stub(db):
    seed()

    for reseller in Reseller.objects.all():
        assert reseller.autofill_enabled
        assert reseller.autofill_url == DIRECTORY_STUB_URL
        assert reseller.autofill_api_key == ""
        assert sorted(reseller.autofill_fields) == sorted(AutofillField.values)
        company = ClientType.objects.get(reseller=reseller, key="company")
        assert directory_enabled(reseller=reseller, client_type=company)


def test_a_database_seeded_before_gets_autofill_once(db):
    seed()
    Reseller.objects.update(autofill_enabled=False, autofill_url="", autofill_fields=[])

    seed()
    seed()

    assert (
        Reseller.objects.filter(autofill_enabled=True, autofill_url=DIRECTORY_STUB_URL).count() == 2
    )


def test_a_reseller_with_a_service_of_its_own_keeps_it(db):
    seed()
    partner = Reseller.objects.get(name="Партнёр")
    partner.autofill_enabled = False
    partner.autofill_url = "https://suggestions.dadata.ru"
    partner.autofill_api_key = "partner-key"
    partner.autofill_fields = [AutofillField.INN]
    partner.save()

    seed()

    partner.refresh_from_db()
    assert (partner.autofill_enabled, partner.autofill_url, partner.autofill_fields) == (
        False,
        "https://suggestions.dadata.ru",
        [AutofillField.INN],
    )
