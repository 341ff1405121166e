"""The scale benchmark: the panel under gunicorn against a seeded PostgreSQL.

    make bench                        # 1,000,000 clients in database panel_bench
    .venv/bin/python bench/run.py --clients 100000 --requests 100

1. Creates the database (default panel_bench) if missing, migrates it and,
   when it holds fewer clients than asked, runs ``seed_scale`` for the rest.
2. Starts gunicorn (2 sync workers) on loopback with production settings:
   DEBUG off, a SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, persistent database
   connections, static files collected; HTTPS_ONLY off (plain HTTP on
   loopback) and BENCH_URLS on (the floor view and stock admin, bench/urls.py).
3. Signs in as the seeded bench manager once per client thread and drives
   every scenario with --concurrency threads (requests + threads), after a
   short warm-up, recording each request's latency.
4. Measures the issue's ratios again with each page's requests interleaved
   with its reference's (the floor view, stock admin), so that both see the
   same load on a shared machine; then the CSV export (~100,000 rows, and
   every client of the reseller), with the web workers' memory.
5. Prints the table and writes it as JSON to bench/results/.

Nothing here asserts timings: the numbers are for people to read.
"""

import argparse
import datetime as dt
import html
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.crash_harness import api_person  # noqa: E402 - the project root is on the path only now
from tests import pages  # noqa: E402

RESULTS = ROOT / "bench" / "results"
VAR = ROOT / "bench" / ".var"
PYTHON = sys.executable
MANAGER_EMAIL = "bench@scale.example"
MANAGER_PASSWORD = "bench-password-2026"


@dataclass
class Result:
    name: str
    requests: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0
    rps: float = 0.0
    notes: dict = field(default_factory=dict)


# --- Environment -----------------------------------------------------------------


def server_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{args.server}/{args.database}",
        DATABASE_CONN_MAX_AGE="600",
        DEBUG="false",
        SECRET_KEY="bench-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        HTTPS_ONLY="false",
        BENCH_URLS="true",
        EMAIL_BACKEND="locmem",
        LOG_LEVEL="WARNING",
        VAR_DIR=str(VAR),
        # A benchmark session must not expire between scenarios.
        SESSION_IDLE_MINUTES="600",
        # The API scenarios measure the API, not its request limit.
        API_TOKEN_RATE_LIMIT="1000000000",
    )
    return env


def manage(args, *command: str) -> None:
    command = [PYTHON, "manage.py", *command]
    subprocess.run(command, cwd=ROOT, env=server_env(args), check=True)  # noqa: S603


def prepare_database(args) -> dict:
    """Create, migrate and seed as needed; the seeding time when it ran."""
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [args.database]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{args.database}"')
    manage(args, "migrate", "--no-input", "-v", "0")
    with psycopg.connect(f"{args.server}/{args.database}") as db:
        have = db.execute("SELECT count(*) FROM clients_client").fetchone()[0]
    seeding = {"clients_before": have}
    if have < args.clients:
        started = time.monotonic()
        manage(args, "seed_scale", "--clients", str(args.clients - have))
        seeding["seed_seconds"] = round(time.monotonic() - started, 1)
        seeding["seeded_clients"] = args.clients - have
    manage(args, "collectstatic", "--no-input", "-v", "0")
    return seeding


def database_facts(args) -> dict:
    """The ids the scenarios need, read straight from the database."""
    with psycopg.connect(f"{args.server}/{args.database}") as db:
        manager_id, reseller_id = db.execute(
            "SELECT m.id, m.reseller_id FROM users_manager m JOIN users_user u ON u.id = m.user_id "
            "WHERE u.email = %s",
            [MANAGER_EMAIL],
        ).fetchone()
        counts = db.execute(
            "SELECT manager_id, count(*) FROM clients_client WHERE reseller_id = %s "
            "AND manager_id IS NOT NULL AND status <> 'deleted' GROUP BY manager_id",
            [reseller_id],
        ).fetchall()
        filter_manager = max(counts, key=lambda row: row[1])[0]
        # The export's filter: clients created since the day that makes the
        # total nearest 100,000 (whole days of the panel's time zone, as the
        # list's "Created from" filter reads them).
        export_from, export_rows = min(
            db.execute(
                "SELECT day, sum(n) OVER (ORDER BY day DESC)::bigint FROM ("
                "SELECT (created_at AT TIME ZONE %s)::date AS day, count(*) AS n "
                "FROM clients_client WHERE reseller_id = %s AND status <> 'deleted' "
                "GROUP BY 1) AS days",
                [os.environ.get("TIME_ZONE", "Europe/Moscow"), reseller_id],
            ).fetchall(),
            key=lambda row: abs(row[1] - 100_000),
        )
        client_ids = [
            row[0]
            for row in db.execute(
                "SELECT id FROM clients_client TABLESAMPLE SYSTEM (1) WHERE reseller_id = %s "
                "LIMIT 200",
                [reseller_id],
            )
        ]
        contract_emails = [
            row[0]
            for row in db.execute(
                "SELECT contract_email FROM clients_client TABLESAMPLE SYSTEM (1) "
                "WHERE reseller_id = %s AND status <> 'deleted' LIMIT 50",
                [reseller_id],
            )
        ]
        inns = [
            row[0]
            for row in db.execute(
                "SELECT v.value FROM clients_clientattributevalue v "
                "JOIN clients_client c ON c.id = v.client_id "
                "WHERE c.reseller_id = %s AND c.status <> 'deleted' LIMIT 50",
                [reseller_id],
            )
        ]
        total = db.execute("SELECT count(*) FROM clients_client").fetchone()[0]
        mine = db.execute(
            "SELECT count(*) FROM clients_client WHERE reseller_id = %s", [reseller_id]
        ).fetchone()[0]
        ctype = db.execute(
            "SELECT datctype FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]
        person_type_id = db.execute(
            "SELECT id FROM rules_clienttype WHERE reseller_id = %s AND key = 'person'",
            [reseller_id],
        ).fetchone()[0]
    return {
        "person_type_id": person_type_id,
        "manager_id": manager_id,
        "reseller_id": reseller_id,
        "export_from": export_from.isoformat(),
        "export_rows": export_rows,
        "filter_manager": filter_manager,
        "client_ids": client_ids,
        "contract_emails": contract_emails,
        "inns": inns,
        "clients_total": total,
        "clients_of_reseller": mine,
        "lc_ctype": ctype,
    }


# --- gunicorn ---------------------------------------------------------------------


def start_server(args) -> subprocess.Popen:
    command = [
        str(Path(PYTHON).parent / "gunicorn"),
        "operator_panel.wsgi:application",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        "2",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    VAR.mkdir(parents=True, exist_ok=True)
    log = open(VAR / "gunicorn.log", "w")  # noqa: SIM115 - open for the server's life
    env = server_env(args)
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base(args)}/accounts/login/", timeout=10)
            return server
        except requests.RequestException:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"gunicorn did not start; see {VAR / 'gunicorn.log'}")


def workers(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def base(args) -> str:
    return f"http://127.0.0.1:{args.port}"


# --- The HTTP side ----------------------------------------------------------------


def signed_in(args) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base(args)}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base(args)}/accounts/login/",
        data={
            "csrfmiddlewaretoken": token,
            "username": MANAGER_EMAIL,
            "password": MANAGER_PASSWORD,
        },
        headers={"Referer": f"{base(args)}/accounts/login/"},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"sign-in failed: HTTP {answer.status_code}")
    return session


def create_form(session: requests.Session, args) -> dict:
    return pages.form_data(session.get(f"{base(args)}/clients/create/").text)


def person(fields: dict) -> dict:
    """A valid private person with a new owner, unique on every call."""
    unique = uuid.uuid4().hex[:12]
    return pages.person(
        dict(fields),
        creation_token=str(uuid.uuid4()),
        **{
            "contacts-email": f"client.{unique}@example.com",
            "contract_person-email": f"contract.{unique}@example.com",
            "owner-new_email": f"owner.{unique}@example.com",
        },
    )


@dataclass
class Scenario:
    name: str
    request: Callable[[requests.Session, int], requests.Response]
    expect: int = 200
    requests: int | None = None  # default: --requests
    budget_seconds: float | None = None  # default: --seconds


def run(scenario: Scenario, sessions: list[requests.Session], args) -> Result:
    total = scenario.requests or args.requests
    budget = scenario.budget_seconds or args.seconds
    # Warm-up: every worker's connection, caches and the pages' plans.
    for number in range(min(4, total)):
        scenario.request(sessions[number % len(sessions)], number)
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(total))
    started = time.monotonic()

    def client(session: requests.Session) -> None:
        nonlocal errors
        while time.monotonic() - started < budget:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            begin = time.perf_counter()
            response = scenario.request(session, number)
            elapsed = (time.perf_counter() - begin) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code != scenario.expect:
                    errors += 1

    with ThreadPoolExecutor(len(sessions)) as pool:
        list(pool.map(client, sessions))
    wall = time.monotonic() - started
    latencies.sort()
    return Result(
        name=scenario.name,
        requests=len(latencies),
        errors=errors,
        p50_ms=round(statistics.median(latencies), 1),
        p95_ms=round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 1),
        max_ms=round(latencies[-1], 1),
        rps=round(len(latencies) / wall, 1),
        notes={"statuses": statuses} if errors else {},
    )


def api_token(args) -> str:
    """A new API token of the bench manager (manage.py api_token_create)."""
    command = [PYTHON, "manage.py", "api_token_create", "--email", MANAGER_EMAIL, "--name", "bench"]
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=server_env(args), check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def api_deep_cursor(args, token: str, reseller_id: int, pages: int) -> tuple[str, int]:
    """The API's link to page ``pages`` (50 accounts each), reached by
    following links.next; and how many pages it took."""
    link = f"{base(args)}/api/v3/resellers/{reseller_id}/accounts?page[size]=50"
    seen = 1
    for _ in range(pages - 1):
        following = requests.get(link, headers={"X-Api-Token": token}, timeout=30).json()
        if not following["links"]["next"]:
            break
        link, seen = following["links"]["next"], seen + 1
    return link, seen


def deep_cursor(session: requests.Session, args, pages: int) -> tuple[str, int]:
    """The query string of list page ``pages`` (50 rows each), reached by
    following "Next" as a person would; and how many pages it took."""
    link, seen = "", 1
    for _ in range(pages - 1):
        page = session.get(f"{base(args)}/clients/{link}").text
        match = re.search(r'href="(\?[^"]*)" rel="next"', page)
        if not match:
            break
        link, seen = html.unescape(match.group(1)), seen + 1
    return link, seen


def export(
    session: requests.Session, server: subprocess.Popen, args, name: str, params: dict
) -> Result:
    """One CSV export, streamed; the web workers' resident memory sampled
    every 10 ms during it."""
    pids = workers(server)
    before = {pid: rss_kb(pid) for pid in pids}
    peak = {pid: before[pid][0] for pid in pids}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in pids:
                peak[pid] = max(peak[pid], rss_kb(pid)[0])
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    lines = size = 0
    with session.get(f"{base(args)}/clients/export.csv", params=params, stream=True) as response:
        status = response.status_code
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    growth = max(peak[pid] - before[pid][0] for pid in pids)
    hwm_growth = max(rss_kb(pid)[1] - before[pid][1] for pid in pids)
    return Result(
        name=name,
        requests=1,
        errors=int(status != 200),
        p50_ms=round(elapsed * 1000, 1),
        p95_ms=round(elapsed * 1000, 1),
        max_ms=round(elapsed * 1000, 1),
        rps=round(1 / elapsed, 2),
        notes={
            "rows": lines - 1,
            "megabytes": round(size / 1e6, 1),
            "rows_per_second": round((lines - 1) / elapsed),
            "peak_rss_growth_mb": round(growth / 1024, 1),
            "vmhwm_growth_mb": round(hwm_growth / 1024, 1),
        },
    )


def scenarios(args, facts: dict, deep: str, form: dict, api: dict) -> list[Scenario]:
    url = base(args)
    api_headers = {"X-Api-Token": api["token"], "Accept": "application/vnd.api+json"}
    accounts = f"{url}/api/v3/resellers/{facts['reseller_id']}/accounts"

    def api_list(session, _number):
        return session.get(accounts, headers=api_headers)

    def api_by_email(session, number):
        # Another letter case than stored: the filter ignores it.
        email = facts["contract_emails"][number % len(facts["contract_emails"])].upper()
        return session.get(accounts, params={"filter[email]": email}, headers=api_headers)

    def api_deep(session, _number):
        return session.get(api["deep"], headers=api_headers)

    def api_create(session, _number):
        return session.post(
            accounts,
            data=json.dumps(api_person(facts["person_type_id"])),
            headers={**api_headers, "Content-Type": "application/vnd.api+json"},
        )

    clients = facts["client_ids"]
    inns = facts["inns"]

    def get(path: str, params: dict | None = None):
        return lambda session, _number: session.get(url + path, params=params)

    def client_page(session, number):
        return session.get(f"{url}/clients/{clients[number % len(clients)]}/")

    def inn(session, number):
        return session.get(f"{url}/clients/", params={"q": inns[number % len(inns)]})

    def create(session, _number):
        data = person(form)
        # Each client thread has its own session and CSRF cookie.
        data["csrfmiddlewaretoken"] = session.cookies.get("csrftoken", "")
        return session.post(
            f"{url}/clients/create/",
            data=data,
            headers={
                "Referer": f"{url}/clients/create/",
                "X-CSRFToken": session.cookies.get("csrftoken", ""),
            },
            allow_redirects=False,
        )

    owner = "/clients/create/owners/"
    slow = {"requests": 20, "budget_seconds": 60}
    return [
        Scenario("floor view (no query of its own)", get("/bench/floor/")),
        Scenario("list page 1", get("/clients/")),
        Scenario("list page 500 (keyset)", get("/clients/" + deep)),
        Scenario("list last page", get("/clients/", {"last": "1"})),
        Scenario("search name fragment 'Вектор'", get("/clients/", {"q": "Вектор"})),
        Scenario("search common fragment 'ооо'", get("/clients/", {"q": "ооо"})),
        Scenario("search owner email 'gmail'", get("/clients/", {"q": "gmail"})),
        Scenario("search exact INN", inn),
        Scenario(
            "filter status + manager",
            get("/clients/", {"status": "credit_hold", "manager": facts["filter_manager"]}),
        ),
        Scenario("sort by name", get("/clients/", {"sort": "name"})),
        Scenario("sort by name, descending", get("/clients/", {"sort": "-name"})),
        Scenario("owner search 'ffm' (selective)", get(owner, {"owner-query": "ffm"})),
        Scenario("owner search 'Сми'", get(owner, {"owner-query": "Сми"})),
        Scenario("owner search 'ова' (common)", get(owner, {"owner-query": "ова"})),
        Scenario("client page", client_page),
        Scenario("Add client POST (new owner)", create, expect=302),
        Scenario("API list page 1", api_list),
        Scenario("API list page 500 (cursor)", api_deep),
        Scenario("API list filter[email]", api_by_email),
        Scenario("API create (new owner)", api_create, expect=201),
        Scenario("our admin changelist page 1", get("/admin/clients/client/"), **slow),
        Scenario(
            "our admin changelist search 'Вектор'",
            get("/admin/clients/client/", {"q": "Вектор"}),
            **slow,
        ),
        Scenario(
            "stock admin changelist page 1", get("/bench/stock-admin/clients/client/"), **slow
        ),
        Scenario(
            "stock admin changelist search 'Вектор'",
            get("/bench/stock-admin/clients/client/", {"q": "Вектор"}),
            **slow,
        ),
    ]


@dataclass
class Pair:
    """A scenario measured against a reference, their requests interleaved."""

    name: str
    reference: str
    requests: int
    p50_ms: float
    reference_p50_ms: float
    ratio: float
    target: float
    met: bool


def paired(
    name: str,
    request: Callable,
    reference_name: str,
    reference: Callable,
    sessions: list[requests.Session],
    *,
    rounds: int,
    target: float,
) -> Pair:
    """The two pages' medians from requests sent in turns (one of each per
    round, from every client thread), so that both see the same load: on a
    shared machine the load moves within seconds, and scenarios measured one
    after the other compare different minutes."""
    for number in range(4):
        request(sessions[number % len(sessions)], number)
        reference(sessions[number % len(sessions)], number)
    times: dict[str, list[float]] = {name: [], reference_name: []}
    lock = threading.Lock()

    def client(session: requests.Session) -> None:
        for number in range(rounds):
            for label, send in ((name, request), (reference_name, reference)):
                begin = time.perf_counter()
                send(session, number)
                with lock:
                    times[label].append((time.perf_counter() - begin) * 1000)

    with ThreadPoolExecutor(len(sessions)) as pool:
        list(pool.map(client, sessions))
    ours, theirs = statistics.median(times[name]), statistics.median(times[reference_name])
    return Pair(
        name=name,
        reference=reference_name,
        requests=len(times[name]),
        p50_ms=round(ours, 1),
        reference_p50_ms=round(theirs, 1),
        ratio=round(ours / theirs, 2),
        target=target,
        met=ours / theirs <= target,
    )


def pairs(args, scenario_list: list[Scenario], sessions: list[requests.Session]) -> list[Pair]:
    """The issue's targets, each measured interleaved with its reference:
    the list's page 1, a search and a deep keyset page at most 2.5 times the
    floor view; our admin's changelist at most half of stock admin's."""
    by_name = {scenario.name: scenario for scenario in scenario_list}
    floor = by_name["floor view (no query of its own)"]
    measured = []
    for name in (
        "list page 1",
        "search name fragment 'Вектор'",
        "list page 500 (keyset)",
    ):
        measured.append(
            paired(
                name,
                by_name[name].request,
                floor.name,
                floor.request,
                sessions,
                rounds=args.requests // 2,
                target=2.5,
            )
        )
    stock = by_name["stock admin changelist page 1"]
    measured.append(
        paired(
            "our admin changelist page 1",
            by_name["our admin changelist page 1"].request,
            stock.name,
            stock.request,
            sessions,
            rounds=20,
            target=0.5,
        )
    )
    return measured


def table(results: list[Result]) -> str:
    lines = [
        f"| {'scenario':<42} | {'n':>4} | {'err':>3} | {'p50 ms':>8} | {'p95 ms':>8} | "
        f"{'max ms':>8} | {'req/s':>7} |",
        f"|{'-' * 44}|{'-' * 6}:|{'-' * 5}:|{'-' * 10}:|{'-' * 10}:|{'-' * 10}:|{'-' * 9}:|",
    ]
    for result in results:
        lines.append(
            f"| {result.name:<42} | {result.requests:>4} | {result.errors:>3} | "
            f"{result.p50_ms:>8} | {result.p95_ms:>8} | {result.max_ms:>8} | {result.rps:>7} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--database", default="panel_bench")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--concurrency", type=int, default=2, help="client threads")
    parser.add_argument("--requests", type=int, default=200, help="per scenario")
    parser.add_argument("--seconds", type=float, default=20, help="at most, per scenario")
    parser.add_argument("--deep-page", type=int, default=500)
    parser.add_argument(
        "--only",
        default="",
        help='run scenarios whose name contains this ("pairs": only the interleaved targets)',
    )
    args = parser.parse_args()

    # Other work on the machine shows in the figures: say how busy it was.
    load_before = os.getloadavg()
    seeding = prepare_database(args)
    facts = database_facts(args)
    server = start_server(args)
    results: list[Result] = []
    interleaved: list[Pair] = []
    try:
        sessions = [signed_in(args) for _ in range(args.concurrency)]
        started = time.monotonic()
        # The walk to page 500 takes a while: only when that scenario runs.
        deep, reached = "", 1
        if not args.only or args.only == "pairs" or args.only in "list page 500 (keyset)":
            deep, reached = deep_cursor(sessions[0], args, args.deep_page)
        walk = round(time.monotonic() - started, 1)
        form = create_form(sessions[0], args)
        api = {"token": api_token(args)}
        if not args.only or "API" in args.only:
            started = time.monotonic()
            api["deep"], api_reached = api_deep_cursor(
                args, api["token"], facts["reseller_id"], args.deep_page
            )
            api_walk = round(time.monotonic() - started, 1)
        scenario_list = scenarios(args, facts, deep, form, api)
        for scenario in scenario_list:
            if args.only and args.only not in scenario.name:
                continue
            result = run(scenario, sessions, args)
            if scenario.name.startswith("list page 500"):
                result.notes = {"page_reached": reached, "walk_seconds": walk}
            if scenario.name.startswith("API list page 500"):
                result.notes = {"page_reached": api_reached, "walk_seconds": api_walk}
            results.append(result)
            print(table([result]).splitlines()[-1], flush=True)
        if not args.only or args.only == "pairs":
            for pair in pairs(args, scenario_list, sessions):
                interleaved.append(pair)
                print(
                    f"{pair.name} / {pair.reference} (interleaved): {pair.p50_ms} / "
                    f"{pair.reference_p50_ms} ms = {pair.ratio} (target {pair.target})",
                    flush=True,
                )
        if not args.only or "export" in args.only.lower():
            results.append(
                export(
                    sessions[0],
                    server,
                    args,
                    "CSV export (~100k rows)",
                    {"created_from": facts["export_from"]},
                )
            )
            # Every client of the reseller, each status ticked: what a
            # reseller of a million clients downloads.
            results.append(
                export(
                    sessions[0],
                    server,
                    args,
                    "CSV export (every client)",
                    {"status": ["active", "credit_hold", "administrative_hold", "deleted"]},
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)

    by_name = {result.name: result for result in results}
    ratios = {}
    ours, stock = (
        by_name.get("search name fragment 'Вектор'"),
        by_name.get("stock admin changelist search 'Вектор'"),
    )
    if ours and stock:
        ratios["stock_admin_search_p50_over_ours"] = round(stock.p50_ms / ours.p50_ms, 1)
    floor, first = by_name.get("floor view (no query of its own)"), by_name.get("list page 1")
    if floor and first:
        ratios["list_page_1_p50_over_floor"] = round(first.p50_ms / floor.p50_ms, 2)
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(load, 2) for load in load_before],
            "load_average_after": [round(load, 2) for load in os.getloadavg()],
        },
        "settings": {
            "workers": 2,
            "concurrency": args.concurrency,
            "requests_per_scenario": args.requests,
        },
        "seeding": seeding,
        "data": {
            key: value
            for key, value in facts.items()
            if key not in ("client_ids", "contract_emails", "inns")
        },
        "results": [asdict(result) for result in results],
        "ratios": ratios,
        "interleaved": [asdict(pair) for pair in interleaved],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench-{facts['clients_total']}-{stamp}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print()
    print(table(results))
    for result in results:
        if result.notes:
            print(f"{result.name}: {result.notes}")
    print(json.dumps(ratios, ensure_ascii=False))
    for pair in interleaved:
        print(
            f"interleaved: {pair.name} {pair.p50_ms} ms / {pair.reference} "
            f"{pair.reference_p50_ms} ms = {pair.ratio} (target ≤ {pair.target}: "
            f"{'met' if pair.met else 'not met'})"
        )
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
