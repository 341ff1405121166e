"""Settings of the operator panel.

Everything that differs between a developer's machine and production is read
from the environment; the defaults are safe for development only (DEBUG on,
a throw-away secret key, SQLite in ./var, emails printed to the console).
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from operations import logs

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_countries",
    "django_structlog",
    # Counts failed sign-ins and locks an account or an address (see below).
    "axes",
    "users",
    "rules",
    "clients",
    # Health, metrics, logs, the replica router; before notifications, so
    # that its `db_worker` (notifications' plus a heartbeat and the table
    # upkeep) takes the name.
    "operations",
    "notifications",
    # The reseller API v3 (docs/api.md): Django REST framework, its OpenAPI
    # document by drf-spectacular, Swagger UI's files from the sidecar package.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    # After notifications: its `db_worker` (the django-tasks-db worker plus
    # recovery of tasks whose worker died) takes the name; earlier apps win.
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: /health/live, /health/ready and /metrics, before host checks,
    # the HTTPS redirect and sessions (operations/probes.py).
    "operations.probes.ProbeMiddleware",
    # One log line per request, with its X-Request-ID (operations/logs.py).
    "operations.logs.RequestLogMiddleware",
    "operations.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Reads of the read-only pages from DATABASE_REPLICA_URL (operations/routing.py).
    "operations.routing.ReplicaRoutingMiddleware",
    # Last: it answers a locked-out sign-in attempt.
    "axes.middleware.AxesMiddleware",
]
if not DEBUG:
    # Production: static files straight from gunicorn, compressed and cached
    # forever (the hashed copies `collectstatic` writes to STATIC_ROOT), without
    # a separate web server. Development (runserver) and tests, where nothing
    # was collected, find them in the apps' folders instead.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "operator_panel.urls"
WSGI_APPLICATION = "operator_panel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "users.context_processors.current_manager",
            ],
        },
    },
]

# PostgreSQL in production and CI; SQLite in ./var when DATABASE_URL is unset,
# so that `make run` works on a machine with nothing installed.
if "DATABASE_URL" not in os.environ:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
# Connections (docs/operations.md, "Connections"): DATABASE_POOL_MAX_SIZE
# turns on Django's psycopg pool in each process; DATABASE_PGBOUNCER=true is
# for PgBouncer in transaction mode: no server-side cursors (they live in a
# transaction PgBouncer may hand to another client) and no prepared statements.
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "0"))
DATABASE_PGBOUNCER = env_bool("DATABASE_PGBOUNCER", False)


def _database(url: str) -> dict:
    database = dj_database_url.parse(
        url,
        # The pool keeps connections itself; Django's persistent ones are off with it.
        conn_max_age=0
        if DATABASE_POOL_MAX_SIZE
        else int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        # A kept connection is checked before reuse: after a database restart
        # the first request gets a fresh connection, not an error.
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
    )
    if database["ENGINE"] != "django.db.backends.postgresql":
        return database
    options = database.setdefault("OPTIONS", {})
    options["connect_timeout"] = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    if DATABASE_POOL_MAX_SIZE:
        options["pool"] = {
            "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "1")),
            "max_size": DATABASE_POOL_MAX_SIZE,
            # Seconds a request waits for a free connection before an error.
            "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
        }
    if DATABASE_PGBOUNCER:
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        options["prepare_threshold"] = None  # Django's default too; said out loud
    return database


DATABASES = {
    "default": _database(os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"))
}
# A streaming replica for the read-only pages (operations/routing.py). Tests
# make it a mirror of the test database.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = _database(os.environ["DATABASE_REPLICA_URL"])
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["operations.routing.ReplicaRouter"]
# The pages whose reads go to the replica (view names), and how long a
# browser that posted reads from the primary only.
DATABASE_REPLICA_VIEWS = env_list(
    "DATABASE_REPLICA_VIEWS", "clients:list,clients:export,api_v3:accounts"
)
DATABASE_REPLICA_PIN_SECONDS = int(os.environ.get("DATABASE_REPLICA_PIN_SECONDS", "10"))
# Bookkeeping read from the primary, whose writes do not move a request's
# other reads there (operations/routing.py).
DATABASE_PRIMARY_MODELS = frozenset(
    {"sessions.session", "api.apitoken", "api.ratecounter", "api.idempotencykey"}
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite tests use a file, not memory, so that a worker process a test
    # starts (tests/notifications) sees the test database; one per process.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password check.
    "axes.backends.AxesStandaloneBackend",
    "users.backends.EmailBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Russian first: the panel's users read Russian; English through the switcher.
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
if not DEBUG:
    # Production: `collectstatic` writes hashed, compressed copies that
    # WhiteNoise serves with far-future cache headers.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Notification delivery runs in `manage.py db_worker` (django-tasks-db).
# "Forgot password" emails have a queue of their own (users.tasks.AUTH_QUEUE)
# and a lower priority: one worker serving both (`make run`, `make serve`)
# takes the client notifications first; a busy installation may run a worker
# per queue (`db_worker --queue-name auth`).
TASKS = {
    "default": {
        # django-tasks-db's backend, carrying the request id into the task.
        "BACKEND": "operations.tasks_backend.ContextDatabaseBackend",
        "QUEUES": ["default", "auth"],
    }
}

# Django 6.1 configures email through MAILERS. EMAIL_BACKEND picks the
# backend ("smtp", "console", "file" or a dotted path); development prints
# emails to the console, production speaks SMTP with the EMAIL_* variables.
EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    # Django's console backend, printing UTF-8 text instead of base64.
    "console": "notifications.mail.ReadableConsoleBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = os.environ.get("EMAIL_BACKEND", "console" if DEBUG else "smtp")
_email_backend_path = EMAIL_BACKENDS.get(_email_backend, _email_backend)
if _email_backend_path == EMAIL_BACKENDS["smtp"]:
    _email_options = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "timeout": int(os.environ.get("EMAIL_TIMEOUT", "10")),
    }
elif _email_backend_path == EMAIL_BACKENDS["file"]:
    _email_options = {"file_path": os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "emails"))}
else:
    _email_options = {}
MAILERS = {"default": {"BACKEND": _email_backend_path, "OPTIONS": _email_options}}

# The panel's own address, for links in emails (a reseller may override it).
PANEL_URL = os.environ.get("PANEL_URL", "http://127.0.0.1:8000")

# The benchmark's pages under /bench/ (bench/urls.py: the no-query floor view
# and stock Django admin as the reference). Off unless `make bench` turns it on.
BENCH_URLS = env_bool("BENCH_URLS", False)

# Notifications (see notifications/services.py). The owner's password-setup
# link expires after OWNER_INVITATION_TIMEOUT seconds (7 days).
OWNER_INVITATION_TIMEOUT = int(os.environ.get("OWNER_INVITATION_TIMEOUT", str(7 * 24 * 3600)))
# Where the owner signs in after setting the password; empty hides the link.
CLIENT_AREA_URL = os.environ.get("CLIENT_AREA_URL", "")
# A failed send is retried after about BASE * 2**(n-1) seconds (capped at MAX,
# with jitter), up to MAX_ATTEMPTS attempts in all.
NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATION_MAX_ATTEMPTS", "6"))
NOTIFICATION_RETRY_BASE_DELAY = float(os.environ.get("NOTIFICATION_RETRY_BASE_DELAY", "60"))
NOTIFICATION_RETRY_MAX_DELAY = float(os.environ.get("NOTIFICATION_RETRY_MAX_DELAY", "3600"))
# A task RUNNING longer than the lease has lost its worker and is run again,
# at most TASK_MAX_RECOVERIES times; the worker looks every CHECK_INTERVAL seconds.
TASK_LEASE_SECONDS = int(os.environ.get("TASK_LEASE_SECONDS", "600"))
TASK_MAX_RECOVERIES = int(os.environ.get("TASK_MAX_RECOVERIES", "3"))
TASK_LEASE_CHECK_INTERVAL = float(os.environ.get("TASK_LEASE_CHECK_INTERVAL", "30"))

# A manager may type as a new owner's email at most this many emails per hour
# that belong to users out of their reach; past it every email out of their
# reach gets the same "cannot be used" answer (clients.models.OwnerEmailCheck).
OWNER_EMAIL_CHECKS_PER_HOUR = int(os.environ.get("OWNER_EMAIL_CHECKS_PER_HOUR", "30"))

DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "panel@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Per-process memory cache: enough for the directory's short-lived answers.
# Several processes may each keep their own copy; set a shared backend
# (Redis, Memcached) here when that matters.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The client list's "about N" total (PostgreSQL's estimate, past 10,000) is
# kept this many seconds per process, by manager and filters; 0 plans it for
# every page. Exact totals are never kept.
CLIENT_LIST_ESTIMATE_SECONDS = int(os.environ.get("CLIENT_LIST_ESTIMATE_SECONDS", "60"))
# The list's filter selects (types, rules, managers) are kept this many seconds
# per process, by reseller; 0 reads them for every page.
CLIENT_LIST_CHOICES_SECONDS = int(os.environ.get("CLIENT_LIST_CHOICES_SECONDS", "10"))

# The organization directory (clients/directory.py) must never hold up the
# Add client page: short timeouts in seconds, and answers kept for a while.
# This is the only place they are set. TOTAL bounds a whole call (resolving,
# connecting, a retry, waiting and reading the answer); CONNECT and READ bound
# one connection attempt and one silence within it.
DIRECTORY_TOTAL_TIMEOUT = float(os.environ.get("DIRECTORY_TOTAL_TIMEOUT", "1.5"))
DIRECTORY_CONNECT_TIMEOUT = float(os.environ.get("DIRECTORY_CONNECT_TIMEOUT", "0.5"))
DIRECTORY_READ_TIMEOUT = float(os.environ.get("DIRECTORY_READ_TIMEOUT", "0.8"))
DIRECTORY_CACHE_SECONDS = int(os.environ.get("DIRECTORY_CACHE_SECONDS", "300"))
# A reseller's autofill URL must lead to a public address over https (the
# server posts the API key there). On in DEBUG, for the local stand-in
# (manage.py directory_stub on http://127.0.0.1:8001); then http to loopback and
# private addresses is allowed too. Off in production unless set.
DIRECTORY_ALLOW_PRIVATE_NETWORKS = env_bool("DIRECTORY_ALLOW_PRIVATE_NETWORKS", DEBUG)

# Logs (operations/logs.py): one line per request and per task run, as
# LOG_FORMAT=json (one JSON object a line, for a log collector) or text.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOGGING = logs.logging_config(log_format=LOG_FORMAT, level=os.environ.get("LOG_LEVEL", "INFO"))
logs.configure_structlog()
# The X-Request-ID of a proxy or load balancer is taken when it is sane.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
# "request_started" at DEBUG: the one line per request is "request_finished".
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = 10

# Health and metrics (operations/probes.py). /health/ready fails when the
# oldest ready task has waited longer than HEALTH_QUEUE_MAX_AGE seconds or no
# task worker wrote its heartbeat within HEALTH_WORKER_HEARTBEAT_MAX_AGE
# (0 turns either check off). Without METRICS_TOKEN, /metrics answers 404.
HEALTH_QUEUE_MAX_AGE = float(os.environ.get("HEALTH_QUEUE_MAX_AGE", "300"))
HEALTH_WORKER_HEARTBEAT_MAX_AGE = float(os.environ.get("HEALTH_WORKER_HEARTBEAT_MAX_AGE", "60"))
HEALTH_STATEMENT_TIMEOUT = float(os.environ.get("HEALTH_STATEMENT_TIMEOUT", "2"))
WORKER_HEARTBEAT_INTERVAL = float(os.environ.get("WORKER_HEARTBEAT_INTERVAL", "10"))
# A worker that lost the database (a restart, a failover) starts its loop again
# after this many seconds instead of exiting.
WORKER_DATABASE_RETRY_SECONDS = float(os.environ.get("WORKER_DATABASE_RETRY_SECONDS", "2"))
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Task table upkeep (operations/services.py), run by each worker every
# TASK_PRUNE_INTERVAL seconds (0: never; `manage.py prune_tasks` from cron).
TASK_PRUNE_INTERVAL = float(os.environ.get("TASK_PRUNE_INTERVAL", "3600"))
TASK_RESULT_RETENTION_DAYS = float(os.environ.get("TASK_RESULT_RETENTION_DAYS", "7"))
TASK_FAILED_RETENTION_DAYS = float(os.environ.get("TASK_FAILED_RETENTION_DAYS", "30"))
DELIVERY_ATTEMPT_RETENTION_DAYS = float(os.environ.get("DELIVERY_ATTEMPT_RETENTION_DAYS", "180"))

# --- Security ---------------------------------------------------------------------
# HTTPS_ONLY (default: on when DEBUG is off) turns on everything that assumes
# the panel is reached over TLS: redirect to https, Secure cookies, HSTS. Turn
# it off only for a production-mode run on loopback (bench/).
HTTPS_ONLY = env_bool("HTTPS_ONLY", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS_ONLY else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it
# from clients' requests), say so with SECURE_PROXY_SSL_HEADER=true.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# htmx sends the CSRF token from the page (hx-headers), no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A session ends after SESSION_IDLE_MINUTES without a request (30 by default):
# every request saves the session and so moves its expiry on.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ENGINE = "users.sessions"  # database sessions, saved in one UPDATE

# Content-Security-Policy (Django's own middleware): our scripts and styles
# only, no inline ones (templates carry no <script> body, on* handler or
# style="" attribute; tests/test_security_headers.py checks every page).
# Bootstrap's CSS draws some icons as data: SVG images.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}

# Sign-in protection (django-axes): AXES_FAILURE_LIMIT failed sign-ins for one
# account (email, any letter case) or from one address lock that account or
# address for AXES_COOLOFF_MINUTES; a success does not wipe the count of the
# other criterion. axes has no progressive delay: before the lock, each try
# costs the password hasher's time, and the lock answers 429 with a page that
# does not tell whether the email exists.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The sign-in form's field (Django's AuthenticationForm names it "username").
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "users.backends.axes_username"
AXES_LOCKOUT_TEMPLATE = "users/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Only failures are stored; successful sign-ins are in the server log already.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# The address axes counts is REMOTE_ADDR; behind a proxy, install
# django-ipware and set AXES_IPWARE_* (see django-axes' docs).

# Reseller API v3 (docs/api.md). Parsing, errors and authentication are the
# api app's own (JSON:API, X-Api-Token); DRF supplies the views and
# drf-spectacular the OpenAPI document.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["api.jsonapi.JsonApiParser", "api.jsonapi.JsonParser"],
    "DEFAULT_RENDERER_CLASSES": ["api.jsonapi.JsonApiRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.jsonapi.JsonApiNegotiation",
    "EXCEPTION_HANDLER": "api.jsonapi.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Operator panel: reseller API v3",
    "DESCRIPTION": "Create, find and read a reseller's clients (accounts) in the shape of the "
    "platform's public API v3: JSON:API bodies, the manager's token in X-Api-Token. "
    "See docs/api.md.",
    "VERSION": "3.0.0",
    "OAS_VERSION": "3.0.3",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v3",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # JSON:API resource types, each its own one-value enum.
    "ENUM_NAME_OVERRIDES": {
        "AccountsResourceType": ["accounts"],
        "AccountTypesResourceType": ["account_types"],
        "ServiceRulesResourceType": ["service_rules"],
        "ManagersResourceType": ["managers"],
    },
    "DISABLE_ERRORS_AND_WARNINGS": False,
}
# Requests a token may make per API_TOKEN_RATE_WINDOW seconds; past it 429.
API_TOKEN_RATE_LIMIT = int(os.environ.get("API_TOKEN_RATE_LIMIT", "600"))
API_TOKEN_RATE_WINDOW = int(os.environ.get("API_TOKEN_RATE_WINDOW", "60"))
# Failed authentications one address may make per window before 429.
API_AUTH_FAILURE_LIMIT = int(os.environ.get("API_AUTH_FAILURE_LIMIT", "20"))
API_AUTH_FAILURE_WINDOW = int(os.environ.get("API_AUTH_FAILURE_WINDOW", "300"))
# Idempotency keys are kept at least this long (manage.py api_prune removes older ones).
API_IDEMPOTENCY_KEY_HOURS = int(os.environ.get("API_IDEMPOTENCY_KEY_HOURS", "24"))
# The largest request body the API reads.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(64 * 1024)))

# "Forgot password" (users.services.password_reset_request): at most one reset
# email per account (and one queued task per typed email) every
# PASSWORD_RESET_MIN_INTERVAL seconds, and at most PASSWORD_RESET_ADDRESS_LIMIT
# requests per address (as axes sees it) in PASSWORD_RESET_ADDRESS_MINUTES;
# the rest are answered alike and send nothing. Kept in the database, so every
# web worker and task worker sees the same counts.
PASSWORD_RESET_MIN_INTERVAL = int(os.environ.get("PASSWORD_RESET_MIN_INTERVAL", "300"))
PASSWORD_RESET_ADDRESS_LIMIT = int(os.environ.get("PASSWORD_RESET_ADDRESS_LIMIT", "10"))
PASSWORD_RESET_ADDRESS_MINUTES = float(os.environ.get("PASSWORD_RESET_ADDRESS_MINUTES", "15"))

# Staff, superusers and panel managers cannot be made a client's owner (owner
# search leaves them out, client_create refuses them) unless this is on.
OWNERS_MAY_BE_STAFF = env_bool("OWNERS_MAY_BE_STAFF", False)

SILENCED_SYSTEM_CHECKS = [
    # HSTS preload (security.W021): adding the domain to browsers' preload
    # lists is a decision for each installation's domain owner, and hard to
    # undo; HSTS itself is on.
    "security.W021",
    # User.email is unique through a case-insensitive functional constraint
    # (Lower("email")), which this check does not recognise.
    "auth.W004",
]
