"""An MFA promise and the pools of the topology the plan does not list, as lync-management-shell.ps1 sees them.

Without a state file the findings can only say that such pools are not checked (mfa_topology_unchecked); the
Management Shell script reads the topology before its first change. A Front End, Director or Edge pool the plan does
not list keeps its settings, so its sign-in from the Internet is outside the promise: the script stops there, before
anything changes, unless the plan records that risk as accepted (accepted_risks on `pools` for Front End and Director
pools, on `edge_pools` for Edge pools), and then names each one with a warning.
Run against the fake cmdlets of tests/psfakes.py in tests/psmini.py.
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.psfakes import FakeLync
from tests.test_rollback_runs import FIXTURES, Site, lync_site
from wizard.plan.findings import check_plan
from wizard.plan.reader import read_plan
from wizard.scripts.bundle import Source, build_bundle

OUTSIDE = {
    "userserver": ("sfbpool01.contoso.com", "sfbpool02.contoso.com"),
    "director": ("sfbdir01.contoso.com", "sfbdir02.contoso.com"),
    "edgeserver": ("sfbedge.contoso.com", "sfbedge2.contoso.com"),
}


def _doc(*accepted: dict[str, str]) -> dict:
    doc = json.loads((FIXTURES / "multi-domain-director-idn.json").read_text(encoding="utf-8"))
    doc["accepted_risks"] = doc["accepted_risks"] + list(accepted)
    return doc


def _site(tmp_path: Path, doc: dict) -> Site:
    plan, findings = read_plan(doc)
    assert plan is not None, findings
    texts = build_bundle(plan, source=Source.for_plan(plan)).texts
    base = lync_site(tmp_path)   # the same store as the other run tests
    store = FakeLync(pools=("sfbpool01.contoso.com", "sfbdir01.contoso.com", "sfbedge.contoso.com"))
    store.collections = base.store.collections
    return Site(tmp_path, texts, store, "lync-management-shell.ps1", "rollback-lync.ps1")


POOLS_ACCEPTED = {"code": "mfa_web_password_open", "field": "pools",
                  "reason": "The Asia pools move to passive authentication in phase 3"}
EDGES_ACCEPTED = {"code": "mfa_edge_password_open", "field": "edge_pools",
                  "reason": "The second Edge is being retired in January"}


def test_pools_of_the_topology_outside_an_mfa_plan_stop_the_change_before_anything_changes(tmp_path: Path) -> None:
    site = lync_site(tmp_path)   # promises extranet MFA: sfbpool01, Director sfbdir01, Edge sfbedge
    site.store.services = dict(OUTSIDE)
    before = site.store.state()
    for whatif in (True, False):
        outcome = site.run_change(whatif=whatif)
        assert not outcome.ok
        assert outcome.error is not None
        for fqdn in ("sfbpool02.contoso.com", "sfbdir02.contoso.com", "sfbedge2.contoso.com"):
            assert fqdn in outcome.error
        for fqdn in ("sfbpool01.contoso.com,", "sfbdir01.contoso.com,", "sfbedge.contoso.com,"):
            assert fqdn not in outcome.error
        assert "MFA" in outcome.error and "Nothing has changed" in outcome.error
        assert "accepted_risks" in outcome.error
        assert "In the web wizard: add a pool on the Environment step, or accept the risk under Accepted risks on " \
               "the Review step." in outcome.error
        assert site.store.state() == before
    # Stopped before the backup: the failed run saved and created nothing.
    for name in site.runs():
        assert not (site.backup / name / "backup.csv").exists()
        assert not (site.backup / name / "created.csv").exists()


def test_a_topology_the_plan_lists_whole_neither_stops_nor_warns(tmp_path: Path) -> None:
    site = lync_site(tmp_path)
    site.store.services = {"userserver": ("sfbpool01.contoso.com",), "director": ("sfbdir01.contoso.com",),
                           "edgeserver": ("sfbedge.contoso.com",)}
    outcome = site.run_change(whatif=True)
    assert outcome.ok, outcome.error
    assert not [w for w in outcome.warnings if "not in the plan" in w]


def test_a_plan_that_accepts_the_risk_goes_on_and_names_each_pool_outside_it(tmp_path: Path) -> None:
    site = _site(tmp_path, _doc(POOLS_ACCEPTED, EDGES_ACCEPTED))
    site.store.services = dict(OUTSIDE)
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    named = [w for w in outcome.warnings if "not in the plan" in w]
    assert len(named) == 3, outcome.warnings
    text = " ".join(named)
    for fqdn in ("sfbpool02.contoso.com", "sfbdir02.contoso.com", "sfbedge2.contoso.com"):
        assert fqdn in text
    assert "accepts that risk" in text


def test_accepting_the_pools_does_not_accept_the_edge_pools(tmp_path: Path) -> None:
    site = _site(tmp_path, _doc(POOLS_ACCEPTED))
    site.store.services = dict(OUTSIDE)
    before = site.store.state()
    outcome = site.run_change()
    assert not outcome.ok
    assert outcome.error is not None and "Edge pool sfbedge2.contoso.com" in outcome.error
    assert "sfbpool02" not in outcome.error and "sfbdir02" not in outcome.error
    assert site.store.state() == before


def test_the_accepted_outside_risk_is_not_reported_unused_without_a_state_file() -> None:
    plan, findings = read_plan(_doc(POOLS_ACCEPTED, EDGES_ACCEPTED))
    assert plan is not None, findings
    assert not [f for f in check_plan(plan) if f.code == "accepted_risk_unused"]


def test_with_modern_authentication_an_edge_outside_the_plan_stops_it_too(tmp_path: Path) -> None:
    from tests.test_modern_auth_runs import lync_site as modern_site
    site = modern_site(tmp_path)   # Subscription Edition, Modern Authentication with extranet MFA, Edge seedge
    site.store.services["edgeserver"] = ("SEEDGE.corp.fabrikam.com", "seedge2.corp.fabrikam.com")
    before = site.store.state()
    outcome = site.run_change()
    assert outcome.error is not None and "Edge pool seedge2.corp.fabrikam.com" in outcome.error
    assert "SEEDGE.corp" not in outcome.error
    # Only Edge pools can be accepted in a Modern Authentication plan: the message names that field alone.
    assert "accepted_risks: field edge_pools)" in outcome.error and "field pools" not in outcome.error
    assert "(a Director signs in users of every pool)" not in outcome.error
    assert site.store.state() == before
