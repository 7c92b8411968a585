"""Step pages (issue 14, the parts on the step pages): presets say their names are examples, typed
values are never rewritten or cut without a word, and the errors refresh with every autosave."""
from __future__ import annotations

from django.urls import reverse

from tests.base import DAMAGED_VERSIONS, BaseTestCase, make_plan
from wizard.models import AuditEvent
from wizard.plan.model import NAME_MAX
from wizard.web.drafts import create_plan
from wizard.web.presets import preset_doc

S01 = "s01-passive-extranet-mfa"


def page_post(client, url: str, **changes: str) -> dict:
    """Return what the step page at `url` would post (every field as shown), with `changes`."""
    page = client.get(url)
    data = {}
    for form in page.context["forms"].sections.values():
        for bound in ([form.management_form, *form.forms] if hasattr(form, "management_form") else [form]):
            for field in bound:
                value = field.value()
                if value not in (None, False):
                    data[field.html_name] = "on" if value is True else value
    data.update(draft_version=page.context["meta"]["draft_version"].value(),
                step_base=page.context["meta"]["step_base"].value())
    data.update(changes)
    return data


class PresetExampleTests(BaseTestCase):
    def test_preset_pages_and_steps_say_the_names_are_examples_to_replace(self) -> None:
        self.client.force_login(self.alice)
        self.assertContains(self.client.get(reverse("plan-create")), 'id="preset-examples"')
        plan = create_plan(owner=self.alice, doc=preset_doc("passive-adfs-mfa", name="Mine"), preset="passive-adfs-mfa")
        step = reverse("plan-step", args=[plan.code, "environment"])
        self.assertContains(self.client.get(step), "are examples: replace each one with your own")
        self.assertContains(self.client.get(reverse("plan-preset", args=[plan.code])), 'id="preset-examples"')

    def test_the_note_goes_once_the_example_names_are_replaced(self) -> None:
        self.client.force_login(self.alice)
        doc = preset_doc("passive-adfs-mfa", name="Mine")
        import json
        doc = json.loads(json.dumps(doc).replace("contoso.com", "fabrikam.net"))
        plan = create_plan(owner=self.alice, doc=doc, preset="passive-adfs-mfa")
        step = reverse("plan-step", args=[plan.code, "environment"])
        self.assertNotContains(self.client.get(step), 'id="preset-examples"')


class TypedValueTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = make_plan(fixture=S01)
        self.client.force_login(self.alice)
        self.url = reverse("plan-step", args=[self.plan.code, "environment"])

    def test_meet_with_a_stray_space_is_kept_as_typed_and_says_what_is_wrong(self) -> None:
        self.client.post(self.url, page_post(self.client, self.url, **{"basics-meet": "meet .contoso.com"}))
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["simple_urls"]["meet"], "meet .contoso.com")
        page = self.client.get(self.url)
        self.assertContains(page, 'value="meet .contoso.com"')
        self.assertContains(page, "separate several names with commas")

    def test_a_name_longer_than_the_limit_is_neither_cut_by_the_page_nor_by_the_server(self) -> None:
        page = self.client.get(self.url)
        self.assertNotContains(page, "maxlength=")
        long_name = "N" * (NAME_MAX + 50)
        self.client.post(self.url, page_post(self.client, self.url, **{"basics-name": long_name}))
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["name"], long_name)
        shown = self.client.get(self.url)
        self.assertContains(shown, f'value="{long_name}"')
        self.assertContains(shown, f"at most {NAME_MAX} characters (got {NAME_MAX + 50})")


class DraftVersionRangeTests(BaseTestCase):
    """A draft version larger than the database holds (a damaged or forged page) is refused by the form,
    in words; it reached the save's query and answered 500 (OverflowError from SQLite)."""

    def setUp(self) -> None:
        self.plan = make_plan(fixture=S01)
        self.client.force_login(self.alice)
        self.url = reverse("plan-step", args=[self.plan.code, "environment"])

    def test_a_huge_draft_version_saves_nothing_and_says_why(self) -> None:
        for version in ("9" * 30, str(2**31), str(2**63)):
            response = self.client.post(self.url, page_post(self.client, self.url, draft_version=version,
                                                            **{"basics-name": "Typed"}))
            self.assertContains(response, "this page is out of date", status_code=400)
        self.plan.refresh_from_db()
        self.assertNotEqual(self.plan.draft["name"], "Typed")

    def test_the_autosave_refuses_it_too(self) -> None:
        url = reverse("plan-step-autosave", args=[self.plan.code, "environment"])
        data = page_post(self.client, self.url, draft_version="9" * 30, **{"basics-name": "Typed"})
        self.assertEqual(self.client.post(url, data).status_code, 400)
        self.plan.refresh_from_db()
        self.assertNotEqual(self.plan.draft["name"], "Typed")


class DamagedDraftVersionTests(BaseTestCase):
    """A step save whose draft version is missing or damaged answers 400 with the step page showing
    what was typed and saying the page is out of date. It redirected to the stored draft: the typed
    values were gone, and two versions (the last one wins in Django) or `1_0` (Python's int() reads 10)
    could save on top of a newer draft."""

    def setUp(self) -> None:
        self.plan = make_plan(fixture=S01)
        self.client.force_login(self.alice)
        self.url = reverse("plan-step", args=[self.plan.code, "environment"])

    def test_the_typed_values_are_shown_again_and_nothing_is_saved(self) -> None:
        events = AuditEvent.objects.filter(plan=self.plan).count()
        data = page_post(self.client, self.url, **{"basics-name": "Typed <name>"})
        version = data["draft_version"]
        for damaged in DAMAGED_VERSIONS:
            with self.subTest(version=damaged):
                sent = {k: v for k, v in data.items() if k != "draft_version"}
                if damaged is not None:
                    sent["draft_version"] = damaged
                response = self.client.post(self.url, sent)
                self.assertContains(response, "this page is out of date", status_code=400)
                self.assertContains(response, "Reload", status_code=400)
                self.assertContains(response, 'value="Typed &lt;name&gt;"', status_code=400)
                self.assertEqual(response.context["meta"]["draft_version"].value(), version)
        self.plan.refresh_from_db()
        self.assertNotEqual(self.plan.draft["name"], "Typed <name>")
        self.assertEqual(AuditEvent.objects.filter(plan=self.plan).count(), events)

    def test_saving_again_from_the_refusal_saves(self) -> None:
        data = page_post(self.client, self.url, **{"basics-name": "Typed"})
        data["draft_version"] = "abc"
        response = self.client.post(self.url, data)
        meta = response.context["meta"]
        data.update(draft_version=meta["draft_version"].value(), step_base=meta["step_base"].value())
        self.assertEqual(self.client.post(self.url, data).status_code, 302)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["name"], "Typed")

    def test_the_autosave_refuses_two_versions(self) -> None:
        url = reverse("plan-step-autosave", args=[self.plan.code, "environment"])
        data = page_post(self.client, self.url, **{"basics-name": "Typed"})
        data["draft_version"] = ["0", str(self.plan.draft_version)]
        self.assertEqual(self.client.post(url, data).status_code, 400)
        self.plan.refresh_from_db()
        self.assertNotEqual(self.plan.draft["name"], "Typed")
