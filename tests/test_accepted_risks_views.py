"""Accepting a broken-promise error as a risk, with a reason, on the review page (and withdrawing it)."""
from __future__ import annotations

import copy

from django.urls import reverse

from tests.base import DAMAGED_VERSIONS, BaseTestCase, make_plan, plan_doc, set_draft
from tests.test_wizard_views import step_post
from wizard.models import AuditEvent
from wizard.plan.engine import assess
from wizard.plan.exposure import accepts_outside_plan
from wizard.review.pages import build_output
from wizard.web.steps import apply, get_step, initial


def _without_edge() -> dict:
    # s01 promises extranet MFA; without its Edge pool the Edge path is "as today", so the plan
    # breaks its promise: mfa_edge_not_in_plan on `edge_pools`.
    doc = plan_doc()
    doc.pop("edge_pools", None)
    return doc


class AcceptedRiskTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = set_draft(make_plan(), _without_edge())
        self.review = reverse("plan-step", args=[self.plan.code, "review"])
        self.accept = reverse("plan-risk-accept", args=[self.plan.code])
        self.withdraw = reverse("plan-risk-withdraw", args=[self.plan.code])

    def post_accept(self, **changes: object):
        data = {"code": "mfa_edge_not_in_plan", "field": "edge_pools", "reason": "Edge replaced in March; NTLM off then",
                "draft_version": self.plan.draft_version, **changes}
        return self.client.post(self.accept, data)

    def errors(self) -> list[tuple[str, str]]:
        self.plan.refresh_from_db()
        _, findings = assess(self.plan.draft)
        return [(f.code, f.field) for f in findings if f.severity == "error"]

    def test_the_review_page_offers_the_error_to_accept_to_editors_only(self) -> None:
        self.client.force_login(self.alice)
        page = self.client.get(self.review)
        self.assertContains(page, 'id="risks"')
        self.assertContains(page, 'data-finding="mfa_edge_not_in_plan"')
        self.assertContains(page, self.accept)
        self.client.force_login(self.dave)   # read-only team member
        page = self.client.get(self.review)
        self.assertContains(page, 'data-finding="mfa_edge_not_in_plan"')
        self.assertNotContains(page, self.accept)

    def test_accepting_turns_the_error_into_a_warning_with_the_reason(self) -> None:
        self.assertIn(("mfa_edge_not_in_plan", "edge_pools"), self.errors())
        self.client.force_login(self.alice)
        response = self.post_accept()
        self.assertRedirects(response, self.review + "#risks", fetch_redirect_response=False)
        self.assertEqual(self.errors(), [])
        _, findings = assess(self.plan.draft)
        accepted = [f for f in findings if f.code == "mfa_edge_not_in_plan"]
        self.assertEqual([f.severity for f in accepted], ["warning"])
        self.assertTrue(accepted[0].message.startswith("accepted: Edge replaced in March; NTLM off then"))
        self.assertEqual(self.plan.draft["accepted_risks"], [
            {"code": "mfa_edge_not_in_plan", "field": "edge_pools", "reason": "Edge replaced in March; NTLM off then"}])
        event = AuditEvent.objects.filter(plan=self.plan, action=AuditEvent.Action.DRAFT_SAVED).latest("id")
        self.assertEqual(event.detail["step"], "accepted_risks")
        page = self.client.get(self.review)
        self.assertContains(page, "Accepted: Edge replaced in March; NTLM off then")

    def test_a_stale_page_accepts_nothing(self) -> None:
        self.client.force_login(self.alice)
        before = self.plan.draft_version
        set_draft(self.plan, _without_edge() | {"name": "Renamed meanwhile"})
        self.post_accept(draft_version=before)
        self.plan.refresh_from_db()
        self.assertNotIn("accepted_risks", self.plan.draft)

    def test_an_error_the_draft_does_not_have_cannot_be_accepted(self) -> None:
        self.client.force_login(self.alice)
        self.post_accept(code="mfa_registrar_password_open", field="pools[0].auth.block_ntlm_at_registrar")
        self.post_accept(code="passive_external_web_fqdn_missing", field="pools[0].external_web_fqdn")
        self.plan.refresh_from_db()
        self.assertNotIn("accepted_risks", self.plan.draft)

    def test_a_reason_is_required_and_stays_on_one_line(self) -> None:
        self.client.force_login(self.alice)
        for reason in ("", "   ", "first line\nsecond line", "x" * 501):
            self.post_accept(reason=reason)
        self.plan.refresh_from_db()
        self.assertNotIn("accepted_risks", self.plan.draft)

    def test_a_hostile_reason_is_text_on_the_page(self) -> None:
        self.client.force_login(self.alice)
        self.post_accept(reason="<script>alert(1)</script> $(Remove-Item C:\\) ’")
        page = self.client.get(self.review)
        self.assertNotContains(page, "<script>alert(1)</script>")
        self.assertContains(page, "&lt;script&gt;alert(1)&lt;/script&gt;")

    def test_only_editors_may_accept_or_withdraw(self) -> None:
        for user, status in ((self.dave, 403), (self.charlie, 404)):
            self.client.force_login(user)
            self.assertEqual(self.post_accept().status_code, status)
            self.assertEqual(self.client.post(self.withdraw, {"index": 0, "draft_version": 1}).status_code, status)
        self.plan.refresh_from_db()
        self.assertNotIn("accepted_risks", self.plan.draft)

    def test_withdrawing_makes_it_an_error_again(self) -> None:
        self.client.force_login(self.alice)
        self.post_accept()
        self.plan.refresh_from_db()
        self.client.post(self.withdraw, {"index": 0, "draft_version": self.plan.draft_version})
        self.assertIn(("mfa_edge_not_in_plan", "edge_pools"), self.errors())
        self.assertNotIn("accepted_risks", self.plan.draft)
        # An index that is not there any more withdraws nothing.
        self.post_accept()
        self.plan.refresh_from_db()
        self.client.post(self.withdraw, {"index": 5, "draft_version": self.plan.draft_version})
        self.plan.refresh_from_db()
        self.assertEqual(len(self.plan.draft["accepted_risks"]), 1)

    def test_a_draft_version_larger_than_the_database_holds_is_refused_in_words(self) -> None:
        # It reached the save's query and answered 500 (OverflowError from SQLite).
        self.client.force_login(self.alice)
        response = self.post_accept(draft_version="9" * 30)
        self.assertContains(response, "this page is out of date", status_code=400)
        self.plan.refresh_from_db()
        self.assertNotIn("accepted_risks", self.plan.draft)
        self.post_accept()
        self.plan.refresh_from_db()
        response = self.client.post(self.withdraw, {"index": 0, "draft_version": 2**63})
        self.assertContains(response, "this page is out of date", status_code=400)
        self.plan.refresh_from_db()
        self.assertEqual(len(self.plan.draft["accepted_risks"]), 1)

    def test_a_missing_or_damaged_draft_version_keeps_the_reason_and_stores_nothing(self) -> None:
        # It redirected to the review page: the typed reason was gone, and two versions (Django reads
        # the last) or `1_0` (Python's int() reads 10) could accept on top of a newer draft.
        self.client.force_login(self.alice)
        events = AuditEvent.objects.filter(plan=self.plan).count()
        for damaged in (*DAMAGED_VERSIONS, [str(self.plan.draft_version)] * 2):
            with self.subTest(version=damaged):
                data = {"code": "mfa_edge_not_in_plan", "field": "edge_pools", "reason": "Edge <gone> in March"}
                if damaged is not None:
                    data["draft_version"] = damaged
                response = self.client.post(self.accept, data)
                self.assertContains(response, "this page is out of date", status_code=400)
                self.assertContains(response, "Reload", status_code=400)
                self.assertContains(response, ">Edge &lt;gone&gt; in March</textarea>", status_code=400)
                self.assertEqual(response.context["risks"].version, self.plan.draft_version)
        self.plan.refresh_from_db()
        self.assertNotIn("accepted_risks", self.plan.draft)
        self.assertEqual(AuditEvent.objects.filter(plan=self.plan).count(), events)

    def test_a_withdrawal_with_a_damaged_draft_version_withdraws_nothing(self) -> None:
        self.client.force_login(self.alice)
        self.post_accept()
        self.plan.refresh_from_db()
        events = AuditEvent.objects.filter(plan=self.plan).count()
        for damaged in (*DAMAGED_VERSIONS, [str(self.plan.draft_version)] * 2):
            with self.subTest(version=damaged):
                data = {"index": "0"}
                if damaged is not None:
                    data["draft_version"] = damaged
                response = self.client.post(self.withdraw, data)
                self.assertContains(response, "this page is out of date", status_code=400)
        self.plan.refresh_from_db()
        self.assertEqual(len(self.plan.draft["accepted_risks"]), 1)
        self.assertEqual(AuditEvent.objects.filter(plan=self.plan).count(), events)

    def test_a_damaged_risk_number_withdraws_nothing_and_says_why(self) -> None:
        # The number of the risk to withdraw was read by IntegerField: `\u0661` (Arabic-Indic one) and `0_1`
        # (int() reads both as 1) and two numbers (Django reads the last) withdrew risk 1, not the one shown.
        self.client.force_login(self.alice)
        self.post_accept()
        self.plan.refresh_from_db()
        risks = [*self.plan.draft["accepted_risks"], {"code": "mfa_edge_not_in_plan", "field": "pools[0]",
                                                      "reason": "second"}]
        self.plan = set_draft(self.plan, {**self.plan.draft, "accepted_risks": risks})
        events = AuditEvent.objects.filter(plan=self.plan).count()
        for damaged in ("\u0661", "0_1", ["0", "1"], "1 1", "", None):
            with self.subTest(index=damaged):
                data = {"draft_version": self.plan.draft_version}
                if damaged is not None:
                    data["index"] = damaged
                response = self.client.post(self.withdraw, data, follow=True)
                self.assertContains(response, "Nothing was withdrawn")
                self.assertContains(response, "reload the review page")
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["accepted_risks"], risks)
        self.assertEqual(AuditEvent.objects.filter(plan=self.plan).count(), events)

    def test_a_refused_reason_is_shown_again_as_typed_with_the_field_named(self) -> None:
        # It redirected to the review page with an empty box and "This field is required." (which field?):
        # a long reason, or one with a line break (Enter in the box), was gone.
        self.client.force_login(self.alice)
        for reason, why in (("first line\nsecond line of the reason", "line breaks"),
                            ("x" * 600, "at most 500 characters"), ("", "required")):
            with self.subTest(why=why):
                response = self.post_accept(reason=reason)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, "Why this risk is accepted: ", status_code=400)
                self.assertContains(response, why, status_code=400)
                self.assertEqual(response.context["risks"].acceptable[0].reason, reason)
                self.assertContains(response, f">{reason}</textarea>", status_code=400)
                self.assertContains(response, 'aria-invalid="true"', status_code=400)
        self.plan.refresh_from_db()
        self.assertNotIn("accepted_risks", self.plan.draft)

    def test_a_stale_page_keeps_the_typed_reason_for_the_error_still_there(self) -> None:
        self.client.force_login(self.alice)
        before = self.plan.draft_version
        set_draft(self.plan, _without_edge() | {"name": "Renamed meanwhile"})
        response = self.post_accept(draft_version=before, reason="Edge replaced in March")
        self.assertContains(response, "the draft changed while you were reading it", status_code=409)
        self.assertContains(response, ">Edge replaced in March</textarea>", status_code=409)
        # The page now carries the draft's current version: accepting again from it works.
        self.assertEqual(response.context["risks"].version, self.plan.draft_version)
        self.post_accept(reason="Edge replaced in March")
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["accepted_risks"][0]["reason"], "Edge replaced in March")


def _three_pools() -> dict:
    """s01 with three pools: pool b and pool c keep NTLM at their Registrar under the MFA promise, so each has
    its own broken-promise error (mfa_registrar_password_open on pools[1] and pools[2])."""
    doc = plan_doc()
    pools = []
    for name in "abc":
        pool = copy.deepcopy(doc["pools"][0])
        pool.update(fqdn=f"pool{name}.contoso.com", internal_web_fqdn=f"pool{name}.contoso.com",
                    external_web_fqdn=f"web{name}.contoso.com",
                    relying_parties={"internal": f"Int-{name}", "external": f"Ext-{name}"})
        pool["auth"]["block_ntlm_at_registrar"] = name == "a"
        pools.append(pool)
    doc["pools"] = pools
    doc["accepted_risks"] = [{"code": "mfa_registrar_password_open", "field": "pools[1].auth.block_ntlm_at_registrar",
                              "reason": "pool b is retired in May"}]
    return doc


class AcceptedRiskFollowsItsPoolTests(BaseTestCase):
    """An accepted risk names its pool by position; removing or reordering pools in the Environment step must not
    hand the acceptance (and its reason) to another pool's broken promise."""

    def setUp(self) -> None:
        self.plan = set_draft(make_plan(), _three_pools())
        self.url = reverse("plan-step", args=[self.plan.code, "environment"])
        self.client.force_login(self.alice)

    def errors(self) -> list[tuple[str, str]]:
        self.plan.refresh_from_db()
        _, findings = assess(self.plan.draft)
        return [(f.code, f.field) for f in findings if f.severity == "error"]

    def test_removing_the_accepted_pool_does_not_accept_the_next_one(self) -> None:
        self.assertEqual(self.errors(), [("mfa_registrar_password_open", "pools[2].auth.block_ntlm_at_registrar")])
        response = self.client.post(self.url, step_post(self.plan, "environment", **{"pools-1-DELETE": "on"}))
        self.assertEqual(response.status_code, 302)
        self.plan.refresh_from_db()
        self.assertEqual([p["fqdn"] for p in self.plan.draft["pools"]], ["poola.contoso.com", "poolc.contoso.com"])
        # Pool c (now pools[1]) still has its error: nobody accepted it, the reason was about pool b.
        self.assertEqual(self.errors(), [("mfa_registrar_password_open", "pools[1].auth.block_ntlm_at_registrar")])
        self.assertNotIn("accepted_risks", self.plan.draft)

    def test_removing_a_pool_above_moves_the_acceptance_with_its_pool(self) -> None:
        self.client.post(self.url, step_post(self.plan, "environment", **{"pools-0-DELETE": "on"}))
        self.plan.refresh_from_db()
        self.assertEqual([p["fqdn"] for p in self.plan.draft["pools"]], ["poolb.contoso.com", "poolc.contoso.com"])
        self.assertEqual(self.plan.draft["accepted_risks"], [
            {"code": "mfa_registrar_password_open", "field": "pools[0].auth.block_ntlm_at_registrar",
             "reason": "pool b is retired in May"}])
        # Pool b's error is still accepted; pool c's is still an error.
        self.assertEqual(self.errors(), [("mfa_registrar_password_open", "pools[1].auth.block_ntlm_at_registrar")])

    def test_reordered_pools_keep_each_acceptance_on_its_own_pool(self) -> None:
        doc = self.plan.draft
        values = initial(get_step("environment"), doc)
        values["pools"] = [values["pools"][0], values["pools"][2], values["pools"][1]]  # c before b
        new = apply(get_step("environment"), doc, values)
        self.assertEqual([p["fqdn"] for p in new["pools"]], ["poola.contoso.com", "poolc.contoso.com",
                                                              "poolb.contoso.com"])
        self.assertEqual(new["accepted_risks"][0]["field"], "pools[2].auth.block_ntlm_at_registrar")
        self.assertEqual(doc["accepted_risks"][0]["field"], "pools[1].auth.block_ntlm_at_registrar")  # not changed


class OutsidePlanRiskTests(BaseTestCase):
    """An MFA plan's lync-management-shell.ps1 stops on the topology's pools and Edge pools it does not list unless
    the plan accepts that risk on `pools` / `edge_pools`. Without a state file no error names those fields, so the
    review page offers that acceptance itself, stored as the entry the script reads (accepts_outside_plan)."""

    def setUp(self) -> None:
        self.plan = make_plan()   # s01: passive, extranet MFA, one Front End pool and one Edge pool
        self.review = reverse("plan-step", args=[self.plan.code, "review"])
        self.accept = reverse("plan-risk-accept", args=[self.plan.code])

    def post_accept(self, field: str, code: str, reason: str = "Director dir01 is retired in March") -> object:
        return self.client.post(self.accept, {"code": code, "field": field, "reason": reason,
                                              "draft_version": self.plan.draft_version})

    def management_shell(self) -> str:
        self.plan.refresh_from_db()
        out = build_output(self.plan, self.plan.draft)
        assert out.bundle is not None, out.problem
        return out.bundle.texts["lync-management-shell.ps1"]

    def test_the_review_page_offers_pools_and_edge_pools_outside_the_plan(self) -> None:
        self.client.force_login(self.alice)
        page = self.client.get(self.review)
        offered = [(r.finding.code, r.finding.field, r.label, r.outside_plan) for r in page.context["risks"].acceptable]
        self.assertEqual(offered, [
            ("mfa_web_password_open", "pools", "Front End and Director pools not in the plan", True),
            ("mfa_edge_password_open", "edge_pools", "Edge pools not in the plan", True)])
        self.assertContains(page, "stops lync-management-shell.ps1", count=2)
        self.assertContains(page, "on the Environment step")
        self.assertContains(page, self.accept)
        self.client.force_login(self.dave)   # read-only: sees the offer, not the form
        page = self.client.get(self.review)
        self.assertContains(page, "Front End and Director pools not in the plan")
        self.assertNotContains(page, self.accept)

    def test_accepting_pools_is_the_entry_the_script_reads_with_an_audit_row(self) -> None:
        self.assertIn("$Outside += ('pool ' + $Fqdn)", self.management_shell())   # stops on such a pool
        self.client.force_login(self.alice)
        response = self.post_accept("pools", "mfa_web_password_open")
        self.assertRedirects(response, self.review + "#risks", fetch_redirect_response=False)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["accepted_risks"], [
            {"code": "mfa_web_password_open", "field": "pools", "reason": "Director dir01 is retired in March"}])
        event = AuditEvent.objects.filter(plan=self.plan, action=AuditEvent.Action.DRAFT_SAVED).latest("pk")
        self.assertEqual(event.detail["step"], "accepted_risks")
        data, findings = assess(self.plan.draft)
        assert data is not None
        self.assertTrue(accepts_outside_plan(data, "pools"))
        self.assertFalse(accepts_outside_plan(data, "edge_pools"))
        self.assertNotIn("accepted_risk_unused", [f.code for f in findings])
        script = self.management_shell()
        self.assertIn("The plan accepts that risk (accepted_risks, field pools)", script)
        self.assertNotIn("$Outside += ('pool ' + $Fqdn)", script)
        self.assertIn("$Outside += ('Edge pool ' + $Fqdn)", script)   # the Edge pools outside the plan still stop it
        page = self.client.get(self.review)
        self.assertEqual([(r.field, r.label) for r in page.context["risks"].accepted],
                         [("pools", "Front End and Director pools not in the plan")])
        self.assertEqual([r.finding.field for r in page.context["risks"].acceptable], ["edge_pools"])

    def test_accepting_both_lets_the_script_go_on_past_them(self) -> None:
        self.client.force_login(self.alice)
        self.post_accept("pools", "mfa_web_password_open")
        self.plan.refresh_from_db()
        self.post_accept("edge_pools", "mfa_edge_password_open", reason="Second Edge pool goes in April")
        script = self.management_shell()
        self.assertNotIn("$Outside += (", script)
        self.assertIn("The plan accepts that risk (accepted_risks, field edge_pools)", script)
        self.assertEqual(self.client.get(self.review).context["risks"].acceptable, [])

    def test_a_plan_without_mfa_is_offered_nothing_and_a_forged_post_stores_nothing(self) -> None:
        doc = plan_doc()
        doc["adfs"]["mfa"] = "none"
        self.plan = set_draft(self.plan, doc)
        self.client.force_login(self.alice)
        self.assertIsNone(self.client.get(self.review).context["risks"])
        self.post_accept("pools", "mfa_web_password_open")
        self.plan.refresh_from_db()
        self.assertNotIn("accepted_risks", self.plan.draft)

    def test_only_a_code_the_script_reads_is_taken_for_pools(self) -> None:
        self.client.force_login(self.alice)
        self.post_accept("pools", "mfa_adfs_not_extranet")
        self.plan.refresh_from_db()
        self.assertNotIn("accepted_risks", self.plan.draft)

    def test_modern_authentication_offers_edge_pools_only(self) -> None:
        # A pool outside a Modern Authentication plan stops the script whatever is accepted (its users could not
        # sign in), so accepting `pools` there would change nothing: it is not offered.
        self.plan = set_draft(self.plan, plan_doc("sfbse-modern-auth-adfs2019-mfa"))
        self.client.force_login(self.alice)
        risks = self.client.get(self.review).context["risks"]
        self.assertNotIn("pools", [r.finding.field for r in risks.acceptable])
        before = self.plan.draft["accepted_risks"]
        self.post_accept("pools", "mfa_web_password_open")
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["accepted_risks"], before)

    def test_a_pool_added_on_the_environment_step_without_auth_is_in_the_plan(self) -> None:
        # The other remedy: list the pool, its settings left alone ("Leave unchanged" on the Authentication step).
        self.client.force_login(self.alice)
        env = reverse("plan-step", args=[self.plan.code, "environment"])
        data = step_post(self.plan, "environment")
        n = int(data["pools-TOTAL_FORMS"])
        data.update({"pools-TOTAL_FORMS": str(n + 1), f"pools-{n}-fqdn": "dir01.contoso.com",
                     f"pools-{n}-role": "director"})
        self.client.post(env, data)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["pools"][-1], {"fqdn": "dir01.contoso.com", "role": "director"})
        # Listed without auth it is in the model: its own errors name it, each offered to fix or accept.
        offered = [r.finding.field for r in self.client.get(self.review).context["risks"].acceptable]
        self.assertIn("pools[1].auth.external", offered)
