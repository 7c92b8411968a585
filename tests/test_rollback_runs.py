"""The run folders and the rollback's choice, tested on folders the scripts themselves write.

There is no PowerShell here, so tests/psmini.py runs the rendered scripts (lync-management-shell.ps1,
adfs-server.ps1 and their rollbacks) against a fake configuration store (tests/psfakes.py) in a
temporary folder: what-if, completed, failed and repeated runs write their run folders, and the
rollback picks one and restores the store. The assertions are about the outcome: which folder the
rollback used, what it refused, and the configuration it leaves behind.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from tests.psfakes import FakeAdfs, FakeLync, FakeStore
from tests.psmini import Builtin, Interpreter, PSError, PSObject, read_csv
from wizard.plan.reader import read_plan
from wizard.scripts.bundle import Bundle, Source, build_bundle

FIXTURES = Path(__file__).parent / "fixtures" / "plans"


@lru_cache(maxsize=8)
def bundle(fixture: str = "multi-domain-director-idn", adfs_version: str | None = None) -> Bundle:
    doc = json.loads((FIXTURES / f"{fixture}.json").read_text(encoding="utf-8"))
    if adfs_version is not None:
        doc["adfs"]["version"] = adfs_version
        if adfs_version == "2.0":
            doc["adfs"]["mfa"] = "none"
    plan, findings = read_plan(doc)
    assert plan is not None, findings
    return build_bundle(plan, source=Source.for_plan(plan))


@dataclass
class Outcome:
    """What one script run did: its exit, error, host lines and warnings."""

    error: str | None
    host: list[str]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Site:
    """A folder on 'the server' holding a change script and its rollback, and the store they act on."""

    folder: Path
    texts: dict[str, str]
    store: FakeStore
    change: str
    rollback: str
    now: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 11, 22, 14, 0, 0))

    def _run(self, name: str, parameters: dict[str, Any] | None, whatif: bool) -> Outcome:
        self.now += dt.timedelta(minutes=1)
        path = self.folder / name
        path.write_text(self.texts[name], encoding="utf-8")
        when = self.now
        interp = Interpreter(self.texts[name], commands=self.store.commands(), clock=lambda: when,
                             script_path=str(path))
        try:
            interp.run(parameters, whatif=whatif)
        except PSError as error:
            return Outcome(error.message, interp.host, interp.warnings)
        return Outcome(None, interp.host, interp.warnings)

    def run_change(self, *, whatif: bool = False, fail_at: int | None = None) -> Outcome:
        """Run the change script; with `fail_at`, its n-th real change (1-based) fails."""
        counter = {"n": 0}

        def fail(cmdlet: str, identity: str) -> bool:
            counter["n"] += 1
            return fail_at is not None and counter["n"] == fail_at

        self.store.fail = fail
        try:
            return self._run(self.change, None, whatif)
        finally:
            self.store.fail = lambda cmdlet, identity: False

    def run_rollback(self, folder: str | None = None, *, whatif: bool = False) -> Outcome:
        return self._run(self.rollback, {"BackupFolder": str(self.backup / folder)} if folder else None, whatif)

    @property
    def backup(self) -> Path:
        return self.folder / "backup"

    def runs(self) -> list[str]:
        return sorted(p.name for p in self.backup.iterdir()) if self.backup.exists() else []

    def run_record(self, name: str) -> dict[str, str]:
        [row] = read_csv(str(self.backup / name / "run.csv"))
        return row.to_dict()


def lync_site(tmp_path: Path, fixture: str = "multi-domain-director-idn") -> Site:
    texts = bundle(fixture).texts
    # The topology puts both pools in Dublin, as the plan does.
    store = FakeLync(pools=("sfbpool01.contoso.com", "sfbdir01.contoso.com", "sfbedge.contoso.com"),
                     pool_sites={"sfbpool01.contoso.com": "Dublin", "sfbdir01.contoso.com": "Dublin"})
    # Before the change: the Front End pool has its own web service collection with values of its own;
    # the Director, the Edge and the Registrar have none (the change creates them).
    store.collections["CsWebServiceConfiguration"].items["service:WebServer:sfbpool01.contoso.com"] = {
        **store.collections["CsWebServiceConfiguration"].defaults, "UseCertificateAuth": False,
        "DefaultValidityPeriodHours": 2000, "MaxValidityPeriodHours": 3000}
    store.collections["CsMobilityPolicy"].items["Global"]["AllowSaveCredentials"] = True
    return Site(tmp_path, texts, store, "lync-management-shell.ps1", "rollback-lync.ps1")


def adfs_site(tmp_path: Path, version: str = "2019") -> Site:
    texts = bundle(adfs_version=version).texts
    internal = "https://sfbdirint.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml"
    external = "https://sfbdirweb.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml"
    store = FakeAdfs(host_name="adfs.contoso.com",
                     policies=("Permit everyone", "Permit everyone and require MFA from extranet access"),
                     metadata={internal: "https://sfbdirint.contoso.com/passiveauth/",
                               external: "https://sfbdirweb.contoso.com/passiveauth/"})
    # The internal trust exists already (with rules of its own); the external one is created.
    store.collections["AdfsRelyingPartyTrust"].items["SfB-Director-Int"] = {
        **store.collections["AdfsRelyingPartyTrust"].defaults, "Identifier": ["https://sfbdirint.contoso.com/passiveauth/"],
        "IssuanceAuthorizationRules": "old authorization", "IssuanceTransformRules": "old transform"}
    return Site(tmp_path, texts, store, "adfs-server.ps1", "rollback-adfs.ps1")


# ---------------------------------------------------------------------------
# What a run writes


def test_a_whatif_run_changes_nothing_and_writes_a_folder_marked_whatif(tmp_path):
    site = lync_site(tmp_path)
    before = site.store.state()
    outcome = site.run_change(whatif=True)
    assert outcome.ok, outcome.error
    assert site.store.state() == before
    [name] = site.runs()
    assert name == "20261122-140100-lync-whatif"
    record = site.run_record(name)
    assert record["WhatIf"] == "True" and record["State"] == "completed"
    assert record["Script"] == "lync-management-shell.ps1"
    # Nothing was created, so nothing is recorded as created.
    assert not (site.backup / name / "created.csv").exists()


def test_a_real_run_records_what_it_saved_created_and_that_it_completed(tmp_path):
    site = lync_site(tmp_path)
    assert site.run_change().ok
    [name] = site.runs()
    assert name == "20261122-140100-lync"
    assert site.run_record(name)["WhatIf"] == "False"
    assert site.run_record(name)["State"] == "completed"
    saved = {r.props["Identity"] for r in read_csv(str(site.backup / name / "backup.csv"))}
    created = {r.props["Identity"] for r in read_csv(str(site.backup / name / "created.csv"))}
    assert saved == {"service:WebServer:sfbpool01.contoso.com", "Global"}
    assert created == {"service:WebServer:sfbdir01.contoso.com", "service:EdgeServer:sfbedge.contoso.com",
                       "service:Registrar:sfbdir01.contoso.com"}


def test_a_failed_run_is_recorded_as_failed_with_its_error(tmp_path):
    site = lync_site(tmp_path)
    outcome = site.run_change(fail_at=2)
    assert outcome.error and "simulated failure" in outcome.error
    [name] = site.runs()
    record = site.run_record(name)
    assert record["State"] == "failed"
    assert "simulated failure" in record["Error"]


# ---------------------------------------------------------------------------
# What the rollback puts back, collection by collection (tables looped over by shared functions)


def rollback_changes(site: Site, start: int) -> list[tuple[str, str, frozenset[str]]]:
    """Return the changing calls (cmdlet, identity, parameters) made since call number `start`."""
    return site.store.parameters[start:]


def test_the_rollback_undoes_the_last_change_first(tmp_path):
    site = lync_site(tmp_path)
    assert site.run_change().ok
    start = len(site.store.parameters)
    assert site.run_rollback().ok
    nouns = [cmdlet.split("-", 1)[1] for cmdlet, _, _ in rollback_changes(site, start)]
    # Mobility policies were changed last, then the proxies, the web services first.
    assert nouns == sorted(nouns, key=["CsMobilityPolicy", "CsProxyConfiguration",
                                       "CsWebServiceConfiguration"].index)
    assert set(nouns) == {"CsMobilityPolicy", "CsProxyConfiguration", "CsWebServiceConfiguration"}


def test_the_rollback_removes_what_the_change_created_and_restores_exactly_what_it_set(tmp_path):
    site = lync_site(tmp_path)
    # The Director's web services and the Edge's proxy collection exist before the change (with values
    # of their own): they are restored, not removed; the Registrar's is created and so removed.
    webs = site.store.collections["CsWebServiceConfiguration"]
    webs.items["service:WebServer:sfbdir01.contoso.com"] = {
        **webs.defaults, "UseWindowsAuth": "NTLM", "UsePinAuth": True, "UseWsFedPassiveAuth": False,
        "WsFedPassiveMetadataUri": "https://old.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml"}
    proxies = site.store.collections["CsProxyConfiguration"]
    proxies.items["service:EdgeServer:sfbedge.contoso.com"] = {**proxies.defaults, "UseNtlmForClientToProxyAuth": True}
    before = site.store.state()
    assert site.run_change().ok
    start = len(site.store.parameters)
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert site.store.state() == before
    calls = rollback_changes(site, start)
    # The saved metadata URI goes back on its own, after the values it belongs with.
    assert [(c, i, n - {"WhatIf"}) for c, i, n in calls if "WsFedPassiveMetadataUri" in n] == [
        ("Set-CsWebServiceConfiguration", "service:WebServer:sfbdir01.contoso.com",
         {"Identity", "WsFedPassiveMetadataUri"})]
    done = {(cmdlet, identity): names - {"WhatIf"} for cmdlet, identity, names in calls
            if "WsFedPassiveMetadataUri" not in names}
    assert done == {
        ("Set-CsMobilityPolicy", "Global"): {"Identity", "AllowSaveCredentials", "AllowExchangeConnectivity"},
        ("Set-CsProxyConfiguration", "service:EdgeServer:sfbedge.contoso.com"): {
            "Identity", "UseKerberosForClientToProxyAuth", "UseNtlmForClientToProxyAuth",
            "UseCertificateForClientToProxyAuth"},
        ("Remove-CsProxyConfiguration", "service:Registrar:sfbdir01.contoso.com"): {"Identity", "Force"},
        ("Set-CsWebServiceConfiguration", "service:WebServer:sfbdir01.contoso.com"): {
            "Identity", "UseWsFedPassiveAuth", "UseWindowsAuth", "UsePinAuth", "UseCertificateAuth"},
        ("Set-CsWebServiceConfiguration", "service:WebServer:sfbpool01.contoso.com"): {
            "Identity", "UseCertificateAuth", "DefaultValidityPeriodHours", "MinValidityPeriodHours",
            "MaxValidityPeriodHours"},
    }


def test_a_metadata_uri_the_collection_did_not_have_is_cleared_again(tmp_path):
    # The Director's collection exists with no metadata URI (passive authentication never set up there): the change
    # sets one with passive authentication, and the rollback must take it away again, not leave the AD FS one.
    site = lync_site(tmp_path)
    webs = site.store.collections["CsWebServiceConfiguration"]
    webs.items["service:WebServer:sfbdir01.contoso.com"] = {**webs.defaults, "UseWindowsAuth": "NTLM"}
    before = site.store.state()
    assert site.run_change().ok
    assert webs.items["service:WebServer:sfbdir01.contoso.com"]["WsFedPassiveMetadataUri"]
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert site.store.state() == before


def test_a_server_that_refuses_an_empty_metadata_uri_only_warns_and_the_rest_is_rolled_back(tmp_path):
    # No source says Set-CsWebServiceConfiguration takes an empty URI; if a server refuses one, the URI stays
    # (unused with passive authentication off again) and everything else is still put back.
    site = lync_site(tmp_path)
    webs = site.store.collections["CsWebServiceConfiguration"]
    webs.items["service:WebServer:sfbdir01.contoso.com"] = {**webs.defaults, "UseWindowsAuth": "NTLM"}
    before = site.store.state()
    assert site.run_change().ok
    commands = site.store.commands
    original = commands()["Set-CsWebServiceConfiguration"]

    def refusing(interp, named, pos, data):
        if "WsFedPassiveMetadataUri" in named and named.get("WsFedPassiveMetadataUri") is None:
            raise PSError("Cannot validate argument on parameter 'WsFedPassiveMetadataUri'.")
        return original.run(interp, named, pos, data)

    site.store.commands = lambda: {**commands(), "Set-CsWebServiceConfiguration": Builtin(refusing, original.switches)}
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert any("could not be cleared" in w for w in outcome.warnings)
    after = site.store.state()
    left = after["CsWebServiceConfiguration"]["service:WebServer:sfbdir01.contoso.com"]
    assert left.pop("WsFedPassiveMetadataUri")
    expected = before["CsWebServiceConfiguration"]["service:WebServer:sfbdir01.contoso.com"]
    assert left == {k: v for k, v in expected.items() if k != "WsFedPassiveMetadataUri"}
    assert left["UseWsFedPassiveAuth"] is False


def test_the_adfs_rollback_removes_the_added_trust_and_restores_the_other_by_identifier(tmp_path):
    site = adfs_site(tmp_path)
    before = site.store.state()
    assert site.run_change().ok
    start = len(site.store.parameters)
    assert site.run_rollback().ok
    assert site.store.state() == before
    calls = rollback_changes(site, start)
    assert [(c, i) for c, i, _ in calls if c.startswith("Remove-")] == [
        ("Remove-AdfsRelyingPartyTrust", "SfB-Director-Ext")]
    restored = set()
    for cmdlet, identity, names in calls:
        if cmdlet == "Set-AdfsRelyingPartyTrust":
            assert identity == "SfB-Director-Int"
            assert "TargetIdentifier" in names and "TargetName" not in names
            restored |= names - {"TargetIdentifier", "WhatIf"}
    assert restored == {"AccessControlPolicyName", "IssuanceAuthorizationRules", "IssuanceTransformRules"}



def test_the_adfs_rollback_un_assigns_the_policy_with_null_whatever_empty_value_was_saved(tmp_path):
    # AD FS may report "no policy" as an empty name. The help of Set-AdfsRelyingPartyTrust un-assigns a policy with
    # $null; an empty name is not documented to (the fake refuses it), so the rollback passes $null.
    site = adfs_site(tmp_path, "2019")
    trust = site.store.collections["AdfsRelyingPartyTrust"].items["SfB-Director-Int"]
    trust["AccessControlPolicyName"] = ""
    assert site.run_change().ok
    assert trust["AccessControlPolicyName"] == "Permit everyone and require MFA from extranet access"
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert trust["AccessControlPolicyName"] is None
    assert trust["IssuanceAuthorizationRules"] == "old authorization"


def test_the_adfs_rollback_puts_back_the_parameters_of_the_access_control_policy_it_replaced(tmp_path):
    # The internal trust had a policy that takes a group; the change assigns the plan's policy, which takes none.
    site = adfs_site(tmp_path, "2019")
    trust = site.store.collections["AdfsRelyingPartyTrust"].items["SfB-Director-Int"]
    trust.update({"AccessControlPolicyName": "Permit specific group", "IssuanceAuthorizationRules": "",
                  "AccessControlPolicyParameters": ["CONTOSO\\Lync users"]})
    before = site.store.state()
    assert site.run_change().ok
    assert trust["AccessControlPolicyName"] == "Permit everyone and require MFA from extranet access"
    start = len(site.store.parameters)
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert site.store.state() == before
    [names] = [n for c, i, n in rollback_changes(site, start) if "AccessControlPolicyName" in n]
    assert "AccessControlPolicyParameters" in names


def test_on_adfs_2016_and_later_a_trust_that_keeps_its_old_authorization_rules_beside_the_policy_is_said(tmp_path):
    # The internal trust was set up before AD FS 2016: issuance authorization rules, no access control policy.
    # Whether AD FS drops them when a policy is assigned is not documented; this fake keeps them.
    site = adfs_site(tmp_path, "2019")
    whatif = site.run_change(whatif=True)
    assert whatif.ok, whatif.error
    [before] = [w for w in whatif.warnings if "SfB-Director-Int" in w]
    assert "has issuance authorization rules and no access control policy" in before
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    [kept] = [w for w in outcome.warnings if "SfB-Director-Int" in w]
    assert kept.startswith("AD FS kept the issuance authorization rules of the relying party trust SfB-Director-Int "
                           "beside the access control policy Permit everyone and require MFA from extranet access")
    # Where AD FS drops them, nothing is said; the trust the run added never had any.
    site.store.collections["AdfsRelyingPartyTrust"].items["SfB-Director-Int"]["IssuanceAuthorizationRules"] = ""
    again = site.run_change()
    assert again.ok, again.error
    assert not [w for w in again.warnings if "issuance authorization rules" in w]


def test_on_adfs_2016_and_later_additional_authentication_rules_from_before_are_said_and_left(tmp_path):
    # A trust set up on AD FS 2012 R2 with a per-trust MFA rule, the farm upgraded since: the script assigns the
    # access control policy and leaves the rule (it sets no additional authentication rules from AD FS 2016 on). Such
    # a rule can only ask for the second factor, never waive it, so the policy's MFA holds either way; the warning
    # says users inside may be asked too.
    site = adfs_site(tmp_path, "2019")
    trust = site.store.collections["AdfsRelyingPartyTrust"].items["SfB-Director-Int"]
    trust["IssuanceAuthorizationRules"] = ""
    trust["AdditionalAuthenticationRules"] = "old MFA rule"
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    [said] = [w for w in outcome.warnings if "SfB-Director-Int" in w]
    assert said.startswith("The relying party trust SfB-Director-Int keeps the additional authentication rules it had")
    assert "never less" in said
    assert trust["AdditionalAuthenticationRules"] == "old MFA rule"
    assert trust["AccessControlPolicyName"] == "Permit everyone and require MFA from extranet access"


@pytest.mark.parametrize("version", ["2.0", "2012r2", "2019"])
def test_the_adfs_script_and_its_rollback_stop_in_another_farm_before_any_change(tmp_path, version):
    # AD FS 2.0 has Get-ADFSProperties (HostName) too: a run on the wrong farm must not add trusts there.
    site = adfs_site(tmp_path, version)
    assert site.run_change().ok
    site.store.host_name = "adfs-test.contoso.com"
    changed = site.store.state()
    for outcome in (site.run_change(), site.run_rollback()):
        assert outcome.error == "This AD FS farm is adfs-test.contoso.com, but the plan is for adfs.contoso.com."
        assert site.store.state() == changed


@pytest.mark.parametrize("version", ["2.0", "2019"])
def test_a_trust_of_the_plans_identifier_under_another_name_stops_the_adfs_script_before_any_change(tmp_path, version):
    site = adfs_site(tmp_path, version)
    trusts = site.store.collections["AdfsRelyingPartyTrust"].items
    trusts["Renamed by hand"] = trusts.pop("SfB-Director-Int")
    before = site.store.state()
    outcome = site.run_change()
    assert not outcome.ok
    assert ("The relying party trust for https://sfbdirint.contoso.com/passiveauth/ is called Renamed by hand, "
            "not SfB-Director-Int") in outcome.error
    assert site.store.state() == before


@pytest.mark.parametrize("version", ["2.0", "2019"])
def test_a_trust_of_the_plans_name_for_another_identifier_stops_the_adfs_script_before_any_change(tmp_path, version):
    site = adfs_site(tmp_path, version)
    trusts = site.store.collections["AdfsRelyingPartyTrust"].items
    trusts["SfB-Director-Ext"] = {**site.store.collections["AdfsRelyingPartyTrust"].defaults,
                                  "Identifier": ["https://other.contoso.com/passiveauth/"]}
    before = site.store.state()
    outcome = site.run_change()
    assert not outcome.ok
    assert ("A relying party trust called SfB-Director-Ext already exists for another identifier "
            "(https://other.contoso.com/passiveauth/)") in outcome.error
    assert site.store.state() == before

# ---------------------------------------------------------------------------
# Which folder the rollback takes


def test_rollback_takes_the_completed_real_run_not_a_later_whatif_run_and_says_which(tmp_path):
    site = lync_site(tmp_path)
    before = site.store.state()
    assert site.run_change(whatif=True).ok
    assert site.run_change().ok
    assert site.run_change(whatif=True).ok
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert any("Rolling back the run 20261122-140200-lync (completed) from" in line
               and str(site.backup / "20261122-140200-lync") in line for line in outcome.host)
    assert site.store.state() == before
    assert (site.backup / "20261122-140200-lync" / "rolled-back.csv").exists()


def test_rollback_refuses_a_whatif_folder_even_when_named(tmp_path):
    site = lync_site(tmp_path)
    before = site.store.state()
    assert site.run_change(whatif=True).ok
    outcome = site.run_rollback("20261122-140100-lync-whatif")
    assert "-WhatIf run" in outcome.error and "nothing to roll back" in outcome.error
    assert site.store.state() == before


def test_rollback_with_only_whatif_runs_says_so(tmp_path):
    site = lync_site(tmp_path)
    assert site.run_change(whatif=True).ok
    outcome = site.run_rollback()
    assert outcome.error.startswith("Nothing to roll back: the only runs of lync-management-shell.ps1 were -WhatIf")


def test_rollback_refuses_by_default_when_the_only_real_run_failed_and_restores_it_when_named(tmp_path):
    site = lync_site(tmp_path)
    before = site.store.state()
    assert not site.run_change(fail_at=3).ok
    assert site.store.state() != before
    outcome = site.run_rollback()
    assert "did not complete (failed)" in outcome.error and "20261122-140100-lync" in outcome.error
    assert "-BackupFolder" in outcome.error
    named = site.run_rollback("20261122-140100-lync")
    assert named.ok, named.error
    assert any("did not complete (failed)" in w for w in named.warnings)
    assert site.store.state() == before


def test_a_rerun_after_a_failed_run_keeps_the_first_backup(tmp_path):
    """The second run sees the state the failed first run left; the rollback restores the one before it."""
    site = lync_site(tmp_path)
    before = site.store.state()
    assert not site.run_change(fail_at=2).ok
    assert site.run_change().ok
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert any("20261122-140200-lync (completed)" in line for line in outcome.host)
    assert site.store.state() == before
    # The second run's folder says where its saved state came from.
    rows = {r.props["Identity"]: r.props["From"] for r in read_csv(str(site.backup / "20261122-140200-lync" / "backup.csv"))}
    assert rows["service:WebServer:sfbpool01.contoso.com"] == "20261122-140100-lync"


def test_a_rerun_restores_the_state_before_the_first_run_not_between_the_runs(tmp_path):
    site = lync_site(tmp_path)
    before = site.store.state()
    assert site.run_change().ok
    # Between the runs someone changes values the plan sets, and the collections the first run created exist.
    pool = site.store.collections["CsWebServiceConfiguration"].items["service:WebServer:sfbpool01.contoso.com"]
    pool["DefaultValidityPeriodHours"] = 24
    assert site.run_change().ok
    assert site.run_rollback().ok
    after = site.store.state()
    assert after == before
    assert "service:EdgeServer:sfbedge.contoso.com" not in after["CsProxyConfiguration"]


def test_a_completed_run_then_a_failed_rerun_rolls_back_both_and_names_the_later_one(tmp_path):
    site = lync_site(tmp_path)
    before = site.store.state()
    assert site.run_change().ok
    assert not site.run_change(fail_at=1).ok
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert any("20261122-140100-lync (completed)" in line for line in outcome.host)
    assert any("20261122-140200-lync (failed)" in w for w in outcome.warnings)
    assert site.store.state() == before


def test_a_rolled_back_run_is_not_taken_again_and_a_new_change_starts_a_new_backup(tmp_path):
    site = lync_site(tmp_path)
    before = site.store.state()
    assert site.run_change().ok
    assert site.run_rollback().ok
    again = site.run_rollback()
    assert "rolled back already" in again.error
    named = site.run_rollback("20261122-140100-lync")
    assert "rolled back already" in named.error
    # After the rollback someone changes a value; the next change must save that state, not the old one.
    pool = site.store.collections["CsWebServiceConfiguration"].items["service:WebServer:sfbpool01.contoso.com"]
    pool["DefaultValidityPeriodHours"] = 48
    middle = site.store.state()
    assert site.run_change().ok
    newest = site.runs()[-1]
    assert newest == "20261122-140500-lync"
    rows = read_csv(str(site.backup / newest / "backup.csv"))
    assert {r.props["From"] for r in rows} == {newest}
    assert site.run_rollback().ok
    assert site.store.state() == middle != before


def test_rollback_under_whatif_changes_nothing_and_marks_nothing(tmp_path):
    site = lync_site(tmp_path)
    assert site.run_change().ok
    changed = site.store.state()
    outcome = site.run_rollback(whatif=True)
    assert outcome.ok, outcome.error
    assert any("20261122-140100-lync" in line for line in outcome.host)
    assert site.store.state() == changed
    assert not (site.backup / "20261122-140100-lync" / "rolled-back.csv").exists()
    assert site.run_rollback().ok


def test_a_folder_without_a_run_record_is_never_taken(tmp_path):
    """A folder written by an older version of the script: nobody knows whether it was a -WhatIf run."""
    site = lync_site(tmp_path)
    assert site.run_change().ok
    old = site.backup / "20261122-150000-lync"
    old.mkdir()
    (old / "backup.csv").write_text('"Kind","Identity","File"\r\n', encoding="utf-8-sig")
    outcome = site.run_rollback()
    assert outcome.ok
    assert any("Rolling back the run 20261122-140100-lync" in line for line in outcome.host)
    site2 = lync_site(tmp_path / "b")
    (tmp_path / "b").mkdir(exist_ok=True)
    (site2.backup / "20261122-150000-lync").mkdir(parents=True)
    refused = site2.run_rollback("20261122-150000-lync")
    assert "has no run.csv" in refused.error


def test_a_folder_of_another_script_or_a_missing_folder_is_refused(tmp_path):
    site = lync_site(tmp_path)
    (site.backup / "20261122-150000-adfs").mkdir(parents=True)
    assert "Not a run folder of lync-management-shell.ps1" in site.run_rollback("20261122-150000-adfs").error
    assert "Backup folder not found" in site.run_rollback("nothing-here").error


def test_a_rollback_that_stopped_half_way_can_be_run_again(tmp_path):
    site = lync_site(tmp_path)
    before = site.store.state()
    assert site.run_change().ok
    calls = {"n": 0}

    def fail(cmdlet: str, identity: str) -> bool:
        calls["n"] += 1
        return calls["n"] == 3

    site.store.fail = fail
    assert not site.run_rollback().ok
    site.store.fail = lambda cmdlet, identity: False
    assert not (site.backup / "20261122-140100-lync" / "rolled-back.csv").exists()
    assert site.run_rollback().ok
    assert site.store.state() == before


# ---------------------------------------------------------------------------
# AD FS


@pytest.mark.parametrize("version", ["2019", "2012r2", "2.0"])
def test_adfs_rerun_and_rollback_restore_the_trusts_as_before_the_first_run(tmp_path, version):
    site = adfs_site(tmp_path, version)
    before = site.store.state()
    assert site.run_change(whatif=True).ok
    assert site.store.state() == before
    assert not site.run_change(fail_at=2).ok
    assert site.run_change().ok
    trusts = site.store.state()["AdfsRelyingPartyTrust"]
    assert "SfB-Director-Ext" in trusts
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert any("Rolling back the run 20261122-140300-adfs (completed)" in line for line in outcome.host)
    assert site.store.state() == before


def test_adfs_rollback_refuses_a_whatif_folder(tmp_path):
    site = adfs_site(tmp_path)
    assert site.run_change(whatif=True).ok
    assert "-WhatIf run" in site.run_rollback("20261122-140100-adfs-whatif").error


# ---------------------------------------------------------------------------
# Any sequence of runs


@pytest.mark.parametrize("seed", range(25))
def test_after_any_sequence_of_runs_the_default_rollback_restores_the_state_before_the_chain(tmp_path, seed):
    """Random what-if, failed and completed runs, manual edits and rollbacks: whenever the default
    rollback succeeds, the store is as it was before the first real run since the last rollback."""
    rng = random.Random(seed)
    site = lync_site(tmp_path)
    baseline = site.store.state()   # the state before the current chain of real runs
    chain_started = False
    for _ in range(rng.randint(3, 8)):
        action = rng.choice(["whatif", "run", "fail", "edit", "rollback"])
        if action == "whatif":
            assert site.run_change(whatif=True).ok
        elif action in ("run", "fail"):
            if not chain_started:
                baseline, chain_started = site.store.state(), True
            outcome = site.run_change(fail_at=rng.randint(1, 4) if action == "fail" else None)
            assert outcome.ok == (action == "run")
        elif action == "edit":
            items = site.store.collections["CsWebServiceConfiguration"].items
            key = rng.choice(sorted(items))
            items[key]["DefaultValidityPeriodHours"] = rng.randint(8, 100)
            if not chain_started:
                baseline = site.store.state()
        else:
            outcome = site.run_rollback()
            if outcome.ok:
                assert site.store.state() == baseline
                chain_started = False
                baseline = site.store.state()
            else:
                assert outcome.error.startswith(("Nothing to roll back", "No run of")), outcome.error


# ---------------------------------------------------------------------------
# The decision alone, on run records


def decide(runs: list[tuple[str, bool, str, bool]], requested: str = "") -> Any:
    """Call the rollback's Select-RunFolder on records (name, whatif, state, rolled back)."""
    interp = Interpreter(bundle().texts["rollback-lync.ps1"])
    interp.define_functions()
    interp.set("RunKey", "lync")
    interp.set("ScriptName", "lync-management-shell.ps1")
    records = [PSObject([("Name", n), ("Path", os.path.join("/x", n)), ("Stamp", n[:15]), ("WhatIf", w),
                         ("State", s), ("RolledBack", r)]) for n, w, s, r in runs]
    return interp.call("Select-RunFolder", Runs=records, Requested=requested)


def test_the_choice_is_the_newest_completed_run_since_the_last_rollback():
    runs = [("20260101-090000-lync", False, "completed", True),
            ("20260101-100000-lync", False, "completed", False),
            ("20260101-110000-lync", False, "failed", False),
            ("20260101-120000-lync", False, "completed", False),
            ("20260101-130000-lync-whatif", True, "completed", False),
            ("20260101-140000-lync", False, "started", False)]
    choice = decide(runs)
    assert choice.props["Run"].props["Name"] == "20260101-120000-lync"
    assert sorted(r.props["Name"] for r in choice.props["Mark"]) == [
        "20260101-100000-lync", "20260101-110000-lync", "20260101-120000-lync"]
    assert len(choice.props["Warnings"]) == 1 and "20260101-140000-lync (started)" in choice.props["Warnings"][0]


def test_a_run_before_the_last_rollback_is_not_taken_by_default():
    runs = [("20260101-100000-lync", False, "completed", False),
            ("20260101-110000-lync", False, "completed", True)]
    with pytest.raises(PSError, match=r"every real run of lync-management-shell\.ps1 was rolled back already"):
        decide(runs)
    # Named, it is taken (the admin asked for it), and only it is marked.
    choice = decide(runs, "20260101-100000-lync")
    assert [r.props["Name"] for r in choice.props["Mark"]] == ["20260101-100000-lync"]


def test_a_whatif_folder_whose_run_record_was_edited_to_false_is_still_a_whatif_run(tmp_path):
    site = lync_site(tmp_path)
    assert site.run_change(whatif=True).ok
    run_csv = site.backup / "20261122-140100-lync-whatif" / "run.csv"
    run_csv.write_text(run_csv.read_text(encoding="utf-8-sig").replace('"True"', '"False"'), encoding="utf-8-sig")
    assert site.run_record("20261122-140100-lync-whatif")["WhatIf"] == "False"
    assert "-WhatIf run" in site.run_rollback("20261122-140100-lync-whatif").error
    assert "only runs of lync-management-shell.ps1 were -WhatIf runs" in site.run_rollback().error


def test_an_empty_backup_folder_has_nothing_to_roll_back():
    with pytest.raises(PSError, match=r"no run folder of lync-management-shell\.ps1 with a run record"):
        decide([])


# ---------------------------------------------------------------------------
# Runs of another plan (or another revision of the same plan) in the same backup folder


def revision_texts(revision: int, *, director_mode: str = "passive") -> dict[str, str]:
    """The bundle of the fixture plan stored as P-7, revision `revision`, with the Director in `director_mode`."""
    doc = json.loads((FIXTURES / "multi-domain-director-idn.json").read_text(encoding="utf-8"))
    if director_mode == "tls_dsk":
        doc["pools"][1]["auth"] = {"external": "tls_dsk", "client_certificate_hours": {"default": 24, "min": 8,
                                                                                        "max": 48}}
        doc["adfs"]["mfa"] = "none"
    plan, findings = read_plan(doc)
    assert plan is not None, findings
    return build_bundle(plan, source=Source.for_plan(plan, plan_ref="P-7", revision=revision)).texts


def test_a_run_of_another_revision_is_not_chained_and_each_rollback_restores_its_own_change(tmp_path):
    """Revision 1 makes the Director passive; revision 2, run in the same folder, makes it TLS-DSK instead.
    Revision 2 must save the state it found (revision 1's), so that its rollback puts back exactly that;
    chained to revision 1's run it restored only its own parameters from the state before revision 1 (passive
    left on, the Windows authentication revision 1 turned off still off) and marked revision 1's run rolled back."""
    site = lync_site(tmp_path)
    before = site.store.state()
    site.texts = revision_texts(1)
    assert site.run_change().ok
    after_first = site.store.state()
    site.texts = revision_texts(2, director_mode="tls_dsk")
    assert site.run_change().ok
    assert site.store.state() != after_first
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert any("Rolling back the run 20261122-140200-lync" in line for line in outcome.host)
    assert site.store.state() == after_first
    assert not (site.backup / "20261122-140100-lync" / "rolled-back.csv").exists()
    # Revision 1's own rollback then goes back to the state before revision 1.
    site.texts = revision_texts(1)
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert any("Rolling back the run 20261122-140100-lync" in line for line in outcome.host)
    assert site.store.state() == before


def test_a_run_folder_of_another_plan_is_refused_by_name(tmp_path):
    site = lync_site(tmp_path)
    site.texts = revision_texts(1)
    assert site.run_change().ok
    changed = site.store.state()
    site.texts = revision_texts(2, director_mode="tls_dsk")
    refused = site.run_rollback("20261122-140100-lync")
    assert refused.error and "revision 1" in refused.error and "another plan or revision" in refused.error
    # By default as well: the only run is revision 1's, which this rollback does not undo.
    refused = site.run_rollback()
    assert refused.error and "20261122-140100-lync" in refused.error and "another plan or revision" in refused.error
    assert site.store.state() == changed
    assert not (site.backup / "20261122-140100-lync" / "rolled-back.csv").exists()


def test_rolling_back_a_run_with_a_later_run_of_another_revision_on_top_warns_about_it(tmp_path):
    site = lync_site(tmp_path)
    site.texts = revision_texts(1)
    assert site.run_change().ok
    site.texts = revision_texts(2, director_mode="tls_dsk")
    assert site.run_change().ok
    site.texts = revision_texts(1)
    outcome = site.run_rollback(whatif=True)
    assert outcome.ok, outcome.error
    assert any("Rolling back the run 20261122-140100-lync" in line for line in outcome.host)
    [warning] = [w for w in outcome.warnings if "20261122-140200-lync" in w]
    assert "revision 2" in warning and "roll that run back first" in warning
