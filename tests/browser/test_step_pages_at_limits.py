"""A step with more rows than a page holds (issue 12, item 6), in a real browser: the page shows ten
rows and a pager; autosave saves the page's rows; the pager saves, then shows the other page; a row
added on the last page is one pool however often it is autosaved."""
from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.test_step_paging import big_doc, fqdns
from wizard.models import Plan
from wizard.web.drafts import create_plan

PASSWORD = "lync-test-2026"


@pytest.mark.browser
def test_the_environment_step_of_a_big_plan_is_paged_and_every_edit_is_kept(open_page: Any) -> None:
    alice = User.objects.create_user("alice", password=PASSWORD)
    plan = create_plan(owner=alice, doc=big_doc())
    page = open_page()
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/plans/{plan.code}/steps/environment/")
    status = page.locator("#autosave-status")
    expect(page.locator("#section-pools [data-row]")).to_have_count(10)
    expect(page.locator("#section-pools .rows-pager")).to_contain_text("1–10 of 23")

    site = page.locator("#id_pools-2-site")
    site.fill("Autosaved")
    site.dispatch_event("change")
    expect(status).to_contain_text("Saved (draft version 2)")

    # A page button saves what was typed, then shows the page.
    page.locator("#id_pools-0-site").fill("Typed before paging")
    page.locator("#section-pools .rows-pager button", has_text="3").click()
    page.wait_for_url("**/steps/environment/?pools-page=3")
    expect(page.locator("#section-pools [data-row]")).to_have_count(3)
    expect(page.locator("#id_pools-0-fqdn")).to_have_value("pool20.contoso.com")

    # A new row on the last page, autosaved twice, is one pool at the end of the list.
    page.locator("[data-add-row='pools']").click()
    page.locator("#id_pools-3-fqdn").fill("added.contoso.com")
    page.locator("#id_pools-3-fqdn").dispatch_event("change")
    expect(status).to_contain_text("Saved (draft version 4)")
    page.locator("#id_pools-3-site").fill("Later")
    page.locator("#id_pools-3-site").dispatch_event("change")
    expect(status).to_contain_text("Saved (draft version 5)")

    stored = Plan.objects.get(pk=plan.pk).draft
    assert fqdns(stored) == [*fqdns(big_doc()), "added.contoso.com"]
    assert stored["pools"][2]["site"] == "Autosaved"
    assert stored["pools"][0]["site"] == "Typed before paging"
    assert stored["pools"][-1]["site"] == "Later"
    assert page.problems == []
