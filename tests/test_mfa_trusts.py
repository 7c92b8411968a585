"""The MFA promise and the AD FS relying party trusts the plan actually sets.

The AD FS script sets the plan's MFA (an additional authentication rule, or an access control policy) on
the passive relying party trusts of the plan's passive pools only. A pool that is passive today but not
in the plan as passive (listed without `auth`, or known from the state file only) keeps its own trusts,
and with them whatever MFA they have today: an AD FS sign-in through its /passiveauth redirect, and the
Lync client certificate its CertProv hands out after it, may take a password alone. Before the fix the
exposure model applied `adfs.mfa` to every pool's AD FS sign-in, so such a plan passed `check_plan --state`
with no error while that pool's users signed in from the Internet with a password alone.
"""
from __future__ import annotations

import copy
from typing import Any

from wizard.plan.exposure import Credential, State, exposure
from wizard.plan.findings import check_plan
from wizard.plan.reader import read_plan
from wizard.plan.state_reader import read_state
from wizard.scripts.rendering import render_all

POOL2 = "pool02.contoso.com"

PLAN: dict[str, Any] = {
    "format": "lync-auth-plan/1",
    "name": "passive with MFA, a second pool passive today",
    "product": "sfb2019",
    "sip_domains": ["contoso.com"],
    "pools": [{"fqdn": "pool01.contoso.com", "site": "Oslo", "internal_web_fqdn": "pool01-int.contoso.com",
               "external_web_fqdn": "web01.contoso.com",
               "auth": {"external": "passive", "block_ntlm_at_registrar": True}}],
    "edge_pools": [{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com", "block_ntlm": True}],
    "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2019", "mfa": "extranet"},
}
POOL2_PLAN = {"fqdn": POOL2, "site": "Oslo", "internal_web_fqdn": "pool02-int.contoso.com",
              "external_web_fqdn": "web02.contoso.com"}

# Pool 2 is passive today (Windows authentication and PIN off, its Registrar blocks NTLM and Kerberos), and its
# AD FS trust has no MFA ("Permit everyone").
STATE: dict[str, Any] = {
    "format": "lync-auth-state/1",
    "collected_at": "2026-12-01T09:30:00Z",
    "product": "sfb2019",
    "sip_domains": ["contoso.com"],
    "sites": ["Oslo"],
    "pools": [
        {"fqdn": "pool01.contoso.com", "role": "frontend", "site": "Oslo",
         "internal_web_fqdn": "pool01-int.contoso.com", "external_web_fqdn": "web01.contoso.com"},
        {"fqdn": POOL2, "role": "frontend", "site": "Oslo",
         "internal_web_fqdn": "pool02-int.contoso.com", "external_web_fqdn": "web02.contoso.com"},
    ],
    "edge_pools": [{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com"}],
    "web_service_configurations": [
        {"identity": "Global", "use_windows_auth": "Negotiate", "use_certificate_auth": True, "use_pin_auth": True,
         "use_ws_fed_passive_auth": False},
        {"identity": f"service:WebServer:{POOL2}", "use_windows_auth": "None", "use_certificate_auth": True,
         "use_pin_auth": False, "use_ws_fed_passive_auth": True,
         "ws_fed_passive_metadata_uri": "https://adfs.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml"},
    ],
    "proxy_configurations": [
        {"identity": "Global", "use_ntlm_for_client_to_proxy_auth": True,
         "use_kerberos_for_client_to_proxy_auth": True, "use_certificate_for_client_to_proxy_auth": True},
        {"identity": f"service:Registrar:{POOL2}", "use_ntlm_for_client_to_proxy_auth": False,
         "use_kerberos_for_client_to_proxy_auth": False, "use_certificate_for_client_to_proxy_auth": True},
    ],
    "adfs": {
        "federation_service_name": "adfs.contoso.com", "version": "2019", "web_application_proxy": True,
        "relying_parties": [
            {"name": "Lync-Ext-pool02", "identifiers": ["https://web02.contoso.com/passiveauth"],
             "metadata_url": "https://web02.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml",
             "enabled": True, "access_control_policy_name": "Permit everyone"},
        ],
    },
}


def _plan(pool2: dict[str, Any] | None = None):
    doc = copy.deepcopy(PLAN)
    if pool2 is not None:
        doc["pools"].append(copy.deepcopy(pool2))
    plan, findings = read_plan(doc)
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return plan


def _estate():
    estate, findings = read_state(copy.deepcopy(STATE))
    assert estate is not None, [f for f in findings if f.severity == "error"]
    return estate


def _errors(plan, estate) -> set[tuple[str, str]]:
    return {(f.code, f.field) for f in check_plan(plan, estate=estate) if f.severity == "error"}


def test_a_pool_passive_only_in_the_state_file_breaks_the_mfa_promise() -> None:
    plan = _plan()
    # The plan alone renders: its AD FS script sets MFA on pool01's trusts only.
    adfs_script = render_all(plan)["adfs-server.ps1"]
    assert "web01.contoso.com" in adfs_script and "web02.contoso.com" not in adfs_script
    errors = _errors(plan, _estate())
    assert ("mfa_web_password_open", "pools") in errors
    assert ("mfa_certificate_by_password", "pools") in errors


def test_a_pool_listed_without_auth_and_passive_today_breaks_the_mfa_promise_on_its_field() -> None:
    errors = _errors(_plan(POOL2_PLAN), _estate())
    assert ("mfa_web_password_open", "pools[1].auth.external") in errors
    assert ("mfa_certificate_by_password", "pools[1].auth.external") in errors
    # AD FS itself is reached through a Web Application Proxy: it is not the cause.
    assert not any(code == "mfa_adfs_not_extranet" for code, _ in errors)


def test_the_model_says_why_the_ad_fs_sign_in_of_that_pool_may_take_a_password_alone() -> None:
    model = exposure(_plan(POOL2_PLAN), estate=_estate())
    path = next(p for p in model.paths_at(f"web:{POOL2}") if p.credential is Credential.ADFS)
    assert path.after.accepted is State.OPEN
    assert path.after.password_only is State.UNKNOWN
    assert "relying party trusts of its passive pools" in path.after.why
    issue = model.issuance_for(POOL2)
    assert issue is not None and Credential.ADFS in issue.by_password_after
    # The plan's own passive pool keeps its promise: its trusts get the plan's MFA.
    own = next(p for p in model.paths_at("web:pool01.contoso.com") if p.credential is Credential.ADFS)
    assert own.after.password_only is State.CLOSED
    assert model.mfa_trust_pools == frozenset({"pool01.contoso.com"})


def test_the_fix_is_to_make_that_pool_passive_in_the_plan() -> None:
    pool2 = {**POOL2_PLAN, "auth": {"external": "passive", "block_ntlm_at_registrar": True}}
    plan = _plan(pool2)
    assert _errors(plan, _estate()) == set()
    assert "web02.contoso.com" in render_all(plan)["adfs-server.ps1"]


def test_a_pool_passive_through_its_site_gets_a_new_collection_without_passive() -> None:
    # Pool 2 is passive through site:Oslo, and the plan sets it to TLS-DSK: the script creates
    # service:WebServer:pool02 with New-CsWebServiceConfiguration, which starts with passive authentication off (it
    # is never copied). The model must not keep an AD FS sign-in open through pool 2 after the change, nor blame it
    # for the MFA promise.
    state = copy.deepcopy(STATE)
    state["web_service_configurations"][1] = {
        "identity": "site:Oslo", "use_windows_auth": "None", "use_certificate_auth": True, "use_pin_auth": False,
        "use_ws_fed_passive_auth": True,
        "ws_fed_passive_metadata_uri": "https://adfs.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml"}
    estate, findings = read_state(state)
    assert estate is not None, [f for f in findings if f.severity == "error"]
    plan = _plan({**POOL2_PLAN, "auth": {"external": "tls_dsk", "block_ntlm_at_registrar": True}})
    model = exposure(plan, estate=estate)
    path = next(p for p in model.paths_at(f"web:{POOL2}") if p.credential is Credential.ADFS)
    assert path.before.accepted is State.OPEN
    assert path.after.accepted is State.CLOSED
    assert not {(code, field) for code, field in _errors(plan, estate) if field == "pools[1].auth.external"}
    # With a collection of its own the script only sets it, and passive authentication stays on.
    state["web_service_configurations"].append({**state["web_service_configurations"][1],
                                                 "identity": f"service:WebServer:{POOL2}"})
    estate, _ = read_state(state)
    model = exposure(plan, estate=estate)
    path = next(p for p in model.paths_at(f"web:{POOL2}") if p.credential is Credential.ADFS)
    assert path.after.accepted is State.OPEN
