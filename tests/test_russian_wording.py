"""The Russian labels of the product design, also where one English word is
worded by what it names (translation contexts in the catalogue)."""

from django.urls import reverse
from django.utils import translation

from clients.directory import PartyStatus
from clients.models import AccessLevel, ClientStatus
from users.models import ManagerStatus


def russian(browser, url: str) -> str:
    return browser.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()


def test_add_client_sections_read_as_the_design(petr_browser, sub_reseller, sub_rules):
    sub_reseller.terms_required = True
    sub_reseller.terms_url = "https://partner.example/terms"
    sub_reseller.save()
    html = russian(petr_browser, reverse("clients:create"))
    for title in [
        "Информация о клиенте",
        "Контакты",
        "Лицо, уполномоченное на заключение договора",
        "Контактное лицо клиента",
        "Соглашения",
        "Дополнительные сведения",
    ]:
        assert f">{title}</h2>" in html, title
    for label in ["Выбрать владельца", "Создать нового пользователя", "Принято"]:
        assert label in html, label


def test_active_is_worded_by_what_it_describes():
    with translation.override("ru"):
        assert str(ClientStatus.ACTIVE.label) == "Активен"
        assert str(ManagerStatus.ACTIVE.label) == "Активный"
        assert str(ManagerStatus.INACTIVE.label) == "Неактивный"
        assert str(PartyStatus.ACTIVE.label) == "Действующая"
        assert str(AccessLevel.OWNER.label) == "Владелец"
        assert str(AccessLevel.ADMIN.label) == "Администратор"


def test_the_admin_link_and_the_users_name_fieldset(irina, irina_browser):
    irina.user.is_staff = True
    irina.user.is_superuser = True
    irina.user.save()
    assert ">Администрирование</a>" in russian(irina_browser, reverse("clients:list"))
    change = russian(irina_browser, reverse("admin:users_user_change", args=[irina.user.pk]))
    assert ">ФИО</h2>" in change
