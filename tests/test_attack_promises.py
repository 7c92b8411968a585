"""Attack the sign-in promises: plans that rendered with no error while a password alone still signed in.

Each test is one hole an outside attack found in the exposure model (`wizard.plan.exposure`), the input
that shows it, and what must happen instead: the MFA promise is refused (or the risk recorded as
accepted) while any Internet sign-in path with a password alone stays open or may stay open.
"""
from __future__ import annotations

import copy
from typing import Any

from wizard.plan.engine import assess
from wizard.plan.estate import Estate
from wizard.plan.exposure import State, exposure
from wizard.plan.state_reader import read_state

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


def errors(doc: dict[str, Any], estate: Estate | None = None) -> set[tuple[str, str]]:
    plan, findings = assess(copy.deepcopy(doc), estate=estate)
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return {(f.code, f.field) for f in findings if f.severity == "error"}


# ---------------------------------------------------------------------------
# A plan of Director pools only: the users' home pools are not in it


def director_only() -> dict[str, Any]:
    doc = copy.deepcopy(PASSIVE_MFA)
    doc["pools"][0]["role"] = "director"
    return doc


def test_a_director_only_plan_does_not_keep_an_mfa_promise_for_home_pools_it_does_not_know() -> None:
    # A Director homes no user. Every user is homed on a Front End pool the plan does not name, whose web
    # services (NTLM, Negotiate, the password grant, PIN) and CertProv stay as today: a password alone may get
    # a client certificate there and sign in with TLS-DSK through the passive Director.
    found = errors(director_only())
    assert ("mfa_web_password_open", "pools") in found
    assert ("mfa_certificate_by_password", "pools") in found
    assert ("mfa_registrar_password_open", "pools") in found


def test_the_home_pools_not_in_the_plan_are_an_entry_point_of_the_model() -> None:
    from wizard.plan.reader import read_plan

    plan, _ = read_plan(director_only())
    assert plan is not None
    model = exposure(plan)
    web = [p for p in model.paths if p.entry.key == "web:*"]
    assert web and all(p.after.password_only is State.UNKNOWN for p in web if p.credential.value == "ntlm")
    assert not model.paths_at("web:*")[0].entry.in_plan


def test_a_plan_with_a_front_end_pool_gets_no_entry_for_pools_not_in_the_plan() -> None:
    from wizard.plan.reader import read_plan

    plan, _ = read_plan(copy.deepcopy(PASSIVE_MFA))
    assert plan is not None
    assert not [e for e in exposure(plan).entries if e.key.endswith(":*") and e.key != "edge:*"]
    assert errors(PASSIVE_MFA) == set()


def test_a_director_only_plan_may_accept_the_risk() -> None:
    doc = director_only()
    doc["accepted_risks"] = [
        {"code": code, "field": "pools", "reason": "home pools are hardened by another plan"}
        for code in ("mfa_web_password_open", "mfa_certificate_by_password", "mfa_registrar_password_open")]
    assert errors(doc) == set()


# ---------------------------------------------------------------------------
# A plan that names a pool's site wrongly reads the wrong collection from the state file

STATE: dict[str, Any] = {
    "format": "lync-auth-state/1",
    "collected_at": "2026-11-28T14:02:11Z",
    "collected_on": "fe-dub01.corp.contoso.com",
    "product": "sfb2019",
    "product_version": "7.0.2046",
    "sip_domains": ["contoso.com"],
    "sites": ["Dublin", "London"],
    "pools": [
        {"fqdn": "fe-dub.corp.contoso.com", "role": "frontend", "site": "Dublin",
         "external_web_fqdn": "webext-dub.contoso.com"},
        {"fqdn": "dir01.corp.contoso.com", "role": "director", "site": "Dublin",
         "external_web_fqdn": "webdir.contoso.com"},
    ],
    "edge_pools": [{"fqdn": "edge-dub.corp.contoso.com", "access_fqdn": "sip.contoso.com"}],
    # Global is hardened; the Dublin site's collection, which is what applies to both pools, is not.
    "web_service_configurations": [
        {"identity": "Global", "use_windows_auth": "None", "use_certificate_auth": True, "use_pin_auth": False,
         "use_ws_fed_passive_auth": False},
        {"identity": "Site:Dublin", "use_windows_auth": "NTLM", "use_certificate_auth": True, "use_pin_auth": True,
         "use_ws_fed_passive_auth": False},
    ],
    "proxy_configurations": [
        {"identity": "Global", "use_ntlm_for_client_to_proxy_auth": False,
         "use_kerberos_for_client_to_proxy_auth": False, "use_certificate_for_client_to_proxy_auth": True},
    ],
}


def site_plan(site: str) -> dict[str, Any]:
    return {
        "format": "lync-auth-plan/1",
        "name": "site",
        "product": "sfb2019",
        "sip_domains": ["contoso.com"],
        "pools": [
            {"fqdn": "fe-dub.corp.contoso.com", "site": "Dublin", "external_web_fqdn": "webext-dub.contoso.com",
             "auth": {"external": "passive", "block_ntlm_at_registrar": True}},
            # The Director is left as it is; the plan names the wrong site for it.
            {"fqdn": "dir01.corp.contoso.com", "role": "director", "site": site,
             "external_web_fqdn": "webdir.contoso.com"},
        ],
        "edge_pools": [{"fqdn": "edge-dub.corp.contoso.com", "access_fqdn": "sip.contoso.com", "block_ntlm": True}],
        "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2016", "mfa": "extranet"},
    }


def estate() -> Estate:
    found, problems = read_state(copy.deepcopy(STATE))
    assert found is not None, problems
    return found


def test_the_director_with_the_right_site_breaks_the_promise() -> None:
    found = errors(site_plan("Dublin"), estate())
    assert ("mfa_web_password_open", "pools[1].auth.external") in found


def test_a_wrong_site_in_the_plan_does_not_hide_the_collection_that_applies_today() -> None:
    # The topology puts the Director in Dublin, whose collection keeps NTLM and PIN on. The plan says London
    # (no such collection), and the model read Global (hardened): the MFA promise passed with no error.
    found = errors(site_plan("London"), estate())
    assert ("mfa_web_password_open", "pools[1].auth.external") in found
    assert ("mfa_certificate_by_password", "pools[1].auth.external") in found


def test_a_new_collection_copies_the_topologys_site_whatever_site_the_plan_names() -> None:
    # The other way round: the plan's site (London) has the open collection, the topology's (Dublin, none of its own:
    # Global) the hardened one. A TLS-DSK pool gets a new service collection, which lync-management-shell.ps1 copies
    # from the collection of the pool's site in the topology, read at run time (Get-AppliedWebServiceConfiguration):
    # the hardened one, so the promise holds. Before, the script copied the plan's site and this broke the promise.
    state = copy.deepcopy(STATE)
    state["web_service_configurations"][1]["identity"] = "Site:London"
    found_estate, problems = read_state(state)
    assert found_estate is not None, problems
    doc = site_plan("London")
    doc["pools"][1]["auth"] = {"external": "tls_dsk", "block_ntlm_at_registrar": True}
    assert ("mfa_web_password_open", "pools[1].auth.external") not in errors(doc, found_estate)
    # With the Director in London in the topology, the copy is London's open collection: the promise breaks.
    state["pools"][1]["site"] = "London"
    found_estate, problems = read_state(state)
    assert found_estate is not None, problems
    assert ("mfa_web_password_open", "pools[1].auth.external") in errors(doc, found_estate)


def test_a_wrong_site_does_not_let_a_global_scenario_close_what_a_site_collection_keeps() -> None:
    # Modern Authentication with a scenario that blocks Windows authentication: a site collection that applies
    # to the pool may keep the global scenario from it (inferred), so its NTLM is not known to be closed.
    doc = site_plan("London")
    doc["pools"][0].pop("auth")
    doc["pools"][0]["site"] = "Dublin"
    doc["modern_auth"] = {"scenario": "block_windows_auth_externally_and_internally"}
    found = errors(doc, estate())
    assert ("mfa_web_password_open", "pools[1].auth.external") in found
