"""Text a reviewer reads (a revision's message, comments, review comments, and the names of people and teams the
review pages and audit rows show) refuses the invisible text-direction (bidi) controls: with them a page shows the
words in another order than they were typed and stored, the "Trojan Source" trick
(`wizard.models.refuse_bidi_controls`, run by the forms and by every model's `full_clean`)."""
from __future__ import annotations

import io

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.base import BaseTestCase, admin_user_form, current_version
from wizard.models import Comment, Review, Revision
from wizard.review import services as review

# "approve" shown, "evorppa" stored: U+202E (right-to-left override) ... U+202C (pop).
TROJAN = "Looks fine, \u202eevorppa ton od\u202c thanks"
CONTROLS = ["\u202e", "\u202d", "\u202a", "\u202b", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
            "\u061c"]


class TextDirectionTests(BaseTestCase):
    def _revision(self, *, submit: bool = True) -> Revision:
        revision = review.save_revision(self.plan, draft_version=current_version(self.plan), by=self.alice,
                                        message="one")
        if submit:
            review.submit_for_review(revision, by=self.alice)
        return revision

    def test_a_revision_message_with_a_bidi_control_is_refused_naming_it_and_nothing_is_saved(self):
        self.client.force_login(self.alice)
        url = reverse("revision-save", args=[self.plan.code])
        for char in CONTROLS:
            with self.subTest(char=f"U+{ord(char):04X}"):
                response = self.client.post(url, {"message": f"Passive auth {char}x",
                                                   "draft_version": current_version(self.plan)})
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, f"U+{ord(char):04X}", status_code=400)
                self.assertContains(response, "text-direction", status_code=400)
                self.assertIn("message", response.context["form"].errors)
        self.assertFalse(Revision.objects.filter(plan=self.plan).exists())

    def test_comments_with_a_bidi_control_are_refused_under_the_fields_name_and_nothing_is_stored(self):
        revision = self._revision()
        cases = [
            (self.alice, reverse("plan-comment", args=[self.plan.code]), {"body": TROJAN}, "Comment:"),
            (self.alice, reverse("revision-comment", args=[self.plan.code, 1]), {"body": TROJAN}, "Comment:"),
            (self.bob, reverse("revision-request-changes", args=[self.plan.code, 1]), {"comment": TROJAN},
             "What needs to change:"),
            (self.bob, reverse("revision-approve", args=[self.plan.code, 1]), {"comment": TROJAN},
             "Approval comment (optional):"),
        ]
        for user, url, data, label in cases:
            with self.subTest(url=url):
                self.client.force_login(user)
                response = self.client.post(url, data)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, f"{label} This text holds an invisible text-direction character "
                                              "(U+202E", status_code=400)
        self.assertFalse(Comment.objects.exists())
        self.assertEqual(list(revision.reviews.values_list("decision", flat=True)), [Review.Decision.SUBMITTED])

    def test_the_services_and_the_admin_refuse_them_too(self):
        revision = self._revision()
        with self.assertRaises(ValidationError):
            review.add_comment(self.plan, by=self.alice, body=TROJAN)
        with self.assertRaises(ValidationError):
            review.request_changes(revision, by=self.bob, comment=TROJAN)
        comment = review.add_comment(self.plan, by=self.alice, body="plain")
        self.client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
        response = self.client.post(reverse("admin:wizard_comment_change", args=[comment.pk]), {"body": TROJAN})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "U+202E")
        comment.refresh_from_db()
        self.assertEqual(comment.body, "plain")

    def test_right_to_left_text_without_controls_is_kept(self):
        self.client.force_login(self.alice)
        text = "שלום עולם, مرحبا بالعالم"
        response = self.client.post(reverse("plan-comment", args=[self.plan.code]), {"body": text})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Comment.objects.get().body, text)


class NameTests(BaseTestCase):
    """People's user names, first and last names and teams' names are shown on the review pages (who approved,
    who saved) and in audit rows: where they are typed (the Django admin), a text-direction control is refused
    under the field's name, as in a comment."""

    NAMES = ("username", "first_name", "last_name")

    def setUp(self) -> None:
        self.root = User.objects.create_superuser("root", "root@example.com", "x")
        self.client.force_login(self.root)

    def _refused_under(self, response, field: str, char: str) -> None:
        self.assertEqual(response.status_code, 200)
        errors = response.context["adminform"].form.errors
        self.assertIn(field, errors)
        self.assertIn(f"U+{ord(char):04X}", " ".join(errors[field]))
        self.assertIn("text-direction", " ".join(errors[field]))
        self.assertContains(response, f"U+{ord(char):04X}")

    def test_a_persons_names_with_a_bidi_control_are_refused_naming_the_field(self):
        url = reverse("admin:auth_user_change", args=[self.charlie.pk])
        for field in self.NAMES:
            for char in CONTROLS:
                with self.subTest(field=field, char=f"U+{ord(char):04X}"):
                    response = self.client.post(url, admin_user_form(self.charlie, **{field: f"Cha{char}rlie"}))
                    self._refused_under(response, field, char)
        stored = User.objects.get(pk=self.charlie.pk)
        self.assertEqual((stored.username, stored.first_name, stored.last_name),
                         (self.charlie.username, self.charlie.first_name, self.charlie.last_name))

    def test_a_new_account_whose_user_name_holds_one_is_refused_naming_the_field(self):
        response = self.client.post(reverse("admin:auth_user_add"),
                                    {"username": "mal\u202elory", "usable_password": "false"})
        self._refused_under(response, "username", "\u202e")
        self.assertFalse(User.objects.filter(username__startswith="mal").exists())

    def test_a_team_name_with_one_is_refused_naming_the_field(self):
        team = self.personas.review_team
        response = self.client.post(reverse("admin:auth_group_change", args=[team.pk]),
                                    {"name": f"Change {TROJAN}", "permissions": []})
        self._refused_under(response, "name", "\u202e")
        team.refresh_from_db()
        self.assertEqual(team.name, "Change board")
        response = self.client.post(reverse("admin:auth_group_add"), {"name": "Board\u2067x\u2069"})
        self._refused_under(response, "name", "\u2067")
        self.assertFalse(Group.objects.filter(name__startswith="Board").exists())

    def test_right_to_left_names_without_controls_are_kept(self):
        url = reverse("admin:auth_user_change", args=[self.charlie.pk])
        names = {"username": "דנה_כהן", "first_name": "דנה", "last_name": "عباس"}
        response = self.client.post(url, admin_user_form(self.charlie, **names))
        self.assertEqual(response.status_code, 302)
        stored = User.objects.get(pk=self.charlie.pk)
        self.assertEqual((stored.username, stored.first_name, stored.last_name),
                         (names["username"], names["first_name"], names["last_name"]))
        response = self.client.post(reverse("admin:auth_group_add"), {"name": "צוות הזהות / فريق الهوية"})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(Group.objects.filter(name="צוות הזהות / فريق الهوية").exists())

    def test_createsuperuser_refuses_a_user_name_holding_one(self):
        # The one command that takes a name from outside: Django's user name rule (letters, digits and @.+-_)
        # already refuses every text-direction control there; it asks for no first or last name.
        for char in CONTROLS:
            with self.subTest(char=f"U+{ord(char):04X}"):
                with self.assertRaises(CommandError):
                    call_command("createsuperuser", "--noinput", username=f"ro{char}ot2", email="r@example.com",
                                 stdout=io.StringIO())
        self.assertFalse(User.objects.filter(username__startswith="ro").exclude(pk=self.root.pk).exists())
