"""The exposure matrix rows and the swim-lane picture: escaped, self-contained, on the review page."""
from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from tests.attack_helpers import Probe, check_svg
from tests.base import BaseTestCase, make_plan
from tests.test_sign_in_promises import PASSIVE_MFA, plan_of
from wizard.plan.exposure import exposure
from wizard.scripts import exposure_view
from wizard.scripts.exposure_view import exposure_context, exposure_rows, render_svg

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "O'Brien <script>alert(1)</script> & \"x\" ]]> <!-- $(calc)"


def svg_of(doc: dict, title: str = "t") -> str:
    return render_svg(exposure(plan_of(doc)), title=title)


def test_the_picture_is_a_self_contained_svg_with_presentation_attributes_only() -> None:
    svg = svg_of(PASSIVE_MFA)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert check_svg("exposure.svg", svg, []) == []
    tags = {e.tag.removeprefix(SVG) for e in root.iter()}
    assert not tags & {"script", "style", "foreignObject", "image", "a"}
    assert all("style" not in e.attrib for e in root.iter())


def test_a_path_perhaps_taken_but_never_with_a_password_alone_is_drawn_protected_not_closed() -> None:
    # AD FS's WS-Trust user name and password endpoints answer as today (unknown); where MFA applies no token is
    # issued for a password alone, but the password is still checked there: "closed" would hide that.
    svg = svg_of(PASSIVE_MFA)
    assert "AD FS WS-Trust protected" in svg
    assert "AD FS WS-Trust closed" not in svg


def test_every_text_is_escaped() -> None:
    svg = svg_of(PASSIVE_MFA, title=HOSTILE)
    root = ET.fromstring(svg)
    [title] = [e for e in root.iter(f"{SVG}title") if e.get("id") == "exposure-title"]
    assert title.text == HOSTILE
    probe = Probe(path="name", value=HOSTILE, marker="alert(1)")
    assert check_svg("exposure.svg", svg, [probe]) == []


def test_a_character_xml_forbids_cannot_make_the_picture_unreadable() -> None:
    # The reader refuses these in a plan name; the picture stays well-formed whatever reaches it.
    for char in ("\uffff", "\ufffe", "\x01", "\x0b", "\udc00"):
        svg = svg_of(PASSIVE_MFA, title=f"Contoso{char}Qzk7")
        [title] = [e for e in ET.fromstring(svg).iter(f"{SVG}title") if e.get("id") == "exposure-title"]
        assert title.text == "Contoso\ufffdQzk7", repr(char)


def test_an_unescaped_text_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exposure_view, "_t", str)
    svg = svg_of(PASSIVE_MFA, title="x</title><script>alert(1)</script><title>")
    assert any("forbidden element <script>" in p for p in check_svg("exposure.svg", svg, []))


def test_open_paths_are_red_and_say_password() -> None:
    doc = copy.deepcopy(PASSIVE_MFA)
    doc["pools"].append({"fqdn": "pool02.contoso.com", "external_web_fqdn": "web02.contoso.com",
                         "auth": {"external": "ntlm"}})
    svg = svg_of(doc)
    assert 'stroke="#b42318" stroke-width="3"' in svg
    assert "NTLM OPEN to a password" in svg
    # The first plan has no open path: nothing red.
    assert 'stroke="#b42318"' not in svg_of(PASSIVE_MFA)


def test_every_pool_edge_and_adfs_has_a_lane() -> None:
    svg = svg_of(PASSIVE_MFA)
    for text in ("Internet clients", "Edge edge.contoso.com (sip.contoso.com)", "Reverse proxy",
                 "Web Application Proxy", "pool pool01.contoso.com", "AD FS adfs.contoso.com"):
        assert f">{text}<" in svg, text


def test_rows_say_before_and_after_for_every_path() -> None:
    model = exposure(plan_of(PASSIVE_MFA))
    rows = exposure_rows(model)
    assert len(rows) == len(model.paths)
    edge = next(r for r in rows if r["entry"].startswith("SIP sign-in at Edge") and "NTLM" in r["credential"])
    assert (edge["before"], edge["after"], edge["state"]) == (
        "as today (unknown), perhaps with a password alone", "closed", "closed")


class ReviewPageExposureTests(BaseTestCase):
    def test_the_review_page_shows_the_matrix_and_the_picture_inline(self) -> None:
        plan = make_plan(fixture="s01-passive-extranet-mfa", name="Contoso passive MFA")
        self.client.force_login(self.alice)
        response = self.client.get(reverse("plan-step", args=[plan.code, "review"]))
        self.assertContains(response, 'id="exposure-matrix"')
        self.assertContains(response, '<svg xmlns="http://www.w3.org/2000/svg"')
        self.assertContains(response, "multi-factor authentication at AD FS for sign-in from the extranet: no Internet "
                                      "sign-in works with a password alone")
        self.assertNotContains(response, 'id="exposure-broken"')
        context = exposure_context(plan_of(plan.draft))
        # Edge (NTLM, Kerberos, certificate), Registrar (the same three), web services (NTLM, Kerberos, the
        # password grant, PIN, AD FS, certificate) and AD FS (forms, Windows integrated, WS-Trust user name and
        # password).
        self.assertEqual(len(context["rows"]), 15)


class PromisesInTheWizardsWordsTests(BaseTestCase):
    """The review page says what the plan promises, and which field breaks it, as the wizard's forms say it:
    an admin who built the plan in the browser never saw `adfs.mfa` or `pools[1].auth.external`."""

    def test_promises_and_broken_promises_name_the_fields_by_their_labels(self) -> None:
        doc = copy.deepcopy(PASSIVE_MFA)
        doc["pools"].append({"fqdn": "pool02.contoso.com", "external_web_fqdn": "web02.contoso.com",
                             "auth": {"external": "ntlm"}})
        plan = make_plan(doc=doc)
        self.client.force_login(self.alice)
        html = self.client.get(reverse("plan-step", args=[plan.code, "review"])).content.decode()
        promised = html[html.index("This plan promises:"):html.index("</ul>", html.index("This plan promises:"))]
        self.assertIn("multi-factor authentication at AD FS", promised)
        self.assertIn("NTLM and Kerberos blocked at Edge edge.contoso.com", promised)
        self.assertNotIn("adfs.mfa", promised)
        self.assertNotIn("block_ntlm", promised)
        broken = html[html.index('id="exposure-broken"'):html.index("</div>", html.index('id="exposure-broken"'))]
        self.assertIn("<strong>Pool pool02 › External authentication</strong> (<code>mfa_web_password_open</code>)",
                      broken)
        self.assertNotIn("<code>pools[1].auth.external</code>", broken)
