"""Which bundles carry verify-external.ps1: every plan with anything reachable from the Internet (an Edge
pool, a web services name the reverse proxy publishes, or AD FS that users sign in through), and for a plan
with nothing external the runbook says why there is no check from the Internet.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.psmini import Interpreter
from wizard.plan.engine import assess
from wizard.scripts.bundle import Bundle, Source, build_bundle

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
PLANS = sorted(FIXTURES.glob("*.json"))


def doc_of(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def bundle_of(doc: dict[str, Any]) -> Bundle:
    plan, findings = assess(doc)
    assert plan is not None, findings
    assert not [f for f in findings if f.severity == "error"], [f.code for f in findings if f.severity == "error"]
    return build_bundle(plan, source=Source.for_plan(plan), findings=findings)


def modern_auth_inside_only() -> dict[str, Any]:
    """Modern Authentication with no Edge pool and no external web services name: AD FS still faces the Internet."""
    doc = doc_of("sfbse-modern-auth-adfs2019-mfa")
    doc["edge_pools"] = []
    for pool in doc["pools"]:
        pool.pop("external_web_fqdn", None)
    doc.pop("simple_urls")
    doc["accepted_risks"] = []
    doc["adfs"]["mfa"] = "none"
    return doc


def nothing_external() -> dict[str, Any]:
    """NTLM kept, mobility hardened, no Edge pool, no external web services name, no AD FS."""
    doc = doc_of("s03-ntlm-kept-mobility-hardened")
    doc["edge_pools"] = []
    for pool in doc["pools"]:
        pool.pop("external_web_fqdn", None)
    return doc


def test_a_modern_authentication_plan_without_edge_or_reverse_proxy_probes_ad_fs_from_the_internet() -> None:
    b = bundle_of(modern_auth_inside_only())
    assert "verify-external.ps1" in b.files
    interp = Interpreter(b.texts["verify-external.ps1"])
    bases = [probe["Base"] for probe in interp.evaluate("WebProbes")]
    assert bases == ["https://sts.fabrikam.com"]
    paths = [item["Path"] for item in interp.evaluate("WebPathSets")["p1"]]
    assert paths[0] == "/adfs/ls/" and any("windowstransport" in p for p in paths)
    runbook = b.texts["runbook.md"]
    assert "- File: verify-external.ps1" in runbook
    assert "No check from the Internet" not in runbook


def test_a_plan_with_nothing_external_has_no_external_check_and_the_runbook_says_why() -> None:
    b = bundle_of(nothing_external())
    assert "verify-external.ps1" not in b.files
    runbook = b.texts["runbook.md"]
    assert "### No check from the Internet" in runbook
    assert "There is no verify-external.ps1 in this bundle: the plan names nothing reachable from the Internet" \
        in runbook
    # Only the internal verification is a step, and no other step says verify-external.ps1 checks anything.
    assert "- File: verify-internal.ps1" in runbook
    steps = runbook[runbook.index("## Steps, in order"):runbook.index("### No check from the Internet")]
    assert "verify-external.ps1" not in steps


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_a_runbook_that_names_verify_external_comes_with_it(path: Path) -> None:
    b = bundle_of(json.loads(path.read_text(encoding="utf-8")))
    runbook = b.texts["runbook.md"]
    assert "verify-external.ps1" in b.files
    assert "No check from the Internet" not in runbook


def test_the_runbook_of_the_ad_fs_only_plan_never_claims_a_check_its_bundle_lacks() -> None:
    for doc in (modern_auth_inside_only(), nothing_external()):
        b = bundle_of(doc)
        claims = "verify-external.ps1 asks" in b.texts["runbook.md"] or "verify-external.ps1 sends" in b.texts[
            "runbook.md"]
        assert not claims or "verify-external.ps1" in b.files
