"""CSV files the scripts write, opened in a spreadsheet: no cell is taken for a formula.

The plan's name and its relying party names are free text and land in run.csv, backup.csv,
created.csv and verify-adfs.csv. A cell starting with = + - @ (or a full-width form of one), a tab
or a carriage return is a formula to Excel, so the scripts write it with a leading quote, and the
rollback, which reads these files back to find its runs and the objects to restore, takes the quote
off again. tests/psmini.py runs the rendered scripts against the fake AD FS farm of tests/psfakes.py.
"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from tests.psfakes import FakeAdfs
from tests.psmini import Interpreter, PSObject
from tests.test_rollback_runs import Site, lync_site
from tests.test_verify_adfs import Verified
from wizard.plan.reader import read_plan
from wizard.scripts.bundle import Source, build_bundle

FIXTURE = Path(__file__).parent / "fixtures" / "plans" / "multi-domain-director-idn.json"
INTERNAL_METADATA = "https://sfbdirint.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml"
EXTERNAL_METADATA = "https://sfbdirweb.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml"

# What a spreadsheet reads as the start of a formula.
FORMULA = re.compile("^[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]")

NAMES = [
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-x",
    "@SUM(1)",
    "\uff1dcmd|' /C calc'!A0",     # full-width =
    "\uff0b1",                      # full-width +
    "\uff0dx",                      # full-width -
    "\uff20SUM(1)",                 # full-width @
    "'=already quoted",             # a quote before a formula character is kept, not eaten
]


def cells(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file as a spreadsheet gets them (header row as keys)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def formula_cells(folder: Path) -> list[str]:
    return [value for path in folder.rglob("*.csv") for row in cells(path) for value in row.values()
            if FORMULA.match(value)]


def adfs_site(tmp_path: Path, name: str | None, version: str = "2019") -> Site:
    """An AD FS server whose plan (and both relying parties of its Director) is named `name`:
    the internal trust exists already, the external one is created by the change."""
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    internal, external = "SfB-Director-Int", "SfB-Director-Ext"
    if name is not None:
        doc["name"] = name
        internal, external = name, name + " Ext"
        doc["pools"][1]["relying_parties"] = {"internal": internal, "external": external}
    doc["adfs"]["version"] = version
    if version == "2.0":
        doc["adfs"]["mfa"] = "none"
    plan, findings = read_plan(doc)
    assert plan is not None, findings
    texts = build_bundle(plan, source=Source.for_plan(plan)).texts
    store = FakeAdfs(host_name="adfs.contoso.com",
                     policies=("Permit everyone", "Permit everyone and require MFA from extranet access"),
                     metadata={INTERNAL_METADATA: "https://sfbdirint.contoso.com/passiveauth/",
                               EXTERNAL_METADATA: "https://sfbdirweb.contoso.com/passiveauth/"})
    store.collections["AdfsRelyingPartyTrust"].items[internal] = {
        **store.collections["AdfsRelyingPartyTrust"].defaults, "Identifier": ["https://sfbdirint.contoso.com/passiveauth/"],
        "IssuanceAuthorizationRules": "old authorization", "IssuanceTransformRules": "old transform"}
    # A farm that drops the old rules when the policy is assigned: kept, verify-adfs.ps1 fails on them
    # (tests/test_verify_adfs.py), which is not what these tests look at.
    store.policy_drops_authorization_rules = True
    return Site(tmp_path, texts, store, "adfs-server.ps1", "rollback-adfs.ps1")


@pytest.mark.parametrize("name", NAMES)
def test_a_name_a_spreadsheet_would_run_is_written_as_text(tmp_path: Path, name: str) -> None:
    site = adfs_site(tmp_path, name)
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    [run] = site.runs()
    assert cells(site.backup / run / "run.csv")[0]["Plan"] == "'" + name
    assert [row["Identity"] for row in cells(site.backup / run / "backup.csv")] == ["'" + name]
    assert [row["Identity"] for row in cells(site.backup / run / "created.csv")] == ["'" + name + " Ext"]
    assert formula_cells(site.backup) == []


@pytest.mark.parametrize("name", NAMES)
def test_the_rollback_of_such_a_plan_finds_its_runs_and_restores_the_trusts(tmp_path: Path, name: str) -> None:
    site = adfs_site(tmp_path, name)
    before = site.store.state()
    assert site.run_change().ok
    assert site.run_change().ok          # the re-run finds the first run's records of both trusts
    assert site.store.state() != before
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert site.store.state() == before
    assert all((site.backup / run / "rolled-back.csv").is_file() for run in site.runs())
    assert formula_cells(site.backup) == []


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "-x", "@SUM(1)"])
def test_a_rollback_named_by_folder_of_such_a_plan_restores_it(tmp_path: Path, name: str) -> None:
    site = adfs_site(tmp_path, name, version="2.0")
    before = site.store.state()
    assert site.run_change().ok
    [run] = site.runs()
    assert cells(site.backup / run / "run.csv")[0]["Plan"] == "'" + name
    outcome = site.run_rollback(run)
    assert outcome.ok, outcome.error
    assert site.store.state() == before


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "-x", "\uff0b1"])
def test_the_management_shell_rollback_of_such_a_plan_finds_its_runs(tmp_path: Path, name: str) -> None:
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    doc["name"] = name
    plan, findings = read_plan(doc)
    assert plan is not None, findings
    site = lync_site(tmp_path)
    site.texts = build_bundle(plan, source=Source.for_plan(plan)).texts
    before = site.store.state()
    assert site.run_change().ok
    [run] = site.runs()
    assert cells(site.backup / run / "run.csv")[0]["Plan"] == "'" + name
    outcome = site.run_rollback()
    assert outcome.ok, outcome.error
    assert site.store.state() == before
    assert formula_cells(site.backup) == []


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "\uff20SUM(1)"])
def test_the_verification_report_of_such_a_plan_is_text(tmp_path: Path, name: str) -> None:
    site = adfs_site(tmp_path, name)
    assert site.run_change().ok
    run = Verified(site)
    assert run.code == 0, run.failed
    rows = run.rows()
    assert {row["Plan"] for row in rows} == {"'" + name}
    assert "'" + name in {row["Target"] for row in rows}
    assert formula_cells(site.folder) == []


def test_a_plain_name_is_written_unchanged(tmp_path: Path) -> None:
    site = adfs_site(tmp_path, None)
    assert site.run_change().ok
    [run] = site.runs()
    record = cells(site.backup / run / "run.csv")[0]
    assert record["Plan"] == "Contoso: three SIP domains, passive Director, Office Online Server, AD FS on the reverse proxy"
    assert record["State"] == "completed" and record["WhatIf"] == "False"
    assert [row["Identity"] for row in cells(site.backup / run / "backup.csv")] == ["SfB-Director-Int"]
    assert [row["Identity"] for row in cells(site.backup / run / "created.csv")] == ["SfB-Director-Ext"]


@pytest.mark.parametrize("value", [
    "\tx", "\rx", "=1", "+1", "-1", "@x", "\uff1d1", "\uff0b1", "\uff0d1", "\uff20x",
    "'=1", "''-1", "'", "'x", "plain", "a=b", "", "x\r\ny",
])
def test_every_cell_reads_back_as_it_was_written(tmp_path: Path, value: str) -> None:
    interp = Interpreter(adfs_site(tmp_path, None).texts["rollback-adfs.ps1"])
    interp.define_functions()
    path = str(tmp_path / "cells.csv")
    interp.call("Write-RunCsv", Rows=[PSObject([("Name", value), ("Other", "b")])], Columns=["Name", "Other"], Path=path)
    [written] = cells(Path(path))
    assert not FORMULA.match(written["Name"])
    assert written["Name"] == ("'" + value if re.match("^'*[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]", value) else value)
    row = interp.call("Read-RunCsv", Path=path)
    assert row.to_dict() == {"Name": value, "Other": "b"}
