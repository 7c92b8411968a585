"""The sign-in exposure model (wizard.plan.exposure): paths, states before and after, promises, probes."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from wizard.plan.estate import Estate, EstateAdfs, EstatePool, EstateProxy, EstateWebService
from wizard.plan.exposure import (
    BROKEN_PROMISE_CODES,
    WEB_PATHS,
    Credential,
    EntryKind,
    Offer,
    State,
    all_of,
    any_of,
    broken_promises,
    exposure,
    promises,
    sip_probes,
    web_probes,
)
from wizard.plan.model import PlanData
from wizard.plan.reader import read_plan

PLANS = Path(__file__).resolve().parent / "fixtures" / "plans"

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


def plan_of(doc: dict[str, Any]) -> PlanData:
    plan, findings = read_plan(copy.deepcopy(doc))
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return plan


def fixture(name: str) -> PlanData:
    return plan_of(json.loads((PLANS / f"{name}.json").read_text(encoding="utf-8")))


def path_of(plan: PlanData, key: str, estate: Estate | None = None):
    model = exposure(plan, estate=estate)
    return next(p for p in model.paths if p.key == key)


def codes(plan: PlanData, estate: Estate | None = None) -> set[tuple[str, str]]:
    return {(b.code, b.field) for b in broken_promises(plan, estate=estate)}


def test_state_algebra() -> None:
    assert any_of([State.CLOSED, State.UNKNOWN]) is State.UNKNOWN
    assert any_of([State.CLOSED, State.OPEN, State.UNKNOWN]) is State.OPEN
    assert any_of([]) is State.CLOSED
    assert all_of([State.OPEN, State.UNKNOWN]) is State.UNKNOWN
    assert all_of([State.OPEN, State.CLOSED, State.UNKNOWN]) is State.CLOSED
    assert all_of([State.OPEN, State.OPEN]) is State.OPEN


def test_the_model_lists_every_entry_point_kind() -> None:
    model = exposure(plan_of(PASSIVE_MFA))
    kinds = {e.kind for e in model.entries}
    assert kinds == {EntryKind.EDGE_SIP, EntryKind.REGISTRAR, EntryKind.WEB_SERVICES, EntryKind.ADFS}
    web = next(e for e in model.entries if e.kind is EntryKind.WEB_SERVICES)
    assert web.host == "web01.contoso.com" and web.paths == tuple(p for p, _ in WEB_PATHS)
    assert {"/WebTicket/WebTicketService.svc", "/CertProv/CertProvisioningService.svc", "/abs/",
            "/GroupExpansion/service.svc", "/mcx/", "/RgsClients/", "/RequestHandlerExt/", "/ucwa/",
            "/passiveauth/"} <= set(web.paths)


def test_a_plan_that_keeps_its_mfa_promise_has_no_password_only_path_after() -> None:
    plan = plan_of(PASSIVE_MFA)
    model = exposure(plan)
    assert model.password_only(after=True) == ()
    assert broken_promises(plan) == []
    # Before the plan nothing is known: as today is unknown, never closed.
    assert all(p.before.accepted is State.UNKNOWN for p in model.paths)


def test_without_an_estate_what_the_plan_leaves_alone_is_unknown_never_closed() -> None:
    doc = copy.deepcopy(PASSIVE_MFA)
    doc["edge_pools"][0]["block_ntlm"] = False
    doc["pools"][0]["auth"]["block_ntlm_at_registrar"] = False
    plan = plan_of(doc)
    assert path_of(plan, "edge:edge.contoso.com/ntlm").after.accepted is State.UNKNOWN
    assert path_of(plan, "registrar:pool01.contoso.com/kerberos").after.accepted is State.UNKNOWN
    assert path_of(plan, "edge:edge.contoso.com/ntlm").after.password_only is State.UNKNOWN


def test_passive_closes_windows_authentication_and_pin_on_the_web_services() -> None:
    plan = plan_of(PASSIVE_MFA)
    for credential in ("ntlm", "kerberos", "pin"):
        assert path_of(plan, f"web:pool01.contoso.com/{credential}").after.accepted is State.CLOSED
    adfs = path_of(plan, "web:pool01.contoso.com/adfs")
    assert adfs.after.accepted is State.OPEN and adfs.after.password_only is State.CLOSED


def test_tls_dsk_keeps_windows_authentication_so_certificates_come_for_a_password() -> None:
    doc = copy.deepcopy(PASSIVE_MFA)
    doc["pools"].append({"fqdn": "pool02.contoso.com", "external_web_fqdn": "web02.contoso.com",
                         "auth": {"external": "tls_dsk", "block_ntlm_at_registrar": True}})
    plan = plan_of(doc)
    model = exposure(plan)
    issue = model.issuance_for("pool02.contoso.com")
    assert issue is not None and issue.after.password_only is State.OPEN
    assert Credential.NTLM in issue.by_password_after
    # Through the blocking Edge, a certificate obtained with a password signs in with TLS-DSK.
    tls = path_of(plan, "edge:edge.contoso.com/client_certificate")
    assert tls.after.accepted is State.OPEN and tls.after.password_only is State.OPEN


def test_no_edge_in_the_plan_is_an_unknown_edge() -> None:
    doc = copy.deepcopy(PASSIVE_MFA)
    del doc["edge_pools"]
    plan = plan_of(doc)
    edge = path_of(plan, "edge:*/ntlm")
    assert edge.after.password_only is State.UNKNOWN and edge.field == "edge_pools"
    assert ("mfa_edge_not_in_plan", "edge_pools") in codes(plan)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["edge_pools"][0].update(block_ntlm=False), ("mfa_edge_password_open", "edge_pools[0].block_ntlm")),
    (lambda d: d["pools"][0]["auth"].update(block_ntlm_at_registrar=False),
     ("mfa_registrar_password_open", "pools[0].auth.block_ntlm_at_registrar")),
    (lambda d: d["adfs"].update(published_on_reverse_proxy=True),
     ("mfa_adfs_not_extranet", "adfs.published_on_reverse_proxy")),
    (lambda d: d["pools"].append({"fqdn": "pool02.contoso.com", "external_web_fqdn": "web02.contoso.com",
                                  "auth": {"external": "ntlm"}}),
     ("mfa_web_password_open", "pools[1].auth.external")),
])
def test_each_open_path_breaks_the_mfa_promise_on_the_field_that_closes_it(change, expected) -> None:
    doc = copy.deepcopy(PASSIVE_MFA)
    change(doc)
    found = codes(plan_of(doc))
    assert expected in found, found
    assert {code for code, _ in found} <= set(BROKEN_PROMISE_CODES)


def test_a_passive_director_in_front_of_a_tls_dsk_pool_breaks_mfa_through_certprov() -> None:
    doc = copy.deepcopy(PASSIVE_MFA)
    doc["pools"] = [
        {"fqdn": "fe01.contoso.com", "external_web_fqdn": "webfe.contoso.com",
         "auth": {"external": "tls_dsk", "block_ntlm_at_registrar": True}},
        {"fqdn": "dir01.contoso.com", "role": "director", "external_web_fqdn": "webdir.contoso.com",
         "auth": {"external": "passive", "block_ntlm_at_registrar": True}},
    ]
    plan = plan_of(doc)
    broken = {b.code: b for b in broken_promises(plan)}
    assert broken["mfa_certificate_by_password"].field == "pools[0].auth.external"
    assert "CertProv of fe01.contoso.com" in broken["mfa_certificate_by_password"].message
    # The Director's Registrar accepts that certificate for users of every pool.
    director = path_of(plan, "registrar:dir01.contoso.com/client_certificate")
    assert director.after.password_only is State.OPEN


def test_extranet_mfa_through_the_plain_reverse_proxy_never_fires_but_always_does() -> None:
    doc = copy.deepcopy(PASSIVE_MFA)
    doc["adfs"]["published_on_reverse_proxy"] = True
    assert path_of(plan_of(doc), "adfs/adfs").after.password_only is State.OPEN
    assert path_of(plan_of(doc), "adfs/adfs_windows").after.accepted is State.OPEN
    doc["adfs"]["mfa"] = "always"
    assert path_of(plan_of(doc), "adfs/adfs").after.password_only is State.CLOSED
    assert codes(plan_of(doc)) == set()


def test_the_ws_trust_password_endpoints_take_a_password_that_mfa_stops_short_of_a_token() -> None:
    # AD FS checks the password posted to usernamemixed before its MFA rules apply (they act after the first step
    # of authentication), and a WS-Trust client gets no token where they ask for a second factor: not a way in with
    # a password alone, but a password check from the Internet (guessing, lockout), reachable as today.
    path = path_of(plan_of(PASSIVE_MFA), "adfs/adfs_ws_trust")
    assert path.credential is Credential.ADFS_WS_TRUST and path.field == "adfs.mfa"
    assert path.after.accepted is State.UNKNOWN
    assert path.after.password_only is State.CLOSED
    assert "lockout" in path.after.why and "no token" in path.after.why
    assert codes(plan_of(PASSIVE_MFA)) == set()


def test_the_ws_trust_password_endpoints_issue_a_token_where_the_extranet_rule_never_fires() -> None:
    doc = copy.deepcopy(PASSIVE_MFA)
    doc["adfs"]["published_on_reverse_proxy"] = True
    plan = plan_of(doc)
    path = path_of(plan, "adfs/adfs_ws_trust")
    assert path.after.password_only is not State.CLOSED
    broken = {b.code: b for b in broken_promises(plan)}
    assert "adfs/adfs_ws_trust" in {p.key for p in broken["mfa_adfs_not_extranet"].paths}
    doc["adfs"]["mfa"] = "none"
    assert path_of(plan_of(doc), "adfs/adfs_ws_trust").after.password_only is not State.CLOSED


def test_block_ntlm_is_a_promise_the_model_shows_kept() -> None:
    plan = plan_of(PASSIVE_MFA)
    assert [p.kind for p in promises(plan)] == ["mfa", "block_ntlm"]
    assert path_of(plan, "edge:edge.contoso.com/ntlm").after.accepted is State.CLOSED
    assert path_of(plan, "edge:edge.contoso.com/client_certificate").after.accepted is State.OPEN


def test_no_promise_without_mfa() -> None:
    doc = copy.deepcopy(PASSIVE_MFA)
    doc["adfs"]["mfa"] = "none"
    doc["edge_pools"][0]["block_ntlm"] = False
    assert codes(plan_of(doc)) == set()


def test_the_s01_example_keeps_its_promises() -> None:
    assert broken_promises(fixture("s01-passive-extranet-mfa")) == []


def _estate(**kw: Any) -> Estate:
    return Estate(collected_at="2024-01-01T00:00:00Z", product="sfb2019", **kw)


def test_an_estate_gives_before_and_what_the_plan_leaves_alone() -> None:
    doc = copy.deepcopy(PASSIVE_MFA)
    doc["edge_pools"][0]["block_ntlm"] = False
    plan = plan_of(doc)
    estate = _estate(
        proxy_configurations=(EstateProxy("Global", True, True, True),
                              EstateProxy("service:EdgeServer:edge.contoso.com", False, False, True)),
        web_service_configurations=(EstateWebService("Global", use_windows_auth="Negotiate", use_pin_auth=True,
                                                     use_certificate_auth=True, use_ws_fed_passive_auth=False),),
        adfs=EstateAdfs(web_application_proxy=True),
    )
    edge = path_of(plan, "edge:edge.contoso.com/ntlm", estate)
    assert edge.before.accepted is State.CLOSED and edge.after.accepted is State.CLOSED
    web = path_of(plan, "web:pool01.contoso.com/ntlm", estate)
    assert web.before.accepted is State.OPEN and web.after.accepted is State.CLOSED
    registrar = path_of(plan, "registrar:pool01.contoso.com/ntlm", estate)
    assert registrar.before.accepted is State.OPEN and registrar.after.accepted is State.CLOSED
    assert codes(plan, estate) == set()


def test_an_estate_pool_the_plan_leaves_out_is_part_of_the_model() -> None:
    plan = plan_of(PASSIVE_MFA)
    estate = _estate(pools=(EstatePool("legacy.contoso.com", external_web_fqdn="legacy.contoso.com"),),
                     web_service_configurations=(EstateWebService("Global", use_windows_auth="NTLM",
                                                                  use_pin_auth=False, use_certificate_auth=True),))
    web = path_of(plan, "web:legacy.contoso.com/ntlm", estate)
    assert not web.entry.in_plan and web.after.accepted is State.OPEN and web.field == "pools"
    assert ("mfa_web_password_open", "pools") in codes(plan, estate)


def test_an_estate_without_a_web_application_proxy_makes_extranet_mfa_unreachable() -> None:
    plan = plan_of(PASSIVE_MFA)
    estate = _estate(adfs=EstateAdfs(web_application_proxy=False))
    assert ("mfa_adfs_not_extranet", "adfs.published_on_reverse_proxy") in codes(plan, estate)


def test_web_probes_cover_every_host_and_path() -> None:
    plan = fixture("s01-passive-extranet-mfa")
    probes = web_probes(plan)
    hosts = {p.host for p in probes}
    assert hosts == {"lyncweb.contoso.com", "lyncdiscover.contoso.com"}
    assert len(probes) == 2 * len(WEB_PATHS)
    ticket = next(p for p in probes if p.url == "https://lyncweb.contoso.com/WebTicket/WebTicketService.svc")
    assert {s.scheme: s.offer for s in ticket.schemes} == {"NTLM": Offer.MUST_NOT, "Negotiate": Offer.MUST_NOT,
                                                          "password_grant": Offer.MUST_NOT}
    passive = next(p for p in probes if p.url == "https://lyncdiscover.contoso.com/passiveauth/")
    assert {s.scheme: s.offer for s in passive.schemes}["adfs_redirect"] is Offer.MAY
    assert passive.pool == "lyncpool01.contoso.com" and passive.published_as == "autodiscover"


def test_web_probes_of_a_pool_that_keeps_windows_authentication() -> None:
    plan = fixture("s02-tls-dsk-30-day-certificates")
    probe = next(p for p in web_probes(plan) if p.host == "sfbweb.fabrikam.com" and p.path == "/ucwa/")
    assert {s.scheme: s.offer for s in probe.schemes} == {"NTLM": Offer.MAY, "Negotiate": Offer.MAY,
                                                         "password_grant": Offer.MAY}


def test_sip_probes_per_access_edge() -> None:
    blocking = sip_probes(plan_of(PASSIVE_MFA))
    assert [(p.edge, p.access_fqdn) for p in blocking] == [("edge.contoso.com", "sip.contoso.com")]
    assert {s.scheme: s.offer for s in blocking[0].schemes} == {
        "NTLM": Offer.MUST_NOT, "Kerberos": Offer.MUST_NOT, "TLS-DSK": Offer.MAY}
    kept = sip_probes(fixture("s03-ntlm-kept-mobility-hardened"))
    assert {s.scheme: s.offer for s in kept[0].schemes} == {
        "NTLM": Offer.UNKNOWN, "Kerberos": Offer.UNKNOWN, "TLS-DSK": Offer.UNKNOWN}


def test_adfs_probe_follows_how_adfs_is_published() -> None:
    """Issue 13: AD FS /adfs/ls/ offers Windows integrated sign-in to the Internet only without a WAP."""
    from wizard.plan.exposure import ADFS_PATH, adfs_probes

    through_wap = adfs_probes(fixture("s01-passive-extranet-mfa"))[0]
    assert through_wap.url == f"https://adfs.contoso.com{ADFS_PATH}"
    assert {s.scheme: s.offer for s in through_wap.schemes} == {"NTLM": Offer.MUST_NOT, "Negotiate": Offer.MUST_NOT}
    plain = adfs_probes(fixture("multi-domain-director-idn"))[0]
    assert plain.path == ADFS_PATH
    assert {s.scheme: s.offer for s in plain.schemes} == {"NTLM": Offer.MAY, "Negotiate": Offer.MAY}
    assert adfs_probes(fixture("s02-tls-dsk-30-day-certificates")) == ()


def test_each_closed_path_says_whether_verify_external_checks_it_from_the_internet() -> None:
    """The runbook and the review page say, per path the plan leaves closed, whether verify-external.ps1 checks
    it from the Internet after the change; PIN and the Registrar cannot be, and say why."""
    from wizard.plan.exposure import internet_checks

    plan = plan_of(PASSIVE_MFA)
    model = exposure(plan)
    checks = internet_checks(plan, model)
    closed = {p.key for p in model.paths if p.after.accepted is State.CLOSED}
    assert set(checks) == closed
    assert checks["edge:edge.contoso.com/ntlm"].startswith("from the Internet") and "sip.contoso.com" in \
        checks["edge:edge.contoso.com/ntlm"]
    for credential in ("ntlm", "kerberos", "password_grant"):
        assert checks[f"web:pool01.contoso.com/{credential}"].startswith("from the Internet")
    assert checks["adfs/adfs_windows"].startswith("from the Internet") and "windowstransport" in \
        checks["adfs/adfs_windows"]
    for key in ("web:pool01.contoso.com/pin", "registrar:pool01.contoso.com/ntlm",
                "registrar:pool01.contoso.com/kerberos"):
        assert checks[key].startswith("not from the Internet"), key
    # An Edge the plan names no Access Edge FQDN for is not probed.
    doc = copy.deepcopy(PASSIVE_MFA)
    doc["edge_pools"][0].pop("access_fqdn")
    plan = plan_of(doc)
    assert internet_checks(plan, exposure(plan))["edge:edge.contoso.com/ntlm"].startswith("not from the Internet")


def test_a_path_closed_only_as_the_state_file_shows_it_today_is_not_said_to_be_checked_from_the_internet() -> None:
    """verify-external.ps1 is built from the plan alone: where a path is closed after the plan only because the state
    file shows it closed today (the plan keeps Windows authentication on a TLS-DSK pool, or leaves an Edge as it is),
    the script expects it as today and would pass with it open. The estate page must not say it checks it."""
    from wizard.plan.exposure import internet_checks

    doc = copy.deepcopy(PASSIVE_MFA)
    doc["pools"] = [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
                     "auth": {"external": "tls_dsk"}}]
    doc["edge_pools"] = [{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com"}]
    doc["adfs"] = None
    plan = plan_of(doc)
    estate = Estate(collected_at="2026-12-01T09:30:00Z", product="sfb2019",
                    pools=(EstatePool("pool01.contoso.com", external_web_fqdn="web01.contoso.com"),),
                    web_service_configurations=(EstateWebService("Global", use_windows_auth="None", use_pin_auth=False,
                                                                 use_certificate_auth=True,
                                                                 use_ws_fed_passive_auth=False),),
                    proxy_configurations=(EstateProxy("Global", use_ntlm_for_client_to_proxy_auth=False,
                                                      use_kerberos_for_client_to_proxy_auth=False,
                                                      use_certificate_for_client_to_proxy_auth=True),))
    model = exposure(plan, estate=estate)
    checks = internet_checks(plan, model)
    for key in ("web:pool01.contoso.com/ntlm", "web:pool01.contoso.com/kerberos",
                "web:pool01.contoso.com/password_grant", "edge:edge.contoso.com/ntlm",
                "edge:edge.contoso.com/kerberos"):
        path = next(p for p in model.paths if p.key == key)
        assert path.after.accepted is State.CLOSED, key
        assert checks[key].startswith("not from the Internet"), (key, checks[key])
        assert "state file" in checks[key], (key, checks[key])
    # What the plan itself closes stays checked.
    blocked = copy.deepcopy(doc)
    blocked["edge_pools"][0]["block_ntlm"] = True
    plan = plan_of(blocked)
    assert internet_checks(plan, exposure(plan, estate=estate))["edge:edge.contoso.com/ntlm"].startswith(
        "from the Internet")


def test_the_runbook_matrix_says_how_each_closed_path_is_checked() -> None:
    from wizard.scripts.bundle import Source, build_bundle

    plan = plan_of(PASSIVE_MFA)
    runbook = build_bundle(plan, source=Source.for_plan(plan)).texts["runbook.md"]
    table = runbook.partition("## Who can sign in from the Internet")[2].partition("\n## ")[0]
    header = next(line for line in table.splitlines() if line.startswith("| Where"))
    assert header.endswith("| After | Checked after the change |")
    pin = next(line for line in table.splitlines() if "PIN" in line)
    assert "| closed | not from the Internet" in pin


def test_the_review_page_rows_say_how_each_closed_path_is_checked() -> None:
    from wizard.scripts.exposure_view import exposure_context

    rows = exposure_context(plan_of(PASSIVE_MFA))["rows"]
    pin = next(r for r in rows if r["entry"] == "Web services of pool pool01.contoso.com"
               and "PIN" in r["credential"])
    assert pin["checked"].startswith("not from the Internet")
    assert all(r["checked"] == "" for r in rows if r["after"] != "closed")


# ---------------------------------------------------------------------------
# Modern Authentication where it cannot be: CertProv issues no certificate after an OAuth sign-in


def _issued_with(plan: PlanData, pool: str) -> tuple[Credential, ...]:
    issue = next(i for i in exposure(plan).issuance if i.pool == pool)
    return issue.credentials_after


def test_lync_server_2013_certprov_takes_no_modern_authentication():
    """Lync Server 2013 has no Modern Authentication (no OAuth server of AD FS type, no client authorization
    server): its CertProv never issues a certificate after an OAuth sign-in, before or after the plan, so the
    exposure notes must not say it does."""
    plan = fixture("s01-passive-extranet-mfa")
    assert plan.product == "lync2013"
    assert Credential.OAUTH not in _issued_with(plan, "lyncpool01.contoso.com")
    issue = next(i for i in exposure(plan).issuance if i.pool == "lyncpool01.contoso.com")
    assert Credential.OAUTH not in issue.by_password_after
    tls = plan_of({**PASSIVE_MFA, "product": "lync2013", "adfs": None, "edge_pools": [],
                   "pools": [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
                              "auth": {"external": "tls_dsk"}}]})
    assert Credential.OAUTH not in _issued_with(tls, "pool01.contoso.com")


def test_a_plan_with_a_passive_pool_leaves_no_modern_authentication_on_skype_for_business():
    """On Skype for Business Server the Management Shell script of a plan with a passive pool stops before its first
    change when the global OAuth configuration names a client authorization server (passive authentication and
    Modern Authentication cannot share a deployment): once it has run, no pool takes an OAuth sign-in."""
    plan = plan_of({**PASSIVE_MFA, "pools": [
        *PASSIVE_MFA["pools"],
        {"fqdn": "pool02.contoso.com", "external_web_fqdn": "web02.contoso.com", "auth": {"external": "tls_dsk"}}]})
    assert Credential.OAUTH not in _issued_with(plan, "pool01.contoso.com")
    assert Credential.OAUTH not in _issued_with(plan, "pool02.contoso.com")
    # Without a passive pool the plan says nothing of Modern Authentication on Skype for Business: as today.
    tls = plan_of({**PASSIVE_MFA, "adfs": None, "pools": [
        {"fqdn": "pool02.contoso.com", "external_web_fqdn": "web02.contoso.com", "auth": {"external": "tls_dsk"}}]})
    assert Credential.OAUTH in _issued_with(tls, "pool02.contoso.com")
