"""Scale data for the benchmark: N clients with their owners, INNs and event
logs, loaded into PostgreSQL with COPY.

    DATABASE_URL=postgres://…/panel_bench manage.py seed_scale --clients 1000000

PostgreSQL only: the command refuses SQLite (a million rows through the ORM
would take an hour, and SQLite is the development database). It adds to what
is there, so it may run twice; it needs a role that may COPY and, for speed,
set ``session_replication_role`` (a superuser; without it the foreign keys
are checked row by row, which is only slower).

The world: the root reseller (kept or made), one major reseller holding 90%
of the new clients and a few smaller ones, each with client types, service
rules, the INN attribute and managers; clients are companies (Russian and
Latin legal forms) and private persons (Russian and Latin names), with the
statuses, rules and managers spread as a real installation's. Every client
has a new owner user (unusable password) and about three event-log entries.
The bench manager (``--manager-email``) signs in with ``--manager-password``;
it is staff and superuser so that it can open Django admin too.

To load fast the secondary indexes of the five big tables are dropped and
built again after the load, and the tables are vacuumed and analysed.
"""

import datetime as dt
import io
import random
import time
from collections.abc import Iterator

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from clients.management.scale_data import (
    CITIES,
    COMPANY_WORDS,
    COUNTRIES,
    DOMAINS,
    FEMALE_FIRST,
    FEMALE_LAST,
    FEMALE_MIDDLE,
    INN_WEIGHTS,
    LATIN,
    LATIN_FIRST,
    LATIN_FORMS,
    LATIN_LAST,
    LATIN_WORDS,
    MAJOR_SHARE,
    MALE_FIRST,
    MALE_LAST,
    MALE_MIDDLE,
    POSTPAY,
    PREFIX,
    RU_FORMS,
    STATUSES,
    STREETS,
    YEARS_OF_HISTORY,
)
from clients.search import search_text
from rules.models import Attribute, AttributeValueType, ClientType, ServiceRule
from users.models import Manager, ManagerRole, Reseller, User


def inn10(number: int) -> str:
    """A ten-digit INN of an organisation with a correct check digit."""
    digits = f"{number % 10**9:09d}"
    check = sum(int(d) * w for d, w in zip(digits, INN_WEIGHTS, strict=True)) % 11 % 10
    return digits + str(check)


def _text(value: object) -> str:
    """One COPY text-format field; the generated data holds no tab, newline or backslash."""
    return r"\N" if value is None else str(value)


class Command(BaseCommand):
    help = "Load N scale clients (PostgreSQL COPY) for the benchmark; PostgreSQL only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument(
            "--resellers", type=int, default=5, help="new resellers, the first major"
        )
        parser.add_argument(
            "--managers", type=int, default=9, help="managers of the major reseller"
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--manager-email", default="bench@scale.example")
        parser.add_argument("--manager-password", default="bench-password-2026")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_scale loads data with PostgreSQL's COPY and needs PostgreSQL: set "
                "DATABASE_URL=postgres://user@host:5432/panel_bench (SQLite is for development)."
            )
        count = options["clients"]
        if count < 1 or options["resellers"] < 1:
            raise CommandError("--clients and --resellers must be at least 1.")
        self.rng = random.Random(options["seed"])
        started = time.monotonic()
        with transaction.atomic():
            world = self._world(options)
            self._log(started, "resellers, rules and managers ready")
            with connection.cursor() as cursor:
                self._load(cursor, world, count, started)
        with connection.cursor() as cursor:
            for table in self.TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")
        self._log(started, f"done: {count} clients")

    TABLES = (
        "users_user",
        "clients_client",
        "clients_clientaccess",
        "clients_clientattributevalue",
        "clients_clientevent",
    )

    def _log(self, started: float, message: str) -> None:
        self.stdout.write(f"[{time.monotonic() - started:7.1f}s] {message}")

    # --- The small world, through the ORM ---------------------------------------

    def _world(self, options: dict) -> list[dict]:
        root = Reseller.objects.filter(parent__isnull=True).first()
        if root is None:
            root = Reseller.objects.create(name="Облако")
        password = make_password(options["manager_password"])
        stamp = timezone.now().strftime("%Y%m%d%H%M%S")
        resellers = []
        for position in range(options["resellers"]):
            name = "Major Cloud Partner" if position == 0 else f"Партнёр {position} ({stamp})"
            if position == 0:
                reseller = Reseller.objects.filter(name=name, parent=root).first()
                reseller = reseller or Reseller.objects.create(name=name, parent=root)
            else:
                reseller = Reseller.objects.create(name=name, parent=root)
            resellers.append(self._reseller_rules(reseller))
        major = resellers[0]
        wanted = options["managers"] if len(major["managers"]) < options["managers"] else 0
        for number in range(len(major["managers"]), wanted):
            major["managers"].append(self._manager(major["reseller"], number, password))
        for world in resellers[1:]:
            for number in range(3):
                world["managers"].append(self._manager(world["reseller"], number, password))
        bench = User.objects.filter(email__iexact=options["manager_email"]).first()
        if bench is None:
            bench = User.objects.create(
                email=options["manager_email"],
                first_name="Бенч",
                last_name="Менеджер",
                is_staff=True,
                is_superuser=True,
                password=password,
            )
            Manager.objects.create(
                user=bench,
                reseller=major["reseller"],
                role=ManagerRole.SYSTEM_ADMINISTRATOR,
                key="bench",
            )
        else:
            bench.password = password
            bench.save(update_fields=["password"])
        for world in resellers:
            world["manager_ids"] = [manager.pk for manager in world["managers"]]
        return resellers

    def _manager(self, reseller: Reseller, number: int, password: str) -> Manager:
        first, last = self.rng.choice(FEMALE_FIRST), self.rng.choice(FEMALE_LAST)
        user = User.objects.create(
            email=f"manager{number}.r{reseller.pk}@{PREFIX}.example",
            first_name=first,
            last_name=last,
            password=password,
        )
        return Manager.objects.create(user=user, reseller=reseller, key=f"m{number}")

    def _reseller_rules(self, reseller: Reseller) -> dict:
        person, _ = ClientType.objects.get_or_create(
            reseller=reseller,
            key="person",
            defaults={
                "name": "Физическое лицо",
                "is_default": True,
                "name_pattern": "%last_name %first_name %middle_name",
            },
        )
        company, _ = ClientType.objects.get_or_create(
            reseller=reseller,
            key="company",
            defaults={
                "name": "Юридическое лицо",
                "primary_name": "Наименование компании",
                "name_pattern": "%primary_name",
            },
        )
        rules = []
        for key, name, colour, default in [
            ("standard", "Стандарт", "#1E88E5", True),
            ("vip", "VIP", "#E53935", False),
            ("partner", "Партнёрский", "#43A047", False),
        ]:
            rule, _ = ServiceRule.objects.get_or_create(
                reseller=reseller,
                key=key,
                defaults={"name": name, "colour": colour, "is_default": default},
            )
            rules.append(rule.pk)
        inn, created = Attribute.objects.get_or_create(
            reseller=reseller,
            key="inn",
            defaults={
                "name": "ИНН",
                "value_type": AttributeValueType.STRING,
                "required": True,
                "weight": 10,
            },
        )
        if created:
            inn.client_types.set([company])
        return {
            "reseller": reseller,
            "person": person.pk,
            "company": company.pk,
            "rules": rules,
            "inn": inn.pk,
            "managers": list(Manager.objects.filter(reseller=reseller)),
        }

    # --- The big tables, through COPY -----------------------------------------------

    def _load(self, cursor, world: list[dict], count: int, started: float) -> None:
        try:
            with transaction.atomic():
                # Skips the foreign-key triggers: the rows are made consistent.
                cursor.execute("SET LOCAL session_replication_role = replica")
        except Exception:  # not a superuser: the foreign keys are checked row by row instead
            self.stdout.write("session_replication_role refused: foreign keys checked per row")
        else:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")
        for table in self.TABLES:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        dropped = self._drop_indexes(cursor)
        self._log(started, f"dropped {len(dropped)} secondary indexes")
        first = {}
        for table in self.TABLES:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
            first[table] = cursor.fetchone()[0]
        plan = self._plan(world, count)
        self._log(started, "planned")
        copies = [
            (
                "users_user",
                "id, password, is_superuser, email, first_name, middle_name, "
                "last_name, is_active, is_staff, date_joined",
                self._users,
            ),
            (
                "clients_client",
                "id, reseller_id, client_type_id, company_name, name, manager_id, "
                "service_rule_id, postpay_permission, status, country, region, city, postal_code, "
                "address_line1, address_line2, phone, email, contract_first_name, "
                "contract_middle_name, contract_last_name, contract_email, terms_status, "
                "created_at, version, search_text",
                self._clients,
            ),
            ("clients_clientaccess", "id, client_id, user_id, level, created_at", self._accesses),
            ("clients_clientattributevalue", "id, client_id, attribute_id, value", self._inns),
            (
                "clients_clientevent",
                "id, client_id, created_at, event_type, subject, "
                "description, actor_id, visible_to_client, data",
                self._events,
            ),
        ]
        for table, columns, rows in copies:
            written = 0
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                buffer = io.StringIO()
                for line in rows(plan, first):
                    buffer.write(line)
                    written += 1
                    if written % 20_000 == 0:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
            self._log(started, f"{table}: {written} rows copied")
        for table in self.TABLES:
            sequence = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            cursor.execute(sequence + f"(SELECT MAX(id) FROM {table}))")  # noqa: S608
        for name, definition in dropped:
            cursor.execute(definition)
            self._log(started, f"index {name} rebuilt")

    def _drop_indexes(self, cursor) -> list[tuple[str, str]]:
        """The indexes that back no constraint, with their definitions."""
        dropped = []
        for table in self.TABLES:
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                [table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{name}"')
                dropped.append((name, definition))
        return dropped

    def _plan(self, world: list[dict], count: int) -> list[tuple]:
        """Per client: (world, is_company, name parts, created_at), in time order."""
        rng = self.rng
        now = timezone.now().replace(microsecond=0)
        start = now - dt.timedelta(days=365 * YEARS_OF_HISTORY)
        step = (now - start) / count
        minor = world[1:] or world
        plan = []
        for number in range(count):
            owner_world = world[0] if rng.random() < MAJOR_SHARE else rng.choice(minor)
            latin = rng.random() < 0.15
            if latin:
                first, middle, last = rng.choice(LATIN_FIRST), "", rng.choice(LATIN_LAST)
            elif rng.random() < 0.5:
                first, middle, last = (
                    rng.choice(MALE_FIRST),
                    rng.choice(MALE_MIDDLE),
                    rng.choice(MALE_LAST),
                )
            else:
                first, middle, last = (
                    rng.choice(FEMALE_FIRST),
                    rng.choice(FEMALE_MIDDLE),
                    rng.choice(FEMALE_LAST),
                )
            company = ""
            if rng.random() < 0.5:
                if latin:
                    company = (
                        f"{rng.choice(LATIN_WORDS)} {rng.choice(LATIN_WORDS)} "
                        f"{rng.choice(LATIN_FORMS)}"
                    )
                elif rng.random() < 0.1:
                    company = f"ИП {last} {first[0]}. {middle[:1]}."
                else:
                    words = f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()}"
                    company = f"{rng.choice(RU_FORMS)} «{words}»"
            created = start + step * number + dt.timedelta(seconds=rng.randrange(60))
            plan.append((owner_world, company, first, middle, last, latin, created))
        return plan

    def _users(self, plan: list[tuple], first: dict) -> Iterator[str]:
        base = first["users_user"]
        rng = random.Random(1)
        for number, (_world, _company, name, middle, last, _latin, created) in enumerate(plan):
            user_id = base + number
            email = self._owner_email(rng, name=name, last=last, user_id=user_id)
            yield (
                f"{user_id}\t!{PREFIX}\tf\t{email}\t{name}\t{middle}\t{last}\tt\tf\t"
                f"{created.isoformat()}\n"
            )

    @staticmethod
    def _owner_email(rng: random.Random, *, name: str, last: str, user_id: int) -> str:
        """The owner's email: _users and _clients (for the search text) draw
        the same ones, each from its own random.Random(1)."""
        return f"{LATIN[name]}.{LATIN[last]}{user_id}@{rng.choice(DOMAINS)}"

    def _clients(self, plan: list[tuple], first: dict) -> Iterator[str]:
        base, rng = first["clients_client"], random.Random(2)
        owner_rng = random.Random(1)
        for number, (world, company, name, middle, last, latin, created) in enumerate(plan):
            client_id = base + number
            type_id = world["company"] if company else world["person"]
            display = company or " ".join(part for part in (last, name, middle) if part)
            manager = rng.choice(world["manager_ids"]) if rng.random() < 0.9 else None
            draw = rng.random()
            rule = world["rules"][0 if draw < 0.7 else 1 if draw < 0.8 else 2]
            draw = rng.random()
            status = next(value for value, weight in STATUSES if draw < weight)
            city, region, postcode = rng.choice(CITIES)
            country = rng.choice(COUNTRIES)
            phone = f"+79{(client_id * 7919 + 12345) % 10**9:09d}"
            mail = f"{LATIN[last]}{client_id}@{rng.choice(DOMAINS)}"
            address = f"{rng.choice(STREETS)}, {rng.randrange(1, 120)}"
            owner_email = self._owner_email(
                owner_rng, name=name, last=last, user_id=first["users_user"] + number
            )
            yield (
                "\t".join(
                    (
                        str(client_id),
                        str(world["reseller"].pk),
                        str(type_id),
                        company,
                        display,
                        _text(manager),
                        str(rule),
                        rng.choice(POSTPAY),
                        status,
                        country,
                        region,
                        city,
                        postcode,
                        address,
                        "",
                        phone,
                        mail,
                        name,
                        middle,
                        last,
                        f"c{client_id}@{'example.com' if latin else 'mail.ru'}",
                        "not_requested",
                        created.isoformat(),
                        "1",
                        search_text(name=display, phone=phone, owner_email=owner_email),
                    )
                )
                + "\n"
            )

    def _accesses(self, plan: list[tuple], first: dict) -> Iterator[str]:
        clients, users, base = (
            first["clients_client"],
            first["users_user"],
            first["clients_clientaccess"],
        )
        for number, row in enumerate(plan):
            created = row[6].isoformat()
            yield f"{base + number}\t{clients + number}\t{users + number}\towner\t{created}\n"

    def _inns(self, plan: list[tuple], first: dict) -> Iterator[str]:
        clients, next_id = first["clients_client"], first["clients_clientattributevalue"]
        for number, (world, company, *_rest) in enumerate(plan):
            if company:
                yield f"{next_id}\t{clients + number}\t{world['inn']}\t{inn10(clients + number)}\n"
                next_id += 1

    def _events(self, plan: list[tuple], first: dict) -> Iterator[str]:
        clients, next_id = first["clients_client"], first["clients_clientevent"]
        rng = random.Random(3)
        later = [
            ("client.status_changed", "Статус изменён", "Активен → Финансовая блокировка", "t"),
            ("client.manager_changed", "Менеджер изменён", "Назначен новый менеджер", "f"),
            ("client.postpay_decided", "Постоплата: решение", "Подтверждено", "f"),
        ]
        for number, row in enumerate(plan):
            created = row[6]
            client_id = clients + number
            yield (
                f"{next_id}\t{client_id}\t{created.isoformat()}\tclient.created\t"
                f"Клиент создан\t\t\\N\tt\t{{}}\n"
            )
            next_id += 1
            for step in range(2):
                event_type, subject, description, visible = rng.choice(later)
                moment = created + dt.timedelta(days=rng.randrange(1, 300), hours=step)
                yield (
                    f"{next_id}\t{client_id}\t{moment.isoformat()}\t{event_type}\t{subject}\t"
                    f"{description}\t\\N\t{visible}\t{{}}\n"
                )
                next_id += 1
