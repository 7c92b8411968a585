"""Check a bundle: the server says whether files are byte for byte an approved revision's bundle."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.base import BaseTestCase, current_version, make_plan, plan_doc, set_draft
from wizard.review import bundlecheck, services
from wizard.review.bundlecheck import NotABundle, check_files, files_from_zip


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class BundleCheckTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = make_plan()
        self.revision = services.save_revision(self.plan, draft_version=current_version(self.plan), by=self.alice,
                                               message="r1")
        services.submit_for_review(self.revision, by=self.alice)
        services.approve(self.revision, by=self.bob, comment="CAB-1")
        self.approved = services.download_approved(self.revision, by=self.alice).content
        self.files = files_from_zip(self.approved)

    def test_the_approved_download_is_genuine_and_says_by_whom_and_when(self) -> None:
        verdict = check_files(self.files)
        self.assertTrue(verdict.genuine, verdict.differences)
        self.assertIn("byte for byte, the bundle of revision 1", verdict.summary)
        self.assertIn("Bob Reviewer", verdict.summary)
        self.assertEqual(verdict.differences, [])

    def _second_revision(self, *, approve: bool) -> None:
        set_draft(self.plan, plan_doc(name="Contoso, second change"), by=self.alice)
        second = services.save_revision(self.plan, draft_version=current_version(self.plan), by=self.alice,
                                        message="r2")
        services.submit_for_review(second, by=self.alice)
        if approve:
            services.approve(second, by=self.bob, comment="CAB-2")

    def test_a_genuine_older_bundle_says_a_newer_revision_was_approved_since(self) -> None:
        self._second_revision(approve=True)
        verdict = check_files(self.files)
        self.assertTrue(verdict.genuine, verdict.differences)
        self.assertIn("byte for byte, the bundle of revision 1", verdict.summary)
        self.assertIn("not the plan's latest approved change: revision 2 of \u201cContoso, second change\u201d was "
                      "approved after it, by Bob Reviewer", verdict.summary)
        self.assertEqual(verdict.newer_approved.number, 2)
        self.client.force_login(self.alice)
        page = self.client.post(reverse("check-bundle"),
                                {"file": SimpleUploadedFile("b.zip", self.approved, "application/zip")})
        self.assertContains(page, "download the approved bundle of revision 2")
        out = io.StringIO()
        call_command("check_bundle", self._write(self.approved), stdout=out)
        self.assertIn("revision 2", out.getvalue())

    def test_a_newer_revision_not_approved_or_whose_approval_was_withdrawn_is_not_mentioned(self) -> None:
        self._second_revision(approve=False)
        verdict = check_files(self.files)
        self.assertTrue(verdict.genuine)
        self.assertNotIn("revision 2", verdict.summary)
        self.assertIsNone(verdict.newer_approved)
        second = self.plan.revisions.get(number=2)
        services.approve(second, by=self.bob, comment="CAB-2")
        self.assertEqual(check_files(self.files).newer_approved, second)
        services.withdraw_approval(second, by=self.bob, comment="revoked")
        verdict = check_files(self.files)
        self.assertTrue(verdict.genuine)
        self.assertNotIn("revision 2", verdict.summary)

    def _write(self, data: bytes) -> str:
        import tempfile

        handle = tempfile.NamedTemporaryFile(suffix=".zip", delete=False)
        self.addCleanup(Path(handle.name).unlink)
        handle.write(data)
        handle.close()
        return handle.name

    def test_a_script_changed_with_sums_and_approval_changed_to_match_is_caught(self) -> None:
        files = dict(self.files)
        script = next(n for n in files if n.endswith(".ps1"))
        files[script] = files[script].replace(b"Set-", b"Remove-", 1)
        lines = [f"{hashlib.sha256(files[n]).hexdigest()}  {n}" for n in files if n not in ("SHA256SUMS",
                                                                                             "APPROVAL.json")]
        files["SHA256SUMS"] = ("\n".join(lines) + "\n").encode()
        record = json.loads(files["APPROVAL.json"])
        record["bundle_sha256"] = hashlib.sha256(files["SHA256SUMS"]).hexdigest()
        files["APPROVAL.json"] = json.dumps(record, indent=2).encode()
        verdict = check_files(files)
        self.assertFalse(verdict.genuine)
        self.assertIn("NOT the approved bundle", verdict.summary)
        self.assertIn(f"{script}: differs from the approved file", verdict.differences)
        self.assertIn("SHA256SUMS: differs from the approved file", verdict.differences)
        self.assertIn("APPROVAL.json: differs from the approved file", verdict.differences)

    def test_missing_and_extra_files_are_listed(self) -> None:
        files = dict(self.files)
        del files["runbook.md"]
        files["extra.ps1"] = b"Write-Host hi"
        verdict = check_files(files)
        self.assertFalse(verdict.genuine)
        self.assertIn("runbook.md: missing", verdict.differences)
        self.assertIn("extra.ps1: not part of the approved bundle", verdict.differences)

    def test_an_unapproved_or_withdrawn_revision_is_not_genuine(self) -> None:
        services.withdraw_approval(self.revision, by=self.bob, comment="revoked")
        verdict = check_files(self.files)
        self.assertFalse(verdict.genuine)
        self.assertIn("not approved", verdict.summary)

    def test_a_draft_zip_matches_no_revision(self) -> None:
        self.client.force_login(self.alice)
        draft = self.client.get(reverse("plan-download-zip", args=[self.plan.code])).content
        self.assertFalse(check_files(files_from_zip(draft)).genuine)

    def test_the_page_answers_and_tells_a_stranger_nothing(self) -> None:
        url = reverse("check-bundle")
        self.client.force_login(self.alice)
        page = self.client.post(url, {"file": SimpleUploadedFile("b.zip", self.approved, "application/zip")})
        self.assertContains(page, 'data-genuine="true"')
        self.client.force_login(self.charlie)
        page = self.client.post(url, {"file": SimpleUploadedFile("b.zip", self.approved, "application/zip")})
        self.assertContains(page, "No revision you can see matches")
        self.assertNotContains(page, self.plan.name)
        bad = self.client.post(url, {"file": SimpleUploadedFile("b.zip", b"not a zip", "application/zip")})
        self.assertContains(bad, "not a zip archive", status_code=400)

    def test_a_damaged_approval_record_falls_back_to_the_hash_instead_of_failing(self) -> None:
        # A plan code that is no UUID made the query raise ValidationError, a revision of Infinity int()
        # an OverflowError, a record nested 100,000 deep json.loads a RecursionError: each a 500.
        url = reverse("check-bundle")
        self.client.force_login(self.alice)
        sums = self.files["SHA256SUMS"]
        for record in ('{"plan_code": "not-a-uuid", "revision": 1}', '{"plan_code": "\\u0000", "revision": 1}',
                       '{"plan_code": ["a"], "revision": 1}',
                       f'{{"plan_code": "{self.plan.code}", "revision": Infinity}}', "[" * 100_000):
            with self.subTest(record=record[:60]):
                files = {**self.files, "APPROVAL.json": record.encode()}
                self.assertFalse(check_files(files).genuine)
                page = self.client.post(url, {"file": SimpleUploadedFile("b.zip", _zip(files), "application/zip")})
                self.assertContains(page, "NOT the approved bundle")
                self.assertContains(page, "APPROVAL.json: differs from the approved file")
                alone = self.client.post(url, {"file": SimpleUploadedFile(
                    "b.zip", _zip({"APPROVAL.json": record.encode(), "SHA256SUMS": sums + b"x"}), "application/zip")})
                self.assertContains(alone, "No revision you can see matches")

    def test_a_zip_holding_a_file_twice_is_not_a_bundle(self) -> None:
        # A zip may hold two members of one name. Reading it into {name: bytes} kept the last and passed
        # it as genuine, while Expand-Archive (and "skip" in Explorer) leaves the first on disk: a
        # tampered script placed before the approved one ran under a "genuine" verdict.
        script = next(n for n in self.files if n.endswith(".ps1"))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive, self.assertWarns(UserWarning):
            archive.writestr(script, b"Remove-Item C:\\ -Recurse")
            for name, data in self.files.items():
                archive.writestr(name, data)
        with self.assertRaisesRegex(NotABundle, f"holds {script} twice"):
            files_from_zip(buffer.getvalue())
        self.client.force_login(self.alice)
        page = self.client.post(reverse("check-bundle"),
                                {"file": SimpleUploadedFile("b.zip", buffer.getvalue(), "application/zip")})
        self.assertContains(page, f"holds {script} twice", status_code=400)
        self.assertNotContains(page, 'data-genuine="true"', status_code=400)

    def test_a_zip_whose_compressed_data_is_damaged_is_not_a_bundle(self) -> None:
        # A corrupt deflate stream raised zlib.error and a corrupt LZMA one LZMAError, which the reader did not
        # catch: the page answered 500 (and the command crashed) instead of saying the zip cannot be read.
        text = b"Set-CsWebServiceConfiguration -Identity 'Global'\r\n" * 200
        for method, flip in ((zipfile.ZIP_DEFLATED, 0), (zipfile.ZIP_DEFLATED, 10), (zipfile.ZIP_LZMA, 10),
                             (zipfile.ZIP_BZIP2, 0)):
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", compression=method) as archive:
                archive.writestr("runbook.md", text)
            data = bytearray(buffer.getvalue())
            start = 30 + len("runbook.md") + flip   # the member's compressed bytes, after its local header
            data[start:start + 4] = bytes(b ^ 0xFF for b in data[start:start + 4])
            with self.subTest(method=method, flip=flip):
                with self.assertRaisesRegex(NotABundle, "the zip cannot be read"):
                    files_from_zip(bytes(data))
                self.client.force_login(self.alice)
                page = self.client.post(reverse("check-bundle"),
                                        {"file": SimpleUploadedFile("b.zip", bytes(data), "application/zip")})
                self.assertContains(page, "the zip cannot be read", status_code=400)

    def test_a_zip_whose_directory_is_damaged_is_not_a_bundle(self) -> None:
        # Reading the directory raised NotImplementedError for a version above what zipfile reads and
        # UnicodeDecodeError for a name flagged UTF-8 that is not, and an empty member name made ZipInfo.is_dir()
        # raise IndexError: each a 500 on the page.
        def central(data: bytes) -> int:
            return data.index(b"PK\x01\x02")

        versioned = bytearray(_zip({"runbook.md": b"x"}))
        at = central(bytes(versioned))
        versioned[at + 6:at + 8] = (109).to_bytes(2, "little")   # "version needed to extract": 10.9
        named = bytearray(_zip({"r\u00e9.md": b"x"}))
        at = central(bytes(named))
        named[at + 46] = 0xFF                                      # the name's first byte: no UTF-8
        for label, data in (("version", bytes(versioned)), ("name", bytes(named))):
            with self.subTest(label):
                with self.assertRaisesRegex(NotABundle, "not a zip archive"):
                    files_from_zip(data)
                self.client.force_login(self.alice)
                page = self.client.post(reverse("check-bundle"),
                                        {"file": SimpleUploadedFile("b.zip", data, "application/zip")})
                self.assertContains(page, "not a zip archive", status_code=400)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(zipfile.ZipInfo(""), b"x")
        self.assertEqual(files_from_zip(buffer.getvalue()), {"": b"x"})
        self.assertFalse(check_files({**self.files, "": b"x"}).genuine)

    def test_a_bundle_stays_genuine_after_its_people_are_renamed(self) -> None:
        # APPROVAL.json named the author, submitter and approver as their accounts are named now: renaming
        # the approver (a new surname) or an account made every bundle downloaded before read "NOT the
        # approved bundle ... Do not run them", and a new download of the same approval held other bytes.
        self.bob.last_name = "Renamed"
        self.bob.username = "bob.renamed"
        self.bob.save()
        self.alice.username = "alice.renamed"
        self.alice.save()
        verdict = check_files(self.files)
        self.assertTrue(verdict.genuine, verdict.differences)
        self.assertIn("Bob Reviewer", verdict.summary)
        again = files_from_zip(services.download_approved(self.revision, by=self.alice).content)
        self.assertEqual(again["APPROVAL.json"], self.files["APPROVAL.json"])
        record = json.loads(again["APPROVAL.json"])
        self.assertEqual((record["author"], record["submitted_by"], record["approved_by"]), ("alice", "alice", "bob"))

    def test_an_approver_with_the_longest_names_django_allows_can_approve(self) -> None:
        # 150 + 150 characters and the space between: the recorded full name must fit its column.
        self.bob.first_name, self.bob.last_name = "B" * 150, "R" * 150
        self.bob.save()
        plan = make_plan()
        revision = services.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        services.submit_for_review(revision, by=self.alice)
        self.assertEqual(len(services.approve(revision, by=self.bob).actor_name), 301)

    def test_the_command_checks_an_unpacked_folder(self) -> None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for name, data in self.files.items():
                (folder / name).write_bytes(data)
            out = io.StringIO()
            call_command("check_bundle", str(folder), stdout=out)
            self.assertIn("byte for byte", out.getvalue())
            (folder / "adfs-server.ps1").write_bytes(b"tampered")
            with self.assertRaises(CommandError):
                call_command("check_bundle", str(folder), stdout=io.StringIO())
            zipped = folder / "bundle.zip"
            zipped.write_bytes(_zip(self.files))
            call_command("check_bundle", str(zipped), stdout=io.StringIO())

    def test_a_folder_holding_far_more_than_a_bundle_is_refused_before_it_is_read(self) -> None:
        # A zip's files were bounded (MAX_BYTES), a folder's were not: a sparse file of gigabytes (no disk space
        # taken) was read whole into memory, and check_bundle ended in MemoryError.
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for name, data in self.files.items():
                (folder / name).write_bytes(data)
            with (folder / "padding.bin").open("wb") as handle:
                handle.truncate(bundlecheck.MAX_BYTES + 1)   # sparse: nothing written
            with self.assertRaisesRegex(NotABundle, "far more than a bundle"):
                bundlecheck.files_from_folder(folder)
            with self.assertRaisesRegex(CommandError, "not a bundle: the folder holds far more"):
                call_command("check_bundle", str(folder), stdout=io.StringIO())

    def test_the_runbook_tells_the_admin_to_check_the_bundle_first(self) -> None:
        runbook = self.files["runbook.md"].decode()
        before = runbook.split("## Steps, in order")[0]
        self.assertIn("Check a bundle", before)
        self.assertIn("manage.py check_bundle", before)
