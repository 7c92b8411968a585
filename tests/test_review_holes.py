"""Review-workflow holes found by the third attack, each with the test that failed before its fix."""
from __future__ import annotations

import io
import json
import zipfile
from unittest import mock

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tests.base import BaseTestCase, current_version, make_plan, plan_doc, set_draft
from wizard.models import AuditEvent, Review
from wizard.review import bundlecheck, state
from wizard.review import services as review


class WithdrawalReachesApprovalsByNewContributorsTests(BaseTestCase):
    """Withdrawing the approval that covered an edit makes its author a contributor of the later revisions;
    an approval in force that author gave to one of them was then a self-approval, and must not stand."""

    def _reviewer_editor(self):
        self.erin.groups.add(self.personas.review_team)
        return type(self.erin).objects.get(pk=self.erin.pk)

    def _erin_approves_her_own_edit(self):
        erin = self._reviewer_editor()
        plan = make_plan()
        set_draft(plan, plan_doc(name="Contoso, erin's change"), by=erin)
        r1 = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        review.submit_for_review(r1, by=self.alice)
        review.approve(r1, by=self.bob)
        set_draft(plan, plan_doc(name="Contoso, erin's change", x_ticket="CHG-2"), by=self.alice)
        r2 = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r2")
        review.submit_for_review(r2, by=self.alice)
        review.approve(r2, by=erin)   # allowed then: bob's approval of r1 covered erin's edit
        return erin, plan, r1, r2

    def test_the_later_approval_by_the_new_contributor_is_withdrawn_with_it(self):
        erin, plan, r1, r2 = self._erin_approves_her_own_edit()
        review.withdraw_approval(r1, by=self.bob, comment="erin's change is wrong", ip="192.0.2.1")
        self.assertIn(erin, r2.contributors.all())
        # r2 holds erin's edit, and its only approval in force is erin's own: nothing may download as approved.
        self.assertIsNone(state.approval_of(r2))
        self.assertEqual(state.revision_status(r2), state.Status.WITHDRAWN)
        with self.assertRaises(review.NotApproved):
            review.download_approved(r2, by=self.alice)
        event = AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.APPROVAL_WITHDRAWN).latest("id")
        self.assertEqual(event.detail["revision"], 1)
        self.assertEqual(event.detail["approvals_withdrawn"], [2])
        withdrawal = Review.objects.get(revision=r2, decision=Review.Decision.WITHDRAWN)
        self.assertEqual(withdrawal.actor, self.bob)
        self.assertIn("revision 1", withdrawal.comment)
        # The author submits r2 again; erin still may not approve it, bob may.
        review.submit_for_review(r2, by=self.alice)
        with self.assertRaises(review.SelfReview):
            review.approve(r2, by=erin)
        self.assertEqual(review.approve(r2, by=self.bob).actor, self.bob)

    def test_an_approval_by_someone_who_still_contributed_nothing_stands(self):
        _, plan, r1, r2 = self._erin_approves_her_own_edit()
        # r3, approved by bob (no contributor): withdrawing r1 leaves it alone.
        set_draft(plan, plan_doc(name="Contoso, erin's change", x_ticket="CHG-3"), by=self.alice)
        r3 = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r3")
        review.submit_for_review(r3, by=self.alice)
        review.approve(r3, by=self.bob)
        review.withdraw_approval(r1, by=self.bob, comment="erin's change is wrong")
        self.assertIsNone(state.approval_of(r2))
        self.assertEqual(state.approval_of(r3).actor, self.bob)


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


class RolesAreCheckedAgainUnderTheLockTests(BaseTestCase):
    """Approving renders first and checks the roles again under the lock; Django caches a user's permissions on
    the user object, so the second check read the role as it was before rendering and let a reviewer removed
    from the change board meanwhile approve."""

    def _in_review(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        review.submit_for_review(revision, by=self.alice)
        return plan, revision

    def _while_rendering(self, change):
        real = review.recheck

        def recheck_then_change(rev):
            result = real(rev)
            change()
            return result

        return mock.patch.object(review, "recheck", recheck_then_change)

    def test_a_reviewer_removed_from_the_change_board_while_the_bundle_renders_cannot_approve(self):
        _, revision = self._in_review()
        bob = type(self.bob).objects.get(pk=self.bob.pk)   # one user object, as request.user is for a request
        with self._while_rendering(lambda: bob.groups.remove(self.personas.review_team)), \
                self.assertRaises(PermissionDenied):
            review.approve(revision, by=bob)
        self.assertFalse(Review.objects.filter(revision=revision, decision=Review.Decision.APPROVED).exists())

    def test_a_reviewer_deactivated_while_the_bundle_renders_cannot_approve(self):
        _, revision = self._in_review()
        bob = type(self.bob).objects.get(pk=self.bob.pk)

        def deactivate():
            type(bob).objects.filter(pk=bob.pk).update(is_active=False)

        with self._while_rendering(deactivate), self.assertRaises(PermissionDenied):
            review.approve(revision, by=bob)

    def test_over_http_too(self):
        plan, revision = self._in_review()
        self.client.force_login(self.bob)
        with self._while_rendering(lambda: self.bob.groups.remove(self.personas.review_team)):
            response = self.client.post(reverse("revision-approve", args=[plan.code, revision.number]),
                                        {"comment": "ok"})
        self.assertIn(response.status_code, (403, 404))
        self.assertEqual(state.revision_status(revision), state.Status.IN_REVIEW)


class DraftSavesCheckTheEditorUnderTheLockTests(BaseTestCase):
    """A draft save is a state change like any other: it checked edit access only in the view, before the step's
    values were applied, so an editor removed from the plan meanwhile still saved over its draft."""

    def test_an_editor_removed_while_her_step_save_is_applied_saves_nothing(self):
        from tests.test_wizard_views import step_post
        from wizard.web import drafts

        plan = make_plan()
        before = current_version(plan)
        self.client.force_login(self.erin)
        real = drafts.steps.apply

        def apply_while_erin_is_removed(*args, **kwargs):
            review.unshare_plan(plan, by=self.alice, group=self.personas.edit_team)
            return real(*args, **kwargs)

        body = step_post(plan, "environment", **{"basics-name": "Contoso, erin's late edit"})
        with mock.patch.object(drafts.steps, "apply", apply_while_erin_is_removed):
            response = self.client.post(reverse("plan-step", args=[plan.code, "environment"]), body)
        self.assertIn(response.status_code, (403, 404))
        self.assertEqual(current_version(plan), before)
        self.assertFalse(AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.DRAFT_SAVED).exists())

    def test_the_draft_service_refuses_a_user_without_edit_access(self):
        from wizard.web import drafts

        plan = make_plan()
        for user in (self.dave, self.bob, self.charlie):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                drafts.save_draft(plan, doc=plan_doc(name="not mine"), based_on=current_version(plan), by=user)
        self.assertEqual(type(plan).objects.get(pk=plan.pk).draft, plan.draft)
