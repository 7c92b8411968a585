"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Never `playwright install`: the tests use /usr/bin/chromium (`make browser` installs it) and are
skipped, saying why, when it is missing. A failing test leaves a screenshot of each of its pages in
test-results/.
"""
from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread
from playwright.sync_api import expect

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in one
# unless told it is safe (it is: the test thread and the live server thread each use their own
# connection).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# With the in-memory SQLite test database the live server's threads and this test thread share
# one connection, so two of them using it at once fail with "database table is locked". The live
# server therefore handles one request at a time (Django closes each connection on a
# single-threaded server), under GATE.lock; the test thread takes the same lock (`server_idle`)
# for its own queries, and once a test's pages are closed the server turns late requests away
# before the test database is flushed.


class _Gate:
    """The live server's request lock, and whether it still serves requests."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.open = True


GATE = _Gate()


class OneRequestAtATimeServer(WSGIServer):
    """Django's plain WSGI server, serving one request at a time under GATE.lock."""

    def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
        # The live server thread has already put the shared connections in place for itself.
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with GATE.lock:
            if not GATE.open:
                self.shutdown_request(request)
                return
            super().process_request(request, client_address)


LiveServerThread.server_class = OneRequestAtATimeServer


@contextmanager
def server_idle() -> Iterator[None]:
    """Hold the live server between requests, so the test thread may use the database."""
    with GATE.lock:
        yield


# Rendering a preview (parse and verify every script) takes a while on a busy machine.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the browser tests, with the reason, when Debian's Chromium is not installed."""
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    for item in items:
        if item.get_closest_marker("browser") and HERE in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item, so fixtures can tell a failed test at teardown."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium headless (pytest-playwright's own download is never used)."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True, "args": ARGS}


@pytest.fixture
def open_page(browser: Any, live_server: Any, transactional_db: None,
              request: pytest.FixtureRequest) -> Iterator[Callable[[], Any]]:
    """Return a function that opens a page in a new browser context (its own cookies) on the live server.

    Console errors (a CSP violation, say), script errors and server errors (5xx) are
    collected on `page.problems`; a failed test
    leaves a screenshot of every page it opened in test-results/.
    """
    contexts: list[Any] = []
    pages: list[Any] = []
    GATE.open = True

    def open_new() -> Any:
        context = browser.new_context(base_url=live_server.url, accept_downloads=True,
                                      viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        # htmx reports a request cut short by leaving the page (a preview in flight when Save is
        # pressed) on the console; that is expected. A server error is caught by its status instead.
        page.on("console", lambda m: m.type == "error" and not m.text.startswith("htmx:")
                and page.problems.append(m.text))
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        page.on("response", lambda r: r.status >= 500 and page.problems.append(f"HTTP {r.status} {r.url}"))
        pages.append(page)
        return page

    yield open_new
    failed = any(getattr(request.node, f"report_{when}", None) and getattr(request.node, f"report_{when}").failed
                 for when in ("setup", "call"))
    if failed:
        RESULTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.nodeid)
        for i, page in enumerate(pages):
            try:
                page.screenshot(path=str(RESULTS / f"{name}-{i}.png"), full_page=True)
            except Exception as exc:
                print(f"no screenshot of page {i}: {exc}", file=sys.stderr)  # noqa: T201
    for context in contexts:
        context.close()
    # A request already on its way must not reach the database while it is flushed.
    with GATE.lock:
        GATE.open = False


# What the browser logs for an autosave answered 401 (the session had ended): the page handles that
# answer (it says "Not saved: you are signed out" and keeps the typing), so it is no problem of the page.
_SIGNED_OUT_RE = re.compile(r"status of 401|Response Status Error Code 401")


def problems_besides_signed_out(page: Any) -> list[str]:
    """Return `page.problems` without the console lines of an autosave refused because the session ended."""
    return [p for p in page.problems if not _SIGNED_OUT_RE.search(p)]


def sign_in(page: Any, username: str, password: str) -> None:
    """Sign in through the login page and wait for the plan list."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))


UNLABELLED_CONTROLS_JS = """
() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && !el.closest('template') && !el.classList.contains('visually-hidden')
                && el.getAttribute('aria-hidden') !== 'true')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)
"""
