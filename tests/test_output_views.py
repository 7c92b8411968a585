"""The review page and the downloads of the draft's bundle."""
from __future__ import annotations

import copy
import dataclasses
import html as html_lib
import io
import re
import zipfile
from unittest import mock

from django.test import SimpleTestCase
from django.urls import reverse

import wizard
from tests.base import BaseTestCase, make_plan, plan_doc
from wizard.models import AuditEvent, Plan
from wizard.plan.engine import assess
from wizard.review import services as review
from wizard.scripts.bundle import Bundle, Source, build_bundle
from wizard.scripts.highlight import (
    CSS_FILE,
    changed_lines,
    highlight_file,
    line_edits,
    line_hashes,
    style_css,
)
from wizard.web.steps import blank_plan
from wizard.web.views import output

S01 = "s01-passive-extranet-mfa"


def expected_bundle(plan: Plan) -> Bundle:
    data, findings = assess(plan.draft)
    return build_bundle(data, source=Source(plan.name, str(plan.code), None, wizard.__version__), findings=findings)


class ReviewPageTests(BaseTestCase):
    def setUp(self) -> None:
        self.s01 = make_plan(fixture=S01, name="Contoso passive MFA")
        self.url = reverse("plan-step", args=[self.s01.code, "review"])

    def test_it_shows_the_summary_first_then_one_file_with_a_tab_for_each(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get(self.url)
        html = response.content.decode()
        self.assertContains(response, 'id="findings-warning"')
        self.assertContains(response, 'data-finding="passive_pool_wide"')
        self.assertContains(response, "Pool lyncpool01 › External authentication")
        self.assertContains(response, 'id="impact-matrix"')
        self.assertContains(response, "Lync for Mac")
        self.assertContains(response, '<td class="impact-breaks" data-state="breaks">')
        self.assertContains(response, "Passive (AD FS) authentication")
        bundle = expected_bundle(self.s01)
        self.assertContains(response, bundle.sha256)
        # Summary first: downloads, who is affected and the findings come before the files.
        order = [html.index(marker) for marker in ('id="download-zip"', 'id="impact-matrix"', 'id="findings-heading"',
                                                   'id="file-tabs"', 'id="next-action"')]
        self.assertEqual(order, sorted(order))
        for name in bundle.files:
            self.assertContains(response, f'data-file-tab="{name}"')
            self.assertContains(response, reverse("plan-file", args=[self.s01.code, name]))
        # One file is shown (the first of the bundle), highlighted, with its download.
        first = next(iter(bundle.files))
        self.assertEqual(html.count('class="ps-code"'), 1)
        self.assertContains(response, f'<article class="card file-card" data-file="{first}"')
        self.assertContains(response, reverse("plan-download-file", args=[self.s01.code, first]))
        self.assertContains(response, 'data-copy-target="file-code"')
        self.assertContains(response, 'id="verification-report"')
        self.assertContains(response, bundle.report.catalog_version)
        self.assertContains(response, reverse("plan-download-zip", args=[self.s01.code]))
        self.assertContains(response, 'id="network-heading"')
        self.assertContains(response, 'id="network-publishing"')

    def test_a_tab_fetches_its_file_highlighted_and_marks_itself_selected(self) -> None:
        self.client.force_login(self.dave)
        url = reverse("plan-file", args=[self.s01.code, "adfs-server.ps1"])
        response = self.client.get(url, headers={"HX-Request": "true"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, '<article class="card file-card" data-file="adfs-server.ps1"')
        self.assertContains(response, '<span class="nb">Add-AdfsRelyingPartyTrust</span>')
        self.assertContains(response, reverse("plan-download-file", args=[self.s01.code, "adfs-server.ps1"]))
        self.assertContains(response, "Run on: AD FS server")
        self.assertContains(response, 'id="file-tabs" hx-swap-oob="true"')
        self.assertRegex(response.content.decode(), r'data-file-tab="adfs-server.ps1"\s+href="[^"]*" aria-controls="file-panel" '
                                                    r'aria-selected="true"')
        self.assertNotContains(response, "<html")

    def test_without_htmx_a_tab_is_the_review_page_showing_that_file(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-file", args=[self.s01.code, "adfs-server.ps1"]))
        self.assertRedirects(response, f"{self.url}?file=adfs-server.ps1#files", fetch_redirect_response=False)
        page = self.client.get(f"{self.url}?file=adfs-server.ps1")
        self.assertContains(page, '<article class="card file-card" data-file="adfs-server.ps1"')
        self.assertEqual(page.content.decode().count('class="ps-code"'), 1)
        # An unknown name shows the first file, never an error.
        self.assertEqual(self.client.get(f"{self.url}?file=nope.ps1").status_code, 200)

    def test_a_tab_for_a_file_the_bundle_lacks_is_404_and_strangers_get_nothing(self) -> None:
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get(reverse("plan-file", args=[self.s01.code, "format-c.ps1"]),
                                         headers={"HX-Request": "true"}).status_code, 404)
        self.client.force_login(self.charlie)
        self.assertEqual(self.client.get(reverse("plan-file", args=[self.s01.code, "adfs-server.ps1"]),
                                         headers={"HX-Request": "true"}).status_code, 404)

    def test_a_tab_asked_for_while_the_draft_has_errors_says_so_instead_of_failing(self) -> None:
        plan = make_plan(doc=blank_plan("Half done"))
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-file", args=[plan.code, "adfs-server.ps1"]),
                                   headers={"HX-Request": "true"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "The plan has errors")
        self.assertContains(response, "Reload the page")

    def test_a_picture_in_the_bundle_is_shown_as_a_picture_never_as_highlighted_text(self) -> None:
        svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="1" height="1"/></svg>\n'
        original = output.build_output

        def with_picture(plan, doc):
            out = original(plan, doc)
            built = dataclasses.replace(out.bundle, texts={"exposure.svg": svg, **out.bundle.texts},
                                        files={"exposure.svg": svg.encode(), **out.bundle.files})
            return dataclasses.replace(out, bundle=built)

        self.client.force_login(self.alice)
        with mock.patch.object(output, "build_output", with_picture):
            page = self.client.get(self.url)
            panel = self.client.get(reverse("plan-file", args=[self.s01.code, "exposure.svg"]),
                                    headers={"HX-Request": "true"})
        self.assertContains(page, 'data-file-tab="exposure.svg"')
        self.assertContains(panel, '<img class="img-fluid file-picture" src="data:image/svg+xml;base64,')
        self.assertNotContains(panel, "&lt;script&gt;")
        self.assertNotContains(panel, "<script>")
        self.assertNotContains(panel, 'class="ps-code"')
        self.assertNotContains(panel, "data-copy-target")
        self.assertContains(panel, reverse("plan-download-file", args=[self.s01.code, "exposure.svg"]))

    def test_a_finding_repeated_for_many_pools_is_shown_once_with_the_others_listed(self) -> None:
        doc = plan_doc(S01)
        second = copy.deepcopy(doc["pools"][0])
        second.update(fqdn="lyncpool02.contoso.com", internal_web_fqdn="lyncpool02.contoso.com",
                      external_web_fqdn="lyncweb2.contoso.com",
                      relying_parties={"internal": "Lync-Int2", "external": "Lync-Ext2"})
        doc["pools"].append(second)
        plan = make_plan(doc=doc)
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-step", args=[plan.code, "review"]))
        html = response.content.decode()
        self.assertEqual(html.count('data-finding="passive_pool_wide"'), 1)
        self.assertContains(response, "The same for 1 other, each naming its own")
        self.assertContains(response, "Pool lyncpool02 › External authentication")
        # Both pools fare alike, so the matrix shows them in one column.
        self.assertContains(response, '<th scope="col" data-pools="2"><code>lyncpool01.contoso.com</code>')
        self.assertContains(response, "and 1 more pool")

    def test_the_review_ends_with_the_next_action_for_an_editor_only(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get(self.url)
        self.assertContains(response, 'id="next-action"')
        self.assertContains(response, reverse("revision-save", args=[self.s01.code]))
        self.assertContains(response, "Save as revision 1")
        self.s01.refresh_from_db()
        review.save_revision(self.s01, by=self.alice, message="first", draft_version=self.s01.draft_version)
        response = self.client.get(self.url)
        self.assertContains(response, "This draft is saved as revision 1")
        self.client.force_login(self.dave)
        self.assertNotContains(self.client.get(self.url), 'id="next-action"')

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

    def test_each_line_is_balanced_html_and_the_text_is_the_file_s_text(self) -> None:
        text = "\n<#\n  a block\n  comment #>\nWrite-Host ('a' + \"b\") # c & d\n"
        html = str(highlight_file("a.ps1", text, changed=[5]))
        body = html.split("<code>", 1)[1].rsplit("</code>", 1)[0]
        marked = re.findall(r'<span class="hll">(.*?)\n</span>', body, re.S)
        self.assertEqual(len(marked), 1)
        self.assertIn("Write-Host", marked[0])
        # Once the changed line is unwrapped, every text line is one line of balanced HTML.
        lines = re.sub(r'<span class="hll">(.*?\n)</span>', r"\1", body, flags=re.S).split("\n")[:-1]
        self.assertEqual(len(lines), text.count("\n"))
        for line in lines:
            self.assertEqual(line.count("<span"), line.count("</span>"))
        self.assertEqual(html_lib.unescape(re.sub(r"<[^>]+>", "", body)), text)

    def test_tokens_the_style_leaves_uncoloured_get_no_span(self) -> None:
        html = str(highlight_file("a.ps1", "Set-CsFoo -Identity ('x')\n"))
        self.assertNotIn('class="p"', html)      # ( ) are punctuation: no colour, no span
        self.assertIn('<span class="s1">\'x\'</span>', html)

    def test_line_edits_turn_the_old_lines_into_the_new(self) -> None:
        old, new = "a\nb\nc\nd\n", "a\nB\nc\nd\ne\n"
        edits = line_edits(old, new)
        self.assertEqual([(e.at, e.remove, e.insert) for e in edits], [(1, 1, (2,)), (4, 0, (5,))])
        lines = old.splitlines()
        for e in reversed(edits):
            lines[e.at:e.at + e.remove] = [new.splitlines()[n - 1] for n in e.insert]
        self.assertEqual(lines, new.splitlines())


class BigPlanExposureTests(BaseTestCase):
    """The review page of a big plan keeps its summary light and still says everything (issue 14)."""

    def test_a_big_plan_has_its_picture_as_a_tab_and_alike_paths_sharing_rows(self) -> None:
        from tests.test_step_paging import big_doc
        from wizard.plan.exposure import exposure
        from wizard.scripts.exposure_view import exposure_rows

        plan = make_plan(doc=big_doc())
        self.client.force_login(self.alice)
        page = self.client.get(reverse("plan-step", args=[plan.code, "review"]))
        html = page.content.decode()
        self.assertNotIn("<svg", html)
        self.assertIn('href="?file=exposure.svg#files"', html)
        data, _ = assess(plan.draft)
        paths = exposure_rows(exposure(data))
        self.assertGreater(len(paths), output.MATRIX_ROWS_MAX)
        matrix = html[html.index('id="exposure-matrix"'):html.index("</table>", html.index('id="exposure-matrix"'))]
        shown = matrix.count("<tr data-state=")
        others = matrix.count("<li>")
        self.assertLess(shown, len(paths))
        self.assertEqual(shown + others, len(paths))   # every path is there, once
        for path in paths:
            self.assertIn(html_lib.escape(path["entry"]), matrix)

    def test_a_small_plan_keeps_its_picture_and_rows_and_broken_promises_are_said_once(self) -> None:
        context = {"svg": "<svg/>", "rows": [{"entry": "a"}], "broken": [
            {"code": "mfa_web_password_open", "field": "pools[0].auth.external", "label": "Pool a › x", "message": "one"},
            {"code": "mfa_web_password_open", "field": "pools[1].auth.external", "label": "Pool b › x", "message": "two"},
            {"code": "mfa_edge_password_open", "field": "edge_pools[0].block_ntlm", "label": "Edge e › y",
             "message": "edge"}]}
        out = output.exposure_summary(context)
        self.assertEqual((out["svg"], out["rows"]), ("<svg/>", [{"entry": "a"}]))
        # The other fields are named as the first one is: by their labels.
        self.assertEqual([(b["label"], b["others"]) for b in out["broken"]],
                         [("Pool a › x", ["Pool b › x"]), ("Edge e › y", [])])


class CompressedFragmentTests(BaseTestCase):
    def test_a_file_tab_and_a_preview_travel_compressed_when_the_browser_accepts_it(self) -> None:
        import gzip

        plan = make_plan()
        self.client.force_login(self.alice)
        tab = self.client.get(reverse("plan-file", args=[plan.code, "verify-external.ps1"]), HTTP_HX_REQUEST="true",
                              HTTP_ACCEPT_ENCODING="gzip")
        self.assertEqual(tab["Content-Encoding"], "gzip")
        html = gzip.decompress(tab.content).decode()
        self.assertIn('data-file="verify-external.ps1"', html)
        self.assertLess(len(tab.content), len(html) / 3)
        plain = self.client.get(reverse("plan-file", args=[plan.code, "verify-external.ps1"]), HTTP_HX_REQUEST="true")
        self.assertFalse(plain.has_header("Content-Encoding"))
        self.assertNotIn("csrfmiddlewaretoken", html)   # nothing secret in a compressed fragment
