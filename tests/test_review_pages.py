"""The read side of review (`wizard.review.pages`): the draft's output and what it reports."""
from __future__ import annotations

from unittest import mock

import jinja2
from django.urls import reverse

from tests.base import BaseTestCase, make_plan
from wizard.review import pages
from wizard.scripts import bundle
from wizard.scripts.artifacts.estate import COLLECTOR_FILE

S01 = "s01-passive-extranet-mfa"


class BuildOutputTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = make_plan(fixture=S01, name="Contoso passive MFA")

    def test_a_valid_draft_gives_its_bundle(self) -> None:
        out = pages.build_output(self.plan, self.plan.draft)
        self.assertIsNotNone(out.bundle)
        self.assertEqual(out.problem, "")

    def test_each_fault_the_renderer_can_raise_is_reported_as_a_tool_fault_and_logged(self) -> None:
        for fault in (ValueError("ps_str: NUL"), TypeError("ps_bool: expected a bool"),
                      jinja2.UndefinedError("'x' is undefined")):
            with self.subTest(fault=type(fault).__name__), \
                    mock.patch.object(bundle, "cached_bundle", side_effect=fault), \
                    self.assertLogs("wizard.review.pages", "ERROR"):
                out = pages.build_output(self.plan, self.plan.draft)
            self.assertIsNone(out.bundle)
            self.assertIn("a fault in the tool, not in your plan", out.problem)

    def test_the_review_page_shows_a_renderer_fault_instead_of_failing(self) -> None:
        self.client.force_login(self.alice)
        with mock.patch.object(bundle, "cached_bundle", side_effect=ValueError("boom")), \
                self.assertLogs("wizard.review.pages", "ERROR"):
            response = self.client.get(reverse("plan-step", args=[self.plan.code, "review"]))
        self.assertContains(response, 'id="no-scripts"')
        self.assertContains(response, "a fault in the tool")

    def test_a_programming_error_is_not_swallowed_as_a_render_fault(self) -> None:
        # A bare `except Exception` would hide this; only the renderer's own refusals are caught.
        with mock.patch.object(bundle, "cached_bundle", side_effect=AttributeError("bug")), \
                self.assertRaises(AttributeError):
            pages.build_output(self.plan, self.plan.draft)


class ReviewStateTests(BaseTestCase):
    """Issue 12, item 3: no page says "Approved" while the draft differs from the approved revision."""

    def setUp(self) -> None:
        from tests.base import current_version
        from wizard.review import services

        self.plan = make_plan(fixture=S01, name="Contoso passive MFA")
        self.revision = services.save_revision(self.plan, draft_version=current_version(self.plan),
                                               by=self.alice, message="r1")
        services.submit_for_review(self.revision, by=self.alice)
        services.approve(self.revision, by=self.bob)
        self.client.force_login(self.alice)
        self.pages = [reverse("plan-detail", args=[self.plan.code]), reverse("plan-list"),
                      reverse("plan-step", args=[self.plan.code, "review"]),
                      reverse("plan-revisions", args=[self.plan.code])]

    def test_an_unchanged_approved_plan_reads_approved_everywhere(self) -> None:
        from wizard.review import state

        self.assertEqual(state.review_state(self.plan).label, "Approved")
        for url in self.pages:
            with self.subTest(url=url):
                self.assertContains(self.client.get(url), 'data-status="approved"')

    def test_a_draft_changed_after_approval_reads_changed_since_approved_revision_n(self) -> None:
        from tests.base import plan_doc, set_draft
        from wizard.review import state

        set_draft(self.plan, plan_doc(name="Contoso passive MFA, edited after approval"))
        self.assertEqual(state.review_state(self.plan).label, "Changed since approved revision 1")
        for url in self.pages:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertContains(response, "Changed since approved revision 1")
                if "/revisions/" not in url:  # the revisions list rightly shows revision 1 itself as approved
                    self.assertNotContains(response, 'data-status="approved"')

    def test_a_draft_changed_and_changed_back_reads_approved_again(self) -> None:
        from tests.base import plan_doc, set_draft
        from wizard.review import state

        original = dict(self.plan.draft)
        set_draft(self.plan, plan_doc(name="Something else"))
        set_draft(self.plan, original)
        self.assertEqual(state.review_state(self.plan).label, "Approved")


class DraftDownloadTests(BaseTestCase):
    """Issue 12, item 3: the draft's downloads say they are not the approved bundle."""

    def setUp(self) -> None:
        self.plan = make_plan(fixture=S01, name="Contoso passive MFA")
        self.client.force_login(self.alice)

    def test_the_zip_and_each_file_are_named_unapproved_draft(self) -> None:
        zipped = self.client.get(reverse("plan-download-zip", args=[self.plan.code]))
        self.assertIn('filename="contoso-passive-mfa-unapproved-draft.zip"', zipped["Content-Disposition"])
        one = self.client.get(reverse("plan-download-file", args=[self.plan.code, "adfs-server.ps1"]))
        self.assertIn('filename="contoso-passive-mfa-unapproved-draft-adfs-server.ps1"', one["Content-Disposition"])

    def test_every_script_header_says_unapproved_draft(self) -> None:
        import io
        import zipfile

        zipped = self.client.get(reverse("plan-download-zip", args=[self.plan.code]))
        with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
            # The state collector is the same file in every bundle and names no plan (it is also
            # downloaded on its own): it has no revision to state.
            scripts = [n for n in archive.namelist() if n.endswith(".ps1") and n != COLLECTOR_FILE]
            self.assertTrue(scripts)
            for name in scripts:
                self.assertIn("Revision:       UNAPPROVED DRAFT", archive.read(name).decode("utf-8-sig"), name)
            self.assertIn("- Revision: UNAPPROVED DRAFT", archive.read("runbook.md").decode("utf-8"))


class DraftWithErrorsDiffTests(BaseTestCase):
    """A draft the reader refuses is compared as typed: the defaults a revision writes out are not 'removed'."""

    def setUp(self) -> None:
        from tests.base import current_version
        from wizard.review import services

        self.plan = make_plan(fixture=S01, name="Contoso passive MFA")
        services.save_revision(self.plan, draft_version=current_version(self.plan), by=self.alice, message="r1")

    def test_only_the_typed_change_is_listed(self) -> None:
        import copy

        from tests.base import set_draft

        draft = copy.deepcopy(self.plan.revisions.get(number=1).data)
        # The way the wizard stores a draft: defaults left out where the key was absent.
        def drop_default(item: dict, key: str, default: object) -> None:
            if item.get(key, default) == default:
                item.pop(key, None)

        for pool in draft["pools"]:
            drop_default(pool, "role", "frontend")
            if "auth" in pool:
                drop_default(pool["auth"], "certificate_auth", True)
                drop_default(pool["auth"], "block_ntlm_at_registrar", False)
        drop_default(draft, "autodiscover_port", 443)
        if "simple_urls" in draft:
            drop_default(draft["simple_urls"], "admin", None)
            drop_default(draft["simple_urls"], "dialin", None)
        draft["certificates"] = {"ca": "ca01\\Fabrikam CA"}   # the reader refuses this name
        set_draft(self.plan, draft)
        check = pages.check_draft(self.plan)
        self.assertIsNone(check.data)
        self.assertEqual([c.path for c in check.changes if c.kind != "added"] +
                         [c.path for c in check.changes if c.kind == "added"], ["certificates.ca"])
        # The compare page's draft side as well.
        comparison = pages.compare(self.plan, 1, "draft")
        self.assertEqual([c.path for c in comparison.diff.settings], ["certificates.ca"])


class ReviewPageWorkTests(BaseTestCase):
    """Issue 14: the review page reads the draft and draws the exposure picture once, not once per part."""

    def setUp(self) -> None:
        from tests.base import current_version
        from wizard.review import services

        self.plan = make_plan(fixture=S01, name="Contoso passive MFA")
        # With a saved revision the page asks whether the draft changed since: a second reading of a
        # 100-pool draft used to cost as much as the first.
        services.save_revision(self.plan, draft_version=current_version(self.plan), by=self.alice, message="r1")
        self.client.force_login(self.alice)
        self.url = reverse("plan-step", args=[self.plan.code, "review"])

    def test_the_draft_is_read_and_checked_once(self) -> None:
        from wizard.caches import clear_all
        from wizard.plan import engine

        clear_all()
        with mock.patch.object(engine, "assess", wraps=engine.assess) as assess:
            response = self.client.get(self.url)
        self.assertContains(response, "This draft is saved as revision 1")
        self.assertEqual(assess.call_count, 1)

    def test_the_exposure_picture_is_drawn_once_and_the_page_shows_the_bundles(self) -> None:
        from wizard.caches import clear_all
        from wizard.scripts import exposure_view

        clear_all()
        # Counted wherever a module holds the drawing function (the bundle once imported it by name).
        with mock.patch.object(exposure_view, "render_svg", wraps=exposure_view.render_svg) as draw, \
                mock.patch.object(bundle, "render_svg", draw, create=True):
            response = self.client.get(self.url)
        self.assertEqual(draw.call_count, 1)
        out = pages.build_output(self.plan, self.plan.draft)
        assert out.bundle is not None
        self.assertContains(response, out.bundle.texts[bundle.EXPOSURE_FILE], html=False)

    def test_the_findings_links_reverse_each_step_once_not_once_per_finding(self) -> None:
        import django.urls

        from wizard.web.steps import STEPS
        from wizard.web.views import output

        out = pages.build_output(self.plan, self.plan.draft)
        self.assertGreater(len(out.findings), 2 * len(STEPS))   # enough findings for the count to tell
        asked: list[str] = []

        def counting(real):   # a test double around django.urls.reverse
            def reverse(viewname, *args, **kwargs):
                asked.append(viewname)
                return real(viewname, *args, **kwargs)
            return reverse

        # The url tag imports django.urls.reverse as it renders; the views imported it by name.
        with mock.patch.object(django.urls, "reverse", counting(django.urls.reverse)), \
                mock.patch.object(output, "reverse", counting(output.reverse)):
            response = self.client.get(self.url)
        self.assertContains(response, f'href="{reverse("plan-step", args=[self.plan.code, "adfs"])}"')
        self.assertLessEqual(asked.count("plan-step"), 2 * len(STEPS))
