"""collect-state.ps1: read-only, the same everywhere, verified for every product and AD FS version,
and writing exactly the keys the state reader reads."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from tests.psmini import Interpreter
from wizard.plan.estate import EstateCertificate, EstateProxy, EstateRelyingParty, EstateWebService
from wizard.plan.model import MOBILITY_SETTINGS
from wizard.plan.reader import load_plan
from wizard.proof.psast import Command, analyse
from wizard.scripts.artifacts import estate as collector
from wizard.scripts.bundle import Source, build_bundle, encode_file

ROOT = Path(__file__).resolve().parent.parent
PLANS = sorted((ROOT / "tests" / "fixtures" / "plans").glob("*.json"))

# Output cmdlets: what writes to the console or to the one file. Everything else must be a Get- cmdlet.
OUTPUT_CMDLETS = frozenset({"ConvertTo-Json", "Set-Content", "Out-File", "Write-Host", "Write-Output",
                            "Write-Warning", "Write-Verbose"})
# .NET members the script may touch: reading names, parsing a URL, formatting a date.
STATIC_MEMBERS = frozenset({
    "System.Environment::MachineName", "System.Environment::OSVersion", "System.Net.Dns::GetHostEntry", "System.Uri::TryCreate",
    "System.UriKind::Absolute", "System.StringComparison::OrdinalIgnoreCase",
    "System.Globalization.CultureInfo::InvariantCulture",
})
_STATIC_RE = re.compile(r"\[([\w.]+)\]::(\w+)")


def commands_of(text: str) -> list[str]:
    """Return the name of every command the script runs (functions it defines included)."""
    return [e.name for e in analyse(text).events if isinstance(e, Command)]


def not_read_only(text: str) -> list[str]:
    """Return what in `text` is not a Get- cmdlet, an output cmdlet or an allowed .NET member."""
    problems = [name for name in commands_of(text) if not name.startswith("Get-") and name not in OUTPUT_CMDLETS]
    problems += [f"[{t}]::{m}" for t, m in _STATIC_RE.findall(text) if f"{t}::{m}" not in STATIC_MEMBERS]
    # No way to run a command whose name is only known at run time.
    problems += [token for token in ("Invoke-Expression", "iex ", "& $", ". $", "Invoke-Command")
                 if token in text]
    return problems


@pytest.fixture(scope="module")
def text() -> str:
    return collector.render_collector()


def test_the_collector_calls_nothing_but_get_and_output_cmdlets(text: str) -> None:
    names = commands_of(text)
    assert "Get-CsWebServiceConfiguration" in names and "Get-AdfsRelyingPartyTrust" in names
    assert "Set-Content" in names and "ConvertTo-Json" in names
    assert not_read_only(text) == []


@pytest.mark.parametrize("mutation", [
    "Set-CsWebServiceConfiguration -Identity 'Global' -UseCertificateAuth $true",
    "Add-PSSnapin Microsoft.Adfs.PowerShell",
    "Import-Module -Name 'ADFS'",
    "New-Item -ItemType Directory -Path 'x'",
    "[System.IO.File]::WriteAllText('x', 'y')",
    "& $Command",
    "Invoke-Expression 'Remove-Item x'",
])
def test_the_read_only_check_finds_a_command_that_changes_something(text: str, mutation: str) -> None:
    mutated = text.replace("$State = [ordered]@{}", mutation + "\n$State = [ordered]@{}", 1)
    assert not_read_only(mutated)


def test_the_collector_passes_verification_for_every_product_and_adfs_version(text: str) -> None:
    report = collector.verify_collector(text)
    assert report.ok, report.problems
    assert any("every product (lync2013, sfb2015, sfb2019, sfbse) and AD FS version (2.0, 2012r2, 2016, 2019, 2022)" in line
               for line in report.checked)


def test_a_cmdlet_some_adfs_versions_lack_needs_a_get_command_guard(text: str) -> None:
    guard = "Get-Command -Name 'Get-AdfsWebApplicationProxyRelyingPartyTrust' -ErrorAction SilentlyContinue"
    assert guard in text
    unguarded = text.replace(guard, "Get-Command -Name 'Get-Date' -ErrorAction SilentlyContinue")
    report = collector.verify_collector(unguarded)
    assert not report.ok
    assert any("Get-AdfsWebApplicationProxyRelyingPartyTrust does not exist on AD FS 2.0" in p for p in report.problems)


def test_a_portable_script_still_has_its_parameters_checked_and_each_problem_reported_once(text: str) -> None:
    mutated = text.replace("$State = [ordered]@{}",
                           "Get-CsSite -Identity 'x' -Bogus 1\n$State = [ordered]@{}", 1)
    report = collector.verify_collector(mutated)
    assert not report.ok
    assert sum("Get-CsSite has no parameter -Bogus" in p for p in report.problems) == 1  # once, not per product


def test_every_bundle_holds_the_same_collector_as_the_download(text: str) -> None:
    texts = set()
    for path in PLANS:
        plan, findings = load_plan(path.read_bytes())
        assert plan is not None, path
        bundle = build_bundle(plan, source=Source.for_plan(plan, plan_ref="ref", revision=3), findings=None) \
            if not any(f.severity == "error" for f in findings) else None
        if bundle is None:
            continue
        texts.add(bundle.texts[collector.COLLECTOR_FILE])
        assert bundle.files[collector.COLLECTOR_FILE] == encode_file(collector.COLLECTOR_FILE, text)
    assert texts == {text}


def test_the_collector_writes_utf8_json_deep_enough_and_enums_by_name(text: str) -> None:
    assert "ConvertTo-Json -InputObject $State -Depth 8" in text
    assert "-Encoding UTF8" in text and "Out-File" not in commands_of(text)
    # Enums go through ToString() (their name), never straight into ConvertTo-Json (their number).
    assert "$Value.ToString()" in text
    assert ".ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)" in text


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_the_collector_writes_exactly_the_keys_the_reader_reads() -> None:
    keys = lambda rows: {key for key, _, _ in rows}  # noqa: E731
    assert keys(collector.WEB_SERVICE_FIELDS) == _fields(EstateWebService)
    assert keys(collector.PROXY_FIELDS) == _fields(EstateProxy)
    assert keys(collector.MOBILITY_FIELDS) == {"identity", *MOBILITY_SETTINGS}
    assert keys(collector.CERTIFICATE_FIELDS) | {"alternative_names", "not_after"} == _fields(EstateCertificate)
    assert keys(collector.TRUST_FIELDS) | {"identifiers"} == _fields(EstateRelyingParty)


def test_the_state_keys_of_the_template_are_the_documented_ones(text: str) -> None:
    written = set(re.findall(r"\$(?:State|Pool|Edge|SimpleUrls|Farm|Entry)\['(\w+)'\]", text))
    documented = json.loads((ROOT / "tests" / "fixtures" / "states" / "sfb2019-adfs2019-wap.state.json").read_text())
    every_key = set(documented) | set(documented["pools"][0]) | set(documented["edge_pools"][0]) \
        | set(documented["simple_urls"]) | set(documented["adfs"]) | set(documented["certificates"][0]) \
        | set(documented["adfs"]["relying_parties"][0])
    assert written <= every_key, written - every_key


@pytest.mark.parametrize("component, key", [
    ("Meet", "meet"), ("meet", "meet"), ("Dialin", "dialin"),
    # Topology Builder stores the admin URL as the Control Panel component 'Cscp'; the help says 'Admin'.
    ("Cscp", "admin"), ("cscp", "admin"), ("Admin", "admin"),
    ("WebScheduler", None), ("", None),
])
def test_every_simple_url_component_reaches_its_state_key(text: str, component: str, key: str | None) -> None:
    interpreter = Interpreter(text)
    interpreter.define_functions()
    assert interpreter.call("Get-StateSimpleUrlKey", Component=component) == key
