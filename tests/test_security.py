"""Security hardening: response headers, cookies, login throttling, CSRF, request size, secrets."""
from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from axes.exceptions import AxesBackendRequestParameterRequired
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from wizard import settings as wizard_settings
from wizard.models import Plan

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Tr0ub4dor&3-not-a-real-secret"
SECRET_MARKER = "sekret-marker-7f3a9c-" + "q" * 40
EXPECTED_CSP = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
    "font-src": "'self'", "connect-src": "'self'", "frame-ancestors": "'none'", "form-action": "'self'",
    "base-uri": "'none'", "object-src": "'none'",
}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings, request) -> None:
    """Hash test passwords quickly, except in the test that checks the production hasher."""
    if "argon2" in request.node.name:
        # The configured list, even if a conftest made the tests use a faster one.
        settings.PASSWORD_HASHERS = wizard_settings.PASSWORD_HASHERS
    else:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice-sec", "alice@example.org", PASSWORD)


def parse_csp(header: str) -> dict[str, str]:
    """Return {directive: sources} of a Content-Security-Policy header."""
    directives = {}
    for part in header.split(";"):
        name, _, sources = part.strip().partition(" ")
        directives[name] = sources.strip()
    return directives


def login_post(client: Client, username: str, password: str, **extra: str):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


# ---------------------------------------------------------------------------
# Headers and cookies


def test_every_page_carries_the_security_headers() -> None:
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert parse_csp(response["Content-Security-Policy"]) == EXPECTED_CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_hsts_is_sent_on_https_requests() -> None:
    response = Client().get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_plain_http_is_redirected_when_ssl_redirect_is_on(settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get(reverse("login"))
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_the_proxy_header_marks_requests_secure_only_when_opted_in(settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    # Without the opt-in, a client cannot claim HTTPS with a header.
    assert Client().get(reverse("login"), HTTP_X_FORWARDED_PROTO="https").status_code == 301
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert Client().get(reverse("login"), HTTP_X_FORWARDED_PROTO="https").status_code == 200


def test_session_and_csrf_cookies_are_secure_and_the_session_is_bounded(alice: User) -> None:
    client = Client()
    client.get(reverse("login"))
    csrf = client.cookies[django_settings.CSRF_COOKIE_NAME]
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"
    response = login_post(client, alice.username, PASSWORD)
    assert response.status_code == 302
    session = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    # A browser-session cookie (no Max-Age) whose server-side session ends after 8 hours.
    assert session["max-age"] == ""
    assert client.session.get_expire_at_browser_close() is True
    assert client.session.get_expiry_age() == 8 * 60 * 60


def test_new_passwords_are_hashed_with_argon2() -> None:
    user = User.objects.create_user("argon2-user", password=PASSWORD)
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)


# ---------------------------------------------------------------------------
# Login throttling (django-axes, attempts stored in the database)


def test_repeated_failures_pause_sign_in_with_a_clear_page(alice: User) -> None:
    client = Client()
    limit = django_settings.AXES_FAILURE_LIMIT
    statuses = [login_post(client, alice.username, "wrong password").status_code for _ in range(limit)]
    assert statuses[:-1] == [200] * (limit - 1)
    assert statuses[-1] == 429
    response = login_post(client, alice.username, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    text = response.content.decode()
    assert "Sign-in paused" in text
    assert "15 minutes" in text
    # The attempts are in the database, so every app server sees the same count.
    attempt = AccessAttempt.objects.get(username=alice.username)
    assert attempt.failures_since_start >= limit
    assert "wrong password" not in attempt.post_data


def test_a_lockout_holds_only_the_account_being_guessed(alice: User) -> None:
    User.objects.create_user("bob-sec", password=PASSWORD)
    client = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        login_post(client, alice.username, "wrong password")
    assert login_post(Client(), "bob-sec", PASSWORD).status_code == 302


def test_the_lockout_page_never_echoes_the_user_name_tried() -> None:
    hostile = '<script>alert("x")</script>'
    client = Client()
    response = None
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        response = login_post(client, hostile, "wrong password")
    assert response is not None and response.status_code == 429
    assert "<script>alert" not in response.content.decode()


def test_a_successful_sign_in_resets_the_failure_count(alice: User) -> None:
    client = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        login_post(client, alice.username, "wrong password")
    assert login_post(client, alice.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert login_post(client, alice.username, "wrong password").status_code == 200


def test_test_client_login_passes_a_request_under_axes(alice: User) -> None:
    # django-axes checks every authenticate() call and needs the request: tests sign in with
    # client.force_login(user), or client.login(request=HttpRequest(), username=..., password=...).
    client = Client()
    assert client.login(request=HttpRequest(), username=alice.username, password=PASSWORD) is True
    with pytest.raises(AxesBackendRequestParameterRequired):
        Client().login(username=alice.username, password=PASSWORD)
    other = Client()
    other.force_login(alice)
    assert other.get(reverse("plan-list")).status_code == 200


# ---------------------------------------------------------------------------
# CSRF


def source_files() -> Iterator[Path]:
    for folder in ("wizard", "templates", "bench"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".html", ".txt", ".j2") and "__pycache__" not in path.parts:
                yield path


def test_no_view_is_exempt_from_csrf() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in source_files() if "csrf_exempt" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_a_post_without_the_csrf_token_is_refused(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    assert login_post(client, alice.username, PASSWORD).status_code == 403
    client.force_login(alice)
    assert client.post(reverse("plan-create"), {"name": "x"}).status_code == 403
    assert Plan.objects.count() == 0


# ---------------------------------------------------------------------------
# Request size


def test_an_oversized_request_is_refused_from_its_headers(alice: User) -> None:
    client = Client()
    client.force_login(alice)
    # Only the declared length is read: the refusal comes before the body.
    response = client.generic("POST", reverse("plan-import"), b"{}", content_type="application/json",
                              CONTENT_LENGTH=str(50 * 1024 * 1024))
    assert response.status_code == 413
    assert "at most" in response.content.decode()


def test_a_50_mb_upload_is_refused_and_nothing_is_stored(alice: User) -> None:
    client = Client()
    client.force_login(alice)
    huge = io.BytesIO(b'{"format": "lync-auth-plan/1", "name": "' + b"x" * (50 * 1024 * 1024) + b'"}')
    huge.name = "huge.plan.json"
    response = client.post(reverse("plan-import"), {"file": huge})
    assert response.status_code == 413
    assert Plan.objects.count() == 0


def test_an_invalid_content_length_is_a_bad_request() -> None:
    response = Client().generic("POST", reverse("login"), b"", CONTENT_LENGTH="-5")
    assert response.status_code == 400


# ---------------------------------------------------------------------------
# Secrets never reach logs or bundles


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def every_log_line() -> Iterator[list[str]]:
    """Collect every record of every logger (including those that do not propagate), at DEBUG."""
    handler = Collect()
    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)]
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler.lines
    for lg, level in levels:
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_passwords_and_the_secret_key_never_reach_the_logs(settings, alice: User, every_log_line: list[str]) -> None:
    settings.SECRET_KEY = SECRET_MARKER
    client = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT + 1):
        login_post(client, alice.username, PASSWORD + "-wrong")
    login_post(Client(), alice.username, PASSWORD)
    Client().get("/no-such-page/?password=" + PASSWORD)
    text = "\n".join(every_log_line)
    assert every_log_line, "nothing was logged: the collector did not see the loggers"
    assert PASSWORD not in text
    assert SECRET_MARKER not in text


def example_documents() -> list[Path]:
    return sorted((ROOT / "bench" / "plans").glob("*.json")) + sorted((ROOT / "tests" / "fixtures" / "plans").glob("*.json"))


@pytest.mark.parametrize("path", example_documents(), ids=lambda p: p.stem)
def test_bundles_never_contain_the_secret_key_or_a_password(settings, path: Path) -> None:
    bundle = pytest.importorskip("wizard.scripts.bundle")
    from wizard.plan.reader import parse_plan_text

    settings.SECRET_KEY = SECRET_MARKER
    built = bundle.render_plan_doc(parse_plan_text(path.read_bytes()), plan_ref="ref", revision=1)
    archive = bundle.bundle_zip(built)
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        contents = [zipped.read(name) for name in zipped.namelist()]
    for data in [archive, *contents, *built.files.values()]:
        assert SECRET_MARKER.encode() not in data
        assert PASSWORD.encode() not in data


def test_the_downloaded_bundle_never_contains_the_secret_key_or_a_password(settings, alice: User) -> None:
    from wizard.plan.reader import parse_plan_text
    from wizard.web.drafts import create_plan

    settings.SECRET_KEY = SECRET_MARKER
    plan = create_plan(owner=alice, doc=parse_plan_text((ROOT / "bench" / "plans" /
                                                         "s01-passive-extranet-mfa.plan.json").read_bytes()))
    client = Client()
    client.force_login(alice)
    response = client.get(reverse("plan-download-zip", args=[plan.code]))
    assert response.status_code == 200
    assert SECRET_MARKER.encode() not in response.content
    assert PASSWORD.encode() not in response.content
    with zipfile.ZipFile(io.BytesIO(response.content)) as zipped:
        for name in zipped.namelist():
            data = zipped.read(name)
            assert SECRET_MARKER.encode() not in data
            assert PASSWORD.encode() not in data


# ---------------------------------------------------------------------------
# No inline script or style, so the Content-Security-Policy holds without exceptions

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\-a-z]*)\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style[\s>]", re.IGNORECASE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)
TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.DOTALL)


def csp_violations(html: str) -> list[str]:
    """Return the inline script/style constructs in `html` that the policy would block."""
    found = []
    for name, pattern in (("inline <script>", INLINE_SCRIPT), ("event handler attribute", EVENT_HANDLER),
                          ("style attribute", STYLE_ATTRIBUTE), ("<style> element", INLINE_STYLE),
                          ("javascript: URL", JS_URL)):
        for match in pattern.finditer(html):
            found.append(f"{name}: {html[max(0, match.start() - 40):match.end() + 40]!r}")
    return found


def test_the_project_templates_have_no_inline_script_or_style() -> None:
    offenders = {}
    for path in sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "wizard").rglob("templates/**/*.html")):
        problems = csp_violations(TEMPLATE_COMMENT.sub("", path.read_text(encoding="utf-8")))
        if problems:
            offenders[str(path.relative_to(ROOT))] = problems
    assert offenders == {}


def test_the_login_page_as_rendered_has_no_inline_script_or_style() -> None:
    assert csp_violations(Client().get(reverse("login")).content.decode()) == []


def test_a_user_name_longer_than_any_account_is_refused_before_a_failure_is_recorded() -> None:
    """A 300-character user name went to authenticate() (Django's form does not check its max_length), and
    django-axes wrote it into a 255-character column: a 500 on PostgreSQL."""
    response = Client().post(reverse("login"), {"username": "9" * 300, "password": "x"})
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert not AccessAttempt.objects.filter(username__startswith="9" * 200).exists()
