"""Issue 11: the security outcome the plan promises is delivered, or the plan is refused naming the field.

One test (or a few) per item of the issue, each failing on the code before the fix, then the accepted
risks, the exposure matrix in the findings and check_plan --json, and the issue 14 items that are findings.
"""
from __future__ import annotations

import copy
import io
import json
import re
from typing import Any

import pytest
from django.core.management import call_command

from tests.test_examples_bundle import find_command, parse_commands
from wizard.plan.engine import assess
from wizard.plan.finding import Finding, has_errors
from wizard.plan.findings import acceptable_errors, check_plan, may_accept
from wizard.plan.model import PlanData
from wizard.plan.reader import read_plan
from wizard.plan.writer import dumps_plan, plan_to_dict
from wizard.scripts.bundle import PlanRejected, Source, build_bundle
from wizard.scripts.rendering import harmless_twin, render_all

PASSIVE_MFA: dict[str, Any] = {
    "format": "lync-auth-plan/1",
    "name": "passive with MFA",
    "product": "sfb2019",
    "sip_domains": ["contoso.com"],
    "pools": [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
               "auth": {"external": "passive", "block_ntlm_at_registrar": True}}],
    "edge_pools": [{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com", "block_ntlm": True}],
    "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2016", "mfa": "extranet"},
}


def doc_with(change=None, **top: Any) -> dict[str, Any]:
    doc = copy.deepcopy(PASSIVE_MFA)
    doc.update(copy.deepcopy(top))
    if change is not None:
        change(doc)
    return doc


def findings_of(doc: dict[str, Any]) -> list[Finding]:
    plan, findings = assess(copy.deepcopy(doc))
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return findings


def plan_of(doc: dict[str, Any]) -> PlanData:
    plan, findings = read_plan(copy.deepcopy(doc))
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return plan


def errors(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f.code, f.field) for f in findings_of(doc) if f.severity == "error"}


def scripts_of(doc: dict[str, Any]) -> dict[str, str]:
    return render_all(plan_of(doc))


def test_the_passive_mfa_base_plan_keeps_its_promises() -> None:
    assert errors(PASSIVE_MFA) == set()
    plan = plan_of(PASSIVE_MFA)
    build_bundle(plan, source=Source.for_plan(plan))


# ---------------------------------------------------------------------------
# 1. MFA while the Edge or the Registrar still takes NTLM/Kerberos; no Edge at all


def test_1_mfa_with_an_edge_that_keeps_ntlm_is_refused_naming_block_ntlm() -> None:
    doc = doc_with(lambda d: d["edge_pools"][0].update(block_ntlm=False))
    assert ("mfa_edge_password_open", "edge_pools[0].block_ntlm") in errors(doc)
    plan = plan_of(doc)
    with pytest.raises(PlanRejected) as refused:
        build_bundle(plan, source=Source.for_plan(plan))
    message = next(f.message for f in refused.value.errors if f.code == "mfa_edge_password_open")
    assert "SIP sign-in at Edge edge.contoso.com" in message and "edge_pools[0].block_ntlm" in message


def test_1_an_edge_block_that_verify_external_cannot_probe_warns_naming_the_access_fqdn() -> None:
    """block_ntlm promises no NTLM or Kerberos at that Edge; the promise is checked from the Internet by an
    unauthenticated SIP REGISTER to the Access Edge FQDN. Without that name there is no probe at all."""
    doc = doc_with(lambda d: d["edge_pools"][0].pop("access_fqdn"))
    text = scripts_of(doc)["verify-external.ps1"]
    assert "Kerberos" not in text.partition("$SipProbes = @(")[2].partition("\n)")[0]
    [finding] = [f for f in findings_of(doc) if f.code == "edge_block_not_probed"]
    assert (finding.severity, finding.field) == ("warning", "edge_pools[0].access_fqdn")
    assert "edge.contoso.com" in finding.message and "verify-external.ps1" in finding.message
    # With the name, the SIP probe is there and nothing warns.
    assert not [f for f in findings_of(doc_with()) if f.code == "edge_block_not_probed"]
    # An Edge that keeps NTLM promises nothing to probe.
    kept = doc_with(lambda d: (d["edge_pools"][0].pop("access_fqdn"), d["edge_pools"][0].update(block_ntlm=False)))
    assert not [f for f in findings_of(kept) if f.code == "edge_block_not_probed"]


def test_1_mfa_with_a_registrar_that_keeps_ntlm_is_refused_naming_the_registrar_field() -> None:
    doc = doc_with(lambda d: d["pools"][0]["auth"].update(block_ntlm_at_registrar=False))
    assert ("mfa_registrar_password_open", "pools[0].auth.block_ntlm_at_registrar") in errors(doc)


def test_1_mfa_without_any_edge_in_the_plan_is_refused_naming_edge_pools() -> None:
    doc = doc_with(lambda d: d.pop("edge_pools"))
    found = errors(doc)
    assert ("mfa_edge_not_in_plan", "edge_pools") in found


# ---------------------------------------------------------------------------
# 2. Passive with MFA on a Director while users are homed on a TLS-DSK or NTLM pool


@pytest.mark.parametrize("mode", ["tls_dsk", "ntlm"])
def test_2_a_passive_director_before_a_password_pool_is_refused_through_certprov(mode: str) -> None:
    def director(d: dict[str, Any]) -> None:
        d["pools"] = [
            {"fqdn": "fe01.contoso.com", "external_web_fqdn": "webfe.contoso.com",
             "auth": {"external": mode, "block_ntlm_at_registrar": mode == "tls_dsk"}},
            {"fqdn": "dir01.contoso.com", "role": "director", "external_web_fqdn": "webdir.contoso.com",
             "auth": {"external": "passive", "block_ntlm_at_registrar": True}},
        ]
    found = findings_of(doc_with(director))
    certificate = [f for f in found if f.code == "mfa_certificate_by_password"]
    assert [(f.severity, f.field) for f in certificate] == [("error", "pools[0].auth.external")]
    assert "CertProv of fe01.contoso.com" in certificate[0].message
    assert "TLS-DSK" in certificate[0].message


# ---------------------------------------------------------------------------
# 3. AD FS through the plain reverse proxy with extranet MFA


def test_3_extranet_mfa_through_the_plain_reverse_proxy_is_an_error() -> None:
    doc = doc_with(lambda d: d["adfs"].update(published_on_reverse_proxy=True))
    found = [f for f in findings_of(doc) if f.code == "mfa_adfs_not_extranet"]
    assert [(f.severity, f.field) for f in found] == [("error", "adfs.published_on_reverse_proxy")]
    assert "Web Application Proxy" in found[0].message and "insidecorporatenetwork" in found[0].message


def test_3_the_plain_reverse_proxy_error_names_the_password_sign_in_at_adfs_itself_first() -> None:
    """The direct path (a password typed at AD FS, which never asks for the second factor) leads the message;
    the certificates obtained through it follow."""
    doc = doc_with(lambda d: d["adfs"].update(published_on_reverse_proxy=True))
    [finding] = [f for f in findings_of(doc) if f.code == "mfa_adfs_not_extranet"]
    shown = finding.message.partition(", but ")[2]
    assert shown.startswith("AD FS adfs.contoso.com: an AD FS sign-in (forms) works"), shown[:120]
    assert "AD FS adfs.contoso.com: Windows integrated sign-in at AD FS (NTLM/Kerberos) works" in shown


def test_3_always_mfa_through_the_plain_reverse_proxy_warns_about_windows_sign_in() -> None:
    doc = doc_with(lambda d: d["adfs"].update(published_on_reverse_proxy=True, mfa="always"))
    found = {f.code: f for f in findings_of(doc)}
    assert "mfa_adfs_not_extranet" not in found
    assert found["adfs_windows_auth_on_internet"].severity == "warning"


# ---------------------------------------------------------------------------
# 4. UsePinAuth off on passive pools


def test_4_passive_pools_turn_pin_authentication_off_and_the_rollback_restores_it() -> None:
    scripts = scripts_of(PASSIVE_MFA)
    identity = "service:WebServer:pool01.contoso.com"
    for cmdlet in ("New-CsWebServiceConfiguration", "Set-CsWebServiceConfiguration"):
        assert find_command(f"{cmdlet} -Identity '{identity}' -UseWsFedPassiveAuth $true -UsePinAuth $false",
                            {"lync-management-shell.ps1": scripts["lync-management-shell.ps1"]})
    assert "'UsePinAuth' = $false" in scripts["verify-internal.ps1"]
    assert "$UsePinAuth = [bool]$Saved.UsePinAuth" in scripts["rollback-lync.ps1"]
    assert "passive_pin_auth_off" in {f.code for f in findings_of(PASSIVE_MFA)}


# ---------------------------------------------------------------------------
# 5. UseCertificateForClientToProxyAuth set explicitly wherever NTLM and Kerberos go off


def test_5_every_proxy_block_turns_certificate_sign_in_on_explicitly() -> None:
    scripts = scripts_of(PASSIVE_MFA)
    lync = scripts["lync-management-shell.ps1"]
    blocks = [c for c in parse_commands(lync) if c.name in ("new-csproxyconfiguration", "set-csproxyconfiguration")]
    assert len(blocks) == 4      # New and Set, for the Registrar and the Edge
    for command in blocks:
        assert command.get("UseCertificateForClientToProxyAuth") == "$true", command.text
        assert command.get("UseNtlmForClientToProxyAuth") == "$false"
    assert "UseCertifcate" not in "".join(scripts.values())
    assert "'UseCertificateForClientToProxyAuth' = $true" in scripts["verify-internal.ps1"]
    assert "-UseCertificateForClientToProxyAuth $UseCertificateForClientToProxyAuth" in scripts["rollback-lync.ps1"]


# ---------------------------------------------------------------------------
# 6. New site/tag policies and new service collections start from defaults


MOBILITY = [
    {"identity": "Global", "allow_save_credentials": False, "allow_exchange_connectivity": False},
    {"identity": "site:Redmond", "enable_mobility": True},
    {"identity": "Tag:Sales", "allow_save_im_history": False},
]


def test_6_a_new_site_or_tag_policy_carries_the_global_hardening() -> None:
    doc = doc_with(lambda d: d["pools"][0].update(site="Redmond"), mobility_policies=MOBILITY)
    lync = scripts_of(doc)["lync-management-shell.ps1"]
    news = {c.get("Identity"): c for c in parse_commands(lync) if c.name == "new-csmobilitypolicy"}
    for identity in ("site:Redmond", "Tag:Sales"):
        assert news[identity].get("AllowSaveCredentials") == "$false", identity
        assert news[identity].get("AllowExchangeConnectivity") == "$false", identity
    # An existing policy is only changed where the plan names a setting.
    sets = {c.get("Identity"): c for c in parse_commands(lync) if c.name == "set-csmobilitypolicy"}
    assert not sets["site:Redmond"].has("AllowSaveCredentials")


def test_6_new_policies_warn_and_a_tag_policy_is_never_granted_silently() -> None:
    doc = doc_with(lambda d: d["pools"][0].update(site="Redmond"), mobility_policies=MOBILITY)
    found = findings_of(doc)
    defaults = [f for f in found if f.code == "mobility_new_policy_defaults"]
    assert [(f.severity, f.field) for f in defaults] == [("warning", "mobility_policies[1].identity"),
                                                         ("warning", "mobility_policies[2].identity")]
    assert "AllowSaveCredentials $false" in defaults[0].message
    granted = [f for f in found if f.code == "mobility_tag_not_granted"]
    assert [(f.severity, f.field) for f in granted] == [("warning", "mobility_policies[2].identity")]
    assert "Grant-CsMobilityPolicy" in granted[0].message
    plan = plan_of(doc)
    runbook = build_bundle(plan, source=Source.for_plan(plan)).texts["runbook.md"]
    section = runbook[runbook.index("## After the scripts: grant the per-user mobility policies"):]
    assert "Grant-CsMobilityPolicy -Identity <user> -PolicyName <policy name>" in section
    assert "- Policy name: Sales\n" in section


def test_6_the_grant_advice_puts_no_tag_name_inside_a_command() -> None:
    # A tag's name is free text, quotes included: written between ASCII quotes in the advised command (undoubled),
    # the tag `x'; Remove-Item C:\\ -Recurse; '` made the warning, on the review page and in the runbook, advise
    # `Grant-CsMobilityPolicy -Identity <user> -PolicyName 'x'; Remove-Item C:\\ -Recurse; ''`.
    tag = "x'; Remove-Item C:\\ -Recurse; '"
    doc = doc_with(lambda d: None, mobility_policies=[{"identity": f"Tag:{tag}", "allow_save_im_history": False}])
    granted = [f for f in findings_of(doc) if f.code == "mobility_tag_not_granted"]
    assert len(granted) == 1
    message = granted[0].message
    assert f"per-user mobility policy Tag:{tag} " in message   # named, as text
    command = message[message.index("Grant-CsMobilityPolicy"):message.index(" with the policy name")]
    assert command == "Grant-CsMobilityPolicy -Identity <user> -PolicyName <policy name>"


def test_6_new_service_collections_copy_the_collection_that_applied_until_then() -> None:
    doc = doc_with(lambda d: d["pools"].append(
        {"fqdn": "pool02.contoso.com", "site": "Dublin", "auth": {"external": "tls_dsk"}}), accepted_risks=[
        {"code": "mfa_web_password_open", "field": "pools[1].auth.external", "reason": "pilot"},
        {"code": "mfa_certificate_by_password", "field": "pools[1].auth.external", "reason": "pilot"},
        {"code": "mfa_registrar_password_open", "field": "pools[1].auth.block_ntlm_at_registrar", "reason": "pilot"},
    ])
    lync = scripts_of(doc)["lync-management-shell.ps1"]
    branch = lync[lync.index("if (-not (Get-CsWebServiceConfiguration -Identity 'service:WebServer:pool02.contoso.com'"):]
    # The collection that applied until then: the site the topology gives the pool (read at run time), else Global.
    assert branch.index("$Parent = Get-AppliedWebServiceConfiguration -Pool 'pool02.contoso.com'") < \
        branch.index("New-CsWebServiceConfiguration")
    [new] = [c for c in parse_commands(branch) if c.name == "new-cswebserviceconfiguration"][:1]
    assert new.get("UseWindowsAuth") == "$Parent.UseWindowsAuth"
    assert new.get("UsePinAuth") == "$Parent.UsePinAuth"
    assert new.get("UseCertificateAuth") == "$true"         # the plan's own value, not copied
    proxies = [c for c in parse_commands(lync) if c.name == "new-csproxyconfiguration"]
    assert proxies and all(c.get("TreatAllClientsAsRemote") == "$Parent.TreatAllClientsAsRemote" for c in proxies)
    assert "$Parent = Get-CsProxyConfiguration -Identity 'Global'" in lync


# ---------------------------------------------------------------------------
# 7. block_ntlm_at_registrar on an NTLM pool: refused, never dropped


def test_7_an_ntlm_pool_that_blocks_its_registrar_is_refused() -> None:
    doc = {"format": "lync-auth-plan/1", "name": "ntlm", "product": "sfb2015", "sip_domains": ["contoso.com"],
           "pools": [{"fqdn": "pool01.contoso.com", "auth": {"external": "ntlm", "block_ntlm_at_registrar": True}}]}
    found = [f for f in findings_of(doc) if f.code == "registrar_block_on_ntlm_pool"]
    assert [(f.severity, f.field) for f in found] == [("error", "pools[0].auth.block_ntlm_at_registrar")]
    assert "registrar_ntlm_blocked" not in {f.code for f in findings_of(doc)}
    assert may_accept(found[0]) is False


# ---------------------------------------------------------------------------
# 8. Lync Server 2013 passive needs a cumulative update: checked before the first change


def test_8_lync_2013_passive_checks_use_ws_fed_passive_auth_before_any_change() -> None:
    doc = doc_with(product="lync2013")
    lync = scripts_of(doc)["lync-management-shell.ps1"]
    first_change = lync.index("Write-Step -Message 'Backing up the settings")
    for cmdlet in ("Set-CsWebServiceConfiguration", "New-CsWebServiceConfiguration"):
        check = f"if (-not (Get-Command -Name '{cmdlet}').Parameters.ContainsKey('UseWsFedPassiveAuth')) {{"
        assert -1 < lync.index(check) < first_change
    assert ("warning", "passive_needs_cu") in {(f.severity, f.code) for f in findings_of(doc)}
    assert "ContainsKey('UseWsFedPassiveAuth')" not in scripts_of(PASSIVE_MFA)["lync-management-shell.ps1"]


# ---------------------------------------------------------------------------
# 9. AD FS trusts matched by identifier


def test_9_trusts_are_found_by_identifier_and_a_name_for_another_identifier_stops_the_script() -> None:
    scripts = scripts_of(PASSIVE_MFA)
    adfs, rollback = scripts["adfs-server.ps1"], scripts["rollback-adfs.ps1"]
    first_change = adfs.index("Write-Step -Message 'Backing up")
    for trust in ("Lync-Int-pool01", "Lync-Ext-pool01"):
        assert adfs.index(f"$Identifiers['{trust}'] = Get-TrustIdentifier -Name '{trust}' -Url ") < first_change
        assert f"if (-not (Get-AdfsRelyingPartyTrust -Identifier $Identifiers['{trust}']" in adfs
    assert "throw ('A relying party trust called '" in adfs
    # The rollback restores the trust that was saved, by its identifier (never by a name).
    restores = [c for c in parse_commands(rollback) if c.name == "set-adfsrelyingpartytrust"]
    assert restores and all(c.get("TargetIdentifier") == "$SavedId" and not c.has("TargetName")
                            for c in restores)


# ---------------------------------------------------------------------------
# 10. Certificates from an internal enterprise CA


def test_10_an_online_ca_warns_for_the_edge_and_the_proxy_request_names_a_template() -> None:
    doc = doc_with(certificates={"ca": "ca01.contoso.com\\Contoso Issuing CA"})
    found = [f for f in findings_of(doc) if f.code == "edge_certificate_internal_ca"]
    assert [(f.severity, f.field) for f in found] == [("warning", "certificates.ca")]
    assert "public CA" in found[0].message
    inf = scripts_of(doc)["reverse-proxy-certificate.inf"]
    assert re.search(r"^\[RequestAttributes\]\n(?:;[^\n]*\n)*CertificateTemplate = WebServer$", inf, re.MULTILINE)
    assert "CertificateTemplate" not in scripts_of(PASSIVE_MFA)["reverse-proxy-certificate.inf"]
    assert "edge_certificate_internal_ca" not in {f.code for f in findings_of(PASSIVE_MFA)}


# ---------------------------------------------------------------------------
# Accepted risks


RISK = {"code": "mfa_edge_password_open", "field": "edge_pools[0].block_ntlm",
        "reason": "Mac clients sign in through this Edge until June"}


def test_an_accepted_error_becomes_a_warning_that_says_so() -> None:
    doc = doc_with(lambda d: d["edge_pools"][0].update(block_ntlm=False), accepted_risks=[RISK])
    found = findings_of(doc)
    assert not has_errors(found)
    [accepted] = [f for f in found if f.code == "mfa_edge_password_open"]
    assert accepted.severity == "warning" and accepted.field == "edge_pools[0].block_ntlm"
    assert accepted.message.startswith("accepted: Mac clients sign in through this Edge until June. The plan promises")
    plan = plan_of(doc)
    runbook = build_bundle(plan, source=Source.for_plan(plan), findings=found).texts["runbook.md"]
    section = runbook[runbook.index("## Accepted risks"):runbook.index("## Findings")]
    assert "- **edge\\_pools\\[0\\].block\\_ntlm** (mfa\\_edge\\_password\\_open): Mac clients sign in" in section


def test_an_accepted_risk_that_matches_nothing_warns() -> None:
    found = findings_of(doc_with(accepted_risks=[RISK]))
    [unused] = [f for f in found if f.code == "accepted_risk_unused"]
    assert (unused.severity, unused.field) == ("warning", "accepted_risks[0]")


def test_accepted_risks_are_part_of_the_plan_document() -> None:
    plan = plan_of(doc_with(accepted_risks=[RISK]))
    assert plan_to_dict(plan)["accepted_risks"] == [RISK]
    again, _ = read_plan(json.loads(dumps_plan(plan)))
    assert again == plan
    assert "accepted_risks" not in plan_to_dict(plan_of(PASSIVE_MFA))
    # The harmless twin keeps the code and field (conditions depend on them) and replaces the reason.
    twin = harmless_twin(plan)
    assert (twin.accepted_risks[0].code, twin.accepted_risks[0].field) == (RISK["code"], RISK["field"])
    assert twin.accepted_risks[0].reason != RISK["reason"]


@pytest.mark.parametrize(("entry", "path", "code"), [
    ({**RISK, "code": "duplicate_name"}, "accepted_risks[0].code", "invalid_choice"),
    ({**RISK, "code": "edge_block_not_kept"}, "accepted_risks[0].code", "invalid_choice"),
    ({**RISK, "field": "edge_pools[0].block ntlm"}, "accepted_risks[0].field", "invalid_field_path"),
    ({**RISK, "field": "$(calc)"}, "accepted_risks[0].field", "invalid_field_path"),
    ({**RISK, "reason": "x" * 501}, "accepted_risks[0].reason", "invalid_text"),
    ({**RISK, "reason": "line\nbreak"}, "accepted_risks[0].reason", "invalid_text"),
    ({"code": RISK["code"], "field": RISK["field"]}, "accepted_risks[0].reason", "required"),
    ({**RISK, "extra": 1}, "accepted_risks[0].extra", "unknown_field"),
])
def test_the_reader_validates_each_accepted_risk_by_its_path(entry: dict[str, Any], path: str, code: str) -> None:
    plan, findings = read_plan(doc_with(accepted_risks=[entry]))
    assert plan is None
    assert (code, path) in {(f.code, f.field) for f in findings if f.severity == "error"}


def test_the_same_risk_accepted_twice_is_refused() -> None:
    plan, findings = read_plan(doc_with(accepted_risks=[RISK, RISK]))
    assert plan is None and ("duplicate", "accepted_risks[1].field") in {(f.code, f.field) for f in findings}


def test_the_ui_is_offered_only_the_errors_that_may_be_accepted() -> None:
    doc = doc_with(lambda d: d["edge_pools"][0].update(block_ntlm=False, av_fqdn="sip.contoso.com"))
    doc["pools"][0]["external_web_fqdn"] = "sip.contoso.com"   # a name used twice: never acceptable
    plan, found = assess(doc)
    assert plan is not None
    offered = {(f.code, f.field) for f in acceptable_errors(found)}
    assert ("mfa_edge_password_open", "edge_pools[0].block_ntlm") in offered
    assert not {code for code, _ in offered} & {"duplicate_name"}
    assert all(f.code.startswith("mfa_") for f in acceptable_errors(found))


# ---------------------------------------------------------------------------
# The matrix in check_plan --json, the runbook and the picture


def test_check_plan_json_carries_the_exposure_matrix(tmp_path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PASSIVE_MFA), encoding="utf-8")
    out = io.StringIO()
    call_command("check_plan", str(path), "--json", stdout=out)
    rows = {(f["code"], f["field"]): f for f in json.loads(out.getvalue())}
    edge = rows[("exposure_edge_sip", "edge_pools[0].block_ntlm")]
    assert edge["severity"] == "info"
    assert "NTLM: as today (unknown), perhaps with a password alone \u2192 closed" in edge["message"]
    assert ("exposure_registrar", "pools[0].auth.block_ntlm_at_registrar") in rows
    assert ("exposure_web_services", "pools[0].auth.external") in rows
    assert ("exposure_adfs", "adfs.mfa") in rows
    assert ("exposure_certificate", "pools[0].auth.external") in rows


def test_the_runbook_links_the_picture_and_holds_the_matrix() -> None:
    plan = plan_of(PASSIVE_MFA)
    bundle = build_bundle(plan, source=Source.for_plan(plan))
    runbook = bundle.texts["runbook.md"]
    assert "[exposure.svg](exposure.svg)" in runbook
    assert "| SIP sign-in at Edge edge.contoso.com (sip.contoso.com) | Access Edge | users of every pool | a password over " \
           "NTLM | as today (unknown), perhaps with a password alone | closed |" in runbook
    # The matrix notes are the table: not listed again among the notes.
    assert "exposure\\_edge\\_sip" not in runbook and "From the Internet, SIP sign-in" not in runbook
    svg = bundle.texts["exposure.svg"]
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert not re.search(r"<script|style=|<style|href=|\bon[a-z]+=", svg)
    assert "exposure.svg" in bundle.texts["SHA256SUMS"]


# ---------------------------------------------------------------------------
# Issue 14: certificate lifetimes on the field each rule concerns; real risks are warnings


def _hours(hours: dict[str, Any]) -> set[tuple[str, str]]:
    doc = {"format": "lync-auth-plan/1", "name": "h", "product": "sfb2019", "sip_domains": ["contoso.com"],
           "pools": [{"fqdn": "p.contoso.com", "auth": {"external": "tls_dsk", "client_certificate_hours": hours}}]}
    plan, findings = read_plan(doc)
    assert plan is None
    return {(f.field.rpartition(".")[2], f.code) for f in findings if f.severity == "error"}


def test_min_above_max_is_reported_on_both() -> None:
    assert _hours({"default": 100, "min": 200, "max": 100}) == {("min", "lifetime_order"), ("max", "lifetime_order")}


def test_a_default_outside_min_and_max_is_reported_on_the_default() -> None:
    assert _hours({"default": 4000, "min": 8, "max": 720}) == {("default", "lifetime_order")}


def test_a_default_alone_says_why_min_and_max_are_needed() -> None:
    doc = {"format": "lync-auth-plan/1", "name": "h", "product": "sfb2019", "sip_domains": ["contoso.com"],
           "pools": [{"fqdn": "p.contoso.com", "auth": {"external": "tls_dsk",
                                                        "client_certificate_hours": {"default": 720}}}]}
    _, findings = read_plan(doc)
    by_field = {f.field: f.message for f in findings if f.severity == "error"}
    assert set(by_field) == {"pools[0].auth.client_certificate_hours.min",
                             "pools[0].auth.client_certificate_hours.max"}
    assert all(m.startswith("is needed with default: the tool sets the three lifetimes together") for m in
               by_field.values())


def test_the_must_warn_risks_of_the_examples_are_warnings() -> None:
    s02 = {"format": "lync-auth-plan/1", "name": "s02", "product": "sfb2015", "sip_domains": ["fabrikam.com"],
           "pools": [{"fqdn": "sfbpool01.fabrikam.com", "external_web_fqdn": "sfbweb.fabrikam.com",
                      "auth": {"external": "tls_dsk", "client_certificate_hours": {"default": 720, "min": 8,
                                                                                   "max": 720}}}],
           "edge_pools": [{"fqdn": "sfbedge.fabrikam.com", "block_ntlm": True}]}
    severity = {f.code: f.severity for f in check_plan(plan_of(s02))}
    assert severity["tls_dsk_first_certificate"] == "warning"
    assert severity["tls_dsk_certificate_lifetime"] == "warning"
    assert {f.code: f.severity for f in check_plan(plan_of(PASSIVE_MFA))}["passive_relying_party_metadata"] == \
        "warning"
