"""Prove every emitted script: the check that runs on each render before a bundle is offered.

For every PowerShell file in the bundle (.ps1, also .psm1/.psd1):

1. tree-sitter-powershell parses it with no ERROR or MISSING node;
2. every catalogued command (and every `*-Cs*` / `*-Adfs*` name) exists for the plan's
   product and AD FS version, each parameter exists there, and each literal value (also one
   passed through a `$variable` assigned a literal earlier) fits type, accepted values and range;
3. with a harmless twin, the script's token stream equals the twin's except inside
   single-quoted strings, numbers and comments, so user data changed no command, parameter
   or statement and sits in no double-quoted or here-string. The comparison is lexical, with
   psscan: text that is identical outside those tokens has the same command skeleton
   (statements, command names, parameter names, node kinds) for PowerShell and for
   tree-sitter alike, and scanning the twin costs a fraction of parsing it again;
4. psscan (PowerShell's own quoting rules) and tree-sitter agree on every string boundary,
   comments hold nothing an editor would draw as a line break, and no bidi control, NUL or
   Unicode-dash parameter hides what the script does;
5. none of the documented errata in wizard/proof/errata.py appears.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from wizard.caches import ByteLRU, MiB, text_size
from wizard.proof import psscan
from wizard.proof.catalog import (
    VALUE_ARRAY,
    VALUE_BOOL,
    VALUE_NONE,
    VALUE_UNKNOWN,
    Catalog,
    CmdletInfo,
    ParamCheck,
    ParamInfo,
    ValueCheck,
    load_catalog,
)
from wizard.proof.errata import ERRATA, CommandFacts, find_errata
from wizard.proof.psast import (
    VALUE_VARIABLE,
    Assignment,
    Command,
    Element,
    ScriptFacts,
    Value,
    analyse,
)

REPORT_FORMAT = "wizard-verification/1"
# .ps1 is what the brief names; modules and data files are PowerShell too, so they get the same checks.
POWERSHELL_SUFFIXES = (".ps1", ".psm1", ".psd1")
# Trojan-Source style characters: they reorder or hide text in an editor or a review diff.
_HIDDEN_RE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\x00]")
_UNICODE_DASH_PARAM_RE = re.compile(r"(?:^|(?<=[\s(){};,|&]))[\u2013\u2014\u2015][^\W\d]\w*")
_DIGITS_RE = re.compile(r"\d+")
_VISUAL_BREAK_RE = re.compile(f"[{psscan.VISUAL_LINE_BREAKS}]")
_TWIN_MAY_DIFFER = frozenset({psscan.SINGLE_QUOTED, psscan.LINE_COMMENT, psscan.BLOCK_COMMENT})


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of verify_scripts; `to_dict()` is what the bundle stores as verification.json."""

    ok: bool
    catalog_version: str
    checked: tuple[str, ...]          # human-readable list of what was checked, per script
    problems: tuple[str, ...]         # empty when ok; each names script, line and what is wrong
    notes: tuple[str, ...] = ()       # not failures: e.g. parameters that need a cumulative update
    product: str = ""
    adfs_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable, deterministic form of the report."""
        return {
            "format": REPORT_FORMAT,
            "ok": self.ok,
            "catalog_version": self.catalog_version,
            "product": self.product,
            "adfs_version": self.adfs_version,
            "checked": list(self.checked),
            "problems": list(self.problems),
            "notes": list(self.notes),
            "errata": [{"id": e.id, "reason": e.reason} for e in ERRATA],
        }

    def raise_for_problems(self) -> None:
        """Raise VerificationFailed unless the report is ok."""
        if not self.ok:
            raise VerificationFailed(self)


class VerificationFailed(Exception):
    """A generated bundle failed verification; `report` says why."""

    def __init__(self, report: VerifyReport) -> None:
        first = report.problems[0] if report.problems else "unknown problem"
        super().__init__(f"{len(report.problems)} verification problem(s), first: {first}")
        self.report = report


@dataclass(frozen=True)
class _ScriptResult:
    checked: tuple[str, ...]
    problems: tuple[str, ...]
    notes: tuple[str, ...]


def verify_scripts(scripts: dict[str, str], *, product: str, adfs_version: str | None,
                   twin_scripts: dict[str, str] | None = None, portable: Collection[str] = ()) -> VerifyReport:
    """Return the verification report for a rendered bundle.

    Entries ending in .ps1 (and .psm1/.psd1) are checked as PowerShell; any other file is
    listed in `checked` as not checked. With `twin_scripts` (the same templates rendered from
    the plan's harmless twin) each script is also compared token by token with its twin.

    Scripts named in `portable` run wherever they are taken (the state collector runs in any
    product's Management Shell and on any AD FS server), so their commands are checked for
    every product and every AD FS version of the catalog instead of the plan's: a command some
    of them lack is accepted only when the script tests for it first with
    `Get-Command -Name '<command>'`, and its parameters are checked wherever it exists.
    """
    catalog = load_catalog()
    if product not in catalog.products:
        raise ValueError(f"unknown product {product!r}; expected one of {', '.join(catalog.products)}")
    if adfs_version is not None and adfs_version not in catalog.adfs_versions:
        raise ValueError(f"unknown AD FS version {adfs_version!r}")
    checked: list[str] = []
    problems: list[str] = []
    notes: list[str] = []
    for name in sorted(scripts):
        if not name.lower().endswith(POWERSHELL_SUFFIXES):
            checked.append(f"{name}: not a PowerShell script, not checked")
            continue
        twin = None
        if twin_scripts is not None:
            twin = twin_scripts.get(name)
            if twin is None:
                problems.append(f"{name}: no harmless twin was rendered for this script")
        if name in portable:
            # The same text is checked the same way for every plan: one cache entry serves them all.
            result = _verify_script_cached(name, scripts[name], twin, "", None, portable=True)
        else:
            result = _verify_script_cached(name, scripts[name], twin, product, adfs_version)
        checked.extend(result.checked)
        problems.extend(result.problems)
        notes.extend(result.notes)
    for name in sorted(set(twin_scripts or ()) - set(scripts)):
        if name.lower().endswith(POWERSHELL_SUFFIXES):
            problems.append(f"{name}: the harmless twin has this script but the bundle does not")
    return VerifyReport(not problems, catalog.version, tuple(checked), tuple(problems), tuple(notes),
                        product, adfs_version)


# The same script is often verified again (a preview, the review page, a download of one plan;
# an edit changes one or two scripts of a bundle): the results of recent scripts are kept, keyed
# by a digest of the texts (the texts themselves would weigh far more than the results).
_RESULTS: ByteLRU[tuple[str, bytes, str, str | None, bool], _ScriptResult] = ByteLRU("verification results",
                                                                                    2 * MiB)


def _verify_script_cached(name: str, text: str, twin: str | None, product: str,
                          adfs_version: str | None, *, portable: bool = False) -> _ScriptResult:
    digest = hashlib.sha256()
    for part in (text, "\0", twin if twin is not None else "\0no twin"):
        digest.update(part.encode("utf-8", "surrogatepass"))
    key = (name, digest.digest(), product, adfs_version, portable)
    result = _RESULTS.get(key)
    if result is None:
        result = _verify_script(name, text, twin, product, adfs_version, portable)
        _RESULTS.put(key, result, len(name) + text_size((*result.checked, *result.problems, *result.notes)))
    return result


def _verify_script(name: str, text: str, twin: str | None, product: str,
                   adfs_version: str | None, portable: bool = False) -> _ScriptResult:
    catalog = load_catalog()
    out = _Collector(name, text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # A lone surrogate (JSON allows "\ud800") can never be written into the UTF-8 file.
        out.problem(out.char_line(exc.start), f"character U+{ord(text[exc.start]):04X} cannot be written as UTF-8")
        return _ScriptResult(tuple(out.checked_lines), tuple(out.problems), tuple(out.notes))
    facts = analyse(text, catalog.must_check, name=name)
    for offset, message in facts.errors:
        out.problem(facts.line(offset), f"tree-sitter: {message}")
    if not facts.errors:
        out.checked("tree-sitter-powershell parse: no ERROR or MISSING node")

    tokens = psscan.scan_coarse(text)
    _check_lexical(out, text, tokens, facts)
    if portable:
        commands = _check_portable_commands(out, catalog, facts, text)
    else:
        commands = _check_commands(out, catalog, facts, product, adfs_version)

    found = find_errata(text, commands)
    for line, erratum, detail in found:
        out.problem(line, f"erratum {erratum.id}: {detail}. {erratum.reason}")
    out.checked(f"{len(ERRATA)} documented errata searched, {len(found)} found")

    if twin is None:
        out.checked("harmless-twin comparison not run (no twin given)")
    else:
        # Most twins follow the script token for token: then the comparison needs no second scan.
        differing = psscan.follow_coarse(tokens, twin)
        if differing is not None:
            out.checked(_twin_equal(len(tokens), differing))
        else:
            _compare_twin(out, tokens, psscan.scan_coarse(twin), text, twin)
    return _ScriptResult(tuple(out.checked_lines), tuple(out.problems), tuple(out.notes))


class _Collector:
    """Problems, notes and checked lines for one script, each prefixed with the script name."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.checked_lines: list[str] = []
        self.problems: list[str] = []
        self.notes: list[str] = []

    def checked(self, what: str) -> None:
        self.checked_lines.append(f"{self.name}: {what}")

    def problem(self, line: int | None, what: str) -> None:
        where = f"{self.name}:{line}" if line else self.name
        self.problems.append(f"{where}: {what}")

    def char_line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


def _check_lexical(out: _Collector, text: str, tokens: list[psscan.Token], facts: ScriptFacts) -> None:
    strings = [t for t in tokens if t.kind in psscan.STRING_KINDS]
    ps_spans = _byte_spans(text, strings)
    # The two lists of (start, end, kind) compared in one step; a difference is then looked at string
    # by string to say where.
    same = len(ps_spans) == len(facts.string_spans) and [
        (start, end, tok.kind) for (start, end), tok in zip(ps_spans, strings, strict=True)
    ] == facts.string_spans
    disagreements = 0 if same else _string_disagreements(out, strings, ps_spans, facts)
    # ASCII text holds no Unicode dash, and of the look-alike line breaks and hidden characters only
    # VT, FF and NUL are ASCII: the regular expressions run only when they can find something.
    ascii_text = text.isascii()
    dashes = not ascii_text and any(dash in text for dash in "\u2013\u2014\u2015")
    # No comment can hold a character the whole text does not: then only errors are looked for.
    breaks = ("\v" in text or "\f" in text) if ascii_text else _VISUAL_BREAK_RE.search(text) is not None
    for tok in tokens if dashes or breaks else [tok for tok in tokens if tok.error]:
        if tok.error:
            out.problem(out.char_line(tok.start), f"psscan: {tok.error}")
        elif breaks and tok.kind in psscan.COMMENT_KINDS and _VISUAL_BREAK_RE.search(tok.text):
            out.problem(out.char_line(tok.start), "comment holds a character editors show as a line break")
        elif dashes and tok.kind == psscan.CODE:
            for m in _UNICODE_DASH_PARAM_RE.finditer(tok.text):
                out.problem(out.char_line(tok.start + m.start()),
                            f"parameter {m.group()!r} written with a Unicode dash")
    for m in _HIDDEN_RE.finditer(text) if not ascii_text or "\0" in text else ():
        out.problem(out.char_line(m.start()), f"hidden character U+{ord(m.group()):04X} (bidi control or NUL)")
    if not disagreements:
        comments = sum(1 for t in tokens if t.kind in psscan.COMMENT_KINDS)
        out.checked(f"psscan and tree-sitter agree on all {len(strings)} string boundaries; "
                    f"{comments} comments checked")


def _string_disagreements(out: _Collector, strings: list[psscan.Token], ps_spans: list[tuple[int, int]],
                          facts: ScriptFacts) -> int:
    """Report every string psscan and tree-sitter read differently; return how many."""
    ts_spans = {(start, end): kind for start, end, kind in facts.string_spans}
    disagreements = 0
    for tok, span in zip(strings, ps_spans, strict=False):
        if ts_spans.pop(span, None) != tok.kind:
            disagreements += 1
            out.problem(out.char_line(tok.start),
                        f"PowerShell reads a {tok.kind} string {_excerpt(tok.text)} here but tree-sitter "
                        "does not (a Unicode quote or an unescaped quote changes where it ends)")
    for (start, _end), kind in sorted(ts_spans.items()):
        disagreements += 1
        out.problem(facts.line(start), f"tree-sitter reads a {kind} string here that PowerShell does not")
    return disagreements


def _byte_spans(text: str, tokens: list[psscan.Token]) -> list[tuple[int, int]]:
    """Return UTF-8 byte spans for tokens given in character offsets (in order)."""
    if text.isascii():
        return [(t.start, t.end) for t in tokens]
    spans: list[tuple[int, int]] = []
    char_pos = byte_pos = 0
    for tok in tokens:
        byte_pos += len(text[char_pos:tok.start].encode("utf-8"))
        start = byte_pos
        byte_pos += len(text[tok.start:tok.end].encode("utf-8"))
        char_pos = tok.end
        spans.append((start, byte_pos))
    return spans


def _check_commands(out: _Collector, catalog: Catalog, facts: ScriptFacts, product: str,
                    adfs_version: str | None) -> list[CommandFacts]:
    env: dict[str, Value | None] = {}
    resolved: list[CommandFacts] = []
    counts = [0, 0, 0]   # commands, parameters, literal values checked
    checks = _Checks(catalog, product, adfs_version)
    must_check: dict[str, bool] = {}
    for event in facts.events:
        if isinstance(event, Assignment):
            env[event.name] = event.value
            continue
        wanted = must_check.get(event.name)
        if wanted is None:
            wanted = must_check[event.name] = catalog.must_check(event.name)
        if not wanted:
            continue
        line = facts.line(event.offset)
        info = catalog.lookup(event.name)
        if info is None:
            out.problem(line, f"{event.name} is not in the cmdlet catalog")
            continue
        counts[0] += 1
        problem = catalog.cmdlet_problem(info.name, product=product, adfs_version=adfs_version)
        if problem:
            out.problem(line, problem)
        binder = _Binder(out, checks, facts, info, env, counts)
        resolved.append(CommandFacts(info.name.lower(), line, binder.bind(event)))
    where = f"{product}" + (f", AD FS {adfs_version}" if adfs_version else "")
    out.checked(f"{counts[0]} catalogued commands, {counts[1]} parameters and {counts[2]} literal "
                f"values checked against catalog {catalog.version} for {where}")
    return resolved


def _check_portable_commands(out: _Collector, catalog: Catalog, facts: ScriptFacts,
                             text: str) -> list[CommandFacts]:
    """Check a script that runs on every product and AD FS version (see verify_scripts)."""
    env: dict[str, Value | None] = {}
    resolved: list[CommandFacts] = []
    counts = [0, 0, 0]
    guarded = {m.group(1).lower() for m in _GUARD_RE.finditer(text)}
    for event in facts.events:
        if isinstance(event, Assignment):
            env[event.name] = event.value
            continue
        if not catalog.must_check(event.name):
            continue
        line = facts.line(event.offset)
        info = catalog.lookup(event.name)
        if info is None:
            out.problem(line, f"{event.name} is not in the cmdlet catalog")
            continue
        counts[0] += 1
        targets, missing = _portable_targets(catalog, info)
        if not targets:
            out.problem(line, f"{info.name} exists on no product or AD FS version the catalog knows")
            continue
        if missing and info.name.lower() not in guarded:
            out.problem(line, f"{info.name} does not exist on {', '.join(missing)}: a script that runs everywhere "
                              f"must test for it first with Get-Command -Name '{info.name}'")
        bound: dict[str, tuple[str, Any]] = {}
        seen = len(out.problems), len(out.notes)
        for target_product, target_adfs in targets:
            checks = _Checks(catalog, target_product, target_adfs)
            bound = _Binder(out, checks, facts, info, env, counts).bind(event)
        # The same problem found for several targets is reported once.
        out.problems[seen[0]:] = list(dict.fromkeys(out.problems[seen[0]:]))
        out.notes[seen[1]:] = list(dict.fromkeys(out.notes[seen[1]:]))
        resolved.append(CommandFacts(info.name.lower(), line, bound))
    out.checked(f"{counts[0]} catalogued commands, {counts[1]} parameters and {counts[2]} literal values "
                f"checked against catalog {catalog.version} for every product ({', '.join(catalog.products)}) "
                f"and AD FS version ({', '.join(catalog.adfs_versions)}) where each command exists")
    return resolved


_GUARD_RE = re.compile(r"Get-Command\s+-Name\s+'([A-Za-z]+-[A-Za-z]+)'", re.IGNORECASE)


def _portable_targets(catalog: Catalog, info: CmdletInfo) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Return ((product, AD FS version) pairs where `info` exists, the names of those where it does not)."""
    first = catalog.products[0]
    if info.is_adfs:
        versions = info.adfs_versions or ()
        return ([(first, v) for v in catalog.adfs_versions if v in versions],
                [f"AD FS {v}" for v in catalog.adfs_versions if v not in versions])
    if info.products is not None:
        return ([(p, None) for p in catalog.products if p in info.products],
                [p for p in catalog.products if p not in info.products])
    return [(first, None)], []


class _Checks:
    """The catalog's answers for one script, each asked once.

    A 100-pool script binds the same few parameters and values thousands of times (every
    `-ErrorAction SilentlyContinue`, every `-WhatIf:$WhatIfPreference`); the answers depend
    only on the question, the product and the AD FS version, which are fixed for the script.
    """

    def __init__(self, catalog: Catalog, product: str, adfs_version: str | None) -> None:
        self.catalog, self.product, self.adfs_version = catalog, product, adfs_version
        self._parameters: dict[tuple[str, str], ParamCheck] = {}
        self._values: dict[tuple[str, str, str, Any], ValueCheck] = {}

    def parameter(self, info: CmdletInfo, spelled: str) -> ParamCheck:
        key = (info.name, spelled)
        hit = self._parameters.get(key)
        if hit is None:
            hit = self._parameters[key] = self.catalog.check_parameter(
                info.name, spelled, product=self.product, adfs_version=self.adfs_version)
        return hit

    def value(self, info: CmdletInfo, param: ParamInfo, kind: str, literal: Any) -> ValueCheck:
        key = (info.name, param.name, kind, literal)
        try:
            hit = self._values.get(key)
        except TypeError:   # a literal that cannot be a key: ask every time
            return self.catalog.check_param_value(param, kind, literal, adfs_version=self.adfs_version)
        if hit is None:
            hit = self._values[key] = self.catalog.check_param_value(param, kind, literal,
                                                                     adfs_version=self.adfs_version)
        return hit


class _Binder:
    """Bind one command's elements to catalog parameters the way PowerShell would, checking each."""

    def __init__(self, out: _Collector, checks: _Checks, facts: ScriptFacts, info: CmdletInfo,
                 env: Mapping[str, Value | None], counts: list[int]) -> None:
        self.out, self.checks, self.facts, self.info = out, checks, facts, info
        self.env, self.counts = env, counts

    def bind(self, command: Command) -> dict[str, tuple[str, Any]]:
        bound: dict[str, tuple[str, Any]] = {}
        positionals: list[Element] = []
        elements = command.elements
        i = 0
        while i < len(elements):
            element = elements[i]
            i += 1
            if element.parameter is None:
                positionals.append(element)
                continue
            check = self.checks.parameter(self.info, element.parameter)
            param = check.parameter
            value_element: Element | None = None
            if i < len(elements) and elements[i].parameter is None and (
                    element.colon or (param is not None and param.kind != "switch")):
                value_element = elements[i]
                i += 1
            if param is None:
                self.out.problem(self.facts.line(element.offset), check.message)
                continue
            self.counts[1] += 1
            if check.status == "needs_cu":
                self.out.notes.append(f"{self.out.name}:{self._line(element)}: {check.message}")
            elif not check.ok:
                self.out.problem(self._line(element), check.message)
            if param.name.lower() in bound:
                self.out.problem(self._line(element), f"{self.info.name} -{param.name} is given more than once")
            following = elements[i].value if i < len(elements) else None
            if param.kind == "switch" and value_element is None and following is not None \
                    and following.kind == VALUE_BOOL:
                # `-Force $false` passes $false as a positional argument and still sets -Force.
                self.out.problem(self._line(element), f"{self.info.name} -{param.name} is a switch: write "
                                         f"-{param.name}:{(following.value and '$true') or '$false'}")
            value = (VALUE_NONE, None) if value_element is None else self._resolve(value_element.value)
            self._bind_value(bound, param, element, value)
        self._bind_positionals(bound, positionals)
        return bound

    def _line(self, element: Element) -> int:
        return self.facts.line(element.offset)

    def _bind_positionals(self, bound: dict[str, tuple[str, Any]], positionals: list[Element]) -> None:
        """Bind arguments without a name the way PowerShell does: after the named ones, by position."""
        slots = _positional_parameters(self.info)
        if slots is None or not positionals:
            return   # the position depends on the parameter set chosen at run time
        free = [p for p in slots if p.name.lower() not in bound]
        for element, param in zip(positionals, free, strict=False):
            self._bind_value(bound, param, element, self._resolve(element.value))
        for element in positionals[len(free):]:
            self.out.problem(self.facts.line(element.offset),
                             f"{self.info.name}: no positional parameter is left for this argument")

    def _bind_value(self, bound: dict[str, tuple[str, Any]], param: ParamInfo, element: Element,
                    value: tuple[str, Any]) -> None:
        bound[param.name.lower()] = value
        kind, literal = value
        if kind != VALUE_UNKNOWN:
            self.counts[2] += 1
        result = self.checks.value(self.info, param, kind, literal)
        if not result.ok:
            self.out.problem(self.facts.line(element.offset), f"{self.info.name} {result.message}")

    def _resolve(self, value: Value | None, seen: frozenset[str] = frozenset()) -> tuple[str, Any]:
        if value is None:
            return (VALUE_NONE, None)
        if value.kind == VALUE_VARIABLE:
            assigned = self.env.get(value.value)
            # `$a = $b; $b = $a` must not recurse for ever: a cycle is simply an unknown value.
            if assigned is None or value.value in seen:
                return (VALUE_UNKNOWN, None)
            return self._resolve(assigned, seen | {value.value})
        if value.kind == VALUE_ARRAY:
            return (VALUE_ARRAY, tuple(self._resolve(item, seen) for item in value.value))
        return (value.kind, value.value)


_POSITIONAL: dict[str, tuple[ParamInfo, ...] | None] = {}


def _positional_parameters(info: CmdletInfo) -> tuple[ParamInfo, ...] | None:
    """Return the parameters positional arguments bind to, in order; None when that is ambiguous."""
    if info.name not in _POSITIONAL:
        ranked = sorted((p.position, p.name) for p in info.parameters.values() if p.position is not None)
        positions = [position for position, _ in ranked]
        # Several parameter sets sharing a position: the binding depends on run-time types.
        unambiguous = len(set(positions)) == len(positions)
        _POSITIONAL[info.name] = tuple(info.parameters[n] for _, n in ranked) if unambiguous else None
    return _POSITIONAL[info.name]


def _compare_twin(out: _Collector, tokens: list[psscan.Token], twin_tokens: list[psscan.Token],
                  text: str, twin: str) -> None:
    differing = 0
    clean = True
    for tok, twin_tok in zip(tokens, twin_tokens, strict=False):
        if tok.kind != twin_tok.kind:
            out.problem(out.char_line(tok.start),
                        f"differs from the harmless twin: {tok.kind} {_excerpt(tok.text)} where the twin "
                        f"has {twin_tok.kind} {_excerpt(twin_tok.text)} (user data changed the script's structure)")
            return
        if tok.text == twin_tok.text:
            continue
        differing += 1
        if tok.kind in _TWIN_MAY_DIFFER:
            continue
        if tok.kind == psscan.CODE and _DIGITS_RE.sub("0", tok.text) == _DIGITS_RE.sub("0", twin_tok.text):
            continue
        clean = False
        if tok.kind in psscan.STRING_KINDS:
            what = f"user data inside a {tok.kind} string {_excerpt(tok.text)}, where $( ) and backticks act"
        else:
            what = f"user data outside quotes: {_excerpt(tok.text)} vs twin {_excerpt(twin_tok.text)}"
        out.problem(out.char_line(tok.start), what)
    if len(tokens) != len(twin_tokens):
        shorter = min(len(tokens), len(twin_tokens))
        where = tokens[shorter].start if shorter < len(tokens) else len(text)
        out.problem(out.char_line(where), f"has {len(tokens)} tokens, the harmless twin {len(twin_tokens)}")
    elif clean:
        out.checked(_twin_equal(len(tokens), differing))


def _twin_equal(count: int, differing: int) -> str:
    return (f"token stream equals the harmless twin's ({count} tokens; {differing} differ, "
            "all inside single-quoted strings, numbers or comments)")


def _excerpt(text: str, width: int = 40) -> str:
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    return repr(flat if len(flat) <= width else flat[:width] + "...")
