"""The wizard's forms: typed, normalised values; raw text kept when a value does not clean;
findings shown on the field that holds their path."""
from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.formsets import BaseFormSet
from django.test import SimpleTestCase

from tests.base import plan_doc
from wizard.plan.finding import Finding
from wizard.plan.reader import read_plan
from wizard.web.forms import (
    IMPORT_MAX_BYTES,
    BasicsForm,
    CertificatesForm,
    EdgePoolForm,
    ImportForm,
    MobilityPolicyForm,
    NewPlanForm,
    PoolAuthForm,
    StepForms,
)
from wizard.web.steps import STEPS, apply, get_step

S01 = "s01-passive-extranet-mfa"


def _widget_value(value: Any) -> Any:
    if value is True:
        return "on"
    if value is None or value is False:
        return None
    return str(value)


def post_data(forms: StepForms) -> dict[str, str]:
    """Return the POST body a browser sends for the forms of a step page as rendered."""
    data: dict[str, str] = {}

    def add(form: Any) -> None:
        for field in form:
            value = _widget_value(field.value())
            if value is not None:
                data[field.html_name] = value

    for section in forms.sections.values():
        if isinstance(section, BaseFormSet):
            add(section.management_form)
            for form in section.forms:
                add(form)
        else:
            add(section)
    return data


class FieldTests(SimpleTestCase):
    def test_an_fqdn_is_normalised(self) -> None:
        form = EdgePoolForm({"fqdn": " EdgeServer:LyncEdge.Contoso.COM. ", "av_fqdn": "bücher.example"})
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.cleaned_data["fqdn"], "lyncedge.contoso.com")
        self.assertEqual(form.cleaned_data["av_fqdn"], "xn--bcher-kva.example")
        self.assertIsNone(form.cleaned_data["access_fqdn"])

    def test_a_scope_prefix_of_another_role_is_refused(self) -> None:
        form = EdgePoolForm({"fqdn": "service:WebServer:lyncedge.contoso.com"})
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors.as_data()["fqdn"][0].code, "invalid_fqdn")

    def test_a_bad_fqdn_is_refused_with_a_code(self) -> None:
        form = EdgePoolForm({"fqdn": "lync edge"})
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors.as_data()["fqdn"][0].code, "invalid_fqdn")

    def test_meet_urls_are_a_list_and_a_bad_one_is_named(self) -> None:
        form = BasicsForm({"name": "P", "product": "sfb2019", "autodiscover_port": "443",
                           "meet": "Meet.Contoso.com, meet.fabrikam.com"})
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.cleaned_data["meet"], ["meet.contoso.com", "meet.fabrikam.com"])
        form = BasicsForm({"name": "P", "product": "sfb2019", "autodiscover_port": "443", "meet": "meet.contoso.com x_y"})
        self.assertFalse(form.is_valid())
        self.assertIn("x_y", form.errors["meet"][0])

    def test_a_product_must_be_one_of_the_three(self) -> None:
        form = BasicsForm({"name": "P", "product": "lync2010", "autodiscover_port": "443"})
        self.assertFalse(form.is_valid())
        self.assertIn("product", form.errors)

    def test_a_plan_name_refuses_control_characters(self) -> None:
        form = BasicsForm({"name": "two\nlines", "product": "sfb2019", "autodiscover_port": "443"})
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors.as_data()["name"][0].code, "invalid_text")

    def test_certificate_hours_stay_in_the_cmdlets_range(self) -> None:
        form = PoolAuthForm({"external": "tls_dsk", "hours_default": "5", "hours_min": "8", "hours_max": "9000"})
        self.assertFalse(form.is_valid())
        self.assertEqual(set(form.errors), {"hours_default", "hours_max"})

    def test_a_policy_identity_is_normalised(self) -> None:
        form = MobilityPolicyForm({"identity": " global "})
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.cleaned_data["identity"], "Global")
        form = MobilityPolicyForm({"identity": "user:alice"})
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors.as_data()["identity"][0].code, "invalid_identity")

    def test_mobility_settings_offer_three_choices(self) -> None:
        form = MobilityPolicyForm()
        self.assertEqual([c[0] for c in form.fields["allow_save_credentials"].choices], ["", "true", "false"])
        self.assertEqual([c[1] for c in form.fields["require_wifi_for_ip_video"].choices],
                         ["Leave as is", "Require", "Don't require"])

    def test_an_online_ca_needs_server_and_name(self) -> None:
        form = CertificatesForm({"key_size": "4096", "ca": "ca01.contoso.com\\Contoso Issuing CA"})
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.cleaned_data["key_size"], 4096)
        form = CertificatesForm({"ca": "Contoso Issuing CA"})
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors.as_data()["ca"][0].code, "invalid_ca")

    def test_every_step_field_has_a_label_and_help_with_a_microsoft_link(self) -> None:
        for step in STEPS:
            if step.is_review:
                continue
            forms = StepForms(step, plan_doc(S01))
            for section in forms.sections.values():
                form = section.empty_form if isinstance(section, BaseFormSet) else section
                for field in form.visible_fields():
                    if field.name == "DELETE":
                        continue
                    with self.subTest(step=step.slug, field=field.name):
                        self.assertTrue(field.label)
                        self.assertIn("https://learn.microsoft.com/", str(field.help_text))

    def test_a_new_plan_needs_a_name_and_a_known_preset(self) -> None:
        self.assertFalse(NewPlanForm({"name": "", "preset": ""}).is_valid())
        self.assertFalse(NewPlanForm({"name": "P", "preset": "nonsense"}).is_valid())
        self.assertTrue(NewPlanForm({"name": "P", "preset": "tls-dsk-only"}).is_valid())

    def test_an_import_larger_than_the_limit_is_refused(self) -> None:
        big = SimpleUploadedFile("plan.json", b" " * (IMPORT_MAX_BYTES + 1), content_type="application/json")
        form = ImportForm(files={"file": big})
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors.as_data()["file"][0].code, "too_large")


class StepFormsTests(SimpleTestCase):
    def test_posting_each_step_as_rendered_gives_back_the_same_draft(self) -> None:
        for fixture in (S01, "s02-tls-dsk-30-day-certificates", "s03-ntlm-kept-mobility-hardened"):
            doc = plan_doc(fixture)
            for step in STEPS:
                if step.is_review:
                    continue
                with self.subTest(fixture=fixture, step=step.slug):
                    bound = StepForms(step, doc, data=post_data(StepForms(step, doc)))
                    self.assertEqual(apply(step, doc, bound.values()), doc)

    def test_posting_a_draft_with_unicode_names_stores_them_normalised(self) -> None:
        doc = plan_doc("multi-domain-director-idn")
        step = get_step("environment")
        new = apply(step, doc, StepForms(step, doc, data=post_data(StepForms(step, doc))).values())
        self.assertIn("xn--bcher-kva.example", new["sip_domains"])
        self.assertNotIn("bücher.example", new["sip_domains"])
        self.assertEqual(read_plan(new)[0], read_plan(doc)[0])

    def test_a_value_that_does_not_clean_is_kept_as_typed(self) -> None:
        doc = plan_doc("s02-tls-dsk-30-day-certificates")
        step = get_step("authentication")
        data = post_data(StepForms(step, doc))
        data["pools-0-hours_default"] = "a month"
        bound = StepForms(step, doc, data=data)
        self.assertFalse(bound.is_valid())
        self.assertEqual(bound.values()["pools"][0]["hours_default"], "a month")

    def test_an_untouched_new_row_is_left_out(self) -> None:
        doc = plan_doc(S01)
        step = get_step("environment")
        data = post_data(StepForms(step, doc, add="pools"))
        self.assertEqual(data["pools-TOTAL_FORMS"], "2")
        self.assertEqual(len(StepForms(step, doc, data=data).values()["pools"]), 1)

    def test_a_row_marked_for_removal_is_left_out_unless_kept(self) -> None:
        doc = plan_doc("multi-domain-director-idn")
        step = get_step("environment")
        data = post_data(StepForms(step, doc))
        data["pools-0-DELETE"] = "on"
        bound = StepForms(step, doc, data=data)
        self.assertEqual(len(bound.values()["pools"]), len(doc["pools"]) - 1)
        self.assertEqual(len(bound.values(keep_deleted=True)["pools"]), len(doc["pools"]))

    def test_a_list_without_its_management_form_is_left_alone(self) -> None:
        doc = plan_doc(S01)
        step = get_step("environment")
        data = {k: v for k, v in post_data(StepForms(step, doc)).items() if not k.startswith("pools-")}
        values = StepForms(step, doc, data=data).values()
        self.assertNotIn("pools", values)
        self.assertEqual(apply(step, doc, values)["pools"], doc["pools"])

    def test_findings_land_on_the_field_that_holds_their_path(self) -> None:
        doc = plan_doc("multi-domain-director-idn")
        forms = StepForms(get_step("environment"), doc)
        unplaced = forms.attach([
            Finding("error", "invalid_fqdn", "pools[1].external_web_fqdn", "is not a valid DNS name"),
            Finding("error", "required", "sip_domains", "needs at least one entry"),
            Finding("error", "odd", "pools[9].fqdn", "no such row"),
            Finding("error", "elsewhere", "adfs.mfa", "not on this step"),
            Finding("warning", "w", "pools[0].fqdn", "warnings are not field errors"),
        ])
        self.assertEqual(forms["pools"].forms[1].errors["external_web_fqdn"], ["Is not a valid DNS name"])
        self.assertFalse(forms["pools"].forms[0].errors)
        self.assertEqual(forms.section_errors["sip_domains"], ["Needs at least one entry"])
        self.assertEqual(forms.section_errors["pools"], ["No such row"])
        self.assertEqual([f.code for f in unplaced], ["elsewhere"])

    def test_a_field_that_already_has_its_own_error_gets_no_second_one(self) -> None:
        doc = plan_doc(S01)
        step = get_step("environment")
        data = post_data(StepForms(step, doc))
        data["pools-0-fqdn"] = "not a name"
        forms = StepForms(step, doc, data=data)
        forms.attach([Finding("error", "invalid_fqdn", "pools[0].fqdn", "is not a valid DNS name")])
        self.assertEqual(len(forms["pools"].forms[0].errors["fqdn"]), 1)
