# The two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The task worker serves both queues: client notifications ("default") and
# password-reset emails ("auth", a lower priority), see TASKS in settings.
WORKER_QUEUES ?= default,auth

.PHONY: run test test-browser lint format messages serve serve-worker bench audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalled whenever the pins change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

messages: install
	$(BIN)/python manage.py compilemessages --ignore=.venv -v 0

run: install messages
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ with its task worker and the directory stub" \
	  "on http://127.0.0.1:8001/; Ctrl+C stops all three."
	@trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/python manage.py db_worker --no-reload --interval 1 --queue-name $(WORKER_QUEUES) & \
	  $(BIN)/python manage.py directory_stub --port 8001 & \
	  $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production mode: gunicorn with DEBUG off, static files collected into
# var/static and served by WhiteNoise, and the task worker beside it. Give
# SECRET_KEY (else one is made once in var/secret_key), ALLOWED_HOSTS and
# DATABASE_URL; behind a TLS proxy set SECURE_PROXY_SSL_HEADER=true. On a
# machine without TLS (loopback trials) set HTTPS_ONLY=false. Sync workers
# answer each request with "Connection: close": no kept-alive connection can
# be closed just as a client reuses it (bench/soak.py runs the same workers).
# gunicorn.conf.py: metrics of all processes (PROMETHEUS_MULTIPROC_DIR, shared
# with the task worker) and the access log (text) without the probes.
WEB_WORKERS ?= 3
# A sync worker that answers one request longer than this is killed. The
# longest answer is the streamed CSV export, which PostgreSQL writes itself
# (COPY): 900,000 rows in 7 s in `make bench` on two busy cores, so a million
# take seconds; 60 s leaves room for a slower server and still stops a stuck
# worker. (The export built row by row in Python needed about two minutes and
# a 300 s timeout.)
WEB_TIMEOUT ?= 60
serve: install messages
	@mkdir -p var && [ -s var/secret_key ] || (umask 077; $(BIN)/python -c \
	  "import secrets; print(secrets.token_urlsafe(50))" > var/secret_key)
	@set -e; export DEBUG=false SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret_key)}" \
	  ALLOWED_HOSTS="$${ALLOWED_HOSTS:-$(HOST),localhost}"; \
	  $(BIN)/python manage.py migrate --no-input; \
	  $(BIN)/python manage.py collectstatic --no-input -v 0; \
	  $(BIN)/python manage.py check --deploy; \
	  echo "Serving (production mode) on $(HOST):$(PORT) with its task worker; Ctrl+C stops both."; \
	  export PROMETHEUS_MULTIPROC_DIR="$${PROMETHEUS_MULTIPROC_DIR:-$(CURDIR)/var/prometheus}"; \
	  mkdir -p "$$PROMETHEUS_MULTIPROC_DIR"; \
	  trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/python manage.py db_worker --no-reload --interval 1 --queue-name $(WORKER_QUEUES) & \
	  $(BIN)/gunicorn -c gunicorn.conf.py operator_panel.wsgi:application --bind $(HOST):$(PORT) \
	    --workers $(WEB_WORKERS) --max-requests 5000 --max-requests-jitter 500 \
	    --timeout $(WEB_TIMEOUT) --graceful-timeout 20

# The scale benchmark (bench/run.py): seeds PostgreSQL database panel_bench
# with BENCH_CLIENTS clients (once), serves it with gunicorn (2 workers,
# production settings) on loopback and measures the list, search, client
# page, Add client and CSV export beside Django admin and a no-query floor.
BENCH_CLIENTS ?= 1000000
bench: install
	$(BIN)/python bench/run.py --clients $(BENCH_CLIENTS) $(BENCH_ARGS)

test: install messages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-browser: install messages
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the Russian catalogue after changing translatable strings.
makemessages: install
	$(BIN)/python manage.py makemessages -l ru --ignore=.venv --ignore=var --no-obsolete

# The dependency audit: pip-audit (in a virtual environment of its own, so its
# dependencies stay out of the project's lock) checks every pin of
# constraints.txt against the PyPI advisory database (or OSV with
# AUDIT_ARGS="-s osv"). It needs network access to pypi.org or api.osv.dev.
AUDIT_VENV := .venv-audit
PIP_AUDIT_VERSION := 2.10.1
$(AUDIT_VENV)/bin/pip-audit:
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet pip-audit==$(PIP_AUDIT_VERSION)

audit: $(AUDIT_VENV)/bin/pip-audit
	$(AUDIT_VENV)/bin/pip-audit --strict --disable-pip --no-deps -r constraints.txt $(AUDIT_ARGS)

clean:
	rm -rf $(VENV) $(AUDIT_VENV) var
