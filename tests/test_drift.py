"""Intended versus actual: the rules that read a state file (wizard.plan.drift)."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from wizard.plan.drift import CHANGE, ESTATE_FINDING_CODES, NO_OP, UNKNOWN, estate_report
from wizard.plan.engine import assess
from wizard.plan.intended import ACCESS_CONTROL_POLICIES, intended_collections
from wizard.plan.state_reader import read_state
from wizard.scripts.artifacts import core, network

ROOT = Path(__file__).resolve().parent.parent
STATES = ROOT / "tests" / "fixtures" / "states"
FIXTURES = ("lync2013-adfs20", "sfb2015-director-two-edges", "sfb2019-adfs2019-wap")


def docs(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = json.loads((STATES / f"{name}.plan.json").read_text(encoding="utf-8"))
    state = json.loads((STATES / f"{name}.state.json").read_text(encoding="utf-8"))
    return plan, state


def judge(plan_doc: dict[str, Any], state_doc: dict[str, Any]):
    plan, findings = assess(copy.deepcopy(plan_doc))
    assert plan is not None, [f for f in findings if f.severity == "error"]
    estate, state_findings = read_state(copy.deepcopy(state_doc))
    assert estate is not None, [f for f in state_findings if f.severity == "error"]
    return estate_report(plan, estate)


def codes(report, severity: str | None = None) -> set[tuple[str, str]]:
    return {(f.code, f.field) for f in report.findings if severity is None or f.severity == severity}


def only(report, code: str):
    found = [f for f in report.findings if f.code == code]
    assert found, f"no {code} in {sorted(codes(report))}"
    return found


# --- the three estates -----------------------------------------------------------------------------

def test_lync2013_on_adfs20_the_trust_and_the_edge_make_the_plan_impossible() -> None:
    report = judge(*docs("lync2013-adfs20"))
    assert codes(report, "error") == {
        ("estate_relying_party_identifier_taken", "pools[0].relying_parties.external"),
    }
    assert ("estate_proxy_certificate_auth_off", "edge_pools[0].block_ntlm") in codes(report, "warning")
    taken = only(report, "estate_relying_party_identifier_taken")[0]
    assert "'Lync Passive Auth'" in taken.message and "https://lyncweb.contoso.com/passiveauth" in taken.message
    override = only(report, "estate_mobility_override")[0]
    assert override.field == "mobility_policies[0].enable_outside_voice"
    assert "site:Redmond" in override.message and "EnableOutsideVoice" in override.message
    assert ("estate_collection_created", "pools[0]") in codes(report)


def test_sfb2015_with_a_director_and_two_edges() -> None:
    report = judge(*docs("sfb2015-director-two-edges"))
    assert codes(report, "error") == set()
    warnings = {f.field: f for f in report.findings if f.code == "estate_mobility_override"}
    assert set(warnings) == {"mobility_policies[0].allow_save_credentials",
                             "mobility_policies[0].allow_exchange_connectivity"}
    assert all("Tag:Executives" in f.message for f in warnings.values())
    # The new service collection of the Front End copies what applied until then (site:Dublin, with
    # UsePinAuth False) instead of starting from the cmdlet's defaults: nothing is reset.
    assert ("estate_collection_created", "pools[0]") in codes(report)
    assert not [f for f in report.findings if f.code == "estate_collection_resets"]
    # The Director already has its own collection with the plan's lifetime: those settings are no-ops.
    director = [r for r in report.rows if r.identity == "service:WebServer:dir01.corp.contoso.com"]
    assert {r.status for r in director} == {NO_OP}
    # The second Edge inherits Global today, and gets its own collection.
    ams = [r for r in report.rows if r.identity == "service:EdgeServer:edge-ams.corp.contoso.com"]
    assert {(r.setting, r.actual, r.source, r.status) for r in ams} == {
        ("UseKerberosForClientToProxyAuth", "True", "Global", CHANGE),
        ("UseNtlmForClientToProxyAuth", "True", "Global", CHANGE),
        ("UseCertificateForClientToProxyAuth", "True", "Global", NO_OP)}
    assert all(r.inherited for r in ams)


def test_sfb2019_on_adfs2019_with_wap() -> None:
    report = judge(*docs("sfb2019-adfs2019-wap"))
    assert codes(report, "error") == set()
    assert not [f for f in report.findings if f.code == "estate_no_web_application_proxy"]
    present = only(report, "estate_relying_party_present")[0]
    assert present.field == "pools[0].relying_parties.external"
    rows = {(r.identity, r.setting): r for r in report.rows}
    acp = rows[("Lync-Ext-sfbpool", "AccessControlPolicyName")]
    assert (acp.actual, acp.intended, acp.status) == ("Permit everyone", ACCESS_CONTROL_POLICIES["extranet"], CHANGE)
    # The transform rule is the plan's, written on several lines by AD FS: no change.
    assert rows[("Lync-Ext-sfbpool", "IssuanceTransformRules")].status == NO_OP
    assert rows[("Lync-Int-sfbpool", "RelyingPartyTrust")].actual == "absent"
    # Global already has AllowSaveCredentials False: a no-op, marked as one.
    save = rows[("Global", "AllowSaveCredentials")]
    assert save.status == NO_OP
    assert ("estate_no_op", "mobility_policies[0].allow_save_credentials") in codes(report)
    assert only(report, "estate_mobility_override")[0].field == "mobility_policies[0].allow_save_credentials"


@pytest.mark.parametrize("name", FIXTURES)
def test_every_setting_the_plan_sets_has_a_row_and_a_finding(name: str) -> None:
    plan_doc, state_doc = docs(name)
    report = judge(plan_doc, state_doc)
    plan, _ = assess(plan_doc)
    wanted = sum(len(c.settings) for c in intended_collections(plan))
    rows = [r for r in report.rows if r.kind != "relying_party"]
    assert len(rows) == wanted
    per_row = [f for f in report.findings if f.code in ("estate_change", "estate_no_op")]
    assert len(per_row) == len(rows)
    assert {f.severity for f in report.findings} <= {"error", "warning", "info"}
    for f in report.findings:
        assert ESTATE_FINDING_CODES[f.code] == f.severity


# --- each rule on its own -----------------------------------------------------------------------

def plan_of(**changes: Any) -> dict[str, Any]:
    doc, _ = docs("sfb2019-adfs2019-wap")
    doc.update(changes)
    return doc


def test_a_proxy_collection_with_certificate_auth_off_is_a_warning_only_where_ntlm_goes_off() -> None:
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    plan_doc["edge_pools"][0]["block_ntlm"] = False
    state["proxy_configurations"].append({"identity": "Service:EdgeServer:sfbedge.corp.contoso.com",
                                          "use_certificate_for_client_to_proxy_auth": False})
    assert not [f for f in judge(plan_doc, state).findings if f.code == "estate_proxy_certificate_auth_off"]
    plan_doc["edge_pools"][0]["block_ntlm"] = True
    found = only(judge(plan_doc, state), "estate_proxy_certificate_auth_off")
    assert [(f.field, f.severity) for f in found] == [("edge_pools[0].block_ntlm", "warning")]
    # The script turns certificate sign-in on in the same command, so nobody is locked out.
    assert "turns certificate authentication on" in found[0].message


def test_global_certificate_auth_off_is_changed_by_the_plan_not_reset_when_the_script_creates_the_collection():
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    state["proxy_configurations"][0]["use_certificate_for_client_to_proxy_auth"] = False
    report = judge(plan_doc, state)
    assert not [f for f in report.findings if f.code == "estate_proxy_certificate_auth_off"]
    assert not [f for f in report.findings if f.code == "estate_collection_resets"
                and "UseCertificateForClientToProxyAuth" in f.message]
    change = [r for r in report.rows if r.setting == "UseCertificateForClientToProxyAuth"
              and r.identity == "service:EdgeServer:sfbedge.corp.contoso.com"]
    assert [(r.actual, r.source, r.status) for r in change] == [("False", "Global", CHANGE)]


def test_a_new_mobility_policy_still_starts_from_the_cmdlet_defaults() -> None:
    # Web service and proxy collections copy their parent at run time; a new site or tag mobility
    # policy gets the plan's Global settings only, so what else differs in the estate is reset.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    plan_doc["mobility_policies"].append({"identity": "site:Bergen", "enable_outside_voice": True})
    state["mobility_policies"][0]["allow_save_im_history"] = False
    resets = only(judge(plan_doc, state), "estate_collection_resets")
    assert "AllowSaveIMHistory (today False, then True)" in resets[0].message


def test_a_new_mobility_policy_is_not_said_to_reset_what_it_gets_from_the_plans_global_policy() -> None:
    # The script creates site:Bergen with the plan's Global AllowSaveCredentials False: nothing is reset there,
    # though the estate's Global already has False and the cmdlet's default is True.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    state["sites"] = ["Oslo", "Bergen"]
    plan_doc["mobility_policies"].append({"identity": "site:Bergen", "enable_outside_voice": False})
    assert state["mobility_policies"][0]["allow_save_credentials"] is False
    report = judge(plan_doc, state)
    assert not [f for f in report.findings if f.code == "estate_collection_resets"], \
        [f.message for f in report.findings if f.code == "estate_collection_resets"]
    # What the plan's Global policy does not set is still reset, and said so.
    state["mobility_policies"][0]["allow_save_im_history"] = False
    resets = only(judge(plan_doc, state), "estate_collection_resets")
    assert "AllowSaveIMHistory (today False, then True)" in resets[0].message
    assert "AllowSaveCredentials" not in resets[0].message


def test_a_site_policy_the_plan_sets_itself_is_no_override() -> None:
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    plan_doc["mobility_policies"].append({"identity": "site:Oslo", "allow_save_credentials": True})
    assert not [f for f in judge(plan_doc, state).findings if f.code == "estate_mobility_override"]
    state["mobility_policies"][1]["allow_save_credentials"] = False
    plan_doc["mobility_policies"].pop()
    assert not [f for f in judge(plan_doc, state).findings if f.code == "estate_mobility_override"]


def test_a_tag_policy_overrides_the_plans_site_policy_too() -> None:
    # A per-user policy applies instead of the site's for the users granted it, as it does instead of Global's.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    state["mobility_policies"][1]["allow_save_credentials"] = False
    state["mobility_policies"].append({"identity": "Tag:Execs", "allow_save_credentials": True})
    plan_doc["mobility_policies"] = [{"identity": "site:Oslo", "allow_save_credentials": False}]
    found = only(judge(plan_doc, state), "estate_mobility_override")
    assert [f.field for f in found] == ["mobility_policies[0].allow_save_credentials"]
    assert "Tag:Execs" in found[0].message and "on site:Oslo only" in found[0].message
    # Another site's policy is no override of a site policy; the tag policy the plan sets itself is none either.
    state["mobility_policies"][-1]["identity"] = "Site:Bergen"
    state["sites"] = ["Oslo", "Bergen"]
    assert not [f for f in judge(plan_doc, state).findings if f.code == "estate_mobility_override"]
    state["mobility_policies"][-1]["identity"] = "Tag:Execs"
    plan_doc["mobility_policies"].append({"identity": "Tag:Execs", "allow_save_credentials": False})
    assert not [f for f in judge(plan_doc, state).findings if f.code == "estate_mobility_override"]


def test_an_existing_trust_is_found_by_identifier_whatever_its_name() -> None:
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    state["adfs"]["relying_parties"][0]["name"] = "SfB passive (old)"
    state["adfs"]["relying_parties"][0]["identifiers"] = ["HTTPS://SFBWEB.contoso.com/passiveauth/"]
    found = only(judge(plan_doc, state), "estate_relying_party_identifier_taken")
    assert "'SfB passive (old)'" in found[0].message
    # Found by its metadata URL too, when the identifier is written another way.
    state["adfs"]["relying_parties"][0]["identifiers"] = ["urn:something-else"]
    assert only(judge(plan_doc, state), "estate_relying_party_identifier_taken")


def test_a_trust_of_another_application_under_the_plans_name_is_an_error() -> None:
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    state["adfs"]["relying_parties"][1]["name"] = "Lync-Int-sfbpool"
    found = only(judge(plan_doc, state), "estate_relying_party_name_taken")
    assert found[0].field == "pools[0].relying_parties.internal"
    assert "https://mail.contoso.com/owa/" in found[0].message


def test_a_disabled_trust_the_plan_would_update_is_an_error() -> None:
    # The AD FS script only sets the rules of a trust it finds: a disabled one stays disabled, and AD FS issues
    # no token for it, so the pool the plan makes passive could not be signed in to.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    assert "estate_relying_party_disabled" not in {f.code for f in judge(plan_doc, state).findings}
    state["adfs"]["relying_parties"][0]["enabled"] = False
    found = only(judge(plan_doc, state), "estate_relying_party_disabled")
    assert [f.field for f in found] == ["pools[0].relying_parties.external"]
    assert found[0].severity == "error"
    assert "'Lync-Ext-sfbpool'" in found[0].message and "Enable-AdfsRelyingPartyTrust" in found[0].message
    # A disabled trust of another application is none of the plan's business.
    state["adfs"]["relying_parties"][0]["enabled"] = True
    state["adfs"]["relying_parties"][1]["enabled"] = False
    assert "estate_relying_party_disabled" not in {f.code for f in judge(plan_doc, state).findings}


def test_a_trust_set_up_before_ad_fs_2016_is_a_warning_about_the_mfa() -> None:
    # The external trust has issuance authorization rules and no access control policy: the script assigns the
    # policy, and whether AD FS then applies the policy (and its MFA) or the old rules is documented nowhere.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    assert "estate_relying_party_legacy_rules" not in {f.code for f in judge(plan_doc, state).findings}
    trust = state["adfs"]["relying_parties"][0]
    trust["access_control_policy_name"] = None
    trust["issuance_authorization_rules"] = ('@RuleTemplate = "AllowAllAuthzRule" => issue(Type = '
                                             '"http://schemas.microsoft.com/authorization/claims/permit", '
                                             'Value = "true");')
    [found] = only(judge(plan_doc, state), "estate_relying_party_legacy_rules")
    assert found.severity == "warning" and found.field == "pools[0].relying_parties.external"
    assert "'Lync-Ext-sfbpool'" in found.message and "verify-adfs.ps1" in found.message
    assert "not documented" in found.message
    # A trust with a policy already has nothing to doubt, whatever rules it kept.
    trust["access_control_policy_name"] = "Permit everyone"
    assert "estate_relying_party_legacy_rules" not in {f.code for f in judge(plan_doc, state).findings}


def test_product_farm_and_topology_facts() -> None:
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    state["product"] = "sfb2015"
    state["adfs"]["federation_service_name"] = "sts.contoso.com"
    state["adfs"]["version"] = "2016"
    state["adfs"]["web_application_proxy"] = False
    state["pools"][0]["external_web_fqdn"] = "web.contoso.com"
    state["sites"] = ["Bergen"]
    plan_doc["mobility_policies"].append({"identity": "site:Oslo", "enable_mobility": True})
    report = judge(plan_doc, state)
    found = codes(report)
    assert {("estate_product_mismatch", "product"), ("estate_adfs_farm_mismatch", "adfs.federation_service_name"),
            ("estate_adfs_version_mismatch", "adfs.version"), ("estate_no_web_application_proxy", "adfs.mfa"),
            ("estate_topology_differs", "pools[0].external_web_fqdn"),
            ("estate_not_in_topology", "mobility_policies[1].identity")} <= found


def test_a_modern_authentication_plan_is_held_to_the_farm_too() -> None:
    # Modern Authentication signs users in through the plan's farm as passive pools do: another farm, another
    # AD FS version or no Web Application Proxy under extranet MFA matter just as much.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    plan_doc["pools"][0]["auth"] = {"external": "tls_dsk", "certificate_auth": True}
    plan_doc["modern_auth"] = {}
    assert not {c for c, _ in codes(judge(plan_doc, state))} & {
        "estate_adfs_farm_mismatch", "estate_adfs_version_mismatch", "estate_no_web_application_proxy"}
    state["adfs"]["federation_service_name"] = "sts.contoso.com"
    state["adfs"]["version"] = "2016"
    state["adfs"]["web_application_proxy"] = False
    report = judge(plan_doc, state)
    assert {("estate_adfs_farm_mismatch", "adfs.federation_service_name"), ("estate_adfs_version_mismatch", "adfs.version"),
            ("estate_no_web_application_proxy", "adfs.mfa")} <= codes(report)
    assert "OAuth server" in only(report, "estate_adfs_farm_mismatch")[0].message


def test_a_pool_passive_today_that_the_plan_sets_to_another_mode_stays_passive() -> None:
    plan_doc, state = docs("sfb2015-director-two-edges")
    assert "estate_passive_kept" not in {c for c, _ in codes(judge(plan_doc, state))}
    # The Director's own collection is passive: Set-CsWebServiceConfiguration keeps it so, whatever TLS-DSK means.
    state["web_service_configurations"][2].update(
        use_ws_fed_passive_auth=True, use_windows_auth="None", use_pin_auth=False,
        ws_fed_passive_metadata_uri="https://adfs.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml")
    found = only(judge(plan_doc, state), "estate_passive_kept")
    assert [(f.field, f.severity) for f in found] == [("pools[1].auth.external", "warning")]
    assert "service:WebServer:dir01.corp.contoso.com" in found[0].message and "TLS-DSK" in found[0].message
    assert "-UseWsFedPassiveAuth $false" in found[0].message
    # A pool whose web services the plan leaves alone (NTLM, nothing else asked) stays passive too.
    plan_doc["pools"][1]["auth"] = {"external": "ntlm"}
    assert [f.field for f in only(judge(plan_doc, state), "estate_passive_kept")] == ["pools[1].auth.external"]
    # Passive at site scope, and a collection the script creates for the pool: that one starts with passive
    # off, which estate_collection_resets says instead.
    plan_doc, state = docs("sfb2015-director-two-edges")
    state["web_service_configurations"][1].update(use_ws_fed_passive_auth=True, use_windows_auth="None")
    report = judge(plan_doc, state)
    assert "estate_passive_kept" not in {c for c, _ in codes(report)}
    assert any("UseWsFedPassiveAuth (today True, then False)" in f.message
               for f in report.findings if f.code == "estate_collection_resets")
    # ... and copies UseWindowsAuth None: the pool is left with no password sign-in at all.
    dropped = only(report, "estate_passive_dropped_windows_off")
    assert [(f.field, f.severity) for f in dropped] == [("pools[0].auth.external", "warning")]
    assert "service:WebServer:fe-dub.corp.contoso.com" in dropped[0].message and "site:Dublin" in dropped[0].message
    state["web_service_configurations"][1]["use_windows_auth"] = "Negotiate"
    assert "estate_passive_dropped_windows_off" not in {c for c, _ in codes(judge(plan_doc, state))}


def test_a_certificate_expired_or_expiring_when_the_state_was_collected_is_reported_once() -> None:
    plan_doc, state = docs("sfb2015-director-two-edges")
    assert "estate_certificate_expires" not in {c for c, _ in codes(judge(plan_doc, state))}
    # Collected 2026-11-28; the Front End's certificate (Default and WebServicesExternal) ends 2027-02-01.
    for cert in state["certificates"][:2]:
        cert["not_after"] = "2026-12-20T12:00:00Z"
    found = only(judge(plan_doc, state), "estate_certificate_expires")
    assert [(f.field, f.severity) for f in found] == [("certificates", "warning")]
    assert "Default and WebServicesExternal" in found[0].message and "2026-12-20" in found[0].message
    assert "9D1F0E2C3B4A59687766554433221100AABBCCDD" in found[0].message and "21 days after" in found[0].message
    state["certificates"][2]["not_after"] = "2026-11-01T00:00:00Z"
    found = only(judge(plan_doc, state), "estate_certificate_expires")
    assert len(found) == 2
    assert any("OAuthTokenIssuer" in f.message and "had expired on 2026-11-01" in f.message for f in found)


def test_a_farm_whose_version_the_state_file_does_not_say_is_not_taken_for_the_plans() -> None:
    # The collector writes no version for AD FS 2.1 (Windows Server 2012): no MFA rules, no access control policy.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    assert "estate_adfs_version_unknown" not in {c for c, _ in codes(judge(plan_doc, state))}
    state["adfs"]["version"] = None
    found = only(judge(plan_doc, state), "estate_adfs_version_unknown")
    assert [(f.field, f.severity) for f in found] == [("adfs.version", "warning")]
    assert "AD FS 2019" in found[0].message and "AD FS 2.1" in found[0].message


def test_a_pool_missing_from_the_topology_is_an_error_only_when_the_plan_changes_it() -> None:
    plan_doc, state = docs("sfb2015-director-two-edges")
    plan_doc["pools"][1]["fqdn"] = "dir02.corp.contoso.com"
    report = judge(plan_doc, state)
    assert ("estate_not_in_topology", "pools[1].fqdn") in codes(report, "error")
    plan_doc["pools"][1].pop("auth")
    report = judge(plan_doc, state)
    assert ("estate_topology_differs", "pools[1].fqdn") in codes(report, "warning")


def test_subscription_edition_is_said_plainly_and_is_no_mismatch() -> None:
    # An estate on Subscription Edition with a plan for 2019: the scripts work (same cmdlets), the plan should say so.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    state["product"] = "sfbse"
    report = judge(plan_doc, state)
    note = only(report, "estate_product_subscription_edition")[0]
    assert note.severity == "warning" and "Set the plan's product to Subscription Edition" in note.message
    assert not [f for f in report.findings if f.code == "estate_product_mismatch"]
    # The other way round: the collector may take Subscription Edition for 2019 (undocumented), so no error either.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    plan_doc["product"] = "sfbse"
    report = judge(plan_doc, state)
    note = only(report, "estate_product_subscription_edition")[0]
    assert note.severity == "warning" and "keep the plan as it is" in note.message
    assert not [f for f in report.findings if f.code == "estate_product_mismatch"]
    # Any other difference is still a mismatch.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    plan_doc["product"] = "sfb2015"
    assert only(judge(plan_doc, state), "estate_product_mismatch")


def test_parts_the_state_file_lacks_are_said_once_and_compared_as_unknown() -> None:
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    del state["adfs"]
    report = judge(plan_doc, state)
    assert ("estate_not_collected", "adfs") in codes(report)
    assert not [r for r in report.rows if r.kind == "relying_party"]
    only_adfs = {"format": "lync-auth-state/1", "collected_at": "2026-12-01T09:00:00Z",
                 "adfs": docs("sfb2019-adfs2019-wap")[1]["adfs"]}
    report = judge(plan_doc, only_adfs)
    assert ("estate_not_collected", "pools") in codes(report)
    assert {r.kind for r in report.rows} == {"relying_party"}
    plan_doc["mobility_policies"][0]["enable_mobility"] = True
    state = docs("sfb2019-adfs2019-wap")[1]
    del state["mobility_policies"][0]["enable_mobility"]
    row = next(r for r in judge(plan_doc, state).rows if r.setting == "EnableMobility")
    assert (row.status, row.actual) == (UNKNOWN, "not reported")


# --- one description of what a plan sets -------------------------------------------------------

@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "fixtures" / "plans").glob("*.json")), ids=lambda p: p.name)
def test_the_verification_script_expects_exactly_the_intended_settings(path: Path) -> None:
    plan, findings = assess(json.loads(path.read_text(encoding="utf-8")))
    if plan is None or any(f.severity == "error" for f in findings):
        pytest.skip("a plan with errors renders nothing")
    expected = network._expected_settings(plan)
    intended = [(c.identity, [(s.parameter, s.value) for s in c.settings]) for c in intended_collections(plan)
                if c.settings]
    flat = [(g["identity"], [(s["name"], s["value"]) for s in g["settings"]])
            for group in ("web_services", "proxies", "mobility") for g in expected[group]]
    assert flat == intended
    lync = core.lync_context(plan)
    assert [w["identity"] for w in lync["web_services"]] == \
        [c.identity for c in intended_collections(plan) if c.kind == "web_service"]


def test_every_estate_code_is_documented_with_its_severity() -> None:
    text = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    for code, severity in ESTATE_FINDING_CODES.items():
        assert re.search(rf"^\| `{code}` \| {severity} \|", text, re.MULTILINE), code


def test_a_pool_passive_today_refuses_a_modern_authentication_plan() -> None:
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    del plan_doc["pools"][0]["auth"]
    plan_doc["adfs"]["mfa"] = "none"
    plan_doc["modern_auth"] = {}
    assert not [f for f in judge(plan_doc, state).findings if f.code == "estate_passive_with_modern_auth"]
    state["web_service_configurations"][1]["use_ws_fed_passive_auth"] = True
    found = only(judge(plan_doc, state), "estate_passive_with_modern_auth")
    assert [(f.severity, f.field) for f in found] == [("error", "pools[0].auth.external")]
    assert "service:WebServer:sfbpool.corp.contoso.com" in found[0].message
    # A pool only the state file knows is named by `pools`.
    state["pools"].append({"fqdn": "other.corp.contoso.com", "role": "frontend"})
    state["web_service_configurations"][0]["use_ws_fed_passive_auth"] = True
    fields = {f.field for f in judge(plan_doc, state).findings if f.code == "estate_passive_with_modern_auth"}
    assert fields == {"pools[0].auth.external", "pools"}
    # Without Modern Authentication in the plan, passive today is no conflict.
    del plan_doc["modern_auth"]
    assert not [f for f in judge(plan_doc, state).findings if f.code == "estate_passive_with_modern_auth"]


def missing_pools(plan_doc: dict[str, Any], state_doc: dict[str, Any]) -> list[Any]:
    return [f for f in judge(plan_doc, state_doc).findings if f.code == "estate_modern_auth_pool_missing"]


def test_a_topology_pool_missing_from_a_modern_authentication_plan_is_an_error() -> None:
    # Modern Authentication is global; the AD FS trust names only the plan's pools.
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    del plan_doc["pools"][0]["auth"]
    plan_doc["adfs"]["mfa"] = "none"
    plan_doc["modern_auth"] = {}
    assert not missing_pools(plan_doc, state)
    state["pools"].append({"fqdn": "Other.corp.contoso.com", "role": "director"})
    found = only(judge(plan_doc, state), "estate_modern_auth_pool_missing")
    assert [(f.severity, f.field) for f in found] == [("error", "pools")]
    assert "other.corp.contoso.com (director) is in the topology but not in the plan" in found[0].message.lower()
    # Listed in the plan (in another case), the pool is covered.
    plan_doc["pools"].append({"fqdn": "other.corp.contoso.com", "role": "director"})
    assert not missing_pools(plan_doc, state)
    # Without Modern Authentication, a pool the plan leaves out is the admin's choice.
    plan_doc["pools"].pop()
    del plan_doc["modern_auth"]
    assert not missing_pools(plan_doc, state)


# --- MobilePreferredAuthType (optional, project field of a web service collection) ---------------------------------

def test_a_mobile_preferred_method_the_plan_turns_off_is_the_error_the_script_would_stop_on() -> None:
    plan_doc, state = docs("sfb2019-adfs2019-wap")   # pool 0 goes passive; it has its own collection today
    assert "estate_mobile_preferred_auth_refused" not in {c for c, _ in codes(judge(plan_doc, state))}
    # Named in the pool's own collection, in any case: Windows authentication goes off with passive.
    state["web_service_configurations"][1]["mobile_preferred_auth_type"] = "webticketservicewinntlm"
    found = only(judge(plan_doc, state), "estate_mobile_preferred_auth_refused")
    assert [(f.field, f.severity) for f in found] == [("pools[0].auth.external", "error")]
    assert "service:WebServer:sfbpool.corp.contoso.com" in found[0].message
    assert "-MobilePreferredAuthType None" in found[0].message
    # A method the passive pool keeps (certificates) is no error; neither is one named only in Global, which does
    # not apply while the pool has its own collection.
    state["web_service_configurations"][1]["mobile_preferred_auth_type"] = "WebTicketServiceCert"
    state["web_service_configurations"][0]["mobile_preferred_auth_type"] = "WebTicketServicePin"
    assert "estate_mobile_preferred_auth_refused" not in {c for c, _ in codes(judge(plan_doc, state))}
    # Without its own collection the pool's site collection, then Global, applies (as in the script).
    del state["web_service_configurations"][1]
    found = only(judge(plan_doc, state), "estate_mobile_preferred_auth_refused")
    assert "Global" in found[0].message and "WebTicketServicePin" in found[0].message


def test_the_advice_names_no_state_value_inside_a_command() -> None:
    # The identity is the state file's text (a site's name is free text: quotes, `;`, spaces). Written bare into the
    # advised command, a site called `Oslo East'; Remove-Item C:\ -Recurse; '` made the estate page and check_plan
    # advise a command that removes files once pasted into the Management Shell (and `Oslo East` one that fails).
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    site = "Oslo East'; Remove-Item C:\\ -Recurse; '"
    plan_doc["pools"][0]["site"] = state["pools"][0]["site"] = site
    state["sites"] = [site]
    del state["web_service_configurations"][1]
    state["web_service_configurations"].append({**state["web_service_configurations"][0], "identity": f"site:{site}",
                                                "mobile_preferred_auth_type": "WebTicketServiceWinNtlm"})
    found = only(judge(plan_doc, state), "estate_mobile_preferred_auth_refused")
    message = found[0].message
    assert f"in site:{site} (in the state file)" in message   # named, as text
    command = message[message.index("(Set-CsWebServiceConfiguration"):]
    assert "Remove-Item" not in command and "Oslo" not in command
    assert "-MobilePreferredAuthType None" in command


def test_certificate_auth_off_refuses_the_certificate_method_on_its_own_field() -> None:
    plan_doc, state = docs("sfb2019-adfs2019-wap")
    plan_doc["pools"][0]["auth"]["certificate_auth"] = False
    state["web_service_configurations"][1]["mobile_preferred_auth_type"] = "WebTicketServiceCert"
    found = only(judge(plan_doc, state), "estate_mobile_preferred_auth_refused")
    assert [f.field for f in found] == ["pools[0].auth.certificate_auth"]


def test_an_unknown_mobile_preferred_value_reads_and_is_kept() -> None:
    # A later cumulative update may add a value: the file still reads.
    _, state = docs("sfb2019-adfs2019-wap")
    state["web_service_configurations"][0]["mobile_preferred_auth_type"] = "SomeFutureMethod"
    estate, findings = read_state(state)
    assert estate is not None, findings
    assert estate.web_service("Global").mobile_preferred_auth_type == "SomeFutureMethod"


# --- an MFA promise and the topology's pools the plan does not list -------------------------------------------------

def test_a_pool_or_edge_outside_an_mfa_plan_is_the_error_the_script_would_stop_on() -> None:
    plan_doc, state = docs("sfb2019-adfs2019-wap")   # extranet MFA; the plan lists the whole topology
    assert "estate_mfa_topology_outside_plan" not in {c for c, _ in codes(judge(plan_doc, state))}
    # A second pool and Edge whose settings the state file shows keeping the promise still stop the script.
    state["pools"].append({"fqdn": "sfbpool2.corp.contoso.com", "role": "frontend", "site": "Oslo"})
    state["edge_pools"].append({"fqdn": "sfbedge2.corp.contoso.com"})
    found = {f.field: f for f in only(judge(plan_doc, state), "estate_mfa_topology_outside_plan")}
    assert sorted(found) == ["edge_pools", "pools"] and {f.severity for f in found.values()} == {"error"}
    assert "sfbpool2.corp.contoso.com" in found["pools"].message
    assert "Edge pool sfbedge2.corp.contoso.com" in found["edge_pools"].message
    for f in found.values():   # the way on in the web wizard too, not only in the plan file
        assert 'In the web wizard: the Environment step, or "Accepted risks" on the Review step.' in f.message
    # Accepting the risk is what lets the script go on, so the finding goes with it.
    plan_doc["accepted_risks"] = [
        {"code": "mfa_web_password_open", "field": "pools", "reason": "The second pool moves in phase 2"},
        {"code": "mfa_edge_password_open", "field": "edge_pools", "reason": "The second Edge is retired in May"}]
    assert "estate_mfa_topology_outside_plan" not in {c for c, _ in codes(judge(plan_doc, state))}
    # Without an MFA promise the script checks nothing of the kind.
    plan_doc, _ = docs("sfb2019-adfs2019-wap")
    plan_doc["adfs"]["mfa"] = "none"
    assert "estate_mfa_topology_outside_plan" not in {c for c, _ in codes(judge(plan_doc, state))}
