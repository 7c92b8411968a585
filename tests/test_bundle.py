"""The bundle: exact bytes, SHA256SUMS, determinism, the zip, refusals, and the golden files."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import shutil
import subprocess
import tempfile
import unittest
import zipfile
from pathlib import Path
from unittest import mock

from tests.test_rendering import make_doc, plan_of
from wizard.management.commands.update_goldens import (
    fixtures_dir,
    golden_bundle,
    goldens_dir,
)
from wizard.plan.model import PlanData
from wizard.plan.reader import load_plan
from wizard.plan.writer import dumps_plan
from wizard.proof.verify import VerifyReport, verify_scripts
from wizard.scripts import bundle as bundle_module
from wizard.scripts.artifacts import core
from wizard.scripts.bundle import (
    Bundle,
    PlanRejected,
    Source,
    VerificationFailed,
    build_bundle,
    bundle_zip,
    encode_file,
    render_plan_doc,
)
from wizard.scripts.rendering import md_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plans"
BOM = b"\xef\xbb\xbf"
SUMS_LINE_RE = re.compile(r"^([0-9a-f]{64})  (\S.*)$")


def core_only():
    """Limit the registry to the core scripts, so these tests exercise the bundle mechanics alone."""
    return mock.patch("wizard.scripts.artifacts.ARTIFACTS", list(core.ARTIFACTS))


def source_for(plan: PlanData) -> Source:
    return Source(plan_name=plan.name, plan_ref="8d7c6b5a-ref", revision=3, tool_version="1.2.3")


def s01() -> PlanData:
    plan, _ = load_plan((FIXTURES / "s01-passive-extranet-mfa.json").read_bytes())
    assert plan is not None
    return plan


class BundleBytesTests(unittest.TestCase):
    def setUp(self) -> None:
        patcher = core_only()
        patcher.start()
        self.addCleanup(patcher.stop)
        self.plan = s01()
        self.bundle = build_bundle(self.plan, source=source_for(self.plan))

    def test_files_come_in_run_order_then_the_bundle_files(self) -> None:
        self.assertEqual(list(self.bundle.files), [
            "adfs-server.ps1", "lync-management-shell.ps1", "runbook.md", "exposure.svg", "plan.json",
            "verification.json", "SHA256SUMS"])
        self.assertEqual(list(self.bundle.texts), list(self.bundle.files))

    def test_scripts_are_utf8_with_bom_and_crlf(self) -> None:
        for name in ("adfs-server.ps1", "lync-management-shell.ps1"):
            data = self.bundle.files[name]
            self.assertTrue(data.startswith(BOM))
            self.assertNotIn(b"\r\r", data)
            self.assertEqual(data.count(b"\n"), data.count(b"\r\n"))
            self.assertEqual(data[len(BOM):].decode("utf-8"), self.bundle.texts[name].replace("\n", "\r\n"))

    def test_other_files_are_utf8_without_bom_and_lf(self) -> None:
        for name in ("runbook.md", "exposure.svg", "plan.json", "verification.json", "SHA256SUMS"):
            data = self.bundle.files[name]
            self.assertFalse(data.startswith(BOM))
            self.assertNotIn(b"\r", data)
            self.assertEqual(data.decode("utf-8"), self.bundle.texts[name])

    def test_windows_tool_input_is_crlf_without_bom(self) -> None:
        self.assertEqual(encode_file("x.inf", "[NewRequest]\nA = 1\n"), b"[NewRequest]\r\nA = 1\r\n")
        self.assertEqual(encode_file("x.config", "<a/>\n"), b"<a/>\r\n")
        self.assertEqual(encode_file("x.md", "a\r\nb\n"), b"a\nb\n")

    def test_sha256sums_covers_every_other_file(self) -> None:
        lines = self.bundle.files["SHA256SUMS"].decode("ascii").splitlines()
        listed = {}
        for line in lines:
            match = SUMS_LINE_RE.match(line)
            self.assertIsNotNone(match, line)
            assert match
            listed[match.group(2)] = match.group(1)
        self.assertEqual(list(listed), [n for n in self.bundle.files if n != "SHA256SUMS"])
        for name, digest in listed.items():
            self.assertEqual(hashlib.sha256(self.bundle.files[name]).hexdigest(), digest)
        self.assertEqual(self.bundle.sha256, hashlib.sha256(self.bundle.files["SHA256SUMS"]).hexdigest())

    @unittest.skipUnless(shutil.which("sha256sum"), "sha256sum is not installed")
    def test_sha256sum_accepts_the_bundle(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            for name, data in self.bundle.files.items():
                Path(folder, name).write_bytes(data)
            result = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=folder,
                                    capture_output=True, text=True, check=False)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            Path(folder, "adfs-server.ps1").write_bytes(self.bundle.files["adfs-server.ps1"] + b"#")
            result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, check=False)
            self.assertNotEqual(result.returncode, 0)

    def test_plan_json_and_verification_json(self) -> None:
        self.assertEqual(self.bundle.texts["plan.json"], dumps_plan(self.plan))
        report = json.loads(self.bundle.texts["verification.json"])
        self.assertEqual(report, json.loads(json.dumps(self.bundle.report.to_dict())))
        self.assertTrue(report["ok"])

    def test_the_source_appears_in_every_header(self) -> None:
        for text in self.bundle.scripts.values():
            self.assertIn("Plan reference: 8d7c6b5a-ref", text)
            self.assertIn("Revision:       3", text)
            self.assertIn("planner 1.2.3", text)
        runbook = self.bundle.texts["runbook.md"]
        self.assertIn("- Plan reference: 8d7c6b5a-ref", runbook)
        self.assertIn("- Revision: 3", runbook)

    def test_the_runbook_lists_steps_in_run_order_with_machine_and_check(self) -> None:
        runbook = self.bundle.texts["runbook.md"]
        first = runbook.index("### 1. ")
        second = runbook.index("### 2. ")
        self.assertIn("adfs-server.ps1", runbook[first:second])
        self.assertIn("AD FS server (primary)", runbook[first:second])
        self.assertIn("lync-management-shell.ps1", runbook[second:])
        self.assertIn("Check afterwards:", runbook[second:])
        self.assertIn("## If something goes wrong", runbook)
        warnings = [f for f in self.bundle.findings if f.severity == "warning"]
        self.assertTrue(warnings)
        self.assertIn(f"Warnings ({len(warnings)}):", runbook)
        for finding in warnings:
            self.assertIn(f"- **{md_text(finding.field)}**: {md_text(finding.message)}", runbook)

    def test_the_same_plan_gives_the_same_bytes(self) -> None:
        again = build_bundle(s01(), source=source_for(self.plan))
        self.assertEqual(again.files, self.bundle.files)
        self.assertEqual(again.sha256, self.bundle.sha256)
        self.assertEqual(bundle_zip(again), bundle_zip(self.bundle))

    def test_a_different_source_gives_a_different_bundle(self) -> None:
        other = build_bundle(self.plan, source=Source(self.plan.name, "8d7c6b5a-ref", 4, "1.2.3"))
        self.assertNotEqual(other.sha256, self.bundle.sha256)

    def test_the_zip_is_sorted_dated_and_complete(self) -> None:
        data = bundle_zip(self.bundle, extra={"approval.json": b'{"approved_by": "bob"}\n'})
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            self.assertEqual(names, sorted(names))
            self.assertEqual(set(names), set(self.bundle.files) | {"approval.json"})
            for info in infos:
                self.assertEqual(info.date_time, (1980, 1, 1, 0, 0, 0))
                self.assertEqual(archive.read(info), ({**self.bundle.files,
                                                       "approval.json": b'{"approved_by": "bob"}\n'})[info.filename])
        self.assertNotIn("approval.json", self.bundle.texts["SHA256SUMS"])

    def test_an_extra_file_may_not_replace_a_bundle_file(self) -> None:
        with self.assertRaises(ValueError):
            bundle_zip(self.bundle, extra={"plan.json": b"{}"})


class RunbookTests(unittest.TestCase):
    def test_checks_and_later_scripts_get_their_own_instructions(self) -> None:
        lync = next(a for a in core.ARTIFACTS if a.key == "lync")
        check = dataclasses.replace(lync, key="check", filename="check.ps1", run_order=85, read_only=True,
                                    purpose="Read the settings back")
        undo = dataclasses.replace(lync, key="undo", filename="undo.ps1", run_order=95, purpose="Put things back")
        plan = s01()
        with mock.patch("wizard.scripts.artifacts.ARTIFACTS", [*core.ARTIFACTS, check, undo]):
            runbook = build_bundle(plan, source=source_for(plan)).texts["runbook.md"]
        steps, rest = runbook.split("## If something goes wrong")
        self.assertIn("### 3. Read the settings back", steps)
        check_step = steps[steps.index("### 3. "):]
        self.assertIn("it only reads and reports", check_step)
        self.assertNotIn("-WhatIf", check_step)
        self.assertNotIn("undo.ps1", steps)
        self.assertIn("- undo.ps1: Put things back. Run on: ", rest)


class RefusalTests(unittest.TestCase):
    def setUp(self) -> None:
        patcher = core_only()
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_a_plan_with_an_error_finding_is_rejected(self) -> None:
        plan = plan_of(make_doc(adfs={"federation_service_name": "adfs.contoso.com", "version": "2.0",
                                      "mfa": "extranet"}))
        with self.assertRaises(PlanRejected) as caught:
            build_bundle(plan, source=Source.for_plan(plan))
        self.assertIn("mfa_adfs20_unsupported", [f.code for f in caught.exception.errors])
        self.assertTrue(all(f.severity == "error" for f in caught.exception.errors))

    def test_an_invalid_document_is_rejected_with_every_error(self) -> None:
        doc = make_doc(product="lync2099")
        doc["pools"][0]["fqdn"] = "not a name"
        with self.assertRaises(PlanRejected) as caught:
            render_plan_doc(doc)
        fields = {f.field for f in caught.exception.errors}
        self.assertLessEqual({"product", "pools[0].fqdn"}, fields)
        self.assertIn("pools[0].fqdn: ", str(caught.exception))

    def test_a_bundle_that_fails_verification_is_never_returned(self) -> None:
        failing = VerifyReport(ok=False, catalog_version="test", checked=(), problems=("lync.ps1:1: broken",))
        plan = s01()
        with mock.patch.object(bundle_module, "verify_scripts", return_value=failing), \
                self.assertRaises(VerificationFailed) as caught:
            build_bundle(plan, source=Source.for_plan(plan))
        self.assertIs(caught.exception.report, failing)

    def test_verification_gets_every_script_and_its_harmless_twin(self) -> None:
        calls = []

        def spy(texts, **kwargs):
            calls.append((texts, kwargs))
            return verify_scripts(texts, **kwargs)

        plan = s01()
        with mock.patch.object(bundle_module, "verify_scripts", side_effect=spy):
            result = build_bundle(plan, source=source_for(plan))
        (texts, kwargs), = calls
        self.assertEqual(texts, result.scripts)
        self.assertEqual(kwargs["product"], "lync2013")
        self.assertEqual(kwargs["adfs_version"], "2012r2")
        twin = kwargs["twin_scripts"]
        self.assertEqual(set(twin), set(texts))
        for text in twin.values():
            for value in ("contoso", "Lync-Int", "Lync-Ext", "8d7c6b5a-ref", plan.name):
                self.assertNotIn(value, text)

    def test_render_plan_doc_uses_the_given_reference_and_revision(self) -> None:
        doc = json.loads((FIXTURES / "s02-tls-dsk-30-day-certificates.json").read_text(encoding="utf-8"))
        result = render_plan_doc(doc, plan_ref="abc", revision=12)
        self.assertIsInstance(result, Bundle)
        self.assertEqual((result.source.plan_ref, result.source.revision), ("abc", 12))
        self.assertIn("Revision:       12", result.texts["lync-management-shell.ps1"])


class HostileBundleTests(unittest.TestCase):
    def test_the_hostile_plan_makes_a_verified_bundle_with_an_inert_runbook(self) -> None:
        with core_only():
            plan, _ = load_plan((FIXTURES / "hostile.json").read_bytes())
            assert plan is not None
            result = build_bundle(plan, source=Source.for_plan(plan))
        self.assertTrue(result.report.ok)
        title = result.texts["runbook.md"].splitlines()[0]
        self.assertTrue(title.startswith("# Runbook: O'Brien"))
        self.assertNotIn("`whoami`", title)
        self.assertIn("\\`whoami\\`", title)
        self.assertNotIn("<#", title)


class GoldenTests(unittest.TestCase):
    """Every fixture's whole bundle, byte for byte. After an intended change run `make goldens` and review the diff."""

    def test_every_fixture_matches_its_golden_bundle(self) -> None:
        fixtures = sorted(fixtures_dir().glob("*.json"))
        self.assertTrue(fixtures)
        for path in fixtures:
            with self.subTest(fixture=path.name):
                folder = goldens_dir() / path.stem
                self.assertTrue(folder.is_dir(), f"no golden bundle for {path.name}: run `make goldens`")
                result = golden_bundle(path)
                on_disk = {p.name: p.read_bytes() for p in folder.iterdir()}
                self.assertEqual(sorted(on_disk), sorted(result.files),
                                 f"{path.name}: the bundle's files changed: run `make goldens` and review the diff")
                for name, data in result.files.items():
                    self.assertEqual(data, on_disk[name],
                                     f"{path.stem}/{name} differs from the golden file: run `make goldens` "
                                     "and review the diff")

    def test_the_goldens_are_a_real_bundle(self) -> None:
        for folder in sorted(p for p in goldens_dir().iterdir() if p.is_dir()):
            with self.subTest(golden=folder.name):
                self.assertTrue((FIXTURES / f"{folder.name}.json").exists(), f"stale golden folder {folder.name}")
                sums = (folder / "SHA256SUMS").read_text(encoding="ascii")
                for line in sums.splitlines():
                    digest, name = line.split("  ", 1)
                    self.assertEqual(hashlib.sha256((folder / name).read_bytes()).hexdigest(), digest)
