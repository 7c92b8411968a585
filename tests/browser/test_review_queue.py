"""A submitted revision reaches the reviewers: their queue lists it and they can approve it,
even though the plan was never shared with them (issue 12, item 5)."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.base import PASSWORD, current_version, make_personas, make_plan, set_password
from tests.browser.conftest import server_idle, sign_in
from wizard.models import Review
from wizard.review import services as review


@pytest.mark.browser
def test_a_submitted_revision_is_in_the_reviewers_queue_and_can_be_approved(open_page: Any) -> None:
    people = make_personas()
    set_password(people.alice)
    set_password(people.bob)
    plan = make_plan(shared=False)  # nobody but alice can see it
    review.save_revision(plan, draft_version=current_version(plan), by=people.alice, message="Passive auth")
    code = plan.code

    reviewer = open_page()
    sign_in(reviewer, "bob", PASSWORD)
    reviewer.get_by_role("link", name="Waiting for my review").click()
    expect(reviewer.locator("#review-queue")).to_contain_text("Nothing waits for your review")
    assert reviewer.goto(f"/plans/{code}/revisions/1/").status == 404

    author = open_page()
    sign_in(author, "alice", PASSWORD)
    author.goto(f"/plans/{code}/revisions/1/")
    author.get_by_role("button", name="Submit for review").click()
    expect(author.locator("[data-status='in_review']")).to_be_visible()
    expect(author.locator("#nav-review-queue")).to_have_count(0)  # alice holds no reviewer role

    reviewer.goto("/")
    reviewer.get_by_role("link", name="Waiting for my review").click()
    row = reviewer.locator(f"#review-queue tr[data-plan='{code}']")
    expect(row).to_contain_text("r1")
    expect(row).to_contain_text("alice")
    row.get_by_role("link").click()
    reviewer.wait_for_url(re.compile(rf"/plans/{code}/revisions/1/$"))
    reviewer.get_by_label("Approval comment (optional)").fill("CAB-1300")
    reviewer.get_by_role("button", name="Approve revision 1").click()
    expect(reviewer.locator("[data-status='approved']").first).to_be_visible()
    reviewer.get_by_role("link", name="Waiting for my review").click()
    expect(reviewer.locator("#review-queue")).to_contain_text("Nothing waits for your review")
    with server_idle():
        assert Review.objects.filter(revision__plan=plan, decision=Review.Decision.APPROVED,
                                     actor=people.bob).exists()
    assert author.problems == [] and reviewer.problems == [p for p in reviewer.problems if "404" in p]
