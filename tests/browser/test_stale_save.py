"""Two admins edit the same step of one plan: the later save is refused and shows the other change."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from tests.browser.conftest import server_idle, sign_in
from wizard.models import PlanShare
from wizard.web.drafts import create_plan

PASSWORD = "lync-test-2026"
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "plans" / "s01-passive-extranet-mfa.json"


@pytest.mark.browser
def test_a_stale_save_is_refused_with_the_other_change_and_keeps_the_typed_value(open_page: Any) -> None:
    alice = User.objects.create_user("alice", password=PASSWORD)
    erin = User.objects.create_user("erin", password=PASSWORD)
    editors = Group.objects.create(name="Identity editors")
    erin.groups.add(editors)
    plan = create_plan(owner=alice, doc=json.loads(EXAMPLE.read_text(encoding="utf-8")))
    PlanShare.objects.create(plan=plan, group=editors, can_edit=True)
    step_url = f"/plans/{plan.code}/steps/environment/"

    first, second = open_page(), open_page()
    sign_in(first, "alice", PASSWORD)
    sign_in(second, "erin", PASSWORD)
    first.goto(step_url)
    second.goto(step_url)

    first.locator("#id_pools-0-site").fill("Redmond")
    first.get_by_role("button", name="Save", exact=True).click()
    expect(first.locator(".alert-success")).to_contain_text("Saved")

    second.locator("#id_pools-0-site").fill("Dublin")
    second.get_by_role("button", name="Save", exact=True).click()
    warning = second.locator("#stale-warning")
    expect(warning).to_contain_text("Not saved: this step was changed by someone else")
    expect(warning).to_contain_text("alice saved the environment step")
    row = second.locator("#stale-changes tr", has_text="Pool lyncpool01 › Site")
    expect(row).to_contain_text('"Redmond"')
    expect(row).to_contain_text('"Dublin"')
    expect(second.locator("#id_pools-0-site")).to_have_value("Dublin")
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["pools"][0]["site"] == "Redmond"

    # Having seen the other change, erin keeps hers on purpose.
    second.get_by_role("button", name="Save my values over theirs").click()
    expect(second.locator(".alert-success")).to_contain_text("Saved")
    expect(second.locator("#id_pools-0-site")).to_have_value("Dublin")
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft["pools"][0]["site"] == "Dublin"
    # The refused save answers 409 Conflict, which Chromium reports on the console; nothing else may.
    assert first.problems == []
    assert [p for p in second.problems if "status of 409 (Conflict)" not in p] == []
