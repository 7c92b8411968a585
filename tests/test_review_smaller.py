"""Issue 12, item 10: the smaller findings of the attack, each with its test."""
from __future__ import annotations

import logging

from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from tests.base import BaseTestCase, current_version, make_plan, set_password
from wizard.models import AuditEvent, Review
from wizard.review import services, state

IP = "198.51.100.7"


class WithdrawApprovalTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = make_plan()
        self.revision = services.save_revision(self.plan, draft_version=current_version(self.plan), by=self.alice,
                                               message="r1")
        services.submit_for_review(self.revision, by=self.alice)
        services.approve(self.revision, by=self.bob)

    def test_an_approval_can_be_withdrawn_and_then_nothing_downloads_as_approved(self) -> None:
        services.withdraw_approval(self.revision, by=self.bob, comment="CAB revoked it")
        self.assertEqual(state.revision_status(self.revision), state.Status.WITHDRAWN)
        self.assertIsNone(state.approval_of(self.revision))
        with self.assertRaises(services.NotApproved):
            services.download_approved(self.revision, by=self.alice)
        self.assertTrue(AuditEvent.objects.filter(plan=self.plan, action=AuditEvent.Action.APPROVAL_WITHDRAWN)
                        .exists())
        # The author may submit it again, and a reviewer approve it again.
        services.submit_for_review(self.revision, by=self.alice)
        services.approve(self.revision, by=self.bob)
        self.assertEqual(state.revision_status(self.revision), state.Status.APPROVED)

    def test_withdrawing_needs_a_reviewer_who_did_not_contribute_and_a_reason(self) -> None:
        from django.core.exceptions import PermissionDenied

        for user in (self.alice, self.dave, self.erin):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.withdraw_approval(self.revision, by=user, comment="no")
        with self.assertRaises(services.ReviewRefused):
            services.withdraw_approval(self.revision, by=self.bob, comment="  ")
        self.assertEqual(state.revision_status(self.revision), state.Status.APPROVED)

    def test_the_revision_page_offers_withdrawal_to_a_reviewer(self) -> None:
        self.client.force_login(self.bob)
        page = self.client.get(self.revision.get_absolute_url())
        self.assertContains(page, 'id="withdraw-form"')
        approval = Review.objects.get(revision=self.revision, decision="approved")
        response = self.client.post(reverse("revision-withdraw", args=[self.plan.code, 1]),
                                    {"comment": "why", "approval": approval.pk})
        self.assertRedirects(response, self.revision.get_absolute_url())
        self.assertEqual(Review.objects.filter(revision=self.revision, decision="withdrawn").count(), 1)
        self.client.force_login(self.alice)
        self.assertNotContains(self.client.get(self.revision.get_absolute_url()), 'id="withdraw-form"')


class AuditAddressTests(BaseTestCase):
    def test_client_addresses_are_shown_to_editors_and_reviewers_only(self) -> None:
        plan = make_plan(ip=IP)
        url = reverse("plan-audit", args=[plan.code])
        for user, shown in ((self.alice, True), (self.erin, True), (self.bob, True), (self.dave, False)):
            with self.subTest(user=user.username):
                self.client.force_login(user)
                response = self.client.get(url)
                self.assertContains(response, 'data-action="created"')
                if shown:
                    self.assertContains(response, IP)
                else:
                    self.assertNotContains(response, IP)
                    self.assertContains(response, 'id="addresses-hidden"')


class ForbiddenLogTests(BaseTestCase):
    def test_a_403_is_logged_in_one_line_without_a_traceback(self) -> None:
        plan = make_plan()
        self.client.force_login(self.dave)  # read-only: any change is 403
        with self.assertLogs("django.request", "WARNING") as logs:
            response = self.client.post(reverse("plan-preset", args=[plan.code]), {"preset": "tls-dsk-only"})
        self.assertEqual(response.status_code, 403)
        records = [r for r in logs.records if getattr(r, "status_code", None) == 403]
        self.assertTrue(records)
        logger = logging.getLogger("django.request")
        for record in records:
            for log_filter in logger.filters:
                log_filter.filter(record)
            self.assertIsNone(record.exc_info)


class PasswordResetTests(BaseTestCase):
    def test_without_a_mail_server_the_reset_page_promises_no_mail(self) -> None:
        client = Client()
        page = client.get(reverse("password_reset"))
        self.assertContains(page, "sends no mail")
        self.assertNotContains(page, 'name="email"')
        response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
        self.assertContains(response, "no mail was sent")
        self.assertContains(client.get(reverse("password_reset_done")), "sends no mail")
        self.assertEqual(mail.outbox, [])

    @override_settings(PASSWORD_RESET_BY_MAIL=True, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    def test_with_a_mail_server_the_reset_sends_the_mail(self) -> None:
        set_password(self.alice)  # Django mails only accounts with a usable password
        response = Client().post(reverse("password_reset"), {"email": "alice@example.com"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(len(mail.outbox), 1)


class GuardPageHeaderTests(BaseTestCase):
    def test_the_413_and_400_guard_pages_carry_the_csp_and_frame_headers(self) -> None:
        client = Client()
        client.force_login(self.alice)
        too_big = client.generic("POST", reverse("plan-import"), b"{}", content_type="application/json",
                                 CONTENT_LENGTH=str(50 * 1024 * 1024))
        bad = client.generic("POST", reverse("plan-import"), b"", CONTENT_LENGTH="-5")
        for response, status in ((too_big, 413), (bad, 400)):
            with self.subTest(status=status):
                self.assertEqual(response.status_code, status)
                self.assertIn("default-src 'none'", response["Content-Security-Policy"])
                self.assertIn("frame-ancestors 'none'", response["Content-Security-Policy"])
                self.assertEqual(response["X-Frame-Options"], "DENY")
                self.assertEqual(response["X-Content-Type-Options"], "nosniff")
