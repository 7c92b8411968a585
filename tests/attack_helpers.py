"""Shared pieces of the attack tests (tests/test_attack_plan.py, tests/test_attack_forms.py).

What is here:

* the hostile alphabet and hypothesis strategies built on it (free text, FQDN attempts,
  `x_` extension values);
* a plan document that uses every free-text and FQDN field (`base_doc`), and the field
  slots the tests attack, each with how its value shows in the bundle;
* `judge_doc`: the reader's verdict on an attacked document, checked against the slots
  that were attacked;
* `render_bundle`: `wizard.bundle.build_bundle` (which runs the verifier), memoised by
  the exact plan JSON and source, because identical plans give identical bundles;
* an independent checker (`check_texts`, `check_bundle`) that never calls the verifier:
  it tokenises every script with `wizard.psscan` and compares it with the harmless twin,
  finds every quoted occurrence of each hostile value, looks at every comment, and checks
  the INF, XML, Markdown, JSON and SHA256SUMS files for their own formats.

The checker returns a list of problems (empty when the bundle is sound), so the
naive-quoting mutant tests can show that it finds an escape.
"""
from __future__ import annotations

import bisect
import copy
import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from wizard.plan.engine import assess
from wizard.plan.finding import Finding
from wizard.plan.model import PlanData
from wizard.plan.reader import read_plan
from wizard.plan.writer import dumps_plan, plan_to_dict
from wizard.proof import psscan
from wizard.scripts import twin
from wizard.scripts.artifacts.estate import COLLECTOR_FILE
from wizard.scripts.bundle import Bundle, Source, build_bundle
from wizard.scripts.psquote import ps_comment, ps_str
from wizard.scripts.rendering import harmless_twin, md_text, render_all

# ---------------------------------------------------------------------------
# Hypothesis settings

# ATTACK_SCALE multiplies every example count (1.0 by default), e.g. ATTACK_SCALE=5 for a long run.
SCALE = float(os.environ.get("ATTACK_SCALE", "1"))


def examples(n: int) -> int:
    """Return `n` scaled by ATTACK_SCALE (at least 1)."""
    return max(1, round(n * SCALE))


_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.function_scoped_fixture, HealthCheck.large_base_example]
# Randomised with the run's seed (tests/conftest.py prints it, so a failure reproduces), no
# example database. Properties that render a bundle per example skip shrinking: each step would
# render again, and the assertion messages already name the field, the value and the problem.
CHEAP = settings(deadline=None, database=None, suppress_health_check=_SUPPRESS,
                 print_blob=False)
RENDERING = settings(CHEAP, phases=(Phase.explicit, Phase.generate))

# ---------------------------------------------------------------------------
# The hostile alphabet

# PowerShell's quote characters, from their one definition (checked by name in tests/test_psscan.py).
SINGLE_QUOTES = psscan.SINGLE_QUOTES
DOUBLE_QUOTES = psscan.DOUBLE_QUOTES
LINE_BREAKS = ("\r", "\n", "\r\n", "\u0085", "\u2028", "\u2029", "\v", "\f")
CONTROLS = ("\x00", "\x01", "\x07", "\x08", "\t", "\x1b", "\x1f", "\x7f", "\x80", "\x9b", "\x9f")
# Invisible characters the reader accepts today (soft hyphen, Mongolian vowel separator,
# combining grapheme joiner): they must simply stay inside their string.
INVISIBLE = ("\u00ad", "\u180e", "\u034f")
# Zero-width characters, bidi controls (Trojan Source) and lone surrogates (JSON "\ud800"):
# the verifier refuses bidi controls and surrogates in a script, and the reader refuses all
# of these in a name. They have their own property (HIDDEN), so that a failure there names
# exactly this class, and the main properties' values mostly reach the bundle.
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\u2063", "\ufeff")
BIDI = ("\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
        "\u2066", "\u2067", "\u2068", "\u2069")
SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")
HIDDEN = (*ZERO_WIDTH, *BIDI, *SURROGATES)
POWERSHELL = (
    "$(", ")", "$(Remove-Item C:\\ -Recurse)", "${x}", "${", "}", "`", "``", "`n", "`'", "`\"",
    "@'", '@"', "'@", '"@', "\u2019@", "\u201d@", "@\u2018", "#", "#>", "<#", "<#x#>", ";", "|", "&", "&&", "||", "{", "}", "{}", "(", "=", "$", "$x",
    "$env:COMPUTERNAME", "-WhatIf:$false", "\u2013WhatIf", "\u2014Force", "::", "[", "]", ",", "@(", "@{",
    "x\u2019; Remove-Item C:\\ -Recurse; \u2019", "'; Stop-Computer; '", "\u201c$(calc)\u201d",
)
OTHER_FORMATS = (
    "%", "%PATH%", "\\", "\\\\", "<", ">", "<br>", "<script>", "]]>", "<!--", "-->", "&amp;", "&", "*", "_",
    "**", "[x](y)", "!", "\"\"", "', '", "CN=x,O=y", "/", ":", "site:", "Tag:", "Global", "|---|", "\\|",
)
LETTERS = (
    "O'Brien", "b\u00fccher", "\u03a9\u03bc\u03ad\u03b3\u03b1", "\u043f\u0440\u0438\u043c\u0435\u0440",
    "\u4f8b\u3048", "\u0645\u062b\u0627\u0644", "\u05e2\u05d1\u05e8\u05d9\u05ea", "\u00df", "e\u0301",
    "\u00c5", "\u00a0", "\u3000", " ", "a", "Z", "0", "\U0001f600",
)
# Line breaks, here-string terminators at a line start, and control characters: the reader
# refuses a value holding one of these (other than at its ends, which it trims).
BREAKING = (*LINE_BREAKS, *CONTROLS, "\n'@", '\n"@', "\r\n'@\r\n", "\n\u2019@", "\n\u201d@", "\r\n#>\r\n",
            "\u2028<#")
ACCEPTABLE: tuple[str, ...] = (*SINGLE_QUOTES, *DOUBLE_QUOTES, *INVISIBLE, *POWERSHELL, *OTHER_FORMATS, *LETTERS)
FRAGMENTS: tuple[str, ...] = (*ACCEPTABLE, *BREAKING)


def _long(chars: tuple[str, ...], *, longest: int = 2500) -> st.SearchStrategy[str]:
    """Return long runs of one fragment: up to `longest` repetitions (5,000 characters and more)."""
    count = st.integers(min_value=min(20, longest), max_value=min(60, longest))
    if longest > 60:
        count = st.one_of(count, st.integers(min_value=61, max_value=longest))
    return st.builds(lambda unit, n: unit * n, st.sampled_from(list(chars)), count)


@cache
def hostile_text(*, extra: tuple[str, ...] = (), max_pieces: int = 8, breaking: bool = True,
                 min_pieces: int = 0) -> st.SearchStrategy[str]:
    """Return text made of hostile fragments, single hostile characters, any Unicode, and long runs.

    With `breaking=False`, nothing the reader must refuse (line breaks, control characters)
    is generated, so the value reaches the bundle. `extra` adds fragments (the hidden-character
    property passes HIDDEN); without it no zero-width or bidi character and no surrogate is generated.
    """
    fragments = [*(FRAGMENTS if breaking else ACCEPTABLE), *extra]
    chars = sorted({ch for fragment in fragments for ch in fragment})
    # Format characters (Cf) come only from the explicit lists: the reader refuses several.
    excluded = ("Cs", "Cf") if breaking else ("Cs", "Cf", "Cc", "Zl", "Zp")
    unicode_chars = st.characters(codec=None, exclude_categories=excluded)
    piece = st.one_of(
        st.sampled_from(fragments),
        st.text(alphabet=st.sampled_from(chars), min_size=1, max_size=4),
        st.text(alphabet=unicode_chars, min_size=1, max_size=4),
        # Values that must reach the bundle stay under the names' 128-character limit.
        _long(("x", "'", "\u2019", "$(", "a\u0301", "\u4f8b", "#>", *extra[:2]), longest=2500 if breaking else 35),
    )
    weighted = st.one_of(st.sampled_from(fragments), st.sampled_from(fragments), piece)
    return st.lists(weighted, min_size=min_pieces, max_size=max_pieces).map("".join)


@cache
def marked(marker: str, text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Return `text + marker + text`: the marker (letters then a digit) finds the value in any output."""
    return st.tuples(text, text).map(lambda parts: parts[0] + marker + parts[1])


# ---------------------------------------------------------------------------
# The plan under attack

BASE_DOC: dict[str, Any] = {
    "format": "lync-auth-plan/1",
    "name": "Attack base plan",
    "product": "sfb2019",
    "sip_domains": ["contoso.com", "fabrikam.com"],
    "pools": [
        {"fqdn": "pool01.contoso.com", "site": "Redmond", "internal_web_fqdn": "pool01int.contoso.com",
         "external_web_fqdn": "web01.contoso.com",
         "auth": {"external": "passive", "block_ntlm_at_registrar": True},
         "relying_parties": {"internal": "Lync-Int", "external": "Lync-Ext"}},
        {"fqdn": "pool02.contoso.com", "role": "director", "site": "Dublin", "external_web_fqdn": "web02.contoso.com",
         "auth": {"external": "tls_dsk", "client_certificate_hours": {"default": 720, "min": 8, "max": 720}}},
    ],
    "edge_pools": [{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com",
                    "webconf_fqdn": "webconf.contoso.com", "av_fqdn": "av.contoso.com", "block_ntlm": True}],
    "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2012r2", "mfa": "extranet"},
    "mobility_policies": [
        {"identity": "Global", "allow_save_credentials": False},
        {"identity": "site:Redmond", "enable_mobility": True},
        {"identity": "Tag:Sales", "allow_exchange_connectivity": False},
    ],
    "simple_urls": {"meet": ["meet.contoso.com", "meet.fabrikam.com"], "dialin": "dialin.contoso.com",
                    "admin": "admin.contoso.com"},
    "office_web_apps_fqdn": "oos.contoso.com",
    "certificates": {"key_size": 2048, "ca": "ca01.contoso.com\\Contoso Issuing CA"},
    # The TLS-DSK Director breaks the plan's MFA promise; these accept it (and their reasons are attacked too).
    "accepted_risks": [
        {"code": "mfa_web_password_open", "field": "pools[1].auth.external", "reason": "Director pilot"},
        {"code": "mfa_certificate_by_password", "field": "pools[1].auth.external", "reason": "Certificates pilot"},
        {"code": "mfa_registrar_password_open", "field": "pools[1].auth.block_ntlm_at_registrar",
         "reason": "Room systems"},
    ],
    "x_note": "kept in plan.json only",
}


# Modern Authentication cannot share a plan with the passive pool of BASE_DOC (the plan is refused), so the
# fields only it has are attacked on a second document: a plan that turns Modern Authentication on.
MODERN_DOC: dict[str, Any] = {
    "format": "lync-auth-plan/1",
    "name": "Attack Modern Authentication plan",
    "product": "sfb2019",
    "sip_domains": ["contoso.com"],
    "pools": [
        {"fqdn": "pool01.contoso.com", "site": "Redmond", "internal_web_fqdn": "pool01int.contoso.com",
         "external_web_fqdn": "web01.contoso.com"},
        {"fqdn": "pool02.contoso.com", "role": "director", "external_web_fqdn": "web02.contoso.com"},
    ],
    "edge_pools": [{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com", "block_ntlm": True}],
    "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2016"},
    "modern_auth": {"oauth_server_identity": "sts.contoso.com", "accept_sid_claims": True,
                    "scenario": "block_windows_auth_externally_and_modern_auth_internally",
                    "office2013_clients": True},
}
BASE_DOCS: dict[str, dict[str, Any]] = {"base": BASE_DOC, "modern": MODERN_DOC}


def base_doc(kind: str = "base") -> dict[str, Any]:
    """Return a fresh copy of a plan document the attacks start from: `base` uses every attacked field but
    those only a Modern Authentication plan has, which `modern` uses."""
    return copy.deepcopy(BASE_DOCS[kind])


_PATH_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_keys(path: str) -> list[str | int]:
    """Return the keys of a plan path: `pools[0].site` -> ['pools', 0, 'site']."""
    return [int(index) if index else name for name, index in _PATH_RE.findall(path)]


def get_path(doc: Any, path: str) -> Any:
    """Return the value at `path` in a document (KeyError/IndexError when absent)."""
    for key in path_keys(path):
        doc = doc[key]
    return doc


def set_path(doc: Any, path: str, value: Any) -> None:
    """Set the value at `path` in a document."""
    keys = path_keys(path)
    for key in keys[:-1]:
        doc = doc[key]
    doc[keys[-1]] = value


@dataclass(frozen=True)
class Slot:
    """One attacked field: where it is, how a hostile part becomes the document value, and
    where the stored value must show in the bundle.

    `raw(hostile)` is what goes into the document; `parts(stored)` are the strings that must
    each be one single-quoted token wherever their quoted form appears (a tag policy's whole
    identity and the tag name alone); `in_strings` names
    scripts that must hold the stored value as a decoded single-quoted string; `in_comments`
    says every script's comments must show it (the plan name in each header).
    """

    path: str
    kind: str                                   # "text" or "fqdn"
    base: str
    raw: Callable[[str], str] = lambda hostile: hostile
    parts: Callable[[str], tuple[str, ...]] = lambda stored: (stored,)
    in_strings: tuple[str, ...] = ()
    in_comments: bool = False
    scoped: bool = False
    doc: str = "base"                           # the BASE_DOCS document the slot's path is in

    def __repr__(self) -> str:
        return f"Slot({self.path!r})"


def _after_colon(stored: str) -> tuple[str, ...]:
    return (stored, stored.partition(":")[2])


def _after_backslash(stored: str) -> tuple[str, ...]:
    return (stored, stored.partition("\\")[2])


# Where some attacked values must show in the bundle (the plan name in every script header; the
# relying-party names, policy identities and the CA name inside single-quoted strings of these scripts).
_LYNC_SCRIPTS = ("lync-management-shell.ps1", "rollback-lync.ps1", "verify-internal.ps1")
SHOWN_IN: dict[str, dict[str, Any]] = {
    "name": {"in_comments": True},
    "pools[0].relying_parties.internal": {"in_strings": ("adfs-server.ps1", "rollback-adfs.ps1")},
    "pools[0].relying_parties.external": {"in_strings": ("adfs-server.ps1", "rollback-adfs.ps1")},
    "mobility_policies[1].identity": {"in_strings": _LYNC_SCRIPTS},
    "mobility_policies[2].identity": {"in_strings": _LYNC_SCRIPTS},
    "certificates.ca": {"in_strings": ("certificates-edge.ps1",)},
}
# Pool and Edge pool FQDNs may be pasted with a scope prefix (the reader strips it).
_SCOPED_RE = re.compile(r"^(?:pools|edge_pools)\[\d+\]\.fqdn$")


def _slots_from_the_twin_walk() -> tuple[tuple[Slot, ...], tuple[Slot, ...]]:
    """Return (TEXT_SLOTS, FQDN_SLOTS): one slot for every string the harmless twin replaces in BASE_DOC.

    The list comes from `wizard.scripts.twin.user_string_paths`, the walk the twin itself uses, so a
    new plan field is attacked as soon as it is classified there and used in BASE_DOC
    (tests/test_twin.py fails until BASE_DOC uses every classified field).
    """
    text: list[Slot] = []
    fqdn: list[Slot] = []
    covered: set[str] = set()
    walks = []
    for doc_kind, doc in BASE_DOCS.items():
        plan, findings = read_plan(copy.deepcopy(doc))
        assert plan is not None, [f for f in findings if f.severity == "error"]
        # A field the base document already attacks is not attacked again on the other one.
        strings = [s for s in twin.user_string_paths(plan) if s.field not in covered]
        covered |= {s.field for s in strings}
        walks += [(doc_kind, s) for s in strings]
    for doc_kind, (path, kind, value, _) in walks:
        shown = {**SHOWN_IN.get(path, {}), "doc": doc_kind}
        if kind == twin.NAME:
            text.append(Slot(path, "text", value, **shown))
        elif kind == twin.POLICY_IDENTITY:
            prefix, sep, _ = value.partition(":")
            if sep:        # Global is a fixed word, not user text
                text.append(Slot(path, "text", value, raw=lambda h, p=prefix: f"{p}:{h}", parts=_after_colon,
                                 **shown))
        elif kind == twin.CA:
            host, _, name = value.partition("\\")
            text.append(Slot(path, "text", value, raw=lambda h, host=host: f"{host}\\{h}", parts=_after_backslash,
                             **shown))
            # The CA server of certificates.ca is a host name too: the reader normalises it.
            fqdn.append(Slot(path, "fqdn", host, raw=lambda h, name=name: f"{h}\\{name}", doc=doc_kind))
        elif kind == twin.FQDN:
            fqdn.append(Slot(path, "fqdn", value, scoped=bool(_SCOPED_RE.match(path)), doc=doc_kind))
        else:
            raise AssertionError(f"{path}: the attack tests do not know twin kind {kind!r}")
    return tuple(text), tuple(fqdn)


TEXT_SLOTS, FQDN_SLOTS = _slots_from_the_twin_walk()


def marker_for(index: int) -> str:
    """Return a marker unique to slot `index`: ASCII letters, then a digit, so no normalisation
    (NFC, lowercase, IDNA) or escaping changes it and no combining mark joins it."""
    return f"Qz{chr(ord('a') + index)}k7"


# ---------------------------------------------------------------------------
# FQDN attempts

SCOPE_PREFIXES = ("service:WebServer:", "Service:webserver:", "WebServer:", "service:Registrar:", "Registrar:",
                  "EdgeServer:", "service:EdgeServer:", "UserServer:", "ApplicationServer:", " service:WebServer:")
BAD_PREFIXES = ("service:", "WebServer:WebServer:", "service:service:WebServer:", "http://", "https://", "\\\\",
                "*.", "'", "$(", "site:", "CN=", "@", "-")
FQDN_SEPARATORS = (".", ".", ".", "\u3002", "\uff0e", "\uff61", "..", ". ", "'.", ".'")
FQDN_ENDS = ("", "", ".", " ", "\n", "\t", ". ", "..", "\u200b", "'", "\u2019", ";", "\r\n", "\x00")
IDN_LABEL = "B\u00fccher"


@cache
def fqdn_attempts(slot: Slot) -> st.SearchStrategy[str]:
    """Return what an admin might paste into FQDN field `slot`: its own name in other
    cases, IDN labels, trailing dots and spaces, scope prefixes, and hostile text.

    The generated values the reader accepts normalise to two names per slot (the slot's
    base name and an IDN name), so the memoised renders stay few; the tests add explicit
    examples for a Cyrillic label and a 63-character label.
    """
    first, _, parent = slot.base.partition(".")
    good_label = st.sampled_from([first, first.upper(), first.title(), IDN_LABEL])
    bad_label = st.one_of(
        st.sampled_from(FRAGMENTS),
        hostile_text(max_pieces=3),
        st.sampled_from(["a" * 64, "-" + first, first + "-", "x_y", "1" * 3, "xn--", "xn--zz", "a" * 254]),
        _long(("a.", "a", "\u00fc")),
    )
    parent_variant = st.sampled_from([parent, parent.upper(), parent.title(), f"{parent}."])
    scope = SCOPE_PREFIXES if slot.scoped else ()
    # Pasted the way admins paste: spaces, case, a trailing dot, ideographic dots, a scope prefix.
    plausible = st.builds(
        lambda p, lab, sep, par, end: f"{p}{lab}{sep}{par}{end}",
        st.sampled_from(["", "", " ", "\t", *scope]), good_label,
        st.sampled_from([".", ".", "\u3002", "\uff0e", "\uff61"]), parent_variant,
        st.sampled_from(["", "", ".", " ", "\n", "\t", ". "]))
    hostile = st.builds(
        lambda p, lab, sep, mid, par, end: f"{p}{lab}{sep}{mid}{par}{end}",
        st.sampled_from(["", "", " ", *scope, *BAD_PREFIXES, *(() if slot.scoped else SCOPE_PREFIXES[:2])]),
        st.one_of(good_label, bad_label), st.sampled_from(FQDN_SEPARATORS),
        st.one_of(st.just(""), st.tuples(bad_label, st.sampled_from(FQDN_SEPARATORS)).map("".join)),
        parent_variant, st.sampled_from(FQDN_ENDS))
    return st.one_of(plausible, hostile, hostile)


# ---------------------------------------------------------------------------
# JSON values for `x_` extensions

@cache
def extension_values(marker: str) -> st.SearchStrategy[Any]:
    """Return JSON values (nested lists and objects) whose strings carry hostile text and `marker`."""
    leaf = st.one_of(marked(marker, hostile_text(max_pieces=4)), st.integers(), st.booleans(), st.none(),
                     st.floats(allow_nan=False, allow_infinity=False))
    keys = marked(marker, hostile_text(max_pieces=2))
    return st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(keys, inner, max_size=3)), max_leaves=8)


# ---------------------------------------------------------------------------
# The reader's verdict


@dataclass
class Verdict:
    """The outcome of reading an attacked document."""

    plan: PlanData | None
    findings: list[Finding]
    refused: set[str]            # attacked paths the reader refused
    problems: list[str]          # errors that do not name an attacked path


def errors_of(findings: Iterable[Finding]) -> list[Finding]:
    """Return the error findings."""
    return [f for f in findings if f.severity == "error"]


def judge_doc(doc: dict[str, Any], attacked: Mapping[str, Any], base: Mapping[str, Any]) -> Verdict:
    """Assess `doc`; every error must name one of the `attacked` paths exactly.

    Refused paths are put back to their `base` values and the document is assessed again,
    until it has no error (a put-back value can make another attacked value collide).
    The returned plan is the accepted plan, or None when the refusals could not be undone.
    """
    doc = copy.deepcopy(doc)
    refused: set[str] = set()
    problems: list[str] = []
    for _ in range(4):
        plan, findings = assess(doc)
        errors = errors_of(findings)
        if plan is not None and not errors:
            return Verdict(plan, findings, refused, problems)
        for e in errors:
            if e.field not in attacked:
                problems.append(f"error on {e.field!r} ({e.code}: {e.message}) names no attacked field; "
                                f"attacked: {sorted(attacked)!r}")
            elif e.field not in refused:
                refused.add(e.field)
                set_path(doc, e.field, base[e.field])
        if problems or not errors:
            break
    still = "the document still has errors after putting back every refused value"
    return Verdict(None, [], refused, problems or [still])


# ---------------------------------------------------------------------------
# Rendering (memoised)

SOURCE_REF = "attack-plan-ref"
TOOL_VERSION = "attack-test"
_BUNDLES: dict[tuple[str, str], Bundle] = {}
_TWINS: dict[tuple[str, str], dict[str, str]] = {}
RENDER_COUNT = {"bundles": 0, "memo_hits": 0}


def source_for(plan: PlanData) -> Source:
    """Return the source the attack tests render with (the plan name is attacked with the plan)."""
    return Source(plan_name=plan.name, plan_ref=SOURCE_REF, revision=3, tool_version=TOOL_VERSION)


def render_bundle(plan: PlanData, findings: list[Finding]) -> Bundle:
    """Return build_bundle(plan) (verified by wizard.verify); the same plan is rendered once.

    Memoising is sound because a bundle is a pure function of the plan, its findings and
    the source (test_attack_plan.py checks that two renders give the same SHA256SUMS).
    """
    source = source_for(plan)
    key = (dumps_plan(plan), repr(source))
    if key in _BUNDLES:
        RENDER_COUNT["memo_hits"] += 1
        return _BUNDLES[key]
    bundle = build_bundle(plan, source=source, findings=findings)
    RENDER_COUNT["bundles"] += 1
    _BUNDLES[key] = bundle
    return bundle


def twin_texts(plan: PlanData, source: Source, *, memo: bool = True) -> dict[str, str]:
    """Return {file: text} of the plan's harmless twin, rendered with the twin's source."""
    twin = harmless_twin(plan)
    header = source.harmless(twin.name).header()
    key = (dumps_plan(twin), repr(header))
    if memo and key in _TWINS:
        return _TWINS[key]
    texts = render_all(twin, header=header)
    if memo:
        _TWINS[key] = texts
    return texts


# ---------------------------------------------------------------------------
# The independent checker


@dataclass(frozen=True)
class Probe:
    """A value that was attacked and accepted: what to look for in the bundle."""

    path: str
    value: str                                  # the stored (normalised) value
    marker: str | None = None                   # found in every output the value reaches
    ps_forms: tuple[str, ...] = ()              # each quoted with ps_str must be one token
    md_forms: tuple[str, ...] = ()              # allowed Markdown forms (md_text applied)
    in_strings: tuple[str, ...] = ()
    in_comments: bool = False
    not_in_outputs: bool = False                # `x_` data: only plan.json may hold it


def probe_for(slot: Slot, plan_doc: dict[str, Any], marker: str | None) -> Probe:
    """Return the probe for an accepted value of `slot`, read from the accepted plan's document."""
    stored = get_path(plan_doc, slot.path)
    forms = slot.parts(stored) if slot.kind == "text" else (stored,)
    md_forms = tuple(forms)
    if slot.kind == "fqdn":
        if slot.path == "certificates.ca":
            stored = stored.partition("\\")[0]
            forms = (stored,)
        md_forms = (stored, _unicode(stored))
    return Probe(path=slot.path, value=stored, marker=marker, ps_forms=tuple(f for f in forms if f),
                 md_forms=md_forms, in_strings=slot.in_strings if slot.kind == "text" else (),
                 in_comments=slot.in_comments)


def _unicode(name: str) -> str:
    try:
        return name.encode("ascii").decode("idna")
    except UnicodeError:
        return name


_FREE_KINDS = frozenset({psscan.SINGLE_QUOTED, psscan.LINE_COMMENT, psscan.BLOCK_COMMENT})
_INSIDE_OK = frozenset({psscan.SINGLE_QUOTED, psscan.LINE_COMMENT, psscan.BLOCK_COMMENT})
# Characters that must never be in a comment: PowerShell line breaks are CR and LF, editors also
# break at these; any other C0/C1 control hides or garbles text.
_COMMENT_FORBIDDEN_RE = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u0085\u2028\u2029]")
_TEXT_FORBIDDEN_RE = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u0085\u2028\u2029\r]")
_DOUBLED_PREFIX_RE = re.compile(r"(?i)service:service:|(?:WebServer|Registrar|EdgeServer):(?:service:)?"
                                r"(?:WebServer|Registrar|EdgeServer):")
_MD_SPECIALS = "`*_|[]\\"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _occurrences(text: str, needle: str) -> list[int]:
    out, start = [], text.find(needle)
    while start >= 0 and needle:
        out.append(start)
        start = text.find(needle, start + 1)
    return out


def _token_at(tokens: list[psscan.Token], starts: list[int], offset: int) -> psscan.Token | None:
    i = bisect.bisect_right(starts, offset) - 1
    if i >= 0 and tokens[i].start <= offset < tokens[i].end:
        return tokens[i]
    return None


def skeleton(tokens: list[psscan.Token]) -> list[tuple[str, str | None]]:
    """Return the token kinds, with the text of everything but single-quoted strings and comments.

    Given `psscan.scan_coarse` tokens this is the command skeleton: `psscan.scan` splits each
    CODE run into commands, parameters, operators and so on from its text alone, so two
    scripts whose coarse skeletons are equal have equal fine token streams outside
    single-quoted strings and comments (and the coarse form is several times faster).
    """
    return [(t.kind, None if t.kind in _FREE_KINDS else t.text) for t in tokens]


@lru_cache(maxsize=256)
def _twin_skeleton(twin: str) -> list[tuple[str, str | None]]:
    return skeleton(psscan.scan_coarse(twin))


# Scripts that depend on no plan (the state collector): the same text in every bundle, so their
# header names no plan, and they must equal their harmless twin exactly.
PLAN_FREE_SCRIPTS = frozenset({COLLECTOR_FILE})


def check_script(name: str, text: str, twin: str | None, probes: Iterable[Probe]) -> list[str]:
    """Return the problems of one PowerShell script (empty when every value stays in its string)."""
    problems: list[str] = []
    if name in PLAN_FREE_SCRIPTS and twin is not None and text != twin:
        problems.append(f"{name}: depends on the plan (it differs from its harmless twin)")
    coarse = psscan.scan_coarse(text)
    starts = [t.start for t in coarse]
    for tok in coarse:
        if tok.error:
            problems.append(f"{name}: psscan error {tok.error} at {_cut(text, tok.start)}")
    # (a) the command skeleton equals the harmless twin's.
    if twin is None:
        problems.append(f"{name}: the harmless twin has no such script")
    else:
        mine, theirs = skeleton(coarse), _twin_skeleton(twin)
        if mine != theirs:
            i = next((k for k, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b), min(len(mine), len(theirs)))
            at = coarse[i].start if i < len(coarse) else len(text)
            problems.append(f"{name}: token skeleton differs from the harmless twin at token {i} "
                            f"({_show(mine, i)} vs {_show(theirs, i)}) near {_cut(text, at)}")
    # (c) comments hold no line break or control character beyond the template's own.
    for tok in coarse:
        if tok.kind in psscan.COMMENT_KINDS and _COMMENT_FORBIDDEN_RE.search(tok.text):
            problems.append(f"{name}: comment holds a line-break or control character near {_cut(text, tok.start)}")
    comments = [t for t in coarse if t.kind in psscan.COMMENT_KINDS]
    for probe in probes:
        # (c) in a comment the value stays whole, on one line (ps_comment flattens it).
        if probe.marker:
            flats = [ps_comment(form) for form in (probe.value, *probe.ps_forms)]
            for tok in comments:
                for line in tok.text.splitlines():
                    if probe.marker in line and not any(flat and flat in line for flat in flats):
                        problems.append(f"{name}: {probe.path}: a comment line holds only part of the value: "
                                        f"{line[:80]!r}")
        # (b) every quoted occurrence of the value (and of its parts) is exactly one string token.
        for form in probe.ps_forms:
            quoted = ps_str(form)
            for start in _occurrences(text, quoted):
                tok = psscan.single_string_at(coarse, start, start + len(quoted))
                if tok is None or tok.value != form:
                    problems.append(f"{name}: {probe.path}: {quoted!r} at {_cut(text, start)} is not one "
                                    "single-quoted string token holding the value")
        # (c) the value and its marker are never outside a single-quoted string or a comment.
        needles = [probe.value] + ([probe.marker] if probe.marker else [])
        for needle in needles:
            for start in _occurrences(text, needle):
                tok = _token_at(coarse, starts, start)
                if tok is None or tok.kind not in _INSIDE_OK or start + len(needle) > tok.end:
                    kind = tok.kind if tok else "nothing"
                    problems.append(f"{name}: {probe.path}: {needle!r} appears in {kind} at {_cut(text, start)}")
        if name in probe.in_strings and not any(
                t.kind == psscan.SINGLE_QUOTED and t.error is None and t.value == probe.value for t in coarse):
            problems.append(f"{name}: {probe.path}: no single-quoted string holds the value {probe.value!r}")
        if probe.in_comments and name not in PLAN_FREE_SCRIPTS:
            flat = ps_comment(probe.value)
            if not any(t.kind in psscan.COMMENT_KINDS and flat in t.text for t in coarse):
                problems.append(f"{name}: {probe.path}: no comment shows the value {flat!r}")
    if _DOUBLED_PREFIX_RE.search(text):
        problems.append(f"{name}: a doubled scope prefix: {_DOUBLED_PREFIX_RE.search(text).group()!r}")
    return problems


def _show(tokens: list[tuple[str, str | None]], i: int) -> str:
    if i >= len(tokens):
        return "end of script"
    kind, text = tokens[i]
    return kind if text is None else f"{kind} {text[:60]!r}"


def check_inf(name: str, text: str, twin: str | None, probes: Iterable[Probe]) -> list[str]:
    """Return the problems of a certreq INF file: quotes balanced per line, values inside quotes."""
    problems = []
    if _TEXT_FORBIDDEN_RE.search(text) or any(q in text for q in DOUBLE_QUOTES[1:]):
        problems.append(f"{name}: holds a control character, a stray CR or a typographic double quote")
    for number, line in enumerate(text.split("\n"), start=1):
        if line.count('"') % 2:
            problems.append(f"{name}:{number}: unbalanced double quotes: {line!r}")
            continue
        quoted = [(m.start(), m.end()) for m in re.finditer(r'"[^"]*"', line)]
        for probe in probes:
            for needle in filter(None, (probe.value, probe.marker)):
                for start in _occurrences(line, needle):
                    if not any(a < start and start + len(needle) < b for a, b in quoted):
                        problems.append(f"{name}:{number}: {probe.path}: {needle!r} outside a quoted value")
    return problems


def check_xml(name: str, text: str, twin: str | None, probes: Iterable[Probe]) -> list[str]:
    """Return the problems of the web.config fragment: it parses after wrapping, with the twin's shape."""
    def parse(source: str) -> ET.Element:
        body = re.sub(r"^\s*<\?xml[^>]*\?>", "", source)
        return ET.fromstring(f"<configuration><system.webServer>{body}</system.webServer></configuration>")

    try:
        root = parse(text)
    except ET.ParseError as exc:
        return [f"{name}: does not parse as XML after wrapping: {exc}"]
    problems = []
    if twin is not None:
        shape = [(e.tag, sorted(e.attrib)) for e in root.iter()]
        if shape != [(e.tag, sorted(e.attrib)) for e in parse(twin).iter()]:
            problems.append(f"{name}: element/attribute structure differs from the harmless twin")
    for probe in probes:
        for needle in filter(None, (probe.value, probe.marker)):
            for element in root.iter():
                outside = [element.tag, element.text or "", element.tail or "", *element.attrib]
                if any(needle in part for part in outside):
                    problems.append(f"{name}: {probe.path}: {needle!r} outside an attribute value")
    return problems


_SVG_FORBIDDEN_TAGS = {"script", "style", "foreignObject", "image", "a", "use", "iframe", "object", "embed"}


def check_svg(name: str, text: str, probes: Iterable[Probe]) -> list[str]:
    """Return the problems of the exposure picture: well-formed SVG, no script, no style, nothing fetched,
    and user data only in text nodes (never a tag, an attribute name or value)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return [f"{name}: does not parse as XML: {exc}"]
    problems = []
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        problems.append(f"{name}: the root element is {root.tag!r}, not svg")
    for element in root.iter():
        tag = element.tag.rpartition("}")[2]
        if tag in _SVG_FORBIDDEN_TAGS:
            problems.append(f"{name}: forbidden element <{tag}>")
        for attribute, value in element.attrib.items():
            local = attribute.rpartition("}")[2]
            if local == "style" or local.startswith("on") or local == "href":
                problems.append(f"{name}: forbidden attribute {local}={value[:40]!r} on <{tag}>")
            if "url(" in value and not re.fullmatch(r"url\(#[a-z-]+\)", value):
                problems.append(f"{name}: {local} points outside the document: {value[:60]!r}")
    for probe in probes:
        for needle in filter(None, (probe.value, probe.marker)):
            for element in root.iter():
                if any(needle in part for part in (element.tag, *element.attrib, *element.attrib.values())):
                    problems.append(f"{name}: {probe.path}: {needle!r} outside a text node")
    return problems


def _unescaped(line: str, chars: str) -> list[int]:
    """Return the offsets of characters in `chars` that no backslash escapes."""
    out, i = [], 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c in chars:
            out.append(i)
        i += 1
    return out


def md_is_inert(escaped: str) -> bool:
    """Return True when Markdown text has no markup: one line, every special escaped, no raw HTML."""
    if "\n" in escaped or _TEXT_FORBIDDEN_RE.search(escaped):
        return False
    if _unescaped(escaped, "`*_|[]<>#~"):
        return False
    for m in re.finditer("&", escaped):
        if not re.match(r"&(?:amp|lt|gt);", escaped[m.start():]):
            return False
    return (len(escaped) - len(escaped.rstrip("\\"))) % 2 == 0


def check_markdown(name: str, text: str, twin: str | None, probes: Iterable[Probe],
                   findings: Iterable[Finding] = ()) -> list[str]:
    """Return the problems of a Markdown file: tables keep their cells, values stay inert text."""
    problems = []
    if _TEXT_FORBIDDEN_RE.search(text):
        problems.append(f"{name}: holds a control character, a stray CR or a line/paragraph separator")
    lines = text.split("\n")
    width = None
    for number, line in enumerate(lines, start=1):
        if not line.startswith("|"):
            width = None
            continue
        cells = len(_unescaped(line, "|"))
        if width is None:
            width = cells
        elif cells != width:
            problems.append(f"{name}:{number}: table row has {cells} cell borders, the header {width}")
    allowed = {md_text(f.message) for f in findings} | {md_text(f.field) for f in findings}
    for probe in probes:
        allowed |= {md_text(form) for form in probe.md_forms if form}
    for form in allowed:
        if not md_is_inert(form):
            problems.append(f"{name}: md_text output is not inert Markdown: {form[:80]!r}")
    for probe in probes:
        if not probe.marker:
            continue
        spans = [(s, s + len(form)) for form in allowed if probe.marker in form for s in _occurrences(text, form)]
        for start in _occurrences(text, probe.marker):
            line_start = text.rfind("\n", 0, start) + 1
            if not text[line_start:start].strip():
                problems.append(f"{name}: {probe.path}: the value starts a line at {_cut(text, start)}")
            if not any(a <= start and start + len(probe.marker) <= b for a, b in spans):
                problems.append(f"{name}: {probe.path}: value not in an md_text-escaped form at {_cut(text, start)}")
    return problems


def check_texts(texts: Mapping[str, str], twin: Mapping[str, str], probes: Iterable[Probe], *,
                findings: Iterable[Finding] = ()) -> list[str]:
    """Return every problem the independent checks find in rendered files (scripts, INF, XML, Markdown)."""
    probes = list(probes)
    findings = list(findings)
    problems: list[str] = []
    for name, text in texts.items():
        other = twin.get(name)
        if name.endswith(".ps1"):
            problems += check_script(name, text, other, probes)
        elif name.endswith(".inf"):
            problems += check_inf(name, text, other, probes)
        elif name.endswith((".config", ".xml")):
            problems += check_xml(name, text, other, probes)
        elif name.endswith(".md"):
            problems += check_markdown(name, text, other, probes, findings)
        for probe in probes:
            if probe.not_in_outputs and probe.marker and probe.marker in text:
                problems.append(f"{name}: {probe.path}: extension data reached this file")
    for name in twin:
        if name not in texts:
            problems.append(f"{name}: the harmless twin has this file, the plan does not")
    return problems


_CHECKED: dict[tuple[str, tuple[Probe, ...]], list[str]] = {}


def check_bundle(bundle: Bundle, probes: Iterable[Probe]) -> list[str]:
    """Return every problem the independent checks find in a bundle, its plan.json and SHA256SUMS included.

    The result is memoised by the bundle's identity (its SHA-256) and the probes: the checks
    are a pure function of both.
    """
    probes = tuple(probes)
    key = (bundle.sha256, probes)
    if key not in _CHECKED:
        _CHECKED[key] = _check_bundle(bundle, list(probes))
    return list(_CHECKED[key])


def _check_bundle(bundle: Bundle, probes: list[Probe]) -> list[str]:
    twin = twin_texts(bundle.plan, bundle.source)
    rendered = {n: t for n, t in bundle.texts.items() if n not in ("runbook.md", "exposure.svg", "plan.json",
                                                                   "verification.json", "SHA256SUMS")}
    problems = check_texts(rendered, twin, probes, findings=bundle.findings)
    problems += check_svg("exposure.svg", bundle.texts["exposure.svg"], probes)
    problems += check_markdown("runbook.md", bundle.texts["runbook.md"], None, probes, bundle.findings)
    title = f"# Runbook: {md_text(bundle.source.plan_name)}"
    if title not in bundle.texts["runbook.md"].split("\n"):
        problems.append(f"runbook.md: no title line {title[:80]!r}")
    problems += _check_files(bundle)
    problems += _check_json(bundle, probes)
    return problems


def _check_files(bundle: Bundle) -> list[str]:
    """The download bytes are the texts: scripts UTF-8 with BOM and CRLF, nothing else changed."""
    problems = []
    for name, text in bundle.texts.items():
        data = bundle.files[name]
        if name.endswith(".ps1"):
            if not data.startswith(b"\xef\xbb\xbf") or data[3:].decode("utf-8") != text.replace("\n", "\r\n"):
                problems.append(f"{name}: the file bytes are not the text as UTF-8 with BOM and CRLF")
        elif name.endswith((".inf", ".config")):
            if data.decode("utf-8") != text.replace("\n", "\r\n"):
                problems.append(f"{name}: the file bytes are not the text with CRLF")
        elif data.decode("utf-8") != text:
            problems.append(f"{name}: the file bytes are not the text")
    sums = bundle.texts["SHA256SUMS"].splitlines()
    names = [n for n in bundle.files if n != "SHA256SUMS"]
    if len(sums) != len(names):
        problems.append(f"SHA256SUMS: {len(sums)} lines for {len(names)} files")
    for line, name in zip(sums, names, strict=False):
        digest, _, listed = line.partition("  ")
        if listed != name or not _HEX64.match(digest) or hashlib.sha256(bundle.files[name]).hexdigest() != digest:
            problems.append(f"SHA256SUMS: bad line {line[:100]!r}")
    return problems


def _check_json(bundle: Bundle, probes: list[Probe]) -> list[str]:
    problems = []
    try:
        doc = json.loads(bundle.texts["plan.json"])
    except ValueError as exc:
        return [f"plan.json: does not parse: {exc}"]
    plan, findings = read_plan(doc)
    if plan is None or plan != bundle.plan:
        problems.append("plan.json: reading it back does not give the bundle's plan: "
                        f"{[f.message for f in errors_of(findings)][:3]}")
    elif dumps_plan(plan) != bundle.texts["plan.json"]:
        problems.append("plan.json: writing the plan read back gives different text")
    for name in ("plan.json", "verification.json"):
        # An editor, a diff or str.splitlines breaks lines at NEL, U+2028 and U+2029 too.
        if bundle.texts[name].count("\n") != len(bundle.texts[name].splitlines()):
            problems.append(f"{name}: holds a line break other than LF (raw NEL, U+2028 or U+2029)")
    try:
        report = json.loads(bundle.texts["verification.json"])
        if report.get("ok") is not True:
            problems.append("verification.json: ok is not true")
    except ValueError as exc:
        problems.append(f"verification.json: does not parse: {exc}")
    for probe in probes:
        if probe.marker and probe.marker in bundle.texts["SHA256SUMS"]:
            problems.append(f"SHA256SUMS: {probe.path}: the value reached it")
    return problems


def _cut(text: str, offset: int, width: int = 50) -> str:
    return repr(text[max(0, offset - 20):offset + width])


def plan_doc_of(plan: PlanData) -> dict[str, Any]:
    """Return the accepted plan as a document (normalised values at their plan paths)."""
    return plan_to_dict(plan)


def describe(problems: list[str], limit: int = 8) -> str:
    """Return the first problems, one a line, for an assertion message."""
    more = f"\n... and {len(problems) - limit} more" if len(problems) > limit else ""
    return "\n".join(problems[:limit]) + more


__all__ = [
    "BASE_DOC",
    "BIDI",
    "CHEAP",
    "FQDN_SLOTS",
    "FRAGMENTS",
    "HIDDEN",
    "RENDERING",
    "SURROGATES",
    "TEXT_SLOTS",
    "Probe",
    "Slot",
    "Verdict",
    "base_doc",
    "check_bundle",
    "check_texts",
    "describe",
    "errors_of",
    "examples",
    "extension_values",
    "fqdn_attempts",
    "get_path",
    "hostile_text",
    "judge_doc",
    "marked",
    "marker_for",
    "md_is_inert",
    "plan_doc_of",
    "probe_for",
    "render_bundle",
    "set_path",
    "skeleton",
    "twin_texts",
]
