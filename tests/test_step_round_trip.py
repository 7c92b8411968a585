"""Every field the wizard edits, through the step forms as a browser sends them.

For each field of `lync-auth-plan/1` a step edits (docs/plan-format.md), at each allowed value and
absent: the step's forms are rendered to HTML, posted back the way a browser serialises them (a
select sends its selected option, or its first one; a checkbox only when ticked), and the stored
draft must be byte for byte what it was. Both the document as written by hand and as the plan
writer writes it (what an import stores) are tried. Then values typed into a field are stored
exactly, or normalised the documented way, and a value that does not clean is kept, shows its
message on that field only, and loses nothing else.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.forms.formsets import BaseFormSet
from django.urls import reverse

from tests.base import BaseTestCase, make_plan
from tests.test_robustness import PageForms
from wizard.plan.engine import assess
from wizard.plan.model import MOBILITY_SETTINGS, MODERN_AUTH_SCENARIOS
from wizard.plan.reader import read_plan
from wizard.plan.writer import plan_to_dict
from wizard.review.diffs import diff_data
from wizard.web import transfer
from wizard.web.forms import StepForms
from wizard.web.steps import STEPS, apply, get_step, page_window, step_base

FORM_STEPS = [s for s in STEPS if not s.is_review]

# Every product's plan starts from this: a Front End pool, a Director, a pool left unchanged, two Edge
# pools, AD FS, and mobility policies at the three scopes.
BASE: dict[str, Any] = {
    "format": "lync-auth-plan/1", "name": "Round trip", "product": "sfb2019",
    "sip_domains": ["contoso.com", "fabrikam.com"],
    "pools": [
        {"fqdn": "fe01.contoso.com", "site": "Dublin", "external_web_fqdn": "web01.contoso.com",
         "auth": {"external": "tls_dsk"}},
        {"fqdn": "dir01.contoso.com", "role": "director", "site": "Dublin", "external_web_fqdn": "dirweb.contoso.com",
         "auth": {"external": "passive"}},
        {"fqdn": "fe02.contoso.com", "site": "Oslo"},
    ],
    "edge_pools": [
        {"fqdn": "edge01.contoso.com", "access_fqdn": "sip.contoso.com", "webconf_fqdn": "webconf.contoso.com",
         "av_fqdn": "av.contoso.com"},
        {"fqdn": "edge02.contoso.com", "access_fqdn": "sip2.contoso.com"},
    ],
    "adfs": {"federation_service_name": "sts.contoso.com", "version": "2019"},
    "mobility_policies": [{"identity": "Global"}, {"identity": "site:Dublin", "enable_mobility": True},
                          {"identity": "Tag:Sales", "allow_save_credentials": False}],
}

Change = Callable[[dict[str, Any]], Any]


def _modern(extra: dict[str, Any]) -> Change:
    def change(d: dict[str, Any]) -> None:
        d["pools"][1]["auth"]["external"] = "tls_dsk"  # Modern Authentication needs no passive pool
        d["modern_auth"] = dict(extra)
    return change


def _variants() -> list[tuple[str, Change]]:
    out: list[tuple[str, Change]] = []
    add = out.append
    for product in ("lync2013", "sfb2015", "sfb2019", "sfbse"):
        add((f"product={product}", lambda d, p=product: d.update(product=p)))
        add((f"product={product}, Modern Authentication",
             lambda d, p=product: (d.update(product=p), _modern({"scenario": "allow_all"})(d))))
    add(("product absent", lambda d: d.pop("product")))
    add(("name with unicode", lambda d: d.update(name="Café ☕ – phase 2")))
    for role in ("frontend", "director"):
        add((f"pools[0].role={role}", lambda d, r=role: d["pools"][0].update(role=r)))
    for key in ("site", "external_web_fqdn"):
        add((f"pools[0].{key} absent", lambda d, k=key: d["pools"][0].pop(k)))
    add(("pools[0].internal_web_fqdn", lambda d: d["pools"][0].update(internal_web_fqdn="int01.contoso.com")))
    for mode in ("ntlm", "tls_dsk", "passive"):
        add((f"pools[0].auth.external={mode}", lambda d, m=mode: d["pools"][0]["auth"].update(external=m)))
    add(("pools[0].auth absent", lambda d: d["pools"][0].pop("auth")))
    for key in ("certificate_auth", "block_ntlm_at_registrar", "block_pin_auth"):
        for value in (True, False):
            for i in (0, 1):
                add((f"pools[{i}].auth.{key}={value}", lambda d, k=key, v=value, i=i: d["pools"][i]["auth"].update({k: v})))
    add(("pools[0].auth.client_certificate_hours",
         lambda d: d["pools"][0]["auth"].update(client_certificate_hours={"default": 720, "min": 8, "max": 720})))
    add(("pools[0].auth in another key order",
         lambda d: d["pools"][0].update(auth={"block_pin_auth": True, "certificate_auth": False, "external": "tls_dsk"})))
    for rps in ({"internal": "RP-Int"}, {"external": "RP-Ext"}, {"internal": "A", "external": "B"}):
        add((f"pools[1].relying_parties={rps}", lambda d, r=rps: d["pools"][1].update(relying_parties=dict(r))))
        add((f"pools[2].relying_parties={rps} (no auth)", lambda d, r=rps: d["pools"][2].update(relying_parties=dict(r))))
    for value in (True, False):
        for i in (0, 1):
            add((f"edge_pools[{i}].block_ntlm={value}", lambda d, v=value, i=i: d["edge_pools"][i].update(block_ntlm=v)))
    add(("edge_pools absent", lambda d: d.pop("edge_pools")))
    add(("one Edge pool", lambda d: d.update(edge_pools=d["edge_pools"][:1])))
    for version in ("2.0", "2012r2", "2016", "2019", "2022"):
        add((f"adfs.version={version}", lambda d, v=version: d["adfs"].update(version=v)))
    for mfa in ("none", "extranet", "always"):
        add((f"adfs.mfa={mfa}", lambda d, m=mfa: d["adfs"].update(mfa=m)))
    for value in (True, False):
        add((f"adfs.published_on_reverse_proxy={value}",
             lambda d, v=value: d["adfs"].update(published_on_reverse_proxy=v)))
    add(("adfs absent", lambda d: (d.pop("adfs"), d["pools"][1].pop("auth"))))
    add(("modern_auth {}", _modern({})))
    add(("modern_auth.oauth_server_identity", _modern({"oauth_server_identity": "oauth.contoso.com"})))
    for key in ("accept_sid_claims", "office2013_clients"):
        for value in (True, False):
            add((f"modern_auth.{key}={value}", _modern({key: value})))
    for scenario in MODERN_AUTH_SCENARIOS:
        add((f"modern_auth.scenario={scenario}", _modern({"scenario": scenario})))
    add(("modern_auth in another key order", _modern({"office2013_clients": True, "scenario": "allow_all",
                                                       "accept_sid_claims": True,
                                                       "oauth_server_identity": "sts.contoso.com"})))
    for key in MOBILITY_SETTINGS:
        for value in (True, False):
            add((f"mobility_policies[2].{key}={value}",
                 lambda d, k=key, v=value: d["mobility_policies"][2].update({k: v})))
    add(("mobility_policies absent", lambda d: d.pop("mobility_policies")))
    add(("mobility policy in another key order",
         lambda d: d["mobility_policies"].__setitem__(1, {"enable_mobility": True, "identity": "site:Dublin"})))
    add(("simple_urls.meet", lambda d: d.update(simple_urls={"meet": ["meet.contoso.com"]})))
    add(("simple_urls, all three", lambda d: d.update(simple_urls={
        "meet": ["meet.contoso.com", "meet.fabrikam.com"], "dialin": "dialin.contoso.com",
        "admin": "admin.contoso.com"})))
    add(("simple_urls.dialin alone", lambda d: d.update(simple_urls={"dialin": "dialin.contoso.com"})))
    add(("simple_urls in another key order",
         lambda d: d.update(simple_urls={"admin": "admin.contoso.com", "meet": ["meet.contoso.com"]})))
    add(("simple_urls with nulls and no meeting URL",
         lambda d: d.update(simple_urls={"meet": [], "dialin": None, "admin": "admin.contoso.com"})))
    add(("office_web_apps_fqdn", lambda d: d.update(office_web_apps_fqdn="oos.contoso.com")))
    for port in (443, 80):
        add((f"autodiscover_port={port}", lambda d, p=port: d.update(autodiscover_port=p)))
    for size in (2048, 4096):
        add((f"certificates.key_size={size}", lambda d, s=size: d.update(certificates={"key_size": s})))
    add(("certificates.ca", lambda d: d.update(certificates={"ca": "ca01.contoso.com\\Contoso Issuing CA"})))
    add(("certificates in another key order",
         lambda d: d.update(certificates={"ca": "ca01.contoso.com\\Contoso Issuing CA", "key_size": 4096})))
    add(("accepted_risks", lambda d: d.update(accepted_risks=[
        {"code": "mfa_edge_password_open", "field": "edge_pools[0].block_ntlm", "reason": "Until March."}])))
    add(("x_ keys", lambda d: (d.update(x_ticket="T-1"), d["pools"][0].update(x_note="n"),
                               d["pools"][0]["auth"].update(x_a=1), d["edge_pools"][0].update(x_e=1),
                               d["adfs"].update(x_ad=1), d["mobility_policies"][0].update(x_m=1))))
    add(("top-level keys in another order", lambda d: [d.update({k: d.pop(k)}) for k in ("sip_domains", "format")]))
    return out


VARIANTS = _variants()


def variant(change: Change) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    change(doc)
    return doc


def canonical(doc: dict[str, Any]) -> dict[str, Any]:
    """Return `doc` as the plan writer writes it (what an import stores as the draft)."""
    plan, findings = read_plan(copy.deepcopy(doc))
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return plan_to_dict(plan)


def browser_post(forms: StepForms) -> dict[str, str]:
    """Return what a browser posts for the step's forms as rendered: each field's HTML, serialised."""
    html = ["<form method=\"post\">"]
    for section in forms.sections.values():
        for form in ([section.management_form, *section.forms] if isinstance(section, BaseFormSet) else [section]):
            html += [str(bound) for bound in form]
    html.append("</form>")
    parser = PageForms()
    parser.feed("".join(html))
    data: dict[str, str] = {}
    for name, value in parser.forms[0][1]:
        data.setdefault(name, value)
    return data


def dumped(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False)


def _valid(change: Change) -> bool:
    return read_plan(variant(change))[0] is not None


# Each variant as written, and each valid one as the plan writer writes it (what an import stores).
ROUND_TRIPS = [(label, change, False) for label, change in VARIANTS] + \
    [(label, change, True) for label, change in VARIANTS if _valid(change)]


@pytest.mark.parametrize(("label", "change", "written"), ROUND_TRIPS,
                         ids=[f"{label} ({'as imported' if written else 'as written'})"
                              for label, _, written in ROUND_TRIPS])
def test_showing_a_step_and_posting_it_back_leaves_the_draft_byte_for_byte(label: str, change: Change,
                                                                          written: bool) -> None:
    doc = canonical(variant(change)) if written else variant(change)
    for step in FORM_STEPS:
        posted = StepForms(step, doc, data=browser_post(StepForms(step, doc)))
        assert dumped(apply(step, doc, posted.values())) == dumped(doc), step.slug


# ---------------------------------------------------------------------------
# Typed values


def get_path(doc: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        doc = doc[int(part[1:-1])] if part.startswith("[") else doc[part]
    return doc


def typed(step: str, doc: dict[str, Any], **changes: str | None) -> tuple[StepForms, dict[str, Any]]:
    """Return the bound forms and the new draft after typing `changes` (None: untick) into the step as shown."""
    data = browser_post(StepForms(get_step(step), doc))
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    bound = StepForms(get_step(step), doc, data=data)
    return bound, apply(get_step(step), doc, bound.values())


# (step, form field, typed text, plan path, what is stored)
STORED = [
    ("environment", "basics-name", "Fabrikam: phase 2", "name", "Fabrikam: phase 2"),
    ("environment", "basics-product", "sfbse", "product", "sfbse"),
    ("environment", "basics-autodiscover_port", "80", "autodiscover_port", 80),
    ("environment", "basics-meet", "meet.contoso.com, meet.fabrikam.com", "simple_urls.meet",
     ["meet.contoso.com", "meet.fabrikam.com"]),
    ("environment", "basics-dialin", "dialin.contoso.com", "simple_urls.dialin", "dialin.contoso.com"),
    ("environment", "basics-admin", "admin.contoso.com", "simple_urls.admin", "admin.contoso.com"),
    ("environment", "basics-office_web_apps_fqdn", "oos.contoso.com", "office_web_apps_fqdn", "oos.contoso.com"),
    ("environment", "pools-2-role", "director", "pools[2].role", "director"),
    ("environment", "pools-2-site", "Oslo Nord", "pools[2].site", "Oslo Nord"),
    ("environment", "edge_pools-1-av_fqdn", "av2.contoso.com", "edge_pools[1].av_fqdn", "av2.contoso.com"),
    ("authentication", "pools-0-external", "passive", "pools[0].auth.external", "passive"),
    ("authentication", "pools-0-hours_max", "4320", "pools[0].auth.client_certificate_hours.max", 4320),
    ("authentication", "pools-1-block_pin_auth", "on", "pools[1].auth.block_pin_auth", True),
    ("authentication", "pools-1-block_ntlm_at_registrar", "on", "pools[1].auth.block_ntlm_at_registrar", True),
    ("authentication", "pools-1-certificate_auth", None, "pools[1].auth.certificate_auth", False),
    ("authentication", "edge_pools-1-block_ntlm", "on", "edge_pools[1].block_ntlm", True),
    ("adfs", "adfs-version", "2022", "adfs.version", "2022"),
    ("adfs", "adfs-mfa", "always", "adfs.mfa", "always"),
    ("adfs", "adfs-published_on_reverse_proxy", "on", "adfs.published_on_reverse_proxy", True),
    ("adfs", "relying_parties-0-internal", "SfB Director (internal)", "pools[1].relying_parties.internal",
     "SfB Director (internal)"),
    ("mobility", "policies-2-allow_save_im_history", "false", "mobility_policies[2].allow_save_im_history", False),
    ("mobility", "policies-1-enable_mobility", "", "mobility_policies[1]", {"identity": "site:Dublin"}),
    ("mobility", "policies-1-identity", "Tag:Field staff", "mobility_policies[1].identity", "Tag:Field staff"),
    ("certificates", "certificates-key_size", "4096", "certificates.key_size", 4096),
    ("certificates", "certificates-ca", "ca01.contoso.com\\Contoso CA", "certificates.ca",
     "ca01.contoso.com\\Contoso CA"),
]


@pytest.mark.parametrize(("step", "field", "text", "path", "stored"), STORED, ids=[f"{s[1]}={s[2]}" for s in STORED])
def test_a_value_typed_into_its_field_is_stored_exactly(step: str, field: str, text: str | None, path: str,
                                                        stored: Any) -> None:
    bound, new = typed(step, copy.deepcopy(BASE), **{field: text})
    assert bound.is_valid(), bound.field_errors()
    assert get_path(new, path) == stored
    assert type(get_path(new, path)) is type(stored)


def test_clearing_every_value_of_an_object_removes_it() -> None:
    doc = variant(lambda d: (d["pools"][1].update(relying_parties={"internal": "A", "external": "B"}),
                             d.update(certificates={"key_size": 4096, "ca": "ca01.contoso.com\\CA"},
                                      simple_urls={"meet": ["meet.contoso.com"], "dialin": "dialin.contoso.com"})))
    _, new = typed("adfs", doc, **{"relying_parties-0-internal": "", "relying_parties-0-external": ""})
    assert "relying_parties" not in new["pools"][1]
    _, new = typed("certificates", doc, **{"certificates-key_size": "", "certificates-ca": ""})
    assert "certificates" not in new
    _, new = typed("environment", doc, **{"basics-meet": "", "basics-dialin": ""})
    assert "simple_urls" not in new


def test_a_modern_authentication_section_typed_is_stored_exactly() -> None:
    doc = variant(_modern({}))
    del doc["modern_auth"]
    _, new = typed("adfs", doc, **{"modern_auth-enabled": "on", "modern_auth-oauth_server_identity": "oauth.contoso.com",
                                   "modern_auth-accept_sid_claims": "true", "modern_auth-office2013_clients": "on",
                                   "modern_auth-scenario": "block_windows_auth_externally"})
    assert new["modern_auth"] == {"oauth_server_identity": "oauth.contoso.com", "accept_sid_claims": True,
                                  "scenario": "block_windows_auth_externally", "office2013_clients": True}


# (step, form field, typed text, plan path, the reader's message on it)
REFUSED = [
    ("environment", "basics-name", "x" * 201, "name", "at most 200"),
    ("environment", "basics-autodiscover_port", "8080", "autodiscover_port", "443 or 80"),
    ("environment", "basics-meet", "meet .contoso.com", "simple_urls.meet", "without spaces"),
    ("environment", "basics-dialin", "dial in.contoso.com", "simple_urls.dialin", "without spaces"),
    ("environment", "basics-office_web_apps_fqdn", "oos..contoso.com", "office_web_apps_fqdn", ""),
    ("environment", "pools-0-site", "Dub\u0007lin", "pools[0].site", "control characters"),
    ("environment", "edge_pools-0-access_fqdn", "sip contoso", "edge_pools[0].access_fqdn", "without spaces"),
    ("authentication", "pools-0-hours_default", "a month", "pools[0].auth.client_certificate_hours.default",
     "whole number"),
    ("authentication", "pools-0-hours_default", "5", "pools[0].auth.client_certificate_hours.default",
     "between 8 and 8760"),
    ("authentication", "pools-0-hours_min", "99999", "pools[0].auth.client_certificate_hours.min",
     "between 8 and 4320"),
    ("adfs", "adfs-federation_service_name", "sts_contoso", "adfs.federation_service_name", ""),
    ("adfs", "relying_parties-0-external", "r" * 300, "pools[1].relying_parties.external", "at most 128"),
    ("mobility", "policies-1-identity", "user:bob", "mobility_policies[1].identity", "Global"),
    ("certificates", "certificates-ca", "no backslash", "certificates.ca", "backslash"),
]


@pytest.mark.parametrize(("step", "field", "text", "path", "message"), REFUSED,
                         ids=[f"{r[1]}={r[2][:20]}" for r in REFUSED])
def test_a_refused_value_is_kept_with_its_message_on_that_field_and_nothing_else_is_lost(
        step: str, field: str, text: str, path: str, message: str) -> None:
    doc = copy.deepcopy(BASE)
    doc["pools"][0]["auth"]["client_certificate_hours"] = {"default": 720, "min": 8, "max": 720}
    doc["pools"][1]["relying_parties"] = {"internal": "RP-Int", "external": "RP-Ext"}
    _, new = typed(step, doc, **{field: text})
    assert str(get_path(new, path)) == text.strip()
    # Nothing else changed: that value is the draft's only difference.
    assert [c.path for c in diff_data(doc, new)] == [path]
    # Its error is on that field, and it is the only error of the step.
    _, findings = assess(new)
    shown = StepForms(get_step(step), new)
    assert shown.attach([f for f in findings if f.severity == "error"]) == []
    errors = shown.field_errors()
    html_id = f"id_{field}"
    assert list(errors) == [html_id], errors
    assert message in errors[html_id]
    # And the field shows what was typed.
    assert browser_post(shown)[field] == text.strip()


# ---------------------------------------------------------------------------
# Defects found by the round trip


def test_a_box_ticked_on_a_pool_left_unchanged_is_kept_and_asks_for_the_mode() -> None:
    for field, key, value in (("block_pin_auth", "block_pin_auth", "on"),
                              ("block_ntlm_at_registrar", "block_ntlm_at_registrar", "on"),
                              ("certificate_auth", "certificate_auth", None)):
        _, new = typed("authentication", copy.deepcopy(BASE), **{f"pools-2-{field}": value})
        assert new["pools"][2].get("auth") == {key: value == "on"}, field
        _, findings = assess(new)
        shown = StepForms(get_step("authentication"), new)
        shown.attach([f for f in findings if f.severity == "error"])
        assert shown.field_errors() == {"id_pools-2-external": "Is required"}
    # Leaving a pool with authentication unchanged, with its boxes as shown, still removes its auth.
    _, new = typed("authentication", variant(lambda d: d["pools"][0]["auth"].update(block_pin_auth=True)),
                   **{"pools-0-external": ""})
    assert "auth" not in new["pools"][0]


def test_a_choice_the_draft_holds_that_is_not_offered_is_shown_and_posted_back_unchanged() -> None:
    cases = [("environment", "product", "lync2010"), ("environment", "autodiscover_port", 8080),
             ("environment", "pools[0].role", "edge"), ("authentication", "pools[0].auth.external", "kerberos"),
             ("adfs", "adfs.version", "2025"), ("adfs", "adfs.mfa", "sometimes"),
             ("mobility", "mobility_policies[1].enable_mobility", "maybe"),
             ("certificates", "certificates.key_size", 1024)]
    for step, path, value in cases:
        doc = copy.deepcopy(BASE)
        doc["certificates"] = {"key_size": 2048}
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
        parent = get_path(doc, ".".join(parts[:-1]).replace(".[", "[")) if len(parts) > 1 else doc
        parent[parts[-1]] = value
        shown = StepForms(get_step(step), doc)
        posted = StepForms(get_step(step), doc, data=browser_post(shown))
        assert dumped(apply(get_step(step), doc, posted.values())) == dumped(doc), path


class StepPagesForEveryProductTests(BaseTestCase):
    """The pages themselves: each product, with and without Modern Authentication, a Director, two Edge pools
    and policies at every scope: every step shows, and saving or autosaving it unchanged stores nothing."""

    def test_every_step_shows_and_saves_unchanged_without_writing(self) -> None:
        self.client.force_login(self.alice)
        for product in ("lync2013", "sfb2015", "sfb2019", "sfbse"):
            for modern in (False, True):
                doc = variant(lambda d, p=product: d.update(product=p))
                if modern:
                    _modern({"scenario": "block_windows_auth_externally", "office2013_clients": True})(doc)
                for stored in (doc, canonical(doc)):
                    plan = make_plan(doc=stored)
                    # As the database holds it (PostgreSQL's jsonb keeps its own key order).
                    plan.refresh_from_db()
                    before = dumped(plan.draft)
                    for step in FORM_STEPS:
                        with self.subTest(product=product, modern=modern, step=step.slug):
                            url = reverse("plan-step", args=[plan.code, step.slug])
                            page = self.client.get(url)
                            self.assertEqual(page.status_code, 200)
                            parser = PageForms()
                            parser.feed(page.content.decode())
                            form = next(fields for _, fields in parser.forms if "draft_version" in dict(fields))
                            data = dict(reversed(form))
                            data["action"] = "save"
                            self.assertEqual(data["step_base"],
                                             step_base(step, plan.draft, page_window(step, plan.draft)[0]))
                            auto = self.client.post(reverse("plan-step-autosave", args=[plan.code, step.slug]),
                                                    data)
                            self.assertContains(auto, "Saved")
                            self.assertEqual(self.client.post(url, data).status_code, 302)
                            plan.refresh_from_db()
                            self.assertEqual(plan.draft_version, 1)
                            self.assertEqual(dumped(plan.draft), before)


# ---------------------------------------------------------------------------
# x_ data in objects the steps edit


def _with_x_data(doc: dict[str, Any]) -> None:
    # x_ data alone in client_certificate_hours (the lifetimes left as they are) and in relying_parties (the
    # default names), and beside values in both.
    doc["pools"][0]["auth"]["client_certificate_hours"] = {"x_why": {"ticket": "CHG-7"}}
    doc["pools"][1]["auth"]["client_certificate_hours"] = {"default": 8, "min": 8, "max": 24, "x_h": [1, 2]}
    doc["pools"][1]["relying_parties"] = {"x_owner": "idm"}
    doc["pools"][0]["relying_parties"] = {"internal": "FE int", "external": "FE ext", "x_n": 1}


X_DATA = {"pools[0].auth.client_certificate_hours": {"x_why": {"ticket": "CHG-7"}},
          "pools[1].auth.client_certificate_hours.x_h": [1, 2],
          "pools[1].relying_parties": {"x_owner": "idm"},
          "pools[0].relying_parties.x_n": 1}


def test_x_data_alone_in_an_object_is_written_back() -> None:
    # An object holding only x_ keys read as "not given" and was dropped on export.
    out = canonical(variant(_with_x_data))
    for path, value in X_DATA.items():
        assert get_path(out, path) == value, path


@pytest.mark.parametrize(("step", "changes"), [
    ("authentication", {}),
    ("authentication", {"pools-0-block_ntlm_at_registrar": "on", "pools-1-hours_max": "48"}),
    ("adfs", {}),
    ("adfs", {"relying_parties-0-internal": "Director int"}),
    ("adfs", {"relying_parties-0-internal": "Director int", "relying_parties-1-external": ""}),
])
def test_x_data_in_hours_and_relying_parties_survives_a_step_save(step: str, changes: dict[str, str]) -> None:
    # The authentication step rebuilt client_certificate_hours from the three typed lifetimes: its x_ keys
    # were dropped, and an object holding only x_ keys was removed.
    for doc in (variant(_with_x_data), canonical(variant(_with_x_data))):
        _, new = typed(step, doc, **changes)
        for path, value in X_DATA.items():
            assert get_path(new, path) == value, path


class XDataRoundTripTests(BaseTestCase):
    """Import, save every step (unchanged, then with a change), export: the x_ data comes back."""

    def test_x_data_survives_import_step_saves_and_export(self) -> None:
        self.client.force_login(self.alice)
        plan = transfer.import_plan(json.dumps(variant(_with_x_data)), owner=self.alice).plan
        edits = {"authentication": {"pools-0-block_ntlm_at_registrar": "on"},
                 "adfs": {"relying_parties-0-internal": "Director int"}}
        for step in FORM_STEPS:
            for change in ({}, edits.get(step.slug, {})):
                url = reverse("plan-step", args=[plan.code, step.slug])
                parser = PageForms()
                parser.feed(self.client.get(url).content.decode())
                form = next(fields for _, fields in parser.forms if "draft_version" in dict(fields))
                data = {**dict(reversed(form)), "action": "save", **change}
                self.assertEqual(self.client.post(url, data).status_code, 302, step.slug)
        plan.refresh_from_db()
        out = json.loads(transfer.export_plan(plan))
        self.assertEqual(out["pools"][0]["auth"]["block_ntlm_at_registrar"], True)
        for path, value in X_DATA.items():
            self.assertEqual(get_path(out, path), value, path)
