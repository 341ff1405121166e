"""Production mode, as `make serve` sets it up: Django's deployment checks
pass, and WhiteNoise serves the collected static files (development and tests
run without it: they collect nothing)."""

import json
import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "test-only-production-key-" + "x" * 40,
    "ALLOWED_HOSTS": "panel.example",
}


def run(*arguments: str, **extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **PRODUCTION, **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_reports_nothing():
    result = run("check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (2 silenced)." in result.stdout


def test_whitenoise_serves_static_files_in_production_only():
    code = "from django.conf import settings; print(json.dumps(settings.MIDDLEWARE))"
    result = run("shell", "--no-imports", "-c", "import json; " + code)
    assert result.returncode == 0, result.stderr
    production = json.loads(result.stdout)
    # Right after SecurityMiddleware (only the probes, the request log and
    # the request metrics come before it).
    security = production.index("django.middleware.security.SecurityMiddleware")
    assert production[security + 1] == "whitenoise.middleware.WhiteNoiseMiddleware"
    assert "whitenoise.middleware.WhiteNoiseMiddleware" not in settings.MIDDLEWARE
