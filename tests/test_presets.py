"""Presets: complete, valid plans that render, handed out as copies."""
from __future__ import annotations

from django.test import SimpleTestCase

from wizard.plan.engine import assess
from wizard.scripts.bundle import render_plan_doc
from wizard.web.presets import PRESETS, get_preset, preset_doc


class PresetTests(SimpleTestCase):
    def test_the_three_documented_presets_exist(self) -> None:
        titles = {p.title for p in PRESETS}
        self.assertLessEqual({"TLS-DSK only from the Internet", "Passive AD FS with extranet MFA",
                              "Keep NTLM, harden mobile"}, titles)

    def test_every_preset_is_a_valid_plan_without_errors(self) -> None:
        for preset in PRESETS:
            with self.subTest(preset=preset.slug):
                plan, findings = assess(preset_doc(preset.slug))
                self.assertIsNotNone(plan, findings)
                self.assertEqual([f for f in findings if f.severity == "error"], [])

    def test_every_preset_renders_a_verified_bundle(self) -> None:
        for preset in PRESETS:
            with self.subTest(preset=preset.slug):
                bundle = render_plan_doc(preset_doc(preset.slug))
                self.assertTrue(bundle.report.ok)
                self.assertTrue(bundle.scripts)

    def test_each_preset_sets_what_its_title_says(self) -> None:
        tls = preset_doc("tls-dsk-only")
        self.assertEqual(tls["pools"][0]["auth"]["external"], "tls_dsk")
        self.assertTrue(tls["edge_pools"][0]["block_ntlm"])
        passive = preset_doc("passive-adfs-mfa")
        self.assertEqual(passive["pools"][0]["auth"]["external"], "passive")
        self.assertEqual(passive["adfs"]["mfa"], "extranet")
        ntlm = preset_doc("ntlm-mobile-hardened")
        self.assertEqual(ntlm["pools"][0]["auth"]["external"], "ntlm")
        self.assertIs(ntlm["mobility_policies"][0]["allow_save_credentials"], False)

    def test_a_preset_document_is_a_fresh_copy_and_can_be_renamed(self) -> None:
        doc = preset_doc("passive-adfs-mfa", name="Fabrikam rollout")
        doc["pools"][0]["fqdn"] = "changed.contoso.com"
        self.assertEqual(doc["name"], "Fabrikam rollout")
        self.assertEqual(get_preset("passive-adfs-mfa").doc["pools"][0]["fqdn"], "lyncpool01.contoso.com")
        self.assertEqual(preset_doc("passive-adfs-mfa")["name"], "Passive AD FS with extranet MFA")

    def test_an_unknown_preset_is_refused(self) -> None:
        with self.assertRaises(KeyError):
            get_preset("everything-off")
