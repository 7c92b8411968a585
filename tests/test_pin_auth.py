"""`pools[].auth.block_pin_auth`: PIN authentication off on a pool's web services, end to end.

The plan file (reader and writer), the scripts (`-UsePinAuth $false` and its rollback, run against the fake
configuration store), the verifier and the catalog, the exposure model and the MFA promise, the client
impact, the findings, the explanation and the wizard's authentication step.
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.base import BaseTestCase, make_plan, set_draft
from tests.psfakes import FakeLync
from tests.test_examples_bundle import parse_commands
from tests.test_rollback_runs import Site
from tests.test_wizard_views import step_post
from wizard.plan.engine import assess
from wizard.plan.explain import FIELDS
from wizard.plan.exposure import Credential, State, broken_promises, exposure
from wizard.plan.findings import FINDING_CODES, check_plan
from wizard.plan.impact import client_impact
from wizard.plan.intended import intended_collections
from wizard.plan.model import PlanData
from wizard.plan.reader import read_plan
from wizard.plan.state_reader import read_state
from wizard.plan.writer import dumps_plan, plan_to_dict
from wizard.proof.catalog import load_catalog
from wizard.scripts.bundle import Bundle, Source, build_bundle

ROOT = Path(__file__).resolve().parent.parent

BASE: dict[str, Any] = {
    "format": "lync-auth-plan/1",
    "name": "PIN off",
    "product": "sfb2019",
    "sip_domains": ["contoso.com"],
    "pools": [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
               "auth": {"external": "tls_dsk", "block_pin_auth": True}},
              {"fqdn": "pool02.contoso.com", "external_web_fqdn": "web02.contoso.com",
               "auth": {"external": "ntlm", "block_pin_auth": True}}],
    "edge_pools": [{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com", "block_ntlm": True}],
}


def doc_with(pin: bool | None = True, *, external: str | None = None, product: str | None = None,
             **top: Any) -> dict[str, Any]:
    """Return BASE with block_pin_auth set to `pin` on every pool (None: the key left out)."""
    doc = copy.deepcopy(BASE)
    for pool in doc["pools"]:
        if pin is None:
            pool["auth"].pop("block_pin_auth")
        else:
            pool["auth"]["block_pin_auth"] = pin
        if external is not None:
            pool["auth"]["external"] = external
    if product is not None:
        doc["product"] = product
    doc.update(copy.deepcopy(top))
    return doc


def plan_of(doc: dict[str, Any]) -> PlanData:
    plan, findings = read_plan(copy.deepcopy(doc))
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return plan


@lru_cache(maxsize=8)
def _bundle(text: str) -> Bundle:
    plan = plan_of(json.loads(text))
    return build_bundle(plan, source=Source.for_plan(plan))


def bundle_of(doc: dict[str, Any]) -> Bundle:
    return _bundle(json.dumps(doc, sort_keys=True))


def web_commands(script: str, pool: str) -> list[Any]:
    identity = f"service:WebServer:{pool}"
    return [c for c in parse_commands(script)
            if c.name in ("new-cswebserviceconfiguration", "set-cswebserviceconfiguration")
            and c.get("Identity") == identity]


# ---------------------------------------------------------------------------
# The plan file


def test_the_reader_takes_true_and_false_and_defaults_to_false() -> None:
    assert [p.auth.block_pin_auth for p in plan_of(doc_with(True)).pools] == [True, True]
    assert [p.auth.block_pin_auth for p in plan_of(doc_with(False)).pools] == [False, False]
    assert [p.auth.block_pin_auth for p in plan_of(doc_with(None)).pools] == [False, False]


@pytest.mark.parametrize("value", ["true", "yes", 1, [True]])
def test_the_reader_refuses_anything_but_a_boolean_naming_the_field(value: Any) -> None:
    doc = doc_with(None)
    doc["pools"][1]["auth"]["block_pin_auth"] = value
    plan, findings = read_plan(doc)
    assert plan is None
    assert ("pools[1].auth.block_pin_auth", "wrong_type") in {(f.field, f.code) for f in findings
                                                                 if f.severity == "error"}


def test_the_writer_round_trips_it_and_leaves_it_out_when_false() -> None:
    plan = plan_of(doc_with(True))
    written = plan_to_dict(plan)
    assert [p["auth"]["block_pin_auth"] for p in written["pools"]] == [True, True]
    again, _ = read_plan(json.loads(dumps_plan(plan)))
    assert again == plan
    for pin in (False, None):
        off = plan_of(doc_with(pin))
        assert all("block_pin_auth" not in p["auth"] for p in plan_to_dict(off)["pools"])
        # The same bytes as a plan written before the setting existed.
        assert dumps_plan(off) == dumps_plan(plan_of(doc_with(None)))


# ---------------------------------------------------------------------------
# The scripts


@pytest.mark.parametrize("product", ["lync2013", "sfb2015", "sfb2019", "sfbse"])
def test_the_catalog_has_use_pin_auth_on_both_cmdlets_for_every_product(product: str) -> None:
    catalog = load_catalog()
    for cmdlet in ("Set-CsWebServiceConfiguration", "New-CsWebServiceConfiguration"):
        check = catalog.check_parameter(cmdlet, "UsePinAuth", product=product)
        assert check.status == "ok", check.message


@pytest.mark.parametrize("product", ["lync2013", "sfb2015", "sfb2019", "sfbse"])
def test_the_script_turns_pin_off_on_each_pool_and_the_verifier_passes(product: str) -> None:
    bundle = bundle_of(doc_with(True, product=product))
    assert json.loads(bundle.texts["verification.json"])["ok"] is True
    lync = bundle.texts["lync-management-shell.ps1"]
    for pool in ("pool01.contoso.com", "pool02.contoso.com"):
        # The New- that creates the collection and the Set- for an existing one (Skype for Business also has a
        # Set- per authentication-type override copied into a new collection: those never name PIN).
        commands = [c for c in web_commands(lync, pool) if c.get("OverrideAuthTypeForExternalClients") is None
                    and c.get("OverrideAuthTypeForInternalClients") is None]
        assert sorted(c.name for c in commands) == ["new-cswebserviceconfiguration", "set-cswebserviceconfiguration"]
        for command in commands:
            # Set by the plan, never also copied from the parent collection.
            assert command.get("UsePinAuth") == "$false", command.text
            assert command.text.count("-UsePinAuth") == 1, command.text
    assert lync.count("-UsePinAuth $false") == 4
    assert "'UsePinAuth' = $false" in bundle.texts["verify-internal.ps1"]


def test_without_it_the_script_leaves_pin_alone() -> None:
    lync = bundle_of(doc_with(False)).texts["lync-management-shell.ps1"]
    assert "-UsePinAuth $false" not in lync
    # The TLS-DSK pool still gets its collection (PIN copied from the parent); the NTLM pool needs none.
    [new] = [c for c in web_commands(lync, "pool01.contoso.com") if c.name == "new-cswebserviceconfiguration"]
    assert new.get("UsePinAuth") == "$Parent.UsePinAuth"
    assert web_commands(lync, "pool02.contoso.com") == []


def test_on_a_passive_pool_it_changes_no_script() -> None:
    passive = {**BASE, "pools": [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
                                  "auth": {"external": "passive", "block_ntlm_at_registrar": True}}],
               "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2019", "mfa": "extranet"}}
    with_pin = copy.deepcopy(passive)
    with_pin["pools"][0]["auth"]["block_pin_auth"] = True
    before, after = bundle_of(passive).texts, bundle_of(with_pin).texts
    for name in ("lync-management-shell.ps1", "rollback-lync.ps1", "verify-internal.ps1"):
        assert after[name] == before[name], name
    # Nor who signs in: the phones' row already says passive has no PIN sign-in.
    assert client_impact(plan_of(with_pin)) == client_impact(plan_of(passive))
    found = [f for f in check_plan(plan_of(with_pin)) if f.code.startswith("pin_auth")]
    assert [(f.code, f.severity, f.field) for f in found] == [
        ("pin_auth_blocked_passive", "info", "pools[0].auth.block_pin_auth")]


def test_the_intended_settings_name_the_field() -> None:
    collections = {c.identity: c for c in intended_collections(plan_of(doc_with(True)))}
    for i, pool in enumerate(("pool01.contoso.com", "pool02.contoso.com")):
        settings = {s.parameter: s for s in collections[f"service:WebServer:{pool}"].settings}
        assert (settings["UsePinAuth"].value, settings["UsePinAuth"].field) == (False,
                                                                                f"pools[{i}].auth.block_pin_auth")


def test_the_rollback_puts_pin_back_and_removes_what_the_change_created(tmp_path: Path) -> None:
    texts = bundle_of(doc_with(True)).texts
    store = FakeLync(pools=("pool01.contoso.com", "pool02.contoso.com", "edge.contoso.com"))
    webs = store.collections["CsWebServiceConfiguration"]
    # pool01 has a collection of its own with PIN on; pool02's is created by the change.
    webs.items["service:WebServer:pool01.contoso.com"] = {**webs.defaults, "UsePinAuth": True}
    site = Site(tmp_path, texts, store, "lync-management-shell.ps1", "rollback-lync.ps1")
    before = store.state()
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    assert webs.items["service:WebServer:pool01.contoso.com"]["UsePinAuth"] is False
    assert webs.items["service:WebServer:pool02.contoso.com"]["UsePinAuth"] is False
    start = len(store.parameters)
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert store.state() == before
    restores = [(cmdlet, identity, names - {"WhatIf"}) for cmdlet, identity, names in store.parameters[start:]
                if "UsePinAuth" in names]
    assert restores == [("Set-CsWebServiceConfiguration", "service:WebServer:pool01.contoso.com",
                         {"Identity", "UsePinAuth"})]
    assert "Web services service:WebServer:pool01.contoso.com: UseCertificateAuth, UsePinAuth" in \
        texts["rollback-lync.ps1"]


# ---------------------------------------------------------------------------
# The exposure model and the MFA promise


def pin_path(plan: PlanData, pool: str, **estate: Any) -> Any:
    model = exposure(plan, **estate)
    return next(p for p in model.paths if p.entry.key == f"web:{pool}" and p.credential is Credential.PIN)


def test_the_exposure_model_closes_pin_on_the_pool() -> None:
    on, off = plan_of(doc_with(True)), plan_of(doc_with(False))
    for pool in ("pool01.contoso.com", "pool02.contoso.com"):
        assert pin_path(on, pool).after.accepted is State.CLOSED
        assert "block_pin_auth" in pin_path(on, pool).after.why
        assert pin_path(off, pool).after.accepted is State.UNKNOWN
        issue = exposure(on).issuance_for(pool)
        assert issue is not None and Credential.PIN not in issue.credentials_after
    # The NTLM pool's collection is written for PIN alone, with the plan's UseCertificateAuth: the model counts
    # certificate authentication as set (open), no longer as today (unknown).
    assert exposure(on).issuance_for("pool02.contoso.com").after.accepted is State.OPEN
    assert exposure(off).issuance_for("pool02.contoso.com").after.accepted is State.UNKNOWN


MFA_PLAN: dict[str, Any] = {
    "format": "lync-auth-plan/1", "name": "MFA, PIN off on the TLS-DSK pool", "product": "sfb2019",
    "sip_domains": ["contoso.com"],
    "pools": [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
               "auth": {"external": "passive", "block_ntlm_at_registrar": True}},
              {"fqdn": "pool02.contoso.com", "external_web_fqdn": "web02.contoso.com",
               "auth": {"external": "tls_dsk", "block_ntlm_at_registrar": True}}],
    "edge_pools": [{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com", "block_ntlm": True}],
    "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2016", "mfa": "extranet"},
}
_GLOBAL_WEB = {"identity": "Global", "use_windows_auth": "Negotiate", "use_certificate_auth": True,
               "use_pin_auth": True, "use_ws_fed_passive_auth": False}
# The TLS-DSK pool's web services already refuse Windows authentication (certificates are issued inside only):
# PIN is the one password-like sign-in left there.
MFA_STATE: dict[str, Any] = {
    "format": "lync-auth-state/1", "collected_at": "2026-12-01T09:30:00Z", "product": "sfb2019",
    "sip_domains": ["contoso.com"],
    "pools": [{"fqdn": "pool01.contoso.com", "role": "frontend", "external_web_fqdn": "web01.contoso.com"},
              {"fqdn": "pool02.contoso.com", "role": "frontend", "external_web_fqdn": "web02.contoso.com"}],
    "web_service_configurations": [_GLOBAL_WEB, {**_GLOBAL_WEB, "identity": "service:WebServer:pool02.contoso.com",
                                                 "use_windows_auth": "None"}],
    "proxy_configurations": [{"identity": "Global", "use_ntlm_for_client_to_proxy_auth": True,
                              "use_kerberos_for_client_to_proxy_auth": True,
                              "use_certificate_for_client_to_proxy_auth": True}],
    "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2016", "web_application_proxy": True,
             "relying_parties": []},
}


def mfa_errors(pin: bool) -> dict[tuple[str, str], str]:
    estate, problems = read_state(copy.deepcopy(MFA_STATE))
    assert estate is not None, problems
    doc = copy.deepcopy(MFA_PLAN)
    if pin:
        doc["pools"][1]["auth"]["block_pin_auth"] = True
    plan, findings = assess(doc, estate=estate)
    assert plan is not None
    return {(f.code, f.field): f.message for f in findings if f.severity == "error"}


def test_an_mfa_promise_holds_once_pin_is_off_without_an_accepted_risk() -> None:
    before = mfa_errors(pin=False)
    assert set(before) == {("mfa_web_password_open", "pools[1].auth.external"),
                           ("mfa_certificate_by_password", "pools[1].auth.external")}
    # The fix names the new field, not passive authentication.
    for message in before.values():
        assert "set pools[1].auth.block_pin_auth to true" in message
    assert mfa_errors(pin=True) == {}


def test_under_a_scenario_that_blocks_windows_authentication_pin_stays_outside_the_plan() -> None:
    # A pool mode is refused there (its service collection could keep the global scenario from the pool), so
    # block_pin_auth cannot be given; the fix still says to turn PIN off outside the plan, as before.
    doc = {**copy.deepcopy(MFA_PLAN), "product": "sfbse",
           "pools": [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com",
                      "auth": {"external": "tls_dsk", "block_pin_auth": True}}],
           "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2019", "mfa": "extranet"},
           "modern_auth": {"scenario": "block_windows_auth_externally_and_internally"}}
    assert ("modern_auth_pool_auth_conflict", "pools[0].auth.external") in {
        (f.code, f.field) for f in check_plan(plan_of(doc)) if f.severity == "error"}
    doc["pools"][0].pop("auth")
    web = next(b for b in broken_promises(plan_of(doc)) if b.code == "mfa_web_password_open")
    assert "outside this plan" in web.message and "block_pin_auth" not in web.message


# ---------------------------------------------------------------------------
# Who breaks


def test_the_impact_matrix_says_who_breaks() -> None:
    on, off = client_impact(plan_of(doc_with(True))), client_impact(plan_of(doc_with(False)))
    for pool in ("pool01.contoso.com", "pool02.contoso.com"):
        cell = on.cell("devices", pool)
        assert cell.state == "breaks"
        for who in ("Lync Phone Edition", "3PIP"):
            assert who in cell.reason, who
        # UsePinAuth is the web services' PIN sign-in: dial-in conferencing callers enter their PIN on the phone
        # line, which is not a web services sign-in, so they are not among who breaks.
        assert "dial-in conferencing callers still enter their PIN" in cell.reason
        assert "no longer sign in with their dial-in" not in cell.reason
        assert "block_pin_auth" not in off.cell("devices", pool).reason
        # Only the phones' row changes.
        for client in ("lync2013", "sfb", "mobile", "lwa"):
            assert on.cell(client, pool) == off.cell(client, pool)


def test_the_findings_warn_naming_the_field_and_who_breaks() -> None:
    assert FINDING_CODES["pin_auth_blocked"] == "warning"
    found = [f for f in check_plan(plan_of(doc_with(True))) if f.code == "pin_auth_blocked"]
    assert [f.field for f in found] == ["pools[0].auth.block_pin_auth", "pools[1].auth.block_pin_auth"]
    assert "Lync Phone Edition" in found[0].message
    assert "Dial-in conferencing is not affected" in found[0].message
    assert "dial-in conferencing PIN" not in found[0].message
    assert not [f for f in check_plan(plan_of(doc_with(False))) if f.code.startswith("pin_auth")]


def test_the_field_explains_itself_and_who_it_breaks() -> None:
    entry = FIELDS["pools[].auth.block_pin_auth"]
    assert entry.label and "passive" in entry.what.lower() and "Lync Phone Edition" in entry.breaks
    assert "Dial-in conferencing callers keep using their PIN" in entry.breaks
    assert "`pools[].auth.block_pin_auth`" in (ROOT / "docs" / "plan-format.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# The wizard's authentication step


class AuthenticationStepTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = make_plan(fixture="s02-tls-dsk-30-day-certificates")
        self.url = reverse("plan-step", args=[self.plan.code, "authentication"])
        self.client.force_login(self.alice)

    def test_ticking_the_box_saves_the_field_and_the_page_shows_it_again(self) -> None:
        self.assertNotIn("block_pin_auth", self.plan.draft["pools"][0]["auth"])
        response = self.client.post(self.url, step_post(self.plan, "authentication",
                                                        **{"pools-0-block_pin_auth": "on"}), follow=True)
        self.assertContains(response, "Saved (draft version 2).")
        self.plan.refresh_from_db()
        self.assertIs(self.plan.draft["pools"][0]["auth"]["block_pin_auth"], True)
        self.assertIs(response.context["forms"]["pools"].forms[0].initial["block_pin_auth"], True)
        self.assertContains(response, "Turn PIN authentication off")
        # Unticking writes false: the key stays, as for every box the draft already has.
        data = step_post(self.plan, "authentication")
        data.pop("pools-0-block_pin_auth", None)
        self.client.post(self.url, data)
        self.plan.refresh_from_db()
        self.assertIs(self.plan.draft["pools"][0]["auth"]["block_pin_auth"], False)

    def test_an_error_on_the_field_lands_on_its_checkbox(self) -> None:
        doc = copy.deepcopy(self.plan.draft)
        doc["pools"][0]["auth"]["block_pin_auth"] = "yes"
        set_draft(self.plan, doc)
        response = self.client.get(self.url)
        errors = response.context["forms"]["pools"].forms[0].errors
        self.assertEqual(errors["block_pin_auth"], ["Must be true or false, not 'yes'"])
