"""The wizard's step list, the mapping between step values and the draft, and saving a step."""
from __future__ import annotations

import copy
from typing import Any

from django.test import SimpleTestCase, TestCase

from tests.base import make_personas, make_plan, plan_doc, set_draft
from wizard.models import AuditEvent, PlanShare
from wizard.plan.finding import Finding
from wizard.plan.reader import read_plan
from wizard.web.drafts import save_step
from wizard.web.steps import (
    STEP_SLUGS,
    STEPS,
    Target,
    apply,
    blank_plan,
    get_step,
    has_edits,
    initial,
    next_step,
    previous_step,
    step_base,
    step_for_path,
    step_statuses,
    step_values,
)

S01 = "s01-passive-extranet-mfa"
FIXTURES = (S01, "s02-tls-dsk-30-day-certificates", "s03-ntlm-kept-mobility-hardened",
            "multi-domain-director-idn", "hostile")
FORM_STEPS = [s for s in STEPS if not s.is_review]


class StepListTests(SimpleTestCase):
    def test_the_steps_come_in_the_documented_order(self) -> None:
        self.assertEqual(STEP_SLUGS, ("environment", "authentication", "adfs", "mobility", "certificates", "review"))
        self.assertEqual([s.title for s in STEPS],
                         ["Environment", "Authentication", "AD FS", "Mobility policies", "Certificates", "Review"])

    def test_an_unknown_slug_is_refused(self) -> None:
        with self.assertRaises(KeyError):
            get_step("topology")

    def test_next_and_previous_walk_the_list(self) -> None:
        self.assertIsNone(previous_step(STEPS[0]))
        self.assertEqual(next_step(STEPS[0]).slug, "authentication")
        self.assertEqual(previous_step(get_step("review")).slug, "certificates")
        self.assertIsNone(next_step(get_step("review")))

    def test_each_plan_path_belongs_to_the_step_that_edits_it(self) -> None:
        expected = {
            "name": "environment",
            "product": "environment",
            "sip_domains[1]": "environment",
            "pools": "environment",
            "pools[0].fqdn": "environment",
            "pools[2].external_web_fqdn": "environment",
            "edge_pools[0].av_fqdn": "environment",
            "simple_urls.meet[0]": "environment",
            "autodiscover_port": "environment",
            "(plan)": "environment",
            "pools[0].auth.external": "authentication",
            "pools[0].auth.client_certificate_hours.default": "authentication",
            "pools[1].auth": "authentication",
            "edge_pools[0].block_ntlm": "authentication",
            "adfs": "adfs",
            "adfs.mfa": "adfs",
            "pools[0].relying_parties.external": "adfs",
            "mobility_policies[0].allow_save_credentials": "mobility",
            "certificates.ca": "certificates",
        }
        for path, slug in expected.items():
            with self.subTest(path=path):
                self.assertEqual(step_for_path(path).slug, slug)

    def test_an_extension_key_belongs_to_no_step(self) -> None:
        self.assertIsNone(step_for_path("x_change_ticket"))

    def test_a_path_names_its_section_row_and_field(self) -> None:
        self.assertEqual(get_step("authentication").target("pools[3].auth.client_certificate_hours.min"),
                         Target(section="pools", index=3, field="hours_min"))
        self.assertEqual(get_step("environment").target("simple_urls.meet[2]"),
                         Target(section="basics", index=None, field="meet"))
        self.assertEqual(get_step("environment").target("sip_domains"),
                         Target(section="sip_domains", index=None, field=None))
        self.assertEqual(get_step("adfs").target("pools[1].relying_parties.internal"),
                         Target(section="relying_parties", index=1, field="internal"))
        self.assertIsNone(get_step("environment").target("pools[0].auth.external"))


class MappingTests(SimpleTestCase):
    def test_saving_a_step_as_shown_leaves_every_example_draft_unchanged(self) -> None:
        for fixture in FIXTURES:
            doc = plan_doc(fixture)
            for step in FORM_STEPS:
                with self.subTest(fixture=fixture, step=step.slug):
                    self.assertEqual(apply(step, doc, initial(step, doc)), doc)

    def test_apply_never_changes_the_document_it_was_given(self) -> None:
        doc = plan_doc(S01)
        before = copy.deepcopy(doc)
        values = initial(get_step("environment"), doc)
        values["pools"] = []
        apply(get_step("environment"), doc, values)
        self.assertEqual(doc, before)

    def test_editing_a_pool_row_keeps_what_other_steps_set_on_it(self) -> None:
        doc = plan_doc(S01)
        env = get_step("environment")
        values = initial(env, doc)
        values["pools"][0]["site"] = "Redmond"
        new = apply(env, doc, values)
        self.assertEqual(new["pools"][0]["site"], "Redmond")
        self.assertEqual(new["pools"][0]["auth"], doc["pools"][0]["auth"])
        self.assertEqual(new["pools"][0]["relying_parties"], {"internal": "Lync-Int", "external": "Lync-Ext"})

    def test_removing_a_pool_row_keeps_the_settings_of_the_others(self) -> None:
        doc = plan_doc("multi-domain-director-idn")
        env = get_step("environment")
        values = initial(env, doc)
        kept = values["pools"][1:]
        new = apply(env, doc, {**values, "pools": kept})
        self.assertEqual(new["pools"], doc["pools"][1:])

    def test_a_new_pool_row_starts_without_authentication(self) -> None:
        doc = plan_doc(S01)
        env = get_step("environment")
        values = initial(env, doc)
        values["pools"].append({"index": None, "fqdn": "lyncpool02.contoso.com", "role": "director"})
        new = apply(env, doc, values)
        self.assertEqual(new["pools"][1], {"fqdn": "lyncpool02.contoso.com", "role": "director"})

    def test_an_untyped_value_is_stored_exactly_as_typed_and_reported_under_its_path(self) -> None:
        doc = plan_doc("s02-tls-dsk-30-day-certificates")
        auth = get_step("authentication")
        values = initial(auth, doc)
        values["pools"][0]["hours_default"] = "72O"
        new = apply(auth, doc, values)
        self.assertEqual(new["pools"][0]["auth"]["client_certificate_hours"]["default"], "72O")
        _, findings = read_plan(new)
        paths = {f.field for f in findings if f.severity == "error"}
        self.assertEqual(paths, {"pools[0].auth.client_certificate_hours.default"})
        self.assertEqual(initial(auth, new)["pools"][0]["hours_default"], "72O")

    def test_leave_unchanged_removes_the_pools_authentication(self) -> None:
        doc = plan_doc(S01)
        auth = get_step("authentication")
        values = initial(auth, doc)
        values["pools"][0]["external"] = ""
        new = apply(auth, doc, values)
        self.assertNotIn("auth", new["pools"][0])
        self.assertEqual(new["pools"][0]["relying_parties"], doc["pools"][0]["relying_parties"])

    def test_a_per_pool_row_only_edits_the_pool_it_was_loaded_for(self) -> None:
        doc = plan_doc(S01)
        auth = get_step("authentication")
        values = initial(auth, doc)
        values["pools"][0]["pool"] = "renamed.contoso.com"
        values["pools"][0]["external"] = "ntlm"
        self.assertEqual(apply(auth, doc, values), doc)

    def test_mobility_settings_are_leave_allow_or_block(self) -> None:
        doc = plan_doc("s03-ntlm-kept-mobility-hardened")
        mobility = get_step("mobility")
        values = initial(mobility, doc)
        row = values["policies"][0]
        self.assertEqual((row["allow_save_credentials"], row["enable_mobility"], row["allow_save_im_history"]),
                         ("false", "true", ""))
        row.update(allow_save_credentials="", allow_save_im_history="true")
        policy = apply(mobility, doc, values)["mobility_policies"][0]
        self.assertNotIn("allow_save_credentials", policy)
        self.assertIs(policy["allow_save_im_history"], True)
        self.assertIs(policy["allow_exchange_connectivity"], False)

    def test_an_empty_adfs_form_removes_the_adfs_section(self) -> None:
        doc = plan_doc("s02-tls-dsk-30-day-certificates")
        adfs = get_step("adfs")
        new = apply(adfs, doc, {"adfs": {"federation_service_name": None, "version": "", "mfa": "none",
                                         "published_on_reverse_proxy": False}, "relying_parties": []})
        self.assertNotIn("adfs", new)

    def test_certificates_are_written_only_when_set(self) -> None:
        doc = plan_doc(S01)
        certs = get_step("certificates")
        new = apply(certs, doc, {"certificates": {"key_size": 4096, "ca": None}})
        self.assertEqual(new["certificates"], {"key_size": 4096})
        self.assertNotIn("certificates", apply(certs, new, {"certificates": {"key_size": None, "ca": ""}}))

    def test_a_section_missing_from_the_values_is_left_alone(self) -> None:
        doc = plan_doc(S01)
        self.assertEqual(apply(get_step("environment"), doc, {})["pools"], doc["pools"])
        self.assertEqual(apply(get_step("mobility"), doc, {}), doc)

    def test_step_values_hold_only_that_steps_paths(self) -> None:
        doc = plan_doc(S01)
        self.assertEqual(step_values(get_step("adfs"), doc), {
            "adfs.federation_service_name": "adfs.contoso.com", "adfs.version": "2012r2", "adfs.mfa": "extranet",
            "pools[0].relying_parties.internal": "Lync-Int", "pools[0].relying_parties.external": "Lync-Ext",
        })

    def test_a_new_plan_has_no_edits_and_a_preset_has(self) -> None:
        self.assertFalse(has_edits(blank_plan("New")))
        self.assertTrue(has_edits(plan_doc(S01)))

    def test_step_statuses_count_errors_and_warnings_per_step(self) -> None:
        findings = [Finding("error", "x", "pools[0].fqdn", "m"), Finding("warning", "y", "adfs.mfa", "m"),
                    Finding("warning", "z", "", "m"), Finding("info", "i", "adfs", "m"),
                    Finding("error", "w", "x_note", "m")]
        counts = {s.step.slug: (s.errors, s.warnings) for s in step_statuses(findings)}
        self.assertEqual(counts, {"environment": (1, 1), "authentication": (0, 0), "adfs": (0, 1),
                                  "mobility": (0, 0), "certificates": (0, 0), "review": (1, 0)})


class SaveStepTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.personas = make_personas()

    def setUp(self) -> None:
        self.plan = make_plan(shared=False, fixture=S01)
        self.alice, self.erin = self.personas.alice, self.personas.erin
        # erin saves too: she edits the plan (a draft save needs edit access).
        PlanShare.objects.create(plan=self.plan, group=self.personas.edit_team, can_edit=True)
        self.env = get_step("environment")

    def _rename_site(self, site: str) -> dict:
        values = initial(self.env, self.plan.draft)
        values["pools"][0]["site"] = site
        return values

    def test_a_save_stores_the_values_and_moves_the_version_on(self) -> None:
        result = save_step(self.plan, self.env, self._rename_site("Redmond"), based_on=1,
                           base=step_base(self.env, self.plan.draft), by=self.alice)
        self.assertTrue(result.saved)
        self.assertEqual(result.version, 2)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["pools"][0]["site"], "Redmond")
        event = AuditEvent.objects.filter(action=AuditEvent.Action.DRAFT_SAVED).get()
        self.assertEqual(event.detail, {"step": "environment", "version": 2})

    def test_saving_unchanged_values_writes_nothing(self) -> None:
        result = save_step(self.plan, self.env, initial(self.env, self.plan.draft), based_on=1,
                           base=step_base(self.env, self.plan.draft), by=self.alice)
        self.assertTrue(result.saved)
        self.assertEqual(result.version, 1)
        self.assertFalse(AuditEvent.objects.filter(action=AuditEvent.Action.DRAFT_SAVED).exists())

    def test_a_stale_save_of_the_same_step_is_refused_with_the_other_change(self) -> None:
        base = step_base(self.env, self.plan.draft)
        first = save_step(self.plan, self.env, self._rename_site("Redmond"), based_on=1, base=base, by=self.erin)
        self.assertTrue(first.saved)
        second = save_step(self.plan, self.env, self._rename_site("Dublin"), based_on=1, base=base, by=self.alice)
        self.assertFalse(second.saved)
        self.assertEqual(second.version, 2)
        self.assertEqual([(c.path, c.old, c.new) for c in second.changes],
                         [("pools[0].site", "Redmond", "Dublin")])
        self.assertEqual(second.changes[0].label, "Pool lyncpool01 › Site")
        self.assertEqual([e.actor for e in second.others], [self.erin])
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["pools"][0]["site"], "Redmond")

    def test_the_refused_values_can_then_be_saved_knowingly(self) -> None:
        base = step_base(self.env, self.plan.draft)
        save_step(self.plan, self.env, self._rename_site("Redmond"), based_on=1, base=base, by=self.erin)
        refused = save_step(self.plan, self.env, self._rename_site("Dublin"), based_on=1, base=base, by=self.alice)
        again = save_step(refused.plan, self.env, self._rename_site("Dublin"), based_on=refused.version,
                          base=refused.base, by=self.alice)
        self.assertTrue(again.saved)
        self.assertEqual(again.plan.draft["pools"][0]["site"], "Dublin")

    def test_a_stale_save_merges_when_only_other_steps_changed(self) -> None:
        base = step_base(self.env, self.plan.draft)
        other = copy.deepcopy(self.plan.draft)
        other["mobility_policies"][0]["allow_save_credentials"] = False
        set_draft(self.plan, other, by=self.erin)
        result = save_step(self.plan, self.env, self._rename_site("Redmond"), based_on=1, base=base, by=self.alice)
        self.assertTrue(result.saved)
        self.assertTrue(result.merged)
        self.assertEqual(result.version, 3)
        draft = result.plan.draft
        self.assertEqual(draft["pools"][0]["site"], "Redmond")
        self.assertIs(draft["mobility_policies"][0]["allow_save_credentials"], False)

    def test_a_stale_save_that_matches_what_is_stored_is_not_a_conflict(self) -> None:
        base = step_base(self.env, self.plan.draft)
        save_step(self.plan, self.env, self._rename_site("Redmond"), based_on=1, base=base, by=self.alice)
        result = save_step(self.plan, self.env, self._rename_site("Redmond"), based_on=1, base=base, by=self.alice)
        self.assertTrue(result.saved)
        self.assertEqual(result.version, 2)
        self.assertEqual(AuditEvent.objects.filter(action=AuditEvent.Action.DRAFT_SAVED).count(), 1)


class RenamedPoolTests(TestCase):
    """Issue 12, item 2: a row of a per-pool step whose pool was renamed meanwhile is a conflict, not "Saved"."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.personas = make_personas()

    def setUp(self) -> None:
        self.plan = make_plan(shared=False, fixture=S01)
        self.alice = self.personas.alice

    def _rename_pool(self) -> None:
        env = get_step("environment")
        values = initial(env, self.plan.draft)
        values["pools"][0]["fqdn"] = "lyncpool99.contoso.com"
        renamed = save_step(self.plan, env, values, based_on=self.plan.draft_version,
                            base=step_base(env, self.plan.draft), by=self.alice)
        self.assertTrue(renamed.saved)

    def _typed(self, slug: str, change: Any) -> tuple[Any, dict, str]:
        step = get_step(slug)
        values = initial(step, self.plan.draft)
        change(values)
        return step, values, step_base(step, self.plan.draft)

    def test_an_authentication_row_of_a_renamed_pool_is_refused_with_both_values(self) -> None:
        step, values, base = self._typed("authentication", lambda v: v["pools"][0].update(external="tls_dsk"))
        self._rename_pool()
        result = save_step(self.plan, step, values, based_on=1, base=base, by=self.alice)
        self.assertFalse(result.saved)
        self.assertEqual(len(result.lost), 1)
        change = result.lost[0]
        self.assertIn("lyncpool01.contoso.com", change.label)
        self.assertEqual(change.old, {"fqdn": "lyncpool99.contoso.com"})
        self.assertEqual(change.new["external"], "tls_dsk")
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["pools"][0]["auth"]["external"], "passive")

    def test_an_adfs_row_of_a_renamed_pool_is_refused(self) -> None:
        step, values, base = self._typed("adfs", lambda v: v["relying_parties"][0].update(internal="Lync-Int-New"))
        self._rename_pool()
        result = save_step(self.plan, step, values, based_on=1, base=base, by=self.alice)
        self.assertFalse(result.saved)
        self.assertTrue(result.lost)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["pools"][0]["relying_parties"]["internal"], "Lync-Int")

    def test_the_autosave_answers_not_saved_and_the_page_shows_both_values(self) -> None:
        base = step_base(get_step("authentication"), self.plan.draft)
        self._rename_pool()
        self.client.force_login(self.alice)
        post = {"draft_version": "1", "step_base": base, "pools-TOTAL_FORMS": "1", "pools-INITIAL_FORMS": "1",
                "pools-0-index": "0", "pools-0-pool": "lyncpool01.contoso.com", "pools-0-external": "tls_dsk",
                "pools-0-certificate_auth": "on", "edge_pools-TOTAL_FORMS": "0", "edge_pools-INITIAL_FORMS": "0"}
        autosave = self.client.post(f"/plans/{self.plan.code}/steps/authentication/autosave/", post)
        self.assertContains(autosave, "Not saved", status_code=409)
        page = self.client.post(f"/plans/{self.plan.code}/steps/authentication/", post)
        self.assertContains(page, 'id="stale-lost"', status_code=409)
        self.assertContains(page, "lyncpool99.contoso.com", status_code=409)
        self.assertNotContains(page, "Save my values over theirs", status_code=409)
