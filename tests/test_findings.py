"""The findings engine: each rule fires when its condition holds and stays quiet otherwise. No database."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.plan.drift import ESTATE_FINDING_CODES
from wizard.plan.exposure import BROKEN_PROMISE_CODES
from wizard.plan.finding import SEVERITIES, Finding
from wizard.plan.findings import (
    EXPOSURE_CODES,
    FINDING_CODES,
    RULES,
    check_plan,
)
from wizard.plan.impact import CLIENTS, STATES, client_impact
from wizard.plan.model import FORMAT, LYNC2013_CU_MOBILITY_SETTINGS, MOBILITY_SETTINGS, PlanData
from wizard.plan.reader import read_plan

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_PLANS = sorted((FIXTURES / "findings").glob("*.json")) + sorted((FIXTURES / "plans").glob("*.json"))


def make_plan(*pools: dict, **top) -> PlanData:
    """Return a read plan: one pool per argument (a plain NTLM-free pool when none is given)."""
    doc = {
        "format": FORMAT,
        "name": "Test plan",
        "product": "sfb2015",
        "sip_domains": ["contoso.com"],
        "pools": list(pools) or [pool()],
    }
    doc.update(copy.deepcopy(top))
    plan, findings = read_plan(doc)
    assert plan is not None, findings
    return plan


def pool(fqdn: str = "pool01.contoso.com", external: str | None = None, **fields) -> dict:
    """Return a pool document; `external` sets auth.external, `auth` adds more auth keys."""
    d: dict = {"fqdn": fqdn, "external_web_fqdn": "web-" + fqdn, **fields}
    if external is not None:
        d["auth"] = {"external": external, **d.get("auth", {})}
    return d


ADFS = {"federation_service_name": "adfs.contoso.com", "version": "2012r2"}


def adfs(**changes) -> dict:
    return {**ADFS, **changes}


def passive_plan(*extra_pools: dict, cert: bool = True, **top) -> PlanData:
    top.setdefault("adfs", ADFS)
    return make_plan(pool(external="passive", auth={"certificate_auth": cert}), *extra_pools, **top)


def of(plan: PlanData, code: str) -> list[Finding]:
    return [f for f in check_plan(plan) if f.code == code]


def codes(plan: PlanData) -> set[str]:
    return {f.code for f in check_plan(plan)}


def load_fixture(path: Path) -> PlanData:
    plan, findings = read_plan(json.loads(path.read_text(encoding="utf-8")))
    assert plan is not None, findings
    return plan


# ---------------------------------------------------------------------------
# The engine as a whole


def test_every_rule_says_what_it_checks():
    for rule in RULES:
        first_line = (rule.__doc__ or "").strip().splitlines()[0] if rule.__doc__ else ""
        assert len(first_line) > 20, rule.__name__


@pytest.mark.parametrize("path", FIXTURE_PLANS, ids=lambda p: p.name)
def test_findings_use_registered_codes_severities_and_clean_paths(path):
    findings = check_plan(load_fixture(path))
    assert findings
    for f in findings:
        if f.message.startswith("accepted: "):
            # An accepted error keeps its code and becomes a warning (accepted risks).
            assert (FINDING_CODES[f.code], f.severity) == ("error", "warning")
        else:
            assert FINDING_CODES[f.code] == f.severity
        assert f.severity in SEVERITIES
        assert re.fullmatch(r"[a-z][a-z0-9_]*", f.code)
        assert f.field and '""' not in f.field and not f.field.startswith(".")
        # Plan keys are lowercase words (`office2013_clients` holds digits).
        assert re.fullmatch(r"[a-z_][a-z0-9_]*(\[\d+\])?(\.[a-z_][a-z0-9_]*(\[\d+\])?)*", f.field), f.field
        assert f.message.strip() == f.message and len(f.message) > 40
        assert not re.search(r"\bwe\b", f.message, re.IGNORECASE), f.message


@pytest.mark.parametrize("path", FIXTURE_PLANS, ids=lambda p: p.name)
def test_check_plan_is_deterministic_and_in_rule_order(path):
    plan = load_fixture(path)
    first = check_plan(plan)
    assert first == check_plan(load_fixture(path))
    rule_of = {}
    for index, rule in enumerate(RULES):
        for f in rule(plan):
            rule_of.setdefault(f.code, index)
    # After the rules: the exposure model's broken promises, its matrix notes, then unused accepted risks.
    for group, tail in enumerate((BROKEN_PROMISE_CODES, EXPOSURE_CODES, ("accepted_risk_unused",))):
        for code in tail:
            rule_of[code] = len(RULES) + group
    positions = [rule_of[f.code] for f in first]
    assert positions == sorted(positions)


def test_mixed_fixture_fires_a_broad_set_of_rules():
    found = codes(load_fixture(FIXTURES / "findings" / "mixed-pools.json"))
    # More than half of all codes from one plan: the fixture exercises most rules together.
    assert len(found) > len(FINDING_CODES) / 2


def test_reader_findings_are_not_repeated():
    assert "adfs_required" not in FINDING_CODES
    assert "fqdn_normalised" not in FINDING_CODES
    assert "scope_prefix_stripped" not in FINDING_CODES


def test_docs_table_lists_every_code_with_its_severity():
    text = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z][a-z0-9_]*)` \| (error|warning|info) \|", text, re.MULTILINE))
    # The same page documents the findings that need a state file (wizard.plan.drift).
    assert rows == {**FINDING_CODES, **ESTATE_FINDING_CODES}


def test_a_plan_without_auth_changes_gets_no_findings():
    plan = make_plan({"fqdn": "pool01.contoso.com"}, product="sfbse")
    assert check_plan(plan) == []
    # On a product out of support, that is the only thing to say.
    plan = make_plan({"fqdn": "pool01.contoso.com"})
    assert [f.code for f in check_plan(plan)] == ["product_out_of_support"]


# ---------------------------------------------------------------------------
# Passive pools


def test_passive_pool_wide_is_reported_for_each_passive_pool_only():
    plan = passive_plan(pool("pool02.contoso.com", external="passive"), pool("pool03.contoso.com", external="ntlm"))
    found = of(plan, "passive_pool_wide")
    assert [f.field for f in found] == ["pools[0].auth.external", "pools[1].auth.external"]
    assert "every user" in found[0].message and "pool01.contoso.com" in found[0].message


def test_non_passive_plans_get_no_passive_findings():
    plan = make_plan(pool(external="tls_dsk"), pool("pool02.contoso.com", external="ntlm"))
    assert not {c for c in codes(plan) if c.startswith("passive_")}


def test_passive_unsupported_clients_names_each_client_family():
    (f,) = of(passive_plan(), "passive_unsupported_clients")
    assert f.severity == "warning"
    for word in ("Lync for Mac", "Lync 2010", "Lync Phone Edition", "3PIP", "room systems", "Android",
                 "15.0.4517", "5.2"):
        assert word in f.message
    # No Mac client signs in through AD FS: the one an estate runs today is Skype for Business on Mac.
    assert "Mac clients" in f.message and "Skype for Business on Mac" in f.message


def test_passive_exchange_features_lost_tells_to_roll_back_ucs():
    (f,) = of(passive_plan(), "passive_exchange_features_lost")
    for word in ("Unified Contact Store", "Exchange", "Invoke-CsUcsRollback", "conversation history"):
        assert word in f.message


def test_passive_exchange_features_lost_on_a_director_names_who_signs_in_through_it():
    # A Director homes no users: "Users of <director>" would name nobody. Those who lose the Exchange features are
    # the users of every pool who sign in through it.
    plan = passive_plan(pool("dir01.contoso.com", external="passive", role="director"))
    found = {f.field: f.message for f in of(plan, "passive_exchange_features_lost")}
    assert found["pools[0].auth.external"].startswith("Users of pool01.contoso.com lose the features")
    director = found["pools[1].auth.external"]
    assert "Users of dir01.contoso.com" not in director
    assert "dir01.contoso.com is a Director and homes no users" in director
    assert "the users of every pool who sign in through it" in director
    assert "Invoke-CsUcsRollback" in director


def test_passive_certificate_auth_kept_says_the_docs_disagree():
    plan = passive_plan(cert=True)
    (f,) = of(plan, "passive_certificate_auth_kept")
    assert f.field == "pools[0].auth.certificate_auth"
    assert "Microsoft's documentation disagrees" in f.message
    assert "UseCertificateAuth $false" in f.message and "mobile" in f.message
    assert not of(plan, "passive_certificate_auth_off")


def test_passive_certificate_auth_off_says_mobile_loses_certprov_certificates():
    plan = passive_plan(cert=False)
    (f,) = of(plan, "passive_certificate_auth_off")
    assert "Microsoft's documentation disagrees" in f.message
    assert "CertProv" in f.message and "mobile" in f.message
    assert not of(plan, "passive_certificate_auth_kept")
    # The scripts keep certificate sign-in on at the Edge and the Registrar: only the web services stop taking
    # the certificates already issued.
    assert "the web services stop accepting the certificates already issued" in f.message
    assert "the Edge and the Registrar keep accepting them until they expire" in f.message


def test_an_mfa_promise_warns_that_certificates_issued_before_the_switch_still_sign_in():
    for mfa in ("extranet", "always"):
        plan = passive_plan(adfs={**ADFS, "mfa": mfa})
        (f,) = of(plan, "mfa_certificates_issued_before")
        assert f.severity == "warning" and f.field == "adfs.mfa"
        for words in ("before the switch", "without a second factor", "Edge and the Registrar",
                      "8760 hours (365 days)", "Get-CsClientCertificate", "Revoke-CsClientCertificate"):
            assert words in f.message
    # Without MFA there is no promise for those certificates to break.
    assert not of(passive_plan(adfs={**ADFS, "mfa": "none"}), "mfa_certificates_issued_before")


def test_passive_relying_party_metadata_lists_both_urls_and_names():
    (f,) = of(passive_plan(), "passive_relying_party_metadata")
    assert f.severity == "warning" and f.field == "pools[0].relying_parties"
    assert "https://pool01.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml" in f.message
    assert "https://web-pool01.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml" in f.message
    assert "'Lync-Int-pool01'" in f.message and "'Lync-Ext-pool01'" in f.message


def test_passive_relying_party_metadata_is_quiet_without_passive():
    assert not of(make_plan(pool(external="ntlm"), adfs=ADFS), "passive_relying_party_metadata")


def test_passive_pool_without_external_web_fqdn_is_an_error():
    plan = make_plan({"fqdn": "pool01.contoso.com", "auth": {"external": "passive"}}, adfs=ADFS)
    (f,) = of(plan, "passive_external_web_fqdn_missing")
    assert f.severity == "error" and f.field == "pools[0].external_web_fqdn"
    assert "relying party" in f.message
    assert not of(passive_plan(), "passive_external_web_fqdn_missing")


def test_passive_pool_with_same_internal_and_external_name_is_an_error():
    same = {"fqdn": "pool01.contoso.com", "external_web_fqdn": "pool01.contoso.com", "auth": {"external": "passive"}}
    plan = make_plan(same, adfs=ADFS)
    (f,) = of(plan, "passive_same_web_names")
    assert f.severity == "error" and f.field == "pools[0].external_web_fqdn"
    assert not of(plan, "external_web_same_as_internal")
    assert not of(passive_plan(), "passive_same_web_names")


def test_passive_and_modern_auth_conflict_is_noted_on_skype_for_business_only():
    (f,) = of(passive_plan(product="sfb2019"), "passive_modern_auth_conflict")
    assert "Modern Authentication" in f.message
    # Modern Authentication is global: no remedy per pool or per user, and the script refuses it.
    assert "is on for every pool" in f.message and "script stops before its first change" in f.message
    assert "another pool" not in f.message and "that pool's users" not in f.message
    assert not of(passive_plan(product="lync2013"), "passive_modern_auth_conflict")


def test_dns_discovery_points_at_a_non_passive_director_first():
    plan = passive_plan(pool("fe02.contoso.com", external="ntlm"), pool("dir01.contoso.com", role="director"))
    (f,) = of(plan, "passive_dns_discovery")
    assert f.severity == "info" and f.field == "pools[2].fqdn"
    assert "dir01.contoso.com" in f.message and "lyncdiscover.contoso.com" in f.message
    assert "_sip._tls.contoso.com" in f.message


def test_dns_discovery_falls_back_to_any_non_passive_pool():
    (f,) = of(passive_plan(pool("fe02.contoso.com")), "passive_dns_discovery")
    assert f.field == "pools[1].fqdn"


def test_dns_discovery_is_quiet_when_every_pool_is_passive():
    assert not of(passive_plan(pool("pool02.contoso.com", external="passive")), "passive_dns_discovery")


def test_lwa_domain_auth_says_the_docs_disagree_on_lync_2013_only():
    (lync,) = of(passive_plan(product="lync2013"), "passive_lwa_domain_auth")
    assert "Microsoft's documentation disagrees" in lync.message and "UseDomainAuthInLWA" in lync.message
    assert "Lync Web App" in lync.message
    (sfb,) = of(passive_plan(product="sfb2015"), "passive_lwa_domain_auth")
    assert "disagrees" not in sfb.message and "Skype for Business Web App" in sfb.message
    assert not of(make_plan(pool(external="ntlm")), "passive_lwa_domain_auth")


# ---------------------------------------------------------------------------
# AD FS and MFA


def test_adfs_without_passive_pool_is_unused():
    plan = make_plan(pool(external="tls_dsk"), adfs=adfs(mfa="none"))
    (f,) = of(plan, "adfs_unused")
    assert f.severity == "info" and f.field == "adfs"
    assert not {c for c in codes(plan) if c.startswith("mfa_")}
    assert not of(passive_plan(), "adfs_unused")


@pytest.mark.parametrize("mfa", ["extranet", "always"])
@pytest.mark.parametrize("mode", ["tls_dsk", "ntlm"])
def test_mfa_asked_for_while_nobody_signs_in_through_adfs_is_refused(mfa, mode):
    # The plan says MFA, and every Internet sign-in stays without a second factor: a promise not kept.
    plan = make_plan(pool(external=mode), adfs=adfs(mfa=mfa))
    (f,) = of(plan, "mfa_without_adfs_sign_in")
    assert (f.severity, f.field) == ("error", "adfs.mfa")
    assert not of(plan, "adfs_unused")
    assert not of(passive_plan(adfs=adfs(mfa=mfa)), "mfa_without_adfs_sign_in")


def test_mfa_on_adfs_2_0_is_an_error():
    plan = passive_plan(adfs=adfs(version="2.0", mfa="extranet"))
    (f,) = of(plan, "mfa_adfs20_unsupported")
    assert f.severity == "error" and f.field == "adfs.mfa"
    assert "AD FS 2.0" in f.message
    # No advice that only applies where the rule can exist.
    assert not of(plan, "mfa_extranet_only_via_proxy") and not of(plan, "mfa_provider_required")


def test_adfs_2_0_without_mfa_is_fine():
    assert not of(passive_plan(adfs=adfs(version="2.0")), "mfa_adfs20_unsupported")
    assert not of(passive_plan(adfs=adfs(version="2012r2", mfa="always")), "mfa_adfs20_unsupported")


def test_extranet_mfa_needs_requests_through_wap():
    (f,) = of(passive_plan(adfs=adfs(mfa="extranet")), "mfa_extranet_only_via_proxy")
    assert f.field == "adfs.mfa"
    for word in ("extranet", "Web Application Proxy", "insidecorporatenetwork"):
        assert word in f.message
    assert not of(passive_plan(adfs=adfs(mfa="always")), "mfa_extranet_only_via_proxy")


@pytest.mark.parametrize("mode", ["extranet", "always"])
def test_mfa_needs_a_provider(mode):
    (f,) = of(passive_plan(adfs=adfs(mfa=mode)), "mfa_provider_required")
    assert "Set-AdfsGlobalAuthenticationPolicy" in f.message and "-AdditionalAuthenticationProvider" in f.message


def test_no_mfa_needs_no_provider():
    assert not of(passive_plan(adfs=adfs(mfa="none")), "mfa_provider_required")


def test_mfa_always_prompts_internal_users():
    (f,) = of(passive_plan(adfs=adfs(mfa="always")), "mfa_always_prompts_internal")
    assert "internal users" in f.message
    assert not of(passive_plan(adfs=adfs(mfa="extranet")), "mfa_always_prompts_internal")


@pytest.mark.parametrize("version", ["2016", "2019", "2022"])
def test_newer_adfs_uses_the_extranet_access_control_policy(version):
    (f,) = of(passive_plan(adfs=adfs(version=version, mfa="extranet")), "mfa_access_control_policy")
    assert "'Permit everyone and require MFA from extranet access'" in f.message


def test_always_mfa_on_newer_adfs_uses_the_plain_mfa_policy():
    (f,) = of(passive_plan(adfs=adfs(version="2019", mfa="always")), "mfa_access_control_policy")
    assert "'Permit everyone and require MFA'" in f.message


def test_adfs_3_has_no_access_control_policy():
    assert not of(passive_plan(adfs=adfs(version="2012r2", mfa="extranet")), "mfa_access_control_policy")
    assert not of(passive_plan(adfs=adfs(version="2016", mfa="none")), "mfa_access_control_policy")


# ---------------------------------------------------------------------------
# TLS-DSK, Edge and Registrar

EDGE = {"fqdn": "edge01.contoso.com", "block_ntlm": True}
OPEN_EDGE = {"fqdn": "edge02.contoso.com", "block_ntlm": False}


def test_edge_ntlm_block_leaves_web_services_open():
    plan = make_plan(pool(external="tls_dsk"), edge_pools=[EDGE])
    (f,) = of(plan, "edge_ntlm_block_sip_only")
    assert f.severity == "warning" and f.field == "edge_pools[0].block_ntlm"
    for word in ("edge01.contoso.com", "https://web-pool01.contoso.com/CertProv", "/WebTicket", "lockout"):
        assert word in f.message


def test_edge_ntlm_block_is_quiet_when_every_pool_is_passive_or_edge_keeps_ntlm():
    assert not of(passive_plan(edge_pools=[EDGE]), "edge_ntlm_block_sip_only")
    assert not of(make_plan(pool(external="tls_dsk"), edge_pools=[OPEN_EDGE]), "edge_ntlm_block_sip_only")


def test_tls_dsk_first_certificate_comes_from_certprov():
    (f,) = of(make_plan(pool(external="tls_dsk"), edge_pools=[EDGE]), "tls_dsk_first_certificate")
    assert f.field == "pools[0].auth.external"
    assert "https://web-pool01.contoso.com/CertProv/CertProvisioningService.svc" in f.message
    assert "never signed in" in f.message
    assert not of(make_plan(pool(external="ntlm")), "tls_dsk_first_certificate")


def test_tls_dsk_first_certificate_without_external_name():
    plan = make_plan({"fqdn": "pool01.contoso.com", "auth": {"external": "tls_dsk"}}, edge_pools=[EDGE])
    (f,) = of(plan, "tls_dsk_first_certificate")
    assert "no external web services FQDN" in f.message


def test_tls_dsk_certificate_lifetime_in_days_with_revocation():
    hours = {"default": 720, "min": 8, "max": 720}
    plan = make_plan(pool(external="tls_dsk", auth={"client_certificate_hours": hours}), edge_pools=[EDGE])
    (f,) = of(plan, "tls_dsk_certificate_lifetime")
    assert f.field == "pools[0].auth.client_certificate_hours.default"
    for word in ("720 hours", "every 30 days", "Revoke-CsClientCertificate", "Get-CsClientCertificate"):
        assert word in f.message


def test_tls_dsk_certificate_lifetime_left_to_the_server():
    (f,) = of(make_plan(pool(external="tls_dsk"), edge_pools=[EDGE]), "tls_dsk_certificate_lifetime")
    assert "4320 hours" in f.message and "every 180 days" in f.message
    assert not of(make_plan(pool(external="ntlm")), "tls_dsk_certificate_lifetime")


def test_tls_dsk_unsupported_clients_only_when_an_edge_blocks_ntlm():
    (f,) = of(make_plan(pool(external="tls_dsk"), edge_pools=[EDGE]), "tls_dsk_unsupported_clients")
    assert "TLS-DSK" in f.message and "from the Internet" in f.message
    assert not of(make_plan(pool(external="tls_dsk"), edge_pools=[OPEN_EDGE]), "tls_dsk_unsupported_clients")


@pytest.mark.parametrize("edges", [[], [OPEN_EDGE]], ids=["no-edge", "edge-keeps-ntlm"])
def test_tls_dsk_without_a_blocking_edge_enforces_nothing(edges):
    (f,) = of(make_plan(pool(external="tls_dsk"), edge_pools=edges), "tls_dsk_edge_not_blocking")
    assert f.severity == "warning" and "nothing is enforced" in f.message


def test_tls_dsk_with_a_blocking_edge_is_enforced():
    assert not of(make_plan(pool(external="tls_dsk"), edge_pools=[EDGE, OPEN_EDGE]), "tls_dsk_edge_not_blocking")


def test_tls_dsk_without_certificate_auth_is_an_error():
    plan = make_plan(pool(external="tls_dsk", auth={"certificate_auth": False}), edge_pools=[EDGE])
    (f,) = of(plan, "tls_dsk_certificate_auth_off")
    assert f.severity == "error" and f.field == "pools[0].auth.certificate_auth"
    assert not of(make_plan(pool(external="tls_dsk"), edge_pools=[EDGE]), "tls_dsk_certificate_auth_off")
    assert not of(make_plan(pool(external="ntlm", auth={"certificate_auth": False})), "tls_dsk_certificate_auth_off")


def test_registrar_block_affects_internal_clients():
    plan = make_plan(pool(external="tls_dsk", auth={"block_ntlm_at_registrar": True}), edge_pools=[EDGE])
    (f,) = of(plan, "registrar_ntlm_blocked")
    assert f.field == "pools[0].auth.block_ntlm_at_registrar"
    assert "inside the network" in f.message and "CertProv" in f.message
    assert not of(make_plan(pool(external="tls_dsk"), edge_pools=[EDGE]), "registrar_ntlm_blocked")


def test_registrar_block_on_a_passive_pool_mentions_ad_fs():
    plan = make_plan(pool(external="passive", auth={"block_ntlm_at_registrar": True}), adfs=ADFS)
    (f,) = of(plan, "registrar_ntlm_blocked")
    assert "AD FS" in f.message


@pytest.mark.parametrize(("default", "code"), [
    (8, "certificate_lifetime_short"),
    (23, "certificate_lifetime_short"),
    (4321, "certificate_lifetime_long"),
    (8760, "certificate_lifetime_long"),
])
def test_certificate_lifetime_extremes_warn(default, code):
    hours = {"default": default, "min": 8, "max": 8760}
    (f,) = of(make_plan(pool(external="tls_dsk", auth={"client_certificate_hours": hours})), code)
    assert f.severity == "warning" and f.field == "pools[0].auth.client_certificate_hours.default"


def test_short_certificate_lifetime_on_a_passive_pool_speaks_of_ad_fs_not_a_password_to_certprov():
    hours = {"default": 12, "min": 8, "max": 720}
    (f,) = of(make_plan(pool(external="passive", auth={"client_certificate_hours": hours}), adfs=ADFS),
              "certificate_lifetime_short")
    assert "AD FS" in f.message and "CertProv" not in f.message and "password" not in f.message
    (g,) = of(make_plan(pool(external="tls_dsk", auth={"client_certificate_hours": hours})),
              "certificate_lifetime_short")
    assert "sends the password to CertProv" in g.message


@pytest.mark.parametrize("default", [24, 720, 4320])
def test_certificate_lifetime_in_range_is_quiet(default):
    hours = {"default": default, "min": 8, "max": 8760}
    found = codes(make_plan(pool(external="ntlm", auth={"client_certificate_hours": hours})))
    assert "certificate_lifetime_short" not in found and "certificate_lifetime_long" not in found


# ---------------------------------------------------------------------------
# NTLM kept


def test_ntlm_kept_is_exposed_to_guessing_and_lockout():
    (f,) = of(make_plan(pool(external="ntlm"), edge_pools=[OPEN_EDGE]), "ntlm_exposed")
    assert f.severity == "warning" and f.field == "pools[0].auth.external"
    for word in ("lock accounts out", "Lync Security Filter", "AD FS extranet lockout",
                 "edge02.contoso.com", "web-pool01.contoso.com"):
        assert word in f.message
    assert not of(make_plan(pool(external="tls_dsk")), "ntlm_exposed")


def test_ntlm_pool_behind_a_blocking_edge_is_flagged():
    (f,) = of(make_plan(pool(external="ntlm"), edge_pools=[EDGE]), "ntlm_pool_edge_blocks")
    assert "edge01.contoso.com" in f.message
    assert not of(make_plan(pool(external="ntlm"), edge_pools=[OPEN_EDGE]), "ntlm_pool_edge_blocks")


def test_edge_keeping_ntlm_is_exposed():
    plan = make_plan(pool(external="ntlm"), edge_pools=[EDGE, {**OPEN_EDGE, "access_fqdn": "sip.contoso.com"}])
    (f,) = of(plan, "edge_ntlm_exposed")
    assert f.field == "edge_pools[1].block_ntlm"
    assert "sip.contoso.com" in f.message and "locked out" in f.message


# ---------------------------------------------------------------------------
# Mobility policies


def policy(**settings) -> dict:
    return {"identity": "Global", **settings}


def test_save_credentials_off_signs_ios_out():
    (f,) = of(make_plan(mobility_policies=[policy(allow_save_credentials=False)]), "mobility_save_credentials_off")
    assert f.field == "mobility_policies[0].allow_save_credentials"
    assert "iOS" in f.message and "background" in f.message
    assert not of(make_plan(mobility_policies=[policy(allow_save_credentials=True)]), "mobility_save_credentials_off")


@pytest.mark.parametrize("key", LYNC2013_CU_MOBILITY_SETTINGS)
def test_lync_2013_mobility_parameters_need_a_cumulative_update(key):
    plan = make_plan(product="lync2013", mobility_policies=[policy(**{key: True})])
    (f,) = of(plan, "mobility_parameter_needs_cu")
    assert f.field == f"mobility_policies[0].{key}"
    assert MOBILITY_SETTINGS[key] in f.message
    assert "cumulative update" in f.message and "Microsoft's documentation disagrees" in f.message


def test_mobility_parameters_known_on_lync_2013_need_no_update():
    plan = make_plan(product="lync2013", mobility_policies=[policy(enable_mobility=True, enable_outside_voice=True,
                                                                   require_wifi_for_ip_video=True)])
    assert not of(plan, "mobility_parameter_needs_cu")


@pytest.mark.parametrize("product", ["sfb2015", "sfb2019"])
def test_skype_for_business_mobility_parameters_need_no_update(product):
    plan = make_plan(product=product, mobility_policies=[policy(allow_save_credentials=False)])
    assert not of(plan, "mobility_parameter_needs_cu")


def test_exchange_connectivity_off_is_noted():
    (f,) = of(make_plan(mobility_policies=[policy(allow_exchange_connectivity=False)]),
              "mobility_exchange_connectivity_off")
    assert f.severity == "info" and "Exchange" in f.message and "credentials" in f.message
    assert not of(make_plan(mobility_policies=[policy(allow_exchange_connectivity=True)]),
                  "mobility_exchange_connectivity_off")


def test_mobility_off_warns():
    (f,) = of(make_plan(mobility_policies=[policy(enable_mobility=False)]), "mobility_disabled")
    assert f.severity == "warning" and f.field == "mobility_policies[0].enable_mobility"
    assert not of(make_plan(mobility_policies=[policy(enable_mobility=True)]), "mobility_disabled")


def test_call_via_work_needs_mobility():
    plan = make_plan(mobility_policies=[policy(enable_mobility=False, enable_outside_voice=True)])
    (f,) = of(plan, "mobility_outside_voice_without_mobility")
    assert f.field == "mobility_policies[0].enable_outside_voice" and "Call via Work" in f.message
    ok = make_plan(mobility_policies=[policy(enable_mobility=True, enable_outside_voice=True)])
    assert not of(ok, "mobility_outside_voice_without_mobility")


def test_site_policy_for_an_unknown_site_warns():
    plan = make_plan(pool(site="Redmond"), mobility_policies=[{"identity": "site:Paris", "enable_mobility": True}])
    (f,) = of(plan, "mobility_site_unknown")
    assert f.field == "mobility_policies[0].identity" and "'Paris'" in f.message


def test_site_policy_matching_a_pool_site_is_quiet():
    plan = make_plan(pool(site="Redmond"), mobility_policies=[{"identity": "site:redmond", "enable_mobility": True},
                                                               {"identity": "Tag:Sales", "enable_mobility": True}])
    assert not of(plan, "mobility_site_unknown")


def test_policy_without_settings_emits_nothing():
    (f,) = of(make_plan(mobility_policies=[{"identity": "Tag:Sales"}]), "mobility_policy_empty")
    assert f.severity == "info" and "nothing is changed" in f.message
    assert not of(make_plan(mobility_policies=[policy(enable_mobility=True)]), "mobility_policy_empty")


# ---------------------------------------------------------------------------
# Names and certificates


def test_same_internal_and_external_web_name_warns():
    plan = make_plan({"fqdn": "pool01.contoso.com", "external_web_fqdn": "pool01.contoso.com"})
    (f,) = of(plan, "external_web_same_as_internal")
    assert f.severity == "warning" and f.field == "pools[0].external_web_fqdn"
    assert not of(make_plan(pool()), "external_web_same_as_internal")


def test_pool_fqdn_reused_as_edge_fqdn_is_an_error():
    plan = make_plan(pool(), edge_pools=[{"fqdn": "pool01.contoso.com"}])
    (f,) = of(plan, "duplicate_name")
    assert f.severity == "error" and f.field == "edge_pools[0].fqdn"
    assert "pools[0].fqdn" in f.message


def test_one_external_web_name_on_two_pools_is_an_error():
    plan = make_plan(pool(), {"fqdn": "pool02.contoso.com", "external_web_fqdn": "web-pool01.contoso.com"})
    (f,) = of(plan, "duplicate_name")
    assert f.field == "pools[1].external_web_fqdn"


def test_adfs_name_reused_as_web_services_name_is_an_error():
    plan = passive_plan(adfs=adfs(federation_service_name="web-pool01.contoso.com"))
    (f,) = of(plan, "duplicate_name")
    assert f.field == "adfs.federation_service_name"


def test_names_a_role_legitimately_repeats_are_not_duplicates():
    plan = make_plan(
        {"fqdn": "pool01.contoso.com", "internal_web_fqdn": "pool01.contoso.com",
         "external_web_fqdn": "ext.contoso.com"},
        edge_pools=[{"fqdn": "edge01.contoso.com", "access_fqdn": "sip.contoso.com",
                     "webconf_fqdn": "sip.contoso.com"}],
    )
    assert not of(plan, "duplicate_name")


@pytest.mark.parametrize(("top", "field", "other"), [
    # The Web Conferencing Edge name reused as the meet simple URL: on both certificates, two addresses.
    ({"edge_pools": [{"fqdn": "edge01.contoso.com", "access_fqdn": "sip.contoso.com",
                      "webconf_fqdn": "meet.contoso.com"}], "simple_urls": {"meet": ["meet.contoso.com"]}},
     "simple_urls.meet[0]", "edge_pools[0].webconf_fqdn"),
    ({"edge_pools": [{"fqdn": "edge01.contoso.com", "access_fqdn": "sip.contoso.com",
                      "av_fqdn": "dialin.contoso.com"}], "simple_urls": {"dialin": "dialin.contoso.com"}},
     "simple_urls.dialin", "edge_pools[0].av_fqdn"),
    # sip.<domain> goes on the Edge certificate and points at the Access Edge: no published name may take it.
    ({"edge_pools": [{"fqdn": "edge01.contoso.com", "access_fqdn": "access.contoso.com"}],
      "simple_urls": {"meet": ["sip.contoso.com"]}}, "simple_urls.meet[0]", "sip_domains[0]"),
    ({"edge_pools": [{"fqdn": "edge01.contoso.com", "access_fqdn": "access.contoso.com"}],
      "office_web_apps_fqdn": "sip.contoso.com"}, "office_web_apps_fqdn", "sip_domains[0]"),
])
def test_an_edge_name_reused_by_a_simple_url_or_published_name_is_an_error(top, field, other):
    (f,) = of(make_plan(pool(), **top), "duplicate_name")
    assert f.severity == "error" and f.field == field and other in f.message


def test_sip_name_of_a_pool_external_web_is_an_error_on_the_pool_field():
    plan = make_plan({"fqdn": "pool01.contoso.com", "external_web_fqdn": "sip.contoso.com"},
                     edge_pools=[{"fqdn": "edge01.contoso.com", "access_fqdn": "access.contoso.com"}])
    (f,) = of(plan, "duplicate_name")
    assert f.field == "pools[0].external_web_fqdn" and "sip_domains[0]" in f.message


def test_simple_urls_and_sip_names_that_may_repeat_are_not_duplicates():
    plan = make_plan(
        {"fqdn": "sip.contoso.com", "external_web_fqdn": "lync.contoso.com"},
        sip_domains=["contoso.com", "fabrikam.com"],
        edge_pools=[{"fqdn": "edge01.contoso.com", "access_fqdn": "access.contoso.com",
                     "webconf_fqdn": "access.contoso.com"},
                    {"fqdn": "edge02.contoso.com", "access_fqdn": "sip.fabrikam.com", "av_fqdn": "sip.fabrikam.com"}],
        simple_urls={"meet": ["lync.contoso.com"], "dialin": "lync.contoso.com", "admin": "lync.contoso.com"},
    )
    assert not of(plan, "duplicate_name")
    # Without any Access Edge FQDN the plan does not use sip.<domain>.
    assert not of(make_plan(pool(), simple_urls={"meet": ["sip.contoso.com"]}), "duplicate_name")


def test_a_pool_fqdn_that_is_also_an_access_edge_sip_name_stays_an_error():
    # Reported before sip.<domain> took part in the comparison: it must stay an error now that it does.
    plan = make_plan({"fqdn": "sip.contoso.com", "external_web_fqdn": "lync.contoso.com"},
                     edge_pools=[{"fqdn": "edge01.contoso.com", "access_fqdn": "sip.contoso.com"}])
    (f,) = of(plan, "duplicate_name")
    assert f.field == "edge_pools[0].access_fqdn" and "pools[0].fqdn" in f.message


def test_sip_domain_without_access_edge_name_is_noted():
    plan = make_plan(sip_domains=["contoso.com", "fabrikam.com"],
                     edge_pools=[{"fqdn": "edge01.contoso.com", "access_fqdn": "sip.contoso.com"}])
    (f,) = of(plan, "sip_domain_no_access_edge")
    assert f.severity == "info" and f.field == "sip_domains[1]" and "sip.fabrikam.com" in f.message


def test_sip_domain_check_needs_an_edge():
    assert not of(make_plan(sip_domains=["contoso.com", "fabrikam.com"]), "sip_domain_no_access_edge")


def test_av_edge_equal_to_access_edge_warns():
    plan = make_plan(edge_pools=[{"fqdn": "edge01.contoso.com", "access_fqdn": "sip.contoso.com",
                                  "av_fqdn": "sip.contoso.com"}])
    (f,) = of(plan, "edge_av_equals_access")
    assert f.field == "edge_pools[0].av_fqdn"
    ok = make_plan(edge_pools=[{"fqdn": "edge01.contoso.com", "access_fqdn": "sip.contoso.com",
                                "av_fqdn": "av.contoso.com"}])
    assert not of(ok, "edge_av_equals_access")


def test_autodiscover_on_443_lists_lyncdiscover_for_each_domain():
    plan = make_plan(sip_domains=["contoso.com", "fabrikam.com"])
    (f,) = of(plan, "autodiscover_names_on_certificate")
    assert f.field == "autodiscover_port"
    assert "lyncdiscover.contoso.com" in f.message and "lyncdiscover.fabrikam.com" in f.message
    assert "2 SIP domains" in f.message


def test_autodiscover_on_80_or_without_reverse_proxy_is_quiet():
    assert not of(make_plan(autodiscover_port=80), "autodiscover_names_on_certificate")
    assert not of(make_plan({"fqdn": "pool01.contoso.com"}), "autodiscover_names_on_certificate")


def test_adfs_on_the_reverse_proxy_needs_its_name_on_the_certificate():
    plan = passive_plan(adfs=adfs(published_on_reverse_proxy=True, mfa="extranet"))
    (f,) = of(plan, "adfs_on_reverse_proxy")
    assert f.field == "adfs.published_on_reverse_proxy"
    assert "adfs.contoso.com" in f.message and "Web Application Proxy" in f.message
    assert not of(passive_plan(), "adfs_on_reverse_proxy")


# ---------------------------------------------------------------------------
# Scope


def test_service_scope_is_explained_when_the_plan_changes_authentication():
    (f,) = of(make_plan(pool(external="ntlm")), "service_scope_only")
    assert f.field == "pools" and "global" in f.message and "service:WebServer:" in f.message
    (edge_only,) = of(make_plan({"fqdn": "pool01.contoso.com"}, edge_pools=[EDGE]), "service_scope_only")
    assert edge_only.severity == "info"
    assert not of(make_plan({"fqdn": "pool01.contoso.com"}, edge_pools=[OPEN_EDGE]), "service_scope_only")


# ---------------------------------------------------------------------------
# Fixtures


def test_name_collisions_fixture():
    found = [(f.code, f.field) for f in check_plan(load_fixture(FIXTURES / "findings" / "name-collisions.json"))
             if f.severity == "error"]
    assert found == [
        ("duplicate_name", "pools[1].external_web_fqdn"),
        ("duplicate_name", "edge_pools[0].fqdn"),
        ("duplicate_name", "office_web_apps_fqdn"),
    ]


def test_adfs20_fixture_is_blocked_by_mfa():
    errors = [f.code for f in check_plan(load_fixture(FIXTURES / "findings" / "adfs20-mfa.json"))
              if f.severity == "error"]
    assert errors == ["mfa_adfs20_unsupported"]


# ---------------------------------------------------------------------------
# Any valid plan


def _plans() -> st.SearchStrategy[dict]:
    """Return a strategy for valid plan documents mixing every mode, Edge, AD FS and mobility option."""
    names = st.sampled_from(["a.contoso.com", "b.contoso.com", "sip.contoso.com", "web.contoso.com",
                             "adfs.contoso.com", "edge.contoso.com"])
    hours = st.one_of(st.none(), st.tuples(st.integers(8, 4320), st.integers(0, 100), st.integers(0, 4440)).map(
        lambda t: {"default": t[0], "min": max(8, t[0] - t[1]), "max": min(8760, t[0] + t[2])}))
    auth = st.one_of(st.none(), st.fixed_dictionaries(
        {"external": st.sampled_from(["ntlm", "tls_dsk", "passive"])},
        optional={"certificate_auth": st.booleans(), "block_ntlm_at_registrar": st.booleans(),
                  "block_pin_auth": st.booleans(), "client_certificate_hours": hours}))

    def a_pool(i):
        return st.fixed_dictionaries(
            {"fqdn": st.just(f"pool{i}.contoso.com")},
            optional={"role": st.sampled_from(["frontend", "director"]), "site": st.sampled_from(["Redmond", "Dub"]),
                      "internal_web_fqdn": names, "external_web_fqdn": names, "auth": auth},
        ).map(lambda d: {k: v for k, v in d.items() if v is not None})

    edge = st.fixed_dictionaries(
        {"fqdn": names},
        optional={"access_fqdn": names, "webconf_fqdn": names, "av_fqdn": names, "block_ntlm": st.booleans()})
    policy = st.fixed_dictionaries(
        {"identity": st.sampled_from(["Global", "site:Redmond", "site:Paris", "Tag:Sales"])},
        optional={key: st.booleans() for key in MOBILITY_SETTINGS})
    return st.fixed_dictionaries(
        {
            "format": st.just(FORMAT),
            "name": st.just("Random plan"),
            "product": st.sampled_from(["lync2013", "sfb2015", "sfb2019"]),
            "sip_domains": st.lists(st.sampled_from(["contoso.com", "fabrikam.com"]), min_size=1, max_size=2,
                                    unique=True),
            "pools": st.tuples(a_pool(0), a_pool(1), a_pool(2)).flatmap(
                lambda ps: st.integers(1, 3).map(lambda n: list(ps[:n]))),
            "adfs": st.fixed_dictionaries(
                {"federation_service_name": names, "version": st.sampled_from(["2.0", "2012r2", "2016", "2022"])},
                optional={"mfa": st.sampled_from(["none", "extranet", "always"]),
                          "published_on_reverse_proxy": st.booleans()}),
        },
        optional={
            "edge_pools": st.lists(edge, max_size=2, unique_by=lambda e: e["fqdn"]),
            "mobility_policies": st.lists(policy, max_size=3, unique_by=lambda p: p["identity"]),
            "autodiscover_port": st.sampled_from([443, 80]),
            "office_web_apps_fqdn": names,
        },
    )


def test_any_valid_plan_gets_registered_findings_and_a_full_matrix():
    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_plans())
    def check(doc):
        plan, _ = read_plan(doc)
        if plan is None:
            return  # the reader refused it (e.g. duplicate relying party names); nothing to check
        findings = check_plan(plan)
        assert findings == check_plan(plan)
        for f in findings:
            assert FINDING_CODES[f.code] == f.severity
        matrix = client_impact(plan)
        assert len(matrix.rows) == len(CLIENTS)
        for _, cells in matrix.rows:
            assert len(cells) == len(plan.pools)
            assert all(c.state in STATES and c.reason for c in cells)

    check()


@pytest.mark.parametrize("external", ["ntlm", "tls_dsk"])
def test_certificate_auth_off_warns_about_the_phones_that_signed_in_with_a_pin(external):
    plan = make_plan(pool(external=external, auth={"certificate_auth": False}))
    [found] = [f for f in check_plan(plan) if f.code == "certificate_auth_off_phones"]
    assert found.severity == "warning" and found.field == "pools[0].auth.certificate_auth"
    assert "Lync Phone Edition" in found.message and "inside" in found.message
    assert not [f for f in check_plan(make_plan(pool(external=external))) if f.code == "certificate_auth_off_phones"]


def test_a_blocking_modern_auth_scenario_does_not_say_pin_phones_lose_sign_in():
    plan = make_plan(pool(), adfs=ADFS, modern_auth={"scenario": "block_windows_auth_externally"})
    [clients] = [f for f in check_plan(plan) if f.code == "modern_auth_clients"]
    assert "extension and PIN" in clients.message and "inferred" in clients.message
    assert "Lync Phone Edition and other desk phones," not in clients.message


def test_passive_authentication_moves_password_guessing_to_adfs_and_says_how_to_lock_it_out():
    (f,) = of(passive_plan(), "passive_adfs_password_surface")
    assert f.severity == "warning" and f.field == "adfs"
    for words in ("pool01.contoso.com", "adfs.contoso.com", "Web Application Proxy", "before any second factor",
                  "locked out", "Set-AdfsProperties -EnableExtranetLockout", "WS-Trust", "Get-AdfsEndpoint",
                  "Set-AdfsEndpoint -TargetAddressPath <path> -Proxy $false"):
        assert words in f.message
    # The WS-Trust user name and password endpoints are named, and what MFA does there: no token for a password
    # alone, the password still checked (the exposure model's adfs_ws_trust path).
    for words in ("/adfs/services/trust/13/usernamemixed", "no token is issued there for a password alone",
                  "the password is still checked"):
        assert words in f.message
    # AD FS 2.0 has no extranet lockout to turn on.
    (old,) = of(passive_plan(adfs=adfs(version="2.0", mfa="none")), "passive_adfs_password_surface")
    assert "AD FS 2.0 has no extranet lockout" in old.message and "EnableExtranetLockout" not in old.message
    assert "Set-AdfsEndpoint" not in old.message   # the AD FS 2.0 proxy has no such cmdlet
    # Behind a plain reverse proxy AD FS takes the Internet for the intranet: another finding says so.
    assert not of(passive_plan(adfs=adfs(published_on_reverse_proxy=True, mfa="none")),
                  "passive_adfs_password_surface")
    # Without a passive pool nobody signs in at AD FS.
    assert not of(make_plan(pool(external="tls_dsk"), adfs=ADFS), "passive_adfs_password_surface")


# ---------------------------------------------------------------------------
# The web ticket service's forms sign-in: closed by inference only, and not shown by the verification


def test_a_passive_pool_says_the_forms_sign_in_of_the_web_ticket_service_must_be_tried_with_a_test_account():
    """Password-spraying tools post a user name and password in a UsernameToken to
    /WebTicket/WebTicketService.svc/Auth. The exposure model counts it with Windows authentication (inferred) and
    calls it closed on a passive pool, but no request without credentials shows it, so verify-external.ps1's PASS
    does not cover it: the admin is told to try it from the Internet with a test account."""
    (f,) = of(passive_plan(), "web_forms_sign_in_unverified")
    assert f.severity == "warning" and f.field == "pools[0].auth.external"
    assert "/WebTicket/WebTicketService.svc/Auth" in f.message and "https://web-pool01.contoso.com" in f.message
    assert "test account" in f.message and "verify-external.ps1" in f.message


def test_a_modern_auth_scenario_blocking_windows_auth_says_it_for_every_pool():
    plan = make_plan(pool(), pool("dir01.contoso.com", role="director"), adfs=ADFS,
                     modern_auth={"scenario": "block_windows_auth_externally"})
    (f,) = of(plan, "web_forms_sign_in_unverified")
    assert f.field == "modern_auth.scenario"
    assert "web-pool01.contoso.com" in f.message and "web-dir01.contoso.com" in f.message


@pytest.mark.parametrize("external", ["ntlm", "tls_dsk"])
def test_a_pool_that_keeps_windows_auth_has_no_such_note(external):
    assert not of(make_plan(pool(external=external)), "web_forms_sign_in_unverified")
    plan = make_plan(pool(), adfs=ADFS, modern_auth={"scenario": "block_modern_auth_internally"})
    assert not of(plan, "web_forms_sign_in_unverified")


# ---------------------------------------------------------------------------
# An Edge that blocks NTLM, for the users of pools the plan leaves alone


def test_an_edge_blocking_ntlm_says_who_loses_external_sign_in_on_pools_the_plan_leaves_alone():
    """Blocking NTLM at an Edge applies to every user signing in through it, whatever their pool's mode: with a
    pool that has no mode in the plan, nothing else said that clients without TLS-DSK lose sign-in from outside."""
    plan = make_plan(pool(), pool("pool02.contoso.com", external="tls_dsk"), edge_pools=[EDGE])
    (f,) = of(plan, "edge_block_unsupported_clients")
    assert f.severity == "warning" and f.field == "edge_pools[0].block_ntlm"
    assert "pool01.contoso.com" in f.message and "pool02.contoso.com" not in f.message
    assert "TLS-DSK" in f.message and "third-party SIP clients" in f.message
    assert "not in the plan" in f.message


def test_no_such_note_when_the_edge_does_not_block_or_every_pool_has_its_own():
    assert not of(make_plan(pool(), edge_pools=[OPEN_EDGE]), "edge_block_unsupported_clients")
    plan = make_plan(pool(external="tls_dsk"), pool("pool02.contoso.com", external="ntlm"), edge_pools=[EDGE])
    assert not of(plan, "edge_block_unsupported_clients")
    # A Modern Authentication scenario blocking Windows authentication says who loses sign-in (modern_auth_clients).
    plan = make_plan(pool(), adfs=ADFS, edge_pools=[EDGE], modern_auth={"scenario": "block_windows_auth_externally"})
    assert not of(plan, "edge_block_unsupported_clients")


# ---------------------------------------------------------------------------
# The MFA promise without a state file covers the pools the plan names only


def test_an_mfa_promise_without_a_state_file_says_pools_outside_the_plan_are_not_checked():
    """A Director (or a Front End or Edge pool) of the topology that the plan does not list keeps NTLM and PIN
    from the Internet; without a state file the exposure model cannot see it, so the promise must say so."""
    plan = passive_plan(adfs=adfs(mfa="extranet"), edge_pools=[EDGE])
    (f,) = of(plan, "mfa_topology_unchecked")
    assert f.severity == "warning" and f.field == "adfs.mfa"
    assert "Director" in f.message and "collect-state.ps1" in f.message
    assert "pool01.contoso.com" in f.message and "edge01.contoso.com" in f.message
    # Both ways on, in the web wizard as in the plan file.
    assert "accepted_risks: field pools" in f.message and '"Accepted risks" on the Review step' in f.message
    assert "in the web wizard: on the Environment step" in f.message


def test_with_modern_authentication_the_note_offers_accepting_edge_pools_only():
    # A pool outside a Modern Authentication plan stops the script whatever is accepted: the note must not send the
    # admin to accept `pools`, which would change nothing.
    plan = make_plan(pool(), adfs=adfs(mfa="extranet", version="2016"), modern_auth={}, product="sfb2019",
                     edge_pools=[EDGE])
    (f,) = of(plan, "mfa_topology_unchecked")
    assert "field pools" not in f.message
    assert "Edge pools only" in f.message and "field edge_pools" in f.message


def test_no_such_note_without_a_promise():
    assert not of(passive_plan(adfs=adfs(mfa="none"), edge_pools=[EDGE]), "mfa_topology_unchecked")


def test_with_a_state_file_the_topology_is_in_the_model_and_the_note_goes():
    from tests.test_mfa_trusts import _estate, _plan
    plan = _plan()
    assert any(f.code == "mfa_topology_unchecked" for f in check_plan(plan))
    assert not any(f.code == "mfa_topology_unchecked" for f in check_plan(plan, estate=_estate()))
