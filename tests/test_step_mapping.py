"""The step <-> document mapping is pure: it imports no Django and runs with plain unittest.

Run alone with `python -m unittest tests.test_step_mapping` (no settings, no database).
"""
from __future__ import annotations

import json
import subprocess
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "fixtures" / "plans" / "s01-passive-extranet-mfa.json"


class PureImportTests(unittest.TestCase):
    def test_importing_the_step_mapping_loads_no_django_and_no_models(self) -> None:
        code = ("import sys, wizard.web.steps; "
                "print(sorted(m for m in sys.modules if m.startswith(('django', 'wizard.models', 'wizard.web.drafts'))))")
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
        self.assertEqual(out.stdout.strip(), "[]", out.stderr)


class MappingTests(unittest.TestCase):
    """The mapping itself, without Django: show a step of the example and save it back unchanged."""

    def setUp(self) -> None:
        from wizard.web import steps
        self.steps = steps
        self.doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))

    def test_every_form_step_round_trips_the_example_unchanged(self) -> None:
        for step in self.steps.STEPS:
            if step.is_review:
                continue
            with self.subTest(step=step.slug):
                self.assertEqual(self.steps.apply(step, self.doc, self.steps.initial(step, self.doc)), self.doc)

    def test_a_typed_site_lands_on_its_pool(self) -> None:
        env = self.steps.get_step("environment")
        values = self.steps.initial(env, self.doc)
        values["pools"][0]["site"] = "Redmond"
        new = self.steps.apply(env, self.doc, values)
        self.assertEqual(new["pools"][0]["site"], "Redmond")
        self.assertEqual(new["pools"][0]["auth"], self.doc["pools"][0]["auth"])

    def test_paths_belong_to_the_step_that_edits_them(self) -> None:
        self.assertEqual(self.steps.step_for_path("pools[0].auth.external").slug, "authentication")
        self.assertEqual(self.steps.step_for_path("pools[0].fqdn").slug, "environment")
        self.assertIsNone(self.steps.step_for_path("x_custom"))


class ModernAuthMappingTests(unittest.TestCase):
    """The AD FS step's Modern Authentication section and the plan's `modern_auth` object."""

    def setUp(self) -> None:
        from wizard.web import steps
        self.steps = steps
        self.step = steps.get_step("adfs")
        self.doc = json.loads((EXAMPLE.parent / "sfbse-modern-auth-adfs2019-mfa.json").read_text(encoding="utf-8"))

    def test_every_form_step_round_trips_a_modern_authentication_plan_unchanged(self) -> None:
        for step in self.steps.STEPS:
            if step.is_review:
                continue
            with self.subTest(step=step.slug):
                self.assertEqual(self.steps.apply(step, self.doc, self.steps.initial(step, self.doc)), self.doc)

    def test_ticking_the_box_writes_the_object_and_unticking_removes_it(self) -> None:
        doc = dict(self.doc)
        del doc["modern_auth"]
        values = self.steps.initial(self.step, doc)
        self.assertFalse(values["modern_auth"]["enabled"])
        self.assertNotIn("modern_auth", self.steps.apply(self.step, doc, values))
        values["modern_auth"]["enabled"] = True
        self.assertEqual(self.steps.apply(self.step, doc, values)["modern_auth"], {})
        values["modern_auth"].update(scenario="allow_all", accept_sid_claims="true", oauth_server_identity="sts.x.com")
        self.assertEqual(self.steps.apply(self.step, doc, values)["modern_auth"],
                         {"oauth_server_identity": "sts.x.com", "accept_sid_claims": True, "scenario": "allow_all"})
        values["modern_auth"]["enabled"] = False
        self.assertNotIn("modern_auth", self.steps.apply(self.step, self.doc, values))

    def test_a_value_the_form_could_not_clean_is_kept_as_typed_and_its_errors_land_on_the_section(self) -> None:
        values = self.steps.initial(self.step, self.doc)
        values["modern_auth"]["oauth_server_identity"] = "sts .fabrikam.com"
        new = self.steps.apply(self.step, self.doc, values)
        self.assertEqual(new["modern_auth"]["oauth_server_identity"], "sts .fabrikam.com")
        for path, field in (("modern_auth.oauth_server_identity", "oauth_server_identity"),
                            ("modern_auth.scenario", "scenario"), ("modern_auth", "enabled")):
            target = self.step.target(path)
            self.assertEqual((target.section, target.field), ("modern_auth", field))
            self.assertEqual(self.steps.step_for_path(path).slug, "adfs")


if __name__ == "__main__":
    unittest.main()


class StepOfPathMemoTests(unittest.TestCase):
    """Issue 14: a step page asks step_for_path of thousands of paths; each path's answer is worked out once."""

    PIECES = ("pools", "edge_pools", "mobility_policies", "accepted_risks", "sip_domains", "simple_urls", "adfs",
              "modern_auth", "certificates", "[0]", "[7]", "[12]", ".", ".auth", ".external", ".block_ntlm",
              ".relying_parties", ".meet", ".fqdn", ".site", "x_note", "name", "(plan)", "format", "a")

    def test_the_kept_answer_is_the_answer(self) -> None:
        import itertools

        from wizard.web import steps

        wrong = []
        for n in (1, 2, 3):
            for parts in itertools.product(self.PIECES, repeat=n):
                path = "".join(parts)
                first, again = steps.step_for_path(path), steps.step_for_path(path)
                if not (first is steps._owning_step(path) and again is first):
                    wrong.append(path)
        self.assertEqual(wrong, [])

    def test_a_path_is_matched_against_the_patterns_once(self) -> None:
        from unittest import mock

        from wizard.web import steps

        path = "pools[4242].auth.block_pin_auth"
        with mock.patch.object(steps, "_owning_step", wraps=steps._owning_step) as owning:
            for _ in range(3):
                self.assertEqual(steps.step_for_path(path).slug, "authentication")
        self.assertEqual(owning.call_count, 1)
