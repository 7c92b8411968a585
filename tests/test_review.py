"""The review services: revisions, four-eyes approval bound to the bundle hash, statuses,
comments, sharing, re-checks, the approved download and one audit row per action.
"""
from __future__ import annotations

import io
import json
import zipfile
from unittest import mock

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import wizard
from tests.base import BaseTestCase, current_version, make_personas, make_plan, plan_doc, set_draft
from wizard.models import AuditEvent, Comment, Review, Revision
from wizard.plan import engine
from wizard.plan.finding import Finding
from wizard.plan.writer import plan_to_dict
from wizard.review import access, pages, state
from wizard.review import services as review
from wizard.scripts import bundle

IP = "192.0.2.10"


def _events(plan, action):
    return list(AuditEvent.objects.filter(plan=plan, action=action))


class SaveRevisionTests(BaseTestCase):
    def test_it_stores_the_normalised_document_hash_tool_version_and_finding_codes(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="First cut", ip=IP)

        plan_data, _ = engine.assess(plan.draft)
        self.assertEqual(revision.number, 1)
        self.assertEqual(revision.message, "First cut")
        self.assertEqual(revision.data, plan_to_dict(plan_data))
        self.assertEqual(revision.tool_version, wizard.__version__)
        expected = bundle.build_bundle(
            plan_data, source=bundle.Source(plan_data.name, str(plan.code), 1, wizard.__version__))
        self.assertEqual(revision.bundle_sha256, expected.sha256)
        _, findings = engine.assess(revision.data)
        self.assertEqual(revision.finding_codes, sorted({f.code for f in findings}))
        self.assertEqual(revision.created_by, self.alice)

    def test_it_writes_one_audit_row_with_the_address(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="First cut", ip=IP)
        [event] = _events(plan, AuditEvent.Action.REVISION_SAVED)
        self.assertEqual((event.actor, event.ip_address), (self.alice, IP))
        self.assertEqual(event.detail["revision"], 1)
        self.assertEqual(event.detail["bundle_sha256"], revision.bundle_sha256)

    def test_numbers_follow_on_and_each_revision_keeps_its_own_data(self):
        plan = make_plan()
        first = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        set_draft(plan, plan_doc(adfs={"federation_service_name": "sts.contoso.com", "version": "2012r2",
                                       "mfa": "always"}))
        second = review.save_revision(plan, draft_version=current_version(plan), by=self.erin, message="two")
        first.refresh_from_db()
        self.assertEqual((first.number, second.number), (1, 2))
        self.assertEqual(first.data["adfs"]["federation_service_name"], "adfs.contoso.com")
        self.assertEqual(second.data["adfs"]["federation_service_name"], "sts.contoso.com")
        self.assertEqual(second.created_by, self.erin)

    def test_an_unchanged_draft_is_not_saved_again(self):
        plan = make_plan()
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        with self.assertRaises(review.NothingChanged):
            review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="again")
        self.assertEqual(plan.revisions.count(), 1)

    def test_a_draft_with_errors_is_refused_with_every_error_listed(self):
        plan = make_plan()
        set_draft(plan, plan_doc(product="lync2010", sip_domains=["not a domain"]))
        with self.assertRaises(review.DraftInvalid) as caught:
            review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="broken", ip=IP)
        fields = {f.field for f in caught.exception.findings}
        self.assertEqual(fields, {"product", "sip_domains[0]"})
        self.assertIn("Product:", str(caught.exception))  # the form's labels, not plan paths
        self.assertIn("SIP domain not a domain:", str(caught.exception))
        self.assertFalse(plan.revisions.exists())
        self.assertEqual(_events(plan, AuditEvent.Action.REVISION_SAVED), [])

    def test_it_validates_the_stored_draft_not_the_callers_copy(self):
        plan = make_plan()
        stale = type(plan).objects.get(pk=plan.pk)
        set_draft(plan, plan_doc(pools=[]))
        # `stale` still holds the valid draft in memory; the database has the broken one.
        with self.assertRaises(review.DraftInvalid):
            review.save_revision(stale, draft_version=current_version(stale), by=self.alice, message="from an old page")

    def test_a_message_is_required(self):
        plan = make_plan()
        with self.assertRaises(review.ReviewRefused):
            review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="   ")
        self.assertFalse(plan.revisions.exists())

    def test_only_editors_may_save(self):
        plan = make_plan()
        for user in (self.dave, self.bob, self.charlie):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                review.save_revision(plan, draft_version=current_version(plan), by=user, message="not mine")
        self.assertFalse(plan.revisions.exists())
        self.assertEqual(review.save_revision(plan, draft_version=current_version(plan), by=self.erin, message="team edit").number, 1)


class SubmitTests(BaseTestCase):
    def test_submitting_puts_the_revision_in_review_with_an_audit_row(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        result = review.submit_for_review(revision, by=self.alice, ip=IP)
        self.assertEqual(result.decision, Review.Decision.SUBMITTED)
        self.assertEqual(result.bundle_sha256, revision.bundle_sha256)
        self.assertEqual(state.revision_status(revision), state.Status.IN_REVIEW)
        [event] = _events(plan, AuditEvent.Action.SUBMITTED)
        self.assertEqual((event.actor, event.ip_address, event.detail["revision"]), (self.alice, IP, 1))

    def test_read_only_users_and_reviewers_cannot_submit(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        for user in (self.dave, self.bob, self.charlie):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                review.submit_for_review(revision, by=user)
        self.assertFalse(revision.reviews.exists())

    def test_a_revision_in_review_cannot_be_submitted_again(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        review.submit_for_review(revision, by=self.alice)
        with self.assertRaises(review.WrongState):
            review.submit_for_review(revision, by=self.erin)
        self.assertEqual(revision.reviews.count(), 1)

    def test_a_superseded_revision_cannot_be_submitted(self):
        plan = make_plan()
        first = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        set_draft(plan, plan_doc(name="Contoso, second thoughts"))
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="two")
        with self.assertRaises(review.Superseded):
            review.submit_for_review(first, by=self.alice)


class ApprovalTests(BaseTestCase):
    def _in_review(self, plan=None):
        plan = plan or make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        review.submit_for_review(revision, by=self.alice)
        return revision

    def test_a_reviewer_approves_for_the_hash_on_record(self):
        revision = self._in_review()
        approval = review.approve(revision, by=self.bob, comment="Matches CAB-1234", ip=IP)
        self.assertEqual(approval.decision, Review.Decision.APPROVED)
        self.assertEqual(approval.bundle_sha256, revision.bundle_sha256)
        self.assertEqual(approval.comment, "Matches CAB-1234")
        self.assertEqual(state.revision_status(revision), state.Status.APPROVED)
        [event] = _events(revision.plan, AuditEvent.Action.APPROVED)
        self.assertEqual((event.actor, event.ip_address, event.detail["revision"]), (self.bob, IP, 1))

    def test_the_author_cannot_approve_their_own_revision_even_as_a_reviewer(self):
        self.alice.groups.add(self.personas.review_team)
        self.alice = type(self.alice).objects.get(pk=self.alice.pk)  # drop the permission cache
        revision = self._in_review()
        with self.assertRaises(review.SelfReview):
            review.approve(revision, by=self.alice, comment="")
        with self.assertRaises(review.SelfReview):
            review.request_changes(revision, by=self.alice, comment="self")
        self.assertEqual(state.revision_status(revision), state.Status.IN_REVIEW)

    def test_someone_else_with_the_reviewer_role_may_approve_a_revision_saved_by_a_team_editor(self):
        plan = make_plan(owner=self.erin)  # erin wrote the whole draft: alice contributed nothing
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.erin, message="erin's edit")
        review.submit_for_review(revision, by=self.erin)
        self.alice.groups.add(self.personas.review_team)
        alice = type(self.alice).objects.get(pk=self.alice.pk)
        self.assertEqual(review.approve(revision, by=alice).actor, alice)

    def test_only_reviewers_who_can_see_the_plan_may_approve(self):
        revision = self._in_review()
        for user in (self.dave, self.erin):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                review.approve(revision, by=user)
        self.assertEqual(state.revision_status(revision), state.Status.IN_REVIEW)

    def test_submitting_makes_the_revision_reachable_by_every_reviewer(self):
        # Issue 12, item 5: a reviewer the plan was never shared with sees it once it is submitted.
        self.charlie.groups.add(self.personas.review_team)
        charlie = type(self.charlie).objects.get(pk=self.charlie.pk)
        plan = make_plan(shared=False)
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        self.assertFalse(access.can_see(charlie, plan))
        with self.assertRaises(PermissionDenied):
            review.approve(revision, by=charlie)
        review.submit_for_review(revision, by=self.alice)
        self.assertTrue(access.can_see(charlie, plan))
        self.assertFalse(access.can_edit(charlie, plan))
        self.assertEqual([row.revision for row in pages.review_queue(charlie)], [revision])
        self.assertEqual(pages.review_queue(self.dave), [])  # no reviewer role: no queue, no access
        self.assertFalse(access.can_see(self.dave, plan))
        self.assertEqual(review.approve(revision, by=charlie).actor, charlie)

    def test_a_revision_not_submitted_cannot_be_approved(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        with self.assertRaises(review.WrongState):
            review.approve(revision, by=self.bob)

    def test_approving_twice_is_refused(self):
        revision = self._in_review()
        review.approve(revision, by=self.bob)
        with self.assertRaises(review.WrongState):
            review.approve(revision, by=self.bob)
        self.assertEqual(revision.reviews.filter(decision=Review.Decision.APPROVED).count(), 1)

    def test_a_superseded_revision_cannot_be_approved(self):
        plan = make_plan()
        first = self._in_review(plan)
        set_draft(plan, plan_doc(name="Contoso, revised"))
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="two")
        with self.assertRaises(review.Superseded):
            review.approve(first, by=self.bob)
        with self.assertRaises(review.Superseded):
            review.request_changes(first, by=self.bob, comment="too late")
        self.assertEqual(state.revision_status(first), state.Status.SUPERSEDED)

    def test_approval_is_refused_when_the_stored_data_no_longer_matches_the_hash(self):
        revision = self._in_review()
        tampered = dict(revision.data, name="Someone changed the row")
        Revision.objects.filter(pk=revision.pk).update(data=tampered)
        revision.refresh_from_db()
        with self.assertRaises(review.BundleChanged):
            review.approve(revision, by=self.bob)
        self.assertEqual(state.revision_status(revision), state.Status.IN_REVIEW)
        self.assertEqual(_events(revision.plan, AuditEvent.Action.APPROVED), [])

    def test_approval_is_refused_when_the_tool_renders_other_bytes(self):
        revision = self._in_review()
        with mock.patch.object(wizard, "__version__", "99.0.0-other"):
            self.assertNotEqual(state.recheck(revision).bundle_sha256, revision.bundle_sha256)
            with self.assertRaises(review.BundleChanged):
                review.approve(revision, by=self.bob)
        self.assertEqual(state.revision_status(revision), state.Status.IN_REVIEW)

    def test_approval_is_refused_when_todays_checks_find_something_new(self):
        revision = self._in_review()
        with mock.patch.object(review.engine, "assess", _with_new_rule), \
                self.assertRaises(review.NewFindings) as caught:
            review.approve(revision, by=self.bob)
        self.assertIn("new_rule_x", str(caught.exception))

    def test_request_changes_needs_a_comment_and_sends_the_revision_back(self):
        revision = self._in_review()
        with self.assertRaises(review.ReviewRefused):
            review.request_changes(revision, by=self.bob, comment="  ")
        result = review.request_changes(revision, by=self.bob, comment="Pilot pool first", ip=IP)
        self.assertEqual(result.comment, "Pilot pool first")
        self.assertEqual(state.revision_status(revision), state.Status.CHANGES_REQUESTED)
        [event] = _events(revision.plan, AuditEvent.Action.CHANGES_REQUESTED)
        self.assertEqual((event.actor, event.ip_address), (self.bob, IP))
        with self.assertRaises(review.WrongState):
            review.approve(revision, by=self.bob)

    def test_a_revision_with_changes_requested_may_be_submitted_again_and_approved(self):
        revision = self._in_review()
        review.request_changes(revision, by=self.bob, comment="Explain the MFA choice")
        review.submit_for_review(revision, by=self.alice)
        self.assertEqual(state.revision_status(revision), state.Status.IN_REVIEW)
        review.approve(revision, by=self.bob)
        self.assertEqual(state.revision_status(revision), state.Status.APPROVED)

    def test_only_reviewers_may_request_changes(self):
        revision = self._in_review()
        for user in (self.dave, self.erin):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                review.request_changes(revision, by=user, comment="no")


_real_assess = engine.assess


def _with_new_rule(doc):
    plan, findings = _real_assess(doc)
    return plan, [*findings, Finding("warning", "new_rule_x", "pools[0]", "A rule added after the revision was saved")]


class StatusTests(BaseTestCase):
    def test_each_state_is_derived_from_the_review_rows(self):
        plan = make_plan()
        self.assertEqual(state.plan_status(plan), state.Status.DRAFT)
        first = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        self.assertEqual(state.plan_status(plan), state.Status.DRAFT)
        review.submit_for_review(first, by=self.alice)
        self.assertEqual(state.plan_status(plan), state.Status.IN_REVIEW)
        review.request_changes(first, by=self.bob, comment="No")
        self.assertEqual(state.plan_status(plan), state.Status.CHANGES_REQUESTED)
        set_draft(plan, plan_doc(name="Contoso, take two"))
        second = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="two")
        self.assertEqual(state.revision_status(first), state.Status.SUPERSEDED)
        self.assertEqual(state.plan_status(plan), state.Status.DRAFT)
        review.submit_for_review(second, by=self.alice)
        review.approve(second, by=self.bob)
        self.assertEqual(state.plan_status(plan), state.Status.APPROVED)
        set_draft(plan, plan_doc(name="Contoso, take three"))
        third = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="three")
        # An approval stays true for its bytes; the plan as a whole is a draft again.
        self.assertEqual(state.revision_status(second), state.Status.APPROVED)
        self.assertEqual(state.revision_status(third), state.Status.DRAFT)
        self.assertEqual(state.plan_status(plan), state.Status.DRAFT)
        self.assertEqual(state.revision_statuses(plan), {1: "superseded", 2: "approved", 3: "draft"})

    def test_statuses_for_a_page_of_plans_come_in_two_queries_and_agree(self):
        plans = [make_plan(name=f"Plan {i}") for i in range(4)]
        r1 = review.save_revision(plans[1], draft_version=current_version(plans[1]), by=self.alice, message="one")
        r2 = review.save_revision(plans[2], draft_version=current_version(plans[2]), by=self.alice, message="one")
        review.submit_for_review(r2, by=self.alice)
        r3 = review.save_revision(plans[3], draft_version=current_version(plans[3]), by=self.alice, message="one")
        review.submit_for_review(r3, by=self.alice)
        review.approve(r3, by=self.bob)
        self.assertIsNotNone(r1)
        with CaptureQueriesContext(connection) as queries:
            statuses = state.plan_statuses(plans)
        self.assertEqual(len(queries), 2)
        self.assertEqual([statuses[p.pk] for p in plans], ["draft", "draft", "in_review", "approved"])
        self.assertEqual([state.plan_status(p) for p in plans], [statuses[p.pk] for p in plans])


class CommentTests(BaseTestCase):
    def test_editors_and_reviewers_comment_on_a_plan_or_a_revision(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        on_plan = review.add_comment(plan, by=self.erin, body=" Looks right ", ip=IP)
        on_revision = review.add_comment(plan, by=self.bob, body="Why MFA only from the extranet?",
                                         revision=revision, ip=IP)
        self.assertEqual((on_plan.body, on_plan.revision), ("Looks right", None))
        self.assertEqual(on_revision.revision, revision)
        events = _events(plan, AuditEvent.Action.COMMENTED)
        self.assertEqual(len(events), 2)
        self.assertTrue(all(e.ip_address == IP for e in events))

    def test_read_only_members_and_strangers_cannot_comment(self):
        plan = make_plan()
        for user in (self.dave, self.charlie):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                review.add_comment(plan, by=user, body="hello")
        self.assertFalse(Comment.objects.filter(plan=plan).exists())

    def test_an_empty_comment_is_refused(self):
        plan = make_plan()
        with self.assertRaises(review.ReviewRefused):
            review.add_comment(plan, by=self.alice, body="  \n ")


class SharingTests(BaseTestCase):
    def test_the_owner_shares_and_unshares_with_an_audit_row_each(self):
        plan = make_plan(shared=False)
        review.share_plan(plan, by=self.alice, group=self.personas.read_team, can_edit=False, ip=IP)
        review.share_plan(plan, by=self.alice, group=self.personas.read_team, can_edit=True, ip=IP)
        self.assertEqual(list(plan.shares.values_list("group__name", "can_edit")), [("Identity team", True)])
        review.unshare_plan(plan, by=self.alice, group=self.personas.read_team, ip=IP)
        self.assertFalse(plan.shares.exists())
        details = [(e.detail["group"], e.detail["access"]) for e in
                   AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.SHARED).order_by("id")]
        self.assertEqual(details, [("Identity team", "read"), ("Identity team", "edit"), ("Identity team", "none")])

    def test_nobody_but_the_owner_changes_sharing(self):
        plan = make_plan()
        for user in (self.erin, self.bob, self.dave, self.charlie):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                review.share_plan(plan, by=user, group=self.personas.read_team, can_edit=True)
        self.assertFalse(plan.shares.get(group=self.personas.read_team).can_edit)


class RecheckTests(BaseTestCase):
    def test_a_fresh_revision_has_no_banner(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        result = state.recheck(revision)
        self.assertEqual(result.new_codes, ())
        self.assertTrue(result.hash_matches)
        self.assertFalse(result.banner)

    def test_a_finding_that_is_new_since_approval_shows_a_banner(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        review.submit_for_review(revision, by=self.alice)
        review.approve(revision, by=self.bob)
        with mock.patch.object(review.engine, "assess", _with_new_rule):
            result = state.recheck(revision)
        self.assertEqual(result.new_codes, ("new_rule_x",))
        self.assertEqual([f.code for f in result.new_findings], ["new_rule_x"])
        self.assertTrue(result.banner)

    def test_a_finding_that_went_away_is_not_a_banner(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        Revision.objects.filter(pk=revision.pk).update(finding_codes=[*revision.finding_codes, "old_rule"])
        revision.refresh_from_db()
        result = state.recheck(revision)
        self.assertEqual(result.resolved_codes, ("old_rule",))
        self.assertFalse(result.banner)


class DownloadTests(BaseTestCase):
    def _approved(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="Passive auth for Contoso")
        review.submit_for_review(revision, by=self.alice)
        review.approve(revision, by=self.bob, comment="CAB-1234 approved")
        return revision

    def test_the_approved_zip_carries_the_approval_record_outside_the_checksums(self):
        revision = self._approved()
        download = review.download_approved(revision, by=self.dave, ip=IP)
        self.assertTrue(download.filename.endswith("-r1-approved.zip"))
        archive = zipfile.ZipFile(io.BytesIO(download.content))
        record = json.loads(archive.read(state.APPROVAL_FILE).decode("utf-8"))
        self.assertEqual(record["revision"], 1)
        self.assertEqual(record["plan_code"], str(revision.plan.code))
        self.assertEqual(record["bundle_sha256"], revision.bundle_sha256)
        self.assertEqual(record["approved_by"], "bob")
        self.assertEqual(record["author"], "alice")
        self.assertEqual(record["submitted_by"], "alice")
        self.assertEqual(record["comment"], "CAB-1234 approved")
        sums = archive.read("SHA256SUMS").decode("utf-8")
        self.assertNotIn(state.APPROVAL_FILE, sums)
        # Every other file is the approved bundle, byte for byte.
        rendered = review.render_revision(revision)
        self.assertEqual(rendered.sha256, revision.bundle_sha256)
        for name, content in rendered.files.items():
            self.assertEqual(archive.read(name), content)
        [event] = _events(revision.plan, AuditEvent.Action.DOWNLOADED)
        self.assertEqual((event.actor, event.ip_address, event.detail["revision"]), (self.dave, IP, 1))

    def test_a_revision_without_approval_has_no_approved_download(self):
        plan = make_plan()
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        with self.assertRaises(review.NotApproved):
            review.download_approved(revision, by=self.alice)
        self.assertEqual(_events(plan, AuditEvent.Action.DOWNLOADED), [])

    def test_the_download_is_refused_when_the_bytes_are_no_longer_the_approved_ones(self):
        revision = self._approved()
        with mock.patch.object(wizard, "__version__", "99.0.0-other"), self.assertRaises(review.BundleChanged):
            review.download_approved(revision, by=self.alice)
        self.assertEqual(_events(revision.plan, AuditEvent.Action.DOWNLOADED), [])

    def test_strangers_cannot_download(self):
        revision = self._approved()
        with self.assertRaises(PermissionDenied):
            review.download_approved(revision, by=self.charlie)


class ComparisonTests(BaseTestCase):
    def test_two_revisions_differ_in_settings_and_scripts(self):
        plan = make_plan()
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        set_draft(plan, plan_doc(adfs={"federation_service_name": "adfs.contoso.com", "version": "2012r2",
                                       "mfa": "always"}))
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="two")
        comparison = pages.compare(plan, 1, 2)
        self.assertEqual([(c.path, c.old, c.new) for c in comparison.diff.settings],
                         [("adfs.mfa", "extranet", "always")])
        self.assertTrue(comparison.diff.changed_scripts)
        self.assertEqual(comparison.notes, [])

    def test_the_draft_compares_with_the_latest_revision(self):
        plan = make_plan()
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        set_draft(plan, plan_doc(autodiscover_port=80))
        self.assertEqual(pages.default_comparison(plan), (1, pages.DRAFT))
        comparison = pages.compare(plan, 1, pages.DRAFT)
        self.assertEqual([(c.path, c.new) for c in comparison.diff.settings], [("autodiscover_port", 80)])
        self.assertEqual(comparison.diff.new_label, "draft")

    def test_an_invalid_draft_still_shows_its_settings_but_no_scripts(self):
        plan = make_plan()
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        set_draft(plan, plan_doc(product="lync2010"))
        comparison = pages.compare(plan, 1, pages.DRAFT)
        self.assertIn(("product", "lync2010"), [(c.path, c.new) for c in comparison.diff.settings])
        self.assertEqual(comparison.diff.scripts, [])
        self.assertTrue(comparison.notes)


class ContributorTests(BaseTestCase):
    """Issue 12, item 1: everyone whose draft saves a revision holds is a contributor; none may approve it."""

    def _reviewer_editor(self):
        # erin edits the plan (edit team) and holds the reviewer role too.
        self.erin.groups.add(self.personas.review_team)
        return type(self.erin).objects.get(pk=self.erin.pk)

    def test_a_reviewer_who_edited_the_draft_cannot_approve_a_revision_someone_else_saved(self):
        erin = self._reviewer_editor()
        plan = make_plan()
        set_draft(plan, plan_doc(name="Contoso, erin's change"), by=erin)
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice,
                                        message="alice saves erin's edit")
        review.submit_for_review(revision, by=self.alice)
        self.assertEqual(set(revision.contributors.values_list("username", flat=True)), {"alice", "erin"})
        with self.assertRaises(review.SelfReview):
            review.approve(revision, by=erin)
        with self.assertRaises(review.SelfReview):
            review.request_changes(revision, by=erin, comment="mine")
        self.assertEqual(review.approve(revision, by=self.bob).actor, self.bob)

    def test_edits_before_an_unapproved_revision_still_count_for_the_next_one(self):
        erin = self._reviewer_editor()
        plan = make_plan()
        set_draft(plan, plan_doc(name="Contoso, erin's change"), by=erin)
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1, never approved")
        set_draft(plan, plan_doc(name="Contoso, alice's change"), by=self.alice)
        r2 = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r2")
        review.submit_for_review(r2, by=self.alice)
        with self.assertRaises(review.SelfReview):
            review.approve(r2, by=erin)

    def test_edits_covered_by_an_approved_revision_do_not_count_again(self):
        erin = self._reviewer_editor()
        plan = make_plan()
        set_draft(plan, plan_doc(name="Contoso, erin's change"), by=erin)
        r1 = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        review.submit_for_review(r1, by=self.alice)
        review.approve(r1, by=self.bob)
        set_draft(plan, plan_doc(name="Contoso, alice's change"), by=self.alice)
        r2 = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r2")
        review.submit_for_review(r2, by=self.alice)
        self.assertEqual(set(r2.contributors.values_list("username", flat=True)), {"alice"})
        self.assertEqual(review.approve(r2, by=erin).actor, erin)

    def test_the_revision_page_offers_no_approval_to_a_contributor(self):
        erin = self._reviewer_editor()
        plan = make_plan()
        set_draft(plan, plan_doc(name="Contoso, erin's change"), by=erin)
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        review.submit_for_review(revision, by=self.alice)
        self.client.force_login(erin)
        response = self.client.get(revision.get_absolute_url())
        self.assertNotContains(response, 'id="approve-form"')
        self.client.force_login(self.bob)
        self.assertContains(self.client.get(revision.get_absolute_url()), 'id="approve-form"')

    def test_a_save_from_a_stale_draft_version_is_refused_and_nothing_is_stored(self):
        plan = make_plan()
        seen = current_version(plan)
        set_draft(plan, plan_doc(name="Contoso, changed after the page was shown"), by=self.erin)
        with self.assertRaises(review.DraftChanged):
            review.save_revision(plan, draft_version=seen, by=self.alice, message="what I looked at")
        self.assertFalse(plan.revisions.exists())
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="now")
        self.assertEqual(revision.draft_version, current_version(plan))
        self.assertEqual(revision.data["name"], "Contoso, changed after the page was shown")

    def test_the_save_page_carries_the_version_it_showed_and_refuses_a_stale_post(self):
        plan = make_plan()
        self.client.force_login(self.alice)
        url = reverse("revision-save", args=[plan.code])
        page = self.client.get(url)
        self.assertContains(page, f'name="draft_version" value="{plan.draft_version}"')
        set_draft(plan, plan_doc(name="Contoso, changed meanwhile"), by=self.erin)
        response = self.client.post(url, {"message": "r1", "draft_version": page.context["form"]["draft_version"]
                                          .value()})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "The draft changed since you looked at it", status_code=400)
        self.assertContains(response, "Contoso, changed meanwhile", status_code=400)
        self.assertFalse(plan.revisions.exists())
        again = self.client.post(url, {"message": "r1", "draft_version": current_version(plan)})
        self.assertEqual(again.status_code, 302)
        self.assertEqual(plan.revisions.count(), 1)
        missing = self.client.post(url, {"message": "r2"})
        self.assertEqual(missing.status_code, 400)


class RenderOutsideTheLockTests(TransactionTestCase):
    """Issue 12, item 9: review actions render and verify before they take the write lock."""

    def setUp(self):
        personas = make_personas()
        self.alice, self.bob = personas.alice, personas.bob

    def test_no_review_action_renders_inside_a_transaction(self):
        inside: list[tuple[str, bool]] = []
        real = state.build_revision_bundle

        def watched(*args, **kwargs):
            inside.append(("render", connection.in_atomic_block))
            return real(*args, **kwargs)

        plan = make_plan()
        with mock.patch.object(state, "build_revision_bundle", watched), \
                mock.patch.object(review, "build_revision_bundle", watched):
            revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
            review.submit_for_review(revision, by=self.alice)
            review.approve(revision, by=self.bob)
            review.download_approved(revision, by=self.bob)
        self.assertGreaterEqual(len(inside), 4)
        self.assertEqual([flag for _, flag in inside], [False] * len(inside))


class ContributorEdgeTests(BaseTestCase):
    def test_a_draft_save_of_unknown_version_counts_its_author_as_a_contributor(self):
        # Draft saves recorded without a version (older admin edits) are counted, to be safe.
        from django.db import transaction

        from wizard.review import audit

        plan = make_plan()
        with transaction.atomic():
            audit.record(AuditEvent.Action.DRAFT_SAVED, plan=plan, actor=self.bob, via="admin", fields=["draft"])
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        review.submit_for_review(revision, by=self.alice)
        with self.assertRaises(review.SelfReview):
            review.approve(revision, by=self.bob)


class ContributorHolesTests(BaseTestCase):
    """Four-eyes holes found by the second attack: content a revision holds whose author could still approve it."""

    def _reviewer_editor(self):
        # erin edits the plan (edit team) and holds the reviewer role too.
        self.erin.groups.add(self.personas.review_team)
        return type(self.erin).objects.get(pk=self.erin.pk)

    def _approve_over_http(self, user, revision):
        self.client.force_login(user)
        return self.client.post(reverse("revision-approve", args=[revision.plan.code, revision.number]),
                                {"comment": "ok"})

    def test_the_uploader_of_the_state_file_a_revision_is_judged_against_cannot_approve_it(self):
        from tests.test_estate_views import estate_plan_doc, state_doc, upload

        erin = self._reviewer_editor()
        plan = make_plan(doc=estate_plan_doc())
        self.client.force_login(erin)
        uploaded = self.client.post(reverse("plan-estate", args=[plan.code]), {"file": upload(state_doc())})
        self.assertEqual(uploaded.status_code, 302)
        revision = review.save_revision(plan, by=self.alice, message="judged against erin's state file",
                                        draft_version=current_version(plan))
        review.submit_for_review(revision, by=self.alice)
        self.assertEqual(revision.state.uploaded_by, erin)
        self.assertIn(erin, revision.contributors.all())
        self.assertEqual(self._approve_over_http(erin, revision).status_code, 403)
        self.assertEqual(review.approve(revision, by=self.bob).actor, self.bob)

    def test_a_state_file_an_approved_revision_already_held_does_not_count_again(self):
        from tests.test_estate_views import estate_plan_doc, state_doc
        from wizard.review import estate

        erin = self._reviewer_editor()
        plan = make_plan(doc=estate_plan_doc())
        estate.store_state(plan, doc=state_doc(), by=erin)
        r1 = review.save_revision(plan, by=self.alice, message="r1", draft_version=current_version(plan))
        review.submit_for_review(r1, by=self.alice)
        review.approve(r1, by=self.bob)
        set_draft(plan, {**estate_plan_doc(), "x_ticket": "CHG-2"}, by=self.alice)
        r2 = review.save_revision(plan, by=self.alice, message="r2", draft_version=current_version(plan))
        self.assertEqual(r2.state, r1.state)
        self.assertEqual(set(r2.contributors.values_list("username", flat=True)), {"alice"})

    def test_withdrawing_the_approval_that_covered_an_edit_makes_its_author_a_contributor_again(self):
        erin = self._reviewer_editor()
        plan = make_plan()
        set_draft(plan, plan_doc(name="Contoso, erin's change"), by=erin)
        r1 = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        review.submit_for_review(r1, by=self.alice)
        review.approve(r1, by=self.bob)
        # r2 is saved while r1's approval covers erin's edit, so erin is not counted on it...
        set_draft(plan, plan_doc(name="Contoso, erin's change", x_ticket="CHG-2"), by=self.alice)
        r2 = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r2")
        self.assertEqual(set(r2.contributors.values_list("username", flat=True)), {"alice"})
        # ...then the approval that covered it is withdrawn: nobody's review of erin's edit stands.
        self.client.force_login(self.bob)
        withdrawn = self.client.post(reverse("revision-withdraw", args=[plan.code, r1.number]),
                                     {"comment": "erin's change is wrong", "approval": state.approval_of(r1).pk})
        self.assertEqual(withdrawn.status_code, 302)
        review.submit_for_review(r2, by=self.alice)
        self.assertIn(erin, r2.contributors.all())
        self.assertEqual(self._approve_over_http(erin, r2).status_code, 403)
        self.assertEqual(state.revision_status(r2), state.Status.IN_REVIEW)
        event = AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.APPROVAL_WITHDRAWN).latest("id")
        self.assertEqual(event.detail["contributors_added"], {"2": [erin.pk]})
        self.assertEqual(review.approve(r2, by=self.bob).actor, self.bob)

    def test_an_approval_given_by_a_contributor_covers_nothing_once_the_approval_it_relied_on_is_withdrawn(self):
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
        review.withdraw_approval(r1, by=self.bob, comment="erin's change is wrong")
        self.assertIn(erin, r2.contributors.all())
        # r2's approval was given by a contributor to it, so it covers nothing: erin's edit still needs a reviewer.
        set_draft(plan, plan_doc(name="Contoso, erin's change", x_ticket="CHG-3"), by=self.alice)
        r3 = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r3")
        review.submit_for_review(r3, by=self.alice)
        self.assertIn(erin, r3.contributors.all())
        self.assertEqual(self._approve_over_http(erin, r3).status_code, 403)


class ReviewQueueQueryTests(BaseTestCase):
    """The reviewer's queue answers in a bounded number of queries: it no longer checks every revision ever
    submitted one at a time (status, latest submission and contributors, each a query or more per revision)."""

    def _revision(self, plan, n: int, *, by=None):
        set_draft(plan, plan_doc(name=f"{plan.name[:20]} v{n}"), by=by or self.alice)
        return review.save_revision(plan, draft_version=current_version(plan), by=by or self.alice, message=f"r{n}")

    def _count(self) -> tuple[int, int, list]:
        bob = type(self.bob).objects.get(pk=self.bob.pk)  # no permission cache carried over
        with CaptureQueriesContext(connection) as listed:
            rows = pages.review_queue(bob)
        self.client.force_login(self.bob)
        with CaptureQueriesContext(connection) as page:
            response = self.client.get(reverse("review-queue"))
        self.assertEqual(response.status_code, 200)
        return len(listed), len(page), rows

    def test_the_number_of_queries_does_not_grow_with_the_revisions_submitted(self):
        first = self._revision(self.plan, 1)
        review.submit_for_review(first, by=self.alice)
        small, small_page, rows = self._count()
        self.assertEqual([r.revision for r in rows], [first])
        # Many more revisions ever submitted: sent back, superseded, approved, in review, one of them bob's own.
        expected = []
        for p in range(3):
            plan = make_plan(name=f"Plan {p}")
            for n in range(1, 4):
                revision = self._revision(plan, n)
                review.submit_for_review(revision, by=self.alice)
                if n < 3:
                    review.request_changes(revision, by=self.bob, comment="no")
            expected.append(revision)
        approved = self._revision(self.plan, 2)
        review.submit_for_review(approved, by=self.alice)
        review.approve(approved, by=self.bob)
        own = make_plan(name="Edited by bob", owner=self.bob)
        mine = self._revision(own, 1, by=self.bob)
        review.submit_for_review(mine, by=self.bob)
        large, large_page, rows = self._count()
        self.assertEqual([r.revision for r in rows if r.can_review], expected)
        self.assertEqual([r.revision for r in rows if not r.can_review], [mine])
        self.assertEqual((large, large_page), (small, small_page))


class RevisionPageReadsOnceTests(BaseTestCase):
    """The revision page reads a revision's reviews once: its status and approval follow from them as
    revision_status and approval_of say, whatever the trail of decisions."""

    TRAILS = [
        [], ["submitted"], ["submitted", "approved"], ["submitted", "changes_requested"],
        ["submitted", "approved", "withdrawn"], ["submitted", "approved", "withdrawn", "submitted"],
        ["submitted", "approved", "withdrawn", "submitted", "approved"], ["submitted", "changes_requested", "submitted"],
    ]

    def test_status_and_approval_from_the_reviews_read_once(self):
        plan = make_plan()
        first = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one", ip=IP)
        for trail in self.TRAILS:
            for latest in (True, False):
                with self.subTest(trail=trail, latest=latest):
                    Review.objects.filter(revision=first).delete()
                    Revision.objects.filter(plan=plan, number__gt=1).delete()
                    for decision in trail:
                        Review.objects.create(revision=first, actor=self.bob, decision=decision,
                                              bundle_sha256=first.bundle_sha256)
                    if not latest:
                        set_draft(plan, plan_doc(name="Second"))
                        plan.refresh_from_db()
                        review.save_revision(plan, draft_version=current_version(plan), by=self.alice,
                                             message="two", ip=IP)
                    first.refresh_from_db()
                    reviews = list(first.reviews.order_by("created", "id"))
                    number = state.latest_number(plan)
                    self.assertEqual(state.status_from_reviews(first, reviews, latest=number),
                                     state.revision_status(first))
                    self.assertEqual(state.approval_among(reviews), state.approval_of(first))
                    page = pages.revision_page(first, user=self.alice, rights=access.load(self.alice, plan.code))
                    self.assertEqual(page.status, state.revision_status(first))
                    self.assertEqual(page.approval, state.approval_of(first))
                    self.assertEqual(page.reviews, reviews)
