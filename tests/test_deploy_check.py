"""Production mode: `manage.py check --deploy`, gunicorn.conf.py's refusals, and `make serve` itself.

Each case runs the real command in a subprocess with a controlled environment.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def base_env(**extra: str) -> dict[str, str]:
    """Return the current environment without any DJANGO_*, GUNICORN_* or DATABASE_URL variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "GUNICORN_")) and k not in ("DATABASE_URL", "PORT", "HOST")}
    env.update(extra)
    return env


def example_production_env() -> dict[str, str]:
    """Return the variables set in .env.example, with a freshly generated secret key."""
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    assert values["DJANGO_SECRET_KEY"] == "", ".env.example must not ship a usable key"
    values["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    return values


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def issue_ids(output: str) -> set[str]:
    return set(re.findall(r"\(([a-z_]+\.[A-Z]\d+)\)", output))


def test_check_deploy_is_clean_with_the_example_production_environment() -> None:
    proc = check_deploy(base_env(**example_production_env()))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout


def test_the_example_production_environment_is_production() -> None:
    env = example_production_env()
    assert env["DJANGO_DEBUG"] == "false"
    assert env["DJANGO_SECURE_SSL_REDIRECT"] == "true"
    assert int(env["DJANGO_HSTS_SECONDS"]) >= 31536000


def test_make_serve_mode_without_tls_settings_only_warns_about_the_https_redirect() -> None:
    # `make serve` on a bare machine (no .env) answers plain HTTP on loopback behind no proxy:
    # the deploy check says so, and says nothing else.
    proc = check_deploy(base_env(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_DEBUG="false"))
    assert issue_ids(proc.stdout + proc.stderr) == {"security.W008"}


def test_check_deploy_flags_the_development_key() -> None:
    proc = check_deploy(base_env(**{**example_production_env(), "DJANGO_SECRET_KEY": ""}))
    assert proc.returncode != 0
    assert issue_ids(proc.stdout + proc.stderr) == {"security.W009"}


def gunicorn_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GUNICORN, "--check-config", "-c", "gunicorn.conf.py", "wizard.wsgi"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_gunicorn_refuses_to_start_without_a_secret_key() -> None:
    proc = gunicorn_check(base_env())
    assert proc.returncode != 0
    assert "DJANGO_SECRET_KEY" in proc.stderr


def test_gunicorn_refuses_to_start_in_debug_mode() -> None:
    proc = gunicorn_check(base_env(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_DEBUG="true"))
    assert proc.returncode != 0
    assert "DJANGO_DEBUG" in proc.stderr


def test_gunicorn_accepts_the_production_configuration() -> None:
    proc = gunicorn_check(base_env(**example_production_env()))
    assert proc.returncode == 0, proc.stderr


def test_the_wsgi_application_refuses_the_development_key_even_without_the_config_file() -> None:
    # `gunicorn wizard.wsgi` without -c gunicorn.conf.py: the settings themselves refuse.
    code = "import gunicorn, wizard.wsgi"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base_env(), capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in proc.stderr


# ---------------------------------------------------------------------------
# `make serve` end to end, on a free loopback port with a throw-away database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Run `make serve` (migrate, collectstatic, check --deploy, gunicorn); yield (base URL, its home)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = base_env(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp / "static"), HOME=str(tmp / "home"), PORT=str(port),
    )
    (tmp / "home").mkdir()
    log = (tmp / "serve.log").open("w")
    # -o: never reinstall the virtual environment from a test, even when requirements changed.
    proc = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "serve"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail("make serve stopped:\n" + (tmp / "serve.log").read_text())
            try:
                fetch(base + "/accounts/login/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("make serve did not answer:\n" + (tmp / "serve.log").read_text())
                time.sleep(0.3)
        yield base, tmp
    finally:
        # The process group is the one started here: make, its shell and gunicorn.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


def test_make_serve_serves_pages_with_the_production_headers(served: tuple[str, Path]) -> None:
    base, _ = served
    status, headers, body = fetch(base + "/accounts/login/")
    assert status == 200
    assert b"<form" in body
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert "secure" in headers["set-cookie"].lower()
    assert headers["server"].startswith("gunicorn")


def test_make_serve_serves_collected_static_files_through_whitenoise(served: tuple[str, Path]) -> None:
    base, tmp = served
    assert (tmp / "static" / "bootstrap" / "css" / "bootstrap.min.css").exists()
    status, headers, _ = fetch(base + "/static/bootstrap/css/bootstrap.min.css", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == "gzip"
    assert headers["content-type"].startswith("text/css")


def test_make_serve_writes_nothing_but_the_database(served: tuple[str, Path]) -> None:
    base, tmp = served
    fetch(base + "/accounts/login/")
    fetch(base + "/no-such-page/")
    written = sorted(p.name for p in tmp.iterdir() if p.name not in ("static", "serve.log", "home"))
    assert written and all(name.startswith("db.sqlite3") for name in written)
    # gunicorn's control socket would live under $HOME/.gunicorn: it is turned off.
    assert list((tmp / "home").iterdir()) == []


def test_make_serve_binds_loopback_only(served: tuple[str, Path]) -> None:
    base, _ = served
    port = int(base.rsplit(":", 1)[1])
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, port_hex = local.rpartition(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                listening.add(address)
    # 0100007F is 127.0.0.1 as the kernel prints it (little-endian hex).
    assert listening == {"0100007F"}


def test_gunicorn_trusts_no_forwarded_header_by_default() -> None:
    # Issue 12, item 10: gunicorn's own default believes X-Forwarded-Proto from 127.0.0.1.
    env = base_env(DJANGO_SECRET_KEY="x" * 50)
    proc = subprocess.run([GUNICORN, "--print-config", "-c", "gunicorn.conf.py", "wizard.wsgi"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", proc.stdout, re.MULTILINE))
    assert config["forwarded_allow_ips"] == "[]"
    assert config["secure_scheme_headers"] == "{}"
    proxied = base_env(DJANGO_SECRET_KEY="x" * 50, GUNICORN_FORWARDED_ALLOW_IPS="10.0.0.5")
    proc = subprocess.run([GUNICORN, "--print-config", "-c", "gunicorn.conf.py", "wizard.wsgi"],
                          cwd=ROOT, env=proxied, capture_output=True, text=True, timeout=120, check=False)
    assert "forwarded_allow_ips                = ['10.0.0.5']" in proc.stdout
