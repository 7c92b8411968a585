"""Attack the web wizard's step forms: hostile text typed into any field never escapes.

Each property posts one step page (the form classes directly, no HTTP) with the draft's
own values and one field replaced by hypothesis-generated hostile input. Then either the
form refuses that field (an error on exactly that field), or the step's values go into the
draft (`wizard.steps.apply`) and:

* the plan reader refuses the draft with an error that `StepForms.attach` shows on that
  same field, or
* the draft renders (`build_bundle`, verifier included) and the independent checks of
  tests/attack_helpers.py find nothing.

docs/security-testing.md has the counts and timings.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.forms.formsets import BaseFormSet
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.attack_helpers import (
    BIDI,
    CHEAP,
    FQDN_SLOTS,
    RENDERING,
    ZERO_WIDTH,
    Slot,
    base_doc,
    check_bundle,
    describe,
    errors_of,
    examples,
    fqdn_attempts,
    hostile_text,
    marked,
    plan_doc_of,
    probe_for,
    render_bundle,
)
from wizard.plan.engine import assess
from wizard.plan.reader import read_plan
from wizard.proof.verify import VerificationFailed
from wizard.web.forms import NewPlanForm, StepForms
from wizard.web.steps import apply, get_step

TEXT_EXAMPLES = examples(20)
FQDN_EXAMPLES = examples(60)
OTHER_EXAMPLES = examples(30)
NEW_PLAN_EXAMPLES = examples(200)


@dataclass(frozen=True)
class FormField:
    """A field of a step page: its step, section, row (for a formset), name, and the plan path it fills."""

    step: str
    section: str
    row: int | None
    name: str
    kind: str                  # "text", "fqdn", "fqdns" (the meet list), "number", "choice", "hidden"
    path: str | None           # where the value lands in the plan (None: it only finds a row)
    base: str = ""             # the slot base value (FQDNs: for the attempt strategy)
    prefix: str = ""           # typed before the hostile text ("Tag:" for a tag policy)
    doc: str = "base"          # the attack document the page shows (attack_helpers.BASE_DOCS)

    @property
    def html_name(self) -> str:
        row = "" if self.row is None else f"{self.row}-"
        return f"{self.section}-{row}{self.name}"

    def __repr__(self) -> str:
        return f"FormField({self.html_name!r})"


def _fqdn(step: str, section: str, row: int | None, name: str, path: str, base: str, doc: str = "base") -> FormField:
    return FormField(step, section, row, name, "fqdn", path, base, doc=doc)


TEXT_FIELDS = (
    FormField("environment", "basics", None, "name", "text", "name"),
    FormField("environment", "pools", 0, "site", "text", "pools[0].site"),
    FormField("adfs", "relying_parties", 0, "internal", "text", "pools[0].relying_parties.internal"),
    FormField("adfs", "relying_parties", 0, "external", "text", "pools[0].relying_parties.external"),
    FormField("mobility", "policies", 1, "identity", "text", "mobility_policies[1].identity", prefix="site:"),
    FormField("mobility", "policies", 2, "identity", "text", "mobility_policies[2].identity", prefix="Tag:"),
    FormField("certificates", "certificates", None, "ca", "text", "certificates.ca",
              prefix="ca01.contoso.com\\"),
)
FQDN_FIELDS = (
    _fqdn("environment", "basics", None, "dialin", "simple_urls.dialin", "dialin.contoso.com"),
    _fqdn("environment", "basics", None, "admin", "simple_urls.admin", "admin.contoso.com"),
    _fqdn("environment", "basics", None, "office_web_apps_fqdn", "office_web_apps_fqdn", "oos.contoso.com"),
    _fqdn("environment", "sip_domains", 1, "domain", "sip_domains[1]", "fabrikam.com"),
    _fqdn("environment", "pools", 0, "fqdn", "pools[0].fqdn", "pool01.contoso.com"),
    _fqdn("environment", "pools", 0, "internal_web_fqdn", "pools[0].internal_web_fqdn", "pool01int.contoso.com"),
    _fqdn("environment", "pools", 0, "external_web_fqdn", "pools[0].external_web_fqdn", "web01.contoso.com"),
    _fqdn("environment", "edge_pools", 0, "fqdn", "edge_pools[0].fqdn", "edge.contoso.com"),
    _fqdn("environment", "edge_pools", 0, "access_fqdn", "edge_pools[0].access_fqdn", "sip.contoso.com"),
    _fqdn("environment", "edge_pools", 0, "webconf_fqdn", "edge_pools[0].webconf_fqdn", "webconf.contoso.com"),
    _fqdn("environment", "edge_pools", 0, "av_fqdn", "edge_pools[0].av_fqdn", "av.contoso.com"),
    _fqdn("adfs", "adfs", None, "federation_service_name", "adfs.federation_service_name", "adfs.contoso.com"),
    _fqdn("adfs", "modern_auth", None, "oauth_server_identity", "modern_auth.oauth_server_identity",
          "sts.contoso.com", doc="modern"),
)
MEET_FIELD = FormField("environment", "basics", None, "meet", "fqdns", "simple_urls.meet", "meet.contoso.com")
OTHER_FIELDS = (
    FormField("authentication", "pools", 1, "hours_default", "number", "pools[1].auth.client_certificate_hours.default"),
    FormField("authentication", "pools", 1, "hours_min", "number", "pools[1].auth.client_certificate_hours.min"),
    FormField("authentication", "pools", 1, "hours_max", "number", "pools[1].auth.client_certificate_hours.max"),
    FormField("authentication", "pools", 0, "pool", "hidden", None),
    FormField("authentication", "edge_pools", 0, "edge", "hidden", None),
    FormField("adfs", "relying_parties", 0, "pool", "hidden", None),
    FormField("environment", "pools", 0, "index", "hidden", None),
    FormField("environment", "basics", None, "product", "choice", None),
    FormField("environment", "basics", None, "autodiscover_port", "choice", None),
    FormField("environment", "pools", 1, "role", "choice", None),
    FormField("authentication", "pools", 0, "external", "choice", None),
    FormField("adfs", "adfs", None, "version", "choice", None),
    FormField("adfs", "adfs", None, "mfa", "choice", None),
    FormField("adfs", "modern_auth", None, "scenario", "choice", None, doc="modern"),
    FormField("mobility", "policies", 2, "allow_exchange_connectivity", "choice", None),
    FormField("certificates", "certificates", None, "key_size", "choice", None),
)
# Which error of the reader may land on which attacked field: the lifetime order is reported on `default`.
_HOURS = {"hours_default", "hours_min", "hours_max"}
# Errors about the plan as a whole that any of several fields can cause, shown on the step that holds their fix:
# a pool taken off passive (its mode cleared, or the row cut from its document) leaves the AD FS step's MFA
# with nobody signing in through AD FS.
_ELSEWHERE = {"mfa_without_adfs_sign_in": "adfs"}


# ---------------------------------------------------------------------------
# Posting a step


def post_data(forms: StepForms) -> dict[str, str]:
    """Return the POST body a browser sends for a step page as rendered (checkboxes: "on" or absent)."""
    data: dict[str, str] = {}

    def add(form: Any) -> None:
        for bound in form:
            value = bound.value()
            if value is True:
                data[bound.html_name] = "on"
            elif value is not None and value is not False:
                data[bound.html_name] = str(value)

    for section in forms.sections.values():
        if isinstance(section, BaseFormSet):
            add(section.management_form)
            for form in section.forms:
                add(form)
        else:
            add(section)
    return data


def form_of(forms: StepForms, field: FormField) -> Any:
    section = forms[field.section]
    return section.forms[field.row] if field.row is not None else section


def submit(field: FormField, typed: str) -> tuple[StepForms, dict[str, Any] | None]:
    """Post the step with `typed` in `field`; return the forms and the new draft (None when the forms refuse)."""
    step = get_step(field.step)
    doc = base_doc(field.doc)
    data = post_data(StepForms(step, doc))
    data[field.html_name] = typed
    forms = StepForms(step, doc, data=data)
    if not forms.is_valid():
        return forms, None
    return forms, apply(step, doc, forms.values())


def judge(field: FormField, typed: str, marker: str | None = None,
          probe_paths: Callable[[dict[str, Any]], list[tuple[Slot, str]]] | None = None) -> None:
    """The form refuses `typed` on that field, or the reader refuses the draft on that field, or it renders safely."""
    forms, draft = submit(field, typed)
    form = form_of(forms, field)
    if draft is None:
        refused = {name for name, errors in form.errors.items() if errors}
        assert refused == {field.name}, f"{field!r}: {typed!r} refused on {refused} ({form.errors.as_data()})"
        others = [s for s in forms.sections.values() if s is not forms[field.section] and not s.is_valid()]
        assert not others, f"{field!r}: another section refused an unchanged value"
        return
    plan, findings = assess(draft)
    errors = errors_of(findings)
    if plan is None or errors:
        step = get_step(field.step)
        for error in errors:
            if error.code in _ELSEWHERE:
                # The plan as a whole no longer holds together; the error is shown where its fix is.
                elsewhere = get_step(_ELSEWHERE[error.code]).target(error.field)
                assert elsewhere is not None, (field, error.field)
                continue
            target = step.target(error.field)
            assert target is not None and target.section == field.section, (
                f"{field!r}: {typed!r} gave an error on {error.field!r} ({error.message}), not shown on this field")
            index = form.initial.get("index") if field.row is not None else None
            index = index if index is not None else field.row
            assert target.index == index, (field, error.field, target)
            allowed = _HOURS if field.name in _HOURS else {field.name}
            assert target.field in allowed, f"{field!r}: the error on {error.field!r} shows on {target.field!r}"
        here = [f for f in findings if f.code not in _ELSEWHERE]
        if not errors_of(here):
            return   # refused, on the step that holds the fix: nothing renders
        unplaced = forms.attach(here)
        assert not unplaced, [(f.field, f.message) for f in unplaced]
        assert form.errors.get(field.name) or (field.name in _HOURS and any(form.errors.get(h) for h in _HOURS))
        return
    probes = []
    if field.kind in ("text", "fqdn", "fqdns"):
        accepted = plan_doc_of(plan)
        for slot, mark in (probe_paths or _single_probe(field, marker))(accepted):
            probes.append(probe_for(slot, accepted, mark))
    try:
        bundle = render_bundle(plan, findings)
    except VerificationFailed as exc:
        pytest.fail(f"{field!r}: the verifier refused the bundle of a draft the reader ACCEPTED, typed {typed!r}:\n"
                    + describe(list(exc.report.problems)))
    problems = check_bundle(bundle, probes)
    assert not problems, f"{field!r}: typed {typed!r}\n" + describe(problems)


def _single_probe(field: FormField, marker: str | None) -> Callable[[dict[str, Any]], list[tuple[Slot, str | None]]]:
    def probes(accepted: dict[str, Any]) -> list[tuple[Slot, str | None]]:
        slot = _slot_for(field)
        return [(slot, marker)]
    return probes


def _slot_for(field: FormField) -> Slot:
    from tests.attack_helpers import TEXT_SLOTS

    if field.kind == "text":
        return next(s for s in TEXT_SLOTS if s.path == field.path)
    return Slot(field.path or "", "fqdn", field.base)


# ---------------------------------------------------------------------------
# Properties

FORM_TEXT = st.one_of(
    hostile_text(max_pieces=6),
    hostile_text(breaking=False, max_pieces=6),
    hostile_text(breaking=False, max_pieces=6),
    hostile_text(extra=(*ZERO_WIDTH, *BIDI), max_pieces=4),
)


@pytest.mark.parametrize("field", TEXT_FIELDS, ids=repr)
def test_hostile_text_in_a_step_field_is_refused_there_or_renders_safely(field: FormField) -> None:
    marker = "Qzfk7"

    @settings(RENDERING, max_examples=TEXT_EXAMPLES)
    @given(marked(marker, FORM_TEXT))
    @example("x\u2019; Remove-Item C:\\ -Recurse; \u2019Qzfk7")
    @example("Qzfk7 #> <# '@ \"@ $(calc) `n \u201c\u201d\u201e")
    @example("O'Brien Qzfk7 \u2018EMEA\u2019")
    def run(hostile: str) -> None:
        judge(field, field.prefix + hostile, marker)

    run()


@pytest.mark.parametrize("field", FQDN_FIELDS, ids=repr)
def test_hostile_names_in_a_step_fqdn_field_are_refused_there_or_render_safely(field: FormField) -> None:
    slot = Slot(field.path or "", "fqdn", field.base, scoped=field.name == "fqdn")

    @settings(CHEAP, max_examples=FQDN_EXAMPLES)
    @given(fqdn_attempts(slot))
    @example(field.base.upper() + ". ")
    @example(field.base + "'; Remove-Item C:\\ -Recurse; '")
    @example("service:WebServer:" + field.base)
    def run(hostile: str) -> None:
        judge(field, hostile)

    run()


def _meet_probes(accepted: dict[str, Any]) -> list[tuple[Slot, str | None]]:
    return [(Slot(f"simple_urls.meet[{i}]", "fqdn", name), None) for i, name in enumerate(accepted["simple_urls"]["meet"])]


@settings(CHEAP, max_examples=FQDN_EXAMPLES)
@given(st.lists(st.one_of(fqdn_attempts(next(s for s in FQDN_SLOTS if s.path == "simple_urls.meet[0]")), st.sampled_from([",", ";", " ", "\n", "\t", ", "])),
                min_size=1, max_size=5).map("".join))
@example("meet.contoso.com, $(Remove-Item C:\\ -Recurse)")
@example("meet.contoso.com;meet.fabrikam.com'")
@example("B\u00fccher.contoso.com\nMEET.contoso.com.")
def test_the_meet_list_refuses_hostile_names_or_renders_safely(typed: str) -> None:
    judge(MEET_FIELD, typed, probe_paths=_meet_probes)


@pytest.mark.parametrize("field", OTHER_FIELDS, ids=repr)
def test_hostile_text_in_number_choice_and_hidden_fields_is_refused_or_harmless(field: FormField) -> None:
    @settings(CHEAP, max_examples=OTHER_EXAMPLES)
    @given(st.one_of(hostile_text(max_pieces=4), st.integers(min_value=-10**6, max_value=10**6).map(str),
                     st.sampled_from(["1e3", "0x10", "8.0", " 720 ", "\u0667\u0662\u0660", "NaN", "-0", "720'",
                                      "pool02.contoso.com", "pool01.contoso.com'", ""])))
    def run(typed: str) -> None:
        judge(field, typed)

    run()


@settings(CHEAP, max_examples=NEW_PLAN_EXAMPLES)
@given(FORM_TEXT)
def test_the_new_plan_form_accepts_a_name_exactly_when_the_reader_does(typed: str) -> None:
    form = NewPlanForm({"name": typed, "preset": ""})
    doc = base_doc()
    doc["name"] = typed
    plan, findings = read_plan(doc)
    if form.is_valid():
        assert plan is not None, [(f.field, f.message) for f in findings if f.severity == "error"]
        assert form.cleaned_data["name"] == plan.name
    else:
        assert set(form.errors) == {"name"}
        if plan is not None:
            # Only Django's own limits may be stricter than the reader (a NUL, or a longer raw text).
            assert "\x00" in typed or len(typed.strip()) > 200, (typed, form.errors.as_data())
