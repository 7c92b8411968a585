"""The Django admin: every model is there; records (revisions, reviews, audit rows) are read-only."""
from __future__ import annotations

import json
from pathlib import Path

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from tests.base import BaseTestCase, current_version, set_draft
from wizard.models import AuditEvent, Comment, Plan, PlanShare
from wizard.review import estate
from wizard.review import services as review

EDITABLE = ["plan", "planshare", "comment"]
READ_ONLY = ["revision", "review", "auditevent", "planstate"]


class AdminTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.root = User.objects.create_superuser("root", "root@example.com", "x")
        revision = review.save_revision(cls.plan, draft_version=current_version(cls.plan), by=cls.alice, message="one")
        review.submit_for_review(revision, by=cls.alice)
        review.approve(revision, by=cls.bob, comment="ok")
        review.add_comment(cls.plan, by=cls.bob, body="Looks right", revision=revision)
        cls.revision = revision
        state = (Path(__file__).resolve().parent / "fixtures" / "states" / "sfb2019-adfs2019-wap.state.json")
        cls.state = estate.store_state(cls.plan, doc=json.loads(state.read_text(encoding="utf-8")), by=cls.alice)

    def setUp(self) -> None:
        self.client.force_login(self.root)

    def test_every_model_of_the_app_is_registered(self):
        for model in apps.get_app_config("wizard").get_models():
            with self.subTest(model=model.__name__):
                self.assertTrue(admin.site.is_registered(model))

    def test_every_changelist_and_change_page_opens(self):
        objects = {
            "plan": self.plan, "planshare": self.plan.shares.first(), "comment": Comment.objects.first(),
            "revision": self.revision, "review": self.revision.reviews.first(), "auditevent": AuditEvent.objects.first(),
            "planstate": self.state,
        }
        for name in EDITABLE + READ_ONLY:
            with self.subTest(model=name):
                self.assertEqual(self.client.get(reverse(f"admin:wizard_{name}_changelist")).status_code, 200)
                url = reverse(f"admin:wizard_{name}_change", args=[objects[name].pk])
                self.assertEqual(self.client.get(url).status_code, 200)

    def test_add_pages_open_for_editable_models(self):
        for name in EDITABLE:
            with self.subTest(model=name):
                self.assertEqual(self.client.get(reverse(f"admin:wizard_{name}_add")).status_code, 200)

    def test_records_cannot_be_added_changed_or_deleted(self):
        objects = {"revision": self.revision, "review": self.revision.reviews.first(),
                   "auditevent": AuditEvent.objects.first(), "planstate": self.state}
        for name in READ_ONLY:
            with self.subTest(model=name):
                self.assertEqual(self.client.get(reverse(f"admin:wizard_{name}_add")).status_code, 403)
                obj = objects[name]
                self.assertEqual(self.client.get(reverse(f"admin:wizard_{name}_delete", args=[obj.pk])).status_code,
                                 403)
                change = self.client.get(reverse(f"admin:wizard_{name}_change", args=[obj.pk]))
                self.assertNotContains(change, 'name="_save"')
        self.assertEqual(self.client.get(reverse("admin:wizard_comment_delete",
                                                 args=[Comment.objects.first().pk])).status_code, 403)

    def test_changing_sharing_in_the_admin_is_audited(self):
        share = self.plan.shares.get(group=self.personas.read_team)
        url = reverse("admin:wizard_planshare_change", args=[share.pk])
        response = self.client.post(url, {"plan": self.plan.pk, "group": share.group.pk, "can_edit": "on"},
                                    REMOTE_ADDR="198.51.100.7")
        self.assertEqual(response.status_code, 302)
        share.refresh_from_db()
        self.assertTrue(share.can_edit)
        event = AuditEvent.objects.filter(plan=self.plan, action=AuditEvent.Action.SHARED).latest("id")
        self.assertEqual((event.actor, event.ip_address, event.detail["access"]), (self.root, "198.51.100.7", "edit"))

    def test_adding_a_plan_in_the_admin_is_audited(self):
        response = self.client.post(reverse("admin:wizard_plan_add"), {
            "name": "From the admin", "product": "sfb2019", "owner": self.alice.pk, "draft": '{"name": "From the admin"}', "preset": "",
            "shares-TOTAL_FORMS": "0", "shares-INITIAL_FORMS": "0",
            "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0",
        })
        self.assertEqual(response.status_code, 302, response.content[:2000])
        plan = Plan.objects.get(name="From the admin")
        self.assertEqual(list(plan.audit_events.values_list("action", flat=True)), [AuditEvent.Action.CREATED])
        self.assertFalse(PlanShare.objects.filter(plan=plan).exists())

    def _plan_form(self, page, **changes):
        form = page.context["adminform"].form
        data = {name: form[name].value() for name in ("name", "product", "owner", "draft", "preset",
                                                      "seen_draft_version") if name in form.fields}
        data.update({"shares-TOTAL_FORMS": "0", "shares-INITIAL_FORMS": "0",
                     "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"})
        data.update(changes)
        return data

    def test_a_draft_edited_in_the_admin_from_a_stale_page_is_refused_not_saved_over_a_newer_draft(self):
        url = reverse("admin:wizard_plan_change", args=[self.plan.pk])
        page = self.client.get(url)
        shown = json.loads(page.context["adminform"].form["draft"].value())
        # alice saves the draft in the wizard while the administrator has the page open.
        set_draft(self.plan, {**shown, "name": "Contoso, alice's newer edit"}, by=self.alice)
        version = current_version(self.plan)
        stale = self.client.post(url, self._plan_form(page, draft=json.dumps({**shown, "x_ticket": "CHG-9"})))
        self.assertEqual(stale.status_code, 200)
        self.assertContains(stale, "changed since this page was opened")
        self.plan.refresh_from_db()
        self.assertEqual((self.plan.draft["name"], self.plan.draft_version), ("Contoso, alice's newer edit", version))
        self.assertNotIn("x_ticket", self.plan.draft)
        # Opened again, the page shows alice's draft, and the edit saves over it as a new version.
        page = self.client.get(url)
        doc = json.loads(page.context["adminform"].form["draft"].value())
        saved = self.client.post(url, self._plan_form(page, draft=json.dumps({**doc, "x_ticket": "CHG-9"})))
        self.assertEqual(saved.status_code, 302)
        self.plan.refresh_from_db()
        self.assertEqual((self.plan.draft["name"], self.plan.draft["x_ticket"], self.plan.draft_version),
                         ("Contoso, alice's newer edit", "CHG-9", version + 1))
        event = AuditEvent.objects.filter(plan=self.plan, action=AuditEvent.Action.DRAFT_SAVED).latest("id")
        self.assertEqual((event.actor, event.detail["via"], event.detail["version"]), (self.root, "admin", version + 1))
