"""Autofill applies only when the reseller and the client type both ask for it;
otherwise the directory is not asked anything."""

import pytest

from clients.directory import directory_enabled, directory_find_by_id, directory_suggest

pytestmark = pytest.mark.usefixtures("empty_cache")


@pytest.fixture
def reseller(root_reseller, httpserver):
    root_reseller.autofill_enabled = True
    root_reseller.autofill_url = httpserver.url_for("/")
    root_reseller.save()
    return root_reseller


def test_on_for_the_reseller_and_the_type(reseller, root_rules):
    assert directory_enabled(reseller=reseller, client_type=root_rules["company"])


def test_off_for_a_type_without_autofill(reseller, root_rules, httpserver):
    person = root_rules["person"]
    assert not person.autofill

    assert not directory_enabled(reseller=reseller, client_type=person)
    assert not directory_enabled(reseller=reseller, client_type=None)
    assert httpserver.log == []


def test_off_for_the_reseller_and_then_nothing_is_asked(reseller, root_rules, httpserver):
    reseller.autofill_enabled = False
    reseller.save()

    assert not directory_enabled(reseller=reseller, client_type=root_rules["company"])
    assert directory_suggest(query="северный", reseller=reseller) == []
    assert directory_find_by_id(inn_or_ogrn="7704943188", reseller=reseller) == []
    assert httpserver.log == []


def test_off_without_a_url(root_reseller, root_rules, httpserver):
    root_reseller.autofill_enabled = True  # not saved: the database forbids it without a URL

    assert not directory_enabled(reseller=root_reseller, client_type=root_rules["company"])
    assert directory_suggest(query="северный", reseller=root_reseller) == []
    assert httpserver.log == []
