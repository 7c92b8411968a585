"""Review-workflow holes found by the third attack, each with the test that failed before its fix."""
from __future__ import annotations

import io
import json
import zipfile
from unittest import mock

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tests.base import BaseTestCase, current_version, make_plan
from wizard.models import AuditEvent
from wizard.review import bundlecheck, state
from wizard.review import services as review


class DownloadRechecksUnderTheLockTests(BaseTestCase):
    """The approved download renders with no lock held; what it checked before rendering must still hold when it
    answers (docs/review.md: the transaction locks the plan row and checks the roles and the state again)."""

    def _approved(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        review.submit_for_review(revision, by=self.alice)
        review.approve(revision, by=self.bob)
        return plan, revision

    def test_an_approval_withdrawn_while_the_bundle_renders_is_not_downloaded(self):
        plan, revision = self._approved()
        real = review.render_revision

        def render_while_bob_withdraws(rev):
            rendered = real(rev)
            review.withdraw_approval(revision, by=self.bob, comment="withdrawn meanwhile")
            return rendered

        with mock.patch.object(review, "render_revision", render_while_bob_withdraws), \
                self.assertRaises(review.NotApproved):
            review.download_approved(revision, by=self.dave)
        self.assertFalse(AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.DOWNLOADED).exists())

    def test_a_member_removed_while_the_bundle_renders_gets_nothing(self):
        plan, revision = self._approved()
        real = review.render_revision

        def render_while_dave_is_removed(rev):
            rendered = real(rev)
            review.unshare_plan(plan, by=self.alice, group=self.personas.read_team)
            return rendered

        with mock.patch.object(review, "render_revision", render_while_dave_is_removed), \
                self.assertRaises(PermissionDenied):
            review.download_approved(revision, by=self.dave)
        self.assertFalse(AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.DOWNLOADED).exists())

    def test_an_approval_replaced_while_the_bundle_renders_gives_the_record_of_the_one_in_force(self):
        _, revision = self._approved()
        real = review.render_revision

        def render_while_approval_changes(rev):
            rendered = real(rev)
            review.withdraw_approval(revision, by=self.bob, comment="redo")
            review.submit_for_review(revision, by=self.alice)
            review.approve(revision, by=self.bob, comment="second approval")
            return rendered

        with mock.patch.object(review, "render_revision", render_while_approval_changes):
            download = review.download_approved(revision, by=self.dave)
        record = json.loads(zipfile.ZipFile(io.BytesIO(download.content)).read(state.APPROVAL_FILE))
        self.assertEqual(record["comment"], "second approval")


class BundleCheckRevealsNothingOfInvisiblePlansTests(BaseTestCase):
    """"Check a bundle" considers only plans the user can see: a stranger must get the same answer for a plan
    code that exists (but is not theirs) as for one that does not."""

    def _zip_claiming(self, code: str, number: int) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(state.APPROVAL_FILE, json.dumps({"plan_code": code, "revision": number}))
            archive.writestr("SHA256SUMS", "0" * 64 + "  x.ps1\n")
        return buffer.getvalue()

    def test_an_existing_invisible_revision_reads_like_a_missing_one(self):
        plan = make_plan(shared=False)
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        existing = bundlecheck.check_files(bundlecheck.files_from_zip(self._zip_claiming(str(plan.code), 1)),
                                           user=self.charlie)
        missing = bundlecheck.check_files(
            bundlecheck.files_from_zip(self._zip_claiming("00000000-0000-4000-8000-000000000000", 1)),
            user=self.charlie)
        self.assertFalse(existing.genuine)
        self.assertEqual(existing.summary, missing.summary)

    def test_the_page_answers_a_stranger_the_same_for_both(self):
        plan = make_plan(shared=False)
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        self.client.force_login(self.charlie)
        url = reverse("check-bundle")
        answers = []
        for code in (str(plan.code), "00000000-0000-4000-8000-000000000000"):
            upload = io.BytesIO(self._zip_claiming(code, 1))
            upload.name = "bundle.zip"
            answers.append(self.client.post(url, {"file": upload}).context["verdict"].summary)
        self.assertEqual(answers[0], answers[1])
