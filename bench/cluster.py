# ruff: noqa: S603 - a benchmark that runs our own servers on loopback
"""Several machines' worth of processes on this one, with faults.

The script owns everything it runs, on loopback only:

- a PostgreSQL primary made by ``initdb`` in a temporary directory on a free
  port, and a streaming replica of it (``pg_basebackup -R`` into another
  temporary directory, ``pg_ctl`` on another port): the machine's own
  PostgreSQL (port 5432, other people's tests) is never touched or restarted;
- two gunicorn web nodes (``gunicorn.conf.py``, production settings, the
  psycopg pool, ``DATABASE_REPLICA_URL`` pointing at the replica);
- three task workers (``manage.py db_worker``) sending to a local SMTP server
  (aiosmtpd), each serving its metrics on a port of its own;
- a client of 8 threads, each signed in once and using its one session on
  both nodes in turn, that sends 10,000 mixed requests: 1,000 clients
  created through the Add client page (the page, the post, then at once the
  new client's page and a list search for it on the other node: the
  read-after-write check), 500 created through the API (the POST with an
  Idempotency-Key, then at once the account by its id on the other node,
  which must never miss, and the API's list filtered by the contact email,
  which reads the replica and may lag: counted, not an error), the list,
  searches, client pages, the owner search, the API's list, the export and
  readiness probes. Each thread's API requests carry its manager's token
  and no cookie, as a program's would. The client is its own balancer: a
  request that a node refused (nothing sent) goes to the other node.

Faults during the run: one web node SIGKILLed and restarted (at 20 % of the
requests), one task worker SIGKILLed and restarted (40 %), the primary
restarted with ``pg_ctl restart -m fast`` (60 %). A request that meets the
restart may fail with the clean 503 page (the API: a JSON:API 503); an Add
client post that gets one is sent again (the page's one-time token makes that
safe), as a person would, and an API create is sent again with its
Idempotency-Key, as the API's documentation tells a program to.

Then: the queue must drain, every acknowledged client must exist, every
client's owner must have received exactly one email, both nodes' /metrics
are scraped. Last, requests/s of one node alone against both nodes.

Usage: ``flock /tmp/heavy.lock .venv/bin/python bench/cluster.py``
(``--requests``, ``--creations``, ``--api-creations``, ``--concurrency``). Writes
bench/results/cluster.json.
"""

import argparse
import collections
import email
import glob
import http.cookiejar
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import requests
from aiosmtpd.controller import Controller
from prometheus_client.parser import text_string_to_metric_families

from bench.crash_harness import (
    BASE_DIR,
    api_person,
    free_port,
    sign_in,
    write_result,
)

PG_BIN = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
DB_NAME = "panel"
METRICS_TOKEN = "cluster-metrics-token"
# The panel's own 503 page, in either language, and the API's JSON:API 503.
UNAVAILABLE_MARKERS = ("Temporarily unavailable", "Временно недоступно", '"service_unavailable"')
API_MEDIA_TYPE = "application/vnd.api+json"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL's tools refuse to run as root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


# --- PostgreSQL: a primary and its streaming replica ------------------------------


class Postgres:
    def __init__(self, data: Path, port: int) -> None:
        self.data = data
        self.port = port
        self.log_file = data.parent / f"{data.name}.log"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DB_NAME}"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_file),
                         "-w", "-t", "60", *args]),
            check=True, capture_output=True,
        )  # fmt: skip

    def configure(self, **settings: str) -> None:
        with (self.data / "postgresql.conf").open("a") as conf:
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")

    @classmethod
    def primary(cls, root: Path) -> "Postgres":
        server = cls(root / "primary", free_port())
        subprocess.run(
            as_postgres([str(PG_BIN / "initdb"), "-D", str(server.data), "-U", "postgres",
                         "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True, capture_output=True,
        )  # fmt: skip
        server.configure(
            listen_addresses="'127.0.0.1'",
            port=str(server.port),
            unix_socket_directories=f"'{server.data}'",
            wal_level="replica",
            max_wal_senders="5",
            hot_standby="on",
            max_connections="100",
        )
        with (server.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        server.pg_ctl("start")
        return server

    def replica(self, root: Path) -> "Postgres":
        server = Postgres(root / "replica", free_port())
        subprocess.run(
            as_postgres([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port),
                         "-U", "postgres", "-D", str(server.data), "-R", "-X", "stream",
                         "--checkpoint=fast"]),
            check=True, capture_output=True,
        )  # fmt: skip
        server.configure(port=str(server.port), unix_socket_directories=f"'{server.data}'")
        server.pg_ctl("start")
        return server

    def connect(self, dbname: str = DB_NAME) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname,
            autocommit=True, connect_timeout=3,
        )  # fmt: skip

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast")


# --- the panel's processes --------------------------------------------------------


def panel_env(primary: Postgres, var_dir: Path, smtp_port: int, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PROMETHEUS_"))},
        "DJANGO_SETTINGS_MODULE": "operator_panel.settings",
        "DATABASE_URL": primary.url,
        "DATABASE_POOL_MAX_SIZE": "2",
        "DATABASE_CONNECT_TIMEOUT": "2",
        "DEBUG": "false",
        "SECRET_KEY": "cluster-bench-secret-key-" + "x" * 40,
        "HTTPS_ONLY": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "VAR_DIR": str(var_dir),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "METRICS_TOKEN": METRICS_TOKEN,
        "EMAIL_BACKEND": "smtp",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_TIMEOUT": "5",
        "PANEL_URL": "http://panel.test",
        "NOTIFICATION_RETRY_BASE_DELAY": "1",
        "NOTIFICATION_RETRY_MAX_DELAY": "5",
        # A SIGKILLed worker's task is put back after 15 s.
        "TASK_LEASE_SECONDS": "15",
        "TASK_LEASE_CHECK_INTERVAL": "2",
        "WORKER_HEARTBEAT_INTERVAL": "2",
        "HEALTH_WORKER_HEARTBEAT_MAX_AGE": "20",
        **extra,
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, capture_output=True
    )


class WebNode:
    def __init__(self, name: str, env: dict[str, str], root: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(root / f"prometheus-{name}")}
        self.log_path = root / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        """Start and wait until it answers /health/live; returns the seconds."""
        started = time.monotonic()
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                 "operator_panel.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", "2", "--timeout", "60", "--graceful-timeout", "5"],
                cwd=BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_until(lambda: http_ok(self.url + "/health/live"), 60, f"{self.name} to start")
        return time.monotonic() - started

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


class TaskWorker:
    def __init__(self, name: str, env: dict[str, str], root: Path) -> None:
        self.name = name
        self.metrics_port = free_port()
        self.env = {**env, "WORKER_METRICS_PORT": str(self.metrics_port)}
        self.log_path = root / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.5",
                 "--queue-name", "default,auth",
                 "--worker-id", f"{self.name}-{uuid.uuid4().hex[:8]}"],
                cwd=BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Inbox:
    """The SMTP server's mailbox: every message, by recipient and Message-ID."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_recipient: collections.Counter = collections.Counter()
        self.by_message_id: collections.Counter = collections.Counter()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.by_recipient[recipient.lower()] += 1
            self.by_message_id[message.get("Message-ID", "")] += 1
        return "250 Message accepted"


def http_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=3).status_code == 200
    except requests.RequestException:
        return False


def wait_until(condition, seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise RuntimeError(f"gave up waiting for {what}")


# --- the load ---------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.by_status: collections.Counter = collections.Counter()
        self.clean_503 = 0
        self.errors: list[str] = []
        self.failovers = 0
        self.resubmits = 0
        self.read_after_write_misses: list[str] = []
        self.created: list[tuple[int, str]] = []  # (client id, owner email)
        self.created_by_channel: collections.Counter = collections.Counter()
        self.api_creates_resent: collections.Counter = collections.Counter()  # by status
        self.api_replayed = 0
        self.api_list_lagging = 0  # the replica's list did not show it yet
        self.latencies: list[float] = []

    def count(self, status: int, seconds: float) -> int:
        with self.lock:
            self.requests += 1
            self.by_status[status] += 1
            self.latencies.append(seconds)
            return self.requests

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


class Client:
    """One person: a session signed in once, used on every node in turn."""

    def __init__(self, nodes: list[WebNode], manager: dict, stats: Stats, progress) -> None:
        self.nodes = nodes
        self.turn = random.randrange(len(nodes))
        self.stats = stats
        self.progress = progress
        self.session = sign_in(nodes[0].url, manager["email"])
        # A program speaks to the API: its token, and no cookie kept.
        self.api = requests.Session()
        self.api.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self.api.headers.update({"X-Api-Token": manager["token"], "Accept": API_MEDIA_TYPE})
        self.accounts = f"/api/v3/resellers/{manager['reseller_id']}/accounts"
        self.person_type_id = manager["person_type_id"]

    def _next_node(self) -> int:
        self.turn = (self.turn + 1) % len(self.nodes)
        return self.turn

    def send(
        self,
        method: str,
        path: str,
        *,
        node: int | None = None,
        session: requests.Session | None = None,
        **kwargs,
    ) -> tuple:
        """The request on the given (else the next) node; on a refused or
        reset connection, on the other node, like a balancer's retry."""
        session = session or self.session
        first = self._next_node() if node is None else node
        last_error = None
        for attempt in range(len(self.nodes) * 2):
            index = (first + attempt) % len(self.nodes)
            url = self.nodes[index].url + path
            started = time.monotonic()
            try:
                response = session.request(method, url, timeout=60, allow_redirects=False, **kwargs)
            except requests.ConnectionError as error:
                last_error = error
                with self.stats.lock:
                    self.stats.failovers += 1
                time.sleep(0.2)
                continue
            done = self.stats.count(response.status_code, time.monotonic() - started)
            self.progress(done)
            if response.status_code == 503:
                if any(marker in response.text for marker in UNAVAILABLE_MARKERS) or (
                    path.startswith("/health/") and '"failed"' in response.text
                ):
                    with self.stats.lock:
                        self.stats.clean_503 += 1
                else:
                    self.stats.error(f"{method} {path}: 503 without the panel's page")
            elif response.status_code >= 500:
                self.stats.error(f"{method} {path}: {response.status_code}")
            return response, index
        self.stats.error(f"{method} {path}: no node answered ({last_error})")
        return None, first

    def get_ok(self, path: str, **kwargs) -> requests.Response | None:
        response, _ = self.send("GET", path, **kwargs)
        if response is not None and response.status_code not in (200, 503):
            self.stats.error(f"GET {path}: {response.status_code}")
        return response

    def create(self, number: int) -> None:
        """The Add client page, its post, and at once the client's page and a
        list search for it on the other node."""
        contact = f"cluster-{number}-{uuid.uuid4().hex[:6]}@bench.example"
        owner = f"owner-{number}-{uuid.uuid4().hex[:6]}@bench.example"
        for _attempt in range(30):
            response = self.get_ok("/clients/create/")
            if response is None or response.status_code != 503:
                break
            time.sleep(1)  # a person reloads the page that said "try again"
        if response is None or response.status_code != 200:
            self.stats.error("GET create: no page to fill")
            return
        from tests.clients.test_client_create_page import page_data, person

        data = person(page_data(response), **{"owner-new_email": owner, "contacts-email": contact})
        for attempt in range(30):
            posted, node = self.send(
                "POST", "/clients/create/", data=data,
                headers={"Referer": self.nodes[0].url + "/clients/create/"},
            )  # fmt: skip
            if posted is not None and posted.status_code == 302:
                break
            if posted is not None and posted.status_code == 503:
                with self.stats.lock:
                    self.stats.resubmits += 1
                time.sleep(1)
                continue
            self.stats.error(
                f"POST create: {posted.status_code if posted is not None else 'no answer'}"
                f" (attempt {attempt + 1})"
            )
            return
        else:
            self.stats.error("POST create: still unavailable after 30 tries")
            return
        location = posted.headers["Location"]
        client_id = int(location.rstrip("/").rsplit("/", 1)[1])
        with self.stats.lock:
            self.stats.created.append((client_id, owner))
            self.stats.created_by_channel["page"] += 1
        other = (node + 1) % len(self.nodes)
        page, _ = self.send("GET", location, node=other)
        if page is not None and page.status_code == 404:
            self.stats.read_after_write_misses.append(f"client page {client_id}")
        listing, _ = self.send("GET", f"/clients/?q={contact}", node=other)
        if listing is not None and listing.status_code == 200 and contact not in listing.text:
            self.stats.read_after_write_misses.append(f"list search {client_id}")

    def api_create(self, number: int) -> None:
        """The API's create with an Idempotency-Key (sent again with the same
        key after a 503 or a 409, as docs/api.md says), then at once the
        account by its id on the other node (the primary: must not miss) and
        the list filtered by its email there (the replica: may lag)."""
        contact = f"api-{number}-{uuid.uuid4().hex[:6]}@bench.example"
        owner = f"api-owner-{number}-{uuid.uuid4().hex[:6]}@bench.example"
        passport = {"passport_series": "4510", "passport_number": f"{number % 10**6:06d}"}
        body = json.dumps(
            api_person(self.person_type_id, email=owner, contact_email=contact, attributes=passport)
        )
        headers = {"Content-Type": API_MEDIA_TYPE, "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(60):
            answer, node = self.send(
                "POST", self.accounts, session=self.api, data=body.encode(), headers=headers
            )
            if answer is not None and answer.status_code == 201:
                break
            if answer is not None and answer.status_code in (409, 503):
                with self.stats.lock:
                    self.stats.api_creates_resent[answer.status_code] += 1
                time.sleep(1)
                continue
            self.stats.error(
                f"API create: {answer.status_code if answer is not None else 'no answer'}"
                f" {answer.text[:200] if answer is not None else ''} (attempt {attempt + 1})"
            )
            return
        else:
            self.stats.error("API create: still unavailable after 60 tries")
            return
        client_id = int(answer.json()["data"]["id"])
        with self.stats.lock:
            self.stats.created.append((client_id, owner))
            self.stats.created_by_channel["api"] += 1
            self.stats.api_replayed += answer.headers.get("Idempotent-Replayed") == "true"
        other = (node + 1) % len(self.nodes)
        account, _ = self.send("GET", f"{self.accounts}/{client_id}", node=other, session=self.api)
        if account is not None and account.status_code == 404:
            self.stats.read_after_write_misses.append(f"API account {client_id}")
        listing, _ = self.send(
            "GET", self.accounts, node=other, session=self.api, params={"filter[email]": owner}
        )
        if listing is not None and listing.status_code == 200 and not listing.json()["data"]:
            with self.stats.lock:
                self.stats.api_list_lagging += 1

    def api_list(self, rng: random.Random) -> None:
        params = rng.choice(
            [
                {},
                {"page[size]": "100"},
                {"filter[status]": "active"},
                {"filter[created_at][gt]": "2026-01-01T00:00:00Z"},
            ]
        )
        response, _ = self.send("GET", self.accounts, session=self.api, params=params)
        if response is not None and response.status_code not in (200, 503):
            self.stats.error(f"GET API list {params}: {response.status_code}")


def run_load(
    nodes: list[WebNode], managers: list[dict], *, requests_total: int, creations: int,
    api_creations: int, concurrency: int, faults: dict[int, callable], seed: int = 2026,
) -> Stats:  # fmt: skip
    """``requests_total`` requests: each page creation is 4, each API
    creation 3, the rest single reads."""
    stats = Stats()
    fired: set[int] = set()
    fault_lock = threading.Lock()

    def progress(done: int) -> None:
        for at, fault in faults.items():
            if done >= at and at not in fired:
                with fault_lock:
                    if at in fired:
                        continue
                    fired.add(at)
                threading.Thread(target=fault, name=f"fault-{at}", daemon=True).start()

    rng = random.Random(seed)
    singles = requests_total - 4 * creations - 3 * api_creations
    kinds = (
        ["create"] * creations
        + ["api_create"] * api_creations
        + rng.choices(
            ["list", "search", "detail", "owner_search", "api_list", "ready", "export"],
            weights=[25, 20, 25, 10, 10, 9, 1],
            k=singles,
        )
    )
    rng.shuffle(kinds)
    work = collections.deque(enumerate(kinds))
    work_lock = threading.Lock()
    clients = [
        Client(nodes, managers[i % len(managers)], stats, progress) for i in range(concurrency)
    ]
    words = ["Иван", "Мария", "Петров", "Москва", "cluster", "bench", "Ива"]

    def worker(client: Client) -> None:
        while True:
            with work_lock:
                if not work:
                    return
                number, kind = work.popleft()
            if kind == "create":
                client.create(number)
            elif kind == "api_create":
                client.api_create(number)
            elif kind == "api_list":
                client.api_list(rng)
            elif kind == "list":
                client.get_ok(f"/clients/?sort={rng.choice(['name', '-created', 'status'])}")
            elif kind == "search":
                client.get_ok(f"/clients/?q={rng.choice(words)}")
            elif kind == "detail":
                with stats.lock:
                    known = rng.choice(stats.created)[0] if stats.created else None
                client.get_ok(f"/clients/{known}/" if known else "/clients/")
            elif kind == "owner_search":
                client.get_ok(f"/clients/create/owners/?q={rng.choice(words)}")
            elif kind == "ready":
                client.get_ok("/health/ready")
            else:
                client.get_ok("/clients/export.csv")

    # Daemon threads: Ctrl+C ends the run (the servers are stopped in main()).
    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stats


def throughput(nodes: list[WebNode], managers: list[dict], count: int, concurrency: int) -> float:
    """Requests/s of a read mix (list, search, client pages) over ``nodes``."""
    stats = Stats()
    clients = [Client(nodes, managers[i % len(managers)], stats, lambda done: None)
               for i in range(concurrency)]  # fmt: skip
    paths = [
        "/clients/",
        "/clients/?q=Иван",
        "/clients/?sort=name",
        "/clients/create/owners/?q=Мар",
    ]
    per_client = count // concurrency

    def worker(client: Client) -> None:
        for i in range(per_client):
            client.get_ok(paths[i % len(paths)])

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if stats.errors:
        raise RuntimeError(f"throughput run had errors: {stats.errors[:5]}")
    return round(per_client * concurrency / elapsed, 1)


# --- observation ------------------------------------------------------------------


class LagSampler(threading.Thread):
    """The replica's lag behind the primary, every half second."""

    def __init__(self, primary: Postgres, replica: Postgres) -> None:
        super().__init__(daemon=True)
        self.primary, self.replica = primary, replica
        self.bytes: list[int] = []
        self.seconds: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            try:
                with self.primary.connect("postgres") as p, self.replica.connect("postgres") as r:
                    replayed = r.execute("SELECT pg_last_wal_replay_lsn()").fetchone()[0]
                    lag = p.execute(
                        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [replayed]
                    ).fetchone()[0]
                    self.bytes.append(int(lag))
                    seconds = p.execute(
                        "SELECT extract(epoch FROM replay_lag) FROM pg_stat_replication"
                    ).fetchone()
                    if seconds and seconds[0] is not None:
                        self.seconds.append(float(seconds[0]))
            except psycopg.Error:
                continue  # the primary is restarting


def scrape(url: str, token: str | None = METRICS_TOKEN) -> dict[tuple, float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.get(url, headers=headers, timeout=10)
    response.raise_for_status()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(samples: dict[tuple, float], name: str, **labels: str) -> float:
    return sum(
        value
        for (sample_name, sample_labels), value in samples.items()
        if sample_name == name and all(dict(sample_labels).get(k) == v for k, v in labels.items())
    )


def seed_world(env: dict[str, str], managers: int) -> list[dict]:
    """The root reseller, rules, the email handler and the managers, each with
    an API token (through the ORM and the services, in this process, against
    the cluster's primary)."""
    os.environ.update(env)
    import logging

    import django

    django.setup()
    # The SMTP server of this process logs every command at INFO.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from api.services import api_token_create
    from bench.crash_harness import seed
    from rules.models import ClientType
    from users.models import Manager

    world = []
    for email_address in seed(managers=managers)["managers"]:
        manager = Manager.objects.get(user__email=email_address)
        person = ClientType.objects.get(reseller=manager.reseller, key="person")
        world.append(
            {
                "email": email_address,
                "token": api_token_create(manager=manager, name="cluster")[1],
                "reseller_id": manager.reseller_id,
                "person_type_id": person.pk,
            }
        )
    return world


def summary(values: list[float]) -> dict:
    if not values:
        return {"samples": 0}
    ordered = sorted(values)
    return {
        "samples": len(values),
        "median": round(statistics.median(ordered), 4),
        "p95": round(ordered[int(len(ordered) * 0.95) - 1], 4),
        "max": round(ordered[-1], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--creations", type=int, default=1_000, help="through the page")
    parser.add_argument("--api-creations", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--throughput-requests", type=int, default=1_000)
    parser.add_argument("--no-postgres-restart", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the logs and data directory")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="panel-cluster-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    var_dir = root / "var"
    var_dir.mkdir()
    processes: list = []
    result: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S")}
    keep = args.keep
    try:
        log("PostgreSQL: initdb, primary, base backup, replica")
        primary = Postgres.primary(root)
        with primary.connect("postgres") as admin:
            admin.execute(f'CREATE DATABASE "{DB_NAME}"')
        replica = primary.replica(root)
        processes += [replica, primary]

        inbox = Inbox()
        smtp_port = free_port()
        smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        smtp.start()

        env = panel_env(primary, var_dir, smtp_port)
        log("migrate, collectstatic, seed")
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "collectstatic", "--no-input", "-v", "0")
        managers = seed_world(env, managers=args.concurrency)

        web_env = {**env, "DATABASE_REPLICA_URL": replica.url}
        nodes = [WebNode(f"web{i}", web_env, root) for i in (1, 2)]
        workers = [TaskWorker(f"worker{i}", env, root) for i in (1, 2, 3)]
        processes += nodes + workers
        for node in nodes:
            node.start()
        for worker in workers:
            worker.start()
        wait_until(lambda: all(http_ok(n.url + "/health/ready") for n in nodes), 60, "readiness")
        log("both nodes ready; three workers running")

        faults: dict[str, dict] = {}

        def kill_web_node() -> None:
            node = nodes[1]
            log(f"fault: SIGKILL {node.name}")
            node.kill()
            time.sleep(3)
            faults["web_node_killed"] = {
                "node": node.name,
                "down_seconds": 3,
                "restart_to_live_seconds": round(node.start(), 2),
            }
            log(f"{node.name} back")

        def kill_worker() -> None:
            worker = workers[0]
            log(f"fault: SIGKILL {worker.name}")
            worker.kill()
            time.sleep(2)
            worker.start()
            faults["worker_killed"] = {"worker": worker.name, "restarted_after_seconds": 2}

        def restart_postgres() -> None:
            log("fault: pg_ctl restart -m fast (the primary)")
            started = time.monotonic()
            primary.pg_ctl("restart", "-m", "fast")
            back = time.monotonic()
            recovery = {}
            for node in nodes:
                recovery[node.name] = round(
                    wait_until(lambda n=node: http_ok(n.url + "/health/ready"), 60, "recovery"), 2
                )
            faults["postgres_restarted"] = {
                "restart_seconds": round(back - started, 2),
                "node_ready_after_postgres_seconds": recovery,
            }
            log(f"PostgreSQL back; nodes ready after {recovery}")

        def recorded(fault):
            def run() -> None:
                try:
                    fault()
                except Exception as error:
                    faults[fault.__name__] = {"error": repr(error)}
                    log(f"{fault.__name__} failed: {error!r}")

            return run

        schedule = {
            int(args.requests * 0.2): recorded(kill_web_node),
            int(args.requests * 0.4): recorded(kill_worker),
        }
        if not args.no_postgres_restart:
            schedule[int(args.requests * 0.6)] = recorded(restart_postgres)

        lag = LagSampler(primary, replica)
        lag.start()
        log(f"load: {args.requests} requests, {args.creations} page and "
            f"{args.api_creations} API creations, concurrency {args.concurrency}")  # fmt: skip
        started = time.monotonic()
        stats = run_load(
            nodes, managers, requests_total=args.requests, creations=args.creations,
            api_creations=args.api_creations, concurrency=args.concurrency, faults=schedule,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        lag.stop.set()
        log(f"load done in {elapsed:.0f} s: {stats.requests} requests, {len(stats.errors)} errors")

        # The queue drains (a killed worker's task comes back after its lease).
        def drained() -> bool:
            with primary.connect() as c:
                return not c.execute(
                    "SELECT 1 FROM django_tasks_database_dbtaskresult "
                    "WHERE status IN ('READY', 'RUNNING') LIMIT 1"
                ).fetchone()

        drain_seconds = wait_until(drained, 300, "the queue to drain")
        time.sleep(1)
        with primary.connect() as c:
            client_ids = {row[0] for row in c.execute("SELECT id FROM clients_client")}
            doubled_claims = c.execute(
                "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                "WHERE jsonb_array_length(worker_ids) > 1"
            ).fetchone()[0]
            sent_twice = c.execute(
                "SELECT count(*) FROM (SELECT delivery_id FROM notifications_deliveryattempt "
                "WHERE outcome = 'sent' GROUP BY delivery_id HAVING count(*) > 1) AS d"
            ).fetchone()[0]
            deliveries = dict(
                c.execute(
                    "SELECT status, count(*) FROM notifications_delivery GROUP BY status"
                ).fetchall()
            )
        acknowledged = {client_id for client_id, _ in stats.created}
        owners = [owner.lower() for _, owner in stats.created]
        emails_per_owner = collections.Counter(inbox.by_recipient[o] for o in owners)

        log("scraping /metrics of both nodes and the workers")
        node_metrics = [scrape(n.url + "/metrics") for n in nodes]
        worker_metrics = [scrape(f"http://127.0.0.1:{w.metrics_port}/metrics", None)
                          for w in workers]  # fmt: skip
        unauthorised = requests.get(nodes[0].url + "/metrics", timeout=5).status_code

        log("throughput: one node alone, then both")
        one_node = throughput(nodes[:1], managers, args.throughput_requests, args.concurrency)
        both_nodes = throughput(nodes, managers, args.throughput_requests, args.concurrency)

        # Nothing restarted them but the faults above: a process that exited
        # on its own (a worker on the database restart, say) shows here.
        alive = {process.name: process.process.poll() is None for process in nodes + workers}
        tracebacks = {
            node.name: node.log_path.read_text(errors="replace").count("Traceback")
            for node in nodes
        }
        result.update(
            {
                "setup": {
                    "web_nodes": 2,
                    "gunicorn_workers_per_node": 2,
                    "task_workers": 3,
                    "pool_max_size": 2,
                    "replica": "streaming (pg_basebackup -R), reads of the list, search, "
                    "export and the API's list",
                    "client_threads": args.concurrency,
                    "postgresql": "own initdb on a free port (the machine's 5432 untouched)",
                },
                "requests": stats.requests,
                "seconds": round(elapsed, 1),
                "requests_per_second": round(stats.requests / elapsed, 1),
                "latency_seconds": summary(stats.latencies),
                "by_status": dict(sorted(stats.by_status.items())),
                "errors": len(stats.errors),
                "error_samples": stats.errors[:20],
                "clean_503_during_restart": stats.clean_503,
                "create_posts_resent_after_503": stats.resubmits,
                "failovers_to_the_other_node": stats.failovers,
                "clients_acknowledged": len(acknowledged),
                "clients_acknowledged_by_channel": dict(stats.created_by_channel),
                "api_creates_resent_by_status": {
                    str(status): count for status, count in stats.api_creates_resent.items()
                },
                "api_creates_answered_by_replay": stats.api_replayed,
                "api_list_reads_lagging_behind_a_create": stats.api_list_lagging,
                "clients_in_database": len(client_ids),
                "acknowledged_but_missing": len(acknowledged - client_ids),
                "read_after_write_misses": len(stats.read_after_write_misses),
                "read_after_write_miss_samples": stats.read_after_write_misses[:20],
                "emails": {
                    "received": sum(inbox.by_message_id.values()),
                    "owners_with_exactly_one": emails_per_owner.get(1, 0),
                    "owners_with_none": emails_per_owner.get(0, 0),
                    "owners_with_more": sum(n for k, n in emails_per_owner.items() if k > 1),
                    "duplicate_message_ids": sum(1 for n in inbox.by_message_id.values() if n > 1),
                    "deliveries_by_status": deliveries,
                    "deliveries_sent_twice": sent_twice,
                    "tasks_claimed_more_than_once": doubled_claims,
                },
                "queue_drained_after_seconds": round(drain_seconds, 1),
                "replica_lag": {"bytes": summary(lag.bytes), "seconds": summary(lag.seconds)},
                "faults": faults,
                "metrics": {
                    "unauthorised_status": unauthorised,
                    "clients_created_page_sum_of_nodes": sum(
                        total(m, "panel_clients_created_total", channel="page")
                        for m in node_metrics
                    ),
                    "clients_created_api_sum_of_nodes": sum(
                        total(m, "panel_clients_created_total", channel="api") for m in node_metrics
                    ),
                    "requests_counted_sum_of_nodes": sum(
                        total(m, "panel_http_requests_total") for m in node_metrics
                    ),
                    "notifications_sent_sum_of_workers": sum(
                        total(m, "panel_notifications_total", outcome="sent")
                        for m in worker_metrics
                    ),
                    "task_queue_depth_ready": total(
                        node_metrics[0], "panel_task_queue_depth", status="ready"
                    ),
                    "worker_heartbeat_age_seconds": total(
                        node_metrics[0], "panel_worker_heartbeat_age_seconds"
                    ),
                },
                "throughput_read_mix": {
                    "one_node_requests_per_second": one_node,
                    "two_nodes_requests_per_second": both_nodes,
                    "note": "2 CPU cores for everything: PostgreSQL, both nodes, the client",
                },
                "tracebacks_in_node_logs": tracebacks,
                "processes_running_at_the_end": alive,
            }
        )
        write_result("cluster", result)
        keep = keep or bool(stats.errors)
    except BaseException:
        keep = True
        raise
    finally:
        for process in reversed(processes):
            try:
                process.stop()
            except Exception as error:
                log(f"stopping {process}: {error}")
        if keep:
            log(f"logs and data kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
