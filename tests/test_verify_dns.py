"""The DNS checks of verify-internal.ps1 and verify-external.ps1, run by tests/psmini.py on crafted answers.

A CNAME the plan asks for (lyncdiscover to the external web services, lyncdiscoverinternal to the pool's
internal web services) may be an A record instead, but only one that gives the target's addresses: a name
that resolves to some other address (an old pool, a wildcard record) is a FAIL, not a PASS.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from tests.psmini import Builtin, CIDict, DotNetObject, Interpreter, PSError, PSObject, ps_str
from wizard.plan.reader import read_plan
from wizard.scripts.bundle import Source, build_bundle

FIXTURE = Path(__file__).parent / "fixtures" / "plans" / "multi-domain-director-idn.json"
SCRIPTS = ("verify-internal.ps1", "verify-external.ps1")


@lru_cache(maxsize=1)
def texts() -> dict[str, str]:
    plan, findings = read_plan(json.loads(FIXTURE.read_text(encoding="utf-8")))
    assert plan is not None, findings
    return build_bundle(plan, source=Source.for_plan(plan)).texts


class Results(DotNetObject):
    """The script's List[object] of results: only Add is used."""

    def __init__(self) -> None:
        self.rows: list[Any] = []

    def ps_call(self, name: str, args: list[Any]) -> Any:
        assert name.lower() == "add", name
        self.rows.append(args[0])


def a(address: str) -> PSObject:
    return PSObject([("Name", "x"), ("Type", "A"), ("IPAddress", address)])


def cname(target: str) -> PSObject:
    return PSObject([("Name", "x"), ("Type", "CNAME"), ("NameHost", target)])


def check(script: str, zone: dict[str, list[PSObject]], record: dict[str, Any]) -> tuple[str, str]:
    """Run the script's Test-DnsRecord on `record` with DNS answering from `zone` (a name not in it does not
    resolve); return the status and reason of the one result it adds."""
    def resolve(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
        assert ps_str(named.get("Type")) == "A"
        name = ps_str(named.get("Name"))
        if name not in zone:
            raise PSError(f"{name} : DNS name does not exist")
        return list(zone[name])

    interp = Interpreter(texts()[script], commands={"Resolve-Name": Builtin(resolve)})
    interp.define_functions()
    del interp.functions["Resolve-Name"]
    results = Results()
    interp.set("Results", results)
    interp.call("Test-DnsRecord", Record=CIDict(record.items()))
    [row] = results.rows
    return row.to_dict()["Status"], row.to_dict()["Reason"]


LYNCDISCOVER = {"Name": "lyncdiscover.contoso.com", "Type": "CNAME", "Target": "sfbweb.contoso.com", "Port": 0}


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_a_record_to_another_address_than_the_target_is_a_fail(script):
    zone = {"lyncdiscover.contoso.com": [a("192.0.2.99")], "sfbweb.contoso.com": [a("192.0.2.10")]}
    status, reason = check(script, zone, LYNCDISCOVER)
    assert status == "FAIL", reason
    assert "192.0.2.99" in reason and "192.0.2.10" in reason and "sfbweb.contoso.com" in reason


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_a_record_to_some_of_the_targets_addresses_and_another_is_a_fail(script):
    zone = {"lyncdiscover.contoso.com": [a("192.0.2.10"), a("192.0.2.99")],
            "sfbweb.contoso.com": [a("192.0.2.10"), a("192.0.2.11")]}
    assert check(script, zone, LYNCDISCOVER)[0] == "FAIL"


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_a_record_to_the_targets_address_or_the_cname_itself_is_a_pass(script):
    same = {"lyncdiscover.contoso.com": [a("192.0.2.10")], "sfbweb.contoso.com": [a("192.0.2.10"), a("192.0.2.11")]}
    status, reason = check(script, same, LYNCDISCOVER)
    assert status == "PASS", reason
    assert "the addresses of sfbweb.contoso.com" in reason
    through = {"lyncdiscover.contoso.com": [cname("sfbweb.contoso.com."), a("192.0.2.10")]}
    status, reason = check(script, through, LYNCDISCOVER)
    assert status == "PASS", reason
    assert "through the CNAME sfbweb.contoso.com" in reason


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_name_without_an_address_or_a_target_that_does_not_resolve_is_a_fail(script):
    # (A name that does not exist at all is an error of Resolve-DnsName, which Invoke-Check reports as a FAIL.)
    assert check(script, {"lyncdiscover.contoso.com": []}, LYNCDISCOVER)[0] == "FAIL"
    status, reason = check(script, {"lyncdiscover.contoso.com": [a("192.0.2.10")]}, LYNCDISCOVER)
    assert status == "FAIL" and "does not resolve here" in reason


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_a_record_the_plan_knows_no_address_of_passes_when_it_resolves(script):
    record = {"Name": "sfbweb.contoso.com", "Type": "A", "Target": "", "Port": 0}
    assert check(script, {"sfbweb.contoso.com": [a("192.0.2.10")]}, record)[0] == "PASS"
    assert check(script, {"sfbweb.contoso.com": []}, record)[0] == "FAIL"
