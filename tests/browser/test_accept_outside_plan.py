"""An MFA plan's admin, in the browser only, accepts that the topology's pools outside the plan keep their settings:
the entry lync-management-shell.ps1 reads, with the reason the reviewer sees."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.conftest import server_idle, sign_in
from wizard.web.drafts import create_plan

PASSWORD = "lync-test-2026"
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "plans" / "s01-passive-extranet-mfa.json"


@pytest.mark.browser
def test_pools_outside_an_mfa_plan_are_accepted_on_the_review_page(open_page: Any) -> None:
    alice = User.objects.create_user("alice", password=PASSWORD)
    plan = create_plan(owner=alice, doc=json.loads(EXAMPLE.read_text(encoding="utf-8")))
    page = open_page()
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/plans/{plan.code}/steps/review/")

    row = page.locator("#risks-acceptable li", has_text="Front End and Director pools not in the plan")
    expect(row).to_contain_text("stops lync-management-shell.ps1")
    row.get_by_label("Why this risk is accepted").fill("Director dir01 is retired in March")
    row.get_by_role("button", name="Accept this risk").click()

    expect(page.locator(".alert-success")).to_contain_text("Front End and Director pools not in the plan keep "
                                                           "their settings")
    expect(page.locator("#risks-accepted")).to_contain_text("Director dir01 is retired in March")
    expect(page.locator("#risks-acceptable li", has_text="Front End and Director pools")).to_have_count(0)
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["accepted_risks"] == [
        {"code": "mfa_web_password_open", "field": "pools", "reason": "Director dir01 is retired in March"}]
    assert not page.problems
