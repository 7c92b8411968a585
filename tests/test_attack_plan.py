"""Attack the plan pipeline: no value from a plan may escape its string in any generated file.

Every free-text and FQDN field of the plan (and `x_` extension data) gets hypothesis-generated
hostile input (tests/attack_helpers.py has the alphabet). For each input, either the reader
(`wizard.engine.assess`) refuses it with an error whose `field` is exactly the attacked path,
or `wizard.bundle.build_bundle` renders it (running the verifier) and the independent checks
in attack_helpers find no problem: the scripts' token skeleton equals the harmless twin's,
every quoted occurrence of the value is one single-quoted token, comments stay on their
lines, and the INF, XML, Markdown, JSON and SHA256SUMS files keep their formats.

docs/security-testing.md describes the attack, the example counts and the time it takes.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.attack_helpers import (
    BREAKING,
    CHEAP,
    FQDN_SLOTS,
    HIDDEN,
    PLAN_FREE_SCRIPTS,
    RENDERING,
    TEXT_SLOTS,
    Probe,
    Slot,
    base_doc,
    check_bundle,
    check_texts,
    describe,
    examples,
    extension_values,
    fqdn_attempts,
    get_path,
    hostile_text,
    judge_doc,
    marker_for,
    plan_doc_of,
    probe_for,
    render_bundle,
    set_path,
    source_for,
    twin_texts,
)
from wizard.plan.engine import assess
from wizard.plan.finding import Finding
from wizard.plan.limits import printable
from wizard.plan.model import ACCEPTED_RISK_REASON_MAX, NAME_MAX, PlanData
from wizard.proof import psscan
from wizard.proof.verify import VerificationFailed
from wizard.scripts import psquote
from wizard.scripts.bundle import build_bundle
from wizard.scripts.rendering import environment, render_all

# What clean_text refuses (validators._CONTROL_RE): a value still holding one after trimming must be refused.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_A_LABEL_FQDN = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
_MAX_LENGTH = {"name": NAME_MAX, "certificates.ca": 200, **{f"accepted_risks[{i}].reason": ACCEPTED_RISK_REASON_MAX
                                                             for i in range(3)}}

FREE_TEXT_EXAMPLES = examples(130)
HIDDEN_EXAMPLES = examples(25)
REFUSAL_EXAMPLES = examples(200)
FQDN_EXAMPLES = examples(120)
EXTENSION_EXAMPLES = examples(40)


def render_and_check(plan: PlanData, findings: list[Finding], probes: list[Probe]) -> None:
    """Build the bundle of an accepted plan and run the independent checks; fail with the details."""
    try:
        bundle = render_bundle(plan, findings)
    except VerificationFailed as exc:
        pytest.fail("the verifier refused the bundle of a plan the reader ACCEPTED:\n"
                    + describe(list(exc.report.problems)) + f"\nprobes: {probes!r}")
    problems = check_bundle(bundle, probes)
    assert not problems, describe(problems) + f"\nprobes: {probes!r}"


def attack(values: dict[Slot, str], markers: dict[Slot, str | None]) -> None:
    """Put each hostile value into its slot; the reader refuses it by its path, or the bundle holds it."""
    [kind] = {slot.doc for slot in values} or {"base"}     # the slots of one attack share their document
    doc = base_doc(kind)
    base = base_doc(kind)
    for slot, value in values.items():
        set_path(doc, slot.path, value)
    verdict = judge_doc(doc, {s.path: v for s, v in values.items()}, {s.path: get_path(base, s.path) for s in values})
    assert not verdict.problems, describe(verdict.problems) + f"\nvalues: {values!r}"
    for slot, value in values.items():
        if slot.kind == "text" and slot.path not in verdict.refused:
            assert not _CONTROL.search(value.strip()), f"{slot.path} accepted {value!r}"
    if verdict.plan is None:
        return
    accepted = plan_doc_of(verdict.plan)
    probes = []
    for slot, value in values.items():
        if slot.path in verdict.refused:
            continue
        probe = probe_for(slot, accepted, markers.get(slot))
        if slot.kind == "fqdn":
            assert _A_LABEL_FQDN.match(probe.value), f"{slot.path}: {value!r} was stored as {probe.value!r}"
        probes.append(probe)
    render_and_check(verdict.plan, verdict.findings, probes)


def text_markers(values: dict[Slot, str]) -> dict[Slot, str | None]:
    """Return the marker of each attacked free-text slot."""
    return {slot: marker_for(TEXT_SLOTS.index(slot)) for slot in values if slot in TEXT_SLOTS}


# ---------------------------------------------------------------------------
# Free text: all eight fields at once (one render costs 0.1-0.2 s, so each example
# attacks every free-text field, each value drawn on its own)


@st.composite
def free_text_attacks(draw: st.DrawFn, extra: tuple[str, ...] = ()) -> dict[Slot, str]:
    """Return {slot: document value} for the free-text slots, each hostile or (one in eight) left alone.

    With `extra`, each value also holds at least one of those characters.
    """
    out = {}
    for index, slot in enumerate(TEXT_SLOTS):
        choice = draw(st.integers(min_value=0, max_value=7))
        if not extra and choice == 0:
            continue                                    # left as it is
        text = hostile_text(extra=extra, breaking=False)
        left = draw(hostile_text(extra=extra, breaking=False, min_pieces=1))
        if extra:
            left += draw(st.sampled_from(extra))
        elif choice == 1:
            left += "a" + draw(st.sampled_from(BREAKING))  # the reader must refuse this value
        out[slot] = slot.raw(left + marker_for(index) + draw(text))
    return out


def _everywhere(value: str) -> dict[Slot, str]:
    return {slot: slot.raw(value.replace("@", marker_for(i))) for i, slot in enumerate(TEXT_SLOTS)}


@settings(RENDERING, max_examples=FREE_TEXT_EXAMPLES)
@given(free_text_attacks())
@example(_everywhere("x\u2019; Remove-Item C:\\ -Recurse; \u2019@"))
@example(_everywhere("@'; $(Stop-Computer) `whoami` #> <# \u201c$(calc)\u201d \u2018\u201a\u201b"))
@example(_everywhere("@\u3000\u00a0b\u00fccher \u4f8b\u3048 \u200b\u200d\ufeff e\u0301 %PATH% | <br> **x** [a](b)"))
@example(_everywhere("'@" + "\u2019" * 60))
def test_every_free_text_field_refuses_or_holds_hostile_text(values: dict[Slot, str]) -> None:
    attack(values, text_markers(values))


@settings(RENDERING, max_examples=HIDDEN_EXAMPLES)
@given(free_text_attacks(extra=HIDDEN))
def test_zero_width_bidi_and_surrogate_characters_are_refused_or_held(values: dict[Slot, str]) -> None:
    # Trojan-Source bidi controls and lone surrogates (JSON allows "\ud800"): the verifier refuses
    # both in a script, so in practice the reader has to refuse them, naming the field.
    attack(values, text_markers(values))


# U+FFFE and U+FFFF are no XML characters: in the plan name they made exposure.svg unreadable.
@pytest.mark.parametrize("char", ["\u202e", "\u200f", "\u2066", "\u200b", "\ud800", "\ufffe", "\uffff"],
                         ids=["RLO", "RLM", "LRI", "ZWSP", "surrogate", "U+FFFE", "U+FFFF"])
@pytest.mark.parametrize("slot", TEXT_SLOTS, ids=lambda s: s.path)
def test_one_hidden_character_is_refused_or_held(slot: Slot, char: str) -> None:
    attack({slot: slot.raw(f"Sales{char}Qzzk7")}, {slot: "Qzzk7"})


# ---------------------------------------------------------------------------
# Free text the reader must refuse: control characters inside the value, or too long


@st.composite
def refused_text(draw: st.DrawFn, slot: Slot) -> str:
    """Return a value for `slot` with a control character inside it, or one over the field's length limit."""
    if draw(st.booleans()):
        bad = draw(st.sampled_from(["\r", "\n", "\r\n", "\u0085", "\u2028", "\u2029", "\x00", "\x07", "\x1b",
                                    "\t", "\v", "\f", "\x7f", "\x9b", "\n'@\n", "\r\n#>\r\n"]))
        return slot.raw("a" + draw(hostile_text(max_pieces=3)) + bad + draw(hostile_text(max_pieces=3)) + "z")
    limit = _MAX_LENGTH.get(slot.path, 128)
    unit = draw(st.sampled_from(["x", "'", "\u2019", "$(", "\u00fc", "a\u0301"]))
    return slot.raw(("b" + unit * draw(st.integers(min_value=limit, max_value=5000)))[:5001])


@pytest.mark.parametrize("slot", TEXT_SLOTS, ids=lambda s: s.path)
def test_control_characters_and_overlong_text_are_refused_by_path(slot: Slot) -> None:
    @settings(CHEAP, max_examples=REFUSAL_EXAMPLES)
    @given(refused_text(slot))
    def run(value: str) -> None:
        doc = base_doc()
        set_path(doc, slot.path, value)
        plan, findings = assess(doc)
        errors = [f for f in findings if f.severity == "error"]
        assert plan is None and errors, f"{slot.path}: {value[:80]!r} was accepted"
        assert {f.field for f in errors} == {slot.path}, [(f.field, f.message) for f in errors]

    run()


# ---------------------------------------------------------------------------
# FQDN fields, one at a time (most attempts are refused; the accepted ones normalise to a
# few names per field, and identical plans are rendered once)


@pytest.mark.parametrize("slot", FQDN_SLOTS, ids=lambda s: s.path + (" (host)" if s.path == "certificates.ca" else ""))
def test_every_fqdn_field_refuses_or_normalises_hostile_names(slot: Slot) -> None:
    @settings(CHEAP, max_examples=FQDN_EXAMPLES)
    @given(fqdn_attempts(slot))
    @example(slot.base.upper() + ".")
    @example(" b\u00fccher." + slot.base.partition(".")[2] + " ")
    @example(slot.base + "'; Remove-Item C:\\ -Recurse; '")
    @example(slot.base + "\u2019)")
    @example("$(calc)." + slot.base)
    @example(slot.base + "\r\n#")
    @example("a" * 64 + "." + slot.base)
    @example("a" * 63 + "." + slot.base.partition(".")[2])
    @example("\u043f\u0440\u0438\u043c\u0435\u0440." + slot.base.partition(".")[2])
    @example(("a." * 2500) + "com")
    def run(hostile: str) -> None:
        attack({slot: slot.raw(hostile)}, {})

    run()


@pytest.mark.parametrize("prefix", ["service:WebServer:", "Registrar:", "service:Registrar:", "WebServer:"])
def test_a_pasted_scope_prefix_is_stripped_and_never_doubled(prefix: str) -> None:
    doc = base_doc()
    doc["pools"][0]["fqdn"] = prefix + "Pool01.Contoso.com"
    doc["edge_pools"][0]["fqdn"] = "EdgeServer:" + "edge.contoso.com"
    plan, findings = assess(doc)
    assert plan is not None, findings
    assert plan.pools[0].fqdn == "pool01.contoso.com" and plan.edge_pools[0].fqdn == "edge.contoso.com"
    assert {"pools[0].fqdn", "edge_pools[0].fqdn"} <= {f.field for f in findings if f.code == "scope_prefix_stripped"}
    bundle = render_bundle(plan, findings)
    assert "'service:WebServer:pool01.contoso.com'" in bundle.texts["lync-management-shell.ps1"]
    assert "'service:EdgeServer:edge.contoso.com'" in bundle.texts["lync-management-shell.ps1"]
    assert not check_bundle(bundle, [])


# ---------------------------------------------------------------------------
# `x_` extension keys and values: kept in plan.json, never in any other file

EXTENSION_PLACES = ("", "pools[0]", "pools[0].auth", "pools[0].relying_parties", "edge_pools[0]", "adfs",
                    "mobility_policies[2]", "simple_urls", "certificates")


@st.composite
def extension_attacks(draw: st.DrawFn) -> list[tuple[str, str, Any]]:
    """Return (place, key, value) triples: hostile `x_` keys and JSON values carrying the marker."""
    marker = "Qzxk7"
    out = []
    for place in draw(st.lists(st.sampled_from(EXTENSION_PLACES), min_size=1, max_size=4, unique=True)):
        key = "x_" + draw(hostile_text(max_pieces=3)) + marker
        out.append((place, key, draw(extension_values(marker))))
    return out


@settings(RENDERING, max_examples=EXTENSION_EXAMPLES)
@given(extension_attacks())
# Drawn in make test's PostgreSQL pass: a key whose NUL is refused and which also holds a character
# the path shows escaped (U+2029) must be named in the same printable form as the finding's path.
@example([("", "x_\u2029\x00Qzxk7", {"Qzxk7": {}})])
def test_extension_data_never_reaches_a_script(extensions: list[tuple[str, str, Any]]) -> None:
    doc = base_doc()
    for place, key, value in extensions:
        (get_path(doc, place) if place else doc)[key] = value
    plan, findings = assess(doc)
    if plan is None:
        # `x_` data a plan cannot store (a NUL, which PostgreSQL refuses; a lone surrogate, which UTF-8
        # cannot hold) is refused, naming the key: then nothing renders at all.
        errors = [f for f in findings if f.severity == "error"]
        assert errors and all(_under_extension(f.field, extensions) for f in errors), errors
        assert all(f.code in ("invalid_text", "invalid_key", "not_finite", "too_deep") for f in errors), errors
        return
    top = {key: value for place, key, value in extensions if not place}
    assert {k: v for k, v in plan.extensions if k in top} == top
    render_and_check(plan, findings, [Probe(path="x_", value="Qzxk7", marker="Qzxk7", not_in_outputs=True)])


def _under_extension(field: str, extensions: list[tuple[str, str, Any]]) -> bool:
    """Return True when plan path `field` lies inside one of the `x_` keys the test added."""
    for place, key, _ in extensions:
        for shown in (key, printable(key)):   # a key that cannot be written is shown escaped
            prefix = f"{place}.{shown}" if place else shown
            if field == prefix or field.startswith((prefix + ".", prefix + "[")):
                return True
    return False


def test_a_nul_in_an_extension_key_is_refused_naming_it() -> None:
    doc = base_doc()
    doc["x_\x00note"] = "Qzxk7"
    plan, findings = assess(doc)
    assert plan is None
    # The path is printable: the NUL written as an escape, as a lone surrogate is (x_\ud800); the key is
    # what is wrong, so the code is the one a lone surrogate in a key gets.
    assert [(f.field, f.code) for f in findings if f.severity == "error"] == [("x_\\x00note", "invalid_key")]


def test_a_lone_surrogate_in_extension_data_is_refused_or_rendered() -> None:
    # JSON may carry "\ud800": the plan.json of the bundle must still be writable as UTF-8.
    doc = base_doc()
    doc["x_note"] = {"list": ["\ud800", "Qzxk7"]}
    plan, findings = assess(doc)
    if plan is None:
        fields = {f.field for f in findings if f.severity == "error"}
        assert fields and all(f == "x_note" or f.startswith(("x_note.", "x_note[")) for f in fields), fields
        return
    render_and_check(plan, findings, [Probe(path="x_", value="Qzxk7", marker="Qzxk7", not_in_outputs=True)])


# ---------------------------------------------------------------------------
# Ordinary names with apostrophes work, and come out right


def test_names_with_apostrophes_render_and_are_correct() -> None:
    doc = base_doc()
    doc["name"] = "O'Brien's plan"
    doc["pools"][0]["site"] = "St. John's"
    doc["mobility_policies"][1]["identity"] = "site:St. John's"
    doc["mobility_policies"][2]["identity"] = "Tag:Sales \u2018EMEA\u2019"
    doc["pools"][0]["relying_parties"] = {"internal": "Lync-Int (O'Brien)", "external": "Lync-Ext (O'Brien)"}
    doc["certificates"]["ca"] = "ca01.contoso.com\\O'Brien Issuing CA"
    plan, findings = assess(doc)
    assert plan is not None, findings
    bundle = render_bundle(plan, findings)
    probes = [probe_for(slot, plan_doc_of(plan), None) for slot in TEXT_SLOTS if slot.path != "pools[1].site"]
    assert not check_bundle(bundle, probes)

    adfs = bundle.texts["adfs-server.ps1"]
    lync = bundle.texts["lync-management-shell.ps1"]
    assert "Add-AdfsRelyingPartyTrust -Name 'Lync-Ext (O''Brien)' " in adfs
    assert "Add-AdfsRelyingPartyTrust -Name 'Lync-Int (O''Brien)' " in adfs
    assert "Get-CsSite -Identity 'St. John''s'" in lync
    assert "-Identity 'site:St. John''s'" in lync
    assert "-Identity 'Tag:Sales \u2018\u2018EMEA\u2019\u2019'" in lync
    assert "-CA 'ca01.contoso.com\\O''Brien Issuing CA'" in bundle.texts["certificates-edge.ps1"]
    for name in bundle.scripts:
        if name in PLAN_FREE_SCRIPTS:   # the state collector names no plan: it is the same everywhere
            continue
        assert "Plan:           O'Brien's plan\n" in bundle.texts[name], name
    assert bundle.texts["runbook.md"].startswith("# Runbook: O'Brien's plan\n")
    # PowerShell reads each literal back as the admin typed it.
    values = {t.value for t in psscan.scan_coarse(lync) if t.kind == psscan.SINGLE_QUOTED}
    assert {"St. John's", "site:St. John's", "Tag:Sales \u2018EMEA\u2019"} <= values
    # The site policy's site matches the pool's site, apostrophe and all.
    assert "mobility_site_unknown" not in {f.code for f in findings}


# ---------------------------------------------------------------------------
# Mutants: the checks catch a broken quoting or comment filter

ESCAPE = "x\u2019; Remove-Item C:\\ -Recurse; \u2019"


def _naive_ps_str(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _accepted(paths: dict[str, str] | None = None) -> tuple[PlanData, list[Finding]]:
    doc = base_doc()
    for path, value in (paths or {}).items():
        set_path(doc, path, value)
    plan, findings = assess(doc)
    assert plan is not None, findings
    return plan, findings


def scripts_of(texts: dict[str, str]) -> dict[str, str]:
    return {name: text for name, text in texts.items() if name.endswith(".ps1")}


def _bare_commands(texts: dict[str, str]) -> set[str]:
    return {t.text for name, text in texts.items() if name.endswith(".ps1")
            for t in psscan.scan(text) if t.kind == psscan.BAREWORD}


def test_naive_quoting_is_caught_by_the_verifier_and_by_the_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    plan, findings = _accepted({"pools[0].relying_parties.external": ESCAPE,
                                "mobility_policies[2].identity": "Tag:" + ESCAPE})
    honest = render_all(plan, header=source_for(plan).header())
    twin = twin_texts(plan, source_for(plan), memo=False)
    probes = [probe_for(slot, plan_doc_of(plan), None) for slot in TEXT_SLOTS
              if slot.path in ("pools[0].relying_parties.external", "mobility_policies[2].identity")]
    assert not check_texts(honest, twin, probes)
    assert "Remove-Item" not in _bare_commands(honest)

    monkeypatch.setitem(environment().filters, "ps_str", _naive_ps_str)
    monkeypatch.setattr(psquote, "ps_str", _naive_ps_str)   # ps_array quotes through it
    mutant = render_all(plan, header=source_for(plan).header())
    assert "Remove-Item" in _bare_commands(mutant), "the mutant did not let the command out"
    problems = check_texts(mutant, twin, probes)
    assert any("skeleton differs" in p for p in problems), describe(problems)
    assert any("no single-quoted string holds the value" in p for p in problems), describe(problems)
    with pytest.raises(VerificationFailed):
        build_bundle(plan, source=source_for(plan), findings=findings)


def test_a_comment_filter_that_keeps_markers_or_line_breaks_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # The reader lets "#>" through (it is ordinary text): only ps_comment keeps it inside the header comment.
    plan, findings = _accepted({"name": "x #> Remove-Item C:\\ -Recurse <# y"})
    twin = twin_texts(plan, source_for(plan), memo=False)
    probe = [probe_for(TEXT_SLOTS[0], plan_doc_of(plan), None)]
    assert not check_texts(render_all(plan, header=source_for(plan).header()), twin, probe)

    monkeypatch.setitem(environment().filters, "ps_comment", lambda value: str(value))
    mutant = render_all(plan, header=source_for(plan).header())
    assert "Remove-Item" in _bare_commands(mutant), "the mutant did not let the command out"
    problems = check_texts(mutant, twin, probe)
    assert any("skeleton differs" in p for p in problems), describe(problems)
    with pytest.raises(VerificationFailed):
        build_bundle(plan, source=source_for(plan), findings=findings)

    # A filter that drops the block-comment markers but keeps line breaks. The reader refuses
    # line breaks, so the plan is built past it: a tag that reaches a `#` line comment.
    monkeypatch.setitem(environment().filters, "ps_comment",
                        lambda value: str(value).replace("#>", " ").replace("<#", " "))
    broken = _with_tag(plan, "x\r\nRemove-Item C:\\ -Recurse\r\n#")
    mutant = render_all(broken, header=source_for(broken).header())
    assert "Remove-Item" in _bare_commands(mutant), "the mutant did not let the command out"
    problems = check_texts(scripts_of(mutant), scripts_of(twin_texts(broken, source_for(broken), memo=False)),
                           [Probe(path="mobility_policies[2].identity", value="Remove-Item", marker="Remove-Item")])
    assert any("skeleton differs" in p for p in problems), describe(problems)
    assert any("'Remove-Item' appears in code" in p for p in problems), describe(problems)
    with pytest.raises(VerificationFailed):
        build_bundle(broken, source=source_for(broken), findings=findings)


def _with_tag(plan: PlanData, tag: str) -> PlanData:
    """Return `plan` with its tag policy renamed, built directly (past the reader)."""
    policies = tuple(replace(p, identity="Tag:" + tag) if p.scope == "tag" else p for p in plan.mobility_policies)
    return replace(plan, mobility_policies=policies)


def test_the_real_filters_hold_a_line_break_the_reader_would_refuse() -> None:
    # Defence in depth: CR/LF built past the reader into the name (block comments) and a tag
    # (strings and `#` line comments) still leaves every script sound.
    plan, _ = _accepted()
    broken = replace(_with_tag(plan, "t\r\nRemove-Item C:\\ -Recurse\r\n#> <# \u2028 y"),
                     name="x\r\nRemove-Item C:\\ -Recurse\r\n#> <# \u2028 y")
    texts = scripts_of(render_all(broken, header=source_for(broken).header()))
    twin = scripts_of(twin_texts(broken, source_for(broken), memo=False))
    assert not check_texts(texts, twin, [Probe(path="name", value="Remove-Item C:\\ -Recurse", marker=None)])
    assert "Remove-Item" not in _bare_commands(texts)


# ---------------------------------------------------------------------------
# The memo is sound: the same plan gives the same bytes


def test_the_same_plan_renders_to_the_same_bundle() -> None:
    plan, findings = _accepted({"name": "O'Brien\u2019s #> plan"})
    first = build_bundle(plan, source=source_for(plan), findings=findings)
    second = build_bundle(plan, source=source_for(plan), findings=list(findings))
    assert first.sha256 == second.sha256 and first.files == second.files
