"""An admin starts a plan from the state file collect-state.ps1 wrote, finds the estate's topology
filled in, chooses passive authentication, and sees intended versus actual, in a real browser."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.conftest import UNLABELLED_CONTROLS_JS, server_idle, sign_in
from wizard.models import Plan

PASSWORD = "lync-test-2026"
STATES = Path(__file__).resolve().parents[1] / "fixtures" / "states"
STATE = STATES / "sfb2019-adfs2019-wap.state.json"


@pytest.mark.browser
def test_a_state_file_becomes_a_plan_and_the_estate_page_compares_it(open_page: Any) -> None:
    User.objects.create_user("alice", password=PASSWORD)
    page = open_page()
    sign_in(page, "alice", PASSWORD)

    # The collector downloads from the plan list.
    with page.expect_download() as download_info:
        page.locator("#collector-download").click()
    collector = Path(download_info.value.path()).read_bytes()
    assert collector.startswith(b"\xef\xbb\xbf<#") and b"Get-CsWebServiceConfiguration" in collector

    page.get_by_role("link", name="Start from my estate").click()
    page.wait_for_url(re.compile(r"/plans/from-state/$"))
    assert page.evaluate(UNLABELLED_CONTROLS_JS) == []
    page.get_by_label("State file (.json)").set_input_files(str(STATE))
    page.get_by_role("button", name="Start the plan").click()

    # A new plan, on its first step, with the topology filled in and nothing changed.
    page.wait_for_url(re.compile(r"/steps/environment/$"))
    expect(page.locator(".alert-success")).to_contain_text("from the estate")
    expect(page.locator("#id_pools-0-fqdn")).to_have_value("sfbpool.corp.contoso.com")
    expect(page.locator("#id_pools-0-external_web_fqdn")).to_have_value("sfbweb.contoso.com")
    expect(page.locator("#id_edge_pools-0-fqdn")).to_have_value("sfbedge.corp.contoso.com")
    with server_idle():
        plan = Plan.objects.get()
        assert not any("auth" in p for p in plan.draft["pools"])

    # Choose passive authentication with extranet MFA (the farm is prefilled too).
    page.get_by_role("button", name="Save and continue to Authentication").click()
    page.wait_for_url(re.compile(r"/steps/authentication/$"))
    page.get_by_label("External authentication").select_option("passive")
    page.get_by_role("button", name="Save and continue to AD FS").click()
    page.wait_for_url(re.compile(r"/steps/adfs/$"))
    expect(page.get_by_label("Federation service name")).to_have_value("adfs.contoso.com")
    page.get_by_label("Multi-factor authentication").select_option("extranet")
    page.get_by_role("button", name="Save and continue to Mobility policies").click()
    page.wait_for_url(re.compile(r"/steps/mobility/$"))

    # Intended versus actual, from the plan's page.
    page.goto(f"/plans/{plan.code}/")
    page.locator("#estate-link").click()
    page.wait_for_url(re.compile(rf"/plans/{plan.code}/estate/$"))
    expect(page.locator("#state-collected-at")).to_contain_text("2026-12-01 09:30 UTC")
    passive = page.locator("table[data-identity='service:WebServer:sfbpool.corp.contoso.com'] "
                           "tr[data-setting='UseWsFedPassiveAuth']")
    expect(passive).to_have_attribute("data-status", "change")
    expect(passive).to_contain_text("False")
    expect(passive).to_contain_text("True")
    acp = page.locator("table[data-identity='Lync-Ext-sfbpool'] tr[data-setting='AccessControlPolicyName']")
    expect(acp).to_contain_text("Permit everyone and require MFA from extranet access")
    expect(page.locator("[data-finding='estate_relying_party_present']")).to_be_visible()
    expect(page.locator("#drift-summary")).to_contain_text("setting(s) change")
    assert page.evaluate(UNLABELLED_CONTROLS_JS) == []
    assert page.problems == []
