"""`manage.py plan_from_state` and `manage.py check_plan --state`, exactly as the state format's
contract says: output, exit status, STATE.json as `-`, and the round trip
state -> prefilled plan -> render for the three estates.

The commands run as real processes with a database URL that cannot be opened (tests.test_cli.manage),
which proves they never touch the database.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from tests.test_cli import manage
from wizard.plan.engine import assess
from wizard.plan.model import PRODUCTS

ROOT = Path(__file__).resolve().parent.parent
STATES = ROOT / "tests" / "fixtures" / "states"
FIXTURES = ("lync2013-adfs20", "sfb2015-director-two-edges", "sfb2019-adfs2019-wap")


def state(name: str) -> Path:
    return STATES / f"{name}.state.json"


def plan(name: str) -> Path:
    return STATES / f"{name}.plan.json"


@pytest.mark.parametrize("name", FIXTURES)
def test_state_to_prefilled_plan_to_rendered_bundle(name: str) -> None:
    done = manage("plan_from_state", str(state(name)))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    estate_doc = json.loads(state(name).read_text(encoding="utf-8"))
    assert doc["format"] == "lync-auth-plan/1"
    assert doc["sip_domains"] == estate_doc["sip_domains"]
    assert [p["fqdn"] for p in doc["pools"]] == [p["fqdn"] for p in estate_doc["pools"]]
    assert [e["fqdn"] for e in doc.get("edge_pools", [])] == [e["fqdn"] for e in estate_doc["edge_pools"]]
    assert doc["simple_urls"]["meet"] == estate_doc["simple_urls"]["meet"]
    if "adfs" in estate_doc:
        assert doc["adfs"] == {"federation_service_name": estate_doc["adfs"]["federation_service_name"],
                               "version": estate_doc["adfs"]["version"]}
    # Changes nothing until the admin chooses settings.
    assert not any("auth" in p for p in doc["pools"])
    assert not any(e.get("block_ntlm") for e in doc.get("edge_pools", []))
    assert "mobility_policies" not in doc
    prefilled, findings = assess(doc)
    assert prefilled is not None and not [f for f in findings if f.severity == "error"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bundle"
        rendered = manage("render_plan", "-", "--out", str(out), stdin=done.stdout.encode("utf-8"))
        assert rendered.returncode == 0, rendered.stderr
        files = {p.name for p in out.iterdir()}
        assert {"collect-state.ps1", "runbook.md", "plan.json", "SHA256SUMS"} <= files
        # A plan that changes nothing has no script that changes the Management Shell or AD FS.
        assert not {"lync-management-shell.ps1", "adfs-server.ps1"} & files


@pytest.mark.parametrize("name, status, expected", [
    ("lync2013-adfs20", 1, {"estate_proxy_certificate_auth_off", "estate_relying_party_identifier_taken",
                            "estate_mobility_override", "estate_collection_created", "estate_change",
                            "estate_no_op"}),
    ("sfb2015-director-two-edges", 0, {"estate_mobility_override",
                                       "estate_collection_created", "estate_change", "estate_no_op"}),
    ("sfb2019-adfs2019-wap", 0, {"estate_mobility_override", "estate_relying_party_present", "estate_change",
                                 "estate_no_op"}),
])
def test_check_plan_with_a_state_reports_differences_and_estate_facts(name: str, status: int,
                                                                     expected: set[str]) -> None:
    done = manage("check_plan", str(plan(name)), "--state", str(state(name)), "--json")
    assert done.returncode == status, done.stderr
    findings = json.loads(done.stdout)
    found = {f["code"] for f in findings}
    assert expected <= found, expected - found
    # The plan's own findings are still there.
    assert found - {c for c in found if c.startswith("estate_")}
    assert all(set(f) == {"severity", "code", "field", "message"} for f in findings)
    text = manage("check_plan", str(plan(name)), "--state", str(state(name)))
    assert text.returncode == status
    assert "state collected " in text.stdout and "intended versus actual: " in text.stdout


def test_without_a_state_check_plan_is_unchanged() -> None:
    done = manage("check_plan", str(plan("lync2013-adfs20")), "--json")
    assert done.returncode == 0, done.stderr
    assert not [f for f in json.loads(done.stdout) if f["code"].startswith("estate_")]


def test_the_state_may_come_from_standard_input() -> None:
    data = state("sfb2019-adfs2019-wap").read_bytes()
    done = manage("check_plan", str(plan("sfb2019-adfs2019-wap")), "--state", "-", "--json", stdin=data)
    assert done.returncode == 0, done.stderr
    assert "estate_relying_party_present" in {f["code"] for f in json.loads(done.stdout)}
    done = manage("plan_from_state", "-", stdin=data)
    assert done.returncode == 0 and json.loads(done.stdout)["product"] == "sfb2019"
    both = manage("check_plan", "-", "--state", "-", stdin=data)
    assert both.returncode == 2 and "standard input" in both.stderr


def test_an_unreadable_state_exits_2_with_every_error_on_stderr() -> None:
    doc = json.loads(state("sfb2019-adfs2019-wap").read_text(encoding="utf-8"))
    doc["pools"][0]["external_web_fqdn"] = "web .contoso.com"
    doc["web_service_configurations"][0]["use_windows_auth"] = "Kerberos"
    doc["typo"] = 1
    bad = json.dumps(doc).encode("utf-8")
    for args in (("plan_from_state", "-"), ("check_plan", str(plan("sfb2019-adfs2019-wap")), "--state", "-")):
        done = manage(*args, stdin=bad)
        assert done.returncode == 2, done.stdout
        assert done.stdout == ""
        for field in ("pools[0].external_web_fqdn", "web_service_configurations[0].use_windows_auth", "typo"):
            assert f"-: {field}: " in done.stderr, done.stderr
    done = manage("check_plan", str(plan("sfb2019-adfs2019-wap")), "--state", "/nonexistent/state.json")
    assert done.returncode == 2 and "cannot read the file" in done.stderr
    done = manage("plan_from_state", "-", stdin=b'{"format": "lync-auth-state/1", "collected_at": NaN}')
    assert done.returncode == 2 and "NaN" in done.stderr


def test_an_unreadable_plan_still_exits_2_with_a_good_state() -> None:
    done = manage("check_plan", "-", "--state", str(state("sfb2019-adfs2019-wap")), stdin=b"[1, 2]")
    assert done.returncode == 2 and "not a plan" in done.stderr


def test_subscription_edition_is_prefilled_as_subscription_edition() -> None:
    doc = json.loads(state("sfb2019-adfs2019-wap").read_text(encoding="utf-8"))
    doc["product"] = "sfbse"
    done = manage("plan_from_state", "-", stdin=json.dumps(doc).encode("utf-8"))
    assert done.returncode == 0, done.stderr
    written = json.loads(done.stdout)
    assert "sfbse" in PRODUCTS
    assert written["product"] == "sfbse" and written["x_prefilled_from_state"]["product"] == "sfbse"
    # Nothing to warn about: the plan names the product the estate runs.
    assert "Skype for Business Server 2019" not in done.stderr


def test_a_state_without_pools_still_gives_a_plan_and_says_what_is_missing() -> None:
    only_adfs = {"format": "lync-auth-state/1", "collected_at": "2026-12-01T09:41:17Z",
                 "adfs": json.loads(state("sfb2019-adfs2019-wap").read_text(encoding="utf-8"))["adfs"]}
    done = manage("plan_from_state", "-", "--name", "Contoso from AD FS", stdin=json.dumps(only_adfs).encode())
    assert done.returncode == 0, done.stderr
    written = json.loads(done.stdout)
    assert written["name"] == "Contoso from AD FS" and written["pools"] == []
    assert "no Front End or Director pool" in done.stderr and "product" in done.stderr


def test_a_plan_with_reader_errors_is_not_compared_and_says_so() -> None:
    doc = json.loads(plan("sfb2019-adfs2019-wap").read_text(encoding="utf-8"))
    doc["pools"][0]["fqdn"] = "bad name"
    done = manage("check_plan", "-", "--state", str(state("sfb2019-adfs2019-wap")),
                  stdin=json.dumps(doc).encode("utf-8"))
    assert done.returncode == 1
    assert "pools[0].fqdn" in done.stdout and "was not compared with the state" in done.stdout
    assert "estate_" not in done.stdout
