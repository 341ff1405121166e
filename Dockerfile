# The panel's image: gunicorn serves it (the default command), and the same
# image runs the task worker (`python manage.py db_worker --no-reload
# --queue-name default,auth`) and the migrations (`python manage.py migrate
# --no-input`). See docs/operations.md and compose.yaml. `make serve` runs
# without containers.

# --- build: dependencies, translations and static files -----------------------
FROM python:3.13-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
# gettext: compilemessages (the Russian catalogue).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN python -m venv /venv
COPY pyproject.toml constraints.txt ./
# The project installs no module of its own: this installs the pinned dependencies.
RUN /venv/bin/pip install -c constraints.txt .
COPY . .
# Build-time settings only: nothing here is kept in the image's environment.
RUN DEBUG=false SECRET_KEY=build-only VAR_DIR=/app/var \
        /venv/bin/python manage.py compilemessages --ignore=.venv -v 0 \
    && DEBUG=false SECRET_KEY=build-only VAR_DIR=/app/var \
        /venv/bin/python manage.py collectstatic --no-input -v 0 \
    && rm -f /app/var/db.sqlite3

# --- run: the virtual environment and the code, as a user without rights --------
FROM python:3.13-slim
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home panel
COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=false \
    VAR_DIR=/app/var \
    LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
USER panel
EXPOSE 8000
# WEB_WORKERS and WEB_TIMEOUT are read by gunicorn.conf.py.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "operator_panel.wsgi:application", "--bind", "0.0.0.0:8000"]
