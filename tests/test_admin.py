"""The Django admin: every model is there; records (revisions, reviews, audit rows) are read-only."""
from __future__ import annotations

import json
from pathlib import Path

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.test import RequestFactory
from django.urls import reverse

from tests.base import EDIT_TEAM as EDIT_TEAM_NAME
from tests.base import BaseTestCase, admin_user_form, current_version, make_plan, set_draft
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

    def test_a_draft_that_is_not_an_object_or_nested_too_deeply_is_refused_in_words(self):
        # The admin stored any JSON as the draft: "x" or 5 made the plan's "Save revision" page answer 500, and
        # JSON nested thousands deep made the admin's own form answer 500 (RecursionError).
        url = reverse("admin:wizard_plan_change", args=[self.plan.pk])
        version = current_version(self.plan)
        for draft, words in (('"x"', "must be a JSON object"), ("5", "must be a JSON object"),
                             ("[1]", "must be a JSON object"), ("[" * 5000 + "]" * 5000, "nested too deeply"),
                             # Deeper than a plan may be (every page reads the draft); NaN, which PostgreSQL's
                             # jsonb cannot store (a 500 there).
                             ('{"x_a": ' + "[" * 40 + "]" * 40 + "}", "x_a" + "[0]" * 31 + ": is nested more"),
                             ('{"x_a": NaN}', "x_a: must be a finite number")):
            with self.subTest(draft=draft[:10]):
                response = self.client.post(url, self._plan_form(self.client.get(url), draft=draft))
                self.assertContains(response, words, status_code=200)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft_version, version)
        self.assertIsInstance(self.plan.draft, dict)

    def test_a_draft_with_a_number_too_long_to_read_a_lone_surrogate_or_a_repeated_key_is_refused_in_words(self):
        # A 5,000-digit integer made json.loads raise ValueError (Python's 4,300-digit limit), which Django's form
        # does not catch: a 500. A lone surrogate in a value ("\ud800", which JSON allows) was stored; then the Save
        # revision page and this very form answered 500 (the draft cannot be written as UTF-8), and PostgreSQL
        # cannot store it at all.
        url = reverse("admin:wizard_plan_change", args=[self.plan.pk])
        version = current_version(self.plan)
        for draft, words in (('{"x_a": ' + "9" * 5000 + "}", "The draft cannot be read"),
                             ('{"name": "\\ud800"}', "lone surrogate"), ('{"x_a": ["x\\udfff"]}', "lone surrogate"),
                             # A key given twice kept its last value silently (the plan reader refuses it in a file).
                             ('{"name": "a", "x_b": {"c": 1, "c": 2}}', "appears twice")):
            with self.subTest(draft=draft[:12]):
                response = self.client.post(url, self._plan_form(self.client.get(url), draft=draft))
                self.assertContains(response, words, status_code=200)
                self.assertContains(response, draft[:8].replace('"', "&quot;"), status_code=200)  # shown as sent
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft_version, version)
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get(reverse("revision-save", args=[self.plan.code])).status_code, 200)

    def test_a_nul_character_in_a_draft_edited_here_is_stored_as_the_wizard_stores_it(self):
        # PostgreSQL stores no NUL in jsonb: the admin passed it on (a 500 there); the wizard's draft saves
        # replace it with U+FFFD, and so does the admin now.
        url = reverse("admin:wizard_plan_change", args=[self.plan.pk])
        page = self.client.get(url)
        doc = json.loads(page.context["adminform"].form["draft"].value())
        response = self.client.post(url, self._plan_form(page, draft=json.dumps({**doc, "x_note": "a\u0000b"})))
        self.assertEqual(response.status_code, 302)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["x_note"], "a\ufffdb")

    def test_a_stored_draft_that_is_not_an_object_shows_its_errors_on_the_revision_page(self):
        # Such drafts may be stored already (the admin took them before): the page says what is wrong.
        for draft in ("x", 5, ["x"]):
            with self.subTest(draft=draft):
                Plan.objects.filter(pk=self.plan.pk).update(draft=draft)
                self.client.force_login(self.alice)
                page = self.client.get(reverse("revision-save", args=[self.plan.code]))
                self.assertEqual(page.status_code, 200)
                self.assertTrue(page.context["check"].errors)

    def test_a_share_cannot_be_moved_to_another_plan_or_group_in_the_admin(self):
        other = make_plan(name="Fabrikam")
        share = self.plan.shares.get(group=self.personas.read_team)
        url = reverse("admin:wizard_planshare_change", args=[share.pk])
        response = self.client.post(url, {"plan": other.pk, "group": self.personas.edit_team.pk, "can_edit": "on"})
        self.assertEqual(response.status_code, 302)
        share.refresh_from_db()
        # The access change is made, on the share's own plan and group, and recorded there.
        self.assertEqual((share.plan, share.group, share.can_edit), (self.plan, self.personas.read_team, True))
        self.assertFalse(AuditEvent.objects.filter(plan=other, action=AuditEvent.Action.SHARED).exists())

    def test_a_share_given_another_group_in_the_plan_page_records_the_group_that_lost_it(self):
        url = reverse("admin:wizard_plan_change", args=[self.plan.pk])
        page = self.client.get(url)
        data = self._plan_form(page)
        formset = next(f for f in page.context["inline_admin_formsets"] if f.formset.model is PlanShare).formset
        data.update({"shares-TOTAL_FORMS": str(len(formset.forms)), "shares-INITIAL_FORMS": str(formset.initial_form_count())})
        for i, form in enumerate(formset.forms):
            for name in ("id", "plan", "group", "can_edit"):
                value = form[name].value()
                if value not in (None, False):
                    data[f"shares-{i}-{name}"] = "on" if value is True else str(value)
        outsiders = Group.objects.create(name="Outsiders")
        moved = next(i for i, form in enumerate(formset.forms) if form.instance.group == self.personas.read_team)
        data[f"shares-{moved}-group"] = str(outsiders.pk)
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 302, response.content[:3000])
        events = [(e.detail["group"], e.detail["access"]) for e in
                  AuditEvent.objects.filter(plan=self.plan, action=AuditEvent.Action.SHARED).order_by("id")]
        self.assertIn((self.personas.read_team.name, "none"), events)
        self.assertIn((outsiders.name, "read"), events)

    def test_a_comment_added_in_the_admin_is_the_administrators_and_sits_on_its_own_plans_revision(self):
        other = make_plan(name="Fabrikam")
        add = reverse("admin:wizard_comment_add")
        response = self.client.post(add, {"plan": other.pk, "revision": self.revision.pk, "body": "moved",
                                          "author": self.bob.pk})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "belongs to another plan")
        self.assertFalse(Comment.objects.filter(body="moved").exists())
        response = self.client.post(add, {"plan": self.plan.pk, "revision": self.revision.pk, "body": "noted",
                                          "author": self.bob.pk})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Comment.objects.get(body="noted").author, self.root)

    def test_moderating_a_comment_changes_its_text_only(self):
        other = make_plan(name="Fabrikam")
        comment = Comment.objects.get(body="Looks right")
        url = reverse("admin:wizard_comment_change", args=[comment.pk])
        response = self.client.post(url, {"plan": other.pk, "revision": "", "author": self.root.pk,
                                          "body": "Looks right [secret removed]"})
        self.assertEqual(response.status_code, 302)
        comment.refresh_from_db()
        self.assertEqual((comment.plan, comment.revision, comment.author, comment.body),
                         (self.plan, self.revision, self.bob, "Looks right [secret removed]"))



class TeamDeletionTests(BaseTestCase):
    """Deleting a team in the admin ends its plans' sharing: each plan's audit trail says so."""

    def setUp(self) -> None:
        self.root = User.objects.create_superuser("root", "root@example.com", "x")
        self.client.force_login(self.root)

    def test_deleting_a_team_writes_a_sharing_row_on_each_plan_it_had(self):
        # Deleting a group cascaded to its PlanShare rows: the team lost (or its members lost) access to every
        # plan shared with it, and no plan's audit trail said so.
        other = make_plan(name="Second plan")
        team = self.personas.edit_team
        url = reverse("admin:auth_group_delete", args=[team.pk])
        response = self.client.post(url, {"post": "yes"}, REMOTE_ADDR="198.51.100.9")
        self.assertEqual(response.status_code, 302)
        self.assertFalse(PlanShare.objects.filter(group_id=team.pk).exists())
        for plan in (self.plan, other):
            with self.subTest(plan=plan.name):
                row = AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.SHARED).latest("id")
                self.assertEqual((row.actor, row.detail["group"], row.detail["access"], row.detail["via"]),
                                 (self.root, EDIT_TEAM_NAME, "none", "admin"))
                self.assertEqual(row.ip_address, "198.51.100.9")

    def test_deleting_teams_from_the_list_writes_the_rows_too(self):
        team = self.personas.read_team
        self.client.post(reverse("admin:auth_group_changelist"),
                         {"action": "delete_selected", "_selected_action": [team.pk], "post": "yes"})
        self.assertFalse(Group.objects.filter(pk=team.pk).exists())
        row = AuditEvent.objects.filter(plan=self.plan, action=AuditEvent.Action.SHARED).latest("id")
        self.assertEqual((row.detail["group"], row.detail["access"]), (team.name, "none"))


class PlanDeletionTests(BaseTestCase):
    """Deleting a plan in the admin (one with no revision, comment or state file: those records are read-only, so
    their plan cannot be deleted) takes its draft with it: the audit trail must say who did it and when."""

    def setUp(self) -> None:
        self.root = User.objects.create_superuser("root", "root@example.com", "x")
        self.client.force_login(self.root)

    def _deleted_rows(self) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(action=AuditEvent.Action.DELETED))

    def test_deleting_a_plan_writes_a_row_naming_it(self):
        set_draft(self.plan, self.plan.draft | {"name": "Contoso, edited"}, by=self.erin)
        code, version = str(self.plan.code), self.plan.draft_version
        response = self.client.post(reverse("admin:wizard_plan_delete", args=[self.plan.pk]), {"post": "yes"},
                                    REMOTE_ADDR="198.51.100.7")
        self.assertEqual(response.status_code, 302)
        self.assertFalse(Plan.objects.filter(code=code).exists())
        [row] = self._deleted_rows()
        self.assertEqual((row.actor, row.ip_address, row.plan), (self.root, "198.51.100.7", None))
        self.assertEqual({k: row.detail[k] for k in ("via", "code", "name", "owner", "draft_version")},
                         {"via": "admin", "code": code, "name": "Contoso, edited", "owner": "alice",
                          "draft_version": version})
        # The plan's earlier rows are still there (their link to the plan emptied).
        self.assertTrue(AuditEvent.objects.filter(plan=None, action=AuditEvent.Action.DRAFT_SAVED).exists())

    def test_deleting_plans_from_the_list_writes_a_row_each(self):
        other = make_plan(name="Second plan")
        self.client.post(reverse("admin:wizard_plan_changelist"),
                         {"action": "delete_selected", "_selected_action": [self.plan.pk, other.pk], "post": "yes"})
        self.assertFalse(Plan.objects.filter(pk__in=[self.plan.pk, other.pk]).exists())
        self.assertEqual(sorted(row.detail["name"] for row in self._deleted_rows()),
                         sorted([self.plan.name, "Second plan"]))

    def test_a_plan_with_a_revision_cannot_be_deleted(self):
        review.save_revision(self.plan, draft_version=current_version(self.plan), by=self.alice, message="one")
        response = self.client.post(reverse("admin:wizard_plan_delete", args=[self.plan.pk]), {"post": "yes"})
        self.assertEqual(response.status_code, 403)
        self.assertTrue(Plan.objects.filter(pk=self.plan.pk).exists())
        self.assertEqual(self._deleted_rows(), [])


class StaffWithoutSuperuserTests(BaseTestCase):
    """A staff account holding every model permission of the app, but no superuser: the admin does not apply
    the product's sharing or four-eyes rules, so its plan pages are for superusers only; the product's own
    pages still show him what is shared with him, and nothing else."""

    def setUp(self) -> None:
        self.mallory = User.objects.create_user("mallory", "mallory@example.com", None, is_staff=True)
        self.mallory.user_permissions.set(Permission.objects.filter(content_type__app_label="wizard"))
        self.mallory.groups.add(self.personas.read_team)
        self.secret = make_plan(name="Not shared with mallory", shared=False)
        review.add_comment(self.secret, by=self.alice, body="private")
        self.client.force_login(self.mallory)

    def test_no_plan_page_of_the_admin_opens_or_lists_a_plan(self):
        comment = Comment.objects.get(plan=self.secret)
        objects = {"plan": self.secret, "planshare": self.plan.shares.first(), "comment": comment,
                   "auditevent": AuditEvent.objects.filter(plan=self.secret).first()}
        for name in EDITABLE + READ_ONLY:
            with self.subTest(model=name):
                listing = self.client.get(reverse(f"admin:wizard_{name}_changelist"))
                self.assertEqual(listing.status_code, 403)
                self.assertNotContains(listing, "Not shared with mallory", status_code=403)
                if name in objects:
                    for view in ("change", "delete", "history"):
                        url = reverse(f"admin:wizard_{name}_{view}", args=[objects[name].pk])
                        self.assertIn(self.client.get(url).status_code, (403, 404), (name, view))
        for name in EDITABLE:
            with self.subTest(add=name):
                self.assertEqual(self.client.get(reverse(f"admin:wizard_{name}_add")).status_code, 403)
        index = self.client.get(reverse("admin:index"))
        self.assertNotContains(index, "/admin/wizard/")

    def test_a_draft_posted_to_the_admin_is_not_saved(self):
        version = current_version(self.secret)
        url = reverse("admin:wizard_plan_change", args=[self.secret.pk])
        response = self.client.post(url, {"name": "taken over", "product": "sfbse", "owner": self.mallory.pk,
                                           "draft": json.dumps({"name": "taken over"}),
                                           "seen_draft_version": version, "preset": "",
                                           "shares-TOTAL_FORMS": "0", "shares-INITIAL_FORMS": "0",
                                           "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"})
        self.assertEqual(response.status_code, 403)
        self.secret.refresh_from_db()
        self.assertEqual((self.secret.name, self.secret.owner, self.secret.draft_version),
                         ("Not shared with mallory", self.alice, version))
        self.assertFalse(AuditEvent.objects.filter(plan=self.secret, actor=self.mallory).exists())

    def test_every_admin_of_the_apps_models_and_its_inlines_refuses_him(self):
        request = RequestFactory().get("/admin/")
        request.user = self.mallory
        for model, model_admin in admin.site._registry.items():
            if model._meta.app_label != "wizard":
                continue
            for each in [model_admin, *(inline(model, admin.site) for inline in model_admin.inlines)]:
                with self.subTest(admin=type(each).__name__):
                    self.assertFalse(each.has_view_permission(request, self.secret))
                    self.assertFalse(each.has_change_permission(request, self.secret))
                    self.assertFalse(each.has_delete_permission(request, self.secret))

    def test_the_products_pages_still_follow_sharing(self):
        self.assertEqual(self.client.get(reverse("plan-detail", args=[self.plan.code])).status_code, 200)
        self.assertEqual(self.client.get(reverse("plan-detail", args=[self.secret.code])).status_code, 404)
        listing = self.client.get(reverse("plan-list"))
        self.assertContains(listing, self.plan.name)
        self.assertNotContains(listing, "Not shared with mallory")


class TeamChangeTests(BaseTestCase):
    """Who is in a team, and whether the team holds the reviewer permission, decide who may read, edit or approve
    the plans it reaches: a change made in the admin is written on each such plan's audit trail."""

    def setUp(self) -> None:
        self.root = User.objects.create_superuser("root", "root@example.com", "x")
        self.client.force_login(self.root)
        self.other = make_plan(name="Shared with nobody", shared=False)

    def _post_groups(self, user: User, groups: list[Group]):
        data = admin_user_form(user, groups=[g.pk for g in groups])
        response = self.client.post(reverse("admin:auth_user_change", args=[user.pk]), data)
        self.assertEqual(response.status_code, 302, getattr(response, "context", None)
                         and response.context["adminform"].form.errors)
        return response

    def _rows(self, plan: Plan):
        return list(AuditEvent.objects.filter(plan=plan, action="team_changed").order_by("id"))

    def test_joining_an_editing_team_is_on_the_trail_of_each_plan_shared_with_it(self):
        self._post_groups(self.charlie, [self.personas.edit_team])
        [row] = self._rows(self.plan)
        self.assertEqual(row.actor, self.root)
        self.assertEqual({k: v for k, v in row.detail.items() if v is not None},
                         {"team": EDIT_TEAM_NAME, "member": "charlie", "change": "joined", "shared": "edit"})
        self.assertEqual(self._rows(self.other), [])
        self.client.force_login(self.alice)
        page = self.client.get(reverse("plan-audit", args=[self.plan.code]))
        self.assertContains(page, "Team changed")
        self.assertContains(page, "<code>charlie</code>", html=False)

    def test_leaving_a_team_is_on_the_trail_too_and_nothing_is_written_when_nothing_changed(self):
        self._post_groups(self.erin, [])
        [row] = self._rows(self.plan)
        self.assertEqual((row.detail["member"], row.detail["change"], row.detail["team"]), ("erin", "left",
                                                                                          EDIT_TEAM_NAME))
        self._post_groups(self.erin, [])
        self.assertEqual(len(self._rows(self.plan)), 1)

    def test_joining_a_reviewers_team_is_on_the_trail_of_every_plan_reviewers_see(self):
        revision = review.save_revision(self.other, draft_version=current_version(self.other), by=self.alice,
                                        message="one")
        review.submit_for_review(revision, by=self.alice)
        self._post_groups(self.charlie, [self.personas.review_team])
        for plan in (self.plan, self.other):
            with self.subTest(plan=plan.name):
                [row] = self._rows(plan)
                self.assertEqual((row.detail["member"], row.detail["change"], row.detail["reviewers"]),
                                 ("charlie", "joined", "yes"))
        self.assertEqual(self._rows(self.other)[0].detail["shared"], "no")

    def test_deleting_a_person_is_on_the_trail_of_the_plans_their_teams_reach(self):
        member = User.objects.create_user("frank", "frank@example.com", None)
        member.groups.add(self.personas.edit_team)
        response = self.client.post(reverse("admin:auth_user_delete", args=[member.pk]), {"post": "yes"})
        self.assertEqual(response.status_code, 302)
        self.assertFalse(User.objects.filter(username="frank").exists())
        [row] = self._rows(self.plan)
        self.assertEqual((row.detail["member"], row.detail["change"], row.detail["team"]),
                         ("frank", "left", EDIT_TEAM_NAME))

    def test_giving_a_team_the_reviewer_permission_or_taking_it_away_is_on_the_trail(self):
        permission = Permission.objects.get(content_type__app_label="wizard", codename="review_plan")
        url = reverse("admin:auth_group_change", args=[self.personas.read_team.pk])
        response = self.client.post(url, {"name": self.personas.read_team.name, "permissions": [permission.pk]})
        self.assertEqual(response.status_code, 302)
        response = self.client.post(url, {"name": self.personas.read_team.name, "permissions": []})
        self.assertEqual(response.status_code, 302)
        granted, revoked = self._rows(self.plan)
        self.assertEqual((granted.detail["change"], granted.detail["members"], granted.detail["shared"]),
                         ("review granted", ["dave"], "read"))
        self.assertEqual(revoked.detail["change"], "review revoked")
        self.assertEqual(self._rows(self.other), [])

    def test_a_team_with_no_members_given_the_reviewer_permission_writes_nothing(self):
        revision = review.save_revision(self.other, draft_version=current_version(self.other), by=self.alice,
                                        message="one")
        review.submit_for_review(revision, by=self.alice)
        permission = Permission.objects.get(content_type__app_label="wizard", codename="review_plan")
        response = self.client.post(reverse("admin:auth_group_add"), {"name": "Empty board",
                                                                       "permissions": [permission.pk]})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self._rows(self.other), [])


class UnreadableParameterTests(BaseTestCase):
    """An admin list answers a parameter it cannot read with 400 naming it, never 500. On PostgreSQL a NUL in a list
    filter's value (`?product=%00`) reached the query, which refused it (500); an action's `_selected_action` that
    is no row key made the admin raise on any database; the team autocomplete searched for NUL."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.root = User.objects.create_superuser("root", "root@example.com", "x")

    def setUp(self) -> None:
        self.client.force_login(self.root)
        self.client.raise_request_exception = False

    def test_a_nul_in_any_list_filter_is_refused_naming_the_parameter(self):
        for model, model_admin in admin.site._registry.items():
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            for spec in model_admin.list_filter:
                if not isinstance(spec, str):
                    continue
                for key in (spec, f"{spec}__exact"):
                    with self.subTest(url=url, key=key):
                        response = self.client.get(url, {key: "a\x00"})
                        self.assertEqual(response.status_code, 400)
                        self.assertIn(f"The parameter \u201c{key}\u201d holds a NUL character",
                                      response.content.decode())
        # A filter without a NUL still lists.
        self.assertEqual(self.client.get(reverse("admin:wizard_plan_changelist"), {"product": "sfb2019"}).status_code,
                         200)

    def test_an_action_on_rows_that_are_not_rows_is_refused_and_changes_nothing(self):
        for value in ("x", "\x00", "1.5"):
            with self.subTest(value=value):
                response = self.client.post(reverse("admin:auth_group_changelist"), {
                    "action": "delete_selected", "_selected_action": [str(self.personas.read_team.pk), value],
                    "index": "0"})
                self.assertEqual(response.status_code, 400)
                self.assertIn("_selected_action", response.content.decode())
                self.assertTrue(Group.objects.filter(pk=self.personas.read_team.pk).exists())
        # A real selection still reaches the confirmation page.
        response = self.client.post(reverse("admin:auth_group_changelist"), {
            "action": "delete_selected", "_selected_action": [str(self.personas.read_team.pk)], "index": "0"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Are you sure")

    def test_the_team_autocomplete_finds_nothing_for_a_nul(self):
        url = reverse("admin:autocomplete")
        query = {"app_label": "wizard", "model_name": "planshare", "field_name": "group"}
        response = self.client.get(url, {**query, "term": "Identity\x00"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["results"], [])
        self.assertTrue(self.client.get(url, {**query, "term": "Identity"}).json()["results"])
