"""`manage.py render_plan` and `manage.py check_plan`: output, exit status, and nothing written on refusal.

The commands run as real processes (exit codes are part of the contract) with a
database URL that cannot be opened, which proves they never touch the database.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.test import SimpleTestCase, override_settings

from wizard.management.commands.update_goldens import golden_source
from wizard.plan.engine import read_document
from wizard.plan.reader import PLAN_MAX_BYTES, PlanUnreadable, load_plan
from wizard.scripts.bundle import Source, build_bundle

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "plans"
S01 = FIXTURES / "s01-passive-extranet-mfa.json"
S02 = FIXTURES / "s02-tls-dsk-30-day-certificates.json"


def manage(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run `manage.py args` with no usable database; return the finished process (output decoded)."""
    env = {**os.environ, "DATABASE_URL": "sqlite:////nonexistent-folder/no-database.sqlite3"}
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, check=False, timeout=120)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8"),
                                       done.stderr.decode("utf-8"))


def invalid_plan() -> bytes:
    doc = json.loads(S01.read_text(encoding="utf-8"))
    doc["product"] = "lync2010"
    doc["pools"][0]["fqdn"] = "bad name"
    doc["typo_field"] = 1
    return json.dumps(doc).encode("utf-8")


def blocked_plan() -> bytes:
    """A valid plan whose findings include an error: MFA on AD FS 2.0."""
    doc = json.loads(S01.read_text(encoding="utf-8"))
    doc["adfs"]["version"] = "2.0"
    return json.dumps(doc).encode("utf-8")


class CheckPlanTests(unittest.TestCase):
    def test_a_plan_with_warnings_only_exits_0(self) -> None:
        done = manage("check_plan", str(S01))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("warning: pools[0].auth.external: ", done.stdout)
        self.assertRegex(done.stdout, r"0 error\(s\), \d+ warning\(s\)")

    def test_json_output_is_one_array_of_findings(self) -> None:
        done = manage("check_plan", str(S01), "--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        findings = json.loads(done.stdout)
        self.assertIsInstance(findings, list)
        self.assertTrue(findings)
        for finding in findings:
            self.assertEqual(set(finding), {"severity", "code", "field", "message"})
            self.assertIn(finding["severity"], ("error", "warning", "info"))

    def test_errors_exit_1_and_are_all_listed(self) -> None:
        with tempfile.NamedTemporaryFile(suffix=".json") as handle:
            handle.write(invalid_plan())
            handle.flush()
            done = manage("check_plan", handle.name, "--json")
        self.assertEqual(done.returncode, 1, done.stderr)
        errors = {f["field"] for f in json.loads(done.stdout) if f["severity"] == "error"}
        self.assertLessEqual({"product", "pools[0].fqdn", "typo_field"}, errors)

    def test_a_blocking_finding_exits_1(self) -> None:
        done = manage("check_plan", "-", stdin=blocked_plan())
        self.assertEqual(done.returncode, 1)
        self.assertIn("error: adfs.mfa: ", done.stdout)

    def test_stdin_is_read_for_a_dash(self) -> None:
        done = manage("check_plan", "-", "--json", stdin=S02.read_bytes())
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(json.loads(done.stdout))

    def test_what_is_not_a_plan_at_all_exits_2(self) -> None:
        for label, data in (("not JSON", b"{not json"), ("an array", b"[1, 2]"), ("a string", b'"plan"'),
                            ("not UTF-8", b"\xff\xfe{}"), ("a key twice", b'{"name": "a", "name": "b"}')):
            with self.subTest(label):
                done = manage("check_plan", "-", stdin=data)
                self.assertEqual(done.returncode, 2, done.stdout + done.stderr)
                self.assertTrue(done.stderr.strip())

    def test_a_file_larger_than_a_plan_is_refused_without_being_read_whole(self) -> None:
        # The web import took at most 256 KB, the command line read any file whole: check_plan /dev/zero, or a
        # sparse file of gigabytes, ended in MemoryError. Now at most one byte more than a plan may hold is read.
        padded = S02.read_bytes() + b" " * PLAN_MAX_BYTES
        for command in (["check_plan", "-"], ["render_plan", "-", "--out", "/nonexistent-folder/never"]):
            with self.subTest(command[0]):
                done = manage(*command, stdin=padded)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertIn("a plan file is at most 256 KB", done.stderr)

        class Endless(io.RawIOBase):
            """Standard input that never ends (as /dev/zero): reading it whole never returns."""

            def readable(self) -> bool:
                return True

            def readinto(self, buffer: Any) -> int:
                buffer[:] = b" " * len(buffer)
                return len(buffer)

            def readall(self) -> bytes:
                raise AssertionError("the whole of an endless input was asked for")

        stdin = io.TextIOWrapper(io.BufferedReader(Endless()))
        with self.assertRaisesRegex(PlanUnreadable, "a plan file is at most 256 KB"):
            read_document("-", stdin=stdin)

    def test_a_missing_file_exits_2(self) -> None:
        done = manage("check_plan", str(ROOT / "tests" / "no-such-plan.json"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("no-such-plan.json", done.stderr)


class RenderPlanTests(unittest.TestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.tmp = Path(folder.name)

    def test_it_writes_the_whole_bundle(self) -> None:
        out = self.tmp / "bundle"
        done = manage("render_plan", str(S01), "--out", str(out))
        self.assertEqual(done.returncode, 0, done.stderr)
        plan, _ = load_plan(S01.read_bytes())
        assert plan is not None
        expected = build_bundle(plan, source=Source.for_plan(plan))
        written = {p.name: p.read_bytes() for p in out.iterdir()}
        self.assertEqual(written, expected.files)
        self.assertIn(f"bundle sha256 {expected.sha256}", done.stdout)
        for name in ("adfs-server.ps1", "lync-management-shell.ps1", "runbook.md", "plan.json",
                     "verification.json", "SHA256SUMS"):
            self.assertIn(name, written)

    def test_plan_reference_and_revision_reach_the_headers(self) -> None:
        out = self.tmp / "bundle"
        done = manage("render_plan", str(S02), "--out", str(out), "--plan-ref", "ref-42", "--revision", "5")
        self.assertEqual(done.returncode, 0, done.stderr)
        text = (out / "lync-management-shell.ps1").read_text(encoding="utf-8-sig")
        self.assertIn("Plan reference: ref-42", text)
        self.assertIn("Revision:       5", text)

    def test_a_hostile_plan_reference_or_revision_is_refused_by_its_option(self) -> None:
        # --plan-ref reaches every script's header comment and $PlanReference: it was taken as it came, a line
        # break in it made $PlanReference a string over two lines, a bidirectional override failed the tool's
        # own verification ("a fault in the tool"), and an argument that is not UTF-8 ended in a traceback.
        cases = {"line break": ("--plan-ref", "x\n#> Remove-Item C:\\ <#"),
                 "line separator": ("--plan-ref", "a\u2028b"),
                 "bidi override": ("--plan-ref", "a\u202eb"),
                 "not UTF-8": ("--plan-ref", os.fsdecode(b"a\xffb")),
                 "too long": ("--plan-ref", "r" * 201),
                 "revision 0": ("--revision", "0"),
                 "negative revision": ("--revision", "-3")}
        for label, (option, value) in cases.items():
            with self.subTest(label):
                out = self.tmp / "never"
                done = manage("render_plan", str(S02), "--out", str(out), option, value)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertTrue(done.stderr.startswith(f"{option}: "), done.stderr)
                self.assertNotIn("Traceback", done.stderr)
                self.assertFalse(out.exists())

    def test_stdin_is_read_for_a_dash(self) -> None:
        out = self.tmp / "from-stdin"
        done = manage("render_plan", "-", "--out", str(out), stdin=S02.read_bytes())
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue((out / "SHA256SUMS").is_file())

    def test_an_invalid_plan_writes_nothing_and_lists_every_error(self) -> None:
        out = self.tmp / "never"
        done = manage("render_plan", "-", "--out", str(out), stdin=invalid_plan())
        self.assertNotEqual(done.returncode, 0)
        self.assertFalse(out.exists())
        lines = done.stderr.splitlines()
        for field in ("product: ", "pools[0].fqdn: ", "typo_field: "):
            self.assertTrue(any(line.startswith(field) for line in lines), (field, lines))
        self.assertEqual(done.stdout, "")

    def test_a_blocking_finding_writes_nothing(self) -> None:
        out = self.tmp / "never"
        done = manage("render_plan", "-", "--out", str(out), stdin=blocked_plan())
        self.assertEqual(done.returncode, 1)
        self.assertFalse(out.exists())
        self.assertTrue(any(line.startswith("adfs.mfa: ") for line in done.stderr.splitlines()), done.stderr)

    def test_a_key_size_written_as_a_float_is_a_field_error_not_a_crash(self) -> None:
        out = self.tmp / "never"
        doc = json.loads(S02.read_text(encoding="utf-8"))
        doc["certificates"] = {"key_size": 4096.0}
        done = manage("render_plan", "-", "--out", str(out), stdin=json.dumps(doc).encode("utf-8"))
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertFalse(out.exists())
        self.assertTrue(any(line.startswith("certificates.key_size: ") for line in done.stderr.splitlines()),
                        done.stderr)
        self.assertNotIn("Traceback", done.stderr)

    def test_a_file_that_is_not_a_plan_writes_nothing(self) -> None:
        out = self.tmp / "never"
        done = manage("render_plan", "-", "--out", str(out), stdin=b"not json")
        self.assertEqual(done.returncode, 2)
        self.assertFalse(out.exists())

    def test_an_out_path_that_is_a_file_is_refused(self) -> None:
        target = self.tmp / "a-file"
        target.write_text("keep me", encoding="utf-8")
        done = manage("render_plan", str(S02), "--out", str(target))
        self.assertEqual(done.returncode, 1)
        self.assertEqual(target.read_text(encoding="utf-8"), "keep me")


class UpdateGoldensTests(SimpleTestCase):
    def test_it_writes_one_folder_per_fixture_and_drops_stale_ones(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            fixtures = base / "tests" / "fixtures" / "plans"
            fixtures.mkdir(parents=True)
            shutil.copy(S02, fixtures / "only.json")
            stale = base / "tests" / "golden" / "gone"
            stale.mkdir(parents=True)
            with override_settings(BASE_DIR=base):
                call_command("update_goldens", stdout=io.StringIO())
            self.assertFalse(stale.exists())
            plan, _ = load_plan(S02.read_bytes())
            assert plan is not None
            expected = build_bundle(plan, source=golden_source(plan))
            written = {p.name: p.read_bytes() for p in (base / "tests" / "golden" / "only").iterdir()}
            self.assertEqual(written, expected.files)
