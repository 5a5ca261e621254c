"""Settings shared by every environment; values come from the environment.

Environment variables (all optional in development):
  DATABASE_URL               sqlite:///path or postgres://user:pass@host:port/db
  LEITPLANKE_SECRET_KEY      required in production
  LEITPLANKE_AUDIT_KEY       required in production: the secret the audit chain is sealed with
  LEITPLANKE_AUDIT_KEY_FALLBACKS  earlier audit keys, comma-separated (verification only)
  LEITPLANKE_ALLOWED_HOSTS   comma-separated host names
  LEITPLANKE_DATA_DIR        where the SQLite database and uploaded files live (default ./var)
  LEITPLANKE_TIME_ZONE       default Europe/Berlin
  LEITPLANKE_EMAIL_URL-like settings: LEITPLANKE_EMAIL_BACKEND, LEITPLANKE_EMAIL_HOST,
  LEITPLANKE_EMAIL_PORT, LEITPLANKE_EMAIL_USER, LEITPLANKE_EMAIL_PASSWORD,
  LEITPLANKE_EMAIL_USE_TLS, LEITPLANKE_DEFAULT_FROM_EMAIL
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DATA_DIR = Path(env("LEITPLANKE_DATA_DIR", str(Path.cwd() / "var"))).resolve()

SECRET_KEY = env("LEITPLANKE_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env_list("LEITPLANKE_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("LEITPLANKE_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "leitplanke.core",
    "leitplanke.accounts",
    "leitplanke.customers",
    "leitplanke.deadlines",
    "leitplanke.processes",
    "leitplanke.cases",
    "leitplanke.decisions",
    "leitplanke.intake",
    "leitplanke.maturity",
    "leitplanke.demo",
]

MIDDLEWARE = [
    "leitplanke.core.middleware.RequestContextMiddleware",
    "leitplanke.core.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "leitplanke.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "leitplanke.core.middleware.UnstorableInputMiddleware",
]

ROOT_URLCONF = "leitplanke.config.urls"
WSGI_APPLICATION = "leitplanke.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "leitplanke.accounts.context_processors.navigation",
                "leitplanke.accounts.context_processors.public_branding",
                "leitplanke.decisions.context_processors.approvals_waiting",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------
SQLITE_OPTIONS = {
    # WAL lets readers run while one writer writes; IMMEDIATE takes the write lock at BEGIN
    # so that two writers queue on busy_timeout instead of failing with "database is locked".
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA busy_timeout=20000;"
        "PRAGMA temp_store=MEMORY;"
        "PRAGMA mmap_size=268435456;"
        "PRAGMA cache_size=-65536;"
    ),
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def database_from_env(default_url: str) -> dict:
    config: dict = dict(dj_database_url.parse(env("DATABASE_URL", default_url), conn_max_age=60, conn_health_checks=True))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config["NAME"] != ":memory:":
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = dict(SQLITE_OPTIONS)
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "leitplanke.core.dbbackends.postgresql"
        config.setdefault("OPTIONS", {})
        # The hot paths' fixed statements are prepared on the server (ADR 0035); off behind a
        # transaction-mode pooler that does not keep prepared statements (PgBouncer < 1.21).
        config["PREPARED_STATEMENTS"] = env_bool("LEITPLANKE_DB_PREPARED_STATEMENTS", True)
    return config


DATABASES = {"default": database_from_env(f"sqlite:///{DATA_DIR / 'leitplanke.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["leitplanke.accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins allowed per e-mail address, and per IP address (higher: a whole office may share
# one address behind NAT), within the window.
LOGIN_RATE_LIMIT = {"attempts": 5, "attempts_per_ip": 50, "window_seconds": 900}
# Password-reset e-mails per address and per client IP address and hour; requests over the
# limit get the same neutral page, no e-mail.
PASSWORD_RESET_RATE_LIMIT = {"per_address": 3, "per_ip": 10, "window_seconds": 3600}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 10
CSRF_COOKIE_SAMESITE = "Lax"

# --- internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
# English dates day first with a 24-hour clock (leitplanke/formats/en/formats.py).
FORMAT_MODULE_PATH = ["leitplanke.formats"]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env("LEITPLANKE_TIME_ZONE", "Europe/Berlin")

# --- static and uploaded files ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Uploaded files live outside any web root and are served only by views that check
# permissions; there is deliberately no MEDIA_URL route.
MEDIA_ROOT = DATA_DIR / "files"
STORAGES = {
    # Files of rows are written to a staging area and moved into place on commit (core/storedfiles.py).
    "default": {"BACKEND": "leitplanke.core.storedfiles.StagingFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024

# --- e-mail -------------------------------------------------------------------------------
EMAIL_BACKEND = env("LEITPLANKE_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("LEITPLANKE_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("LEITPLANKE_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("LEITPLANKE_EMAIL_USER")
EMAIL_HOST_PASSWORD = env("LEITPLANKE_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("LEITPLANKE_EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("LEITPLANKE_EMAIL_USE_SSL")
EMAIL_FILE_PATH = env("LEITPLANKE_EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("LEITPLANKE_DEFAULT_FROM_EMAIL", "service@leitplanke.example")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- audit log ----------------------------------------------------------------------------
# The audit chain is sealed with HMAC-SHA-256 under a key the database does not hold; earlier
# keys stay here for verifying what they sealed (docs/adr/0002-audit-chain.md).
LEITPLANKE_AUDIT_KEY = env("LEITPLANKE_AUDIT_KEY")
LEITPLANKE_AUDIT_KEY_FALLBACKS = env_list("LEITPLANKE_AUDIT_KEY_FALLBACKS")

# --- background tasks ---------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- security headers ---------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Sites allowed to embed the public complaint form in an iframe, e.g. "https://www.stadtwerke.example".
LEITPLANKE_FORM_FRAME_ANCESTORS = env_list("LEITPLANKE_FORM_FRAME_ANCESTORS")
# Base URL of this installation as customers reach it (links in e-mails).
LEITPLANKE_PUBLIC_URL = env("LEITPLANKE_PUBLIC_URL", "http://127.0.0.1:8000")
# Days a status link stays valid after it was issued or, for a closed case, after closing
# (the later of the two; see intake/status_links.py).
LEITPLANKE_STATUS_LINK_DAYS = int(env("LEITPLANKE_STATUS_LINK_DAYS", "180") or 180)

# Adds an X-Queries header with the number of SQL statements (benchmarks read it).
LEITPLANKE_QUERY_COUNT_HEADER = env_bool("LEITPLANKE_QUERY_COUNT_HEADER")

# Health endpoints answer over plain HTTP too: a load balancer probes the app server directly,
# so SECURE_SSL_REDIRECT (production) must not turn its checks into 301s.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "one_line": {"()": "leitplanke.core.logs.OneLineFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "console_one_line": {"class": "logging.StreamHandler", "formatter": "one_line"},
    },
    "root": {"handlers": ["console"], "level": env("LEITPLANKE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Two lines per task run (RUNNING, SUCCESSFUL) every minute would bury what matters;
        # failures are logged as warnings and errors (LEITPLANKE_TASK_LOG_LEVEL=INFO shows every run).
        "django_tasks": {"level": env("LEITPLANKE_TASK_LOG_LEVEL", "WARNING")},
        "django_tasks_db": {"level": env("LEITPLANKE_TASK_LOG_LEVEL", "WARNING")},
        # A request for a host name not in ALLOWED_HOSTS (scanners, a misconfigured proxy): one line, no traceback.
        "django.security.DisallowedHost": {"handlers": ["console_one_line"], "level": "WARNING", "propagate": False},
    },
}
