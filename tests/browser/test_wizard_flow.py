"""An admin builds the passive-with-MFA example plan by typing it into every step, reviews it
and downloads the bundle, in a real browser."""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.conftest import UNLABELLED_CONTROLS_JS, server_idle
from wizard.models import Plan
from wizard.plan.reader import read_plan

PASSWORD = "lync-test-2026"
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "plans" / "s01-passive-extranet-mfa.json"


def sign_in_with_the_keyboard(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/$"))


def every_control_has_a_label(page: Any) -> None:
    assert page.evaluate(UNLABELLED_CONTROLS_JS) == [], page.url


def continue_to(page: Any, title: str, slug: str) -> None:
    page.get_by_role("button", name=f"Save and continue to {title}").click()
    page.wait_for_url(re.compile(rf"/steps/{slug}/$"))
    every_control_has_a_label(page)


@pytest.mark.browser
def test_the_passive_mfa_example_is_built_step_by_step_and_downloaded(open_page: Any) -> None:
    User.objects.create_user("alice", password=PASSWORD)
    page = open_page()
    sign_in_with_the_keyboard(page, "alice")

    page.get_by_role("link", name="New plan").first.click()
    page.get_by_label("Plan name").fill("Contoso: passive authentication with extranet MFA")
    page.locator("#preset-none").check()
    page.get_by_role("button", name="Create the plan").click()
    page.wait_for_url(re.compile(r"/steps/environment/$"))
    every_control_has_a_label(page)

    # Environment: the lists start empty and grow with the "Add" buttons.
    page.locator("#id_basics-product").select_option("lync2013")
    page.get_by_role("button", name="Add a SIP domain").click()
    page.locator("#id_sip_domains-0-domain").fill("contoso.com")
    page.get_by_role("button", name="Add a pool").click()
    page.locator("#id_pools-0-fqdn").fill("lyncpool01.contoso.com")
    page.locator("#id_pools-0-internal_web_fqdn").fill("lyncpool01.contoso.com")
    page.locator("#id_pools-0-external_web_fqdn").fill("lyncweb.contoso.com")
    page.get_by_role("button", name="Add an Edge pool").click()
    page.locator("#id_edge_pools-0-fqdn").fill("lyncedge.contoso.com")
    # The live preview follows the typing.
    expect(page.locator("#preview .file-card").first).to_be_visible()
    expect(page.locator("#autosave-status")).to_contain_text("Saved")
    continue_to(page, "Authentication", "authentication")

    page.get_by_label("External authentication").select_option("passive")
    expect(page.get_by_label("Keep certificate authentication")).to_be_checked()
    page.get_by_label("Also block NTLM and Kerberos at the Registrar").check()
    page.get_by_label("Block NTLM and Kerberos at this Edge").check()
    continue_to(page, "AD FS", "adfs")

    page.get_by_label("Federation service name").fill("adfs.contoso.com")
    page.get_by_label("AD FS version").select_option("2012r2")
    page.get_by_label("Multi-factor authentication").select_option("extranet")
    page.get_by_label("Internal relying party name").fill("Lync-Int")
    page.get_by_label("External relying party name").fill("Lync-Ext")
    expect(page.locator("#preview")).to_contain_text("Add-AdfsRelyingPartyTrust")
    continue_to(page, "Mobility policies", "mobility")

    page.get_by_role("button", name="Add a mobility policy").click()
    page.get_by_label("Policy identity").fill("Global")
    page.get_by_label("Connect to Exchange").select_option("false")
    continue_to(page, "Certificates", "certificates")
    continue_to(page, "Review", "review")

    # Review: warnings, who is affected, the scripts.
    expect(page.locator("#findings-warning")).to_be_visible()
    expect(page.locator("[data-finding='passive_pool_wide']")).to_be_visible()
    matrix = page.locator("#impact-matrix")
    expect(matrix).to_be_visible()
    expect(matrix.locator("tr", has_text="Lync for Mac")).to_contain_text("Breaks")
    # One file at a time: the AD FS script's tab brings it in.
    page.locator("#file-tabs [data-file-tab='adfs-server.ps1']").click()
    adfs_card = page.locator(".file-card[data-file='adfs-server.ps1']")
    expect(adfs_card.locator(".ps-code")).to_contain_text("Add-AdfsRelyingPartyTrust")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    adfs_card.get_by_role("button", name="Copy").click()
    expect(adfs_card.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("<#") and "Add-AdfsRelyingPartyTrust -Name 'Lync-Int'" in copied

    with page.expect_download() as download_info:
        page.locator("#download-zip").click()
    download = download_info.value
    assert download.suggested_filename == "contoso-passive-authentication-with-extranet-mfa-unapproved-draft.zip"
    with zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes())) as archive:
        scripts = {name: archive.read(name) for name in archive.namelist() if name.endswith(".ps1")}
    assert all(data.startswith(b"\xef\xbb\xbf") for data in scripts.values())
    text = "\n".join(data.decode("utf-8-sig") for data in scripts.values())
    assert "Add-AdfsRelyingPartyTrust -Name 'Lync-Int'" in text
    assert "Add-AdfsRelyingPartyTrust -Name 'Lync-Ext'" in text
    assert "-UseWindowsAuth None" in text
    assert "New-CsProxyConfiguration -Identity 'service:EdgeServer:lyncedge.contoso.com'" in text
    assert "Set-CsMobilityPolicy -Identity 'Global' -AllowExchangeConnectivity $false" in text

    # What was typed is the example plan, setting for setting.
    with server_idle():
        plan = Plan.objects.get()
    assert read_plan(plan.draft)[0] == read_plan(json.loads(EXAMPLE.read_text(encoding="utf-8")))[0]
    assert page.problems == []
