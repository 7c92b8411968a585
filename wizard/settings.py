"""Settings, all driven by the environment; works out of the box with SQLite.

See `.env.example` for every variable and `docs/deployment.md` for how they fit together.
With no environment at all this is a development set-up (`make run`, the tests); production
(`make serve`, gunicorn) sets at least DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS.
"""
from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
import xstatic.pkg.bootstrap
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    """Return the boolean environment variable `name`; refuse anything but true/false-like values."""
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str, minimum: int = 0) -> int:
    """Return the integer environment variable `name`; refuse non-numbers and values below `minimum`."""
    value = os.environ.get(name, default).strip()
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def envlist(name: str, default: str) -> list[str]:
    """Return the comma-separated environment variable `name` as a list of non-empty items."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Module names of WSGI servers: a process that imported one of them is serving requests.
WSGI_SERVER_MODULES = ("gunicorn", "uwsgi", "mod_wsgi", "waitress")

DEBUG = envbool("DJANGO_DEBUG", "false")

# ---------------------------------------------------------------------------
# Secret key

_secret = os.environ.get("DJANGO_SECRET_KEY", "").strip()
SECRET_KEY_FROM_ENVIRONMENT = bool(_secret)
if not _secret:
    serving = any(name in sys.modules for name in WSGI_SERVER_MODULES)
    if not DEBUG and (serving or not envbool("DJANGO_INSECURE_DEV_KEY", "true")):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to serve with DJANGO_DEBUG off (see .env.example; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    # Development, management commands and the tests only. The "django-insecure-" prefix makes
    # `manage.py check --deploy` report it (security.W009) if it ever reaches a deployment.
    _secret = "django-insecure-development-only-key-never-used-when-serving-0123456789"
SECRET_KEY = _secret
del _secret

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
# Origins allowed to POST from another scheme or port, e.g. "https://planner.example.org".
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# ---------------------------------------------------------------------------
# Applications and request processing

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "csp",
    "axes",
    "wizard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body: an oversized request is refused from its headers alone.
    "wizard.web.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After htmx and auth: an htmx request of a signed-out person gets a 401, not the sign-in page.
    "wizard.web.middleware.HtmxSignedOutMiddleware",
    "wizard.web.middleware.MethodNotAllowedMiddleware",
    # Last, as django-axes requires: it turns a lockout flagged during the view into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wizard.urls"
WSGI_APPLICATION = "wizard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wizard.web.context.navigation",
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Database: SQLite by default, PostgreSQL (or any engine dj-database-url knows) via DATABASE_URL

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Kept open between requests (one per gunicorn thread): opening one per request costs
        # more than the queries of a small page. 0 closes it after every request.
        conn_max_age=envint("DJANGO_DB_CONN_MAX_AGE", "60"),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers share the file: take the write lock when a transaction starts
    # (no "database is locked" half-way through) and let readers run beside the one writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })

# App servers keep no state of their own, so several can run behind a load balancer on one
# database: sessions and login attempts live in the database and nothing relies on a cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# ---------------------------------------------------------------------------
# Authentication

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Argon2 for new passwords; the others only read (and upgrade on login) older hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# django-axes checks every authenticate() call first; ModelBackend then checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = envint("DJANGO_LOGIN_FAILURE_LIMIT", "5", minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("DJANGO_LOGIN_COOLOFF_MINUTES", "15", minimum=1))
# A lockout holds one user name from one address: a typing colleague never locks out the team,
# and behind a reverse proxy (where every request comes from the proxy's address) it still
# locks only the account being guessed.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "wizard.web.security.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "plan-list"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_AGE = envint("DJANGO_SESSION_COOKIE_AGE", str(8 * 60 * 60), minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = envbool("DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE", "true")

# ---------------------------------------------------------------------------
# Transport security. Cookies are Secure whenever DEBUG is off; the rest is opt-in per site.

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
if envbool("DJANGO_SECURE_PROXY_SSL_HEADER", "false"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", "false")
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 60 * 60))
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", "true")
SECURE_HSTS_PRELOAD = envbool("DJANGO_HSTS_PRELOAD", "true")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No inline script or style anywhere: every script and stylesheet is a static file.
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
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# ---------------------------------------------------------------------------
# Request size: plan files are a few kilobytes, so anything near the limit is not a plan.

MAX_REQUEST_BYTES = envint("DJANGO_MAX_REQUEST_BYTES", str(1024 * 1024), minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
# A step form at the documented limits (100 pools, 200 SIP domains, 50 Edge pools, 100 mobility
# policies) posts about 1,500 fields; Django's default of 1,000 refused a page of 160 pools.
DATA_UPLOAD_MAX_NUMBER_FIELDS = envint("DJANGO_MAX_FORM_FIELDS", "5000", minimum=1000)
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
# Uploads stay in memory (RequestSizeLimitMiddleware bounds them): no temporary files on disk.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]

# ---------------------------------------------------------------------------
# Mail: only used for password reset. Without DJANGO_EMAIL_HOST this server sends no mail, and the
# password reset page says so (ask an administrator) instead of claiming a mail was sent.

EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "").strip()
PASSWORD_RESET_BY_MAIL = bool(EMAIL_HOST)
if PASSWORD_RESET_BY_MAIL:
    EMAIL_PORT = envint("DJANGO_EMAIL_PORT", "25", minimum=1)
    EMAIL_USE_TLS = envbool("DJANGO_EMAIL_USE_TLS", "false")
    EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
    DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "webmaster@localhost")

# ---------------------------------------------------------------------------
# Internationalisation

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Static files: collected into STATIC_ROOT and served by WhiteNoise (gzip/brotli copies made
# at collectstatic time). Names are not hashed, so the tests and `make run` need no collectstatic.

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", "").strip() or BASE_DIR / "staticfiles")
# Bootstrap comes from the XStatic package and htmx from django-htmx's own static
# files (app directories finder): admins run this on closed networks, never a CDN.
STATICFILES_DIRS = [("bootstrap", xstatic.pkg.bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# ---------------------------------------------------------------------------
# Logging: one line per event on stderr. No handler prints request bodies, headers or
# SQL parameters, and no error e-mail (which would carry the request) is configured.

LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "INFO").strip().upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"DJANGO_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "filters": {
        "forbidden_without_traceback": {"()": "wizard.web.logfilters.ForbiddenWithoutTraceback"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "line"},
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
        # One line per refused request (403), without the traceback Django attaches.
        "django.request": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False,
                           "filters": ["forbidden_without_traceback"]},
        # SQL with its parameters (password hashes, session keys) is never logged.
        "django.db.backends": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        # Failed and locked-out logins, with the user name and address masked by django-axes.
        "axes": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
        "axes.apps": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}
