"""The verifier's incremental parse (wizard.proof.psast._parse) gives what a parse from nothing gives.

A script is parsed again after every edit of its plan; the verifier starts from the last tree of
that script and lets tree-sitter re-parse only the changed lines. These tests hold that to the
tree a parse from nothing gives, node for node (type and byte span), and to the facts and the
verification report drawn from it: on the bundle's own scripts edited in the ways a plan changes
them (a value in one line, a run of lines, the first and the last line) and with hostile text
that ends strings, opens here-strings or comments, or breaks the syntax. The attacks at the end
(docs/security-testing.md): a tree with an error never starts the next parse (another plan's broken
script), other line breaks, wide characters and long runs inside lines, hostile plans verified one
after another, and threads verifying scripts of the same names at once.
"""
from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.attack_helpers import CHEAP, RENDERING, TEXT_SLOTS, base_doc, examples, hostile_text, set_path
from wizard.caches import ByteLRU, MiB, clear_all
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


# ---------------------------------------------------------------------------
# Attacks (docs/security-testing.md, "The verifier's kept syntax trees")

# Lines that break a script, and rows of two scripts to put them in: a plan whose script fails to parse
# (another user's, rendered just before) must not change the tree of the next script of that name.
_BROKEN = ("<#", "'unterminated", "@'", "if ($x) {", "\u2018")


def test_a_tree_with_an_error_is_not_where_the_next_parse_starts() -> None:
    # Error recovery leaves nodes an incremental parse reused: a `{` or a statement block holding the blank
    # before it (spans one byte off), for 241 of 1,408 such pairs over the s01 scripts before the fix.
    parser, _ = psast._machinery()
    differ = []
    for name in ("adfs-server.ps1", "lync-management-shell.ps1"):
        lines = SCRIPTS[name].split("\n")
        good = SCRIPTS[name].encode()
        for broken in _BROKEN:
            for row in range(0, len(lines), max(1, len(lines) // 12)):
                changed = list(lines)
                changed[row] = broken
                psast._TREES.clear()
                psast._parse(parser, "\n".join(changed).encode(), name)
                if list(_nodes(psast._parse(parser, good, name).root_node)) != _fresh(good):
                    differ.append((name, broken, row))
    assert not differ


# Characters that end a line for PowerShell or for a reader but not for tree-sitter's rows (which count
# LF only, as _line_edits does), multi-byte UTF-8 (columns are bytes), and long runs.
_ODD = ("\r", "\r\n", "\u2028", "\u2029", "\u0085", "\v", "\f", "\x00", "\u00e9", "\u4f8b", "\U0001f600",
        "e\u0301", "\ufeff", "\u202e", "@'", "'@", '@"', '"@', "<#", "#>", "'", '"', "\u2019", "`", "$(", "{", "}")


@given(data=st.data())
@settings(CHEAP, max_examples=examples(60))
def test_lines_with_other_line_breaks_and_wide_characters_give_the_tree_of_a_parse_from_nothing(
        data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    lines = SCRIPTS[name].split("\n")
    odd = st.lists(st.sampled_from(_ODD) | st.text(max_size=3) | st.sampled_from(lines)
                   | st.builds(lambda c, n: c * n, st.sampled_from(("x", "\u4f8b", "'", "\r")), st.integers(100, 5000)),
                   min_size=1, max_size=5).map("".join)
    texts = [SCRIPTS[name]]
    for _ in range(data.draw(st.integers(1, 3))):
        changed = texts[-1].split("\n")
        for row, insert in data.draw(st.lists(st.tuples(st.integers(0, len(lines) - 1), odd), min_size=1, max_size=4)):
            at = data.draw(st.integers(0, len(changed[row])))
            changed[row] = changed[row][:at] + insert.replace("\n", "\u2028") + changed[row][at:]
        texts.append("\n".join(changed))
    parser, _ = psast._machinery()
    for text in texts:
        source = text.encode("utf-8", "surrogatepass")
        assert list(_nodes(psast._parse(parser, source, name).root_node)) == _fresh(source)


def _rendered(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]] | None:
    """Return the verify_scripts arguments of a plan's bundle and its scripts, or None when the reader refuses it
    (what wizard.scripts.bundle._build verifies)."""
    from wizard.scripts.bundle import SCRIPT_SUFFIXES
    from wizard.scripts.rendering import harmless_twin, render_artifact, render_artifacts

    plan, _ = assess(copy.deepcopy(doc))
    if plan is None:
        return None
    source = Source(plan_name=plan.name, plan_ref="attack", revision=1, tool_version="attack")
    rendered = render_artifacts(plan, header=source.header())
    twin = harmless_twin(plan)
    twin_header = source.harmless(twin.name).header()
    scripts = {name: text for _, name, text in rendered if name.endswith(SCRIPT_SUFFIXES)}
    twins = {name: render_artifact(artifact, twin, header=twin_header)
             for artifact, name, _ in rendered if name.endswith(SCRIPT_SUFFIXES) and artifact.applies(twin)}
    return {"product": plan.product, "adfs_version": plan.adfs.version if plan.adfs else None,
            "twin_scripts": twins, "portable": {name for a, name, _ in rendered if a.portable}}, scripts


def _verify(scripts: dict[str, str], arguments: dict[str, Any], *, kept: bool) -> verify.VerifyReport:
    """Verify without the kept results, starting from the kept trees (`kept`) or with none kept."""
    verify._RESULTS.clear()
    if kept:
        return verify.verify_scripts(scripts, **arguments)
    with patch.object(psast, "_TREES", ByteLRU("no trees", 0)):
        return verify.verify_scripts(scripts, **arguments)


@given(data=st.data())
@settings(RENDERING, max_examples=examples(12))
def test_hostile_plans_one_after_another_verify_and_parse_as_from_nothing(data: st.DataObject) -> None:
    # Several users' plans rendered in one worker, one after the other: each script starts from the tree of
    # the last plan's script of that name. Some plans carry hostile text in their free-text fields; some
    # scripts are broken in one line (a render the verifier refuses, whose tree is the one left).
    parser, _ = psast._machinery()
    trees: ByteLRU[str, Any] = ByteLRU("trees for the node check", 12 * MiB)
    clear_all()
    for _ in range(data.draw(st.integers(2, 4), label="plans")):
        doc = base_doc("base")
        for slot in data.draw(st.lists(st.sampled_from([s for s in TEXT_SLOTS if s.doc == "base"]), max_size=3)):
            set_path(doc, slot.path, slot.raw(data.draw(hostile_text(max_pieces=4, breaking=False), label=slot.path)))
        rendered = _rendered(doc)
        if rendered is None:
            continue
        arguments, scripts = rendered
        if data.draw(st.booleans(), label="break a script"):
            name = data.draw(st.sampled_from(sorted(scripts)))
            lines = scripts[name].split("\n")
            lines[data.draw(st.integers(0, len(lines) - 1))] = data.draw(st.sampled_from(_BROKEN))
            scripts[name] = "\n".join(lines)
        assert _verify(scripts, arguments, kept=True) == _verify(scripts, arguments, kept=False)
        with patch.object(psast, "_TREES", trees):
            for name, text in scripts.items():
                source = text.encode("utf-8", "surrogatepass")
                assert list(_nodes(psast._parse(parser, source, name).root_node)) == _fresh(source), name


def test_threads_verifying_scripts_of_one_name_report_as_one_thread_does() -> None:
    # A server worker runs four threads: plans verified at once share the kept tree of each script name.
    docs = [base_doc("base"), {**base_doc("base"), "name": "Another plan \u2019; $(calc) #"},
            {**base_doc("base"), "name": "A third plan"}, base_doc("modern")]
    plans = [rendered for rendered in map(_rendered, docs) if rendered is not None]
    assert len(plans) == 4
    clear_all()
    expected = [_verify(scripts, arguments, kept=False) for arguments, scripts in plans]
    problems: list[str] = []

    def run(i: int) -> None:
        arguments, scripts = plans[i % 4]
        for round_ in range(6):
            for name, text in scripts.items():
                report = verify.verify_scripts({name: text}, **{**arguments, "twin_scripts": {
                    name: arguments["twin_scripts"][name]} if name in arguments["twin_scripts"] else {}})
                if report.problems != tuple(p for p in expected[i % 4].problems if p.startswith(f"{name}:")):
                    problems.append(f"thread {i} round {round_}: {name}: {report.problems}")
            verify._RESULTS.clear()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not problems
    assert psast._TREES.hits
