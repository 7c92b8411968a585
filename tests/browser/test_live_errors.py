"""Errors refresh with every autosave (issue 14): a new error shows on its field and in the step's
badge; a fixed field loses its error at once, and the badge goes too, without reloading the page."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from wizard.web.drafts import create_plan

PASSWORD = "lync-test-2026"
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "plans" / "s01-passive-extranet-mfa.json"


@pytest.mark.browser
def test_a_fixed_field_loses_its_error_and_the_step_badge_at_once(open_page: Any) -> None:
    alice = User.objects.create_user("alice", password=PASSWORD)
    plan = create_plan(owner=alice, doc=json.loads(EXAMPLE.read_text(encoding="utf-8")))
    page = open_page()
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/plans/{plan.code}/steps/environment/")
    field = page.locator("#id_pools-0-fqdn")
    badge = page.locator("#step-nav a[aria-current='step'] .text-bg-danger")
    status = page.locator("#autosave-status")
    expect(field).not_to_have_class("is-invalid")
    expect(badge).to_have_count(0)

    field.fill("not a pool name")
    field.dispatch_event("change")
    expect(status).to_contain_text("Saved (draft version 2)")
    expect(field).to_have_class("textinput form-control is-invalid")
    expect(page.locator("#live-error-id_pools-0-fqdn")).to_be_visible()
    expect(badge).to_have_count(1)

    field.fill("lyncpool01.contoso.com")
    field.dispatch_event("change")
    expect(status).to_contain_text("Saved (draft version 3)")
    expect(field).not_to_have_class("is-invalid")
    expect(page.locator("#live-error-id_pools-0-fqdn")).to_have_count(0)
    expect(badge).to_have_count(0)
    assert page.problems == []


@pytest.mark.browser
def test_an_error_shown_by_the_page_goes_when_the_field_is_fixed(open_page: Any) -> None:
    alice = User.objects.create_user("alice", password=PASSWORD)
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["pools"][0]["site"] = "Bad\u0007site"
    plan = create_plan(owner=alice, doc=doc)
    page = open_page()
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/plans/{plan.code}/steps/environment/")
    field = page.locator("#id_pools-0-site")
    expect(field).to_have_class("textinput form-control is-invalid")
    expect(page.locator("[id^='error_'][id$='_id_pools-0-site']")).to_have_count(1)
    field.fill("Redmond")
    field.dispatch_event("change")
    expect(page.locator("#autosave-status")).to_contain_text("Saved (draft version 2)")
    expect(field).not_to_have_class("is-invalid")
    expect(page.locator("[id^='error_'][id$='_id_pools-0-site']")).to_have_count(0)
    expect(page.locator("#step-nav a[aria-current='step'] .text-bg-danger")).to_have_count(0)
    assert page.problems == []


@pytest.mark.browser
def test_a_list_error_goes_when_a_row_is_added_and_saved(open_page: Any) -> None:
    """"Needs at least one entry" above an empty list goes once the new row is autosaved, like a
    field's error; it must not stay on screen until the page is reloaded."""
    alice = User.objects.create_user("alice", password=PASSWORD)
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["sip_domains"] = []
    plan = create_plan(owner=alice, doc=doc)
    page = open_page()
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/plans/{plan.code}/steps/environment/")
    section = page.locator("#section-sip_domains")
    expect(section.get_by_role("alert")).to_contain_text("Needs at least one entry")

    page.get_by_role("button", name="Add a SIP domain").click()
    field = page.locator("#id_sip_domains-0-domain")
    field.fill("contoso.com")
    field.dispatch_event("change")
    expect(page.locator("#autosave-status")).to_contain_text("Saved (draft version 2)")
    expect(page.locator("#step-nav a[aria-current='step'] .text-bg-danger")).to_have_count(0)
    expect(section.get_by_role("alert")).to_have_count(0)
    assert page.problems == []


@pytest.mark.browser
def test_an_autosave_swapping_an_element_styled_by_script_breaks_no_content_security_rule(open_page: Any) -> None:
    """Bootstrap's scripts style elements through the DOM (a collapse's height, say). htmx's settle step used to
    copy an old element's `style` attribute onto its replacement, which the page's style-src 'self' refuses
    (a console error on some autosaves)."""
    alice = User.objects.create_user("alice", password=PASSWORD)
    plan = create_plan(owner=alice, doc=json.loads(EXAMPLE.read_text(encoding="utf-8")))
    page = open_page()
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/plans/{plan.code}/steps/environment/")
    # Every element the autosave answer replaces by id, styled the way a script does it.
    page.evaluate("""() => { for (const el of document.querySelectorAll('[hx-swap-oob], [id]')) {
        el.style.minHeight = '1px'; } }""")
    field = page.locator("#id_pools-0-site")
    field.fill("Redmond")
    field.dispatch_event("change")
    expect(page.locator("#autosave-status")).to_contain_text("Saved (draft version 2)")
    assert page.problems == []
