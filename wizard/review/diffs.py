"""Differences between two plan documents and between two sets of scripts.

Pure Python over plain data (dicts of JSON and dicts of text): no Django, no
database. Diffs are always computed from stored plan data, never stored.
"""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wizard.plan.writer import escape_json_text

# Kinds of a changed setting and of a line in a script diff.
ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
CONTEXT = "context"
UNCHANGED = "unchanged"

# (path, the document the path points into) -> display label
Labeller = Callable[[str, Any], str]


def label_for_path(path: str, doc: Any = None) -> str:
    """Return the wizard's label for a JSON path in `doc` (the path itself when there is none)."""
    try:
        from wizard.plan.explain import label_for
    except ImportError:  # the explanations module is optional for this pure module
        return path
    return label_for(path, doc) or path


# ---------------------------------------------------------------------------
# Settings


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """Return {JSON path: leaf value} for `doc`, paths spelled like finding fields.

    Objects become `a.b`, list items `a[0]`; an empty object or list is a leaf
    of its own so that "emptied" is a visible change.
    """
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        if not doc and prefix:
            out[prefix] = {}
        for key in doc:
            out.update(flatten(doc[key], f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(doc, list):
        if not doc and prefix:
            out[prefix] = []
        for i, item in enumerate(doc):
            out.update(flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix] = doc
    return out


def show_value(value: Any) -> str:
    """Return a leaf value as it reads in a plan file (JSON, as `dumps_json` writes it), for display."""
    return escape_json_text(json.dumps(value, ensure_ascii=False))


def value_words(value: Any) -> str:
    """Return a leaf value as a sentence says it: on/off, not set, a list joined by commas."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    if value is None:
        return "not set"
    if isinstance(value, list):
        return ", ".join(value_words(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "empty" if not value else show_value(value)
    # Shown, not hidden: a line separator, a bidi control or a zero-width character reads as its \uXXXX code.
    return escape_json_text(str(value))


@dataclass(frozen=True)
class FieldChange:
    """One setting that differs between two plan documents."""

    path: str
    label: str
    kind: str  # ADDED, REMOVED or CHANGED
    old: Any = None
    new: Any = None

    @property
    def sentence(self) -> str:
        """Return the change in words, e.g. "Multi-factor authentication: extranet → always"."""
        if self.kind == ADDED:
            return f"{self.label}: set to {value_words(self.new)}"
        if self.kind == REMOVED:
            return f"{self.label}: removed (was {value_words(self.old)})"
        return f"{self.label}: {value_words(self.old)} → {value_words(self.new)}"

    @property
    def old_text(self) -> str:
        """Return the old value as JSON text ('' when the setting was added)."""
        return "" if self.kind == ADDED else show_value(self.old)

    @property
    def new_text(self) -> str:
        """Return the new value as JSON text ('' when the setting was removed)."""
        return "" if self.kind == REMOVED else show_value(self.new)


def diff_data(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *,
              labeller: Labeller | None = None) -> list[FieldChange]:
    """Return the settings that differ between two plan documents, in document order.

    Paths present in both come in the order of `new`, removed ones after their
    old neighbours; `None` for a side means an empty document, and so does a draft that is not an object
    at all (it holds no setting; the reader says what is wrong with it).
    """
    label = labeller or label_for_path
    old_doc = dict(old) if isinstance(old, Mapping) else {}
    new_doc = dict(new) if isinstance(new, Mapping) else {}
    before, after = flatten(old_doc), flatten(new_doc)
    changes: list[FieldChange] = []
    for path in _merged_order(list(before), list(after)):
        if path not in before:
            changes.append(FieldChange(path, label(path, new_doc), ADDED, None, after[path]))
        elif path not in after:
            # A removed item is named as it was in the old document.
            changes.append(FieldChange(path, label(path, old_doc), REMOVED, before[path], None))
        elif not _same(before[path], after[path]):
            changes.append(FieldChange(path, label(path, new_doc), CHANGED, before[path], after[path]))
    return changes


_ITEM_RE = re.compile(r"^([a-z_]+\[\d+\])(?:\.|$)")


def change_summary(changes: list[FieldChange]) -> list[str]:
    """Return the settings changes in words, in document order, a list item added or removed whole
    said once ("Pool lyncpool02: added, 7 settings") instead of setting by setting."""
    by_item: dict[str, list[FieldChange]] = {}
    for change in changes:
        match = _ITEM_RE.match(change.path)
        if match:
            by_item.setdefault(match.group(1), []).append(change)
    whole = {item: group[0].kind for item, group in by_item.items()
             if len(group) > 1 and len({c.kind for c in group}) == 1 and group[0].kind in (ADDED, REMOVED)}
    out: list[str] = []
    said: set[str] = set()
    for change in changes:
        match = _ITEM_RE.match(change.path)
        item = match.group(1) if match else None
        if item in whole:
            if item not in said:
                said.add(item)
                count = len(by_item[item])
                name = change.label.split(" › ", 1)[0]
                out.append(f"{name}: {'added' if whole[item] == ADDED else 'removed'}, {count} settings")
            continue
        out.append(change.sentence)
    return out


def _same(a: Any, b: Any) -> bool:
    # JSON equality: True == 1 in Python, but `true` and `1` are different settings.
    return type(a) is type(b) and a == b


def _merged_order(old_paths: list[str], new_paths: list[str]) -> list[str]:
    """Return every path once: the new order, with removed paths kept near their old place."""
    matcher = difflib.SequenceMatcher(a=old_paths, b=new_paths, autojunk=False)
    merged: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            merged.extend(new_paths[j1:j2])
        else:
            merged.extend(p for p in old_paths[i1:i2] if p not in new_paths)
            merged.extend(new_paths[j1:j2])
    seen: set[str] = set()
    return [p for p in merged if not (p in seen or seen.add(p))]


# ---------------------------------------------------------------------------
# Scripts


# What a changed part of a line is: kept, or removed / added within a line that otherwise stayed.
SAME, DELETED, INSERTED = "same", "del", "ins"


@dataclass(frozen=True)
class Segment:
    """A piece of a changed line: SAME, or DELETED / INSERTED (the part that differs from its pair)."""

    kind: str
    text: str


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified script diff, classified for the template."""

    kind: str  # ADDED, REMOVED, CONTEXT, or "hunk" for a @@ header
    text: str
    old_no: int | None = None
    new_no: int | None = None
    segments: tuple[Segment, ...] = ()  # the changes within the line, when it has a counterpart


@dataclass(frozen=True)
class Cell:
    """One side of a side-by-side row."""

    kind: str  # ADDED, REMOVED, CHANGED or CONTEXT
    number: int
    text: str
    segments: tuple[Segment, ...] = ()  # the changes within the line, when it has a counterpart


_WORD_RE = re.compile(r"\w+|\s+|[^\w\s]")
# Below this similarity two paired lines are shown as wholly different, not as a few marked words.
_SIMILAR = 0.4


def inline_changes(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Return the two lines as segments, the words that differ marked; ((), ()) when they barely match."""
    a, b = _WORD_RE.findall(old), _WORD_RE.findall(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    if matcher.ratio() < _SIMILAR:
        return (), ()
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            left.append(Segment(SAME, "".join(a[i1:i2])))
            right.append(Segment(SAME, "".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(Segment(DELETED, "".join(a[i1:i2])))
        if j2 > j1:
            right.append(Segment(INSERTED, "".join(b[j1:j2])))
    return tuple(left), tuple(right)


# Lines that say where a file comes from (plan name and reference, revision, tool version): every
# file of a bundle repeats them, so a new revision changes every file there and nowhere else.
_HEADER_LINE_RE = re.compile(
    r"^\s*(?:(?:Plan|Plan reference|Revision|Generated by):\s"
    r"|- (?:Plan reference|Revision|Generated by):\s"
    r"|# (?:Runbook|Certificates|DNS records|Reverse proxy publishing):\s"
    r"|Revision .*, generated by the Lync/SfB external authentication planner\s"
    r"|\$(?:PlanName|PlanReference|PlanRevision|ToolVersion) = )")
# Files that only list the others' checksums: they change whenever any other file does.
CHECKSUM_FILES = ("SHA256SUMS",)


@dataclass(frozen=True)
class SideRow:
    """One row of a side-by-side diff; a side is None where that file has no line."""

    left: Cell | None
    right: Cell | None
    hunk: bool = False  # a separator row between hunks


@dataclass(frozen=True)
class FileDiff:
    """The difference of one file between two bundles."""

    name: str
    status: str  # ADDED, REMOVED, CHANGED or UNCHANGED
    unified: str = ""
    lines: tuple[DiffLine, ...] = ()
    rows: tuple[SideRow, ...] = ()
    added: int = 0
    removed: int = 0
    header_only: bool = False  # every changed line says where the file comes from (or it is SHA256SUMS)

    @property
    def changed(self) -> bool:
        """Return True when the file differs."""
        return self.status != UNCHANGED


def _split(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").splitlines()


def diff_text(old: str, new: str, *, name: str = "", old_label: str = "old", new_label: str = "new",
              context: int = 3) -> FileDiff:
    """Return the diff of one text file (line endings normalised first)."""
    a, b = _split(old), _split(new)
    if a == b:
        return FileDiff(name=name, status=UNCHANGED)
    unified = "\n".join(difflib.unified_diff(
        a, b, fromfile=f"{old_label}/{name}" if name else old_label,
        tofile=f"{new_label}/{name}" if name else new_label, n=context, lineterm=""
    ))
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    lines: list[DiffLine] = []
    rows: list[SideRow] = []
    added = removed = 0
    header_only = bool(a) and bool(b) and (name in CHECKSUM_FILES or all(
        all(_HEADER_LINE_RE.match(line) for line in (*a[i1:i2], *b[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"))
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        header = f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"
        lines.append(DiffLine("hunk", header))
        rows.append(SideRow(None, None, hunk=True))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for k in range(i2 - i1):
                    lines.append(DiffLine(CONTEXT, a[i1 + k], i1 + k + 1, j1 + k + 1))
                    rows.append(SideRow(Cell(CONTEXT, i1 + k + 1, a[i1 + k]), Cell(CONTEXT, j1 + k + 1, b[j1 + k])))
                continue
            # Lines replaced one for one: the words that changed within each pair are marked.
            pairs = [inline_changes(a[i1 + k], b[j1 + k]) if tag == "replace" else ((), ())
                     for k in range(min(i2 - i1, j2 - j1))]
            for k in range(i1, i2):
                lines.append(DiffLine(REMOVED, a[k], old_no=k + 1,
                                      segments=pairs[k - i1][0] if k - i1 < len(pairs) else ()))
            for k in range(j1, j2):
                lines.append(DiffLine(ADDED, b[k], new_no=k + 1,
                                      segments=pairs[k - j1][1] if k - j1 < len(pairs) else ()))
            removed += i2 - i1
            added += j2 - j1
            left_kind = CHANGED if tag == "replace" else REMOVED
            right_kind = CHANGED if tag == "replace" else ADDED
            for k in range(max(i2 - i1, j2 - j1)):
                pair = pairs[k] if k < len(pairs) else ((), ())
                left = Cell(left_kind, i1 + k + 1, a[i1 + k], pair[0]) if i1 + k < i2 else None
                right = Cell(right_kind, j1 + k + 1, b[j1 + k], pair[1]) if j1 + k < j2 else None
                rows.append(SideRow(left, right))
    return FileDiff(name=name, status=CHANGED, unified=unified, lines=tuple(lines), rows=tuple(rows),
                    added=added, removed=removed, header_only=header_only)


def diff_scripts(old: Mapping[str, str] | None, new: Mapping[str, str] | None, *, old_label: str = "old",
                 new_label: str = "new", context: int = 3) -> list[FileDiff]:
    """Return one FileDiff per file name of either bundle, in the new bundle's order.

    Files only in `old` come last, in their old order.
    """
    before, after = dict(old or {}), dict(new or {})
    names = [*after, *(n for n in before if n not in after)]
    out = []
    for name in names:
        if name not in before:
            diff = diff_text("", after[name], name=name, old_label=old_label, new_label=new_label, context=context)
            out.append(_with_status(diff, ADDED))
        elif name not in after:
            diff = diff_text(before[name], "", name=name, old_label=old_label, new_label=new_label, context=context)
            out.append(_with_status(diff, REMOVED))
        else:
            out.append(diff_text(before[name], after[name], name=name, old_label=old_label, new_label=new_label,
                                 context=context))
    return out


def _with_status(diff: FileDiff, status: str) -> FileDiff:
    return FileDiff(name=diff.name, status=status, unified=diff.unified, lines=diff.lines, rows=diff.rows,
                    added=diff.added, removed=diff.removed, header_only=False)


@dataclass(frozen=True)
class PlanDiff:
    """Everything the diff page shows: changed settings and changed scripts."""

    old_label: str
    new_label: str
    settings: list[FieldChange] = field(default_factory=list)
    scripts: list[FileDiff] = field(default_factory=list)

    @property
    def changed_scripts(self) -> list[FileDiff]:
        """Return only the files that differ."""
        return [f for f in self.scripts if f.changed]

    @property
    def content_changes(self) -> list[FileDiff]:
        """Return the files that differ in more than their header."""
        return [f for f in self.scripts if f.changed and not f.header_only]

    @property
    def header_changes(self) -> list[FileDiff]:
        """Return the files that differ only in their header (or only in checksums)."""
        return [f for f in self.scripts if f.changed and f.header_only]

    @property
    def unchanged_files(self) -> list[FileDiff]:
        """Return the files that are the same on both sides."""
        return [f for f in self.scripts if not f.changed]

    @property
    def summary(self) -> list[str]:
        """Return the settings changes in words (see change_summary)."""
        return change_summary(self.settings)

    @property
    def identical(self) -> bool:
        """Return True when neither the settings nor any script differ."""
        return not self.settings and not self.changed_scripts
