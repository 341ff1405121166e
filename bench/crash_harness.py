# ruff: noqa: S603, S607 - a benchmark harness that runs our own commands on loopback
"""Shared by bench/crash.py, bench/concurrency.py and bench/soak.py: a
PostgreSQL database of its own, gunicorn in production mode on loopback,
signed-in HTTP sessions and the Add client page's fields.

Nothing here talks to anything but 127.0.0.1.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import django
import psycopg
import requests

from tests import pages

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-horse-staple"


def database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(db_name: str, var_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "operator_panel.settings",
        "DATABASE_URL": database_url(db_name),
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "HTTPS_ONLY": "false",  # loopback has no TLS
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def prepare_database(db_name: str, var_dir: Path) -> None:
    """Drop and create the database, migrate, collect static files."""
    with psycopg.connect(
        PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{db_name}"')
    env = base_env(db_name, var_dir)
    for command in (
        ["migrate", "--no-input", "-v", "0"],
        ["collectstatic", "--no-input", "-v", "0"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
        )


def django_setup(db_name: str, var_dir: Path) -> None:
    """Use the bench database from this process (seeding, checking)."""
    os.environ.update(base_env(db_name, var_dir))
    django.setup()


def seed(*, managers: int = 2) -> dict:
    """The root reseller with the demo rules, a "client created" email
    handler and `managers` product owners; returns their emails."""
    # After django_setup: models cannot be imported before Django is set up.
    from clients.models import EventType
    from notifications.models import Channel, EventHandler, NotificationTemplate
    from rules.models import AccountValidationSettings
    from tests.conftest import make_reseller_rules
    from users.models import ManagerRole, Reseller, User
    from users.services import manager_create

    root = Reseller.objects.create(name="Облако")
    AccountValidationSettings.objects.create(reseller=root)
    make_reseller_rules(root)
    template = NotificationTemplate.objects.order_by("pk").first()
    EventHandler.objects.create(
        reseller=root, event=EventType.CLIENT_CREATED, channel=Channel.EMAIL, template=template
    )
    emails = []
    for number in range(managers):
        email = f"manager{number}@bench.example"
        user = User.objects.create_user(
            email=email, password=PASSWORD, first_name="Бенч", last_name=f"Менеджер{number}"
        )
        manager_create(
            user=user, reseller=root, role=ManagerRole.PRODUCT_OWNER, key=f"bench{number}"
        )
        emails.append(email)
    return {"managers": emails}


def api_person(
    type_id: int, *, email: str = "", contact_email: str = "", attributes: dict | None = None
) -> dict:
    """The API's create body of a private person whose contract person becomes
    the new owner; the emails unique on every call unless given; ``attributes``
    the type's custom attributes by key."""
    unique = uuid.uuid4().hex[:12]
    custom = [{"key": key, "value": value} for key, value in (attributes or {}).items()]
    return {
        "data": {
            "type": "accounts",
            "attributes": {
                "account_type_id": type_id,
                "first_name": "Иван",
                "last_name": "Апишников",
                "email": email or f"api.{unique}@example.com",
                "city": "Москва",
                "address_line1": "ул. Тверская, 1",
                "phone": "+7 916 123-45-67",
                "contact_email": contact_email or f"api.client.{unique}@example.com",
                **({"custom_attributes": custom} if custom else {}),
            },
        }
    }


class Gunicorn:
    """gunicorn in production mode on a free loopback port. threads=1 is the
    sync worker `make serve` runs; more threads make it the gthread worker.
    Its log (VAR_DIR/gunicorn.log) is kept: `problems()` reads it."""

    def __init__(
        self,
        env: dict,
        *,
        workers: int = 4,
        threads: int = 1,
        preload: bool = False,
        timeout: int = 60,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "operator_panel.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            str(timeout),
            "--graceful-timeout",
            "5",
        ]
        if preload:
            command.append("--preload")
        # A file, not an unread pipe: a pipe that fills up would block the server.
        self.log_path = Path(env["VAR_DIR"]) / "gunicorn.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        self.wait_ready()

    def problems(self) -> list[str]:
        """The log's lines about a worker timed out, killed or failing."""
        markers = ("WORKER TIMEOUT", "Traceback", "[ERROR]", "[CRITICAL]", "was sent SIGKILL")
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if any(marker in line for marker in markers)]

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/accounts/login/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def sign_in(base_url: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base_url + "/accounts/login/", timeout=30)
    token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = session.post(
        base_url + "/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": email, "password": PASSWORD},
        headers={"Referer": base_url + "/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, (response.status_code, response.text[:500])
    return session


def create_page_data(session: requests.Session, base_url: str, **changes: str) -> dict:
    """The Add client page's fields as a browser would submit them, filled
    with a valid private person and a new owner."""
    page = session.get(base_url + "/clients/create/", timeout=30)
    assert page.status_code == 200, page.status_code
    changes.setdefault("owner-new_email", f"owner-{uuid.uuid4().hex[:12]}@bench.example")
    return pages.person(pages.form_data(page.text), **changes)


def post_create(session: requests.Session, base_url: str, data: dict, timeout: float = 60):
    return session.post(
        base_url + "/clients/create/",
        data=data,
        headers={"Referer": base_url + "/clients/create/"},
        allow_redirects=False,
        timeout=timeout,
    )


def write_result(name: str, result: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return path
