# The two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-browser lint format messages serve-worker clean

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
	  $(BIN)/python manage.py db_worker --no-reload --interval 1 & \
	  $(BIN)/python manage.py directory_stub --port 8001 & \
	  $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install messages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-browser: install messages
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the Russian catalogue after changing translatable strings.
makemessages: install
	$(BIN)/python manage.py makemessages -l ru --ignore=.venv --ignore=var --no-obsolete

clean:
	rm -rf $(VENV) var
