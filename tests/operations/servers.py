"""Real servers for the operations tests: gunicorn with gunicorn.conf.py and
PgBouncer in transaction mode, on free loopback ports."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.notifications.test_smtp_worker import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)


def wait_until_up(url: str, process: subprocess.Popen, log: Path | None = None) -> None:
    # A bounded wait for the server to listen; not a timing assertion.
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(log.read_text() if log else "the server exited")
        try:
            requests.get(url, timeout=2)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise AssertionError("the server did not start")


class Gunicorn:
    """gunicorn -c gunicorn.conf.py with the given environment; its output in a file."""

    def __init__(self, env: dict[str, str], tmp_path: Path, *, workers: int = 2, extra=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"gunicorn-{self.port}.log"
        command = [
            sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "operator_panel.wsgi",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), *extra,
        ]  # fmt: skip
        env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"prom-{self.port}"), **env}
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_until_up(self.url + "/health/live", self.process, self.log)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text()


class PgBouncer:
    """PgBouncer in transaction mode in front of a PostgreSQL server."""

    def __init__(self, *, host: str, port: int, user: str):
        assert PGBOUNCER, "pgbouncer is not installed"
        self.port = free_port()
        # Not under pytest's tmp_path: PgBouncer runs as postgres, who cannot
        # enter root's private temporary folders.
        directory = self.directory = Path(tempfile.mkdtemp(prefix="panel-pgbouncer-"))
        config = directory / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={host} port={port} user={user}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = any\n"
            "pool_mode = transaction\n"
            "default_pool_size = 4\n"
            "max_client_conn = 200\n"
            f"logfile = {directory / 'pgbouncer.log'}\n"
        )
        # PgBouncer refuses to run as root; it switches to the postgres user.
        as_user = []
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres")
            as_user = ["-u", "postgres"]
        self.process = subprocess.Popen(
            [PGBOUNCER, *as_user, str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log = directory / "pgbouncer.log"
        for _ in range(100):
            if self.process.poll() is not None:
                raise AssertionError(self.process.stderr.read())
            try:
                import psycopg

                psycopg.connect(
                    host="127.0.0.1", port=self.port, dbname="postgres", user=user
                ).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise AssertionError("pgbouncer did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)
