"""Connections: the settings DATABASE_POOL_MAX_SIZE, DATABASE_PGBOUNCER and
DATABASE_REPLICA_URL make, Django's psycopg pool at work, and the key pages
through a real PgBouncer in transaction mode."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from clients.models import Client
from tests.clients.test_client_create_page import page_data, person
from tests.conftest import PASSWORD
from tests.notifications.test_smtp_worker import database_url
from tests.operations.servers import PGBOUNCER, Gunicorn, PgBouncer

BASE_DIR = Path(__file__).resolve().parents[2]
PG_URL = "postgres://panel@db.example:5432/panel"


def settings_with(**env: str) -> dict:
    """The DATABASES and routing settings a process started with ``env`` gets."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({'DATABASES': settings.DATABASES, "
        "'ROUTERS': settings.DATABASE_ROUTERS}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")},
            "DJANGO_SETTINGS_MODULE": "operator_panel.settings",
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_by_default_no_pool_no_replica_and_prepared_statements_off():
    databases = settings_with(DATABASE_URL=PG_URL)["DATABASES"]
    assert set(databases) == {"default"}
    default = databases["default"]
    assert "pool" not in default["OPTIONS"]
    assert default["OPTIONS"]["connect_timeout"] == 5
    assert default["CONN_HEALTH_CHECKS"] is True
    assert not default.get("DISABLE_SERVER_SIDE_CURSORS")


def test_the_pool_size_turns_on_djangos_psycopg_pool():
    default = settings_with(
        DATABASE_URL=PG_URL, DATABASE_POOL_MAX_SIZE="4", DATABASE_CONN_MAX_AGE="60"
    )["DATABASES"]["default"]
    assert default["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 10.0}
    # Django refuses a pool with persistent connections: the pool keeps them.
    assert default["CONN_MAX_AGE"] == 0


def test_pgbouncer_mode_has_no_server_side_cursors_nor_prepared_statements():
    default = settings_with(DATABASE_URL=PG_URL, DATABASE_PGBOUNCER="true")["DATABASES"]["default"]
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert default["OPTIONS"]["prepare_threshold"] is None


def test_a_replica_url_adds_a_replica_alias_mirrored_in_tests():
    found = settings_with(
        DATABASE_URL=PG_URL, DATABASE_REPLICA_URL="postgres://panel@replica.example:5432/panel"
    )
    replica = found["DATABASES"]["replica"]
    assert replica["HOST"] == "replica.example"
    assert replica["TEST"]["MIRROR"] == "default"
    assert found["ROUTERS"] == ["operations.routing.ReplicaRouter"]


def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the pool and PgBouncer are PostgreSQL's")


@pytest.mark.django_db(transaction=True)
def test_the_pool_serves_a_process_threads_with_at_most_its_size():
    postgresql_only()
    code = """
import json, threading, django
django.setup()
from django.db import connection, connections
from users.models import User

def work():
    for _ in range(20):
        User.objects.count()
    connections.close_all()

threads = [threading.Thread(target=work) for _ in range(6)]
for thread in threads: thread.start()
for thread in threads: thread.join()
stats = connection.pool.get_stats()
print(json.dumps({"max": connection.pool.max_size, "opened": stats.get("connections_num", 0)}))
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "operator_panel.settings",
            "DATABASE_URL": database_url(),
            "DATABASE_POOL_MAX_SIZE": "2",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.splitlines()[-1])
    # Six threads, 120 queries, never more than two server connections.
    assert figures["max"] == 2
    assert 1 <= figures["opened"] <= 2


def server_password(user) -> None:
    """The tests' fast MD5 hash is not among a server's hashers: hash the
    password as the server does."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])


def sign_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:300]
    return session


@pytest.mark.django_db(transaction=True)
def test_the_key_pages_through_pgbouncer_in_transaction_mode(
    tmp_path, petr, sub_rules, client_created_handler
):
    """Sign in, Add client, the list, a search, the client page and the whole
    CSV export, with DATABASE_PGBOUNCER=true and the pool on, through a real
    PgBouncer that hands each transaction to any of its server connections."""
    postgresql_only()
    if PGBOUNCER is None:
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is missing (apt-get install pgbouncer)")
        pytest.skip("pgbouncer is not installed")
    server_password(petr.user)
    db = connection.settings_dict
    bouncer = PgBouncer(
        host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 5432), user=db["USER"]
    )
    web = None
    try:
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{bouncer.port}/{db['NAME']}",
            "DATABASE_PGBOUNCER": "true",
            "DATABASE_POOL_MAX_SIZE": "2",
            "LOG_FORMAT": "json",
        }
        web = Gunicorn(env, tmp_path)
        browser = sign_in(web.url, "petr@partner.example")
        for number in range(3):
            page = browser.get(f"{web.url}/clients/create/", timeout=30)
            data = person(
                page_data(page),
                **{
                    "owner-new_email": f"bouncer{number}@example.com",
                    "contacts-email": f"c{number}@example.com",
                },
            )
            created = browser.post(
                f"{web.url}/clients/create/", data=data, allow_redirects=False, timeout=30
            )
            assert created.status_code == 302, created.text[:500]
            assert browser.get(web.url + created.headers["Location"], timeout=30).ok
        assert browser.get(f"{web.url}/clients/", timeout=30).status_code == 200
        search = browser.get(f"{web.url}/clients/?q=Иванов", timeout=30)
        assert search.status_code == 200
        export = browser.get(f"{web.url}/clients/export.csv", timeout=60)
        assert export.status_code == 200
        rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
        assert len(rows) == 1 + Client.objects.filter(reseller=petr.reseller).count() == 4
    finally:
        log = web.stop() if web else ""
        bouncer.stop()
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PgBouncer is PostgreSQL's; on SQLite the export reads its rows in chunks",
)
def test_without_server_side_cursors_the_export_never_fetches_all_rows_at_once(
    petr_browser, petr, sub_rules
):
    """Behind PgBouncer no query of the export may be an unbounded SELECT on a
    client-side cursor (psycopg would hold every row in memory): the rows
    come by COPY (not a captured query) or in LIMITed batches."""
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import make_client

    for number in range(3):
        make_client(reseller=petr.reseller, rules=sub_rules, name=f"Клиент {number}")
    connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
    try:
        with CaptureQueriesContext(connection) as queries:
            response = petr_browser.get("/clients/export.csv")
            body = b"".join(response.streaming_content)
    finally:
        connection.settings_dict.pop("DISABLE_SERVER_SIDE_CURSORS")
    assert body.count(b"\n") == 4
    unbounded = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith("SELECT")
        and 'FROM "clients_client"' in query["sql"]
        and " LIMIT " not in query["sql"].upper()
    ]
    assert unbounded == []
