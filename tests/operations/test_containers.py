"""The Dockerfile and compose.yaml. This machine has a docker client but no
daemon: the compose file is validated by `docker compose config` (or the
older `docker-compose config`), skipped where neither exists; the Dockerfile
is read, as no image can be built here."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
SERVICES = {"db", "migrate", "web1", "web2", "worker1", "worker2", "proxy"}


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def run_config(*extra: str, **env: str) -> subprocess.CompletedProcess:
    command = compose_command()
    if command is None:
        pytest.skip("no docker compose client on this machine")
    return subprocess.run(
        [*command, "-f", str(BASE_DIR / "compose.yaml"), "config", *extra],
        cwd=BASE_DIR,
        env={k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_compose_file_is_valid_with_its_services():
    result = run_config(SECRET_KEY="compose-test-key")
    assert result.returncode == 0, result.stderr
    named = set(re.findall(r"^  ([a-z0-9]+):$", result.stdout, flags=re.MULTILINE))
    assert named >= SERVICES
    # The migrations, each web node and each worker reach the db service.
    assert result.stdout.count("DATABASE_URL: postgres://panel:panel@db:5432/panel") == 5
    assert "db_worker" in result.stdout
    assert "/health/live" in result.stdout


def test_the_compose_file_refuses_to_run_without_a_secret_key():
    result = run_config("-q")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_the_dockerfile_builds_in_two_stages_and_runs_gunicorn_as_a_plain_user():
    text = (BASE_DIR / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert stages == ["python:3.13-slim", "python:3.13-slim"]
    build, run = text.split("\nFROM python:3.13-slim\n")
    assert "collectstatic --no-input" in build
    assert "compilemessages" in build
    assert "pip install -c constraints.txt" in build
    assert re.search(r"^USER panel$", run, flags=re.MULTILINE)
    assert "useradd --system --uid 10001" in run
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py"' in run
    assert "SECRET_KEY" not in run  # the build's throw-away key is not in the image
