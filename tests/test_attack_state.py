"""Attack the state pipeline the way tests/test_attack_plan.py attacks plans: nothing from a state
file may escape its string in a generated file, reach a page as markup, or make the product fail.

Every free-text and FQDN field of a `lync-auth-state/1` file gets hypothesis-generated hostile
input (tests/attack_helpers.py has the alphabet: quotes of all five kinds, `$( )`, here-string
ends, line breaks, control and invisible characters, long runs). For each input either the state
reader refuses it with an error whose `field` is exactly the attacked path, or it is accepted and

* the plan prefilled from it reads without errors, renders (the verifier runs) and passes the
  independent bundle checks, the prefilled values held as single-quoted strings or flattened
  comments like any plan value;
* the estate findings `check_plan --state` prints keep one finding on one line;
* the intended-versus-actual page shows it as text only (no new element or attribute).

Any JSON value anywhere in the file (wrong types, deep nesting, huge numbers, NaN) gives errors
named by the path it was put at, never an exception.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.attack_helpers import (
    BREAKING,
    CHEAP,
    HIDDEN,
    RENDERING,
    Probe,
    Slot,
    check_bundle,
    describe,
    examples,
    fqdn_attempts,
    get_path,
    hostile_text,
    marker_for,
    render_bundle,
    set_path,
)
from tests.base import make_personas, make_plan
from wizard.plan.drift import estate_report
from wizard.plan.engine import assess
from wizard.plan.estate import Estate
from wizard.plan.finding import Finding
from wizard.plan.prefill import plan_from_estate
from wizard.plan.state_reader import read_state
from wizard.proof.verify import VerificationFailed
from wizard.scripts.bundle import Source, build_bundle
from wizard.scripts.rendering import environment

STATES = Path(__file__).resolve().parent / "fixtures" / "states"
BASE_STATE: dict[str, Any] = json.loads((STATES / "sfb2019-adfs2019-wap.state.json").read_text(encoding="utf-8"))
HARDENING_PLAN: dict[str, Any] = json.loads((STATES / "sfb2019-adfs2019-wap.plan.json").read_text(encoding="utf-8"))
_A_LABEL_FQDN = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]")

TEXT_EXAMPLES = examples(60)
HIDDEN_EXAMPLES = examples(20)
FQDN_EXAMPLES = examples(60)
ANY_VALUE_EXAMPLES = examples(300)
PAGE_EXAMPLES = examples(12)


def base_state() -> dict[str, Any]:
    return copy.deepcopy(BASE_STATE)


@dataclass(frozen=True)
class StateSlot:
    """One attacked field of a state file; `plan_path` is where its value lands in the prefilled plan."""

    path: str
    raw: Callable[[str], str] = lambda hostile: hostile
    plan_path: str | None = None

    def __repr__(self) -> str:
        return f"StateSlot({self.path!r})"


TEXT_SLOTS: tuple[StateSlot, ...] = (
    StateSlot("pools[0].site", plan_path="pools[0].site"),
    StateSlot("sites[0]"),
    StateSlot("mobility_policies[1].identity", raw=lambda h: "Site:" + h),
    StateSlot("web_service_configurations[0].ws_fed_passive_metadata_uri"),
    StateSlot("certificates[0].use"),
    StateSlot("certificates[0].subject"),
    StateSlot("certificates[0].alternative_names[0]"),
    StateSlot("adfs.relying_parties[0].name"),
    StateSlot("adfs.relying_parties[0].identifiers[0]"),
    StateSlot("adfs.relying_parties[0].metadata_url"),
    StateSlot("adfs.relying_parties[0].access_control_policy_name"),
    StateSlot("adfs.relying_parties[0].issuance_transform_rules"),
    StateSlot("adfs.relying_parties[1].issuance_authorization_rules"),
)
FQDN_SLOTS: tuple[Slot, ...] = tuple(
    Slot(path, "fqdn", get_path(BASE_STATE, path), scoped=path in ("pools[0].fqdn", "edge_pools[0].fqdn"))
    for path in ("collected_on", "sip_domains[0]", "pools[0].fqdn", "pools[0].internal_web_fqdn",
                 "pools[0].external_web_fqdn", "edge_pools[0].fqdn", "edge_pools[0].access_fqdn",
                 "edge_pools[0].av_fqdn", "simple_urls.meet[0]", "simple_urls.dialin", "adfs.federation_service_name")
)


@dataclass
class StateVerdict:
    estate: Estate | None
    findings: list[Finding]
    refused: set[str]
    problems: list[str]


def judge_state(doc: dict[str, Any], attacked: dict[str, Any]) -> StateVerdict:
    """Read `doc`; every error must name an attacked path exactly. Refused values are put back."""
    doc = copy.deepcopy(doc)
    refused: set[str] = set()
    problems: list[str] = []
    for _ in range(4):
        estate, findings = read_state(copy.deepcopy(doc))
        errors = [f for f in findings if f.severity == "error"]
        if estate is not None:
            return StateVerdict(estate, findings, refused, problems)
        for e in errors:
            if e.field not in attacked:
                problems.append(f"error on {e.field!r} ({e.code}: {e.message}) names no attacked field; "
                                f"attacked: {sorted(attacked)!r}")
            elif e.field not in refused:
                refused.add(e.field)
                set_path(doc, e.field, get_path(BASE_STATE, e.field))
        if problems:
            break
    return StateVerdict(None, [], refused, problems or ["the file still has errors after every put-back"])


# What a prefilled plan may lack when the state file lacks it (the notes say so): nothing else.
INCOMPLETE = {("sip_domains", "required"), ("pools", "required"), ("product", "required")}


def with_site_policy(doc: dict[str, Any]) -> dict[str, Any]:
    """Return the prefilled plan with a mobility policy for the first pool's site, as an admin would add:
    the site name from the state file then reaches the Management Shell script."""
    site = doc["pools"][0].get("site") if doc.get("pools") else None
    if site:
        doc = {**doc, "mobility_policies": [{"identity": f"site:{site}", "enable_mobility": True}]}
    return doc


def check_accepted(estate: Estate, probes: list[Probe], *, complete: bool = True) -> None:
    """The prefilled plan (with a policy for its site) reads, renders and passes the independent checks;
    estate findings stay on one line.

    With `complete=False` the state may lack the SIP domains, the pools or the product, and the
    prefilled plan then lacks them too (and is not rendered).
    """
    prefilled = plan_from_estate(estate)
    plan, findings = assess(with_site_policy(copy.deepcopy(prefilled.doc)))
    errors = [f for f in findings if f.severity == "error"]
    if not complete and errors and {(f.field, f.code) for f in errors} <= INCOMPLETE:
        assert prefilled.notes
        return
    assert plan is not None and not errors, f"the state reader accepted what the plan reader refuses: {errors}"
    bundle = render_bundle(plan, findings)
    problems = check_bundle(bundle, probes)
    assert not problems, describe(problems) + f"\nprobes: {probes!r}"
    hardening, _ = assess(copy.deepcopy(HARDENING_PLAN))
    assert hardening is not None
    for finding in estate_report(hardening, estate).findings:
        assert not _ONE_LINE.search(finding.message), f"{finding.code}: {finding.message!r}"


def attack(values: dict[StateSlot, str]) -> None:
    doc = base_state()
    for slot, value in values.items():
        set_path(doc, slot.path, value)
    verdict = judge_state(doc, {s.path: v for s, v in values.items()})
    assert not verdict.problems, describe(verdict.problems) + f"\nvalues: {values!r}"
    assert verdict.estate is not None
    prefilled = with_site_policy(plan_from_estate(verdict.estate).doc)
    probes = []
    for index, slot in enumerate(TEXT_SLOTS):
        if slot not in values or slot.path in verdict.refused or slot.plan_path is None:
            continue
        stored = get_path(prefilled, slot.plan_path)
        probes.append(Probe(path=slot.plan_path, value=stored, marker=marker_for(index), ps_forms=(stored,),
                            md_forms=(stored,)))
        if slot.plan_path == "pools[0].site":
            identity = prefilled["mobility_policies"][0]["identity"]
            probes.append(Probe(path="mobility_policies[0].identity", value=identity, marker=marker_for(index),
                                ps_forms=(identity, stored), md_forms=(identity, stored),
                                in_strings=("lync-management-shell.ps1", "rollback-lync.ps1")))
    check_accepted(verdict.estate, probes)


@st.composite
def text_attacks(draw: st.DrawFn, extra: tuple[str, ...] = ()) -> dict[StateSlot, str]:
    """Return {slot: file value} for every free-text slot, each hostile and carrying its marker."""
    out = {}
    for index, slot in enumerate(TEXT_SLOTS):
        left = draw(hostile_text(extra=extra, breaking=False, min_pieces=1))
        if extra:
            left += draw(st.sampled_from(extra))
        elif draw(st.integers(min_value=0, max_value=5)) == 0:
            left += "a" + draw(st.sampled_from(BREAKING))        # the reader must refuse this one
        out[slot] = slot.raw(left + marker_for(index) + draw(hostile_text(extra=extra, breaking=False)))
    return out


def _everywhere(value: str) -> dict[StateSlot, str]:
    return {slot: slot.raw(value.replace("@", marker_for(i))) for i, slot in enumerate(TEXT_SLOTS)}


@settings(RENDERING, max_examples=TEXT_EXAMPLES)
@given(text_attacks())
@example(_everywhere("x\u2019; Remove-Item C:\\ -Recurse; \u2019@"))
@example(_everywhere("@'; $(Stop-Computer) `whoami` #> <# \u201c$(calc)\u201d \u2018\u201a\u201b\""))
@example(_everywhere("<script>alert(1)</script>@<img src=x onerror=alert(1)>"))
@example(_everywhere("@'" + "\u2019" * 60))
def test_every_free_text_field_of_a_state_is_refused_or_held(values: dict[StateSlot, str]) -> None:
    attack(values)


@settings(RENDERING, max_examples=HIDDEN_EXAMPLES)
@given(text_attacks(extra=HIDDEN))
def test_zero_width_bidi_and_surrogates_in_a_state_are_refused_or_held(values: dict[StateSlot, str]) -> None:
    attack(values)


def test_a_site_from_the_state_reaches_the_script_where_naive_quoting_would_be_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    doc = base_state()
    set_path(doc, "pools[0].site", "x\u2019; Remove-Item C:\\ -Recurse; \u2019Qzak7")
    estate, _ = read_state(doc)
    assert estate is not None
    plan, findings = assess(with_site_policy(plan_from_estate(estate).doc))
    assert plan is not None
    script = render_bundle(plan, findings).texts["lync-management-shell.ps1"]
    assert "Get-CsSite -Identity 'x\u2019\u2019; Remove-Item C:\\ -Recurse; \u2019\u2019Qzak7'" in script
    naive = lambda value: "'" + str(value).replace("'", "''") + "'"  # noqa: E731
    monkeypatch.setitem(environment().filters, "ps_str", naive)
    with pytest.raises(VerificationFailed):
        build_bundle(plan, source=Source.for_plan(plan), findings=findings)


def test_rules_keep_their_line_breaks_but_nothing_else_invisible() -> None:
    doc = base_state()
    set_path(doc, "adfs.relying_parties[0].issuance_transform_rules", "a\r\n\tb")
    assert judge_state(doc, {}).estate is not None
    for bad in ("\u2028", "\x1b[2J", "\u202e", "\x00", "\ud800"):
        set_path(doc, "adfs.relying_parties[0].issuance_transform_rules", f"a{bad}b")
        verdict = judge_state(doc, {"adfs.relying_parties[0].issuance_transform_rules": 1})
        assert verdict.refused == {"adfs.relying_parties[0].issuance_transform_rules"}, bad


@pytest.mark.parametrize("slot", FQDN_SLOTS, ids=lambda s: s.path)
def test_every_fqdn_field_of_a_state_refuses_or_normalises_hostile_names(slot: Slot) -> None:
    @settings(CHEAP, max_examples=FQDN_EXAMPLES)
    @given(fqdn_attempts(slot))
    @example(slot.base.upper() + ".")
    @example(" b\u00fccher." + slot.base.partition(".")[2] + " ")
    @example(slot.base + "'; Remove-Item C:\\ -Recurse; '")
    @example("$(calc)." + slot.base)
    @example(slot.base + "\r\n#")
    @example(("a." * 2500) + "com")
    def run(hostile: str) -> None:
        doc = base_state()
        set_path(doc, slot.path, hostile)
        verdict = judge_state(doc, {slot.path: hostile})
        assert not verdict.problems, describe(verdict.problems)
        assert verdict.estate is not None
        stored = get_path(_estate_doc(verdict.estate), slot.path)
        label_only = slot.path == "collected_on" and "." not in stored
        assert label_only or _A_LABEL_FQDN.match(stored), f"{slot.path}: {hostile!r} was stored as {stored!r}"
        check_accepted(verdict.estate, [])

    run()


def _estate_doc(estate: Estate) -> dict[str, Any]:
    """Return the accepted values at their state paths (only the attacked FQDN paths are needed)."""
    pool, edge = estate.pools[0], estate.edge_pools[0]
    return {
        "collected_on": estate.collected_on, "sip_domains": list(estate.sip_domains),
        "pools": [{"fqdn": pool.fqdn, "internal_web_fqdn": pool.internal_web_fqdn,
                   "external_web_fqdn": pool.external_web_fqdn}],
        "edge_pools": [{"fqdn": edge.fqdn, "access_fqdn": edge.access_fqdn, "av_fqdn": edge.av_fqdn}],
        "simple_urls": {"meet": list(estate.simple_urls.meet) if estate.simple_urls else [],
                        "dialin": estate.simple_urls.dialin if estate.simple_urls else None},
        "adfs": {"federation_service_name": estate.adfs.federation_service_name if estate.adfs else None},
    }


# ---------------------------------------------------------------------------
# Any JSON value at any place: errors by path, never an exception


def _paths(value: Any, path: str = "") -> Iterator[str]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, f"{path}[{i}]")


PATHS = sorted(set(_paths(BASE_STATE)))
_JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30), st.integers(),
    st.floats(), hostile_text(max_pieces=3),
    st.sampled_from(["\ud800", "a\x00b", "", " ", "Global", "service:WebServer:x", "true", "1e999", "NaN"]),
)
JSON_VALUES = st.recursive(_JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(st.text(max_size=5), inner,
                                                                               max_size=3)), max_leaves=10)


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@settings(CHEAP, max_examples=ANY_VALUE_EXAMPLES)
@given(st.sampled_from(PATHS), st.one_of(JSON_VALUES, st.integers(min_value=17, max_value=400).map(_deep)))
@example("pools", {"fqdn": "x.contoso.com"})
@example("adfs.relying_parties", [None])
@example("web_service_configurations[0].default_validity_period_hours", 10**4000)
@example("collected_at", float("inf"))
@example("product", None)
@example("mobility_policies[1]", _deep(300))
def test_any_value_anywhere_is_refused_by_its_path_or_read(path: str, value: Any) -> None:
    doc = base_state()
    set_path(doc, path, value)
    estate, findings = read_state(doc)
    for finding in findings:
        if finding.severity != "error":
            continue
        assert finding.field == path or finding.field.startswith((path + ".", path + "[")) \
            or (path.startswith("sites") and finding.field == "mobility_policies[1].identity"), \
            f"{path} = {value!r:.80}: error on {finding.field} ({finding.code}: {finding.message})"
    if estate is not None:
        check_accepted(estate, [], complete=False)


# ---------------------------------------------------------------------------
# The intended-versus-actual page: hostile state text is text, never markup


class _Markup(HTMLParser):
    """The elements and attribute names of a page (what hostile text must never add to)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    return parser


class EstatePageAttackTests(TestCase):
    """One plan, many uploads: each example uploads a hostile state and reads the page back."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.personas = make_personas()
        cls.plan = make_plan(doc=copy.deepcopy(HARDENING_PLAN))
        cls.url = reverse("plan-estate", args=[cls.plan.code])

    def setUp(self) -> None:
        self.client.force_login(self.personas.alice)

    def upload(self, doc: dict[str, Any] | bytes) -> Any:
        data = doc if isinstance(doc, bytes) else json.dumps(doc).encode("utf-8", "surrogatepass")
        return self.client.post(self.url, {"file": SimpleUploadedFile("s.json", data, "application/json")})

    def test_hostile_state_text_never_becomes_markup(self) -> None:
        baseline = markup(self.client.get(self.url).content.decode("utf-8"))
        self.assertEqual(self.upload(base_state()).status_code, 302)
        clean = markup(self.client.get(self.url).content.decode("utf-8"))
        allowed_tags = clean.tags | baseline.tags | {"li", "code", "div", "span", "ul", "h3"}

        @settings(CHEAP, max_examples=PAGE_EXAMPLES)
        @given(text_attacks())
        @example(_everywhere("<script>alert(1)</script>@<img src=x onerror=alert(1)>\"'><svg onload=x>"))
        def run(values: dict[StateSlot, str]) -> None:
            doc = base_state()
            for slot, value in values.items():
                set_path(doc, slot.path, value)
            response = self.upload(doc)
            self.assertIn(response.status_code, (302, 400))
            page = self.client.get(self.url)
            self.assertEqual(page.status_code, 200)
            seen = markup(page.content.decode("utf-8"))
            self.assertLessEqual(seen.tags, allowed_tags)
            self.assertFalse([a for a in seen.attributes if a.startswith("on")])
            self.assertLessEqual(seen.attributes, clean.attributes | baseline.attributes)

        run()

    def test_whatever_is_uploaded_the_answer_is_never_a_server_error(self) -> None:
        for data in (b"", b"null", b"{}", b'{"format": "lync-auth-state/1"}', b"[" * 200_000,
                     b'{"format": "lync-auth-state/1", "collected_at": "2026-12-01T00:00:00Z", "pools": [1e999]}',
                     json.dumps({**base_state(), "x_": "\ud800"}).encode("utf-8", "surrogatepass"),
                     b'{"a": "\\ud800"}', b'{"a": "\\u0000"}', b"\xef\xbb\xbf" + b" " * 10):
            response = self.upload(data)
            self.assertEqual(response.status_code, 400, data[:60])
