"""An autosave made after the session ended (8 hours, or signed out in another tab).

It answered the sign-in page: the browser followed the redirect, htmx put the whole sign-in page
in the status line ("Skip to the content ... Sign in") and nothing said "Not saved". Now the status
says the person is signed out and that the typing stays; once they sign in again in another tab,
the autosave's retry saves what was typed, and Save works from the same page (with the CSRF token
the new sign-in gave); Save pressed while signed out keeps the page instead of losing the typing to the
sign-in page.
"""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import problems_besides_signed_out, server_idle, sign_in
from tests.browser.test_autosave_status import PASSWORD, _step_page, _type_site


def _end_session(page: Any) -> None:
    """Drop the session cookie, as an ended session does; the CSRF cookie stays, as it does."""
    cookies = page.context.cookies()
    page.context.clear_cookies()
    page.context.add_cookies([c for c in cookies if c["name"] != "sessionid"])


@pytest.mark.browser
def test_an_autosave_after_the_session_ended_says_signed_out_and_saves_after_signing_in(open_page: Any) -> None:
    page, plan, url = _step_page(open_page)
    status = page.locator("#autosave-status")
    _type_site(page, "Redmond")
    expect(status).to_contain_text("Saved (draft version 2)")

    _end_session(page)
    _type_site(page, "Dublin")
    expect(status).to_contain_text("Not saved: you are signed out")
    expect(status).not_to_contain_text("Sign in\n")
    expect(status).not_to_contain_text("Saved (")
    expect(page.locator("#id_pools-0-site")).to_have_value("Dublin")
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["pools"][0]["site"] == "Redmond"

    # While signed out, no preview is asked for (each would be refused too).
    previews: list[str] = []
    page.on("request", lambda request: previews.append(request.url) if "/preview/" in request.url else None)

    # Save pressed now would go through the sign-in page back to the stored draft, losing the typing.
    page.locator("#save-button").click()
    expect(status).to_contain_text("Sign in again in another tab, then press Save again")
    assert page.url.endswith(url)
    expect(page.locator("#id_pools-0-site")).to_have_value("Dublin")

    # Signing in again in another tab, just after a retry was refused (so that no request of this page is on
    # its way with the token the new sign-in replaces): the next retry saves what was typed here.
    with page.expect_response(lambda r: "/autosave/" in r.url and r.status == 401, timeout=40_000):
        pass
    assert previews == []
    other = page.context.new_page()
    sign_in(other, "alice", PASSWORD)
    other.close()
    with page.expect_response(lambda r: "/preview/" in r.url and r.status == 200, timeout=40_000):
        expect(status).to_contain_text("Saved (draft version 3)", timeout=40_000)
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["pools"][0]["site"] == "Dublin"

    # And Save on the same page is not refused for the CSRF token the page was loaded with.
    page.locator("#id_pools-0-internal_web_fqdn").fill("pool-internal.contoso.com")
    page.locator("#save-button").click()
    expect(page.locator(".alert-success")).to_contain_text("Saved (draft version")
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["pools"][0]["internal_web_fqdn"] == "pool-internal.contoso.com"
    assert problems_besides_signed_out(page) == []
