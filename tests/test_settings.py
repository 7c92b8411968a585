"""The settings module reads its configuration from the environment and refuses bad values.

Each case loads `wizard.settings` in a fresh interpreter with a controlled environment,
since settings are read once, at import.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

DUMP = """
import json, sys
from pathlib import PurePath
{pre}
from django.conf import settings
names = sys.argv[1:]
out = {{}}
for name in names:
    value = getattr(settings, name, None)
    if isinstance(value, PurePath):
        value = str(value)
    out[name] = value if isinstance(value, (bool, int, str, list, tuple, dict, type(None))) else repr(value)
print(json.dumps(out, default=repr))
"""

NAMES = [
    "DEBUG", "SECRET_KEY", "SECRET_KEY_FROM_ENVIRONMENT", "ALLOWED_HOSTS", "DATABASES", "CACHES",
    "SESSION_ENGINE", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_AGE",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER",
    "PASSWORD_HASHERS", "AUTHENTICATION_BACKENDS", "MIDDLEWARE", "INSTALLED_APPS", "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_TIME", "AXES_HANDLER", "X_FRAME_OPTIONS", "STORAGES", "STATIC_ROOT", "STATICFILES_DIRS",
    "CRISPY_TEMPLATE_PACK", "FILE_UPLOAD_HANDLERS", "MAX_REQUEST_BYTES", "DATA_UPLOAD_MAX_MEMORY_SIZE",
    "CONTENT_SECURITY_POLICY", "LOGGING", "CSRF_TRUSTED_ORIGINS",
]


def clean_env(**extra: str) -> dict[str, str]:
    """Return an environment with no DJANGO_*/DATABASE_URL variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "GUNICORN_")) and k != "DATABASE_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "wizard.settings"
    env.update(extra)
    return env


def load(pre: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter; return the finished process."""
    return subprocess.run(
        [sys.executable, "-c", DUMP.format(pre=pre), *NAMES],
        cwd=ROOT, env=clean_env(**env), capture_output=True, text=True, timeout=60, check=False,
    )


def settings_for(pre: str = "", **env: str) -> dict:
    """Return the settings values loaded with `env`; fail with the child's stderr otherwise."""
    proc = load(pre, **env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def refused(pre: str = "", **env: str) -> str:
    """Return the error text when the settings refuse `env`; fail if they load."""
    proc = load(pre, **env)
    assert proc.returncode != 0, f"settings loaded with {env}"
    assert "ImproperlyConfigured" in proc.stderr
    return proc.stderr


def test_no_environment_gives_a_working_sqlite_setup_with_debug_off() -> None:
    s = settings_for()
    assert s["DEBUG"] is False
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["DATABASES"]["default"]["NAME"] == str(ROOT / "db.sqlite3")
    assert s["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert s["SECRET_KEY_FROM_ENVIRONMENT"] is False


def test_the_placeholder_key_is_one_check_deploy_reports() -> None:
    s = settings_for()
    assert s["SECRET_KEY"].startswith("django-insecure-")


def test_debug_is_on_only_when_asked() -> None:
    assert settings_for(DJANGO_DEBUG="true")["DEBUG"] is True
    assert settings_for(DJANGO_DEBUG="1")["DEBUG"] is True
    assert settings_for(DJANGO_DEBUG="false")["DEBUG"] is False
    assert settings_for(DJANGO_DEBUG="")["DEBUG"] is False


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_a_debug_value_that_is_not_a_boolean_is_refused(value: str) -> None:
    assert "DJANGO_DEBUG" in refused(DJANGO_DEBUG=value)


def test_secret_key_and_hosts_come_from_the_environment() -> None:
    s = settings_for(DJANGO_SECRET_KEY="k" * 20 + "-from-the-environment-" + "z" * 20,
                     DJANGO_ALLOWED_HOSTS=" planner.example.org , other.example.org ,")
    assert s["SECRET_KEY"] == "k" * 20 + "-from-the-environment-" + "z" * 20
    assert s["SECRET_KEY_FROM_ENVIRONMENT"] is True
    assert s["ALLOWED_HOSTS"] == ["planner.example.org", "other.example.org"]


def test_a_wsgi_server_refuses_to_start_without_a_secret_key() -> None:
    # A process that imported gunicorn is serving: the placeholder key is not good enough there.
    assert "DJANGO_SECRET_KEY" in refused(pre="import gunicorn")


def test_a_wsgi_server_starts_in_debug_mode_or_with_a_key() -> None:
    assert settings_for(pre="import gunicorn", DJANGO_DEBUG="true")["DEBUG"] is True
    s = settings_for(pre="import gunicorn", DJANGO_SECRET_KEY="s" * 60)
    assert s["SECRET_KEY"] == "s" * 60


def test_the_placeholder_key_can_be_forbidden_everywhere() -> None:
    assert "DJANGO_SECRET_KEY" in refused(DJANGO_INSECURE_DEV_KEY="false")


def test_database_url_selects_postgresql() -> None:
    s = settings_for(DATABASE_URL="postgres://planner:pw@db.example.org:5433/planner", DJANGO_DB_CONN_MAX_AGE="60")
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == ("db.example.org", 5433, "planner", "planner")
    assert db["CONN_MAX_AGE"] == 60
    assert "transaction_mode" not in db.get("OPTIONS", {})


def test_sqlite_takes_the_write_lock_at_transaction_start() -> None:
    db = settings_for()["DATABASES"]["default"]
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_connections_are_kept_between_requests_unless_told() -> None:
    assert settings_for()["DATABASES"]["default"]["CONN_MAX_AGE"] == 60
    assert settings_for(DJANGO_DB_CONN_MAX_AGE="0")["DATABASES"]["default"]["CONN_MAX_AGE"] == 0


def test_app_servers_keep_no_state_of_their_own() -> None:
    s = settings_for()
    assert s["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"
    assert s["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.dummy.DummyCache"
    assert s["AXES_HANDLER"] == "axes.handlers.database.AxesDatabaseHandler"
    # Uploads are held in memory (bounded by MAX_REQUEST_BYTES), never spooled to temporary files.
    assert s["FILE_UPLOAD_HANDLERS"] == ["django.core.files.uploadhandler.MemoryFileUploadHandler"]


def test_cookies_are_secure_unless_debugging() -> None:
    prod = settings_for()
    assert prod["SESSION_COOKIE_SECURE"] is True and prod["CSRF_COOKIE_SECURE"] is True
    assert prod["SECURE_HSTS_SECONDS"] == 31536000
    dev = settings_for(DJANGO_DEBUG="true")
    assert dev["SESSION_COOKIE_SECURE"] is False and dev["CSRF_COOKIE_SECURE"] is False
    assert dev["SECURE_HSTS_SECONDS"] == 0


def test_https_options_are_opt_in() -> None:
    s = settings_for()
    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["SECURE_PROXY_SSL_HEADER"] is None
    s = settings_for(DJANGO_SECURE_SSL_REDIRECT="true", DJANGO_SECURE_PROXY_SSL_HEADER="true", DJANGO_HSTS_SECONDS="600",
                     DJANGO_CSRF_TRUSTED_ORIGINS="https://planner.example.org:8443")
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["SECURE_HSTS_SECONDS"] == 600
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://planner.example.org:8443"]


def test_session_lifetime_comes_from_the_environment() -> None:
    s = settings_for()
    assert s["SESSION_COOKIE_AGE"] == 8 * 3600
    assert s["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert settings_for(DJANGO_SESSION_COOKIE_AGE="3600")["SESSION_COOKIE_AGE"] == 3600


def test_login_throttling_comes_from_the_environment() -> None:
    s = settings_for()
    assert s["AXES_FAILURE_LIMIT"] == 5
    assert s["AXES_COOLOFF_TIME"] == "datetime.timedelta(seconds=900)"
    s = settings_for(DJANGO_LOGIN_FAILURE_LIMIT="3", DJANGO_LOGIN_COOLOFF_MINUTES="60")
    assert s["AXES_FAILURE_LIMIT"] == 3
    assert s["AXES_COOLOFF_TIME"] == "datetime.timedelta(seconds=3600)"


@pytest.mark.parametrize("name, value", [
    ("DJANGO_LOGIN_FAILURE_LIMIT", "0"),
    ("DJANGO_LOGIN_FAILURE_LIMIT", "five"),
    ("DJANGO_LOGIN_COOLOFF_MINUTES", "-1"),
    ("DJANGO_SESSION_COOKIE_AGE", "1.5"),
    ("DJANGO_HSTS_SECONDS", "a year"),
    ("DJANGO_MAX_REQUEST_BYTES", "10"),
    ("DJANGO_SECURE_SSL_REDIRECT", "sometimes"),
    ("DJANGO_LOG_LEVEL", "LOUD"),
])
def test_bad_values_are_refused_with_the_variable_named(name: str, value: str) -> None:
    assert name in refused(**{name: value})


def test_passwords_are_hashed_with_argon2_and_logins_go_through_axes() -> None:
    s = settings_for()
    assert s["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert s["AUTHENTICATION_BACKENDS"] == [
        "axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend",
    ]
    assert "axes" in s["INSTALLED_APPS"]
    assert s["MIDDLEWARE"][-1] == "axes.middleware.AxesMiddleware"


def test_the_middleware_includes_every_guard() -> None:
    middleware = settings_for()["MIDDLEWARE"]
    for name in ("django.middleware.security.SecurityMiddleware", "whitenoise.middleware.WhiteNoiseMiddleware",
                 "wizard.web.middleware.RequestSizeLimitMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
                 "django.middleware.clickjacking.XFrameOptionsMiddleware", "csp.middleware.CSPMiddleware"):
        assert name in middleware
    assert middleware.index("wizard.web.middleware.RequestSizeLimitMiddleware") < middleware.index(
        "django.contrib.sessions.middleware.SessionMiddleware")


def test_the_lead_settings_are_kept() -> None:
    s = settings_for()
    assert s["CRISPY_TEMPLATE_PACK"] == "bootstrap5"
    assert s["STATICFILES_DIRS"][0][0] == "bootstrap"
    for app in ("crispy_forms", "crispy_bootstrap5", "django_htmx", "wizard"):
        assert app in s["INSTALLED_APPS"]
    assert s["STORAGES"]["staticfiles"]["BACKEND"].startswith("whitenoise.storage.")
    assert s["STATIC_ROOT"] == str(ROOT / "staticfiles")
    assert settings_for(DJANGO_STATIC_ROOT="/srv/planner/static")["STATIC_ROOT"] == "/srv/planner/static"


def test_request_size_limit_is_shared_by_every_guard() -> None:
    s = settings_for(DJANGO_MAX_REQUEST_BYTES="2048")
    assert s["MAX_REQUEST_BYTES"] == s["DATA_UPLOAD_MAX_MEMORY_SIZE"] == 2048


def test_csp_has_no_inline_or_eval_sources() -> None:
    directives = settings_for()["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    text = json.dumps(directives)
    assert "unsafe" not in text and "nonce" not in text


def test_logging_has_no_mail_handler_and_hides_sql() -> None:
    logging = settings_for()["LOGGING"]
    classes = {h["class"] for h in logging["handlers"].values()}
    assert classes == {"logging.StreamHandler"}
    assert logging["loggers"]["django.db.backends"]["level"] == "WARNING"


def test_make_run_works_with_no_environment() -> None:
    # `make run` runs migrate and load_demo with no variables, then runserver with DJANGO_DEBUG=true.
    for extra in ({}, {"DJANGO_DEBUG": "true"}):
        proc = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=clean_env(**extra),
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        assert "no issues" in proc.stdout
