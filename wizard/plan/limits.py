"""Documented limits of a plan document, checked before anything else reads it.

A plan file comes from anywhere (an import, a hand-written file), and every page of a
plan reads its draft. These limits keep every page usable and every value storable:

* list sizes (`LIST_LIMITS`): more pools, Edge pools, policies or domains than any
  deployment this tool is for, and the pages stop being usable;
* `x_` data (any object key starting with `x_`, kept as it is) nested at most
  `MAX_DEPTH` levels: deeper data cannot be copied or written back safely;
* numbers must be finite: JSON has no NaN or Infinity, and neither PostgreSQL's nor
  SQLite's JSON accepts them (1e999 reads as Infinity);
* keys must be text that can be written as UTF-8 (no lone surrogate);
* at most `MAX_VALUES` values in the whole document.

Each problem is an error finding naming its path; a path that holds a key with a lone
surrogate shows it escaped, so that the message itself can always be written.
Pure: no Django.
"""
from __future__ import annotations

import math
import re
from typing import Any

from wizard.plan.finding import Finding, error
from wizard.plan.validators import INVISIBLE_CHARS

# Top-level list -> the most entries a plan may hold (docs/wizard.md, "Limits").
LIST_LIMITS: dict[str, int] = {"pools": 100, "edge_pools": 50, "mobility_policies": 100, "sip_domains": 200}
# Lists inside objects, by path.
NESTED_LIMITS: dict[str, int] = {"simple_urls.meet": 200}
MAX_DEPTH = 32
MAX_VALUES = 50_000

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# What a printed path may not hold as it is: a key of the file (an unknown field) may hold a line
# break, a terminal escape, an invisible character or a lone surrogate, and paths are printed one
# finding per line (and must be writable as UTF-8).
# (U+2065, unassigned, as well: nothing printed should hold it.)
_UNPRINTABLE_RE = re.compile(f"[\x00-\x1f{INVISIBLE_CHARS}\u2065\ud800-\udfff]")
_LABELS = {"pools": "pools", "edge_pools": "Edge pools", "mobility_policies": "mobility policies",
           "sip_domains": "SIP domains", "simple_urls.meet": "meeting URLs"}


def printable(text: str) -> str:
    """Return `text` (a plan path or key) with every character that may not be printed as it is written
    as a Python escape (\\n, \\x1b, \\u2029, \\ud800 for a lone surrogate); the one rule for printed paths."""
    return _UNPRINTABLE_RE.sub(_escape, text)


def _escape(m: re.Match[str]) -> str:
    return ascii(m.group())[1:-1]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def check_document(doc: Any) -> list[Finding]:
    """Return an error finding for every limit `doc` exceeds (empty when it keeps to all of them)."""
    if not isinstance(doc, dict):
        return []
    problems: list[Finding] = []
    for key, limit in LIST_LIMITS.items():
        value = doc.get(key)
        if isinstance(value, list) and len(value) > limit:
            problems.append(error("too_many", key, f"has {len(value)} entries; a plan holds at most {limit} "
                                                   f"{_LABELS[key]}"))
    urls = doc.get("simple_urls")
    meet = urls.get("meet") if isinstance(urls, dict) else None
    if isinstance(meet, list) and len(meet) > NESTED_LIMITS["simple_urls.meet"]:
        problems.append(error("too_many", "simple_urls.meet", f"has {len(meet)} entries; a plan holds at most "
                                                              f"{NESTED_LIMITS['simple_urls.meet']} meeting URLs"))
    if problems:
        return problems  # too long to read further: say only that
    # Walk the whole document without recursion: hostile data may be nested far deeper than
    # Python's own recursion limit.
    seen = 0
    stack: list[tuple[str, Any, int]] = [("", doc, 0)]
    while stack:
        path, value, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            problems.append(error("too_large", "(plan)", f"holds more than {MAX_VALUES} values; a plan is far "
                                                         f"smaller"))
            break
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(error("not_finite", path or "(plan)",
                                  "must be a finite number: NaN, Infinity and numbers as large as 1e999 cannot "
                                  "be stored"))
        elif isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                problems.append(error("too_deep", path or "(plan)", f"is nested more than {MAX_DEPTH} levels "
                                                                    f"deep; a plan is far flatter"))
                continue
            if isinstance(value, dict):
                for key, item in value.items():
                    text = key if isinstance(key, str) else str(key)
                    if _SURROGATE_RE.search(text):
                        problems.append(error("invalid_key", _join(path, printable(text)),
                                              "this key holds a lone surrogate character, which cannot be "
                                              "written as UTF-8"))
                        continue
                    stack.append((_join(path, text), item, depth + 1))
            else:
                stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return sorted(problems, key=lambda f: f.field)
