"""Facts about a PowerShell script from one tree-sitter-powershell parse: errors, commands, strings.

Values are classified with psscan (PowerShell's own quoting rules), not with tree-sitter's
idea of a string, so a literal that tree-sitter and PowerShell read differently is never
trusted as a value; verify.py reports that disagreement separately.
"""
from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

import tree_sitter
import tree_sitter_powershell

from wizard.caches import ByteLRU, MiB
from wizard.proof import psscan
from wizard.proof.catalog import (
    VALUE_ARRAY,
    VALUE_BAREWORD,
    VALUE_BOOL,
    VALUE_EXPANDABLE,
    VALUE_INT,
    VALUE_NULL,
    VALUE_STRING,
    VALUE_UNKNOWN,
)

VALUE_VARIABLE = "variable"   # a plain `$name`, resolved later against earlier assignments

_QUERY = """
(command command_name: (command_name) @command)
(assignment_expression) @assign
(foreach_statement (variable) @loopvar)
(verbatim_string_characters) @single_quoted
(expandable_string_literal) @double_quoted
(verbatim_here_string_characters) @single_here
(expandable_here_string_literal) @double_here
"""
# Each string capture is named after the psscan kind of string it is.
_STRING_CAPTURES = (psscan.SINGLE_QUOTED, psscan.DOUBLE_QUOTED, psscan.SINGLE_HERE, psscan.DOUBLE_HERE)
_SINGLE_RE = psscan.SINGLE_QUOTED_RE
_QUOTES = psscan.SINGLE_QUOTES + psscan.DOUBLE_QUOTES
_VARIABLE_RE = re.compile(r"\$(?:[\w?]+:)?[\w?]+")
_CAST_VARIABLE_RE = re.compile(r"\[[\w.\[\]]+\]\s*(\$(?:[\w?]+:)?[\w?]+)")
# PowerShell numbers use ASCII digits only (CharExtensions.IsDecimalDigit).
_INT_RE = re.compile(r"[+-]?(?:[0-9]+|0x[0-9a-f]+)", re.IGNORECASE)
# Longer literals are out of every catalogued range; capping them keeps int() cheap and legal.
_MAX_DIGITS = 25
_CONSTANTS = {"$true": (VALUE_BOOL, True), "$false": (VALUE_BOOL, False), "$null": (VALUE_NULL, None)}
# The children of a command's `command_elements` that are its parameters and arguments.
_PARAMETER = "command_parameter"
_ARGUMENT_TYPES = frozenset({"array_literal_expression", "generic_token", "stop_parsing"})


def _text(node: Any) -> str:
    """Return the source text of a tree-sitter node."""
    return (node.text or b"").decode("utf-8")


# NamedTuples rather than frozen dataclasses: a big bundle makes tens of thousands of these.
class Value(NamedTuple):
    """An argument as far as it is known before run time."""

    kind: str          # a VALUE_* constant, or VALUE_VARIABLE
    value: Any = None  # decoded text, int, bool, variable name (lowercase), or tuple of Values


class Element(NamedTuple):
    """One element after a command name: a `-Parameter` (value None) or an argument."""

    offset: int                 # byte offset in the script
    parameter: str | None = None
    colon: bool = False         # `-Name:value`: the next argument is bound to this parameter
    value: Value | None = None


class Command(NamedTuple):
    """A command with a literal name, and its elements in order."""

    name: str
    offset: int
    elements: tuple[Element, ...]


class Assignment(NamedTuple):
    """`$name = value` (value None when the assignment is not a plain `=` of a literal)."""

    name: str
    offset: int
    value: Value | None


@dataclass
class ScriptFacts:
    """Everything verify.py needs from the tree-sitter parse of one script."""

    source: bytes
    errors: list[tuple[int, str]] = field(default_factory=list)       # (byte offset, message)
    events: list[Command | Assignment] = field(default_factory=list)  # in script order
    # top-level strings: byte span and psscan kind (SINGLE_QUOTED, ...), in order
    string_spans: list[tuple[int, int, str]] = field(default_factory=list)
    _line_starts: list[int] | None = None

    def line(self, offset: int) -> int:
        """Return the 1-based line of a byte offset."""
        if self._line_starts is None:
            self._line_starts = _line_starts(self.source)
        return bisect.bisect_right(self._line_starts, offset) + 1


def _line_starts(source: bytes) -> list[int]:
    """Return the byte offset after each line break (CR LF, CR or LF) of `source`, in order."""
    if b"\r" in source:
        return [m.end() for m in re.finditer(rb"\r\n|\r|\n", source)]
    # LF only (the common case): the offsets are the running sum of the line lengths.
    return list(itertools.accumulate(len(line) + 1 for line in source.split(b"\n")[:-1]))


@lru_cache(maxsize=1)
def _machinery() -> tuple[tree_sitter.Parser, tree_sitter.Query]:
    language = tree_sitter.Language(tree_sitter_powershell.language())
    return tree_sitter.Parser(language), tree_sitter.Query(language, _QUERY)


# The last syntax tree of each script name. A bundle is rendered again after every edit of its plan, and
# the new text of a script differs from the last in a few lines (a name, a value, the header): tree-sitter
# then re-parses only those lines and reuses the rest of the old tree (its incremental parsing, which gives
# the tree a parse from nothing gives). A tree weighs 30 to 46 times its source in memory (measured: a
# 100-pool bundle's scripts, twenty one-pool bundles'): the budget holds the trees of a one-pool bundle
# (about 260 KiB of scripts), and no script over 68 KiB is kept (a quarter of the budget), so a worker
# busy with 100-pool plans keeps only their small scripts' trees (docs/performance.md, memory).
_TREE_BYTES_PER_SOURCE_BYTE = 46
_TREES: ByteLRU[str, tuple[bytes, tree_sitter.Tree]] = ByteLRU("syntax trees", 12 * MiB)
# Past this share of changed lines, re-parsing the changes costs about what a parse from nothing does.
_MOST_CHANGED = 0.5


class _Edit(NamedTuple):
    """One run of changed whole lines, in the terms tree_sitter.Tree.edit takes."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


def _line_edits(old: bytes, new: bytes) -> list[_Edit] | None:
    """Return the edits that turn `old` into `new`, one per run of changed lines, last first; None when
    the two do not have the same number of lines or differ in most of them (a parse from nothing is
    then as cheap)."""
    old_lines = old.split(b"\n")
    new_lines = new.split(b"\n")
    if len(old_lines) != len(new_lines):
        return None
    changed = [row for row, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    if len(changed) > _MOST_CHANGED * len(old_lines):
        return None
    # Byte offset of the start of each line (and of the end of the text), in each text.
    old_at = [0, *itertools.accumulate(len(line) + 1 for line in old_lines)]
    new_at = [0, *itertools.accumulate(len(line) + 1 for line in new_lines)]
    old_at[-1] = len(old)
    new_at[-1] = len(new)
    runs: list[tuple[int, int]] = []
    for row in changed:
        if runs and runs[-1][1] == row:
            runs[-1] = (runs[-1][0], row + 1)
        else:
            runs.append((row, row + 1))

    def end_point(lines: list[bytes], end: int) -> tuple[int, int]:
        # A run ending before row `end` ends at that row's start; one reaching the end of the text (which has no
        # line break after it) at the end of its last line.
        return (end, 0) if end < len(lines) else (len(lines) - 1, len(lines[-1]))

    # Last run first: an edit moves only what follows it, so the earlier runs keep their old offsets.
    return [_Edit(old_at[first], old_at[end], old_at[first] + new_at[end] - new_at[first], (first, 0),
                  end_point(old_lines, end), end_point(new_lines, end))
            for first, end in reversed(runs)]


def _parse(parser: tree_sitter.Parser, source: bytes, name: str | None) -> tree_sitter.Tree:
    """Parse `source`, re-using the last tree of the script called `name` for the lines that did not change."""
    previous = _TREES.get(name) if name is not None else None
    tree = None
    if previous is not None:
        old_source, old_tree = previous
        edits = _line_edits(old_source, source)
        if edits is not None:
            edited = old_tree.copy()   # the cached tree stays as it is, for other threads
            for edit in edits:
                edited.edit(**edit._asdict())
            tree = parser.parse(source, edited)
            if tree.root_node.has_error:
                # Error recovery can differ between an incremental parse and one from nothing: the
                # errors reported are always those of a parse from nothing.
                tree = None
    if tree is None:
        tree = parser.parse(source)
    if name is not None and not tree.root_node.has_error:
        # Only a tree without an error is kept: error recovery leaves nodes (a token holding the blanks
        # before it, lexed in the error state) that an incremental parse reuses where a parse from nothing
        # gives others, even once the error is gone (tests/test_incremental_parse.py). The last tree
        # without one stays, with its own text.
        _TREES.put(name, (source, tree), _TREE_BYTES_PER_SOURCE_BYTE * len(source))
    return tree


def analyse(script: str, wanted: Callable[[str], bool] | None = None, *, name: str | None = None) -> ScriptFacts:
    """Parse `script` once and return its errors, commands, assignments and string spans.

    With `wanted`, only the commands whose name it accepts are listed (with their elements):
    nobody checks the others, and reading their arguments would cost more than the rest.
    With `name` (the script's file name), the parse starts from the last tree of that script
    and re-parses only the lines that changed.
    """
    parser, query = _machinery()
    source = script.encode("utf-8")
    tree = _parse(parser, source, name)
    facts = ScriptFacts(source=source)
    root = tree.root_node
    if root.has_error:
        _collect_errors(root, facts.errors)
    captures = tree_sitter.QueryCursor(query).captures(root)
    events: list[tuple[int, Command | Assignment]] = _commands(source, captures, wanted)
    for node in captures.get("assign", ()):
        assignment = _assignment(node)
        if assignment is not None:
            events.append((assignment.offset, assignment))
    for node in captures.get("loopvar", ()):
        # A foreach variable holds run-time values: forget any literal it had.
        events.append((node.start_byte, Assignment(_text(node).lower(), node.start_byte, None)))
    events.sort(key=_FIRST)
    facts.events = [event for _, event in events]
    facts.string_spans = _top_level_spans(captures)
    return facts


_FIRST = itemgetter(0)


def _commands(source: bytes, captures: dict[str, list[tree_sitter.Node]],
              wanted: Callable[[str], bool] | None) -> list[tuple[int, Command | Assignment]]:
    """Return every command with a literal name (only those `wanted` accepts), in script order,
    each with its own elements.

    The query captures each command's literal name (a `command_name` node); its command is the
    name's parent. The elements of a command are the parameters and arguments directly under its
    `command_elements` node (a command nested in a script block argument is a command of its
    own). Walking the children of the few wanted commands from Python costs less than capturing
    the elements of every command.
    """
    out: list[tuple[int, Command | Assignment]] = []
    # A script names the same few commands thousands of times: each name's answer is asked once.
    answers: dict[bytes, str | None] = {}
    # ... and passes the same arguments (-ErrorAction SilentlyContinue, an identity) over and over:
    # each (node type, text) is classified once (a Value is immutable, so it can be shared).
    values: dict[tuple[str, bytes], Value] = {}
    for name_node in captures.get("command", ()):
        raw = source[name_node.start_byte:name_node.end_byte]
        name = answers.get(raw, _UNASKED)
        if name is _UNASKED:
            text = raw.decode("utf-8")
            name = answers[raw] = text if wanted is None or wanted(text) else None
        if name is None:
            continue
        node = name_node.parent
        if node is None:   # a captured name always sits in its command
            continue
        elements: list[Element] = []
        holder = node.child_by_field_name("command_elements")
        if holder is not None:
            for child in holder.named_children:
                kind = child.type
                start, end = child.start_byte, child.end_byte
                if kind == _PARAMETER:
                    # `-Name:value` (also `-Name: value`): the colon binds the next argument.
                    elements.append(Element(start, source[start:end].decode("utf-8"), source[end:end + 1] == b":"))
                elif kind in _ARGUMENT_TYPES:
                    key = (kind, source[start:end])
                    value = values.get(key)
                    if value is None:
                        value = values[key] = classify(kind, key[1].decode("utf-8"))
                    elements.append(Element(start, None, False, value))
        offset = node.start_byte
        out.append((offset, Command(name, offset, tuple(elements))))
    return out


_UNASKED: Any = object()


def _collect_errors(root: tree_sitter.Node, errors: list[tuple[int, str]]) -> None:
    cursor = root.walk()
    while True:
        node = cursor.node
        assert node is not None
        if node.is_error:
            errors.append((node.start_byte, f"syntax error near {_excerpt(node.text)}"))
        elif node.is_missing:
            errors.append((node.start_byte, f"missing {node.type!r}"))
        if node.has_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def _excerpt(text: bytes | None) -> str:
    lines = (text or b"").decode("utf-8", "replace").splitlines()
    first = lines[0] if lines else ""
    return repr(first[:40] + ("..." if len(first) > 40 or len(lines) > 1 else ""))


def _top_level_spans(captures: dict[str, list[tree_sitter.Node]]) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for kind in _STRING_CAPTURES:
        # Each node is read once (byte_range: one call for both ends).
        spans += [(*node.byte_range, kind) for node in captures.get(kind, ())]
    # By start only, stable (a string and one nested in it never start at the same byte).
    spans.sort(key=_FIRST)
    out: list[tuple[int, int, str]] = []
    last_end = -1
    for span in spans:
        if span[0] >= last_end:   # strings nested in a "$( )" belong to the outer string
            out.append(span)
            last_end = span[1]
    return out


def _assignment(node: tree_sitter.Node) -> Assignment | None:
    left = node.child(0)
    operator = node.child(1)
    value = node.child_by_field_name("value")
    if left is None or operator is None:
        return None
    target = _text(left).strip()
    if not _VARIABLE_RE.fullmatch(target):
        cast = _CAST_VARIABLE_RE.fullmatch(target)   # `[string]$x = ...`
        if cast is None:
            return None
        target = cast.group(1)
    literal = None
    if operator.text == b"=" and value is not None:
        literal = classify(value.type, _text(value))
        if literal.kind == VALUE_UNKNOWN:
            literal = None
    return Assignment(target.lower(), node.start_byte, literal)


def classify(node_type: str, text: str) -> Value:
    """Return what a command argument or assigned expression is, from its node type and text."""
    if node_type == "generic_token":
        return Value(VALUE_BAREWORD, text)
    # Fast path for the commonest argument, one plain single-quoted string.
    if text[:1] == "'" and _SINGLE_RE.fullmatch(text):
        return Value(VALUE_STRING, psscan.decode_single_quoted(text[1:-1]))
    text = text.strip()
    scalar = _scalar(text)
    if scalar is not None:
        return scalar
    body = text
    if text.startswith("@(") and text.endswith(")"):
        body = text[2:-1].strip()
        if not body:
            return Value(VALUE_ARRAY, ())
    items = _split_list(body)
    if items is None or (len(items) < 2 and body is text):
        return Value(VALUE_UNKNOWN)
    values = tuple(_scalar(item) for item in items)
    if any(v is None for v in values):
        return Value(VALUE_UNKNOWN)
    return Value(VALUE_ARRAY, values)


def _scalar(text: str) -> Value | None:
    first = text[:1]
    if first == "$":
        lowered = text.lower()
        if lowered in _CONSTANTS:
            kind, constant = _CONSTANTS[lowered]
            return Value(kind, constant)
        if _VARIABLE_RE.fullmatch(text):
            return Value(VALUE_VARIABLE, lowered)
    elif _INT_RE.fullmatch(text):
        return Value(VALUE_INT, _int(text))
    # Only a string or here-string can still be a literal; anything else is an expression.
    if not text or not (first in _QUOTES or (first == "@" and text[1:2] in _QUOTES)):
        return None
    tokens = psscan.scan_coarse(text)
    if len(tokens) != 1 or tokens[0].error is not None or tokens[0].end != len(text):
        return None
    token = tokens[0]
    if token.kind in (psscan.SINGLE_QUOTED, psscan.SINGLE_HERE):
        return Value(VALUE_STRING, token.value)
    if token.kind in psscan.EXPANDABLE_KINDS:
        return Value(VALUE_EXPANDABLE, token.value)
    return None


def _int(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if len(digits) > _MAX_DIGITS:
        return sign * 10**_MAX_DIGITS
    return sign * int(digits, 16 if digits[:2].lower() == "0x" else 10)


def _split_list(text: str) -> list[str] | None:
    """Split `a, 'b', 3` at top-level commas (commas inside strings do not count)."""
    if "," not in text:
        return [text]
    items: list[str] = []
    start = 0
    for token in psscan.scan_coarse(text):
        if token.error is not None:
            return None
        if token.kind != psscan.CODE:
            continue
        if any(ch in token.text for ch in "(){}[]|;@"):
            return None
        for m in re.finditer(",", token.text):
            items.append(text[start:token.start + m.start()].strip())
            start = token.start + m.end()
    items.append(text[start:].strip())
    return items if all(items) else None
