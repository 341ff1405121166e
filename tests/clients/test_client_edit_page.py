"""The Edit client page as a browser without JavaScript uses it: every POST
is built from the fields the page rendered, then changed like an operator."""

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clients import services
from clients.inputs import ClientInfo, Contacts, ContractPerson, NewOwner
from clients.models import Client, ClientStatus, EventType
from rules.models import Attribute, AttributeValueType
from tests.clients.lifecycle import events_of
from tests.conftest import VALID_INN, make_manager
from tests.pages import form_data, form_fields, select_options
from users.models import ManagerRole, PostpayMode

pytestmark = pytest.mark.usefixtures("english")
EDIT_FORM = "client-edit-form"


@pytest.fixture
def company(petr, sub_rules) -> Client:
    return services.client_create(
        actor=petr,
        reseller=petr.reseller,
        client_info=ClientInfo(
            client_type=sub_rules["company"],
            service_rule=sub_rules["standard"],
            company_name="Ромашка",
            manager=petr,
        ),
        contacts=Contacts(
            country="RU",
            city="Москва",
            address_line1="ул. Тверская, 1",
            phone="+7 916 123-45-67",
            email="office@romashka.example",
        ),
        contract_person=ContractPerson(
            first_name="Иван", last_name="Иванов", email="ivanov@romashka.example"
        ),
        owner=NewOwner(first_name="Анна", last_name="Орлова", email="anna@romashka.example"),
        attributes={"inn": VALID_INN},
    )


def edit_url(client: Client) -> str:
    return reverse("clients:edit", args=[client.pk])


def page_data(response) -> dict[str, str]:
    return form_data(response.content.decode(), EDIT_FORM)


def test_the_page_shows_the_sections_but_the_owner_filled_in(petr_browser, company):
    response = petr_browser.get(edit_url(company))

    assert response.status_code == 200
    data = page_data(response)
    assert data["version"] == "1"
    assert data["client_info-company_name"] == "Ромашка"
    assert data["client_info-manager"] == str(company.manager_id)
    assert data["contacts-city"] == "Москва"
    assert data["contacts-phone"] == "+7 916 123-45-67"
    assert data["contract_person-email"] == "ivanov@romashka.example"
    assert data["attributes-inn"] == VALID_INN
    names = form_fields(response.content.decode(), EDIT_FORM).rendered
    assert not [name for name in names if name.startswith("owner-")]
    assert "client_info-postpay_permission" not in names


def test_an_edit_is_saved_and_shown_in_the_event_log(petr_browser, company):
    data = page_data(petr_browser.get(edit_url(company)))
    data.update({"contacts-address_line1": "ул. Советская, 5", "attributes-kpp": "773601001"})

    response = petr_browser.post(edit_url(company), data, follow=True)

    assert (
        response.redirect_chain[-1][0] == reverse("clients:detail", args=[company.pk]) + "#events"
    )
    assert "The changes are saved." in response.text
    assert "Address: ул. Тверская, 1 → ул. Советская, 5" in response.text
    assert "КПП: — → 773601001" in response.text
    company.refresh_from_db()
    assert company.address_line1 == "ул. Советская, 5"


def test_a_bad_inn_is_shown_beside_its_field_and_nothing_is_saved(petr_browser, company):
    data = page_data(petr_browser.get(edit_url(company)))
    data.update({"contacts-city": "Тверь", "attributes-inn": "7707083890"})

    response = petr_browser.post(edit_url(company), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="error_1_id_attributes-inn"' in html
    assert "INN" in html and "checksum" in html.lower()
    company.refresh_from_db()
    assert (company.city, company.version) == ("Москва", 1)
    assert events_of(company, EventType.CLIENT_UPDATED) == []


def test_a_form_error_and_a_rule_error_show_in_one_round(petr_browser, company):
    data = page_data(petr_browser.get(edit_url(company)))
    data.update({"contacts-email": "not-an-email", "attributes-inn": "7707083890"})

    html = petr_browser.post(edit_url(company), data).content.decode()

    assert 'id="error_1_id_contacts-email"' in html
    assert 'id="error_1_id_attributes-inn"' in html


def test_a_save_over_another_managers_change_is_refused(petr_browser, company, sub_reseller):
    irina = make_manager(reseller=sub_reseller, first_name="Ирина", last_name="Смирнова")
    other = HttpClient()
    other.force_login(irina.user)
    mine = page_data(petr_browser.get(edit_url(company)))
    theirs = page_data(other.get(edit_url(company)))
    theirs["contacts-city"] = "Тверь"
    assert other.post(edit_url(company), theirs).status_code == 302

    mine["contacts-email"] = "new@romashka.example"
    response = petr_browser.post(edit_url(company), mine)

    assert response.status_code == 200
    assert "Смирнова Ирина changed this client at " in response.text
    assert "reload it to see the changes" in response.text
    company.refresh_from_db()
    assert (company.city, company.email) == ("Тверь", "office@romashka.example")


def test_a_double_submit_saves_once(petr_browser, company):
    data = page_data(petr_browser.get(edit_url(company)))
    data["contacts-city"] = "Тверь"

    first = petr_browser.post(edit_url(company), data, follow=True)
    second = petr_browser.post(edit_url(company), data, follow=True)

    assert "The changes are saved." in first.text
    assert "Nothing was changed." in second.text
    assert len(events_of(company, EventType.CLIENT_UPDATED)) == 1


def test_the_type_switch_brings_the_new_types_fields(petr_browser, company, sub_rules):
    data = page_data(petr_browser.get(edit_url(company)))
    data["client_info-client_type"] = str(sub_rules["person"].pk)

    partial = petr_browser.post(reverse("clients:edit_type", args=[company.pk]), data)
    applied = petr_browser.post(edit_url(company), {**data, "_apply_type": "1"})

    assert 'name="attributes-passport_series"' in partial.text
    assert 'name="client_info-company_name"' not in partial.text
    page = applied.content.decode()
    assert 'name="attributes-passport_series"' in page
    assert form_data(page, EDIT_FORM)["contacts-city"] == "Москва"
    company.refresh_from_db()
    assert company.client_type == sub_rules["company"]


def test_a_stored_password_is_kept_when_its_field_is_left_empty(petr_browser, company, sub_rules):
    secret = Attribute.objects.create(
        reseller=company.reseller,
        key="panel_password",
        name="Пароль панели",
        value_type=AttributeValueType.PASSWORD,
        required=True,
    )
    secret.client_types.set([sub_rules["company"]])
    company.attribute_values.create(attribute=secret, value="s3cret")
    page = petr_browser.get(edit_url(company))
    assert "s3cret" not in page.text
    data = page_data(page)
    data["contacts-city"] = "Тверь"

    petr_browser.post(edit_url(company), data)

    company.refresh_from_db()
    assert company.city == "Тверь"
    assert company.attribute_values.get(attribute=secret).value == "s3cret"


def test_an_inactive_manager_stays_selected(petr_browser, company, sub_reseller):
    leaving = make_manager(reseller=sub_reseller, last_name="Уходящий")
    Client.objects.filter(pk=company.pk).update(manager=leaving)
    leaving.status = "inactive"
    leaving.save()

    page = petr_browser.get(edit_url(company)).content.decode()
    data = form_data(page, EDIT_FORM)
    data["contacts-city"] = "Тверь"
    petr_browser.post(edit_url(company), data)

    assert data["client_info-manager"] == str(leaving.pk)
    assert any("Inactive" in label for _value, label in select_options(page, "client_info-manager"))
    company.refresh_from_db()
    assert (company.manager, company.city) == (leaving, "Тверь")


def test_the_postpay_permission_is_not_on_the_page(petr_browser, company, sub_reseller):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    data = page_data(petr_browser.get(edit_url(company)))
    data["client_info-postpay_permission"] = "approved"
    data["contacts-city"] = "Тверь"

    petr_browser.post(edit_url(company), data)

    company.refresh_from_db()
    assert company.city == "Тверь"
    assert company.postpay_permission == "not_verified"


@pytest.mark.parametrize("role", list(ManagerRole))
def test_the_page_needs_the_edit_permission(company, sub_reseller, role):
    browser = HttpClient()
    browser.force_login(make_manager(reseller=sub_reseller, role=role).user)
    may = role != ManagerRole.MARKETING

    detail = browser.get(reverse("clients:detail", args=[company.pk])).text
    answer = browser.get(edit_url(company))
    posted = browser.post(reverse("clients:edit_type", args=[company.pk]), {})

    assert (edit_url(company) in detail) == may
    assert answer.status_code == (200 if may else 403)
    assert posted.status_code == (200 if may else 403)


def test_a_deleted_client_has_no_edit_page(petr_browser, company):
    Client.objects.filter(pk=company.pk).update(status=ClientStatus.DELETED)

    detail = petr_browser.get(reverse("clients:detail", args=[company.pk])).text
    response = petr_browser.get(edit_url(company), follow=True)

    assert edit_url(company) not in detail
    assert "A deleted client cannot be changed." in response.text


def test_the_post_needs_the_csrf_token(petr, company):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(petr.user)
    data = page_data(browser.get(edit_url(company)))
    data["contacts-city"] = "Тверь"
    data.pop("csrfmiddlewaretoken", None)

    assert browser.post(edit_url(company), data).status_code == 403
    company.refresh_from_db()
    assert company.city == "Москва"
