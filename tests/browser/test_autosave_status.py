"""The autosave status never shows a stale "Saved" (issue 12, item 4).

Requests to the autosave endpoint are made to fail in the browser (route interception):
no connection, 403, 500, and a 409 refusal. The status must say "Not saved" with the
reason, and a failed save is retried until it goes through.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.conftest import server_idle, sign_in
from wizard.web.drafts import create_plan

PASSWORD = "lync-test-2026"
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "plans" / "s01-passive-extranet-mfa.json"
AUTOSAVE = re.compile(r".*/autosave/$")


def _step_page(open_page: Any) -> tuple[Any, Any, str]:
    alice = User.objects.create_user("alice", password=PASSWORD)
    plan = create_plan(owner=alice, doc=json.loads(EXAMPLE.read_text(encoding="utf-8")))
    page = open_page()
    sign_in(page, "alice", PASSWORD)
    url = f"/plans/{plan.code}/steps/environment/"
    page.goto(url)
    return page, plan, url


def _type_site(page: Any, text: str) -> None:
    field = page.locator("#id_pools-0-site")
    field.fill(text)
    field.dispatch_event("change")


@pytest.mark.browser
@pytest.mark.parametrize("failure", ["no connection", "403", "500"])
def test_a_failed_autosave_says_so_and_is_retried_until_it_saves(open_page: Any, failure: str) -> None:
    page, plan, _ = _step_page(open_page)
    status = page.locator("#autosave-status")
    _type_site(page, "Redmond")
    expect(status).to_contain_text("Saved (draft version 2)")

    def fail(route: Any) -> None:
        if failure == "no connection":
            route.abort("connectionrefused")
        else:
            route.fulfill(status=int(failure), body="<span>a proxy's own error page</span>",
                          content_type="text/html")

    page.route(AUTOSAVE, fail)
    _type_site(page, "Dublin")
    expect(status).to_contain_text("Not saved")
    expect(status).not_to_contain_text("Saved (")
    expected = {"no connection": "cannot be reached", "403": "403", "500": "500"}[failure]
    expect(status).to_contain_text(expected)
    expect(status).to_contain_text("Trying again")
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["pools"][0]["site"] == "Redmond"

    # The next retry (2 s later) reaches the server again and saves what was typed.
    page.unroute(AUTOSAVE)
    expect(status).to_contain_text("Saved (draft version 3)")
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["pools"][0]["site"] == "Dublin"
    expected_noise = r"status of (403|500)|ERR_CONNECTION_REFUSED|HTTP 500|Response Status Error Code (403|500)"
    unexpected = [p for p in page.problems if not re.search(expected_noise, p)]
    assert unexpected == []


@pytest.mark.browser
def test_a_refused_autosave_shows_the_servers_reason_and_not_saved(open_page: Any) -> None:
    page, _, _ = _step_page(open_page)
    status = page.locator("#autosave-status")
    _type_site(page, "Redmond")
    expect(status).to_contain_text("Saved (draft version 2)")
    page.route(AUTOSAVE, lambda route: route.fulfill(
        status=409, content_type="text/html",
        body='<span class="text-danger">Not saved: erin saved this plan meanwhile. Press Save to see both.</span>'))
    _type_site(page, "Dublin")
    expect(status).to_contain_text("Not saved: erin saved this plan meanwhile")
    expect(status).not_to_contain_text("Saved (")
    assert [p for p in page.problems if "409" not in p] == []
