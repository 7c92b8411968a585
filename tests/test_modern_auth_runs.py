"""Modern Authentication's scripts, run: the Management Shell part (OAuth server, OAuth configuration,
Set-CsAuthConfig), the AD FS part (Microsoft's setup script, MFA on its trust), the Office 2013 client
settings, and their rollbacks, each against the fake cmdlets of tests/psfakes.py in tests/psmini.py.

The assertions are outcomes: what the configuration holds after the change, what it holds after the
rollback (the state before the change), and where a script stops before its first change.
"""
from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from tests.psfakes import FakeAdfs, FakeLync
from tests.psmini import Builtin, CIDict, Interpreter, PSError, PSObject, ps_str
from tests.test_rollback_runs import Site
from tests.test_rollback_runs import lync_site as passive_site
from wizard.plan.model import ModernAuthScenario
from wizard.plan.reader import read_plan
from wizard.scripts.bundle import Bundle, Source, build_bundle
from wizard.scripts.rendering import render_template

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
SE = "sfbse-modern-auth-adfs2019-mfa"
R2 = "sfb2015-modern-auth-adfs2012r2"
SE_METADATA = "https://sts.fabrikam.com/FederationMetadata/2007-06/FederationMetadata.xml"
SE_POOLS = ("sefe01.corp.fabrikam.com", "sedir01.corp.fabrikam.com", "seedge.corp.fabrikam.com")
SE_POOL_IDS = ["https://sefe01int.corp.fabrikam.com", "https://sfbweb.fabrikam.com",
               "https://sedir01.corp.fabrikam.com", "https://sfbdirweb.fabrikam.com"]
VERSION_SE = "Skype for Business Server Subscription Edition (7.0.2046.820): Volume license key installed."


def doc_of(fixture: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{fixture}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=16)
def bundle_of(text: str) -> Bundle:
    plan, findings = read_plan(json.loads(text))
    assert plan is not None, findings
    return build_bundle(plan, source=Source.for_plan(plan))


def bundle(fixture: str = SE, **changes: Any) -> Bundle:
    doc = doc_of(fixture)
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            doc[section][name] = value
        else:
            doc[section] = value
    return bundle_of(json.dumps(doc, sort_keys=True))


def lync_site(tmp_path: Path, b: Bundle | None = None, *, version: str = VERSION_SE,
              extra_pools: tuple[str, ...] = ()) -> Site:
    b = b or bundle()
    # The topology's Front End and Director pools: the plan's (in the case its FQDNs were typed), and any extra.
    services = {
        "UserServer": tuple(p.fqdn.upper() for p in b.plan.pools if p.role == "frontend") + extra_pools,
        "Director": tuple(p.fqdn.upper() for p in b.plan.pools if p.role == "director"),
    }
    store = FakeLync(pools=SE_POOLS, version=version, metadata={SE_METADATA: "http://sts.fabrikam.com/adfs/services/trust"},
                     services=services)
    return Site(tmp_path, b.texts, store, "lync-management-shell.ps1", "rollback-lync.ps1")


# ---------------------------------------------------------------------------
# The Management Shell: OAuth server, OAuth configuration, Set-CsAuthConfig


def test_the_change_sets_up_modern_authentication_and_the_rollback_takes_it_back(tmp_path: Path) -> None:
    site = lync_site(tmp_path)
    before = site.store.state()
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    after = site.store.state()
    assert after["CsOAuthServer"] == {"sts.fabrikam.com": {
        "MetadataUrl": SE_METADATA, "Type": "ADFS", "AcceptSecurityIdentifierInformation": False, "Realm": None,
        "AuthorizationUriOverride": None}}
    assert after["CsOAuthConfiguration"]["Global"]["ClientAuthorizationOAuthServerIdentity"] == "sts.fabrikam.com"
    assert after["AuthScenario"] == "BlockWindowsAuthExternallyAndInternally"
    assert any("Enable-CsComputer" in line for line in outcome.host)
    # Only the global level, never a pool: the fake refuses anything but -Scenario.
    assert ("Set-CsAuthConfig", "Global", False) in site.store.calls
    rolled = site.run_rollback()
    assert rolled.ok, rolled.error
    assert site.store.state() == before
    assert any("Restoring the Set-CsAuthConfig scenario (global): AllowAllExternallyAndInternally" in line
               for line in rolled.host)


def test_the_misspelled_scenario_is_found_in_the_module_and_restored_by_its_own_name(tmp_path: Path) -> None:
    b = bundle(modern_auth__scenario="block_windows_auth_externally_and_modern_auth_internally", adfs__mfa="none",
               accepted_risks=[])
    site = lync_site(tmp_path, b)
    site.store.auth_scenario = "BlockModernAuthInternally"
    before = site.store.state()
    assert site.run_change().ok
    # The module's own spelling (one l), which no script text holds.
    assert site.store.auth_scenario == "BlockWindowsAuthExternalyAndModernAuthInternally"
    for name in ("lync-management-shell.ps1", "rollback-lync.ps1", "verify-internal.ps1"):
        text = b.texts[name].lower()
        assert "blockwindowsauthexternalyandmodernauthinternally" not in text, name
        assert "blockwindowsauthexternallyandmodernauthinternally" not in text, name
    assert site.run_rollback().ok
    assert site.store.state() == before


def test_a_module_whose_enumeration_lacks_the_scenario_stops_before_any_change(tmp_path: Path) -> None:
    site = lync_site(tmp_path)
    site.store.scenarios = ("Custom", "AllowAllExternallyAndInternally", "BlockWindowsAuthExternally")
    before = site.store.state()
    outcome = site.run_change()
    assert outcome.error and "Set-CsAuthConfig -Scenario has 0 values matching" in outcome.error
    assert site.store.state() == before
    assert not [c for c in site.store.calls if not c[2]]


@pytest.mark.parametrize("missing", ["Set-CsAuthConfig", "New-CsOAuthServer", "Set-CsOAuthConfiguration"])
def test_an_older_cumulative_update_stops_the_script_before_any_change(tmp_path: Path, missing: str) -> None:
    site = lync_site(tmp_path, bundle(R2), version="Skype for Business Server 2015 (6.0.9319.102)")
    site.store.missing = {missing}
    outcome = site.run_change()
    assert outcome.error and f"{missing} is not available here" in outcome.error
    assert "cumulative update" in outcome.error
    assert site.store.calls == []


@pytest.mark.parametrize("cmdlet", ["New-CsOAuthServer", "Set-CsOAuthServer"])
def test_a_shell_without_the_sid_parameter_stops_the_script_before_any_change(tmp_path: Path, cmdlet: str) -> None:
    """A plan that sets accept_sid_claims (here false) writes -AcceptSecurityIdentifierInformation: a shell whose
    OAuth server cmdlets lack it must stop at the start, not at New-CsOAuthServer after the proxy settings are
    changed."""
    b = bundle(modern_auth__accept_sid_claims=False)
    assert b.plan.modern_auth is not None and b.plan.modern_auth.accept_sid_claims is False
    site = lync_site(tmp_path, b)
    if cmdlet == "Set-CsOAuthServer":
        site.store.collections["CsOAuthServer"].items["sts.fabrikam.com"] = {
            "MetadataUrl": SE_METADATA, "Type": "ADFS", "AcceptSecurityIdentifierInformation": False, "Realm": None,
            "AuthorizationUriOverride": None}
    site.store.missing_parameters = {(cmdlet, "AcceptSecurityIdentifierInformation")}
    before = site.store.state()
    outcome = site.run_change()
    assert outcome.error and f"{cmdlet} has no -AcceptSecurityIdentifierInformation parameter here" in outcome.error
    assert site.store.state() == before
    assert not [c for c in site.store.calls if not c[2]]


def test_a_plan_without_accept_sid_claims_leaves_the_setting_alone_and_needs_no_such_parameter(tmp_path: Path) -> None:
    """The plan format: an omitted optional setting leaves the server's value alone and nothing is emitted for it.
    A resource forest's OAuth server (AcceptSecurityIdentifierInformation on) keeps it through the change and the
    rollback, and a shell without the parameter runs both."""
    b = bundle()
    assert b.plan.modern_auth is not None and b.plan.modern_auth.accept_sid_claims is None
    for name in ("lync-management-shell.ps1", "rollback-lync.ps1", "verify-internal.ps1"):
        assert "AcceptSecurityIdentifierInformation" not in b.texts[name], name
    site = lync_site(tmp_path, b)
    site.store.collections["CsOAuthServer"].items["sts.fabrikam.com"] = {
        "MetadataUrl": "https://old.fabrikam.com/FederationMetadata/2007-06/FederationMetadata.xml", "Type": "ADFS",
        "AcceptSecurityIdentifierInformation": True, "Realm": None, "AuthorizationUriOverride": None}
    site.store.missing_parameters = {(cmdlet, "AcceptSecurityIdentifierInformation")
                                     for cmdlet in ("New-CsOAuthServer", "Set-CsOAuthServer")}
    before = site.store.state()
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    server = site.store.collections["CsOAuthServer"].items["sts.fabrikam.com"]
    assert server["MetadataUrl"] == SE_METADATA and server["AcceptSecurityIdentifierInformation"] is True
    rolled = site.run_rollback()
    assert rolled.ok, rolled.error
    assert site.store.state() == before


def test_a_topology_pool_the_plan_does_not_list_stops_the_script_before_any_change(tmp_path: Path) -> None:
    # The OAuth configuration and the scenario are global, but the AD FS trust names only the plan's pools.
    site = lync_site(tmp_path, extra_pools=("sefe02.corp.fabrikam.com",))
    before = site.store.state()
    outcome = site.run_change()
    assert outcome.error and "Pool sefe02.corp.fabrikam.com is in the topology but not in the plan" in outcome.error
    assert site.store.state() == before
    assert not [c for c in site.store.calls if not c[2]]


def test_the_plans_pools_are_asked_of_the_topology_by_role(tmp_path: Path) -> None:
    text = bundle().texts["lync-management-shell.ps1"]
    assert "@(Get-CsService -UserServer) + @(Get-CsService -Director)" in text
    assert "$PlanPools = @('sefe01.corp.fabrikam.com','sedir01.corp.fabrikam.com')" in text


def test_an_unreachable_federation_metadata_stops_the_script_before_any_change(tmp_path: Path) -> None:
    site = lync_site(tmp_path)
    site.store.metadata.clear()
    outcome = site.run_change()
    assert outcome.error and "cannot read the AD FS federation metadata" in outcome.error
    assert site.store.calls == []


def test_an_existing_oauth_server_is_updated_and_its_values_come_back(tmp_path: Path) -> None:
    site = lync_site(tmp_path, bundle(modern_auth__accept_sid_claims=False))
    site.store.collections["CsOAuthServer"].items["sts.fabrikam.com"] = {
        "MetadataUrl": "https://old.fabrikam.com/FederationMetadata/2007-06/FederationMetadata.xml", "Type": "ADFS",
        "AcceptSecurityIdentifierInformation": True, "Realm": None, "AuthorizationUriOverride": None}
    site.store.collections["CsOAuthConfiguration"].items["Global"]["ClientAuthorizationOAuthServerIdentity"] = "old"
    before = site.store.state()
    assert site.run_change().ok
    server = site.store.collections["CsOAuthServer"].items["sts.fabrikam.com"]
    assert server["MetadataUrl"] == SE_METADATA and server["AcceptSecurityIdentifierInformation"] is False
    assert site.run_rollback().ok
    assert site.store.state() == before


@pytest.mark.parametrize("identity", ["service:WebServer:sefe01.corp.fabrikam.com", "site:Oslo", "Global"])
def test_passive_authentication_on_today_stops_the_script_before_any_change(tmp_path: Path, identity: str) -> None:
    """Passive authentication and Modern Authentication cannot share a deployment, and no mode of the plan turns
    passive authentication off: a web service collection with it on today stops the script at the start, as the
    state file's estate_passive_with_modern_auth says when there is one."""
    site = lync_site(tmp_path)
    web = site.store.collections["CsWebServiceConfiguration"]
    web.items.setdefault(identity, dict(web.defaults))
    web.items[identity].update(UseWsFedPassiveAuth=True, WsFedPassiveMetadataUri=SE_METADATA, UseWindowsAuth="None")
    before = site.store.state()
    for whatif in (True, False):
        outcome = site.run_change(whatif=whatif)
        assert outcome.error and f"Passive authentication is on in {identity}" in outcome.error
        assert site.store.state() == before
        assert site.store.calls == []


@pytest.mark.parametrize("authority", ["sts.contoso.com", "evoSTS"])
def test_a_passive_plan_stops_before_any_change_where_modern_authentication_is_on(tmp_path: Path,
                                                                                   authority: str) -> None:
    """The other way round: a plan that turns passive authentication on (here for a Director, on 2019) meets a
    deployment whose global OAuth configuration names a client authorization server, so Modern Authentication is
    on for every pool. The two cannot share a deployment: the script stops at the start, -WhatIf run included."""
    site = passive_site(tmp_path)
    site.store.collections["CsOAuthConfiguration"].items["Global"]["ClientAuthorizationOAuthServerIdentity"] = authority
    before = site.store.state()
    for whatif in (True, False):
        outcome = site.run_change(whatif=whatif)
        assert outcome.error and f"Modern Authentication is on in this deployment (the client authorization " \
                                 f"server is {authority})" in outcome.error
        assert site.store.state() == before
        assert site.store.calls == []


def test_a_passive_plan_goes_on_where_modern_authentication_is_off(tmp_path: Path) -> None:
    site = passive_site(tmp_path)
    assert site.run_change().ok
    # Lync Server 2013 has no Modern Authentication: its passive plans do not ask.
    assert "ClientAuthorizationOAuthServerIdentity" in site.texts["lync-management-shell.ps1"]
    lync2013 = bundle_of(json.dumps(doc_of("s01-passive-extranet-mfa"), sort_keys=True))
    assert "ClientAuthorizationOAuthServerIdentity" not in lync2013.texts["lync-management-shell.ps1"]


def test_hybrid_modern_authentication_is_never_replaced_on_the_way(tmp_path: Path) -> None:
    """One client authorization server at a time: a deployment whose client authorization server is Entra ID
    (hybrid Modern Authentication, evoSTS of type AzureAD) would be switched to AD FS for every user. The script
    stops before its first change, -WhatIf run included, and says how to switch on purpose."""
    site = lync_site(tmp_path)
    site.store.collections["CsOAuthServer"].items["evoSTS"] = {
        "MetadataUrl": "https://login.windows.net/common/FederationMetadata/2007-06/FederationMetadata.xml",
        "Type": "AzureAd", "AcceptSecurityIdentifierInformation": True, "Realm": None,
        "AuthorizationUriOverride": None}
    site.store.collections["CsOAuthConfiguration"].items["Global"]["ClientAuthorizationOAuthServerIdentity"] = "evoSTS"
    before = site.store.state()
    for whatif in (True, False):
        outcome = site.run_change(whatif=whatif)
        assert outcome.error and "hybrid Modern Authentication through Entra ID" in outcome.error
        assert "Set-CsOAuthConfiguration -Identity Global -ClientAuthorizationOAuthServerIdentity $null" in outcome.error
        assert site.store.state() == before
        assert site.store.calls == []


def test_another_client_authorization_server_is_said_to_be_replaced(tmp_path: Path) -> None:
    site = lync_site(tmp_path)
    site.store.collections["CsOAuthServer"].items["oldfs"] = {
        "MetadataUrl": "https://oldfs.fabrikam.com/FederationMetadata/2007-06/FederationMetadata.xml", "Type": "ADFS",
        "AcceptSecurityIdentifierInformation": False, "Realm": None, "AuthorizationUriOverride": None}
    site.store.collections["CsOAuthConfiguration"].items["Global"]["ClientAuthorizationOAuthServerIdentity"] = "oldfs"
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    assert any("The client authorization server is oldfs now" in w for w in outcome.warnings)
    assert site.run_rollback().ok
    assert site.store.collections["CsOAuthConfiguration"].items["Global"][
        "ClientAuthorizationOAuthServerIdentity"] == "oldfs"


def test_an_unreadable_authentication_configuration_is_said_and_left_as_it_is(tmp_path: Path) -> None:
    site = lync_site(tmp_path)
    site.store.auth_config_fails = True
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    assert any("Get-CsAuthConfig answered" in w for w in outcome.warnings)
    rolled = site.run_rollback()
    assert rolled.ok, rolled.error
    assert any("Nothing was saved for the authentication configuration" in w for w in rolled.warnings)
    assert site.store.auth_scenario == "BlockWindowsAuthExternallyAndInternally"
    assert site.store.collections["CsOAuthServer"].items == {}


def test_a_rerun_after_a_failed_run_keeps_the_first_backup_and_the_rollback_goes_back_before_it(tmp_path: Path) -> None:
    site = lync_site(tmp_path)
    before = site.store.state()
    # The third real change fails: the OAuth server and the configuration are set, the scenario is not.
    outcome = site.run_change(fail_at=3)
    assert outcome.error and "simulated failure" in outcome.error
    assert site.run_change().ok
    assert site.run_rollback().ok
    assert site.store.state() == before


@pytest.mark.parametrize(("version", "refused", "warned"), [
    ("Skype for Business Server Subscription Edition (7.0.2046.820)", False, None),
    # Subscription Edition may report itself like 2019: never refused for it, said.
    ("Skype for Business Server 2019 (7.0.2046.0)", False, "does not name Subscription Edition"),
    ("Skype for Business Server 2019 (8.0.1.0)", False, "does not name Subscription Edition"),
    ("Skype for Business Server 2015 (6.0.9319.0)", True, None),
    ("Lync Server 2013 (5.0.8308.0)", True, None),
    ("something unreadable", False, "gave no version number"),
])
def test_the_product_check_of_a_subscription_edition_plan(tmp_path: Path, version: str, refused: bool,
                                                           warned: str | None) -> None:
    site = lync_site(tmp_path, version=version)
    outcome = site.run_change(whatif=True)
    assert (outcome.error is not None) == refused, outcome.error
    if refused:
        assert "but Get-CsServerVersion says" in outcome.error
    assert any(warned in w for w in outcome.warnings) if warned else not [
        w for w in outcome.warnings if "Get-CsServerVersion" in w]


def test_a_2019_plan_on_subscription_edition_is_said_not_refused(tmp_path: Path) -> None:
    site = lync_site(tmp_path, bundle(product="sfb2019"))
    outcome = site.run_change(whatif=True)
    assert outcome.ok, outcome.error
    assert any("This server runs Subscription Edition" in w for w in outcome.warnings)


def test_subscription_editions_module_is_not_refused_on_a_guess(tmp_path: Path) -> None:
    site = lync_site(tmp_path)
    site.store.module = "SkypeForBusinessSE"
    outcome = site.run_change(whatif=True)
    assert outcome.ok, outcome.error
    assert any("not documented anywhere" in w for w in outcome.warnings)
    site = lync_site(tmp_path / "lync")
    site.store.module = "Lync"
    (tmp_path / "lync").mkdir()
    assert "the Lync module of Lync Server 2013" in site.run_change(whatif=True).error


# ---------------------------------------------------------------------------
# AD FS: Microsoft's setup script and MFA on its trust


def adfs_site(tmp_path: Path, b: Bundle, *, web_api: bool, policies: tuple[str, ...] = ()) -> Site:
    # AD FS 2019: application groups exist; Microsoft's script makes a Web API application or a trust.
    store = FakeAdfs(host_name="sts.fabrikam.com", policies=policies, web_api=True, setup_makes_web_api=web_api)
    site = Site(tmp_path, b.texts, store, "adfs-modern-auth.ps1", "rollback-adfs-modern-auth.ps1")
    return site


EXTRANET_ACP = "Permit everyone and require MFA from extranet access"


@pytest.mark.parametrize("web_api", [False, True], ids=["relying party trust", "Web API application"])
def test_microsofts_script_makes_the_trust_and_mfa_is_set_on_it(tmp_path: Path, web_api: bool) -> None:
    site = adfs_site(tmp_path, bundle(), web_api=web_api, policies=(EXTRANET_ACP,))
    (tmp_path / "Setup-Adfs2016OAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    before = site.store.state()
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    assert site.store.setup_runs == [SE_POOL_IDS]
    items = site.store.web_apis if web_api else site.store.trusts
    [made] = items.values()
    assert made["Identifier"] == SE_POOL_IDS and made["AccessControlPolicyName"] == EXTRANET_ACP
    rolled = site.run_rollback()
    assert rolled.ok, rolled.error
    assert site.store.state() == before
    assert any("may have added more than the trust" in w for w in rolled.warnings)


@pytest.mark.parametrize("web_api", [False, True], ids=["relying party trust", "Web API application"])
def test_the_rollback_puts_back_the_parameters_of_the_policy_it_replaced(tmp_path: Path, web_api: bool) -> None:
    # An earlier setup made the trust, and it allows one group only ("Permit specific group" and its group);
    # the change assigns the plan's MFA policy, which takes no parameters.
    site = adfs_site(tmp_path, bundle(), web_api=web_api, policies=(EXTRANET_ACP,))
    (tmp_path / "Setup-Adfs2016OAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    items = site.store.web_apis if web_api else site.store.trusts
    items["Skype for Business Server"] = {
        "MetadataUrl": None, "AccessControlPolicyName": "Permit specific group",
        "AccessControlPolicyParameters": ["FABRIKAM\\Skype users"], "IssuanceAuthorizationRules": "",
        "IssuanceTransformRules": "", "AdditionalAuthenticationRules": "", "Identifier": list(SE_POOL_IDS)}
    before = site.store.state()
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    changed = items["Skype for Business Server"]
    assert (changed["AccessControlPolicyName"], changed["AccessControlPolicyParameters"]) == (EXTRANET_ACP, None)
    rolled = site.run_rollback()
    assert rolled.ok, rolled.error
    assert site.store.state() == before


def test_a_trust_without_a_policy_before_gets_it_un_assigned_with_null(tmp_path: Path) -> None:
    # The farm reported no policy as an empty name. The help of Set-AdfsRelyingPartyTrust un-assigns a policy with
    # $null; an empty name is not documented to do the same (the fake refuses it), so the rollback passes $null
    # whatever was saved. (A Web API application gets the saved value back as it was: no help at hand shows how to
    # un-assign its policy.)
    site = adfs_site(tmp_path, bundle(), web_api=False, policies=(EXTRANET_ACP,))
    (tmp_path / "Setup-Adfs2016OAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    items = site.store.trusts
    items["Skype for Business Server"] = {
        "MetadataUrl": None, "AccessControlPolicyName": "", "AccessControlPolicyParameters": None,
        "IssuanceAuthorizationRules": "permit all", "IssuanceTransformRules": "", "AdditionalAuthenticationRules": "",
        "Identifier": list(SE_POOL_IDS)}
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    assert items["Skype for Business Server"]["AccessControlPolicyName"] == EXTRANET_ACP
    rolled = site.run_rollback()
    assert rolled.ok, rolled.error
    restored = items["Skype for Business Server"]
    assert restored["AccessControlPolicyName"] is None
    assert restored["IssuanceAuthorizationRules"] == "permit all"


def test_without_microsofts_script_beside_it_nothing_changes(tmp_path: Path) -> None:
    site = adfs_site(tmp_path, bundle(), web_api=True, policies=(EXTRANET_ACP,))
    outcome = site.run_change()
    assert outcome.error and "Setup-Adfs2016OAuthTrustForSfB.ps1 is not beside this script" in outcome.error
    assert "https://aka.ms/sfbadalscripts" in outcome.error
    assert site.store.setup_runs == [] and site.store.calls == []


def test_a_whatif_run_does_not_run_microsofts_script(tmp_path: Path) -> None:
    site = adfs_site(tmp_path, bundle(), web_api=False, policies=(EXTRANET_ACP,))
    (tmp_path / "Setup-Adfs2016OAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    outcome = site.run_change(whatif=True)
    assert outcome.ok, outcome.error
    assert site.store.setup_runs == [] and site.store.trusts == {}
    assert any("A -WhatIf run would now run" in line for line in outcome.host)


def test_the_2012r2_script_and_rule_and_a_trust_an_earlier_setup_made(tmp_path: Path) -> None:
    b = bundle(R2)
    store = FakeAdfs(host_name="fs.tailspintoys.com")
    site = Site(tmp_path, b.texts, store, "adfs-modern-auth.ps1", "rollback-adfs-modern-auth.ps1")
    (tmp_path / "Setup-AdfsOAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    # An earlier setup made the trust for the internal URL only, with rules of its own.
    store.trusts["Skype for Business Server"] = {
        "MetadataUrl": None, "AccessControlPolicyName": None, "IssuanceAuthorizationRules": "permit",
        "IssuanceTransformRules": "", "AdditionalAuthenticationRules": "old rule",
        "Identifier": ["https://sfb15pool.ad.tailspintoys.com"]}
    before = store.state()
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    assert store.setup_runs == []          # the trust exists: the missing URL is added to it
    trust = store.trusts["Skype for Business Server"]
    assert trust["Identifier"] == ["https://sfb15pool.ad.tailspintoys.com", "https://lyncweb.tailspintoys.com"]
    assert "insidecorporatenetwork" in trust["AdditionalAuthenticationRules"]
    assert site.run_rollback().ok
    assert store.state() == before


def test_a_2012r2_plan_on_a_farm_of_2016_or_later_stops_before_any_change(tmp_path: Path) -> None:
    """Microsoft gives one setup script for AD FS 2012 R2 and another for 2016 and later: a plan that says 2012 R2
    on a farm with application groups (2016 or later) would run the wrong one. The script stops, as the 2016 plan
    does on a farm without application groups."""
    store = FakeAdfs(host_name="fs.tailspintoys.com", web_api=True)
    site = Site(tmp_path, bundle(R2).texts, store, "adfs-modern-auth.ps1", "rollback-adfs-modern-auth.ps1")
    (tmp_path / "Setup-AdfsOAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    for whatif in (True, False):
        outcome = site.run_change(whatif=whatif)
        assert outcome.error and "the plan says 2012r2" in outcome.error
        assert "Setup-Adfs2016OAuthTrustForSfB.ps1" in outcome.error
        assert store.setup_runs == [] and store.calls == []


def test_pool_urls_on_two_trusts_stop_the_script(tmp_path: Path) -> None:
    store = FakeAdfs(host_name="fs.tailspintoys.com")
    site = Site(tmp_path, bundle(R2).texts, store, "adfs-modern-auth.ps1", "rollback-adfs-modern-auth.ps1")
    (tmp_path / "Setup-AdfsOAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    for name, url in (("A", "https://sfb15pool.ad.tailspintoys.com"), ("B", "https://lyncweb.tailspintoys.com")):
        store.trusts[name] = {"MetadataUrl": None, "AccessControlPolicyName": None, "IssuanceAuthorizationRules": "",
                              "IssuanceTransformRules": "", "AdditionalAuthenticationRules": "", "Identifier": [url]}
    outcome = site.run_change()
    assert outcome.error and "belong to two AD FS objects" in outcome.error
    assert store.calls == []


# ---------------------------------------------------------------------------
# Office 2013 clients


class FakeRegistry:
    """HKCU as a dict: key path -> {value name: (type, value)}."""

    def __init__(self) -> None:
        self.keys: dict[str, dict[str, tuple[str, int]]] = {}

    def commands(self) -> dict[str, Builtin]:
        def test_path(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            return [ps_str(named.get("LiteralPath")) in self.keys]

        def new_item(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            if not interp.whatif(named):
                self.keys.setdefault(ps_str(named.get("Path")), {})
            return [PSObject([("Name", ps_str(named.get("Path")))])]

        def new_item_property(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            key = ps_str(named.get("LiteralPath"))
            if key not in self.keys:
                raise PSError(f"Cannot find path '{key}' because it does not exist.")
            if not interp.whatif(named):
                self.keys[key][ps_str(named.get("Name"))] = (ps_str(named.get("PropertyType")), named.get("Value"))
            return []

        return {"Test-Path": Builtin(test_path), "New-Item": Builtin(new_item, frozenset({"Force"})),
                "New-ItemProperty": Builtin(new_item_property, frozenset({"Force"}))}


def run_office(reg: FakeRegistry, *, whatif: bool = False, undo: bool = False) -> None:
    text = bundle().texts["office2013-modern-auth.ps1"]
    interp = Interpreter(text, commands=reg.commands(), clock=lambda: dt.datetime(2026, 11, 22))
    interp.run({"Undo": True} if undo else None, whatif=whatif)


def test_the_office_2013_settings_are_set_for_the_user_and_undone() -> None:
    key = "HKCU:\\Software\\Microsoft\\Office\\15.0\\Common\\Identity"
    reg = FakeRegistry()
    run_office(reg, whatif=True)
    assert reg.keys == {}
    run_office(reg)
    assert reg.keys == {key: {"EnableADAL": ("DWord", 1), "Version": ("DWord", 1)}}
    run_office(reg, undo=True)
    assert reg.keys[key]["EnableADAL"] == ("DWord", 0)
    assert "office2013-modern-auth.ps1" not in bundle(R2).texts      # office2013_clients false


# ---------------------------------------------------------------------------
# The verification reads back what the change set


def test_the_helpers_find_each_scenario_by_the_modules_name_and_in_what_get_csauthconfig_says() -> None:
    # The helpers every Modern Authentication script includes (the change, its rollback, the verification).
    helpers = Interpreter(render_template("_modern_auth.ps1.j2", {}), commands=FakeLync().commands())
    helpers.define_functions()
    for scenario in ModernAuthScenario:
        name = helpers.call("Get-AuthScenarioName", Pattern=scenario.facts.enum_pattern)
        assert name in FakeLync().scenarios and name != "Custom"
        answer = PSObject([("Registrar", name), ("WebServices", name)])
        assert helpers.call("Find-AuthScenario", Answer=answer) == name
    # A name that starts another name is not that name, and Custom never counts.
    answer = PSObject([("Registrar", "BlockWindowsAuthExternallyAndInternally")])
    assert helpers.call("Find-AuthScenario", Answer=answer) == "BlockWindowsAuthExternallyAndInternally"
    assert helpers.call("Find-AuthScenario", Answer=PSObject([("Registrar", "Custom")])) is None
    for script in ("lync-management-shell.ps1", "rollback-lync.ps1", "verify-internal.ps1"):
        assert "function Find-AuthScenario" in bundle().texts[script], script
