"""A web service collection the change script creates keeps what applied to the pool until then.

New-CsWebServiceConfiguration starts from the product's defaults: anonymous meeting join back on, and no
authentication-type override, so a pool where Windows authentication was off for external web clients would get
it back. The script copies those settings from the collection that applied until then (the site's, else the
global one). Run in tests/psmini.py against the fake Management Shell of tests/psfakes.py.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.psfakes import FakeLync
from tests.test_rollback_runs import Site
from wizard.plan.reader import read_plan
from wizard.scripts.bundle import Source, build_bundle

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
S02 = "s02-tls-dsk-30-day-certificates"   # Skype for Business Server 2015, one TLS-DSK pool, no site
POOL = "service:WebServer:sfbpool01.fabrikam.com"


def texts_of(doc: dict[str, Any]) -> dict[str, str]:
    plan, findings = read_plan(doc)
    assert plan is not None, findings
    return build_bundle(plan, source=Source.for_plan(plan)).texts


def s02(**pool_changes: Any) -> dict[str, Any]:
    doc = json.loads((FIXTURES / f"{S02}.json").read_text(encoding="utf-8"))
    doc["pools"][0].update(pool_changes)
    return doc


def site_of(tmp_path: Path, doc: dict[str, Any], **global_values: Any) -> Site:
    store = FakeLync(pools=tuple(p["fqdn"] for p in doc["pools"]) + tuple(e["fqdn"] for e in doc.get("edge_pools", ())),
                     module="SkypeForBusiness", version="Skype for Business Server 2015 (6.0.9319.534)")
    store.collections["CsWebServiceConfiguration"].items["Global"].update(global_values)
    return Site(tmp_path, texts_of(doc), store, "lync-management-shell.ps1", "rollback-lync.ps1")


def test_a_new_collection_keeps_the_meeting_settings_and_the_external_override_of_its_parent(tmp_path: Path) -> None:
    site = site_of(tmp_path, s02(), AllowAnonymousAccessToLWAConference=False, MaxGroupSizeToExpand=25,
                   OverrideAuthTypeForExternalClients="DisableWindowsAuth")
    before = copy.deepcopy(site.store.state())
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    created = site.store.state()["CsWebServiceConfiguration"][POOL]
    assert created["AllowAnonymousAccessToLWAConference"] is False
    assert created["MaxGroupSizeToExpand"] == 25
    assert created["OverrideAuthTypeForExternalClients"] == "DisableWindowsAuth"
    assert created["OverrideAuthTypeForInternalClients"] is None   # not set on the parent: left alone
    # The plan's own settings still win.
    assert created["DefaultValidityPeriodHours"] == 720
    # The rollback removes the collection it created, with all of it.
    assert site.run_rollback().ok
    assert site.store.state() == before


def test_a_whatif_run_copies_nothing_and_does_not_stop(tmp_path: Path) -> None:
    site = site_of(tmp_path, s02(), OverrideAuthTypeForExternalClients="DisableWindowsAuth")
    before = copy.deepcopy(site.store.state())
    outcome = site.run_change(whatif=True)
    assert outcome.ok, outcome.error
    assert site.store.state() == before


def test_a_passive_pool_takes_no_override_from_its_parent() -> None:
    # Its authentication is the plan's alone: an inherited DisableWsFedPassiveAuth would undo the plan.
    doc = json.loads((FIXTURES / "s01-passive-extranet-mfa.json").read_text(encoding="utf-8"))
    text = texts_of(doc)["lync-management-shell.ps1"]
    assert "-AllowAnonymousAccessToLWAConference $Parent.AllowAnonymousAccessToLWAConference" in text
    assert "OverrideAuthType" not in text


def test_lync_2013_reads_no_property_it_does_not_have() -> None:
    doc = s02()
    doc["product"] = "lync2013"
    text = texts_of(doc)["lync-management-shell.ps1"]
    assert "-ShowJoinUsingLegacyClientLink $Parent.ShowJoinUsingLegacyClientLink" in text
    assert "OverrideAuthType" not in text and "UseDomainAuthInLWA" not in text


def test_a_run_that_stops_right_after_creating_the_collection_has_it_removed_by_the_rollback(tmp_path: Path) -> None:
    # The New- succeeds and the Set- that copies the override fails: the collection exists, so the run must have
    # recorded it as created, or the rollback of that run leaves it, and a re-run saves it as if it had been there.
    for how in ("named", "rerun"):
        folder = tmp_path / how
        folder.mkdir()
        site = site_of(folder, s02(), OverrideAuthTypeForExternalClients="DisableWindowsAuth")
        before = copy.deepcopy(site.store.state())
        failed = site.run_change(fail_at=2)
        assert failed.error and f"Set-CsWebServiceConfiguration {POOL}: simulated failure" in failed.error
        assert POOL in site.store.state()["CsWebServiceConfiguration"]
        if how == "named":
            outcome = site.run_rollback(site.runs()[-1])
        else:
            assert site.run_change().ok
            outcome = site.run_rollback()
        assert outcome.ok, outcome.error
        assert site.store.state() == before, how


def topology_site_of(tmp_path: Path, doc: dict[str, Any], site: str, **site_values: Any) -> Site:
    """The plan's pool is in `site` in the topology, whose web service collection holds `site_values`; the global
    one keeps the product's defaults."""
    store = FakeLync(pools=tuple(p["fqdn"] for p in doc["pools"]) + tuple(e["fqdn"] for e in doc.get("edge_pools", ())),
                     sites=(site,),
                     module="SkypeForBusiness", version="Skype for Business Server 2015 (6.0.9319.534)",
                     pool_sites={p["fqdn"]: site for p in doc["pools"]})
    web = store.collections["CsWebServiceConfiguration"]
    web.items[f"site:{site}"] = {**web.items["Global"], **site_values}
    return Site(tmp_path, texts_of(doc), store, "lync-management-shell.ps1", "rollback-lync.ps1")


def test_a_pool_the_plan_gives_no_site_copies_the_collection_of_its_site_in_the_topology(tmp_path: Path) -> None:
    """The plan's site is optional (for display and site mobility policies). A pool without one that the topology
    puts in Dublin, where site:Dublin has PIN authentication and anonymous meeting join off, must keep them when the
    script creates its service collection: copying the global collection instead would turn PIN sign-in (a password
    alone) back on from the Internet, which no finding says."""
    doc = s02()
    assert "site" not in doc["pools"][0]
    site = topology_site_of(tmp_path, doc, "Dublin", UsePinAuth=False, AllowAnonymousAccessToLWAConference=False,
                            UseWindowsAuth="NTLM")
    before = copy.deepcopy(site.store.state())
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    created = site.store.state()["CsWebServiceConfiguration"][POOL]
    assert created["UsePinAuth"] is False
    assert created["AllowAnonymousAccessToLWAConference"] is False
    assert created["UseWindowsAuth"] == "NTLM"
    assert created["DefaultValidityPeriodHours"] == 720   # the plan's own
    assert site.run_rollback().ok
    assert site.store.state() == before


def test_a_plan_site_that_is_not_the_pools_site_in_the_topology_is_not_copied(tmp_path: Path) -> None:
    """The collection that applies today is the topology's site's, whatever site the plan names."""
    doc = s02(site="Oslo")
    site = topology_site_of(tmp_path, doc, "Dublin", UsePinAuth=False)
    site.store.collections["CsWebServiceConfiguration"].items["site:Oslo"] = {
        **site.store.collections["CsWebServiceConfiguration"].items["Global"], "UsePinAuth": True}
    site.store.sites.add("oslo")
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    assert site.store.state()["CsWebServiceConfiguration"][POOL]["UsePinAuth"] is False


def test_a_shell_whose_new_cmdlet_lacks_a_copied_setting_stops_before_any_change(tmp_path: Path) -> None:
    """MobilePreferredAuthType and UseDomainAuthInLWA (never on Lync Server 2013) are copied into a new collection:
    a Skype for Business Management Shell whose New-CsWebServiceConfiguration lacks one (an older cumulative update)
    stops the script at its checks, not at the first collection it creates with other settings changed already."""
    for missing in ("MobilePreferredAuthType", "UseDomainAuthInLWA"):
        (tmp_path / missing).mkdir()
        site = site_of(tmp_path / missing, s02())
        site.store.missing_parameters = {("New-CsWebServiceConfiguration", missing)}
        before = site.store.state()
        outcome = site.run_change()
        assert outcome.error and f"New-CsWebServiceConfiguration has no -{missing} parameter here" in outcome.error
        assert "cumulative update" in outcome.error
        assert site.store.state() == before
        assert not [c for c in site.store.calls if not c[2]]
