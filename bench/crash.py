"""Crash tests, against PostgreSQL on loopback.

worker: ``--messages`` "client created" emails are queued, then the task
  worker (manage.py db_worker) is started and killed with SIGKILL ``--kills``
  times (default 50) at random moments while an aiosmtpd server on loopback
  accepts the messages slowly (so that kills land in the middle of sending).
  A last worker run then delivers what is left. Every queued email must have
  reached the SMTP server (none lost); a duplicate (same Message-ID) is
  allowed at most once per kill.
web: gunicorn's worker process is killed with SIGKILL at a random moment
  during an Add client post, ``--web-kills`` times (default 200); gunicorn
  starts a new worker. Afterwards every committed client has exactly one
  queued notification (delivery and task) and no notification exists without
  its client.

Usage: .venv/bin/python bench/crash.py [--kills 50] [--messages 120] [--web-kills 200]
Writes bench/results/crash.json.
"""

import argparse
import asyncio
import collections
import contextlib
import email
import email.policy
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from aiosmtpd.controller import Controller

from bench.crash_harness import (
    BASE_DIR,
    Gunicorn,
    base_env,
    create_page_data,
    django_setup,
    free_port,
    post_create,
    prepare_database,
    seed,
    sign_in,
    write_result,
)

DB_NAME = "bench_crash"

# The panel's models are imported inside the functions that use them: Django
# is set up (django_setup) only in main(), once the bench database exists.


class SlowInbox:
    """Keeps the Message-ID of every accepted message; each DATA takes a
    while, so a kill often lands between the send and its record."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.message_ids: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.message_ids.append(str(message["Message-ID"]).strip())
        return "250 Message accepted"


def worker_crashes(args, var_dir: Path) -> dict:
    from notifications.models import Delivery, DeliveryStatus

    inbox = SlowInbox(delay=args.smtp_delay)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = base_env(
        DB_NAME,
        var_dir,
        EMAIL_BACKEND="smtp",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        EMAIL_TIMEOUT="5",
        NOTIFICATION_RETRY_BASE_DELAY="0",
        # A task whose worker died is run again after 2 s; a message may be
        # killed mid-send several times in 50 kills, so allow more recoveries
        # than production's 3 (a given-up task would count as lost here).
        TASK_LEASE_SECONDS="2",
        TASK_LEASE_CHECK_INTERVAL="0.5",
        TASK_MAX_RECOVERIES="50",
    )
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.1"]
    kills = 0
    started = time.monotonic()
    try:
        for _ in range(args.kills):
            process = subprocess.Popen(  # noqa: S603
                command,
                cwd=BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            # Kill in the middle of sending: once this worker has sent its
            # first message, at a random moment within the next few sends.
            seen = len(inbox.message_ids)
            deadline = time.monotonic() + 30
            while len(inbox.message_ids) == seen and time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                time.sleep(0.02)
            time.sleep(random.uniform(0, args.smtp_delay * 4))
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            time.sleep(0.1)
        sent_before_final = len(inbox.message_ids)
        # The last worker: lease expiry brings back what the kills left RUNNING.
        time.sleep(2.5)
        process = subprocess.Popen(  # noqa: S603
            command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + args.final_timeout
        while time.monotonic() < deadline:
            pending = Delivery.objects.exclude(status=DeliveryStatus.SENT).count()
            if pending == 0:
                break
            time.sleep(1)
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    finally:
        controller.stop()
    expected = set(Delivery.objects.values_list("message_id", flat=True))
    received = collections.Counter(inbox.message_ids)
    lost = sorted(expected - set(received))
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    statuses = collections.Counter(Delivery.objects.values_list("status", flat=True))
    return {
        "messages_queued": len(expected),
        "worker_kills": kills,
        "received_before_final_worker": sent_before_final,
        "received_total": sum(received.values()),
        "messages_lost": len(lost),
        "duplicates": duplicates,
        "max_duplicates_allowed": kills,
        "delivery_statuses": dict(statuses),
        "seconds": round(time.monotonic() - started, 1),
        "ok": not lost and duplicates <= kills,
    }


def web_crashes(args, var_dir: Path, manager_email: str) -> dict:
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from clients.models import Client
    from notifications.models import Delivery

    env = base_env(DB_NAME, var_dir, EMAIL_BACKEND="locmem")
    server = Gunicorn(env, workers=1, threads=1, preload=True)
    kills = answered = refused = 0
    clients_before = Client.objects.count()
    started = time.monotonic()
    try:
        session = sign_in(server.url, manager_email)
        for _ in range(args.web_kills):
            for _attempt in range(100):  # until the new worker answers
                try:
                    data = create_page_data(session, server.url)
                    break
                except (requests.RequestException, AssertionError):
                    time.sleep(0.05)
            pids = server.worker_pids()
            delay = random.uniform(0, args.web_kill_window)

            def killer(pids=pids, delay=delay):
                time.sleep(delay)
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)

            thread = threading.Thread(target=killer)
            thread.start()
            try:
                response = post_create(session, server.url, data, timeout=10)
                answered += response.status_code == 302
            except requests.RequestException:
                refused += 1
            thread.join()
            kills += 1
    finally:
        server.stop()
    connection.close()
    clients = set(Client.objects.values_list("pk", flat=True))
    new_clients = len(clients) - clients_before
    per_client = collections.Counter(Delivery.objects.values_list("client_id", flat=True))
    without_notification = [pk for pk in clients if per_client.get(pk, 0) == 0]
    more_than_one = [pk for pk, count in per_client.items() if count != 1]
    orphans = [pk for pk in per_client if pk not in clients]
    delivery_ids = set(Delivery.objects.values_list("pk", flat=True))
    task_ids = set(Delivery.objects.values_list("task_id", flat=True))
    tasks = DBTaskResult.objects.filter(task_path__endswith="deliver_notification")
    orphan_tasks = [
        str(task.id)
        for task in tasks
        if (task.args_kwargs.get("kwargs") or {}).get("delivery_id") not in delivery_ids
    ]
    deliveries_without_task = sum(1 for t in task_ids if not t)
    return {
        "web_kills": kills,
        "posts_answered_with_a_client": answered,
        "posts_cut_by_the_kill": refused,
        "clients_committed": new_clients,
        "clients_without_notification": len(without_notification),
        "clients_with_more_than_one": len(more_than_one),
        "notifications_without_client": len(orphans),
        "tasks_without_delivery": len(orphan_tasks),
        "deliveries_without_task": deliveries_without_task,
        "kill_window_seconds": round(args.web_kill_window, 3),
        "seconds": round(time.monotonic() - started, 1),
        "ok": not without_notification
        and not more_than_one
        and not orphans
        and not orphan_tasks
        and not deliveries_without_task,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--messages", type=int, default=120)
    parser.add_argument("--smtp-delay", type=float, default=0.15)
    parser.add_argument("--final-timeout", type=float, default=300)
    parser.add_argument("--web-kills", type=int, default=200)
    parser.add_argument("--web-kill-window", type=float, default=0.4)
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-crash-"))
    prepare_database(DB_NAME, var_dir)
    django_setup(DB_NAME, var_dir)
    manager = seed(managers=1)["managers"][0]

    # Queue the emails through the real page, over HTTP.
    server = Gunicorn(base_env(DB_NAME, var_dir), workers=2, threads=4)
    durations = []
    try:
        session = sign_in(server.url, manager)
        for _ in range(args.messages):
            data = create_page_data(session, server.url)
            start = time.monotonic()
            response = post_create(session, server.url, data)
            durations.append(time.monotonic() - start)
            assert response.status_code == 302, response.status_code
    finally:
        server.stop()
    # Kill anywhere from the request's start to past its usual end (a post
    # takes about `median_post_seconds` on a warm worker).
    median_post = sorted(durations)[len(durations) // 2]

    result = {
        "median_post_seconds": round(median_post, 3),
        "worker": worker_crashes(args, var_dir) if args.kills else None,
    }
    result["web"] = web_crashes(args, var_dir, manager) if args.web_kills else None
    result["all_ok"] = all(
        part["ok"] for part in (result["worker"], result["web"]) if part is not None
    )
    write_result("crash", result)
    sys.exit(0 if result["all_ok"] else 1)


if __name__ == "__main__":
    main()
