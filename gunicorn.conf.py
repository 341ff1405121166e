"""gunicorn's settings for the panel: `make serve`, the Dockerfile and
bench/cluster.py start it with ``-c gunicorn.conf.py``; flags on the command
line win over what is here.

- **Metrics.** The prometheus client's multiprocess mode: every worker writes
  its values into ``PROMETHEUS_MULTIPROC_DIR`` (``var/prometheus`` unless
  set; a task worker on the same machine may share it) and ``/metrics`` adds
  them up. At start the files of processes no longer running are removed; a
  worker that exits is marked dead (``child_exit``), so the live gauges do not
  count it.
- **Access log.** With ``LOG_FORMAT=text`` (the default) gunicorn's access
  log is on; with ``json`` it is off, as the panel's own JSON line per
  request carries the same and more. Probes (``/health/…``, ``/metrics``) are
  left out of it either way.
"""

import os
from pathlib import Path

from gunicorn.glogging import Logger

BASE_DIR = Path(__file__).resolve().parent
QUIET_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})

multiproc_dir = Path(
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR",
        str(Path(os.environ.get("VAR_DIR", BASE_DIR / "var")) / "prometheus"),
    )
)

workers = int(os.environ.get("WEB_WORKERS", "3"))
# The longest answer, the CSV export, is written by PostgreSQL (COPY): a
# million clients in seconds (docs/scale.md), so a minute is room enough.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 20
max_requests = 5000
max_requests_jitter = 500
accesslog = "-" if os.environ.get("LOG_FORMAT", "text") == "text" else None


class ProbeQuietLogger(Logger):
    """gunicorn's logger without an access line for each probe."""

    def access(self, resp, req, environ, request_time) -> None:
        if environ.get("PATH_INFO", "").rstrip("/") in QUIET_PATHS:
            return
        super().access(resp, req, environ, request_time)


logger_class = ProbeQuietLogger


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server) -> None:
    multiproc_dir.mkdir(parents=True, exist_ok=True)
    for path in multiproc_dir.glob("*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(multiproc_dir))
