"""The metrics of several gunicorn worker processes, added up: the real
gunicorn with gunicorn.conf.py, its workers recycled every few requests so
that many processes (live and exited) answered."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.notifications.test_smtp_worker import database_url, free_port

BASE_DIR = Path(__file__).resolve().parents[2]
TOKEN = "gunicorn-test-token"
REQUESTS = 24


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    # Bounded wait for the server to listen; not a timing assertion.
    for _ in range(300):
        assert process.poll() is None, process.stderr.read()
        try:
            requests.get(url, timeout=2)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


@pytest.mark.django_db(transaction=True)
def test_requests_served_by_many_worker_processes_are_all_counted(tmp_path):
    port = free_port()
    multiproc = tmp_path / "prometheus"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "LOG_FORMAT": "json",
    }
    command = [
        sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "operator_panel.wsgi",
        "--bind", f"127.0.0.1:{port}", "--workers", "2",
        # Each worker is replaced after 3 requests: 24 requests see 8+ processes.
        "--max-requests", "3", "--max-requests-jitter", "0",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/health/live", process)
        for _ in range(REQUESTS):
            assert requests.get(f"{base}/accounts/login/", timeout=10).status_code == 200
        response = requests.get(
            f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
    finally:
        process.send_signal(signal.SIGTERM)
        _out, log = process.communicate(timeout=30)
    assert response.status_code == 200
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    login = (("method", "GET"), ("status", "200"), ("view", "login"))
    assert samples[("panel_http_requests_total", login)] == REQUESTS
    assert samples[("panel_http_request_duration_seconds_count", login)] == REQUESTS
    # child_exit: the live gauge of every exited worker is gone.
    pids = {path.stem.rpartition("_")[2] for path in multiproc.glob("counter_*.db")}
    assert len(pids) >= REQUESTS // 3
    assert len(list(multiproc.glob("gauge_livesum_*.db"))) <= 2
    # Probes are not in gunicorn's access log (off with LOG_FORMAT=json anyway)
    # and the panel's JSON request lines are.
    assert '"event": "request_finished"' in log
    assert "/health/live" not in log
