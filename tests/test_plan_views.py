"""Plan list, new plan, import, export, overview and presets in the browser's shoes."""
from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.base import BaseTestCase, make_plan, plan_doc
from wizard.models import AuditEvent, Plan
from wizard.plan.reader import load_plan
from wizard.web.forms import IMPORT_MAX_BYTES
from wizard.web.presets import preset_doc
from wizard.web.steps import blank_plan

S01 = "s01-passive-extranet-mfa"


def upload(content: bytes, name: str = "plan.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/json")


class PlanListTests(BaseTestCase):
    def test_it_sends_anonymous_visitors_to_sign_in(self) -> None:
        response = self.client.get(reverse("plan-list"))
        self.assertRedirects(response, f"{reverse('login')}?next=/", fetch_redirect_response=False)

    def test_it_lists_the_plans_the_user_can_see(self) -> None:
        plan = make_plan(fixture="s02-tls-dsk-30-day-certificates", name="Fabrikam TLS-DSK")
        self.client.force_login(self.dave)
        response = self.client.get(reverse("plan-list"))
        self.assertContains(response, plan.name)
        self.assertContains(response, "Skype for Business Server 2015")
        self.assertContains(response, "alice")
        self.assertContains(response, 'data-status="draft"')

    def test_it_hides_plans_shared_with_nobody_the_user_is_in(self) -> None:
        self.client.force_login(self.charlie)
        response = self.client.get(reverse("plan-list"))
        self.assertNotContains(response, self.plan.name)
        self.assertContains(response, "No plans yet")

    def test_it_searches_by_name(self) -> None:
        make_plan(name="Fabrikam passive rollout", fixture=S01)
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-list"), {"q": "fabrikam PASSIVE"})
        self.assertContains(response, "Fabrikam passive rollout")
        self.assertNotContains(response, self.plan.name)

    def test_it_pages_long_lists(self) -> None:
        for i in range(21):
            make_plan(name=f"Bulk plan {i:02d}", shared=False)
        self.client.force_login(self.alice)
        first = self.client.get(reverse("plan-list"))
        self.assertContains(first, "Page 1 of 2")
        self.assertEqual(len(first.context["rows"]), 20)
        second = self.client.get(reverse("plan-list"), {"page": 2})
        self.assertEqual(len(second.context["rows"]), 2)


class PlanCreateTests(BaseTestCase):
    def test_a_plan_from_scratch_starts_blank_at_the_first_step(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(reverse("plan-create"), {"name": "Contoso hardening", "preset": ""})
        plan = Plan.objects.get(name="Contoso hardening")
        self.assertRedirects(response, reverse("plan-step", args=[plan.code, "environment"]))
        self.assertEqual(plan.draft, blank_plan("Contoso hardening"))
        self.assertEqual(plan.owner, self.alice)
        self.assertTrue(AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.CREATED).exists())

    def test_a_plan_from_a_preset_holds_the_preset_under_its_own_name(self) -> None:
        self.client.force_login(self.bob)
        self.client.post(reverse("plan-create"), {"name": "Board pilot", "preset": "tls-dsk-only"})
        plan = Plan.objects.get(name="Board pilot")
        self.assertEqual(plan.draft, preset_doc("tls-dsk-only", name="Board pilot"))
        self.assertEqual(plan.preset, "tls-dsk-only")

    def test_a_missing_name_comes_back_with_the_message(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(reverse("plan-create"), {"name": "  ", "preset": ""})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "This field is required", status_code=400)

    def test_a_preset_can_be_preselected_from_the_link(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-create"), {"preset": "passive-adfs-mfa"})
        self.assertContains(response, 'value="passive-adfs-mfa" id="preset-passive-adfs-mfa" checked')


class PlanImportTests(BaseTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.alice)
        self.count = Plan.objects.count()

    def post(self, content: bytes) -> object:
        return self.client.post(reverse("plan-import"), {"file": upload(content)})

    def test_a_valid_plan_file_becomes_a_plan(self) -> None:
        content = json.dumps(plan_doc(S01)).encode()
        response = self.post(content)
        plan = Plan.objects.latest("id")
        self.assertRedirects(response, plan.get_absolute_url())
        self.assertEqual(load_plan(json.dumps(plan.draft))[0], load_plan(content)[0])
        event = AuditEvent.objects.get(plan=plan)
        self.assertEqual(event.action, AuditEvent.Action.IMPORTED)
        self.assertEqual(event.actor, self.alice)

    def test_a_file_that_is_not_json_is_refused_cleanly(self) -> None:
        response = self.post(b"this is not { json")
        self.assertContains(response, "the file is not valid JSON", status_code=400)
        self.assertEqual(Plan.objects.count(), self.count)

    def test_json_that_is_not_a_plan_object_is_refused(self) -> None:
        response = self.post(b"[1, 2, 3]")
        self.assertContains(response, "a plan is one JSON object", status_code=400)
        self.assertEqual(Plan.objects.count(), self.count)

    def test_a_file_that_is_not_utf8_is_refused(self) -> None:
        response = self.post(b"\xff\xfe{\x00}")
        self.assertContains(response, "not UTF-8", status_code=400)

    def test_an_invalid_plan_lists_every_error_by_field(self) -> None:
        doc = plan_doc(S01)
        doc["pools"][0]["fqdn"] = "not a host"
        doc["colour"] = "blue"
        response = self.post(json.dumps(doc).encode())
        self.assertContains(response, "Pool 1 › Pool FQDN", status_code=400)
        self.assertContains(response, "<code>pools[0].fqdn</code>", status_code=400)
        self.assertContains(response, "unknown field &#x27;colour&#x27;", status_code=400)
        self.assertEqual(Plan.objects.count(), self.count)
        self.assertFalse(AuditEvent.objects.filter(action=AuditEvent.Action.IMPORTED).exists())

    def test_an_x_key_with_an_invisible_character_is_refused_naming_its_path_escaped(self) -> None:
        # It was imported: a key holding a bidirectional override or a line break was kept and written back.
        doc = plan_doc(S01)
        doc["pools"][0]["x_\u202eevil"] = 1
        doc["x_meta"] = {"line\nbreak": True}
        response = self.post(json.dumps(doc).encode())
        self.assertContains(response, "<code>pools[0].x_\\u202eevil</code>", status_code=400)
        self.assertContains(response, "<code>x_meta.line\\nbreak</code>", status_code=400)
        self.assertContains(response, "control or invisible character", status_code=400)
        self.assertNotContains(response, "\u202e", status_code=400)
        self.assertEqual(Plan.objects.count(), self.count)

    def test_a_number_too_long_for_the_json_parser_is_refused(self) -> None:
        response = self.post(b'{"format": "lync-auth-plan/1", "autodiscover_port": 1' + b"0" * 5000 + b"}")
        self.assertContains(response, "not a readable plan", status_code=400)
        self.assertEqual(Plan.objects.count(), self.count)

    def test_a_huge_file_is_refused_before_it_is_read(self) -> None:
        response = self.post(b"{" + b" " * IMPORT_MAX_BYTES + b"}")
        self.assertContains(response, "a plan file is at most 256 KB", status_code=400)
        self.assertEqual(Plan.objects.count(), self.count)

    def test_posting_no_file_asks_for_one(self) -> None:
        response = self.client.post(reverse("plan-import"), {})
        self.assertContains(response, "This field is required", status_code=400)


class PlanExportTests(BaseTestCase):
    def test_it_downloads_the_draft_as_a_plan_file(self) -> None:
        plan = make_plan(fixture=S01, name="Contoso: passive MFA")
        self.client.force_login(self.dave)
        response = self.client.get(reverse("plan-export", args=[plan.code]))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="contoso-passive-mfa.plan.json"')
        data, findings = load_plan(response.content)
        self.assertIsNotNone(data, findings)
        self.assertEqual(data.name, "Contoso: passive MFA")
        event = AuditEvent.objects.get(plan=plan, action=AuditEvent.Action.EXPORTED)
        self.assertEqual(event.actor, self.dave)

    def test_a_draft_that_is_not_a_valid_plan_is_not_exported(self) -> None:
        plan = make_plan(doc=blank_plan("Half done"))
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-export", args=[plan.code]), follow=True)
        self.assertRedirects(response, plan.get_absolute_url())
        self.assertContains(response, "cannot be exported yet")
        self.assertContains(response, "SIP domains: needs at least one entry")
        self.assertFalse(AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.EXPORTED).exists())

    def test_it_hides_other_peoples_plans(self) -> None:
        self.client.force_login(self.charlie)
        self.assertEqual(self.client.get(reverse("plan-export", args=[self.plan.code])).status_code, 404)


class PlanDetailTests(BaseTestCase):
    def test_it_shows_each_step_with_its_counts(self) -> None:
        plan = make_plan(fixture=S01)
        self.client.force_login(self.alice)
        response = self.client.get(plan.get_absolute_url())
        self.assertContains(response, plan.name)
        for title in ("Environment", "Authentication", "AD FS", "Mobility policies", "Certificates", "Review"):
            self.assertContains(response, title)
        statuses = {s.step.slug: s for s in response.context["statuses"]}
        self.assertGreater(statuses["authentication"].warnings, 0)
        self.assertContains(response, reverse("plan-export", args=[plan.code]))

    def test_it_links_to_the_revisions(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get(self.plan.get_absolute_url())
        self.assertContains(response, reverse("plan-revisions", args=[self.plan.code]))

    def test_it_is_404_for_a_stranger_and_for_a_made_up_code(self) -> None:
        self.client.force_login(self.charlie)
        self.assertEqual(self.client.get(self.plan.get_absolute_url()).status_code, 404)
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get("/plans/00000000-0000-0000-0000-000000000000/").status_code, 404)

    def test_a_reader_sees_it_without_edit_actions(self) -> None:
        self.client.force_login(self.dave)
        response = self.client.get(self.plan.get_absolute_url())
        self.assertContains(response, "Read only")
        self.assertNotContains(response, reverse("plan-preset", args=[self.plan.code]))


class PresetOverDraftTests(BaseTestCase):
    def setUp(self) -> None:
        self.edited = make_plan(fixture=S01, name="Edited plan")
        self.url = reverse("plan-preset", args=[self.edited.code])

    def test_it_asks_before_replacing_edits_and_shows_what_changes(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url, {"preset": "tls-dsk-only", "draft_version": 1})
        self.assertContains(response, "Replace the draft with “TLS-DSK only from the Internet”?")
        self.assertContains(response, "Pool sfbpool01 › External authentication")
        self.assertContains(response, "<code>&quot;passive&quot;</code>")
        self.edited.refresh_from_db()
        self.assertEqual(self.edited.draft_version, 1)
        self.assertEqual(self.edited.draft["pools"][0]["auth"]["external"], "passive")

    def test_confirming_replaces_the_draft_and_keeps_the_name(self) -> None:
        self.client.force_login(self.erin)
        response = self.client.post(self.url, {"preset": "tls-dsk-only", "draft_version": 1, "confirm": "True"})
        self.assertRedirects(response, reverse("plan-step", args=[self.edited.code, "environment"]))
        self.edited.refresh_from_db()
        self.assertEqual(self.edited.draft, preset_doc("tls-dsk-only", name="Edited plan"))
        self.assertEqual(self.edited.draft_version, 2)

    def test_a_confirmation_for_an_older_version_asks_again(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url, {"preset": "tls-dsk-only", "draft_version": 0, "confirm": "True"})
        self.assertContains(response, "The draft changed while you were choosing")
        self.edited.refresh_from_db()
        self.assertEqual(self.edited.draft_version, 1)

    def test_a_missing_or_damaged_draft_version_is_said_in_words(self) -> None:
        # The page answered 400 showing the preset list again, with nothing saying what was wrong.
        self.client.force_login(self.alice)
        for version in (None, "abc", "9" * 30):
            with self.subTest(version=version):
                data = {"preset": "tls-dsk-only", "confirm": "True"}
                if version is not None:
                    data["draft_version"] = version
                response = self.client.post(self.url, data)
                self.assertContains(response, "Nothing was replaced: the page's draft version is missing or "
                                              "damaged", status_code=400)
        self.edited.refresh_from_db()
        self.assertEqual(self.edited.draft_version, 1)

    def test_a_blank_plan_takes_a_preset_without_asking(self) -> None:
        plan = make_plan(doc=blank_plan("Fresh"))
        self.client.force_login(self.alice)
        self.client.post(reverse("plan-preset", args=[plan.code]), {"preset": "passive-adfs-mfa", "draft_version": 1})
        plan.refresh_from_db()
        self.assertEqual(plan.draft["adfs"]["mfa"], "extranet")

    def test_a_reader_may_not_apply_a_preset(self) -> None:
        self.client.force_login(self.dave)
        self.assertEqual(self.client.get(self.url).status_code, 403)
        response = self.client.post(self.url, {"preset": "tls-dsk-only", "draft_version": 1, "confirm": "True"})
        self.assertEqual(response.status_code, 403)
        self.client.force_login(self.charlie)
        self.assertEqual(self.client.post(self.url, {"preset": "tls-dsk-only"}).status_code, 404)
