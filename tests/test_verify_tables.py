"""The verification scripts' tables of DNS, port and TLS checks hold their names in groups, which the
scripts expand back into one check per row (`Expand-Checks`, verify-common.ps1.j2). tests/psmini.py
runs the rendered script's own tables through its own function, and the result must be every check
the plan's context lists, field by field and in order: a row dropped, added or changed fails here.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from bench.plans import generated_plan
from tests.psmini import CIDict, Interpreter
from wizard.plan.reader import read_plan
from wizard.scripts.artifacts import network
from wizard.scripts.bundle import Source, build_bundle

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
PLANS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))}
PLANS["generated-3-pools"] = generated_plan(3, 4)
PLANS["generated-12-pools"] = generated_plan(12, 5)
# The scripts' tables, the context's rows they hold, and each row's fields as the script names them.
TABLES = {"DnsChecks": ("dns", {"name": "Name", "type": "Type", "target": "Target", "port": "Port"}),
          "PortChecks": ("ports", {"name": "Name", "port": "Port"}),
          "TlsChecks": ("tls", {"name": "Name", "port": "Port", "certificate": "Certificate"})}
CONTEXTS = {"verify-external.ps1": network.verify_external_context,
            "verify-internal.ps1": network.verify_internal_context}


@lru_cache(maxsize=16)
def rendered(key: str) -> tuple[Any, dict[str, str]]:
    plan, findings = read_plan(PLANS[key])
    assert plan is not None, findings
    return plan, build_bundle(plan, source=Source.for_plan(plan)).texts


def script_checks(text: str, table: str) -> list[dict[str, Any]]:
    """The checks the script's table holds, as the script itself expands them."""
    interp = Interpreter(text)
    interp.define_functions()
    value = interp.evaluate(table)
    assert isinstance(value, list)
    out = []
    for check in value:
        assert isinstance(check, CIDict), check
        out.append({key: check[key] for key in check.keys()})
    return out


def context_checks(rows: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    return [{names[key]: value for key, value in row.items()} for row in rows]


CASES = [(key, script, table) for key in PLANS for script in CONTEXTS for table in TABLES]


@pytest.mark.parametrize(("key", "script", "table"), CASES)
def test_the_grouped_tables_make_every_check_of_the_plan(key, script, table):
    plan, texts = rendered(key)
    if script not in texts:
        pytest.skip(f"{key} has no {script}")
    rows, names = TABLES[table]
    wanted = context_checks(CONTEXTS[script](plan)[rows], names)
    assert script_checks(texts[script], table) == wanted


def test_the_generated_plans_group_their_checks():
    plan, _texts = rendered("generated-12-pools")
    for script, make in CONTEXTS.items():
        context = make(plan)
        grouped = {"dns": "dns_groups", "ports": "port_groups", "tls": "tls_groups"}
        if script == "verify-internal.ps1":
            del grouped["tls"]   # one certificate per pool: a group per name
        for rows, groups in grouped.items():
            assert len(context[groups]) < len(context[rows]), (script, rows)


def test_a_name_dropped_from_a_group_is_a_check_missing():
    plan, texts = rendered("generated-12-pools")
    text = texts["verify-external.ps1"]
    start = text.index("$TlsChecks = @(")
    line = next(x for x in text[start:].splitlines() if x.startswith("        '"))
    mutated = text[:start] + text[start:].replace(line + "\n", "", 1)
    wanted = context_checks(network.verify_external_context(plan)["tls"], TABLES["TlsChecks"][1])
    assert script_checks(text, "TlsChecks") == wanted
    assert len(script_checks(mutated, "TlsChecks")) == len(wanted) - 1


@pytest.mark.parametrize("rows", [
    [],
    [{"name": "a", "port": 443}],
    [{"name": "a", "port": 443}, {"name": "a", "port": 80}, {"name": "b", "port": 443}, {"name": "b", "port": 80},
     {"name": "c", "port": 443}, {"name": "a", "port": 443}, {"name": "a", "port": 443}],
])
def test_groups_expand_to_the_rows_they_came_from(rows):
    expanded = [{**{k: v for k, v in group.items() if k not in ("names", "ports")}, "name": name, "port": port}
                for group in network.check_groups(rows, crossed="port")
                for name in group["names"] for port in group["ports"]]
    assert expanded == rows
    plain = [{**{k: v for k, v in group.items() if k != "names"}, "name": name}
             for group in network.check_groups(rows) for name in group["names"]]
    assert plain == rows


@pytest.mark.parametrize("key", list(PLANS))
def test_each_collection_reads_back_every_value_the_plan_sets(key):
    """verify-internal.ps1 writes each set of expected values once; every collection still gets all of its own."""
    plan, texts = rendered(key)
    if "verify-internal.ps1" not in texts:
        pytest.skip(f"{key} has no verify-internal.ps1")
    interp = Interpreter(texts["verify-internal.ps1"])
    sets = interp.evaluate("ExpectedSettings")
    expected = network.verify_internal_context(plan)["expected"]
    for table, group in (("WebServiceExpected", "web_services"), ("ProxyExpected", "proxies"),
                         ("MobilityExpected", "mobility")):
        rows = interp.evaluate(table)
        got = [(row["Identity"], [(name, value) for name, value in sets[row["Settings"]].items()]) for row in rows]
        wanted = [(item["identity"], [(s["name"], s["value"]) for s in item["settings"]]) for item in expected[group]]
        assert got == wanted, table
