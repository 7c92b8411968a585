"""An admin builds a Subscription Edition plan with Modern Authentication through the forms, in a real
browser, and reviews what it does: the findings, the impact matrix's Modern Authentication columns, and the
AD FS and Management Shell scripts."""
from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.conftest import server_idle
from tests.browser.test_wizard_flow import PASSWORD, continue_to, every_control_has_a_label, sign_in_with_the_keyboard
from wizard.models import Plan
from wizard.plan.reader import read_plan


@pytest.mark.browser
def test_a_modern_authentication_plan_is_built_through_the_forms_and_reviewed(open_page: Any) -> None:
    User.objects.create_user("mara", password=PASSWORD)
    page = open_page()
    sign_in_with_the_keyboard(page, "mara")

    page.get_by_role("link", name="New plan").first.click()
    page.get_by_label("Plan name").fill("Fabrikam: Modern Authentication on Subscription Edition")
    page.locator("#preset-none").check()
    page.get_by_role("button", name="Create the plan").click()
    page.wait_for_url(re.compile(r"/steps/environment/$"))

    # The product list offers Subscription Edition, and the help says why and links to Microsoft.
    product = page.locator("#id_basics-product")
    product.select_option("sfbse")
    expect(product.locator("option[value='sfbse']")).to_have_text("Skype for Business Server Subscription Edition")
    expect(page.locator("#step-form")).to_contain_text("installed in place over 2019")
    page.get_by_role("button", name="Add a SIP domain").click()
    page.locator("#id_sip_domains-0-domain").fill("fabrikam.com")
    page.get_by_role("button", name="Add a pool").click()
    page.locator("#id_pools-0-fqdn").fill("sefe01.corp.fabrikam.com")
    page.locator("#id_pools-0-external_web_fqdn").fill("sfbweb.fabrikam.com")
    page.get_by_role("button", name="Add an Edge pool").click()
    page.locator("#id_edge_pools-0-fqdn").fill("seedge.corp.fabrikam.com")
    page.locator("#id_edge_pools-0-access_fqdn").fill("sip.fabrikam.com")
    expect(page.locator("#autosave-status")).to_contain_text("Saved")
    continue_to(page, "Authentication", "authentication")

    # The pool keeps "leave unchanged": the Modern Authentication scenario decides for every pool.
    page.get_by_label("Block NTLM and Kerberos at this Edge").check()
    continue_to(page, "AD FS", "adfs")

    page.get_by_label("Federation service name").fill("sts.fabrikam.com")
    page.get_by_label("AD FS version").select_option("2019")
    modern = page.locator("#section-modern-auth")
    expect(page.locator("#id_modern_auth-enabled_helptext").get_by_role("link")).to_have_attribute(
        "href", "https://learn.microsoft.com/skypeforbusiness/manage/authentication/use-adal")
    expect(modern.get_by_role("link", name="Microsoft: Set-CsAuthConfig")).to_be_visible()
    page.get_by_label("Turn on Modern Authentication through AD FS").check()
    page.get_by_label("Windows authentication (Set-CsAuthConfig scenario)").select_option(
        "block_windows_auth_externally_and_internally")
    page.get_by_label("Add the Office 2013 client settings").check()
    expect(page.locator("#preview")).to_contain_text("adfs-modern-auth.ps1")
    continue_to(page, "Mobility policies", "mobility")
    continue_to(page, "Certificates", "certificates")
    continue_to(page, "Review", "review")

    # The plan the forms wrote is the plan format's modern_auth object.
    with server_idle():
        draft = Plan.objects.get(name="Fabrikam: Modern Authentication on Subscription Edition").draft
    assert draft["modern_auth"] == {"scenario": "block_windows_auth_externally_and_internally",
                                    "office2013_clients": True}
    plan, findings = read_plan(draft)
    assert plan is not None, findings

    # Review: who loses sign-in, the Modern Authentication columns, the scripts.
    expect(page.locator("[data-finding='modern_auth_clients']")).to_be_visible()
    expect(page.locator("[data-finding='modern_auth_not_recommended']")).to_be_visible()
    expect(page.locator("[data-finding='product_out_of_support']")).to_have_count(0)
    matrix = page.locator("#impact-matrix")
    expect(matrix.locator("thead")).to_contain_text("Modern Authentication, from the Internet (every pool)")
    expect(matrix.locator("thead")).to_contain_text("Modern Authentication, inside the network (every pool)")
    expect(matrix.locator("tr", has_text="Mobile apps")).to_contain_text("Breaks")
    page.locator("#file-tabs [data-file-tab='adfs-modern-auth.ps1']").click()
    adfs_card = page.locator(".file-card[data-file='adfs-modern-auth.ps1']")
    expect(adfs_card.locator(".ps-code")).to_contain_text("Setup-Adfs2016OAuthTrustForSfB.ps1")
    page.locator("#file-tabs [data-file-tab='lync-management-shell.ps1']").click()
    lync_card = page.locator(".file-card[data-file='lync-management-shell.ps1']")
    expect(lync_card.locator(".ps-code")).to_contain_text("New-CsOAuthServer -Identity 'sts.fabrikam.com'")
    expect(lync_card.locator(".ps-code")).to_contain_text("Set-CsAuthConfig -Scenario $AuthScenario")
    every_control_has_a_label(page)
