"""The rows of the step pages' lists show their fields without crispy's templates (wizard.web.fieldhtml): the
markup must be crispy's, field by field (labels, help, ids and names, values, classes, error notes, aria
attributes), and a step page must still show an error beside its field."""
from __future__ import annotations

import copy
import html.parser
import re
from collections.abc import Callable, Iterator
from typing import Any

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.forms.formsets import BaseFormSet
from django.test import SimpleTestCase
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.attack_helpers import CHEAP, HIDDEN, examples, hostile_text
from tests.base import BaseTestCase, make_plan, plan_doc, set_draft
from tests.test_forms import post_data
from wizard.plan import engine
from wizard.web.fieldhtml import field_html, widget_html
from wizard.web.forms import SECTIONS, StepForms
from wizard.web.steps import STEPS, get_step

S01 = "s01-passive-extranet-mfa"


def collapsed(html: str) -> str:
    """Return `html` with each run of whitespace read as one space (what a browser shows of it)."""
    return re.sub(r"\s+", " ", str(html)).strip()


def fields_of(forms_: StepForms) -> Iterator[tuple[str, forms.BoundField]]:
    for name, section in forms_.sections.items():
        for i, form in enumerate(section.forms if isinstance(section, BaseFormSet) else [section]):
            for field in form:
                yield f"{name}[{i}].{field.name}", field


class FieldHtmlTests(SimpleTestCase):
    """Each field as field_html writes it reads as crispy's |as_crispy_field shows it."""

    def assert_same(self, make: Callable[[], StepForms]) -> int:
        """Compare every field of two equal sets of forms, one shown by crispy, one by field_html."""
        ours, theirs = make(), make()
        count = 0
        for (where, mine), (_, crispy) in zip(fields_of(ours), fields_of(theirs), strict=True):
            with self.subTest(field=where):
                if mine.is_hidden:
                    self.assertEqual(str(widget_html(mine)), str(crispy))
                self.assertEqual(collapsed(field_html(mine)), collapsed(as_crispy_field(crispy)))
                # Shown twice (crispy keeps its classes on the widget), it reads the same.
                self.assertEqual(collapsed(field_html(mine)), collapsed(as_crispy_field(crispy)))
                count += 1
        return count

    def test_every_field_of_every_step_of_an_example_plan(self) -> None:
        for name in ("s01-passive-extranet-mfa", "s02-tls-dsk-30-day-certificates"):
            doc = plan_doc(name)
            shown = 0
            for step in STEPS[:-1]:
                with self.subTest(plan=name, step=step.slug):
                    shown += self.assert_same(lambda step=step, doc=doc: StepForms(step, doc))
            self.assertGreater(shown, 30)

    def test_new_rows_of_the_lists(self) -> None:
        doc = plan_doc(S01)
        for step in STEPS[:-1]:
            for section in SECTIONS[step.slug]:
                with self.subTest(step=step.slug, section=section):
                    self.assert_same(lambda step=step, section=section: StepForms(step, doc, add=section))

    def test_errors_kept_values_and_kept_choices(self) -> None:
        doc = copy.deepcopy(plan_doc(S01))
        doc["pools"][0]["auth"]["external"] = "kerberos"          # not one of the choices: kept and offered
        doc["pools"][0]["auth"]["client_certificate_hours"] = {"default": "30 days", "min": 1, "max": 99999}
        doc["pools"][0]["external_web_fqdn"] = "lync web.contoso.com <b>"
        doc["mobility_policies"] = [{"identity": "Tag:<Bad & policy>", "allow_ip_audio": "maybe"}]
        _, findings = engine.assess(doc)

        def shown(step_slug: str) -> Callable[[], StepForms]:
            def make() -> StepForms:
                step = get_step(step_slug)
                out = StepForms(step, doc)
                out.attach(findings)
                return out
            return make

        for slug in ("environment", "authentication", "adfs", "mobility"):
            with self.subTest(step=slug):
                self.assert_same(shown(slug))

    def test_a_posted_page_with_errors(self) -> None:
        doc = plan_doc(S01)
        for step in STEPS[:-1]:
            data = post_data(StepForms(step, doc))
            for key in list(data):
                if key.endswith(("-fqdn", "-hours_min", "-identity", "-site", "-internal", "-external",
                                 "-version", "-key_size", "-name", "-federation_service_name")):
                    data[key] = "not <valid> & \"quoted\" 'value'\u202e"
            data["pools-0-hours_max"] = "-5"
            with self.subTest(step=step.slug):
                self.assert_same(lambda step=step, data=data: StepForms(step, doc, data=data))

    def test_several_errors_on_one_field_and_a_field_without_help(self) -> None:
        doc = plan_doc(S01)

        def make() -> StepForms:
            out = StepForms(get_step("authentication"), doc)
            form = out["pools"].forms[0]
            form.cleaned_data = {}
            form.add_error("hours_min", "First <problem>")
            form.add_error("hours_min", "Second problem")
            form.add_error("certificate_auth", "A check box's error")
            form.fields["block_pin_auth"].help_text = ""
            form.fields["block_pin_auth"].required = True
            form.fields["hours_max"].label = ""
            return out

        self.assert_same(make)

    def test_other_widgets_are_left_to_crispy(self) -> None:
        class Other(forms.Form):
            text = forms.CharField(widget=forms.Textarea, help_text="Help")
            choice = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
            grouped = forms.ChoiceField(choices=[("Group", [("a", "A")]), ("b", "B")])
            number = forms.IntegerField()

        for data in (None, {"text": "", "choice": "z", "grouped": "q", "number": "x"}):
            ours, theirs = Other(data=data), Other(data=data)
            for name in Other.base_fields:
                with self.subTest(field=name, bound=data is not None):
                    self.assertEqual(collapsed(field_html(ours[name])), collapsed(as_crispy_field(theirs[name])))


class RowFieldOnPageTests(BaseTestCase):
    """A step page's rows, as the browser gets them: an error beside its field, marked for assistive technology."""

    def test_an_error_shows_beside_its_field_with_its_label_and_aria(self) -> None:
        plan = make_plan(fixture=S01)
        doc = copy.deepcopy(plan.draft)
        doc["pools"][0]["external_web_fqdn"] = "lync web.contoso.com"
        set_draft(plan, doc)
        self.client.force_login(self.alice)
        html = self.client.get(reverse("plan-step", args=[plan.code, "environment"])).content.decode()
        field_id = "id_pools-0-external_web_fqdn"
        start = html.index(f'<div id="div_{field_id}" class="mb-3">')
        inner = html[start:html.index('<div id="div_', start + 1)]  # up to the next field
        label = re.search(r'<label\s+for="([^"]+)" class="form-label">\s*([^<]+?)\s*</label>', inner)
        assert label is not None
        self.assertEqual(label.group(1), field_id)
        self.assertEqual(label.group(2), "External web services FQDN")
        control = re.search(r"<input [^>]*>", inner)
        assert control is not None
        self.assertIn(f'id="{field_id}"', control.group(0))
        self.assertIn('name="pools-0-external_web_fqdn"', control.group(0))
        self.assertIn('value="lync web.contoso.com"', control.group(0))
        self.assertIn('class="textinput form-control is-invalid"', control.group(0))
        self.assertIn('aria-invalid="true"', control.group(0))
        self.assertIn(f'aria-describedby="{field_id}_helptext {field_id}_error"', control.group(0))
        note = re.search(rf'<div id="{field_id}_error" class="invalid-feedback">\s*'
                         rf'<p id="error_1_{field_id}"><strong>([^<]+)</strong></p>\s*</div>', inner)
        assert note is not None, "the error note follows the field"
        self.assertIn("without spaces or control characters", note.group(1))
        self.assertLess(inner.index(control.group(0)), inner.index(note.group(0)))
        self.assertIn(f'<div id="{field_id}_helptext" class="form-text">', inner)
        # A field without an error has neither mark.
        self.assertRegex(html, r'<input type="text" name="pools-0-site"[^>]* class="textinput form-control" '
                               r'aria-describedby="id_pools-0-site_helptext" id="id_pools-0-site">')

    def test_a_check_box_and_a_select_of_a_row(self) -> None:
        plan = make_plan(fixture=S01)
        self.client.force_login(self.alice)
        html = self.client.get(reverse("plan-step", args=[plan.code, "authentication"])).content.decode()
        self.assertRegex(html, r'<div class="mb-3">\s*<div id="div_id_pools-0-certificate_auth" class="form-check">\s*'
                               r'<input type="checkbox" name="pools-0-certificate_auth" '
                               r'class="checkboxinput form-check-input" '
                               r'aria-describedby="id_pools-0-certificate_auth_helptext" '
                               r'id="id_pools-0-certificate_auth"( checked)?>\s*'
                               r'<label for="id_pools-0-certificate_auth" class="form-check-label">')
        self.assertRegex(html, r'<select name="pools-0-external" class="select form-select" '
                               r'aria-describedby="id_pools-0-external_helptext" id="id_pools-0-external">\s*'
                               r'<option value="">Leave unchanged</option>')
        self.assertRegex(html, r'<input type="hidden" name="pools-0-index" value="0" id="id_pools-0-index">')


# ---------------------------------------------------------------------------
# Attacks (docs/security-testing.md, "Step page rows written in Python")

# Markup, attribute and template breakers, entities already escaped once, characters that are whitespace to a
# regex (`collapsed` would read them as a space), NUL and bidi controls.
MARKUP = ('"><script>alert(1)</script>', "' onmouseover='alert(1)' x='", '" autofocus onfocus="alert(1)', "&amp;",
          "&#x27;", "&lt;b&gt;", "</textarea>", "</select><script>", "<!--", "]]>", "{{ x }}", "{% x %}", "%s",
          "\u2028", "\x1c", "\u00a0", "\u3000", "  two  spaces  ", "\x00", "\u202e", "\ud800")


class _Events(html.parser.HTMLParser):
    """An HTML text as the browser reads it: tags with their attributes (decoded, in order), and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, tuple(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))

    def handle_data(self, data: str) -> None:
        data = data.strip(" \t\n\r\f")   # the blanks HTML itself ignores between tags, nothing else
        if data:
            self.events.append(("text", data))

    def handle_comment(self, data: str) -> None:
        self.events.append(("comment", data))


def events(text: str) -> list[tuple[Any, ...]]:
    parser = _Events()
    parser.feed(str(text))
    parser.close()
    return parser.events


def _hostile_value() -> st.SearchStrategy[Any]:
    text = st.sampled_from(MARKUP) | hostile_text(extra=HIDDEN, max_pieces=4)
    return st.one_of(text, text, st.integers(-10**13, 10**13), st.booleans(), st.none(), st.floats(allow_nan=False),
                     st.lists(text, max_size=2), st.dictionaries(text, text, max_size=1))


def _spray(data: st.DataObject, value: Any) -> Any:
    """Return `value` with some of its leaves (every one, some or none) replaced by hostile values."""
    if isinstance(value, dict):
        return {key: _spray(data, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_spray(data, item) for item in value]
    return data.draw(_hostile_value()) if data.draw(st.booleans()) else value


class HostileRowTests(SimpleTestCase):
    """Hostile values in a draft's rows, in a posted page and in the errors that echo them: each row field reads
    as crispy shows it, tag for tag, attribute for attribute, character for character (no whitespace folded)."""

    def assert_same_events(self, make: Callable[[], StepForms]) -> None:
        ours, theirs = make(), make()
        for (where, mine), (_, crispy) in zip(fields_of(ours), fields_of(theirs), strict=True):
            if not isinstance(ours.sections[where.partition("[")[0]], BaseFormSet):
                continue   # only list rows are written by field_html
            if mine.is_hidden:
                self.assertEqual(str(widget_html(mine)), str(crispy), where)
            else:
                self.assertEqual(events(field_html(mine)), events(as_crispy_field(crispy)), where)

    @given(data=st.data())
    @settings(CHEAP, max_examples=examples(25))
    def test_hostile_drafts_and_posts_show_as_crispy_shows_them(self, data: st.DataObject) -> None:
        doc = copy.deepcopy(plan_doc(data.draw(st.sampled_from([S01, "s02-tls-dsk-30-day-certificates",
                                                                  "s03-ntlm-kept-mobility-hardened"]))))
        for key in ("pools", "edge_pools", "mobility_policies", "sip_domains"):
            if key in doc:
                doc[key] = _spray(data, doc[key])
        _, findings = engine.assess(copy.deepcopy(doc))
        step = data.draw(st.sampled_from(STEPS[:-1]))

        def drafted() -> StepForms:
            out = StepForms(step, doc)
            out.attach(findings)
            return out

        self.assert_same_events(drafted)
        posted = post_data(StepForms(step, doc))
        for key in posted:
            if data.draw(st.booleans()):
                posted[key] = str(data.draw(_hostile_value()))
        self.assert_same_events(lambda: StepForms(step, doc, data=posted))


class HostileDraftPageTests(BaseTestCase):
    """A stored draft whose rows hold markup: the step pages show each value inside its attribute or text."""

    def test_markup_in_every_row_value_stays_in_its_attribute(self) -> None:
        plan = make_plan(fixture=S01)
        self.client.force_login(self.alice)
        clean = {slug: self.client.get(reverse("plan-step", args=[plan.code, slug])).content.decode()
                 for slug in ("environment", "authentication", "adfs", "mobility")}
        for n, value in enumerate(v for v in MARKUP if v != "\ud800"):
            doc = copy.deepcopy(plan.draft)
            doc["sip_domains"] = [f"{value}{n}.example"]
            for pool in doc["pools"]:
                pool.update(fqdn=f"{value}.pool", site=value, internal_web_fqdn=value, external_web_fqdn=value)
                pool["auth"]["external"] = value   # not one of the choices: offered as kept
                pool.setdefault("relying_parties", {}).update(internal=value, external=value)
            doc["edge_pools"] = [{"fqdn": f"{value}.edge", "access_fqdn": value}]
            doc["mobility_policies"] = [{"identity": f"Tag:{value}", "enable_mobility": value}]
            stored = set_draft(plan, doc).draft["pools"][0]["site"]   # as stored (a NUL is kept as U+FFFD)
            for slug, before in clean.items():
                with self.subTest(value=value, step=slug):
                    response = self.client.get(reverse("plan-step", args=[plan.code, slug]))
                    self.assertEqual(response.status_code, 200)
                    page = events(response.content.decode())
                    tags = [(e[1], tuple(name for name, _ in e[2])) for e in page if e[0] == "start"]
                    self.assertFalse([t for t in tags if any(a.startswith("on") or a in ("x", "autofocus")
                                                             for a in t[1])], "an attribute from the value")
                    self.assertEqual(sum(e[1] == "script" for e in page if e[0] == "start"),
                                     sum(e[1] == "script" for e in events(before) if e[0] == "start"))
                    values = [dict(e[2]).get("value") for e in page if e[0] == "start" and e[1] in ("input", "option")]
                    if slug == "environment":
                        self.assertIn(stored, values, "the value is shown as it is stored")
