"""Text typed on a step but not saved yet (no autosave: the field never lost focus) survives the session
ending: the page, reloaded, went to the sign-in page and came back to the stored draft without it.
Now the page keeps the typing in the tab's sessionStorage (by plan, step and field) and, after signing
in again, puts it back and saves it; a field someone else changed meanwhile is not overwritten, and
the status says what had been typed there.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from tests.base import set_draft
from tests.browser.conftest import problems_besides_signed_out, server_idle
from tests.browser.test_autosave_status import PASSWORD, _step_page
from tests.browser.test_signed_out_autosave import _end_session
from wizard.review.services import share_plan

SITE = "#id_pools-0-site"


def _sign_in_again(page: Any, url: str, username: str = "alice") -> None:
    """Reload the step (the session has ended: the sign-in page), sign in as `username`, and come back to
    the step."""
    page.reload()
    expect(page.get_by_label("Password")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(url) + "$"))


@pytest.mark.browser
def test_typed_text_is_put_back_and_saved_after_signing_in_again(open_page: Any) -> None:
    page, plan, url = _step_page(open_page)
    before = plan.draft["pools"][0].get("site")
    page.locator(SITE).fill("Dublin <typed>")   # typed only: no change event, so no autosave yet
    _end_session(page)
    _sign_in_again(page, url)
    expect(page.locator(SITE)).to_have_value("Dublin <typed>")
    expect(page.locator("#autosave-status")).to_contain_text("Saved (draft version 2)")
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["pools"][0]["site"] == "Dublin <typed>" != before

    # Saved: nothing is kept any more, so a later visit shows the stored draft as it is.
    page.goto(url)
    expect(page.locator(SITE)).to_have_value("Dublin <typed>")
    assert page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('wizard-typed:'))") == []
    assert page.problems == []


@pytest.mark.browser
def test_a_field_changed_meanwhile_is_not_overwritten_and_the_typing_is_shown(open_page: Any) -> None:
    page, plan, url = _step_page(open_page)
    page.locator(SITE).fill("Oslo")
    page.locator("#id_pools-0-internal_web_fqdn").fill("pool-internal.contoso.com")
    _end_session(page)
    with server_idle():
        plan.refresh_from_db()
        doc = plan.draft
        doc["pools"][0]["site"] = "Bergen"
        set_draft(plan, doc)
    _sign_in_again(page, url)
    expect(page.locator(SITE)).to_have_value("Bergen")
    # The other field, unchanged meanwhile, is put back and saved; the note stays beside "Saved".
    expect(page.locator("#id_pools-0-internal_web_fqdn")).to_have_value("pool-internal.contoso.com")
    status = page.locator("#autosave-status")
    expect(status).to_contain_text("Saved (draft version 3)")
    expect(status).to_contain_text("changed meanwhile")
    expect(status).to_contain_text("you had typed \u201cOslo\u201d")
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["pools"][0]["site"] == "Bergen"
    assert plan.draft["pools"][0]["internal_web_fqdn"] == "pool-internal.contoso.com"
    # Filling the second field took the focus from the first, whose change may send an autosave that
    # reaches the server after the session ended: its 401 is the signed-out answer the page handles.
    assert problems_besides_signed_out(page) == []


@pytest.mark.browser
def test_typing_kept_in_the_tab_is_never_put_back_for_someone_else(open_page: Any) -> None:
    """Alice's session ends with typing kept in the tab; Bob signs in at that screen and opens the
    same step of the plan, which he may edit too: Alice's typing must not reach his form, nor be
    saved in his name, and it must not stay behind in the tab."""
    page, plan, url = _step_page(open_page)
    with server_idle():
        bob = User.objects.create_user("bob", password=PASSWORD)
        editors = Group.objects.create(name="editors")
        bob.groups.add(editors)
        share_plan(plan, by=plan.owner, group=editors, can_edit=True)
        before = plan.draft["pools"][0].get("site")
    page.locator(SITE).fill("Alice's typing")   # typed only: no autosave yet
    _end_session(page)
    _sign_in_again(page, url, "bob")
    expect(page.locator(SITE)).to_have_value(before or "")
    assert page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('wizard-typed:'))") == []
    expect(page.locator("#autosave-status")).not_to_contain_text("Saved")
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["pools"][0].get("site") == before
    assert page.problems == []


@pytest.mark.browser
def test_signing_out_forgets_the_typing_kept_in_the_tab(open_page: Any) -> None:
    """Sign out is a choice: what the tab kept for this person goes with the session."""
    page, plan, url = _step_page(open_page)
    page.locator(SITE).fill("kept until sign out")
    # Kept for this person, by the step's address (a field named "action" in the form once made it
    # "[object RadioNodeList]", losing the page of the step's lists) and the field.
    assert page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('wizard-typed:'))") == [
        f"wizard-typed:{plan.owner.get_username()}:{url}:pools-0-site"]
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Password")).to_be_visible()
    assert page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('wizard-typed:'))") == []
