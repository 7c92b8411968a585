"""The read side of review (`wizard.review.pages`): the draft's output and what it reports."""
from __future__ import annotations

from unittest import mock

import jinja2
from django.urls import reverse

from tests.base import BaseTestCase, make_plan
from wizard.review import pages
from wizard.scripts import bundle

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
