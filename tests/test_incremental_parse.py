"""The verifier's incremental parse (wizard.proof.psast._parse) gives what a parse from nothing gives.

A script is parsed again after every edit of its plan; the verifier starts from the last tree of
that script and lets tree-sitter re-parse only the changed lines. These tests hold that to the
tree a parse from nothing gives, node for node (type and byte span), and to the facts and the
verification report drawn from it: on the bundle's own scripts edited in the ways a plan changes
them (a value in one line, a run of lines, the first and the last line) and with hostile text
that ends strings, opens here-strings or comments, or breaks the syntax.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.attack_helpers import CHEAP, examples, hostile_text
from wizard.caches import clear_all
from wizard.plan.engine import assess
from wizard.proof import psast, verify
from wizard.scripts.bundle import Source, build_bundle

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "tests" / "fixtures" / "plans"


def _nodes(node: Any) -> Iterator[tuple[str, int, int, bool]]:
    """Every node of a tree, in order, as (type, start, end, missing)."""
    cursor = node.walk()
    while True:
        n = cursor.node
        yield (n.type, n.start_byte, n.end_byte, n.is_missing)
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def _fresh(source: bytes) -> list[tuple[str, int, int, bool]]:
    parser, _ = psast._machinery()
    return list(_nodes(parser.parse(source).root_node))


def _incremental(name: str, before: bytes, after: bytes) -> tuple[list[tuple[str, int, int, bool]], bool]:
    """Parse `before`, then `after` as the next text of script `name`; return the second tree's nodes and
    whether the parse started from the first tree."""
    parser, _ = psast._machinery()
    psast._TREES.clear()
    psast._parse(parser, before, name)
    reused = psast._line_edits(before, after) is not None
    return list(_nodes(psast._parse(parser, after, name).root_node)), reused


def _scripts(doc: dict[str, Any]) -> dict[str, str]:
    plan, findings = assess(copy.deepcopy(doc))
    assert plan is not None
    built = build_bundle(plan, source=Source.for_plan(plan), findings=findings)
    return {name: text for name, text in built.texts.items() if name.endswith(".ps1")}


SCRIPTS = _scripts(json.loads((PLANS / "s01-passive-extranet-mfa.json").read_text(encoding="utf-8")))
NAMES = sorted(SCRIPTS)


@pytest.fixture(autouse=True)
def _nothing_kept() -> Iterator[None]:
    psast._TREES.clear()
    yield
    psast._TREES.clear()


def test_a_plan_renamed_gives_the_same_trees_and_starts_from_the_last() -> None:
    doc = json.loads((PLANS / "s01-passive-extranet-mfa.json").read_text(encoding="utf-8"))
    renamed = _scripts({**doc, "name": "Another name \u2019; Remove-Item C:\\ #"})
    for name in NAMES:
        before, after = SCRIPTS[name].encode(), renamed[name].encode()
        if before == after:
            continue   # the state collector is the same for every plan
        nodes, reused = _incremental(name, before, after)
        assert reused, name
        assert nodes == _fresh(after), name


@given(data=st.data())
@settings(CHEAP, max_examples=examples(60))
def test_any_run_of_lines_replaced_gives_the_tree_of_a_parse_from_nothing(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    lines = SCRIPTS[name].split("\n")
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(lines) - 1),
                                         hostile_text(max_pieces=3, breaking=False) | st.sampled_from(lines)),
                               min_size=1, max_size=4))
    changed = list(lines)
    for row, text in edits:
        changed[row] = text.replace("\n", " ").replace("\r", " ")
    before, after = SCRIPTS[name].encode(), "\n".join(changed).encode("utf-8", "surrogatepass")
    nodes, _ = _incremental(name, before, after)
    assert nodes == _fresh(after)


def test_the_first_and_the_last_line_changed() -> None:
    name = NAMES[0]
    lines = SCRIPTS[name].split("\n")
    for rows in ((0,), (len(lines) - 1,), (0, len(lines) - 1)):
        changed = list(lines)
        for row in rows:
            changed[row] = "$x = 'end' # a new last line" if row else "# a new first line"
        after = "\n".join(changed).encode()
        nodes, reused = _incremental(name, SCRIPTS[name].encode(), after)
        assert reused and nodes == _fresh(after), rows


def test_a_broken_script_reports_the_errors_of_a_parse_from_nothing() -> None:
    name = "lync-management-shell.ps1"
    lines = SCRIPTS[name].split("\n")
    for broken in ("@'", "<#", "if ($x) {", "'unterminated", "$(", "\u2018"):
        found = 0
        for row in range(len(lines) // 3, len(lines), len(lines) // 7):
            changed = list(lines)
            changed[row] = broken
            text = "\n".join(changed)
            psast._TREES.clear()
            psast.analyse(SCRIPTS[name], name=name)
            incremental = psast.analyse(text, name=name)
            assert incremental.errors == psast.analyse(text).errors, (broken, row)
            found += bool(incremental.errors)
        assert found, broken


def test_a_text_with_other_lines_is_parsed_from_nothing() -> None:
    name = NAMES[0]
    text = SCRIPTS[name]
    assert psast._line_edits(text.encode(), (text + "\n$extra = 1").encode()) is None
    # Most lines changed: nothing to gain from the old tree.
    assert psast._line_edits(text.encode(), "\n".join("# x" for _ in text.split("\n")).encode()) is None


def test_the_verification_report_is_the_same_from_the_last_tree() -> None:
    # Verify the hostile example right after the s01 example (each script starting from the other's tree where
    # their lines line up), and again with nothing kept: the reports are the same.
    hostile = _scripts(json.loads((PLANS / "hostile.json").read_text(encoding="utf-8")))
    clear_all()
    verify.verify_scripts(SCRIPTS, product="sfb2019", adfs_version="2012r2")
    verify._RESULTS.clear()   # the results, not the trees
    from_last = verify.verify_scripts(hostile, product="sfb2019", adfs_version="2012r2")
    assert psast._TREES.hits, "no script started from a kept tree"
    clear_all()
    assert from_last == verify.verify_scripts(hostile, product="sfb2019", adfs_version="2012r2")
