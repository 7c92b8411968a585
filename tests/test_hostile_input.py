"""Hostile plan files and posts give a clear refusal naming the field, never a 500, and store
nothing (issue 12, items 6, 7 and 8)."""
from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from tests.base import BaseTestCase, make_plan, plan_doc
from wizard.models import Plan
from wizard.plan.limits import LIST_LIMITS, MAX_DEPTH, check_document
from wizard.plan.reader import load_plan

S01 = "s01-passive-extranet-mfa"


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _file_text(doc_text: str) -> str:
    """Return the s01 plan with `"x_data": <doc_text>` spliced in (raw JSON text, so NaN survives)."""
    base = json.dumps(plan_doc(S01))
    return base[:-1] + ', "x_data": ' + doc_text + "}"


HOSTILE = {
    "a lone surrogate in an object key": (base := json.dumps(plan_doc(S01)))[:-1] + ', "x_\\ud800": 1}',
    "a lone surrogate in a nested key": _file_text('{"\\udc00k": 1}'),
    "NaN in x_ data": _file_text("NaN"),
    "Infinity in x_ data": _file_text("[1, -Infinity]"),
    "1e999 in x_ data": _file_text('{"big": 1e999}'),
    "x_ data nested 600 deep": _file_text(_nested(600)),
    "x_ data nested 800 deep": _file_text(_nested(800)),
    # A key is shown in its finding's path: a line break or a terminal escape in it made check_plan
    # print a line of its own ("error: fake: ...") and colour the terminal.
    "a line break and a terminal escape in an unknown key":
        base[:-1] + ', "evil\\u001b[31m\\nerror: fake": 1}',
    "a line separator in an unknown nested key": json.dumps({**(s01 := plan_doc(S01)),
                                                            "pools": [{**s01["pools"][0], "k\u2028x": 1}]}),
    "a line break in a key of x_ data": _file_text('{"a\\r\\nb": "\\u0000"}'),
}
EXPECTED_FIELD = {
    "a lone surrogate in an object key": "x_\\ud800",
    "a lone surrogate in a nested key": "x_data.\\udc00k",
    "NaN in x_ data": "x_data",
    "Infinity in x_ data": "x_data[1]",
    "1e999 in x_ data": "x_data.big",
    "x_ data nested 600 deep": "x_data" + "[0]" * (MAX_DEPTH - 1),
    "x_ data nested 800 deep": "x_data" + "[0]" * (MAX_DEPTH - 1),
    "a line break and a terminal escape in an unknown key": "evil\\x1b[31m\\nerror: fake",
    "a line separator in an unknown nested key": "pools[0].k\\u2028x",
    "a line break in a key of x_ data": "x_data.a\\r\\nb",
}


def pools_file(count: int) -> str:
    doc = plan_doc(S01)
    if count > LIST_LIMITS["pools"]:
        # As small as the attack's file (about 219 KB for 10,000 pools): just the names.
        doc["pools"] = [{"fqdn": f"p{i}.x.co"} for i in range(count)]
        return json.dumps(doc, separators=(",", ":"))
    first = doc["pools"][0]
    doc["pools"] = [dict(first, fqdn=f"pool{i}.contoso.com", internal_web_fqdn=f"pool{i}.contoso.com",
                         relying_parties={"internal": f"Int-{i}", "external": f"Ext-{i}"}) for i in range(count)]
    return json.dumps(doc)


class ReaderLimitTests(BaseTestCase):
    def test_each_hostile_file_is_refused_naming_its_field(self) -> None:
        for name, text in HOSTILE.items():
            with self.subTest(name):
                plan, findings = load_plan(text)
                self.assertIsNone(plan)
                fields = [f.field for f in findings if f.severity == "error"]
                self.assertIn(EXPECTED_FIELD[name], fields)
                for f in findings:
                    f.field.encode("utf-8")  # every path can be written
                    self.assertNotRegex(f.field, "[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # on one line, no escapes
                    f.message.encode("utf-8")

    def test_list_limits_name_the_list_and_the_limit(self) -> None:
        plan, findings = load_plan(pools_file(10_000))
        self.assertIsNone(plan)
        self.assertEqual([(f.field, f.code) for f in findings], [("pools", "too_many")])
        self.assertIn(f"at most {LIST_LIMITS['pools']} pools", findings[0].message)
        plan, findings = load_plan(pools_file(LIST_LIMITS["pools"]))
        self.assertIsNotNone(plan, [f for f in findings if f.severity == "error"][:3])

    def test_an_ordinary_plan_keeps_to_every_limit(self) -> None:
        self.assertEqual(check_document(plan_doc(S01)), [])


class HostileImportTests(BaseTestCase):
    def _import(self, text: str):
        self.client.force_login(self.alice)
        upload = SimpleUploadedFile("plan.json", text.encode("utf-8", "surrogatepass"), "application/json")
        return self.client.post(reverse("plan-import"), {"file": upload})

    def test_hostile_imports_are_refused_with_the_field_and_nothing_is_stored(self) -> None:
        before = Plan.objects.count()
        for name, text in {**HOSTILE, "10,000 pools": pools_file(10_000)}.items():
            with self.subTest(name):
                response = self._import(text)
                self.assertEqual(response.status_code, 400)
                field = EXPECTED_FIELD.get(name, "pools")
                self.assertContains(response, field.replace("\\", "\\"), status_code=400)
        self.assertEqual(Plan.objects.count(), before)

    def test_a_plan_at_the_limits_imports_and_every_page_of_it_answers(self) -> None:
        response = self._import(pools_file(LIST_LIMITS["pools"]))
        self.assertEqual(response.status_code, 302, response.content[:500])
        plan = Plan.objects.latest("id")
        for step in ("environment", "authentication", "adfs", "mobility", "certificates", "review"):
            with self.subTest(step=step):
                self.assertEqual(self.client.get(reverse("plan-step", args=[plan.code, step])).status_code, 200)
        for name in ("plan-detail", "plan-revisions", "plan-diff", "plan-audit", "plan-export"):
            with self.subTest(page=name):
                self.assertLess(self.client.get(reverse(name, args=[plan.code])).status_code, 400)


class HostilePostTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = make_plan(fixture=S01)
        self.client.force_login(self.alice)
        self.url = reverse("plan-step", args=[self.plan.code, "environment"])

    def _post(self, **changes: str):
        page = self.client.get(self.url)
        data = {}
        for form in page.context["forms"].sections.values():
            for bound in ([form.management_form, *form.forms] if hasattr(form, "management_form") else [form]):
                for field in bound:
                    value = field.value()
                    if value not in (None, False):
                        data[field.html_name] = "on" if value is True else value
        data.update(draft_version=self.plan.draft_version, step_base=page.context["meta"]["step_base"].value())
        data.update(changes)
        return data

    def test_a_negative_total_forms_is_refused_and_removes_nothing(self) -> None:
        for url in (self.url, reverse("plan-step-autosave", args=[self.plan.code, "environment"])):
            with self.subTest(url=url):
                response = self.client.post(url, self._post(**{"pools-TOTAL_FORMS": "-1"}))
                self.assertContains(response, "Not saved", status_code=400)
                self.plan.refresh_from_db()
                self.assertEqual(len(self.plan.draft["pools"]), 1)

    def test_a_huge_total_forms_is_refused_and_adds_no_rows(self) -> None:
        for total in ("150", "99"):
            with self.subTest(total=total):
                response = self.client.post(self.url, self._post(**{"pools-TOTAL_FORMS": total,
                                                                    "pools-INITIAL_FORMS": total}))
                self.assertContains(response, "Not saved", status_code=400)
                self.plan.refresh_from_db()
                self.assertEqual(len(self.plan.draft["pools"]), 1)

    def test_rows_sent_without_their_count_are_refused_not_dropped_under_saved(self) -> None:
        # A truncated page: the pool row came, its list's row count did not (or is not a number).
        # The row would be left out and the save answered "Saved" with the typed host name gone.
        autosave = reverse("plan-step-autosave", args=[self.plan.code, "environment"])
        for url in (self.url, autosave):
            for broken in ({"pools-TOTAL_FORMS": None, "pools-INITIAL_FORMS": None}, {"pools-TOTAL_FORMS": "one"}):
                with self.subTest(url=url, broken=broken):
                    data = self._post(**{"pools-0-fqdn": "pool02.contoso.com"})
                    for key, value in broken.items():
                        data.pop(key) if value is None else data.update({key: value})
                    response = self.client.post(url, data)
                    self.assertContains(response, "Not saved", status_code=400)
                    self.assertContains(response, "the list of pools", status_code=400)
                    self.assertNotContains(response, "Saved", status_code=400)
                    self.plan.refresh_from_db()
                    self.assertEqual(self.plan.draft["pools"][0]["fqdn"], "lyncpool01.contoso.com")

    def test_an_honest_post_still_saves(self) -> None:
        response = self.client.post(self.url, self._post(**{"pools-0-site": "Oslo"}))
        self.assertEqual(response.status_code, 302)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["pools"][0]["site"], "Oslo")

    def test_a_utf16_form_post_gets_a_clear_400_with_security_headers(self) -> None:
        response = self.client.generic("POST", self.url, "a=b".encode("utf-16"),
                                       content_type="application/x-www-form-urlencoded; charset=utf-16")
        self.assertContains(response, "UTF-8", status_code=400)
        self.assertIn("frame-ancestors 'none'", response["Content-Security-Policy"])
        self.assertEqual(response["X-Frame-Options"], "DENY")

    @override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=1000)
    def test_too_many_fields_gets_the_custom_400_page_not_a_bare_one(self) -> None:
        data = self._post(**{f"x{i}": "1" for i in range(1200)})
        response = self.client.post(self.url, data)
        self.assertContains(response, "more form fields than this server accepts", status_code=400)
        self.assertContains(response, "nothing was saved", status_code=400)
        self.assertNotContains(response, "Bad Request (400)", status_code=400)


class RevisionNameTests(BaseTestCase):
    def test_a_revision_page_shows_the_revisions_own_name(self) -> None:
        from tests.base import current_version, set_draft
        from wizard.review import services

        plan = make_plan(fixture=S01, name="Name at revision 1")
        revision = services.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        set_draft(plan, plan_doc(S01, name="The draft's newer name"))
        self.client.force_login(self.alice)
        response = self.client.get(revision.get_absolute_url())
        self.assertContains(response, "<title>Name at revision 1 r1")
        self.assertContains(response, 'id="revision-name">Name at revision 1<')
