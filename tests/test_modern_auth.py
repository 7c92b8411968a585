"""Issue 16: Subscription Edition, product lifecycle and Modern Authentication through AD FS, in the plan's
domain: the reader, the refusals, the findings of every scenario, the exposure model, the impact matrix,
and the bundles of every scenario and AD FS version (rendered, hence verified: catalog, parse, quoting)."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from wizard.plan.engine import assess
from wizard.plan.exposure import Credential, Offer, State, broken_promises, exposure, promises, web_probes
from wizard.plan.findings import check_plan
from wizard.plan.impact import MODERN_AUTH_INSIDE, MODERN_AUTH_INTERNET, client_impact
from wizard.plan.model import (
    MODERN_AUTH_ADFS_VERSIONS,
    PRODUCT_FACTS,
    ModernAuthScenario,
    PlanData,
)
from wizard.plan.reader import read_plan
from wizard.plan.state_reader import read_state
from wizard.plan.writer import dumps_plan, plan_to_dict
from wizard.scripts.bundle import PlanRejected, Source, build_bundle

FIXTURES = Path(__file__).parent / "fixtures"
SE_FIXTURE = FIXTURES / "plans" / "sfbse-modern-auth-adfs2019-mfa.json"

BASE: dict[str, Any] = {
    "format": "lync-auth-plan/1",
    "name": "Modern Authentication test",
    "product": "sfbse",
    "sip_domains": ["contoso.com"],
    "pools": [{"fqdn": "pool01.contoso.com", "internal_web_fqdn": "pool01int.contoso.com",
               "external_web_fqdn": "web01.contoso.com"}],
    "edge_pools": [{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com", "block_ntlm": True}],
    "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2019"},
    "modern_auth": {},
}


def doc(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            out[section][name] = value
        elif value is None:
            out.pop(section, None)
        else:
            out[section] = value
    return out


def plan_of(d: dict[str, Any]) -> PlanData:
    plan, findings = read_plan(d)
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return plan


def codes(plan: PlanData) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in check_plan(plan):
        out.setdefault(f.code, []).append(f.field)
    return out


# ---------------------------------------------------------------------------
# The plan file


def test_modern_auth_is_read_and_written_as_the_plan_format_says() -> None:
    plan = plan_of(doc(modern_auth={"oauth_server_identity": "STS.Contoso.com.", "accept_sid_claims": True,
                                    "scenario": "block_windows_auth_externally", "office2013_clients": True}))
    ma = plan.modern_auth
    assert ma is not None and ma.oauth_server_identity == "sts.contoso.com"
    assert ma.scenario is ModernAuthScenario.BLOCK_WINDOWS_AUTH_EXTERNALLY and ma.accept_sid_claims
    written = plan_to_dict(plan)["modern_auth"]
    assert written == {"oauth_server_identity": "sts.contoso.com", "accept_sid_claims": True,
                       "scenario": "block_windows_auth_externally", "office2013_clients": True}
    assert plan_of(json.loads(dumps_plan(plan))) == plan
    # `{}` turns it on with every default: the identity is the federation service name.
    plain = plan_of(doc())
    assert plain.oauth_server_identity == "adfs.contoso.com" and plain.modern_auth_scenario is None
    # accept_sid_claims left out stays left out (the server's setting is not touched): written back the same way.
    assert plain.modern_auth is not None and plain.modern_auth.accept_sid_claims is None
    assert plan_to_dict(plain)["modern_auth"] == {"office2013_clients": False}
    off = plan_of(doc(modern_auth={"accept_sid_claims": False}))
    assert off.modern_auth is not None and off.modern_auth.accept_sid_claims is False
    assert plan_to_dict(off)["modern_auth"] == {"accept_sid_claims": False, "office2013_clients": False}


@pytest.mark.parametrize(("modern_auth", "field", "code"), [
    ({"scenario": "block_windows_auth_externaly_and_modern_auth_internally"}, "modern_auth.scenario", "invalid_choice"),
    ({"scenario": "BlockWindowsAuthExternally"}, "modern_auth.scenario", "invalid_choice"),
    ({"scenario": "custom"}, "modern_auth.scenario", "invalid_choice"),
    ({"oauth_server_identity": "sts contoso"}, "modern_auth.oauth_server_identity", "invalid_fqdn"),
    ({"accept_sid_claims": "true"}, "modern_auth.accept_sid_claims", "wrong_type"),
    ({"client_adal_auth_override": "Allowed"}, "modern_auth.client_adal_auth_override", "unknown_field"),
    ("on", "modern_auth", "wrong_type"),
])
def test_a_bad_modern_auth_is_refused_by_its_field(modern_auth: Any, field: str, code: str) -> None:
    plan, findings = read_plan(doc(modern_auth=modern_auth))
    assert plan is None
    assert (field, code) in {(f.field, f.code) for f in findings if f.severity == "error"}


def test_modern_auth_without_adfs_is_refused_on_adfs() -> None:
    plan, findings = read_plan(doc(adfs=None))
    assert plan is None
    assert [(f.field, f.code) for f in findings if f.severity == "error"] == [("adfs", "adfs_required")]


# ---------------------------------------------------------------------------
# What cannot work is refused, naming the field


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"product": "lync2013"}, "modern_auth_product_unsupported", "modern_auth"),
    ({"adfs__version": "2.0"}, "modern_auth_adfs_version", "adfs.version"),
    ({"pools": [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
                 "auth": {"external": "passive"}}]}, "modern_auth_passive_pool", "pools[0].auth.external"),
    ({"pools": [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
                 "auth": {"external": "ntlm"}}], "modern_auth": {"scenario": "block_windows_auth_externally"}},
     "modern_auth_pool_auth_conflict", "pools[0].auth.external"),
    ({"pools": [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
                 "auth": {"external": "tls_dsk"}}],
      "modern_auth": {"scenario": "block_windows_auth_externally_and_internally"}},
     "modern_auth_pool_auth_conflict", "pools[0].auth.external"),
])
def test_invalid_combinations_are_errors_naming_the_field_and_nothing_renders(changes: dict[str, Any], code: str,
                                                                               field: str) -> None:
    plan = plan_of(doc(**changes))
    found = [f for f in check_plan(plan) if f.code == code]
    assert [(f.severity, f.field) for f in found] == [("error", field)]
    with pytest.raises(PlanRejected) as caught:
        build_bundle(plan, source=Source.for_plan(plan))
    assert code in [f.code for f in caught.value.errors]


def test_a_pool_mode_is_fine_under_a_scenario_that_keeps_windows_authentication() -> None:
    plan = plan_of(doc(pools=[{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
                               "auth": {"external": "tls_dsk"}}], modern_auth={"scenario": "allow_all"}))
    assert "modern_auth_pool_auth_conflict" not in codes(plan)


# ---------------------------------------------------------------------------
# Findings: the caveats of each scenario


SCENARIOS = [None, *ModernAuthScenario]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.value if s else "none")
def test_every_scenario_gets_its_caveats(scenario: ModernAuthScenario | None) -> None:
    ma = {"scenario": scenario.value} if scenario else {}
    found = codes(plan_of(doc(modern_auth=ma)))
    for code in ("modern_auth_not_recommended", "modern_auth_clients", "modern_auth_adfs_password_surface",
                 "modern_auth_certificate_auth_kept", "modern_auth_setup_script", "modern_auth_without_mfa"):
        assert code in found, code
    blocks = scenario is not None and scenario.blocks_windows_externally
    assert ("modern_auth_web_pages" in found) == blocks
    assert ("modern_auth_office2013" in found) == blocks
    assert ("modern_auth_global_scope" in found) == ("modern_auth_enable_computer" in found) == (scenario is not None)
    assert ("modern_auth_sip_ntlm_inside" in found) == (scenario in (
        ModernAuthScenario.BLOCK_WINDOWS_AUTH_EXTERNALLY,
        ModernAuthScenario.BLOCK_WINDOWS_AUTH_EXTERNALLY_AND_MODERN_AUTH_INTERNALLY))
    assert "product_out_of_support" not in found          # Subscription Edition is supported
    clients = next(f for f in check_plan(plan_of(doc(modern_auth=ma))) if f.code == "modern_auth_clients")
    if blocks:
        for who in ("Lync 2010", "Mac", "mobile apps", "desk phones", "room systems", "Office 2013"):
            assert who in clients.message, who
    else:
        assert "no client loses sign-in" in clients.message


def test_the_web_pages_without_modern_authentication_are_named_when_windows_authentication_is_blocked_inside() -> None:
    plan = plan_of(doc(modern_auth={"scenario": "block_windows_auth_externally_and_internally"}))
    [pages] = [f for f in check_plan(plan) if f.code == "modern_auth_web_pages"]
    for page in ("Web Scheduler", "Dial-in page", "Control Panel", "Response Group settings page", "June 2023"):
        assert page in pages.message


def test_the_cumulative_updates_of_2015_are_named() -> None:
    plan = plan_of(doc(product="sfb2015", modern_auth={"scenario": "block_windows_auth_externally"}))
    [cu] = [f for f in check_plan(plan) if f.code == "modern_auth_needs_cu"]
    assert "6.0.9319.235" in cu.message and "6.0.9319.534" in cu.message
    assert "modern_auth_needs_cu" not in codes(plan_of(doc(product="sfb2019")))


# ---------------------------------------------------------------------------
# Product lifecycle


@pytest.mark.parametrize("product", ["lync2013", "sfb2015", "sfb2019", "sfbse"])
def test_every_plan_for_an_unsupported_product_says_since_when_and_the_way_forward(product: str) -> None:
    plan = plan_of(doc(product=product, modern_auth=None, adfs=None))
    found = [f for f in check_plan(plan) if f.code == "product_out_of_support"]
    facts = PRODUCT_FACTS[product]
    if facts.extended_support_end is None:
        assert found == []
        return
    [f] = found
    end = facts.extended_support_end
    assert f.severity == "warning" and f.field == "product"
    assert str(end.year) in f.message and str(end.day) in f.message
    assert facts.way_forward in f.message and facts.lifecycle_page in f.message
    way = {"lync2013": "migration", "sfb2015": "side by side", "sfb2019": "in place"}[product]
    assert way in f.message


# ---------------------------------------------------------------------------
# The exposure model


def web_path(model: Any, credential: Credential) -> Any:
    return next(p for p in model.paths if p.entry.key == "web:pool01.contoso.com" and p.credential is credential)


def registrar_path(model: Any, credential: Credential) -> Any:
    return next(p for p in model.paths if p.entry.key == "registrar:pool01.contoso.com" and p.credential is credential)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.value if s else "none")
def test_each_scenario_closes_what_the_table_says_and_leaves_pin_and_certificates(
        scenario: ModernAuthScenario | None) -> None:
    model = exposure(plan_of(doc(modern_auth={"scenario": scenario.value} if scenario else {})))
    windows = (State.CLOSED if scenario is not None and scenario.blocks_windows_externally else State.UNKNOWN)
    for credential in (Credential.NTLM, Credential.KERBEROS, Credential.PASSWORD_GRANT):
        assert web_path(model, credential).after.accepted is windows, credential
    assert web_path(model, Credential.PIN).after.accepted is State.UNKNOWN
    assert web_path(model, Credential.OAUTH).after.accepted is State.OPEN
    issue = model.issuance_for("pool01.contoso.com")
    assert issue is not None and Credential.OAUTH in issue.credentials_after
    if scenario is None:
        expected = (State.UNKNOWN, State.UNKNOWN)
    else:
        expected = (State.OPEN if scenario.facts.sip_ntlm else State.CLOSED,
                    State.OPEN if scenario.facts.sip_kerberos else State.CLOSED)
    assert (registrar_path(model, Credential.NTLM).after.accepted,
            registrar_path(model, Credential.KERBEROS).after.accepted) == expected
    assert "adfs" in {e.key for e in model.entries}
    if scenario is not None and scenario.blocks_windows_externally:
        assert "inferred" in web_path(model, Credential.NTLM).after.why


def test_without_modern_auth_the_model_has_no_oauth_path() -> None:
    model = exposure(plan_of(doc(modern_auth=None, adfs=None)))
    assert Credential.OAUTH not in {p.credential for p in model.paths}
    assert Credential.PASSWORD_GRANT in {p.credential for p in model.paths}


def test_the_mfa_promise_covers_modern_authentication_and_pin_is_what_breaks_it() -> None:
    plan = plan_of(doc(adfs__mfa="extranet", modern_auth={"scenario": "block_windows_auth_externally_and_internally"}))
    assert [p.kind for p in promises(plan)] == ["mfa", "block_ntlm"]
    broken = {(b.code, b.field) for b in broken_promises(plan)}
    assert broken == {("mfa_web_password_open", "pools[0].auth.external"),
                      ("mfa_certificate_by_password", "pools[0].auth.external")}
    message = next(b.message for b in broken_promises(plan) if b.code == "mfa_web_password_open")
    assert "PIN" in message and "passive" not in message.split("(")[-1]
    # Kerberos stays at the Registrar under the scenarios that block Windows authentication from the Internet only.
    plan = plan_of(doc(adfs__mfa="extranet", modern_auth={"scenario": "block_windows_auth_externally"}))
    assert ("mfa_registrar_password_open", "pools[0].auth.block_ntlm_at_registrar") in {
        (b.code, b.field) for b in broken_promises(plan)}


def state_doc(*, pin: bool, service_collection: bool) -> dict[str, Any]:
    collections = [{"identity": "Global", "use_windows_auth": "Negotiate", "use_certificate_auth": True,
                    "use_pin_auth": pin, "use_ws_fed_passive_auth": False}]
    if service_collection:
        collections.append({**collections[0], "identity": "service:WebServer:pool01.contoso.com"})
    return {"format": "lync-auth-state/1", "collected_at": "2026-12-01T09:30:00Z", "product": "sfbse",
            "sip_domains": ["contoso.com"],
            "pools": [{"fqdn": "pool01.contoso.com", "role": "frontend", "external_web_fqdn": "web01.contoso.com"}],
            "web_service_configurations": collections, "proxy_configurations": [
                {"identity": "Global", "use_ntlm_for_client_to_proxy_auth": True,
                 "use_kerberos_for_client_to_proxy_auth": True, "use_certificate_for_client_to_proxy_auth": True}],
            "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2019", "web_application_proxy": True,
                     "relying_parties": []}}


def test_a_state_file_shows_the_promise_kept_or_a_collection_that_may_keep_the_scenario_out() -> None:
    plan_doc = doc(adfs__mfa="extranet", modern_auth={"scenario": "block_windows_auth_externally_and_internally"})
    estate, _ = read_state(state_doc(pin=False, service_collection=False))
    plan, findings = assess(copy.deepcopy(plan_doc), estate=estate)
    assert plan is not None and not [f for f in findings if f.severity == "error"], \
        [(f.code, f.field) for f in findings if f.severity == "error"]
    # A service collection of the pool may take precedence over the global scenario: then it is not known.
    estate, _ = read_state(state_doc(pin=False, service_collection=True))
    model = exposure(plan_of(plan_doc), estate=estate)
    assert web_path(model, Credential.NTLM).after.accepted is State.UNKNOWN
    assert "may keep the scenario from it" in web_path(model, Credential.NTLM).after.why


def test_the_probes_expect_windows_authentication_and_the_password_grant_closed() -> None:
    plan = plan_of(json.loads(SE_FIXTURE.read_text(encoding="utf-8")))
    for probe in web_probes(plan):
        offers = {s.scheme: s.offer for s in probe.schemes}
        assert offers["NTLM"] is offers["Negotiate"] is offers["password_grant"] is Offer.MUST_NOT, probe.url


# ---------------------------------------------------------------------------
# The impact matrix


def test_the_impact_matrix_gains_the_modern_authentication_columns() -> None:
    matrix = client_impact(plan_of(doc(modern_auth={"scenario": "block_windows_auth_externally_and_internally"})))
    assert [c.mode for c in matrix.columns] == ["unchanged", MODERN_AUTH_INTERNET, MODERN_AUTH_INSIDE]
    assert matrix.columns[1].label == "Modern Authentication, from the Internet (every pool)"
    internet, inside = ({row.key: row.cells[i].state for row in matrix.table} for i in (1, 2))
    assert internet == {"lync2010": "breaks", "lync2013": "breaks", "sfb": "signs_in", "mac": "breaks",
                        "mobile": "breaks", "lwa": "degraded", "devices": "degraded"}
    assert inside["mac"] == "breaks" and inside["lwa"] == "degraded"
    # The pool's own column takes the worse of its cells and the Modern Authentication ones.
    assert matrix.cell("mobile", "pool01.contoso.com").state == "breaks"
    keeps = client_impact(plan_of(doc(modern_auth={"scenario": "allow_all"})))
    assert {row.cells[1].state for row in keeps.table} == {"signs_in"}
    assert [c.mode for c in client_impact(plan_of(doc(modern_auth=None, adfs=None))).columns] == ["unchanged"]


def test_office_2013_signs_in_from_the_internet_only_with_the_settings() -> None:
    with_keys = client_impact(plan_of(doc(modern_auth={"scenario": "block_windows_auth_externally",
                                                       "office2013_clients": True})))
    assert with_keys.table[1].key == "lync2013" and with_keys.table[1].cells[1].state == "degraded"


# ---------------------------------------------------------------------------
# Every scenario and AD FS version renders (the verifier checks catalog, parse and quoting on each)


@pytest.mark.parametrize("version", MODERN_AUTH_ADFS_VERSIONS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.value if s else "none")
def test_every_scenario_and_adfs_version_renders_and_verifies(version: str, scenario: ModernAuthScenario | None) -> None:
    ma = {"scenario": scenario.value, "office2013_clients": True} if scenario else {"accept_sid_claims": True}
    plan = plan_of(doc(adfs__version=version, modern_auth=ma))
    b = build_bundle(plan, source=Source.for_plan(plan))
    assert b.report.ok
    texts = b.texts
    assert {"adfs-modern-auth.ps1", "rollback-adfs-modern-auth.ps1", "lync-management-shell.ps1",
            "rollback-lync.ps1"} <= set(texts)
    adfs = texts["adfs-modern-auth.ps1"]
    setup = "Setup-AdfsOAuthTrustForSfB.ps1" if version == "2012r2" else "Setup-Adfs2016OAuthTrustForSfB.ps1"
    assert f"-ChildPath '{setup}'" in adfs
    assert "$PoolIds = @('https://pool01int.contoso.com','https://web01.contoso.com')" in adfs
    lync = texts["lync-management-shell.ps1"]
    assert "New-CsOAuthServer -Identity 'adfs.contoso.com' -Type 'ADFS'" in lync
    assert "Set-CsOAuthConfiguration -Identity 'Global' -ClientAuthorizationOAuthServerIdentity 'adfs.contoso.com'" in lync
    assert ("Set-CsAuthConfig -Scenario $AuthScenario" in lync) == (scenario is not None)
    for text in b.scripts.values():
        assert "ClientAdalAuthOverride" not in text and "Set-CsAuthConfig -Pool" not in text
    assert ("office2013-modern-auth.ps1" in texts) == (scenario is not None)
    steps = texts["runbook.md"].split("## If something goes wrong")[0]
    assert ("Enable-CsComputer" in steps) == (scenario is not None)


@pytest.mark.parametrize("product", ["sfb2015", "sfb2019", "sfbse"])
def test_every_product_with_modern_authentication_renders(product: str) -> None:
    plan = plan_of(doc(product=product, modern_auth={"scenario": "block_windows_auth_externally_and_modern_auth_internally"}))
    assert build_bundle(plan, source=Source.for_plan(plan)).report.ok


def test_subscription_edition_copies_into_a_new_collection_what_2019_does() -> None:
    """A collection the script creates takes what the plan leaves alone from the one that applied until then, on
    Subscription Edition as on 2019 (the per-product lists once named 2019 and not Subscription Edition)."""
    def created(product: str) -> str:
        plan = plan_of(doc(product=product, modern_auth=None, adfs=None, pools=[
            {"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
             "auth": {"external": "tls_dsk"}}]))
        text = build_bundle(plan, source=Source.for_plan(plan)).texts["lync-management-shell.ps1"]
        # The command itself, not the check before any change that names the cmdlet too.
        return next(line for line in text.splitlines() if line.lstrip().startswith("New-CsWebServiceConfiguration "))

    se = created("sfbse")
    assert "-UseWindowsAuth $Parent.UseWindowsAuth" in se and "-UseDomainAuthInLWA $Parent.UseDomainAuthInLWA" in se
    assert se == created("sfb2019")


def test_a_modern_authentication_plan_without_edge_or_pool_settings_still_gets_the_exposure_notes() -> None:
    plan = plan_of(doc(edge_pools=None, modern_auth={"scenario": "block_windows_auth_externally"}))
    found = codes(plan)
    assert found["exposure_web_services"] == ["pools[0].auth.external"]
    assert "exposure_adfs" in found


def test_enable_cscomputer_step_covers_every_pool_of_the_topology_not_only_the_plans() -> None:
    """Set-CsAuthConfig runs at the global level, so the scenario reaches every Front End and Director pool of
    the topology, and it takes effect on a server only after Enable-CsComputer runs there (its help: on each
    server). A runbook step naming only the plan's pools leaves any other pool on its old authentication
    settings, Windows authentication from the Internet included, while Get-CsAuthConfig already shows the
    new scenario."""
    plan = plan_of(doc(modern_auth={"scenario": "block_windows_auth_externally"}))
    b = build_bundle(plan, source=Source.for_plan(plan))
    steps = b.texts["runbook.md"].split("## If something goes wrong")[0]
    step = steps.split("Command: `Enable-CsComputer`")[1].split("###")[0]
    run_on = next(line for line in step.splitlines() if line.startswith("- Run on:"))
    assert "every pool in the topology" in run_on, run_on
    assert "not only" in run_on and "pool01.contoso.com" in run_on, run_on


def test_the_password_surface_at_adfs_says_how_to_lock_out_guessing_and_close_unused_ws_trust_endpoints() -> None:
    (f,) = [f for f in check_plan(plan_of(doc(modern_auth={}))) if f.code == "modern_auth_adfs_password_surface"]
    for words in ("Set-AdfsProperties -EnableExtranetLockout", "WS-Trust", "Get-AdfsEndpoint",
                  "Set-AdfsEndpoint -TargetAddressPath <path> -Proxy $false"):
        assert words in f.message, words


def test_the_password_surface_behind_the_plain_reverse_proxy_gives_no_advice_that_cannot_hold() -> None:
    """Published through the plain reverse proxy, AD FS takes Internet requests for internal ones: the finding
    must not say a Web Application Proxy publishes it, nor advise an extranet lockout that never counts them."""
    plan = plan_of(doc(adfs={"federation_service_name": "adfs.contoso.com", "version": "2019",
                             "published_on_reverse_proxy": True}))
    (f,) = [f for f in check_plan(plan) if f.code == "modern_auth_adfs_password_surface"]
    assert "published through the plain reverse proxy" in f.message
    assert "published through the Web Application Proxy" not in f.message
    assert "extranet lockout never counts them" in f.message
    assert "Set-AdfsProperties -EnableExtranetLockout" not in f.message
