"""Demo data for `make run`: safe to run again, it only adds what is missing."""

from django.core.management.base import BaseCommand
from django.db import transaction

from clients.inputs import (
    Agreements,
    ClientInfo,
    Contacts,
    ContractPerson,
    ExistingOwner,
    NewOwner,
)
from clients.models import Client, PostpayPermission
from clients.services import client_create
from notifications import services as notification_services
from rules.models import (
    AccountValidationSettings,
    Attribute,
    AttributeOption,
    AttributeValueType,
    ClientType,
    ServiceRule,
)
from users.models import (
    AutofillField,
    Manager,
    ManagerRole,
    ManagerStatus,
    PostpayMode,
    Reseller,
    User,
)
from users.services import manager_role_sync

DEMO_PASSWORD = "demo-panel-2026"
DEMO_LOGIN = "demo@oblako.example"
PARTNER_LOGIN = "petr@partner.example"
# The local stand-in directory that `make run` starts (manage.py directory_stub).
DIRECTORY_STUB_URL = "http://127.0.0.1:8001"

ATTRIBUTES = [
    # key, name, type, format, required, weight, types
    (
        "passport_series",
        "Серия паспорта",
        AttributeValueType.STRING,
        r"\d{4}",
        True,
        10,
        ["person"],
    ),
    (
        "passport_number",
        "Номер паспорта",
        AttributeValueType.STRING,
        r"\d{6}",
        True,
        20,
        ["person"],
    ),
    ("passport_issued_by", "Кем выдан", AttributeValueType.TEXT, "", False, 30, ["person"]),
    ("passport_issued_on", "Дата выдачи", AttributeValueType.DATE, "", False, 40, ["person"]),
    ("inn", "ИНН", AttributeValueType.STRING, "", True, 10, ["company"]),
    ("kpp", "КПП", AttributeValueType.STRING, "", False, 20, ["company"]),
    ("ogrn", "ОГРН", AttributeValueType.STRING, "", False, 30, ["company"]),
    ("vat_payer", "Плательщик НДС", AttributeValueType.CHECKBOX, "", False, 40, ["company"]),
    ("segment", "Сегмент", AttributeValueType.LIST, "", False, 50, ["person", "company"]),
    ("internal_note", "Внутренняя заметка", AttributeValueType.TEXT, "", False, 90, ["company"]),
]
SEGMENT_OPTIONS = [("smb", "Малый бизнес"), ("enterprise", "Крупный бизнес"), ("gov", "Госсектор")]


class Command(BaseCommand):
    help = "Load demo resellers, managers, client types, rules, users and clients (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        root, _ = Reseller.objects.get_or_create(
            parent=None,
            defaults={"name": "Облако", "postpay_mode": PostpayMode.MANUAL},
        )
        AccountValidationSettings.objects.get_or_create(
            reseller=root,
            defaults={
                "forbidden_abbreviations": "ООО\nОАО\nЗАО\nПАО\nИП\nOOO\nLLC\nLtd",
                "forbidden_tlds": ".ru\n.рф\n.com\n.net\n.org",
            },
        )
        partner, _ = Reseller.objects.get_or_create(
            parent=root,
            name="Партнёр",
            defaults={
                "terms_required": True,
                "terms_url": "https://partner.example/terms",
                "allowed_countries": ["RU", "BY", "KZ", "AM"],
            },
        )
        notification_services.ensure_default_handlers()
        for reseller in (root, partner):
            self.autofill(reseller)
        root_rules = self.rules(root)
        partner_rules = self.rules(partner)

        demo = self.manager(
            root,
            DEMO_LOGIN,
            "Ирина",
            "Смирнова",
            key="irina",
            role=ManagerRole.SYSTEM_ADMINISTRATOR,
            staff=True,
        )
        self.manager(root, "anna@oblako.example", "Анна", "Волкова", key="anna")
        self.manager(
            root,
            "sergey@oblako.example",
            "Сергей",
            "Орлов",
            key="sergey",
            status=ManagerStatus.INACTIVE,
        )
        petr = self.manager(partner, PARTNER_LOGIN, "Пётр", "Кузнецов", key="petr")
        self.manager(
            partner,
            "oleg@partner.example",
            "Олег",
            "Попов",
            key="oleg",
            status=ManagerStatus.INACTIVE,
        )

        # Every demo client is born the way the Add client page makes one.
        self.client(
            demo,
            root_rules,
            "person",
            "Петров Алексей Викторович",
            contract=("alexey.petrov@example.com", "Алексей", "Викторович", "Петров"),
            attributes={"passport_series": "4510", "passport_number": "123456"},
            manager=demo,
        )
        self.client(
            demo,
            root_rules,
            "company",
            "Ромашка",
            contract=("info@romashka.example", "Мария", "", "Соколова"),
            attributes={"inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195"},
            company="Ромашка",
            manager=demo,
        )
        self.client(
            demo,
            root_rules,
            "company",
            "Вектор",
            contract=("admin@vector.example", "Дмитрий", "", "Лебедев"),
            attributes={"inn": "500100732259"},
            company="Вектор",
            rule="vip",
        )
        self.client(
            petr,
            partner_rules,
            "person",
            "Новикова Елена Сергеевна",
            contract=("elena.novikova@example.com", "Елена", "Сергеевна", "Новикова"),
            attributes={"passport_series": "4012", "passport_number": "654321"},
            manager=petr,
        )

        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
        self.stdout.write(f"Demo login (root reseller, also admin): {DEMO_LOGIN} / {DEMO_PASSWORD}")
        self.stdout.write(
            f"Sub-reseller manager:                   {PARTNER_LOGIN} / {DEMO_PASSWORD}"
        )

    def autofill(self, reseller: Reseller) -> None:
        """Company autofill from the local stand-in directory, every field
        ticked; also for a database seeded before autofill existed. A reseller
        that already names a service keeps its settings, whatever they are."""
        if reseller.autofill_url:
            return
        reseller.autofill_enabled = True
        reseller.autofill_url = DIRECTORY_STUB_URL
        reseller.autofill_fields = list(AutofillField.values)
        reseller.save(update_fields=["autofill_enabled", "autofill_url", "autofill_fields"])

    def rules(self, reseller: Reseller) -> dict:
        types = {
            "person": ClientType.objects.get_or_create(
                reseller=reseller,
                key="person",
                defaults={
                    "name": "Физическое лицо",
                    "name_pattern": "%last_name %first_name %middle_name",
                    "is_default": True,
                },
            )[0],
            "company": ClientType.objects.get_or_create(
                reseller=reseller,
                key="company",
                defaults={
                    "name": "Юридическое лицо",
                    "primary_name": "Наименование компании",
                    "name_pattern": "%primary_name",
                    "autofill": True,
                },
            )[0],
        }
        rules = {}
        for key, name, colour, is_default in [
            ("standard", "Стандарт", "#1E88E5", True),
            ("vip", "VIP", "#E53935", False),
            ("partner", "Партнёрский", "#43A047", False),
        ]:
            rules[key] = ServiceRule.objects.get_or_create(
                reseller=reseller,
                key=key,
                defaults={"name": name, "colour": colour, "is_default": is_default},
            )[0]
        for key, name, value_type, fmt, required, weight, type_keys in ATTRIBUTES:
            attribute, created = Attribute.objects.get_or_create(
                reseller=reseller,
                key=key,
                defaults={
                    "name": name,
                    "value_type": value_type,
                    "format": fmt,
                    "required": required,
                    "weight": weight,
                    "read_only_for_admin": key == "internal_note",
                    "masked_in_log": key.startswith("passport_"),
                },
            )
            if created:
                attribute.client_types.set([types[type_key] for type_key in type_keys])
            if value_type == AttributeValueType.LIST:
                for position, (option_key, option_name) in enumerate(SEGMENT_OPTIONS):
                    AttributeOption.objects.get_or_create(
                        attribute=attribute,
                        key=option_key,
                        defaults={"name": option_name, "position": position},
                    )
        return {"types": types, "rules": rules}

    def manager(
        self,
        reseller: Reseller,
        email: str,
        first_name: str,
        last_name: str,
        *,
        key: str,
        role: str = ManagerRole.SALES,
        status: str = ManagerStatus.ACTIVE,
        staff: bool = False,
    ) -> Manager:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=DEMO_PASSWORD,
                first_name=first_name,
                last_name=last_name,
                is_staff=staff,
                is_superuser=staff,
            )
        manager, _ = Manager.objects.get_or_create(
            user=user, defaults={"reseller": reseller, "key": key, "role": role, "status": status}
        )
        manager_role_sync(manager=manager)  # the role's group gives its permissions
        return manager

    def client(
        self,
        actor: Manager,
        rules: dict,
        type_key: str,
        name: str,
        *,
        contract: tuple[str, str, str, str],
        attributes: dict[str, str],
        company: str = "",
        rule: str = "standard",
        manager: Manager | None = None,
    ) -> None:
        reseller = actor.reseller
        if Client.objects.filter(reseller=reseller, name=name).exists():
            return
        email, first_name, middle_name, last_name = contract
        existing = User.objects.filter(email__iexact=email).first()
        client_create(
            actor=actor,
            reseller=reseller,
            client_info=ClientInfo(
                client_type=rules["types"][type_key],
                company_name=company,
                manager=manager,
                service_rule=rules["rules"][rule],
                postpay_permission=PostpayPermission.APPROVED
                if reseller.postpay_is_manual
                else None,
            ),
            contacts=Contacts(
                country="RU",
                region="Москва",
                city="Москва",
                postal_code="125009",
                address_line1="ул. Тверская, 1",
                phone="+74951234567",
                email=email,
            ),
            contract_person=ContractPerson(
                first_name=first_name, middle_name=middle_name, last_name=last_name, email=email
            ),
            owner=ExistingOwner(user_id=existing.pk)
            if existing
            else NewOwner(
                first_name=first_name, middle_name=middle_name, last_name=last_name, email=email
            ),
            agreements=Agreements(accepted=reseller.terms_required),
            attributes=attributes,
        )
