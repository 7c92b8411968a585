"""A staff account cannot use the Django admin to give itself access: the pages that decide who may do what (people,
teams, their permissions, superuser status) are for superusers only, as the plan pages are
(`access.may_administer_plans`). Teams decide who may read, edit or approve plans (the four-eyes review), so
a staff account that could put itself in a team, give its team the reviewer permission or tick "superuser"
could approve its own work."""
from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.test import RequestFactory
from django.urls import reverse

from tests.base import BaseTestCase, admin_user_form
from wizard.models import AuditEvent
from wizard.review import access


class StaffAccountTests(BaseTestCase):
    """mallory is staff and holds every permission on people and teams (view, add, change, delete user, group
    and permission), but is no superuser."""

    def setUp(self) -> None:
        self.mallory = User.objects.create_user("mallory", "mallory@example.com", None, is_staff=True)
        self.mallory.user_permissions.set(Permission.objects.filter(content_type__app_label="auth"))
        self.review_permission = Permission.objects.get(content_type__app_label="wizard", codename="review_plan")
        self.client.force_login(self.mallory)

    def _refused(self, url: str, data: dict | None = None) -> None:
        response = self.client.post(url, data) if data is not None else self.client.get(url)
        self.assertEqual(response.status_code, 403, url)

    def _nothing_changed(self) -> None:
        self.mallory.refresh_from_db()
        self.assertFalse(self.mallory.is_superuser)
        self.assertEqual(list(self.mallory.groups.all()), [])
        self.assertFalse(access.can_review(User.objects.get(pk=self.mallory.pk)))
        self.assertFalse(AuditEvent.objects.filter(action=AuditEvent.Action.TEAM_CHANGED).exists())

    def test_the_pages_of_people_refuse_him(self):
        for name, args in (("changelist", []), ("add", []), ("change", [self.mallory.pk]),
                           ("change", [self.alice.pk]), ("password_change", [self.alice.pk]),
                           ("history", [self.alice.pk]), ("delete", [self.alice.pk])):
            with self.subTest(page=name, user=args):
                self._refused(reverse(f"admin:auth_user_{name}", args=args))

    def test_the_pages_of_teams_refuse_him(self):
        team = self.personas.review_team
        for name, args in (("changelist", []), ("add", []), ("change", [team.pk]), ("history", [team.pk]),
                           ("delete", [team.pk])):
            with self.subTest(page=name):
                self._refused(reverse(f"admin:auth_group_{name}", args=args))

    def test_the_admin_index_does_not_list_people_or_teams(self):
        index = self.client.get(reverse("admin:index"))
        self.assertNotContains(index, "/admin/auth/")
        # The app's own index page: none of its models is his, so the admin says there is no such page.
        self.assertEqual(self.client.get(reverse("admin:app_list", args=["auth"])).status_code, 404)

    def test_making_himself_superuser_or_giving_himself_a_permission_is_refused(self):
        url = reverse("admin:auth_user_change", args=[self.mallory.pk])
        self._refused(url, admin_user_form(self.mallory, is_superuser="on", user_permissions=[self.review_permission.pk]))
        self._nothing_changed()

    def test_putting_himself_in_a_team_is_refused(self):
        url = reverse("admin:auth_user_change", args=[self.mallory.pk])
        self._refused(url, admin_user_form(self.mallory, groups=[self.personas.review_team.pk, self.personas.edit_team.pk]))
        self._nothing_changed()

    def test_adding_an_account_for_himself_or_a_reviewers_team_is_refused(self):
        self._refused(reverse("admin:auth_user_add"), {"username": "mallory2", "usable_password": "false"})
        self.assertFalse(User.objects.filter(username="mallory2").exists())
        self._refused(reverse("admin:auth_group_add"), {"name": "Mallory's board",
                                                        "permissions": [self.review_permission.pk]})
        self.assertFalse(Group.objects.filter(name="Mallory's board").exists())

    def test_giving_a_team_the_reviewer_permission_or_deleting_a_team_is_refused(self):
        team = self.personas.edit_team
        self._refused(reverse("admin:auth_group_change", args=[team.pk]),
                      {"name": team.name, "permissions": [self.review_permission.pk]})
        self.assertFalse(access.team_reviews(team))
        self._refused(reverse("admin:auth_group_delete", args=[self.personas.review_team.pk]), {"post": "yes"})
        self.assertTrue(Group.objects.filter(pk=self.personas.review_team.pk).exists())

    def test_every_admin_that_decides_who_may_do_what_refuses_him(self):
        # People and teams, and any model of the app or of auth registered later (a membership, a role): each
        # admin on the site and its inlines, asked directly.
        # Every permission of every app this time (plans, audit, sign-in attempts): none opens a page to him.
        self.mallory.user_permissions.set(Permission.objects.all())
        self.mallory = User.objects.get(pk=self.mallory.pk)   # permissions are cached on the instance
        request = RequestFactory().get("/admin/")
        request.user = self.mallory
        checked = set()
        for model, model_admin in admin.site._registry.items():
            for each in [model_admin, *(inline(model, admin.site) for inline in model_admin.get_inlines(request, None))]:
                with self.subTest(admin=type(each).__name__):
                    self.assertFalse(each.has_view_permission(request))
                    self.assertFalse(each.has_add_permission(request, None) if each is not model_admin
                                     else each.has_add_permission(request))
                    self.assertFalse(each.has_change_permission(request))
                    self.assertFalse(each.has_delete_permission(request))
            checked.add(model._meta.label)
        # django-axes' attempts too: deleting one would lift a lockout, the guard against guessing passwords.
        self.assertLessEqual({"auth.User", "auth.Group", "axes.AccessAttempt"}, checked)

    def test_lifting_a_lockout_is_refused(self):
        # Deleting django-axes' attempt row lifts the lockout that stops a password being guessed.
        from axes.models import AccessAttempt

        self.mallory.user_permissions.add(*Permission.objects.filter(content_type__app_label="axes"))
        attempt = AccessAttempt.objects.create(username="alice", ip_address="192.0.2.7", user_agent="x",
                                               get_data="", post_data="", http_accept="", path_info="/accounts/login/",
                                               failures_since_start=5)
        self._refused(reverse("admin:axes_accessattempt_changelist"))
        self._refused(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
        self.assertTrue(AccessAttempt.objects.filter(pk=attempt.pk).exists())


class SuperuserTests(BaseTestCase):
    """The same posts, made by a superuser, are carried out, and written on the plans' audit trails."""

    def setUp(self) -> None:
        self.root = User.objects.create_superuser("root", "root@example.com", "x")
        self.client.force_login(self.root)
        self.review_permission = Permission.objects.get(content_type__app_label="wizard", codename="review_plan")

    def test_the_pages_open(self):
        for url in (reverse("admin:auth_user_changelist"), reverse("admin:auth_user_add"),
                    reverse("admin:auth_user_change", args=[self.alice.pk]),
                    reverse("admin:auth_user_password_change", args=[self.alice.pk]),
                    reverse("admin:auth_group_changelist"), reverse("admin:auth_group_add"),
                    reverse("admin:auth_group_change", args=[self.personas.edit_team.pk])):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 200)
        self.assertContains(self.client.get(reverse("admin:index")), "/admin/auth/user/")

    def test_a_superuser_can_make_someone_superuser_and_put_them_in_a_team_and_it_is_audited(self):
        charlie = self.charlie
        response = self.client.post(reverse("admin:auth_user_change", args=[charlie.pk]),
                                    admin_user_form(charlie, is_superuser="on", groups=[self.personas.review_team.pk]))
        self.assertEqual(response.status_code, 302)
        charlie.refresh_from_db()
        self.assertTrue(charlie.is_superuser)
        self.assertEqual(list(charlie.groups.all()), [self.personas.review_team])
        row = AuditEvent.objects.filter(plan=self.plan, action=AuditEvent.Action.TEAM_CHANGED).latest("id")
        self.assertEqual((row.actor, row.detail["member"], row.detail["change"]), (self.root, "charlie", "joined"))

    def test_a_superuser_can_give_a_team_the_reviewer_permission(self):
        team = self.personas.edit_team
        response = self.client.post(reverse("admin:auth_group_change", args=[team.pk]),
                                    {"name": team.name, "permissions": [self.review_permission.pk]})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(access.team_reviews(team))
        row = AuditEvent.objects.filter(plan=self.plan, action=AuditEvent.Action.TEAM_CHANGED).latest("id")
        self.assertEqual(row.detail["change"], "review granted")
