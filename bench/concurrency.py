"""Concurrency over real HTTP: gunicorn (production mode) on loopback against
PostgreSQL. Three scenarios, each run ROUNDS times (default 5):

1. 20 simultaneous Add client posts, each from its own page, all creating a
   new owner with the same email: exactly one user with that email, one
   client, and a form error (200) for the other 19.
2. Two simultaneous posts of the same page (same one-time token): one client;
   both answers lead to it.
3. Two managers change the same client's status at once (Administrative hold
   and Deleted): the final status is one of them, and the event log holds at
   most two status changes that chain from Active to the final status.

Usage: .venv/bin/python bench/concurrency.py [--rounds N]
Writes bench/results/concurrency.json.
"""

import argparse
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.crash_harness import (
    Gunicorn,
    base_env,
    create_page_data,
    django_setup,
    post_create,
    prepare_database,
    seed,
    sign_in,
    write_result,
)

DB_NAME = "bench_concurrency"

# The panel's models are imported inside the functions that use them: Django
# is set up (django_setup) only in main(), once the bench database exists.


def simultaneously(functions):
    barrier = threading.Barrier(len(functions))

    def run(function):
        barrier.wait()
        try:
            return function()
        except requests.RequestException as error:
            # Recorded as an answer with status 0: the scenario then fails.
            answer = requests.Response()
            answer.status_code = 0
            answer._content = repr(error).encode()
            return answer

    with ThreadPoolExecutor(len(functions)) as pool:
        return list(pool.map(run, functions))


def same_owner_email(base_url, sessions, round_number):
    from clients.models import Client
    from users.models import User

    email = f"shared-owner-{round_number}@bench.example"
    pages = [create_page_data(s, base_url, **{"owner-new_email": email}) for s in sessions]
    before = Client.objects.count()
    answers = simultaneously(
        [lambda s=s, p=p: post_create(s, base_url, p) for s, p in zip(sessions, pages, strict=True)]
    )
    codes = [a.status_code for a in answers]
    errors_shown = sum(
        1
        for a in answers
        if a.status_code == 200 and "owner-new_email" in a.text and "invalid-feedback" in a.text
    )
    users = User.objects.filter(email__iexact=email).count()
    created = Client.objects.count() - before
    return {
        "created": codes.count(302),
        "form_errors": codes.count(200),
        "errors_beside_the_field": errors_shown,
        "other_answers": [c for c in codes if c not in (200, 302)],
        "users_with_the_email": users,
        "clients_created": created,
        "ok": users == 1 and created == 1 and codes.count(302) == 1 and codes.count(200) == 19,
    }


def same_token(base_url, session_a, session_b):
    from clients.models import Client

    data = create_page_data(session_a, base_url)
    before = Client.objects.count()
    answers = simultaneously(
        [
            lambda: post_create(session_a, base_url, data),
            lambda: post_create(session_a, base_url, data),
        ]
    )
    locations = {a.headers.get("Location") for a in answers}
    created = Client.objects.count() - before
    return {
        "codes": [a.status_code for a in answers],
        "clients_created": created,
        "same_location": len(locations) == 1,
        # The double-submit rule: one client, and both answers lead to it, also
        # when the loser validated its page after the winner committed.
        "ok": created == 1
        and [a.status_code for a in answers] == [302, 302]
        and len(locations) == 1,
    }


def status_race(base_url, session_a, session_b):
    from clients.models import Client, ClientEvent, ClientStatus, EventType

    data = create_page_data(session_a, base_url)
    response = post_create(session_a, base_url, data)
    client_id = int(re.search(r"/clients/(\d+)/", response.headers["Location"]).group(1))
    url = f"{base_url}/clients/{client_id}/status/"

    def change(session, status):
        page = session.get(url, params={"status": status}, timeout=30)
        token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        return lambda: session.post(
            url,
            data={"csrfmiddlewaretoken": token, "status": status},
            headers={"Referer": url},
            allow_redirects=False,
            timeout=30,
        )

    answers = simultaneously(
        [
            change(session_a, ClientStatus.ADMINISTRATIVE_HOLD),
            change(session_b, ClientStatus.DELETED),
        ]
    )
    client = Client.objects.get(pk=client_id)
    events = list(
        ClientEvent.objects.filter(client=client, event_type=EventType.STATUS_CHANGED)
        .order_by("pk")
        .values_list("description", flat=True)
    )
    return {
        "codes": [a.status_code for a in answers],
        "final_status": client.status,
        "status_events": len(events),
        "ok": client.status in (ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.DELETED)
        and 1 <= len(events) <= 2,
        "events": events,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    prepare_database(DB_NAME, var_dir)
    django_setup(DB_NAME, var_dir)
    people = seed(managers=2)["managers"]
    server = Gunicorn(base_env(DB_NAME, var_dir), workers=4, threads=6)
    started = time.monotonic()
    try:
        sessions = [sign_in(server.url, people[n % 2]) for n in range(20)]
        rounds = []
        for number in range(args.rounds):
            rounds.append(
                {
                    "same_owner_email_x20": same_owner_email(server.url, sessions, number),
                    "same_page_token_x2": same_token(server.url, sessions[0], sessions[1]),
                    "two_managers_status": status_race(server.url, sessions[0], sessions[1]),
                }
            )
    finally:
        server.stop()
    result = {
        "rounds": args.rounds,
        "server": "gunicorn 4 workers x 6 threads, PostgreSQL, loopback",
        "seconds": round(time.monotonic() - started, 1),
        "all_ok": all(all(s["ok"] for s in r.values()) for r in rounds),
        "rounds_detail": rounds,
    }
    write_result("concurrency", result)
    sys.exit(0 if result["all_ok"] else 1)


if __name__ == "__main__":
    main()
