"""Four-eyes review in a real browser: the author edits and saves a revision and submits it; a
reviewer compares it with the previous revision, comments and approves; the author downloads the
approved bundle with its approval record."""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.base import PASSWORD, current_version, make_personas, make_plan, set_password
from tests.browser.conftest import sign_in
from wizard.models import AuditEvent, Review
from wizard.review import services as review


@pytest.mark.browser
def test_author_and_reviewer_take_a_change_through_review(open_page: Any) -> None:
    people = make_personas()
    set_password(people.alice)
    set_password(people.bob)
    plan = make_plan()
    first = review.save_revision(plan, draft_version=current_version(plan), by=people.alice, message="Passive auth as agreed in CAB-1200")
    code = plan.code

    # The author changes MFA from extranet-only to always, in the wizard.
    author = open_page()
    sign_in(author, "alice", PASSWORD)
    author.goto(f"/plans/{code}/steps/adfs/")
    author.get_by_label("Multi-factor authentication").select_option("always")
    # Let the autosave and the live preview finish before leaving the page.
    expect(author.locator("#autosave-status")).to_contain_text("Saved")
    author.wait_for_load_state("networkidle")
    author.get_by_role("button", name="Save and continue to Mobility policies").click()
    author.wait_for_url(re.compile(r"/steps/mobility/$"))

    # ... saves the draft as revision 2 and submits it.
    author.goto(f"/plans/{code}/revisions/")
    author.get_by_role("link", name="Save the draft as a new revision").click()
    expect(author.locator("#draft-changes tr[data-kind='changed']")).to_contain_text("extranet")
    author.get_by_label("What changed, and why").fill("MFA for every sign-in, not only from the extranet")
    author.get_by_role("button", name="Save revision").click()
    author.wait_for_url(re.compile(rf"/plans/{code}/revisions/2/$"))
    expect(author.locator("[data-status='draft']")).to_be_visible()
    author.get_by_role("button", name="Submit for review").click()
    expect(author.locator(".alert-success")).to_contain_text("submitted for review")
    expect(author.locator("[data-status='in_review']")).to_be_visible()
    # Four eyes: the author is offered no approval.
    expect(author.locator("#approve-form")).to_have_count(0)

    # The reviewer compares revision 1 with revision 2: the setting and the script lines.
    reviewer = open_page()
    sign_in(reviewer, "bob", PASSWORD)
    reviewer.goto(f"/plans/{code}/revisions/")
    reviewer.locator("tr[data-revision='2']").get_by_role("link", name="changes").click()
    reviewer.wait_for_url(re.compile(r"/diff/\?old=1&new=2$"))
    setting = reviewer.locator("#settings-diff tr[data-path='adfs.mfa']")
    expect(setting).to_contain_text('"extranet"')
    expect(setting).to_contain_text('"always"')
    expect(reviewer.locator("#scripts-diff details[data-status='changed']").first).to_be_visible()
    reviewer.get_by_label("Scripts").select_option("unified")
    reviewer.get_by_role("button", name="Compare").click()
    expect(reviewer.locator("#scripts-diff tr[data-kind='added']").first).to_be_visible()

    # ... asks a question, then approves with a comment.
    reviewer.goto(f"/plans/{code}/revisions/2/")
    reviewer.get_by_label("Comment", exact=True).fill("Is the MFA provider registered on every AD FS node?")
    reviewer.get_by_role("button", name="Add comment").click()
    expect(reviewer.locator("#comments")).to_contain_text("registered on every AD FS node")
    reviewer.get_by_label("Approval comment (optional)").fill("CAB-1234: approved for Saturday's window")
    reviewer.get_by_role("button", name="Approve revision 2").click()
    expect(reviewer.locator(".alert-success")).to_contain_text("Revision 2 is approved.")
    expect(reviewer.locator("[data-status='approved']").first).to_be_visible()

    # The author downloads the approved bundle: it carries the approval record.
    author.reload()
    expect(author.locator("#review-trail")).to_contain_text("CAB-1234")
    with author.expect_download() as download_info:
        author.locator("#download-approved").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-r2-approved.zip")
    with zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes())) as archive:
        record = json.loads(archive.read("APPROVAL.json"))
        sums = archive.read("SHA256SUMS").decode("utf-8")
        names = set(archive.namelist())
    second = plan.revisions.get(number=2)
    assert record["revision"] == 2
    assert record["approved_by"] == "bob"
    assert record["author"] == "alice"
    assert record["comment"] == "CAB-1234: approved for Saturday's window"
    assert record["bundle_sha256"] == second.bundle_sha256 != first.bundle_sha256
    assert second.data["adfs"]["mfa"] == "always"
    assert "APPROVAL.json" not in sums
    assert {line.split("  ", 1)[1] for line in sums.splitlines()} == names - {"APPROVAL.json", "SHA256SUMS"}

    approval = Review.objects.get(revision=second, decision=Review.Decision.APPROVED)
    assert approval.actor == people.bob
    actions = set(AuditEvent.objects.filter(plan=plan).values_list("action", flat=True))
    assert {AuditEvent.Action.REVISION_SAVED, AuditEvent.Action.SUBMITTED, AuditEvent.Action.COMMENTED,
            AuditEvent.Action.APPROVED, AuditEvent.Action.DOWNLOADED} <= actions
    assert author.problems == [] and reviewer.problems == []
