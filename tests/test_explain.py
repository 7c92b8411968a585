"""Every field explains itself, and plan paths read as labels an admin understands."""
from __future__ import annotations

import re

from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.base import plan_doc
from wizard.plan.explain import FIELDS, explain, generic_path, label_for
from wizard.plan.model import MOBILITY_SETTINGS
from wizard.review.diffs import flatten

FIXTURES = ("s01-passive-extranet-mfa", "s02-tls-dsk-30-day-certificates", "s03-ntlm-kept-mobility-hardened",
            "multi-domain-director-idn")
# Every setting the plan format has, written out (the format page's example plus every mobility setting).
FULL_PLAN = {
    "format": "lync-auth-plan/1", "name": "n", "product": "sfb2019", "sip_domains": ["contoso.com"],
    "pools": [{"fqdn": "p.contoso.com", "role": "frontend", "site": "s", "internal_web_fqdn": "p.contoso.com",
               "external_web_fqdn": "w.contoso.com",
               "auth": {"external": "passive", "certificate_auth": True,
                        "client_certificate_hours": {"default": 8, "min": 8, "max": 8},
                        "block_ntlm_at_registrar": False, "block_pin_auth": True},
               "relying_parties": {"internal": "a", "external": "b"}}],
    "edge_pools": [{"fqdn": "e.contoso.com", "access_fqdn": "sip.contoso.com", "webconf_fqdn": "w.contoso.com",
                    "av_fqdn": "av.contoso.com", "block_ntlm": True}],
    "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2016", "mfa": "none",
             "published_on_reverse_proxy": False},
    "mobility_policies": [{"identity": "Global", **dict.fromkeys(MOBILITY_SETTINGS, True)}],
    "simple_urls": {"meet": ["meet.contoso.com"], "dialin": "dialin.contoso.com", "admin": "admin.contoso.com"},
    "office_web_apps_fqdn": "oos.contoso.com", "autodiscover_port": 443,
    "certificates": {"key_size": 2048, "ca": "ca.contoso.com\\CA"},
}


class ExplanationTests(SimpleTestCase):
    def test_every_setting_of_the_plan_format_is_explained(self) -> None:
        for doc in (FULL_PLAN, *(plan_doc(f) for f in FIXTURES)):
            for path in flatten(doc):
                with self.subTest(path=path):
                    self.assertIsNotNone(explain(path), generic_path(path))

    def test_the_av_edge_help_agrees_with_the_certificate_table_on_a_shared_name(self) -> None:
        # The certificate table lists the A/V Edge FQDN when another Edge service has the same name:
        # the field's help must not say that it never is on a certificate.
        what = explain("edge_pools[0].av_fqdn").what
        self.assertNotIn("never put on a certificate", what)
        self.assertIn("same name", what)

    def test_every_explanation_says_what_it_does_and_links_to_microsoft(self) -> None:
        for key, e in FIELDS.items():
            with self.subTest(key=key):
                self.assertTrue(e.label and e.what)
                self.assertRegex(e.link, r"^https://learn\.microsoft\.com/[a-z0-9/\-]+$")
                self.assertNotEqual(e.link_title, "Microsoft documentation")

    def test_settings_that_lock_people_out_say_who(self) -> None:
        for key in ("pools[].auth.external", "pools[].auth.block_ntlm_at_registrar", "pools[].auth.block_pin_auth",
                    "edge_pools[].block_ntlm",
                    "mobility_policies[].allow_save_credentials", "adfs.mfa"):
            with self.subTest(key=key):
                self.assertTrue(FIELDS[key].breaks)

    def test_help_text_is_escaped_html_with_the_link(self) -> None:
        html = str(FIELDS["adfs.federation_service_name"].help_html())
        self.assertIn("https://&lt;this name&gt;/FederationMetadata", html)
        self.assertIn('href="https://learn.microsoft.com/powershell/module/adfs/get-adfsproperties"', html)
        self.assertIn('rel="noopener noreferrer"', html)
        self.assertNotRegex(html, r"style=|<script")

    def test_the_help_text_is_written_here_not_pasted(self) -> None:
        # Microsoft's help opens its parameter text this way; explanations are in the tool's own words.
        for key, e in FIELDS.items():
            with self.subTest(key=key):
                self.assertFalse(re.match(r"^(When set to True|Specifies|Indicates whether)", e.what))


class LabelTests(SimpleTestCase):
    def test_a_pool_path_is_named_by_the_pools_host(self) -> None:
        doc = plan_doc("s01-passive-extranet-mfa")
        self.assertEqual(label_for("pools[0].auth.external", doc), "Pool lyncpool01 › External authentication")
        self.assertEqual(label_for("edge_pools[0].block_ntlm", doc),
                         "Edge pool lyncedge › Block NTLM and Kerberos at this Edge")
        self.assertEqual(label_for("mobility_policies[0].allow_exchange_connectivity", doc),
                         "Mobility policy Global › Connect to Exchange")
        self.assertEqual(label_for("sip_domains[0]", doc), "SIP domain contoso.com")
        self.assertEqual(label_for("pools[0]", doc), "Pool lyncpool01")

    def test_without_the_document_items_are_numbered(self) -> None:
        self.assertEqual(label_for("pools[1].auth.client_certificate_hours.max"),
                         "Pool 2 › Longest certificate lifetime (hours)")
        self.assertEqual(label_for("simple_urls.meet[0]"), "Meet simple URL 1")

    def test_top_level_and_unknown_paths_still_read(self) -> None:
        self.assertEqual(label_for("adfs.mfa"), "Multi-factor authentication")
        self.assertEqual(label_for("(plan)"), "The plan")
        self.assertEqual(label_for("x_change_ticket"), "X change ticket")
        self.assertEqual(label_for("pools[5].fqdn", {"pools": []}), "Pool 6 › Pool FQDN")


class AcceptedRiskLabelTests(SimpleTestCase):
    def test_an_accepted_risk_is_numbered_and_every_path_of_a_plan_with_one_has_a_label(self):
        doc = plan_doc()
        doc["accepted_risks"] = [{"code": "mfa_edge_password_open", "field": "edge_pools[0].block_ntlm",
                                  "reason": "Phased roll-out"}]
        self.assertEqual(label_for("accepted_risks[0].reason", doc), "Accepted risk 1 › "
                         + label_for("accepted_risks[0].reason").split(" › ", 1)[1])
        for path in flatten(doc):
            self.assertTrue(label_for(path, doc))


def test_the_online_ca_help_shows_a_value_the_reader_takes() -> None:
    # The help said "server\CA name", and a short server name is refused: the example must be one that works.
    from wizard.plan.validators import clean_ca

    example = re.search(r"\(([^()]*\\[^()]*)\)", FIELDS["certificates.ca"].what)
    assert example is not None, FIELDS["certificates.ca"].what
    assert clean_ca(example.group(1)) == example.group(1)


def _plain_container_match(path: str) -> tuple[str, str, str | None] | None:
    """The container match as label_for first wrote it: each container name tried, longest first."""
    from wizard.plan import explain as ex

    for name in sorted(ex._ITEM_LABELS, key=len, reverse=True):
        match = re.match(rf"^{re.escape(name)}\[(\d+)\](?:\.(.*))?$", path)
        if match:
            return name, match.group(1), match.group(2)
    return None


def _one_pattern_match(path: str) -> tuple[str, str, str | None] | None:
    from wizard.plan import explain as ex

    match = ex._ITEM_PATH_RE.match(path)
    return (match.group(1), match.group(2), match.group(3)) if match else None


_PIECES = ["pools", "edge_pools", "mobility_policies", "accepted_risks", "sip_domains", "simple_urls", ".meet",
           "simple_urls.meet", "[0]", "[1]", "[12]", "[٣]", "[", "]", ".", "auth", ".external", "fqdn", "x_note",
           "\n", " ", "pools[0]", "edge_pools[3].block_ntlm", "_", "a"]


class LabelFastPathTests(SimpleTestCase):
    """Issue 14: label_for matches every container with one pattern, as the plain loop over them did."""

    @settings(max_examples=600, deadline=None)
    @given(st.lists(st.sampled_from(_PIECES), max_size=6).map("".join))
    def test_one_pattern_matches_as_the_loop_over_containers(self, path: str) -> None:
        self.assertEqual(_one_pattern_match(path), _plain_container_match(path))

    def test_every_path_of_the_examples_is_matched_as_before(self) -> None:
        for fixture in FIXTURES:
            for path in flatten(plan_doc(fixture)):
                with self.subTest(fixture=fixture, path=path):
                    self.assertEqual(_one_pattern_match(path), _plain_container_match(path))


class ExplanationAgreesWithTheScriptsTests(SimpleTestCase):
    """What a field's explanation says it does must be what the scripts and the impact matrix say."""

    def test_a_registrar_block_lets_a_client_without_a_certificate_fetch_one(self) -> None:
        # TLS-DSK: the Registrar's 401 names the pool's CertProv, where a client without a certificate gets one
        # (with its password, or through AD FS on a passive pool); only clients that cannot do TLS-DSK lose sign-in.
        entry = explain("pools[0].auth.block_ntlm_at_registrar")
        assert entry is not None
        text = f"{entry.what} {entry.breaks}"
        self.assertNotIn("brand-new PC", text)
        self.assertIn("CertProv", text)

    def test_the_mfa_of_the_plan_is_set_on_both_relying_party_trusts(self) -> None:
        # adfs-server.ps1 sets the MFA rule or access control policy on the internal and the external trust alike.
        for side in ("internal", "external"):
            entry = explain(f"pools[0].relying_parties.{side}")
            assert entry is not None
            self.assertNotIn("this is the one that gets", entry.what)
            self.assertIn("both", entry.what)

    def test_publishing_ad_fs_on_the_plain_reverse_proxy_says_what_it_costs(self) -> None:
        # The exposure model takes the box for 'no Web Application Proxy': extranet MFA never fires
        # (mfa_adfs_not_extranet) and Windows integrated sign-in reaches the Internet (adfs_windows_auth_on_internet).
        entry = explain("adfs.published_on_reverse_proxy")
        assert entry is not None
        self.assertIn("Web Application Proxy", entry.what)
        self.assertIn("MFA", entry.breaks)
