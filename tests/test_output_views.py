"""The review page and the downloads of the draft's bundle."""
from __future__ import annotations

import io
import zipfile

from django.test import SimpleTestCase
from django.urls import reverse

import wizard
from tests.base import BaseTestCase, make_plan
from wizard.models import AuditEvent, Plan
from wizard.plan.engine import assess
from wizard.scripts.bundle import Bundle, Source, build_bundle
from wizard.scripts.highlight import (
    CSS_FILE,
    changed_lines,
    highlight_file,
    line_hashes,
    style_css,
)
from wizard.web.steps import blank_plan

S01 = "s01-passive-extranet-mfa"


def expected_bundle(plan: Plan) -> Bundle:
    data, findings = assess(plan.draft)
    return build_bundle(data, source=Source(plan.name, str(plan.code), None, wizard.__version__), findings=findings)


class ReviewPageTests(BaseTestCase):
    def setUp(self) -> None:
        self.s01 = make_plan(fixture=S01, name="Contoso passive MFA")
        self.url = reverse("plan-step", args=[self.s01.code, "review"])

    def test_it_shows_findings_by_severity_the_impact_matrix_and_the_scripts(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get(self.url)
        self.assertContains(response, 'id="findings-warning"')
        self.assertContains(response, 'data-finding="passive_pool_wide"')
        self.assertContains(response, "Pool lyncpool01 › External authentication")
        self.assertContains(response, 'id="impact-matrix"')
        self.assertContains(response, "Lync for Mac")
        self.assertContains(response, '<td class="impact-breaks" data-state="breaks">')
        self.assertContains(response, "Passive (AD FS) authentication")
        bundle = expected_bundle(self.s01)
        self.assertContains(response, bundle.sha256)
        for name in bundle.scripts:
            self.assertContains(response, f'data-file="{name}"')
            self.assertContains(response, reverse("plan-download-file", args=[self.s01.code, name]))
        self.assertContains(response, 'data-copy-target="file-1-text"')
        self.assertContains(response, 'class="ps-code"')
        self.assertContains(response, 'id="verification-report"')
        self.assertContains(response, bundle.report.catalog_version)
        self.assertContains(response, reverse("plan-download-zip", args=[self.s01.code]))
        self.assertContains(response, 'id="network-heading"')
        self.assertContains(response, 'id="network-publishing"')

    def test_a_plan_with_errors_shows_them_and_no_scripts(self) -> None:
        plan = make_plan(doc=blank_plan("Half done"))
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-step", args=[plan.code, "review"]))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No scripts for this draft")
        self.assertContains(response, "The plan has errors, so no script is generated")
        self.assertContains(response, 'id="findings-error"')
        self.assertContains(response, "needs at least one entry")
        self.assertNotContains(response, 'id="download-zip"')
        self.assertNotContains(response, 'class="ps-code"')

    def test_a_reader_sees_it_and_a_stranger_does_not(self) -> None:
        self.client.force_login(self.dave)
        self.assertEqual(self.client.get(self.url).status_code, 200)
        self.client.force_login(self.charlie)
        self.assertEqual(self.client.get(self.url).status_code, 404)


class DownloadTests(BaseTestCase):
    def setUp(self) -> None:
        self.s01 = make_plan(fixture=S01, name="Contoso passive MFA")

    def test_a_script_downloads_with_its_exact_bytes(self) -> None:
        bundle = expected_bundle(self.s01)
        name = next(iter(bundle.scripts))
        self.client.force_login(self.dave)
        response = self.client.get(reverse("plan-download-file", args=[self.s01.code, name]))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, bundle.files[name])
        self.assertTrue(response.content.startswith(b"\xef\xbb\xbf"))
        self.assertIn(b"\r\n", response.content)
        self.assertNotIn(b"\n", response.content.replace(b"\r\n", b""))
        self.assertEqual(response["Content-Disposition"], f'attachment; filename="contoso-passive-mfa-unapproved-draft-{name}"')
        event = AuditEvent.objects.get(plan=self.s01, action=AuditEvent.Action.DOWNLOADED)
        self.assertEqual(event.actor, self.dave)
        self.assertEqual(event.detail, {"file": name, "bundle_sha256": bundle.sha256, "revision": None})

    def test_the_zip_holds_the_whole_bundle_with_the_expected_commands(self) -> None:
        bundle = expected_bundle(self.s01)
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-download-zip", args=[self.s01.code]))
        self.assertEqual(response["Content-Type"], "application/zip")
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="contoso-passive-mfa-unapproved-draft.zip"')
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            self.assertEqual(sorted(archive.namelist()), sorted(bundle.files))
            scripts = "\n".join(archive.read(n).decode("utf-8-sig") for n in archive.namelist() if n.endswith(".ps1"))
        self.assertIn("Add-AdfsRelyingPartyTrust -Name 'Lync-Int'", scripts)
        self.assertIn("-UseWindowsAuth None", scripts)
        self.assertEqual(AuditEvent.objects.get(plan=self.s01, action=AuditEvent.Action.DOWNLOADED).detail["file"],
                         "contoso-passive-mfa-unapproved-draft.zip")

    def test_a_file_that_is_not_in_the_bundle_is_404(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-download-file", args=[self.s01.code, "format-c.ps1"]))
        self.assertEqual(response.status_code, 404)
        self.assertFalse(AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOADED).exists())

    def test_a_plan_with_errors_offers_nothing_to_download(self) -> None:
        plan = make_plan(doc=blank_plan("Half done"))
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-download-zip", args=[plan.code]), follow=True)
        self.assertRedirects(response, reverse("plan-step", args=[plan.code, "review"]))
        self.assertContains(response, "The plan has errors")
        self.assertFalse(AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOADED).exists())

    def test_strangers_and_anonymous_visitors_get_nothing(self) -> None:
        url = reverse("plan-download-zip", args=[self.s01.code])
        self.assertEqual(self.client.get(url).status_code, 302)
        self.client.force_login(self.charlie)
        self.assertEqual(self.client.get(url).status_code, 404)


class HighlightTests(SimpleTestCase):
    def test_the_static_stylesheet_is_the_one_pygments_gives(self) -> None:
        self.assertEqual(CSS_FILE.read_text(encoding="utf-8"), style_css())
        self.assertNotIn("style=", style_css())

    def test_powershell_is_highlighted_with_classes_only(self) -> None:
        html = str(highlight_file("a.ps1", "Set-CsMobilityPolicy -Identity 'Global' # <b>\n$x = 1\n", changed=[2]))
        self.assertIn('<div class="ps-code">', html)
        self.assertIn('<span class="nb">Set-CsMobilityPolicy</span>', html)
        self.assertIn("&lt;b&gt;", html)
        self.assertIn('<span class="hll">', html)
        self.assertNotIn("style=", html)

    def test_changed_lines_are_the_new_and_replaced_ones(self) -> None:
        old = line_hashes("a\nb\nc\n")
        self.assertEqual(changed_lines(old, "a\nB\nc\nd\n"), [2, 4])
        self.assertEqual(changed_lines(old, "a\nb\nc\n"), [])
        self.assertEqual(changed_lines(None, "a\n"), [])
