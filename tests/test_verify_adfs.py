"""verify-adfs.ps1, the read-only check on the AD FS server: run (tests/psmini.py) against the fake AD FS
cmdlets (tests/psfakes.py) after the AD FS scripts themselves ran there, and after the farm was changed by hand.

The assertions are outcomes: the PASS / FAIL lines it prints, its exit code and the report it writes.
"""
from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from tests.psfakes import FakeAdfs
from tests.psmini import Interpreter
from tests.test_rollback_runs import Site, adfs_site
from wizard.plan.intended import ISSUANCE_TRANSFORM_RULES, MFA_EXTRANET_RULE
from wizard.plan.reader import read_plan
from wizard.scripts.artifacts import ARTIFACTS
from wizard.scripts.bundle import Bundle, Source, build_bundle

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
EXTRANET_ACP = "Permit everyone and require MFA from extranet access"
SE_POOL_IDS = ["https://sefe01int.corp.fabrikam.com", "https://sfbweb.fabrikam.com",
               "https://sedir01.corp.fabrikam.com", "https://sfbdirweb.fabrikam.com"]


def passive_site(tmp_path: Path, version: str = "2019", *, drops_rules: bool = True) -> Site:
    """The passive site of test_rollback_runs, its farm dropping a trust's issuance authorization rules when an access
    control policy is assigned (`drops_rules`: which AD FS does is not documented; the other way is tested below)."""
    site = adfs_site(tmp_path, version)
    site.store.policy_drops_authorization_rules = drops_rules
    return site


@lru_cache(maxsize=8)
def bundle(fixture: str) -> Bundle:
    plan, findings = read_plan(json.loads((FIXTURES / f"{fixture}.json").read_text(encoding="utf-8")))
    assert plan is not None, findings
    return build_bundle(plan, source=Source.for_plan(plan))


class Verified:
    """One run of verify-adfs.ps1: its exit code, PASS / FAIL lines and report rows."""

    def __init__(self, site: Site, *, whatif: bool = False) -> None:
        path = site.folder / "verify-adfs.ps1"
        path.write_text(site.texts["verify-adfs.ps1"], encoding="utf-8")
        self.report = site.folder / "verify-adfs.csv"
        if self.report.exists():
            self.report.unlink()
        interp = Interpreter(site.texts["verify-adfs.ps1"], commands=site.store.commands(), script_path=str(path))
        self.code = interp.run(whatif=whatif)
        self.lines = [line for line in interp.host if line.startswith(("PASS ", "FAIL "))]
        self.host = interp.host

    @property
    def failed(self) -> list[str]:
        return [line for line in self.lines if line.startswith("FAIL ")]

    def line(self, start: str) -> str:
        [found] = [line for line in self.lines if line.startswith(start)]
        return found

    def rows(self) -> list[dict[str, str]]:
        with self.report.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))


# ---------------------------------------------------------------------------
# Passive pools: the relying party trusts adfs-server.ps1 adds or changes


@pytest.mark.parametrize("version", ["2.0", "2012r2", "2019"])
def test_after_the_adfs_script_every_check_passes(tmp_path: Path, version: str) -> None:
    site = passive_site(tmp_path, version)
    assert site.run_change().ok
    run = Verified(site)
    assert run.code == 0, run.failed
    assert not run.failed
    assert run.line("PASS AD FS farm adfs.contoso.com")
    for name, host in (("SfB-Director-Int", "sfbdirint"), ("SfB-Director-Ext", "sfbdirweb")):
        assert run.line(f"PASS Relying party trust {name} Identifier: holds https://{host}.contoso.com/passiveauth/")
        assert run.line(f"PASS Relying party trust {name} Enabled")
        assert run.line(f"PASS Relying party trust {name} IssuanceTransformRules")
        acp = [line for line in run.lines if f"{name} AccessControlPolicyName" in line]
        mfa = [line for line in run.lines if f"{name} AdditionalAuthenticationRules" in line]
        authz = [line for line in run.lines if f"{name} IssuanceAuthorizationRules" in line]
        # Per version: 2016 and later an access control policy and no authorization rules beside it; 2012 R2 rules
        # and the MFA rule; 2.0 rules only.
        assert (len(acp), len(mfa), len(authz)) == {"2.0": (0, 0, 1), "2012r2": (0, 1, 1), "2019": (1, 0, 1)}[version]
    if version == "2019":
        assert run.line(f"PASS Relying party trust SfB-Director-Ext AccessControlPolicyName: is what the plan sets: "
                        f"{EXTRANET_ACP}")
    assert [row["Status"] for row in run.rows()] == ["PASS"] * len(run.lines)


def test_before_the_adfs_script_the_trust_it_adds_is_missing_and_the_old_rules_fail(tmp_path: Path) -> None:
    site = passive_site(tmp_path, "2012r2")
    run = Verified(site)
    assert run.code == 1
    assert run.line("FAIL Relying party trust SfB-Director-Ext: no relying party trust of this name (the external "
                    "trust of pool sfbdir01.contoso.com): run adfs-server.ps1")
    assert run.line("FAIL Relying party trust SfB-Director-Int IssuanceTransformRules: is old transform; the plan "
                    "sets " + ISSUANCE_TRANSFORM_RULES)
    assert run.line("FAIL Relying party trust SfB-Director-Int AdditionalAuthenticationRules: is empty; the plan sets "
                    + MFA_EXTRANET_RULE)


def test_authorization_rules_kept_beside_the_access_control_policy_fail(tmp_path: Path) -> None:
    # The internal trust was set up before AD FS 2016 (issuance authorization rules, no policy); adfs-server.ps1
    # assigns the policy. Whether AD FS then drops the rules, keeps them unused or applies them instead of the
    # policy (and its MFA) is documented nowhere: kept, they are a FAIL that says how to check the MFA by hand.
    site = passive_site(tmp_path, "2019", drops_rules=False)
    assert site.run_change().ok
    run = Verified(site)
    assert run.code == 1
    [failed] = run.failed
    assert failed.startswith("FAIL Relying party trust SfB-Director-Int IssuanceAuthorizationRules: still holds "
                             "issuance authorization rules beside the access control policy")
    assert "second factor" in failed
    # The trust the script added has the policy alone.
    assert run.line("PASS Relying party trust SfB-Director-Ext IssuanceAuthorizationRules: is empty")


def test_a_disabled_trust_fails_and_says_how_to_enable_it(tmp_path: Path) -> None:
    site = passive_site(tmp_path, "2019")
    assert site.run_change().ok
    site.store.trusts["SfB-Director-Ext"]["Enabled"] = False
    run = Verified(site)
    assert run.code == 1
    assert run.failed == [run.line("FAIL Relying party trust SfB-Director-Ext Enabled")]
    assert "Enable-AdfsRelyingPartyTrust -TargetName SfB-Director-Ext" in run.failed[0]
    assert [row["Status"] for row in run.rows()].count("FAIL") == 1


def test_mfa_changed_by_hand_fails(tmp_path: Path) -> None:
    site = passive_site(tmp_path, "2019")
    assert site.run_change().ok
    site.store.trusts["SfB-Director-Int"]["AccessControlPolicyName"] = "Permit everyone"
    run = Verified(site)
    assert run.code == 1
    assert run.failed == [f"FAIL Relying party trust SfB-Director-Int AccessControlPolicyName: is Permit everyone; "
                          f"the plan sets {EXTRANET_ACP}"]


def test_the_2012r2_mfa_rule_removed_by_hand_fails(tmp_path: Path) -> None:
    site = passive_site(tmp_path, "2012r2")
    assert site.run_change().ok
    site.store.trusts["SfB-Director-Int"]["AdditionalAuthenticationRules"] = ""
    run = Verified(site)
    assert run.code == 1
    assert [line.split(":")[0] for line in run.failed] == [
        "FAIL Relying party trust SfB-Director-Int AdditionalAuthenticationRules"]


def test_rules_in_ad_fs_own_layout_pass(tmp_path: Path) -> None:
    # AD FS returns a rule set laid out its own way (line breaks before => and after each rule).
    site = passive_site(tmp_path, "2012r2")
    assert site.run_change().ok
    trust = site.store.trusts["SfB-Director-Int"]
    trust["AdditionalAuthenticationRules"] = MFA_EXTRANET_RULE.replace(" => ", "\r\n => ") + "\r\n\r\n"
    assert Verified(site).code == 0
    # A rule that differs in more than its layout does not.
    trust["AdditionalAuthenticationRules"] = MFA_EXTRANET_RULE.replace('"false"', '"true"')
    assert Verified(site).code == 1


def test_a_trust_of_the_plans_name_for_another_identifier_fails(tmp_path: Path) -> None:
    site = passive_site(tmp_path, "2019")
    assert site.run_change().ok
    site.store.trusts["SfB-Director-Ext"]["Identifier"] = ["https://other.contoso.com/passiveauth/"]
    run = Verified(site)
    assert run.code == 1
    assert run.failed == ["FAIL Relying party trust SfB-Director-Ext Identifier: holds "
                          "https://other.contoso.com/passiveauth/, not https://sfbdirweb.contoso.com/passiveauth/, "
                          "the entityID of https://sfbdirweb.contoso.com/passiveauth/federationmetadata/2007-06/"
                          "federationmetadata.xml"]


def test_unreadable_metadata_fails_the_identifier_check_only(tmp_path: Path) -> None:
    site = passive_site(tmp_path, "2019")
    assert site.run_change().ok
    site.store.metadata.clear()
    run = Verified(site)
    assert run.code == 1
    assert [line.split(":")[0] for line in run.failed] == [
        "FAIL Relying party trust SfB-Director-Int Identifier", "FAIL Relying party trust SfB-Director-Ext Identifier"]
    assert "cannot read the relying party metadata" in run.failed[0]


def test_in_another_farm_nothing_else_is_checked(tmp_path: Path) -> None:
    site = passive_site(tmp_path, "2019")
    assert site.run_change().ok
    site.store.host_name = "adfs-test.contoso.com"
    run = Verified(site)
    assert run.code == 1
    assert run.lines == ["FAIL AD FS farm adfs.contoso.com: this AD FS farm is adfs-test.contoso.com, but the plan "
                         "is for adfs.contoso.com: nothing else was checked"]


def test_no_mfa_provider_fails(tmp_path: Path) -> None:
    site = passive_site(tmp_path, "2019")
    assert site.run_change().ok
    commands = site.store.commands

    def without_provider() -> dict[str, Any]:
        from tests.psfakes import _const
        from tests.psmini import PSObject
        return {**commands(), "Get-AdfsGlobalAuthenticationPolicy": _const(
            PSObject([("AdditionalAuthenticationProvider", [])]))}

    site.store.commands = without_provider  # type: ignore[method-assign]
    run = Verified(site)
    assert run.code == 1
    assert [line.split(":")[0] for line in run.failed] == ["FAIL MFA provider adfs.contoso.com"]


def test_a_whatif_run_checks_but_writes_no_report(tmp_path: Path) -> None:
    site = passive_site(tmp_path, "2019")
    assert site.run_change().ok
    run = Verified(site, whatif=True)
    assert run.code == 0 and run.lines and not run.report.exists()


# ---------------------------------------------------------------------------
# Modern Authentication: the trust Microsoft's setup script makes


def oauth_site(tmp_path: Path, *, web_api: bool) -> Site:
    store = FakeAdfs(host_name="sts.fabrikam.com", policies=(EXTRANET_ACP,), web_api=True, setup_makes_web_api=web_api)
    site = Site(tmp_path, bundle("sfbse-modern-auth-adfs2019-mfa").texts, store, "adfs-modern-auth.ps1",
                "rollback-adfs-modern-auth.ps1")
    (tmp_path / "Setup-Adfs2016OAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    return site


@pytest.mark.parametrize("web_api", [False, True], ids=["relying party trust", "Web API application"])
def test_after_the_modern_authentication_script_every_check_passes(tmp_path: Path, web_api: bool) -> None:
    site = oauth_site(tmp_path, web_api=web_api)
    before = Verified(site)
    assert before.code == 1
    assert before.line("FAIL Modern Authentication trust").startswith(
        "FAIL Modern Authentication trust " + ", ".join(SE_POOL_IDS) + ": no AD FS trust holds any pool's web "
        "services URL: run adfs-modern-auth.ps1 with Microsoft's Setup-Adfs2016OAuthTrustForSfB.ps1 beside it")
    assert site.run_change().ok
    run = Verified(site)
    assert run.code == 0, run.failed
    kind = "AdfsWebApiApplication" if web_api else "AdfsRelyingPartyTrust"
    assert run.line("PASS Modern Authentication trust Skype for Business Server: the " + kind)
    held = [line for line in run.lines if " Identifier: holds " in line]
    assert [line.rpartition(" ")[2] for line in held] == SE_POOL_IDS
    assert run.line("PASS Modern Authentication trust Skype for Business Server Enabled")
    assert run.line("PASS Modern Authentication trust Skype for Business Server AccessControlPolicyName: is what "
                    "the plan sets: " + EXTRANET_ACP)


def test_a_pool_url_missing_from_the_modern_authentication_trust_fails(tmp_path: Path) -> None:
    site = oauth_site(tmp_path, web_api=False)
    assert site.run_change().ok
    trust = site.store.trusts["Skype for Business Server"]
    trust["Identifier"] = SE_POOL_IDS[:2]
    trust["Enabled"] = False
    run = Verified(site)
    assert run.code == 1
    assert [line.split(":")[0] for line in run.failed] == [
        "FAIL Modern Authentication trust Skype for Business Server Identifier",
        "FAIL Modern Authentication trust Skype for Business Server Identifier",
        "FAIL Modern Authentication trust Skype for Business Server Enabled"]
    assert "lacks https://sedir01.corp.fabrikam.com" in run.failed[0]


def test_the_2012r2_modern_authentication_trust_is_checked_for_its_mfa_rule(tmp_path: Path) -> None:
    b = bundle("sfb2015-modern-auth-adfs2012r2")
    text = b.texts["verify-adfs.ps1"]
    assert "Get-AdfsWebApiApplication" not in text
    store = FakeAdfs(host_name="fs.tailspintoys.com")
    site = Site(tmp_path, b.texts, store, "adfs-modern-auth.ps1", "rollback-adfs-modern-auth.ps1")
    (tmp_path / "Setup-AdfsOAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    assert site.run_change().ok
    run = Verified(site)
    assert run.code == 0, run.failed
    [rule] = [line for line in run.lines if "AdditionalAuthenticationRules" in line]
    assert rule.startswith("PASS ")
    store.trusts["Skype for Business Server"]["AdditionalAuthenticationRules"] = ""
    assert Verified(site).code == 1


# ---------------------------------------------------------------------------
# In the bundle


def test_the_check_is_in_every_bundle_with_an_ad_fs_script_and_runs_after_the_changes() -> None:
    [artifact] = [a for a in ARTIFACTS if a.key == "verify_adfs"]
    assert artifact.read_only and artifact.run_order == 82
    for path in sorted(FIXTURES.glob("*.json")):
        b = bundle(path.stem)
        has_adfs = "adfs-server.ps1" in b.files or "adfs-modern-auth.ps1" in b.files
        assert ("verify-adfs.ps1" in b.files) is has_adfs, path.stem
        if not has_adfs:
            continue
        names = list(b.files)
        assert names.index("verify-adfs.ps1") > names.index("verify-internal.ps1") > names.index(
            "lync-management-shell.ps1")
        assert names.index("verify-adfs.ps1") < names.index("runbook.md")
        runbook = b.texts["runbook.md"]
        assert "- File: verify-adfs.ps1" in runbook
        assert runbook.index("- File: verify-adfs.ps1") < runbook.index("## If something goes wrong")
        checked = json.loads(b.texts["verification.json"])["checked"]
        assert any(line.startswith("verify-adfs.ps1: ") for line in checked)
