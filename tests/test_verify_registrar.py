"""The Registrar's SIP sign-in, checked from inside: `exposure.registrar_probes` says, per pool whose Registrar the
plan closes a scheme at, what its 401 to a REGISTER must not / may offer, and verify-internal.ps1 sends that
REGISTER (the SIP probe it shares with verify-external.ps1, _sip_probe.ps1.j2) and judges the answer.

The probe's data is read out of the rendered script (tests/psmini.py evaluates it); its verdict is run by the
same interpreter on crafted answers, with the network call replaced.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from tests.psmini import Builtin, CIDict, DotNetObject, Interpreter, ps_str
from wizard.plan import exposure
from wizard.plan.reader import read_plan
from wizard.scripts.bundle import Bundle, Source, build_bundle

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
PLANS = sorted(FIXTURES.glob("*.json"))


def plan_of(path: Path) -> Any:
    plan, findings = read_plan(json.loads(path.read_text(encoding="utf-8")))
    assert plan is not None, findings
    return plan


@lru_cache(maxsize=16)
def bundle_of(path: Path) -> Bundle:
    plan = plan_of(path)
    return build_bundle(plan, source=Source.for_plan(plan))


def offers(probe: exposure.RegistrarProbe) -> dict[str, str]:
    return {s.scheme: s.offer.value for s in probe.schemes}


# ---------------------------------------------------------------------------
# The model


def test_block_ntlm_at_the_registrar_closes_ntlm_and_kerberos_there() -> None:
    [probe] = exposure.registrar_probes(plan_of(FIXTURES / "s01-passive-extranet-mfa.json"))
    assert probe.pool == "lyncpool01.contoso.com"
    assert offers(probe) == {"NTLM": "must_not", "Kerberos": "must_not", "TLS-DSK": "may"}


def test_a_registrar_the_plan_leaves_alone_is_not_probed() -> None:
    plan = plan_of(FIXTURES / "s03-ntlm-kept-mobility-hardened.json")
    assert exposure.registrar_probes(plan) == ()


def test_a_modern_authentication_scenario_closes_ntlm_at_every_registrar_of_the_plan() -> None:
    plan = plan_of(FIXTURES / "sfbse-modern-auth-adfs2019-mfa.json")
    probes = exposure.registrar_probes(plan)
    assert [p.pool for p in probes] == [p.fqdn for p in plan.pools]
    for probe in probes:
        assert offers(probe)["NTLM"] == "must_not"
        assert all("(inferred)" in s.why for s in probe.schemes)


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_the_probes_follow_the_models_registrar_paths(path: Path) -> None:
    plan = plan_of(path)
    model = exposure.exposure(plan)
    closed = {p.entry.pool for p in model.paths if p.entry.kind is exposure.EntryKind.REGISTRAR and p.entry.in_plan
              and p.credential in (exposure.Credential.NTLM, exposure.Credential.KERBEROS)
              and p.after.accepted is exposure.State.CLOSED}
    assert {p.pool for p in exposure.registrar_probes(plan)} == closed


# ---------------------------------------------------------------------------
# In verify-internal.ps1


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_verify_internal_holds_one_register_per_probe_with_the_models_schemes(path: Path) -> None:
    plan = plan_of(path)
    text = bundle_of(path).texts["verify-internal.ps1"]
    probes = exposure.registrar_probes(plan)
    if not probes:
        assert "Invoke-SipRegister" not in text and "$RegistrarProbes" not in text
        return
    held = Interpreter(text).evaluate("RegistrarProbes")
    assert [(h["Pool"], h["Name"], h["Port"]) for h in held] == [(p.pool, p.pool, 5061) for p in probes]
    for item, probe in zip(held, probes, strict=True):
        assert item["Domain"] in plan.sip_domains
        assert [(s["Scheme"], s["Offer"], s["Why"]) for s in item["Schemes"]] == \
            [(s.scheme, s.offer.value, s.why) for s in probe.schemes]


def function_text(script: str, name: str) -> str:
    match = re.search(r"^function " + re.escape(name) + r" \{\n.*?^\}\n", script, re.S | re.M)
    assert match, name
    return match.group(0)


def test_the_sip_probe_is_one_definition_shared_by_both_verification_scripts() -> None:
    texts = bundle_of(FIXTURES / "s01-passive-extranet-mfa.json").texts
    for name in ("ConvertFrom-SipResponse", "Get-SipVerdict", "Invoke-SipRegister"):
        assert function_text(texts["verify-internal.ps1"], name) == function_text(texts["verify-external.ps1"], name)


class Results(DotNetObject):
    """The script's List[object] of results: only Add is used."""

    def __init__(self) -> None:
        self.rows: list[Any] = []

    def ps_call(self, name: str, args: list[Any]) -> Any:
        assert name.lower() == "add", name
        self.rows.append(args[0])


def probe(status: int, schemes: tuple[str, ...], *, error: str = "", target: str = "") -> tuple[str, str, Any]:
    """Run verify-internal.ps1's Registrar probe of s01 with the REGISTER answered by (status, schemes); return
    the status, reason and observation of the one result it adds."""
    text = bundle_of(FIXTURES / "s01-passive-extranet-mfa.json").texts["verify-internal.ps1"]
    sent: list[tuple[str, str, str]] = []

    def register(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
        sent.append((ps_str(named["Name"]), ps_str(named["Port"]), ps_str(named["Domain"])))
        return [CIDict([("Status", status), ("Phrase", "Unauthorized" if status == 401 else "Other"),
                        ("Schemes", list(schemes)), ("Target", target), ("Error", error)])]

    interp = Interpreter(text, commands={"Invoke-SipRegister": Builtin(register)})
    interp.define_functions()
    del interp.functions["Invoke-SipRegister"]
    results = Results()
    interp.set("Results", results)
    [item] = interp.evaluate("RegistrarProbes")
    interp.call("Test-RegistrarProbe", Item=item)
    assert sent == [("lyncpool01.contoso.com", "5061", "contoso.com")]
    [row] = results.rows
    values = row.to_dict()
    assert values["Check"] == "Registrar sign-in probe" and values["Target"] == "lyncpool01.contoso.com:5061"
    return values["Status"], values["Reason"], values["Observed"]


def test_a_registrar_that_offers_only_certificate_sign_in_passes() -> None:
    status, reason, observed = probe(401, ("TLS-DSK",))
    assert status == "PASS", reason
    assert observed["Pool"] == "lyncpool01.contoso.com" and observed["Schemes"] == ["TLS-DSK"]


def test_a_registrar_that_still_offers_ntlm_fails_and_names_what_its_challenge_gives_away() -> None:
    status, reason, _ = probe(401, ("NTLM", "Kerberos", "TLS-DSK"), target="fe01.contoso.local")
    assert status == "FAIL"
    assert "NTLM is offered, which the plan closes (NTLM and Kerberos off" in reason
    assert "Kerberos is offered" in reason and "fe01.contoso.local" in reason


@pytest.mark.parametrize(("status", "schemes", "error", "why"), [
    (200, (), "", "no authentication challenge"),
    (401, (), "", "offers no scheme"),
    (0, (), "TLS failure: the remote certificate is invalid", "TLS failure"),
])
def test_no_challenge_or_no_answer_is_a_fail(status: int, schemes: tuple[str, ...], error: str, why: str) -> None:
    result, reason, _ = probe(status, schemes, error=error)
    assert result == "FAIL" and why in reason


def test_the_runbook_says_the_registrar_is_checked_from_inside() -> None:
    runbook = bundle_of(FIXTURES / "s01-passive-extranet-mfa.json").texts["runbook.md"]
    rows = [line for line in runbook.splitlines() if line.startswith("| Registrar of pool lyncpool01.contoso.com |")]
    assert any("| closed |" in line for line in rows)
    assert all(line.endswith("not from the Internet: the Edge answers SIP sign-in first; from inside, "
                                      "verify-internal.ps1 sends a SIP REGISTER to lyncpool01.contoso.com |")
                        for line in rows if "| closed |" in line)
