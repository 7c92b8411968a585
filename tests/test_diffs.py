"""Diffs of plan documents and scripts: pure functions, no database."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from wizard.review import diffs

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plans"


def _plain(path: str, doc: object = None) -> str:
    return path.upper()


def _s01() -> dict:
    return json.loads((FIXTURES / "s01-passive-extranet-mfa.json").read_text(encoding="utf-8"))


def test_flatten_spells_paths_like_finding_fields():
    doc = {"name": "x", "pools": [{"fqdn": "a.contoso.com", "auth": {"external": "ntlm"}}], "sip_domains": ["c.com"]}
    assert diffs.flatten(doc) == {
        "name": "x",
        "pools[0].fqdn": "a.contoso.com",
        "pools[0].auth.external": "ntlm",
        "sip_domains[0]": "c.com",
    }


def test_flatten_keeps_an_emptied_list_or_object_as_a_leaf():
    assert diffs.flatten({"edge_pools": [], "simple_urls": {}}) == {"edge_pools": [], "simple_urls": {}}


def test_identical_documents_have_no_changes():
    doc = _s01()
    assert diffs.diff_data(doc, copy.deepcopy(doc), labeller=_plain) == []


def test_a_changed_setting_is_reported_with_both_values_and_its_label():
    old = _s01()
    new = copy.deepcopy(old)
    new["adfs"]["mfa"] = "always"
    [change] = diffs.diff_data(old, new, labeller=_plain)
    assert (change.path, change.kind, change.old, change.new) == ("adfs.mfa", diffs.CHANGED, "extranet", "always")
    assert change.label == "ADFS.MFA"
    assert (change.old_text, change.new_text) == ('"extranet"', '"always"')


def test_added_and_removed_settings_are_told_apart():
    old = {"name": "n", "office_web_apps_fqdn": "oos.contoso.com"}
    new = {"name": "n", "autodiscover_port": 80}
    changes = diffs.diff_data(old, new, labeller=_plain)
    kinds = {c.path: c.kind for c in changes}
    assert kinds == {"office_web_apps_fqdn": diffs.REMOVED, "autodiscover_port": diffs.ADDED}
    added = next(c for c in changes if c.kind == diffs.ADDED)
    removed = next(c for c in changes if c.kind == diffs.REMOVED)
    assert added.old_text == "" and added.new_text == "80"
    assert removed.new_text == "" and removed.old_text == '"oos.contoso.com"'


def test_true_and_one_are_different_settings():
    changes = diffs.diff_data({"x_flag": True}, {"x_flag": 1}, labeller=_plain)
    assert [c.kind for c in changes] == [diffs.CHANGED]


def test_a_new_pool_shows_each_of_its_settings_as_added():
    old = _s01()
    new = copy.deepcopy(old)
    new["pools"].append({"fqdn": "lyncpool02.contoso.com", "role": "director"})
    changes = diffs.diff_data(old, new, labeller=_plain)
    assert [(c.path, c.kind) for c in changes] == [
        ("pools[1].fqdn", diffs.ADDED), ("pools[1].role", diffs.ADDED),
    ]


def test_removed_paths_stay_near_their_old_place():
    old = {"a": 1, "b": 2, "c": 3}
    new = {"a": 1, "c": 4}
    assert [c.path for c in diffs.diff_data(old, new, labeller=_plain)] == ["b", "c"]


def test_no_document_on_one_side_means_everything_is_added():
    changes = diffs.diff_data(None, {"name": "n", "sip_domains": ["c.com"]}, labeller=_plain)
    assert [(c.path, c.kind) for c in changes] == [("name", diffs.ADDED), ("sip_domains[0]", diffs.ADDED)]


def test_default_labels_come_from_the_wizard_explanations():
    old = _s01()
    new = copy.deepcopy(old)
    new["pools"][0]["auth"]["external"] = "tls_dsk"
    [change] = diffs.diff_data(old, new)
    # The label names the pool by its host, not by an index, and is not the raw path.
    assert "lyncpool01" in change.label
    assert change.label != change.path


def test_an_unchanged_text_is_reported_unchanged():
    result = diffs.diff_text("a\nb\n", "a\r\nb\r\n", name="x.ps1")
    assert result.status == diffs.UNCHANGED and not result.changed and result.lines == ()


def test_a_changed_line_is_removed_then_added_in_the_unified_view():
    old = "one\ntwo\nthree\n"
    new = "one\nTWO\nthree\n"
    result = diffs.diff_text(old, new, name="a.ps1", old_label="r1", new_label="r2")
    assert result.status == diffs.CHANGED
    assert [(line.kind, line.text) for line in result.lines] == [
        ("hunk", "@@ -1,3 +1,3 @@"),
        (diffs.CONTEXT, "one"),
        (diffs.REMOVED, "two"),
        (diffs.ADDED, "TWO"),
        (diffs.CONTEXT, "three"),
    ]
    assert result.unified.splitlines()[:2] == ["--- r1/a.ps1", "+++ r2/a.ps1"]
    assert "-two" in result.unified.splitlines() and "+TWO" in result.unified.splitlines()
    assert (result.added, result.removed) == (1, 1)


def test_line_numbers_follow_each_side():
    result = diffs.diff_text("a\nb\nc\n", "a\nx\ny\nb\nc\n")
    numbered = [(line.kind, line.text, line.old_no, line.new_no) for line in result.lines if line.kind != "hunk"]
    assert numbered == [
        (diffs.CONTEXT, "a", 1, 1),
        (diffs.ADDED, "x", None, 2),
        (diffs.ADDED, "y", None, 3),
        (diffs.CONTEXT, "b", 2, 4),
        (diffs.CONTEXT, "c", 3, 5),
    ]


def test_side_by_side_pairs_replaced_lines_and_leaves_gaps_for_insertions():
    result = diffs.diff_text("a\nb\nc\n", "a\nB\nB2\nc\n")
    rows = [r for r in result.rows if not r.hunk]
    shown = [((r.left.kind, r.left.text) if r.left else None, (r.right.kind, r.right.text) if r.right else None)
             for r in rows]
    assert shown == [
        ((diffs.CONTEXT, "a"), (diffs.CONTEXT, "a")),
        ((diffs.CHANGED, "b"), (diffs.CHANGED, "B")),
        (None, (diffs.CHANGED, "B2")),
        ((diffs.CONTEXT, "c"), (diffs.CONTEXT, "c")),
    ]


def test_distant_changes_make_separate_hunks_with_limited_context():
    old = "\n".join(f"line {i}" for i in range(1, 31)) + "\n"
    new = old.replace("line 2\n", "line two\n").replace("line 28\n", "line twenty-eight\n")
    result = diffs.diff_text(old, new, context=2)
    assert [line.text for line in result.lines if line.kind == "hunk"] == ["@@ -1,4 +1,4 @@", "@@ -26,5 +26,5 @@"]
    assert sum(1 for r in result.rows if r.hunk) == 2
    assert "line 15" not in [line.text for line in result.lines]


def test_script_sets_report_added_removed_and_unchanged_files_in_bundle_order():
    old = {"1-adfs.ps1": "a\n", "2-web.ps1": "w\n", "old.ps1": "gone\n"}
    new = {"0-preflight.ps1": "p\n", "1-adfs.ps1": "a\n", "2-web.ps1": "w2\n"}
    result = diffs.diff_scripts(old, new, old_label="r1", new_label="r2")
    assert [(f.name, f.status) for f in result] == [
        ("0-preflight.ps1", diffs.ADDED),
        ("1-adfs.ps1", diffs.UNCHANGED),
        ("2-web.ps1", diffs.CHANGED),
        ("old.ps1", diffs.REMOVED),
    ]
    added = result[0]
    assert [(line.kind, line.text) for line in added.lines if line.kind != "hunk"] == [(diffs.ADDED, "p")]
    removed = result[3]
    assert [(line.kind, line.text) for line in removed.lines if line.kind != "hunk"] == [(diffs.REMOVED, "gone")]


def test_plan_diff_knows_when_nothing_differs():
    same = diffs.diff_scripts({"a.ps1": "x\n"}, {"a.ps1": "x\n"})
    assert diffs.PlanDiff("r1", "r2", settings=[], scripts=same).identical
    changed = diffs.diff_scripts({"a.ps1": "x\n"}, {"a.ps1": "y\n"})
    plan_diff = diffs.PlanDiff("r1", "r2", settings=[], scripts=changed)
    assert not plan_diff.identical
    assert [f.name for f in plan_diff.changed_scripts] == ["a.ps1"]


# --- the compare page's summary, folding and marks within lines ---------------------------------

def test_a_change_reads_as_a_sentence():
    old = _s01()
    new = copy.deepcopy(old)
    new["adfs"]["mfa"] = "always"
    new["pools"][0]["auth"]["block_ntlm_at_registrar"] = False
    old["office_web_apps_fqdn"] = "oos.contoso.com"
    new["autodiscover_port"] = 80
    summary = diffs.change_summary(diffs.diff_data(old, new, labeller=lambda p, d=None: p))
    assert "adfs.mfa: extranet → always" in summary
    assert "pools[0].auth.block_ntlm_at_registrar: on → off" in summary
    assert "office_web_apps_fqdn: removed (was oos.contoso.com)" in summary
    assert "autodiscover_port: set to 80" in summary


def test_a_pool_added_whole_is_one_sentence():
    old = _s01()
    new = copy.deepcopy(old)
    pool = copy.deepcopy(old["pools"][0])
    pool["fqdn"] = "lyncpool02.contoso.com"
    new["pools"].append(pool)
    changes = diffs.diff_data(old, new)
    summary = diffs.change_summary(changes)
    added = [line for line in summary if line.startswith("Pool lyncpool02")]
    assert len(added) == 1 and added[0].startswith("Pool lyncpool02: added, ")
    assert len(summary) < len(changes)


def test_words_that_changed_within_a_line_are_marked():
    old = "Set-AdfsRelyingPartyTrust -TargetName 'Lync-Ext' -AdditionalAuthenticationRules $Extranet"
    new = "Set-AdfsRelyingPartyTrust -TargetName 'Lync-Ext' -AdditionalAuthenticationRules $Always"
    left, right = diffs.inline_changes(old, new)
    assert [s.text for s in left if s.kind == diffs.DELETED] == ["Extranet"]
    assert [s.text for s in right if s.kind == diffs.INSERTED] == ["Always"]
    assert "".join(s.text for s in left) == old and "".join(s.text for s in right) == new
    # Lines with little in common are not cut into marks.
    assert diffs.inline_changes("Write-Host 'a'", "$x = Get-Item -Path 'C:\\b' | Out-Null") == ((), ())


def test_script_rows_carry_the_marks_of_their_pair():
    diff = diffs.diff_text("a\n$Mfa = 'extranet'\nc\n", "a\n$Mfa = 'always'\nc\n", name="x.ps1")
    [row] = [r for r in diff.rows if r.left and r.left.kind == diffs.CHANGED]
    assert any(s.kind == diffs.DELETED and "extranet" in s.text for s in row.left.segments)
    assert any(s.kind == diffs.INSERTED and "always" in s.text for s in row.right.segments)
    removed = next(line for line in diff.lines if line.kind == diffs.REMOVED)
    assert any(s.kind == diffs.DELETED for s in removed.segments)


HEADER = """<#
.DESCRIPTION
    Plan:           {name}
    Plan reference: 3f0c
    Revision:       {rev}
    Generated by:   Lync/SfB external authentication planner 0.1.0
#>
$PlanRevision = '{rev}'
Set-CsWebServiceConfiguration -Identity 'service:WebServer:pool' -MaxValidityPeriodHours {hours}
"""


def test_a_file_changed_only_in_its_header_is_told_apart():
    old = HEADER.format(name="Contoso", rev=1, hours=720)
    header_only = diffs.diff_text(old, HEADER.format(name="Contoso", rev=2, hours=720), name="a.ps1")
    assert header_only.changed and header_only.header_only
    content = diffs.diff_text(old, HEADER.format(name="Contoso", rev=2, hours=8), name="a.ps1")
    assert content.changed and not content.header_only
    sums = diffs.diff_text("aa  a.ps1\n", "bb  a.ps1\n", name="SHA256SUMS")
    assert sums.header_only
    plan_diff = diffs.PlanDiff("r1", "r2", scripts=[header_only, content, sums,
                                                    diffs.diff_text("x\n", "x\n", name="b.ps1")])
    assert [f.name for f in plan_diff.content_changes] == ["a.ps1"]
    assert [f.header_only for f in plan_diff.header_changes] == [True, True]
    assert [f.name for f in plan_diff.unchanged_files] == ["b.ps1"]
