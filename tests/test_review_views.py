"""The review pages: revisions list, saving, the revision page, review actions, diff,
download, comments, audit trail and sharing.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from unittest import mock

from django.test import Client
from django.urls import reverse

import wizard
from tests.base import BaseTestCase, current_version, make_plan, plan_doc, set_draft
from wizard.models import AuditEvent, Comment, Review
from wizard.plan import engine
from wizard.plan.finding import Finding
from wizard.review import services as review
from wizard.review import state

IP = "203.0.113.9"


_real_assess = engine.assess


def _with_new_rule(doc):
    plan, findings = _real_assess(doc)
    return plan, [*findings, Finding("warning", "new_rule_x", "adfs.mfa", "A rule added after approval")]


class ReviewViewTestCase(BaseTestCase):
    def setUp(self) -> None:
        self.plan = make_plan()
        self.code = self.plan.code

    def _save(self, by=None, message="Passive auth for Contoso"):
        return review.save_revision(self.plan, draft_version=current_version(self.plan), by=by or self.alice, message=message)

    def _submitted(self):
        revision = self._save()
        review.submit_for_review(revision, by=self.alice)
        return revision

    def _approved(self):
        revision = self._submitted()
        review.approve(revision, by=self.bob, comment="CAB-1234")
        return revision

    def _url(self, name, *args):
        return reverse(name, args=[self.code, *args])


class RevisionListTests(ReviewViewTestCase):
    def test_it_lists_revisions_newest_first_with_their_status(self):
        self._approved()
        set_draft(self.plan, plan_doc(name="Contoso, take two"))
        self._save(message="Second take")
        self.client.force_login(self.dave)
        response = self.client.get(self._url("plan-revisions"))
        self.assertContains(response, "Second take")
        self.assertContains(response, 'data-status="approved"')
        self.assertContains(response, 'data-status="draft"')
        body = response.content.decode()
        self.assertLess(body.index('data-revision="2"'), body.index('data-revision="1"'))

    def test_it_shows_the_plan_status_and_unsaved_draft_changes(self):
        self._approved()
        self.client.force_login(self.alice)
        page = self.client.get(self._url("plan-revisions"))
        status = page.content.decode().split('<span id="plan-status">', 1)[1].split("</span>", 1)[0]
        self.assertIn('data-status="approved"', status)
        self.assertNotContains(page, 'id="draft-changed"')
        set_draft(self.plan, plan_doc(autodiscover_port=80))
        self.assertContains(self.client.get(self._url("plan-revisions")), 'id="draft-changed"')

    def test_only_editors_see_the_save_link(self):
        self.client.force_login(self.dave)
        self.assertNotContains(self.client.get(self._url("plan-revisions")), self._url("revision-save"))
        self.client.force_login(self.erin)
        self.assertContains(self.client.get(self._url("plan-revisions")), self._url("revision-save"))


class SaveRevisionViewTests(ReviewViewTestCase):
    def test_the_form_page_shows_the_draft_changes_and_findings(self):
        self._save()
        set_draft(self.plan, plan_doc(autodiscover_port=80))
        self.client.force_login(self.alice)
        response = self.client.get(self._url("revision-save"))
        self.assertContains(response, 'data-kind="changed"')
        self.assertContains(response, "Changes since revision 1")

    def test_saving_redirects_to_the_new_revision_and_records_the_address(self):
        self.client.force_login(self.alice)
        response = self.client.post(self._url("revision-save"), {"message": "First cut", "draft_version": current_version(self.plan)}, REMOTE_ADDR=IP)
        self.assertRedirects(response, self._url("revision-detail", 1))
        event = AuditEvent.objects.get(plan=self.plan, action=AuditEvent.Action.REVISION_SAVED)
        self.assertEqual(event.ip_address, IP)

    def test_a_draft_with_errors_is_refused_listing_each_error(self):
        set_draft(self.plan, plan_doc(product="lync2010", sip_domains=["not a domain"]))
        self.client.force_login(self.alice)
        response = self.client.post(self._url("revision-save"), {"message": "broken", "draft_version": current_version(self.plan)})
        self.assertEqual(response.status_code, 400)
        # The form's labels, not plan paths (issue 14).
        self.assertContains(response, "<strong>Product</strong>", status_code=400)
        self.assertContains(response, "<strong>SIP domain not a domain</strong>", status_code=400)
        self.assertNotContains(response, "<code>sip_domains[0]</code>", status_code=400)
        self.assertFalse(self.plan.revisions.exists())

    def test_a_message_is_required(self):
        self.client.force_login(self.alice)
        response = self.client.post(self._url("revision-save"), {"message": "  ", "draft_version": current_version(self.plan)})
        self.assertContains(response, "Say what changed", status_code=400)
        self.assertFalse(self.plan.revisions.exists())

    def test_a_page_without_its_draft_version_is_told_so_and_can_save_after_looking(self):
        # It answered 400 with nothing saying why, and kept the empty (or damaged) hidden version, so
        # saving again from that page failed the same way, silently, until it was reloaded.
        self.client.force_login(self.alice)
        for sent in ({}, {"draft_version": "abc"}, {"draft_version": "9" * 30}):
            with self.subTest(sent=sent):
                response = self.client.post(self._url("revision-save"), {"message": "Passive auth", **sent})
                self.assertContains(response, "Not saved: ", status_code=400)
                self.assertContains(response, "draft version", status_code=400)
                self.assertContains(response, 'name="draft_version" value="1"', status_code=400)
                self.assertContains(response, 'value="Passive auth"', status_code=400)
        self.assertFalse(self.plan.revisions.exists())
        response = self.client.post(self._url("revision-save"), {"message": "Passive auth", "draft_version": "1"})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(self.plan.revisions.exists())

    def test_saving_an_unchanged_draft_says_so(self):
        self._save()
        self.client.force_login(self.alice)
        response = self.client.post(self._url("revision-save"), {"message": "again", "draft_version": current_version(self.plan)})
        self.assertContains(response, "has not changed since revision 1", status_code=400)


class RevisionPageTests(ReviewViewTestCase):
    def test_it_shows_settings_scripts_findings_and_hash(self):
        revision = self._save()
        self.client.force_login(self.dave)
        response = self.client.get(self._url("revision-detail", 1))
        self.assertContains(response, revision.bundle_sha256)
        self.assertContains(response, "adfs.contoso.com")
        texts = review.render_revision(revision).texts
        # Every file is a tab; only the first is in the page, highlighted.
        for name in texts:
            self.assertContains(response, f'data-file-tab="{name}"')
        first = next(iter(texts))
        self.assertContains(response, 'class="card file-card"', count=1)
        self.assertContains(response, f'data-file="{first}"')
        self.assertNotContains(response, 'id="recheck-banner"')

    def test_a_file_tab_answers_with_that_file_of_the_revision_not_of_the_draft(self):
        self._save()
        # The draft moves on after the revision: the revision's tabs still show the revision.
        doc = plan_doc()
        doc["adfs"]["federation_service_name"] = "sts.contoso.com"
        set_draft(self.plan, doc)
        self.client.force_login(self.dave)
        url = reverse("revision-file", args=[self.plan.code, 1, "adfs-server.ps1"])
        answer = self.client.get(url, HTTP_HX_REQUEST="true")
        self.assertEqual(answer.status_code, 200)
        html = answer.content.decode()
        self.assertIn('data-file="adfs-server.ps1"', html)
        self.assertIn('class="ps-code', html)
        self.assertIn("adfs.contoso.com", html)
        self.assertNotIn("sts.contoso.com", html)
        self.assertIn('hx-swap-oob="true"', html)        # the tabs follow, the new one selected
        self.assertNotIn('id="file-download"', html)     # a revision's download is its approved zip
        self.assertIn(f'hx-get="{reverse("revision-file", args=[self.plan.code, 1, "runbook.md"])}"', html)
        # Without htmx: the revision page showing that file; an unknown file: 404.
        page = self.client.get(url)
        self.assertRedirects(page, reverse("revision-detail", args=[self.plan.code, 1])
                             + "?file=adfs-server.ps1#files", fetch_redirect_response=False)
        shown = self.client.get(reverse("revision-detail", args=[self.plan.code, 1]) + "?file=adfs-server.ps1")
        self.assertContains(shown, 'data-file="adfs-server.ps1"')
        self.assertEqual(self.client.get(reverse("revision-file", args=[self.plan.code, 1, "nope.ps1"]),
                                         HTTP_HX_REQUEST="true").status_code, 404)

    def test_the_page_of_a_revision_with_an_accepted_risk_labels_it(self):
        plan = make_plan(fixture="multi-domain-director-idn")
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="With a risk")
        self.client.force_login(self.alice)
        response = self.client.get(reverse("revision-detail", args=[plan.code, 1]))
        self.assertContains(response, "Accepted risk 1")

    def test_a_file_tab_of_a_plan_the_user_cannot_see_is_not_found(self):
        self._save()
        self.client.force_login(self.charlie)
        url = reverse("revision-file", args=[self.plan.code, 1, "adfs-server.ps1"])
        self.assertEqual(self.client.get(url, HTTP_HX_REQUEST="true").status_code, 404)

    def test_plan_text_is_escaped_everywhere_on_the_page(self):
        plan = make_plan(name="<script>alert('x')</script> Contoso")
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="<img src=x onerror=alert(1)>")
        self.client.force_login(self.alice)
        for url in (reverse("revision-detail", args=[plan.code, 1]), reverse("plan-revisions", args=[plan.code])):
            page = self.client.get(url)
            self.assertContains(page, "&lt;script&gt;alert(")
            self.assertNotContains(page, "<script>alert(")
            self.assertNotContains(page, "<img src=x")

    def test_buttons_follow_the_roles(self):
        self._save()
        url = self._url("revision-detail", 1)
        self.client.force_login(self.alice)
        self.assertContains(self.client.get(url), 'id="submit-for-review"')
        self.client.force_login(self.dave)
        page = self.client.get(url)
        self.assertNotContains(page, 'id="submit-for-review"')
        self.assertNotContains(page, self._url("revision-comment", 1))
        review.submit_for_review(self.plan.revisions.get(number=1), by=self.alice)
        self.client.force_login(self.bob)
        page = self.client.get(url)
        self.assertContains(page, 'id="approve-form"')
        self.assertContains(page, 'id="request-changes-form"')
        self.client.force_login(self.alice)
        page = self.client.get(url)
        self.assertNotContains(page, 'id="approve-form"')
        self.assertNotContains(page, 'id="submit-for-review"')

    def test_the_author_never_sees_approve_even_with_the_reviewer_role(self):
        self._submitted()
        self.alice.groups.add(self.personas.review_team)
        self.client.force_login(self.alice)
        self.assertNotContains(self.client.get(self._url("revision-detail", 1)), 'id="approve-form"')
        response = self.client.post(self._url("revision-approve", 1), {"comment": "self"})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(state.revision_status(self.plan.revisions.get(number=1)), state.Status.IN_REVIEW)

    def test_a_new_finding_since_approval_shows_the_banner(self):
        self._approved()
        self.client.force_login(self.dave)
        with mock.patch.object(review.engine, "assess", _with_new_rule):
            response = self.client.get(self._url("revision-detail", 1))
        self.assertContains(response, 'id="recheck-banner"')
        self.assertContains(response, "new_rule_x")
        self.assertContains(response, "and approved")

    def test_a_changed_tool_shows_the_hash_banner(self):
        self._save()
        self.client.force_login(self.dave)
        with mock.patch.object(wizard, "__version__", "99.0.0-other"):
            response = self.client.get(self._url("revision-detail", 1))
        self.assertContains(response, 'id="hash-banner"')

    def test_a_superseded_revision_points_to_the_latest(self):
        self._save()
        set_draft(self.plan, plan_doc(name="Contoso, take two"))
        self._save(message="two")
        self.client.force_login(self.alice)
        response = self.client.get(self._url("revision-detail", 1))
        self.assertContains(response, 'id="superseded-note"')
        self.assertContains(response, self._url("revision-detail", 2))
        self.assertNotContains(response, 'id="submit-for-review"')


class ReviewActionTests(ReviewViewTestCase):
    def test_the_full_cycle_through_the_views(self):
        self._save()
        self.client.force_login(self.alice)
        response = self.client.post(self._url("revision-submit", 1), REMOTE_ADDR=IP)
        self.assertRedirects(response, self._url("revision-detail", 1))
        self.client.force_login(self.bob)
        response = self.client.post(self._url("revision-approve", 1), {"comment": "Looks right"}, REMOTE_ADDR=IP,
                                    follow=True)
        self.assertContains(response, "Revision 1 is approved.")
        self.assertContains(response, 'id="download-approved"')
        actions = list(AuditEvent.objects.filter(plan=self.plan).order_by("id").values_list("action", "ip_address"))
        self.assertEqual(actions[-2:], [(AuditEvent.Action.SUBMITTED, IP), (AuditEvent.Action.APPROVED, IP)])

    def test_request_changes_needs_a_comment(self):
        self._submitted()
        self.client.force_login(self.bob)
        response = self.client.post(self._url("revision-request-changes", 1), {"comment": ""})
        self.assertContains(response, "Say what needs to change.", status_code=400)
        self.assertFalse(Review.objects.filter(decision=Review.Decision.CHANGES_REQUESTED).exists())
        self.client.post(self._url("revision-request-changes", 1), {"comment": "Pilot pool first"})
        revision = self.plan.revisions.get(number=1)
        self.assertEqual(state.revision_status(revision), state.Status.CHANGES_REQUESTED)

    def test_approving_a_superseded_revision_says_why(self):
        self._submitted()
        set_draft(self.plan, plan_doc(name="Contoso, take two"))
        self._save(message="two")
        self.client.force_login(self.bob)
        response = self.client.post(self._url("revision-approve", 1), {"comment": ""})
        self.assertContains(response, "has been superseded by revision 2", status_code=409)
        self.assertFalse(Review.objects.filter(decision=Review.Decision.APPROVED).exists())

    def test_an_action_address_visited_after_signing_in_again_leads_to_its_page_saying_nothing_was_done(self):
        # Session ended, Approve pressed, signed in again: the sign-in page sends the reviewer back to
        # the action's address as a visit. It answered an empty 405 page, then a page that only said so;
        # now it leads to the revision's page (where the tab puts the typing back), saying nothing was done.
        self._submitted()
        approve = self._url("revision-approve", 1)
        response = self.client.post(approve, {"comment": ""})
        self.assertRedirects(response, f"{reverse('login')}?next={approve}", fetch_redirect_response=False)
        self.client.force_login(self.bob)
        response = self.client.get(approve, follow=True)
        self.assertRedirects(response, self._url("revision-detail", 1))
        self.assertContains(response, "Nothing was done")
        self.assertContains(response, "press the button once more")
        self.assertContains(response, 'id="approve-form"')
        self.assertFalse(Review.objects.filter(decision=Review.Decision.APPROVED).exists())
        self.assertEqual(self.client.put(approve).status_code, 405)

    def test_forms_need_the_csrf_token(self):
        self._submitted()
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.bob)
        self.assertEqual(client.post(self._url("revision-approve", 1), {"comment": ""}).status_code, 403)
        self.assertFalse(Review.objects.filter(decision=Review.Decision.APPROVED).exists())


class CommentViewTests(ReviewViewTestCase):
    def test_comments_appear_escaped_on_their_page(self):
        self._save()
        self.client.force_login(self.bob)
        self.client.post(self._url("revision-comment", 1), {"body": "<script>alert(1)</script> why?"})
        self.client.post(self._url("plan-comment"), {"body": "General remark"})
        page = self.client.get(self._url("revision-detail", 1))
        self.assertContains(page, "&lt;script&gt;alert(1)&lt;/script&gt; why?")
        self.assertNotContains(page, "<script>alert(1)")
        self.assertContains(self.client.get(self._url("plan-revisions")), "General remark")
        self.assertEqual(Comment.objects.filter(plan=self.plan, revision__isnull=True).count(), 1)

    def test_an_empty_comment_is_refused_with_a_message(self):
        self.client.force_login(self.bob)
        response = self.client.post(self._url("plan-comment"), {"body": " "})
        self.assertContains(response, "A comment cannot be empty.", status_code=400)
        self.assertFalse(Comment.objects.exists())


    def test_a_comment_within_the_box_limit_is_kept_though_its_line_breaks_arrive_as_two_characters(self):
        # The box counts a line break as one character (maxlength 5000); the browser sends CR LF. 4,500
        # characters on 900 lines arrived as 5,400 and were refused, the comment lost to the redirect.
        self._submitted()
        self.client.force_login(self.bob)
        typed = "\n".join(["abcd"] * 900)
        sent = typed.replace("\n", "\r\n")
        self.assertLessEqual(len(typed), review.COMMENT_MAX)
        self.assertGreater(len(sent), review.COMMENT_MAX)
        self.client.post(self._url("revision-comment", 1), {"body": sent})
        self.client.post(self._url("plan-comment"), {"body": sent})
        self.assertEqual(list(Comment.objects.filter(plan=self.plan).values_list("body", flat=True)), [typed, typed])
        self.client.post(self._url("revision-request-changes", 1), {"comment": sent})
        self.assertEqual(Review.objects.get(decision=Review.Decision.CHANGES_REQUESTED).comment, typed)

    def test_a_refused_comment_names_its_field(self):
        self._save()
        self.client.force_login(self.bob)
        for body, why in (("x" * 5001, "Comment: Ensure this value has at most 5000 characters"),
                          ("a\x00b", "Comment: Null characters are not allowed.")):
            with self.subTest(why=why):
                response = self.client.post(self._url("revision-comment", 1), {"body": body})
                self.assertContains(response, why, status_code=400)
        self.assertFalse(Comment.objects.exists())


class CommentSentTwiceTests(ReviewViewTestCase):
    """A comment sent twice before its page showed it (a double click on "Add comment", a form sent again) is
    stored once; the same words written again after the page showed them are a comment of their own."""

    def _seen(self, page_name, *args):
        html = self.client.get(self._url(page_name, *args)).content.decode()
        match = re.search(r'<input type="hidden" name="seen" value="(\d+)"', html)
        self.assertIsNotNone(match, "the comment form carries the latest comment it was shown with")
        return match.group(1)

    def test_a_comment_sent_twice_is_stored_once(self):
        self._save()
        self.client.force_login(self.bob)
        for page, action in (("revision-detail", "revision-comment"), ("plan-revisions", "plan-comment")):
            with self.subTest(page=page):
                args = (1,) if page == "revision-detail" else ()
                seen = self._seen(page, *args)
                for _ in range(2):
                    response = self.client.post(self._url(action, *args), {"body": "Looks right", "seen": seen})
                    self.assertEqual(response.status_code, 302)
        self.assertEqual(Comment.objects.filter(plan=self.plan).count(), 2)   # one on the revision, one on the plan
        self.assertEqual(AuditEvent.objects.filter(plan=self.plan, action=AuditEvent.Action.COMMENTED).count(), 2)

    def test_the_same_words_written_again_after_the_page_showed_them_are_stored(self):
        self._save()
        self.client.force_login(self.bob)
        for _ in range(2):
            seen = self._seen("revision-detail", 1)
            self.client.post(self._url("revision-comment", 1), {"body": "+1", "seen": seen})
        self.assertEqual(Comment.objects.filter(plan=self.plan).count(), 2)

    def test_another_text_or_another_person_sent_meanwhile_is_stored(self):
        self._save()
        self.client.force_login(self.bob)
        seen = self._seen("revision-detail", 1)
        self.client.post(self._url("revision-comment", 1), {"body": "First", "seen": seen})
        self.client.post(self._url("revision-comment", 1), {"body": "Second thought", "seen": seen})
        self.client.force_login(self.alice)
        self.client.post(self._url("revision-comment", 1), {"body": "First", "seen": seen})
        self.assertEqual(Comment.objects.filter(plan=self.plan).count(), 3)

    def test_a_damaged_form_is_refused_naming_it(self):
        self._save()
        self.client.force_login(self.bob)
        for seen in ("x", "-1", "9" * 30):
            with self.subTest(seen=seen):
                response = self.client.post(self._url("revision-comment", 1), {"body": "Hi", "seen": seen})
                self.assertContains(response, "comment form is damaged", status_code=400)
        self.assertFalse(Comment.objects.exists())


class TypedReviewTextTests(ReviewViewTestCase):
    """A refused comment, approval, request for changes or withdrawal answers 400 (invalid) or 409 (the
    revision changed meanwhile) with the revision page holding the text as typed in a textarea. It
    redirected to the revision page with an empty box: the text was lost."""

    TYPED = "<b>CAB-77</b> & pilot first"
    SHOWN = "&lt;b&gt;CAB-77&lt;/b&gt; &amp; pilot first"

    def assertTextareaHolds(self, response, text, status):
        self.assertEqual(response.status_code, status)
        self.assertRegex(response.content.decode(), rf"<textarea[^>]*>{re.escape(text)}</textarea>")

    def test_an_invalid_text_is_shown_again_in_its_box_with_a_400(self):
        self._approved()
        long_text = self.TYPED + "x" * 5001
        long_shown = self.SHOWN + "x" * 5001
        self.client.force_login(self.bob)
        cases = [("revision-comment", "body", 'id="id_body"'),
                 ("revision-withdraw", "comment", 'id="withdraw-comment"')]
        approval = Review.objects.get(decision=Review.Decision.APPROVED)
        for route, field, box in cases:
            with self.subTest(route=route):
                response = self.client.post(self._url(route, 1), {field: long_text, "approval": approval.pk})
                self.assertTextareaHolds(response, long_shown, 400)
                self.assertContains(response, box, status_code=400)
                self.assertContains(response, "at most 5000 characters", status_code=400)
        self.assertFalse(Comment.objects.exists())
        self.assertEqual(Review.objects.filter(decision=Review.Decision.WITHDRAWN).count(), 0)

    def test_an_invalid_approval_or_request_for_changes_keeps_its_text(self):
        self._submitted()
        self.client.force_login(self.bob)
        for route, box in (("revision-approve", 'id="approve-comment"'),
                           ("revision-request-changes", 'id="changes-comment"')):
            with self.subTest(route=route):
                response = self.client.post(self._url(route, 1), {"comment": self.TYPED + "x" * 5001})
                self.assertTextareaHolds(response, self.SHOWN + "x" * 5001, 400)
                self.assertContains(response, box, status_code=400)
        response = self.client.post(self._url("revision-request-changes", 1), {"comment": "  "})
        self.assertContains(response, "Say what needs to change.", status_code=400)
        self.assertEqual(state.revision_status(self.plan.revisions.get(number=1)), state.Status.IN_REVIEW)

    def test_a_refused_comment_on_the_plan_keeps_its_text(self):
        self.client.force_login(self.bob)
        response = self.client.post(self._url("plan-comment"), {"body": self.TYPED + "x" * 5001})
        self.assertTextareaHolds(response, self.SHOWN + "x" * 5001, 400)
        self.assertContains(response, "at most 5000 characters", status_code=400)
        self.assertFalse(Comment.objects.exists())

    def test_a_revision_changed_meanwhile_answers_409_with_the_text_kept(self):
        self._submitted()
        set_draft(self.plan, plan_doc(name="Contoso, take two"))
        self._save(message="two")
        self.client.force_login(self.bob)
        for route in ("revision-approve", "revision-request-changes"):
            with self.subTest(route=route):
                response = self.client.post(self._url(route, 1), {"comment": self.TYPED})
                self.assertContains(response, "has been superseded by revision 2", status_code=409)
                self.assertTextareaHolds(response, self.SHOWN, 409)
        self.assertFalse(Review.objects.filter(decision__in=[Review.Decision.APPROVED,
                                                             Review.Decision.CHANGES_REQUESTED]).exists())

    def test_a_withdrawal_of_an_approval_withdrawn_meanwhile_answers_409_with_the_text_kept(self):
        revision = self._approved()
        review.withdraw_approval(revision, by=self.bob, comment="first")
        self.client.force_login(self.bob)
        approval = Review.objects.get(decision=Review.Decision.APPROVED)
        response = self.client.post(self._url("revision-withdraw", 1), {"comment": self.TYPED,
                                                                         "approval": approval.pk})
        self.assertContains(response, "no approval in force", status_code=409)
        self.assertTextareaHolds(response, self.SHOWN, 409)


class DiffViewTests(ReviewViewTestCase):
    def test_it_compares_two_revisions_with_labels_and_script_lines(self):
        self._save()
        set_draft(self.plan, plan_doc(adfs={"federation_service_name": "adfs.contoso.com", "version": "2012r2",
                                            "mfa": "always"}))
        self._save(message="two")
        self.client.force_login(self.dave)
        response = self.client.get(self._url("plan-diff") + "?old=1&new=2")
        self.assertContains(response, 'data-path="adfs.mfa"')
        self.assertContains(response, "&quot;always&quot;")
        self.assertContains(response, 'data-kind="changed"')
        unified = self.client.get(self._url("plan-diff") + "?old=1&new=2&view=unified")
        self.assertContains(unified, 'data-kind="added"')
        self.assertContains(unified, 'data-kind="removed"')

    def test_without_a_choice_it_compares_the_latest_revision_with_the_draft(self):
        self._save()
        set_draft(self.plan, plan_doc(autodiscover_port=80))
        self.client.force_login(self.alice)
        response = self.client.get(self._url("plan-diff"))
        self.assertContains(response, 'data-path="autodiscover_port"')
        self.assertContains(response, "r1 &rarr; draft")

    def test_identical_versions_say_so(self):
        self._save()
        self.client.force_login(self.alice)
        self.assertContains(self.client.get(self._url("plan-diff") + "?old=1&new=1"), 'id="diff-identical"')

    def test_an_unknown_revision_is_refused(self):
        self._save()
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get(self._url("plan-diff") + "?old=7&new=1").status_code, 400)

    def test_a_plan_without_revisions_says_there_is_nothing_to_compare(self):
        self.client.force_login(self.alice)
        self.assertContains(self.client.get(self._url("plan-diff")), "no revisions yet")


class DownloadViewTests(ReviewViewTestCase):
    def test_the_approved_zip_has_the_approval_record(self):
        revision = self._approved()
        self.client.force_login(self.alice)
        response = self.client.get(self._url("revision-download", 1), REMOTE_ADDR=IP)
        self.assertEqual(response["Content-Type"], "application/zip")
        self.assertIn("attachment;", response["Content-Disposition"])
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        record = json.loads(archive.read("APPROVAL.json"))
        self.assertEqual((record["revision"], record["bundle_sha256"], record["approved_by"], record["comment"]),
                         (1, revision.bundle_sha256, "bob", "CAB-1234"))
        event = AuditEvent.objects.get(plan=self.plan, action=AuditEvent.Action.DOWNLOADED)
        self.assertEqual((event.actor, event.ip_address), (self.alice, IP))

    def test_an_unapproved_revision_has_no_approved_download(self):
        self._submitted()
        self.client.force_login(self.alice)
        response = self.client.get(self._url("revision-download", 1), follow=True)
        self.assertContains(response, "is not approved")

    def test_the_download_is_refused_when_the_bytes_changed(self):
        self._approved()
        self.client.force_login(self.alice)
        with mock.patch.object(wizard, "__version__", "99.0.0-other"):
            response = self.client.get(self._url("revision-download", 1), follow=True)
        self.assertContains(response, "cannot be reproduced")
        self.assertFalse(AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOADED).exists())


class AuditAndSharingViewTests(ReviewViewTestCase):
    def test_the_audit_page_lists_each_action_with_its_address(self):
        self.client.force_login(self.alice)
        self.client.post(self._url("revision-save"), {"message": "one", "draft_version": current_version(self.plan)}, REMOTE_ADDR=IP)
        response = self.client.get(self._url("plan-audit"))
        self.assertContains(response, 'data-action="revision_saved"')
        self.assertContains(response, IP)
        self.assertContains(response, 'data-action="created"')

    def test_the_audit_page_shows_a_long_trail_a_page_at_a_time(self):
        # Every autosave and every download (a read-only member's too, any number of times) adds a row, and the
        # page listed them all: a trail of tens of thousands of rows made a page of tens of megabytes.
        before = AuditEvent.objects.filter(plan=self.plan).count()
        AuditEvent.objects.bulk_create([AuditEvent(plan=self.plan, actor=self.dave, action=AuditEvent.Action.DOWNLOADED,
                                                   detail={"file": f"f{i}.ps1"}) for i in range(250)])
        total = before + 250
        self.client.force_login(self.dave)
        rows = re.compile(r'<tr data-action="')
        first = self.client.get(self._url("plan-audit"))
        self.assertEqual(len(rows.findall(first.content.decode())), 100)
        self.assertContains(first, f"Page 1 of 3 ({total} rows)")
        last = self.client.get(self._url("plan-audit") + "?page=3")
        self.assertEqual(len(rows.findall(last.content.decode())), total - 200)
        self.assertContains(last, 'data-action="created"')   # the oldest row is on the last page
        for odd in ("0", "-1", "99999999999999999999", "x", "\u0663"):
            with self.subTest(page=odd):
                self.assertEqual(self.client.get(self._url("plan-audit"), {"page": odd}).status_code, 200)

    def test_the_owner_shares_and_stops_sharing(self):
        plan = make_plan(shared=False)
        self.client.force_login(self.alice)
        url = reverse("plan-sharing", args=[plan.code])
        response = self.client.post(url, {"group": self.personas.read_team.pk, "access": "read"}, REMOTE_ADDR=IP)
        self.assertRedirects(response, url)
        self.assertContains(self.client.get(url), 'data-group="Identity team"')
        self.client.force_login(self.dave)
        self.assertEqual(self.client.get(reverse("plan-revisions", args=[plan.code])).status_code, 200)
        self.client.force_login(self.alice)
        self.client.post(reverse("plan-unshare", args=[plan.code]), {"group": self.personas.read_team.pk})
        self.client.force_login(self.dave)
        self.assertEqual(self.client.get(reverse("plan-revisions", args=[plan.code])).status_code, 404)
        accesses = list(AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.SHARED).order_by("id")
                        .values_list("detail__access", flat=True))
        self.assertEqual(accesses, ["read", "none"])

    def test_a_share_with_an_access_not_offered_says_so(self):
        # It answered 400 with the form again and no word on what was wrong.
        self.client.force_login(self.alice)
        response = self.client.post(self._url("plan-sharing"), {"group": self.personas.edit_team.pk, "access": "owner"})
        self.assertContains(response, "Select a valid choice. owner is not one of the available choices.",
                            status_code=400)

    def test_a_share_without_a_team_is_refused(self):
        self.client.force_login(self.alice)
        response = self.client.post(self._url("plan-sharing"), {"access": "edit"})
        self.assertEqual(response.status_code, 400)


class SharingPageSaysWhoSeesThePlanTests(ReviewViewTestCase):
    """The sharing page says who can see the plan: once a revision is submitted for review, every
    reviewer can (read-only), shared or not, so "Only you can see this plan" would be false."""

    def test_an_unshared_plan_never_submitted_is_seen_by_its_owner_only(self):
        plan = make_plan(shared=False)
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-sharing", args=[plan.code]))
        self.assertContains(response, "Only you can see this plan.")

    def test_an_unshared_plan_with_a_submitted_revision_says_reviewers_see_it(self):
        plan = make_plan(shared=False)
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="one")
        review.submit_for_review(revision, by=self.alice)
        self.client.force_login(self.bob)
        self.assertEqual(self.client.get(reverse("plan-revisions", args=[plan.code])).status_code, 200)
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-sharing", args=[plan.code]))
        self.assertNotContains(response, "Only you can see this plan")
        self.assertNotContains(response, "Reviewers still need to see a plan to review it")
        self.assertContains(response, 'id="reviewers-see-it"')


class ContributorReviewerTests(ReviewViewTestCase):
    """A reviewer who contributed to a revision in review gets no Approve button; the revision page
    says why (it did not: the page showed "In review" with no way forward and no reason)."""

    def test_the_revision_page_tells_a_contributing_reviewer_why_they_cannot_approve(self):
        self._submitted()
        self.alice.groups.add(self.personas.review_team)
        self.client.force_login(self.alice)
        page = self.client.get(self._url("revision-detail", 1))
        self.assertNotContains(page, 'id="approve-form"')
        self.assertContains(page, 'id="self-review-note"')
        self.assertContains(page, "another reviewer has to review it")

    def test_a_reviewer_who_did_not_contribute_sees_no_such_note(self):
        self._submitted()
        self.client.force_login(self.bob)
        page = self.client.get(self._url("revision-detail", 1))
        self.assertContains(page, 'id="approve-form"')
        self.assertNotContains(page, 'id="self-review-note"')

    def test_an_author_without_the_reviewer_role_sees_no_such_note(self):
        self._submitted()
        self.client.force_login(self.alice)
        self.assertNotContains(self.client.get(self._url("revision-detail", 1)), 'id="self-review-note"')

    def test_a_contributing_reviewer_who_posts_approve_anyway_is_told_why(self):
        # A hand-made request: refused (403), with the reason on a page of the site, not a bare "403 Forbidden".
        self._submitted()
        self.alice.groups.add(self.personas.review_team)
        self.client.force_login(self.alice)
        response = self.client.post(self._url("revision-approve", 1), {"comment": "mine"})
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "Not allowed: nothing was changed", status_code=403)
        self.assertContains(response, "another reviewer has to", status_code=403)
        self.assertEqual(state.revision_status(self.plan.revisions.get(number=1)), state.Status.IN_REVIEW)


class ImportedPlanTests(ReviewViewTestCase):
    """An imported plan's author, for the four-eyes rule, is its importer: the tool cannot know who wrote or
    edited the file. A reviewer who did (a reviewer's own edits, exported, then imported by someone else) would
    see an Approve button and nothing else; the revision page now says the plan came from a file, and whose."""

    def setUp(self) -> None:
        from wizard.models import PlanShare
        from wizard.web import transfer

        self.plan = transfer.import_plan(json.dumps(plan_doc()), owner=self.alice, ip=IP).plan
        PlanShare.objects.create(plan=self.plan, group=self.personas.review_team, can_edit=False)
        self.code = self.plan.code

    def test_the_reviewer_is_told_the_plan_came_from_a_file_and_who_imported_it(self):
        self._submitted()
        self.client.force_login(self.bob)
        page = self.client.get(self._url("revision-detail", 1))
        self.assertContains(page, 'id="approve-form"')
        note = page.content.decode().split('id="imported-note">', 1)[1].split("</p>", 1)[0]
        self.assertIn("imported from a file by Alice Author", note)
        self.assertIn("If you wrote or edited that file, leave this review to another reviewer", note)

    def test_once_an_approval_covers_the_import_later_revisions_say_nothing(self):
        self._approved()
        set_draft(self.plan, plan_doc(name="Contoso, take two"))
        self._save(message="Second take")
        self.client.force_login(self.bob)
        self.assertNotContains(self.client.get(self._url("revision-detail", 2)), 'id="imported-note"')
        self.assertContains(self.client.get(self._url("revision-detail", 1)), 'id="imported-note"')

    def test_a_plan_made_in_the_planner_says_nothing(self):
        ReviewViewTestCase.setUp(self)
        self._submitted()
        self.client.force_login(self.bob)
        self.assertNotContains(self.client.get(self._url("revision-detail", 1)), 'id="imported-note"')


class QueueNamesTheRevisionTests(ReviewViewTestCase):
    """The reviewer's queue names each revision by the name it holds, not by the draft's name now."""

    def test_a_draft_renamed_after_submitting_does_not_rename_the_revision_in_the_queue(self):
        # The queue showed Plan.name, which follows the draft: an author could submit revision 1 of
        # "Contoso production" and rename the draft to "Lab only, harmless" (any text, even one the plan
        # reader refuses, such as a right-to-left override), and the reviewer's queue offered revision 1
        # under that name.
        plan = make_plan(name="Contoso production cut-over")
        revision = review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        review.submit_for_review(revision, by=self.alice)
        set_draft(plan, plan_doc(name="Lab only, harmless \u202etset"), by=self.alice)
        self.client.force_login(self.bob)
        page = self.client.get(reverse("review-queue"))
        row = re.search(rf'<tr data-plan="{plan.code}">(.*?)</tr>', page.content.decode(), re.S).group(1)
        self.assertIn("Contoso production cut-over", row)
        self.assertNotIn("Lab only", row)


class WithdrawalNamesTheApprovalTests(ReviewViewTestCase):
    """A withdrawal names the approval its page showed: a stale page never withdraws a later approval."""

    TYPED, SHOWN = TypedReviewTextTests.TYPED, TypedReviewTextTests.SHOWN
    assertTextareaHolds = TypedReviewTextTests.assertTextareaHolds

    def _approved_again(self):
        revision = self._approved()
        first = state.approval_of(revision)
        review.withdraw_approval(revision, by=self.bob, comment="first")
        review.submit_for_review(revision, by=self.alice)
        review.approve(revision, by=self.bob, comment="second look")
        return revision, first

    def test_a_page_showing_an_approval_withdrawn_since_withdraws_nothing_with_a_409(self):
        revision, first = self._approved_again()
        self.client.force_login(self.bob)
        response = self.client.post(self._url("revision-withdraw", 1), {"comment": self.TYPED, "approval": first.pk})
        self.assertContains(response, "The approval you read was withdrawn meanwhile", status_code=409)
        self.assertTextareaHolds(response, self.SHOWN, 409)
        self.assertEqual(state.revision_status(revision), state.Status.APPROVED)
        self.assertEqual(Review.objects.filter(decision=Review.Decision.WITHDRAWN).count(), 1)

    def test_the_page_names_the_approval_in_force_and_that_one_is_withdrawn(self):
        revision, _ = self._approved_again()
        self.client.force_login(self.bob)
        page = self.client.get(self._url("revision-detail", 1)).content.decode()
        current = state.approval_of(revision)
        self.assertIn(f'<input type="hidden" name="approval" value="{current.pk}">', page)
        response = self.client.post(self._url("revision-withdraw", 1), {"comment": "why", "approval": current.pk})
        self.assertRedirects(response, revision.get_absolute_url())
        self.assertEqual(state.revision_status(revision), state.Status.WITHDRAWN)

    def test_a_missing_or_damaged_approval_number_withdraws_nothing(self):
        revision = self._approved()
        pk = state.approval_of(revision).pk
        self.client.force_login(self.bob)
        for sent in ({}, {"approval": ""}, {"approval": f"{pk}_0"}, {"approval": "\u0661"},
                     {"approval": [str(pk), str(pk)]}):
            with self.subTest(sent=sent):
                response = self.client.post(self._url("revision-withdraw", 1), {"comment": self.TYPED, **sent})
                self.assertContains(response, "reload it, then withdraw", status_code=400)
                self.assertTextareaHolds(response, self.SHOWN, 400)
        self.assertEqual(state.revision_status(revision), state.Status.APPROVED)
