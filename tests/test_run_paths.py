"""Scripts kept in a folder whose name holds PowerShell wildcard characters, such as `Backups [2026]`.

A `-Path` parameter reads `[2026]` as "one of 2, 0, 6", so a run folder under `D:\\Backups [2026]\\`
names other folders or none; a backtick escapes the character after it, so `Runs `1` names `Runs 1`.
tests/psmini.py models that; these tests run the rendered scripts in both folders and check what
they write and what the rollback restores.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.psmini import Builtin, Interpreter, PSError, read_csv
from tests.test_modern_auth_runs import EXTRANET_ACP, SE_POOL_IDS
from tests.test_modern_auth_runs import adfs_site as modern_auth_site
from tests.test_modern_auth_runs import bundle as modern_auth_bundle
from tests.test_modern_auth_runs import lync_site as modern_auth_lync_site
from tests.test_network_artifacts import text as bundle_text
from tests.test_rollback_runs import Site, adfs_site, lync_site
from tests.test_verify_adfs import Verified

# Each folder name, and the folder its name matches when read as a pattern: a script that reads its
# folder through -Path finds that empty folder instead of its own.
FOLDERS = {"Backups [2026]": "Backups 2",
           # Windows PowerShell's [WildcardPattern]::Escape leaves a backtick alone (psmini refuses it).
           "Runs `1 [2026]": "Runs 1 2"}


@pytest.fixture(params=list(FOLDERS))
def folder_name(request: Any) -> str:
    return str(request.param)


def bracketed(tmp_path: Path, name: str) -> Path:
    """A script folder named like a wildcard pattern, beside a folder that pattern matches."""
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (tmp_path / FOLDERS[name]).mkdir()
    return folder


def decoy(folder: Path) -> Path:
    """The folder that `folder`'s name names as a pattern."""
    return folder.parent / FOLDERS[folder.name]


@pytest.fixture(params=["lync", "adfs"])
def site(request: Any, tmp_path: Path, folder_name: str) -> Site:
    folder = bracketed(tmp_path, folder_name)
    return lync_site(folder) if request.param == "lync" else adfs_site(folder, "2.0")


def test_a_run_writes_its_records_and_transcript_in_a_bracketed_folder(site: Site) -> None:
    assert site.run_change(whatif=True).ok
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    [whatif, real] = site.runs()
    assert whatif.endswith("-whatif")
    files = {p.name for p in (site.backup / real).iterdir()}
    assert {"run.csv", "backup.csv", "created.csv", "transcript.log"} <= files
    assert site.run_record(real)["State"] == "completed"
    # Nothing was written beside it, in the folder the pattern matches.
    assert not any(decoy(site.folder).iterdir())


def test_the_default_rollback_in_a_bracketed_folder_restores_the_state_before_the_change(site: Site) -> None:
    before = site.store.state()
    assert site.run_change().ok
    assert site.run_change().ok          # a re-run: the rollback reads the first run's saved state
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert site.store.state() == before
    for run in site.runs():
        assert (site.backup / run / "rolled-back.csv").is_file()
    logs = [p.name for p in (site.backup / site.runs()[-1]).iterdir() if p.name.startswith("rollback-")]
    assert len(logs) == 1


def test_a_rollback_named_by_its_bracketed_folder_restores_it(site: Site) -> None:
    before = site.store.state()
    assert site.run_change().ok
    [run] = site.runs()
    outcome = site.run_rollback(run)
    assert outcome.ok, outcome.error
    assert site.store.state() == before
    [row] = read_csv(str(site.backup / run / "rolled-back.csv"))
    assert row.props["From"] == run


def test_verify_adfs_writes_its_report_in_a_bracketed_folder(tmp_path: Path, folder_name: str) -> None:
    site = adfs_site(bracketed(tmp_path, folder_name), "2.0")
    assert site.run_change().ok
    run = Verified(site)
    assert run.code == 0, run.failed
    assert run.rows() and all(row["Status"] == "PASS" for row in run.rows())


def _edge_request_run(folder: Path, write_to: Callable[[str], str | None]) -> Interpreter:
    """certificates-edge.ps1 run from `folder`; its Request-CsCertificate writes the request file
    where `write_to` says for the -Output it is given (None: nowhere)."""
    def request(interp: Interpreter, named: Any, pos: list[Any], data: Any) -> list[Any]:
        target = write_to(str(named["Output"]))
        if target is not None and not interp.script.vars.get("WhatIfPreference"):
            Path(target).write_text("-----BEGIN NEW CERTIFICATE REQUEST-----\n", encoding="ascii")
        return []

    return Interpreter(bundle_text("certificates-edge.ps1"),
                       commands={"Request-CsCertificate": Builtin(request, frozenset({"New", "PrivateKeyExportable"})),
                                 "Get-Command": Builtin(lambda i, n, p, d: ["command"])},
                       clock=lambda: dt.datetime(2026, 11, 22, 14, 0, 0),
                       script_path=str(folder / "certificates-edge.ps1"))


def test_the_edge_certificate_script_writes_its_transcript_and_request_in_a_bracketed_folder(
        tmp_path: Path, folder_name: str) -> None:
    folder = bracketed(tmp_path, folder_name)
    run = _edge_request_run(folder, lambda output: output)
    assert run.run() == 0
    assert any("Request written to" in line for line in run.host)
    assert (folder / "certificates-edge-20261122-140000.log").is_file()
    assert [p.suffix for p in folder.iterdir() if p.suffix == ".req"] == [".req"]
    assert not any(decoy(folder).iterdir())


@pytest.mark.parametrize("where", ["the folder the pattern names", "nowhere"])
def test_the_edge_certificate_script_stops_when_the_request_file_is_not_where_it_should_be(
        tmp_path: Path, folder_name: str, where: str) -> None:
    # Request-CsCertificate's help does not say whether -Output is a pattern: if it is, the request
    # lands in the folder the pattern names (or nowhere), and the script must not say it is written.
    folder = bracketed(tmp_path, folder_name)

    def elsewhere(output: str) -> str | None:
        return str(decoy(folder) / Path(output).name) if where != "nowhere" else None

    run = _edge_request_run(folder, elsewhere)
    with pytest.raises(PSError, match=r"left no request file at .*move this folder"):
        run.run()
    assert not any("Request written to" in line for line in run.host)


def test_the_edge_certificate_script_looks_for_no_request_file_under_whatif(tmp_path: Path) -> None:
    folder = bracketed(tmp_path, "Backups [2026]")
    run = _edge_request_run(folder, lambda output: output)
    assert run.run(whatif=True) == 0
    assert not [p for p in folder.iterdir() if p.suffix == ".req"]


def test_modern_authentication_and_its_rollback_work_in_a_bracketed_folder(tmp_path: Path,
                                                                           folder_name: str) -> None:
    folder = bracketed(tmp_path / "adfs", folder_name)
    site = modern_auth_site(folder, modern_auth_bundle(), web_api=False, policies=(EXTRANET_ACP,))
    (folder / "Setup-Adfs2016OAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    # An earlier setup made the trust: the change saves it, and the rollback reads that file back.
    site.store.trusts["Skype for Business Server"] = {
        "MetadataUrl": None, "AccessControlPolicyName": "Permit specific group",
        "AccessControlPolicyParameters": ["FABRIKAM\\Skype users"], "IssuanceAuthorizationRules": "",
        "IssuanceTransformRules": "", "AdditionalAuthenticationRules": "", "Identifier": list(SE_POOL_IDS)}
    lync = modern_auth_lync_site(bracketed(tmp_path / "lync", folder_name))
    for one in (site, lync):
        before = one.store.state()
        outcome = one.run_change()
        assert outcome.ok, outcome.error
        rolled = one.run_rollback()
        assert rolled.ok, rolled.error
        assert one.store.state() == before


def test_microsofts_script_is_not_run_from_a_folder_whose_path_is_a_pattern(tmp_path: Path, folder_name: str) -> None:
    # No trust yet, so Microsoft's script would make it; `& 'D:\\Backups [2026]\\Setup-....ps1'` in Windows
    # PowerShell runs `D:\\Backups 2\\Setup-....ps1` instead, or nothing: the script says so before any change.
    folder = bracketed(tmp_path, folder_name)
    site = modern_auth_site(folder, modern_auth_bundle(), web_api=False, policies=(EXTRANET_ACP,))
    for where in (folder, decoy(folder)):
        (where / "Setup-Adfs2016OAuthTrustForSfB.ps1").write_text("# Microsoft's script\n", encoding="utf-8")
    before = site.store.state()
    for whatif in (True, False):
        outcome = site.run_change(whatif=whatif)
        assert outcome.error and "read the path of Microsoft's script as a wildcard pattern" in outcome.error
        assert "move this folder" in outcome.error
    assert site.store.setup_runs == [] and site.store.calls == []
    assert site.store.state() == before
