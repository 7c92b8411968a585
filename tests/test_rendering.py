"""The rendering engine, its filters, the harmless twin, and the AD FS and Management Shell scripts."""
from __future__ import annotations

import copy
import json
import re
import unittest
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateAssertionError, UndefinedError

from tests.test_examples_bundle import Command, find_command, parse_commands
from tests.test_templates_lint import decode_single, scan_powershell
from wizard.plan import intended
from wizard.plan.model import PlanData
from wizard.plan.reader import load_plan, read_plan
from wizard.proof.verify import verify_scripts
from wizard.scripts.artifacts import ARTIFACTS, core
from wizard.scripts.psquote import ps_str
from wizard.scripts.rendering import (
    FILTERS,
    FilterRefused,
    environment,
    harmless_twin,
    inf_str,
    md_text,
    render_artifact,
    render_template,
    xml_attr,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plans"
ADFS_FILE = "adfs-server.ps1"
LYNC_FILE = "lync-management-shell.ps1"


def make_doc(**changes: Any) -> dict[str, Any]:
    """Return a valid one-pool passive plan document with top-level `changes` applied."""
    doc: dict[str, Any] = {
        "format": "lync-auth-plan/1",
        "name": "Test plan",
        "product": "sfb2019",
        "sip_domains": ["contoso.com"],
        "pools": [{
            "fqdn": "pool01.contoso.com",
            "external_web_fqdn": "web01.contoso.com",
            "auth": {"external": "passive"},
        }],
        "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2012r2", "mfa": "extranet"},
    }
    doc.update(copy.deepcopy(changes))
    return doc


def plan_of(doc: dict[str, Any]) -> PlanData:
    plan, findings = read_plan(doc)
    assert plan is not None, findings
    return plan


def render_core(plan: PlanData) -> dict[str, str]:
    """Return {file name: text} of the core (AD FS and Management Shell) scripts that apply."""
    return {a.output_name(plan): render_artifact(a, plan) for a in core.ARTIFACTS if a.applies(plan)}


def commands(text: str, name: str | None = None) -> list[Command]:
    found = parse_commands(text)
    return [c for c in found if name is None or c.name == name.lower()]


def skeleton(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Return each command's name and parameter names: what user data must never change."""
    return [(c.name, tuple(p for p, _ in c.params)) for c in parse_commands(text)]


def assert_verified(case: unittest.TestCase, plan: PlanData, scripts: dict[str, str]) -> None:
    twin = harmless_twin(plan)
    twin_scripts = render_core(twin)
    report = verify_scripts(scripts, product=plan.product, adfs_version=plan.adfs.version if plan.adfs else None,
                            twin_scripts=twin_scripts)
    case.assertTrue(report.ok, report.problems)


class FilterTests(unittest.TestCase):
    def test_inf_str_quotes_plain_values(self) -> None:
        self.assertEqual(inf_str("CN=web.contoso.com"), '"CN=web.contoso.com"')
        self.assertEqual(inf_str("dns=web.contoso.com&"), '"dns=web.contoso.com&"')

    def test_inf_str_refuses_what_an_inf_value_cannot_hold(self) -> None:
        for bad in ('a"b', "a\u201cb", "50%", "a\nb", "a\rb", "a\tb", "a\x00b", "a\u2028b", "a\x85b", None):
            with self.subTest(bad=bad), self.assertRaises(FilterRefused):
                inf_str(bad)

    def test_xml_attr_escapes_markup_and_both_quotes(self) -> None:
        self.assertEqual(xml_attr("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f")
        self.assertEqual(xml_attr("^(web\\.contoso\\.com)$"), "^(web\\.contoso\\.com)$")

    def test_xml_attr_refuses_control_characters(self) -> None:
        for bad in ("a\nb", "a\tb", "a\x01b", "a\x7fb", "a\ufffeb", None):
            with self.subTest(bad=bad), self.assertRaises(FilterRefused):
                xml_attr(bad)

    def test_md_text_makes_markdown_inert(self) -> None:
        self.assertEqual(md_text("a|b*c_d`e<f>g"), "a\\|b\\*c\\_d\\`e&lt;f&gt;g")
        self.assertEqual(md_text("[link](javascript:x) & \\"), "\\[link\\](javascript:x) &amp; \\\\")

    def test_md_text_puts_everything_on_one_line(self) -> None:
        self.assertEqual(md_text("one\ntwo\r\nthree\u2028four"), "one two three four")
        self.assertEqual(md_text("| a |\n| - |"), "\\| a \\| \\| - \\|")

    def test_md_text_refuses_none(self) -> None:
        with self.assertRaises(FilterRefused):
            md_text(None)


class EnvironmentTests(unittest.TestCase):
    def test_only_the_project_filters_exist(self) -> None:
        self.assertEqual(set(environment().filters), set(FILTERS))
        self.assertEqual(set(FILTERS), {"ps_str", "ps_bool", "ps_int", "ps_array", "ps_comment", "ps_name",
                                        "inf_str", "xml_attr", "md_text"})

    def test_the_environment_is_strict_and_writes_text(self) -> None:
        env = environment()
        self.assertIs(env.undefined, StrictUndefined)
        self.assertFalse(env.autoescape)
        self.assertTrue(env.trim_blocks and env.lstrip_blocks and env.keep_trailing_newline)

    def test_a_builtin_filter_does_not_compile(self) -> None:
        with self.assertRaises(TemplateAssertionError):
            environment().from_string("{{ x | upper }}")

    def test_a_missing_value_raises(self) -> None:
        with self.assertRaises(UndefinedError):
            environment().from_string("Set-X -Name {{ name | ps_str }}\n").render()

    def test_a_template_missing_a_context_value_raises(self) -> None:
        plan = plan_of(make_doc())
        context = core.lync_context(plan)
        del context["web_services"][0]["certificate_auth"]
        with self.assertRaises(UndefinedError):
            render_template("lync-management-shell.ps1.j2", {**context, "header": {}, "artifact": {}})

    def test_output_uses_lf_only_and_ends_with_a_newline(self) -> None:
        for text in render_core(plan_of(make_doc())).values():
            self.assertNotIn("\r", text)
            self.assertTrue(text.endswith("}\n"))


class ScriptShapeTests(unittest.TestCase):
    """What every generated script does before and around its changes."""

    def test_each_script_can_be_trusted_to_run(self) -> None:
        scripts = render_core(plan_of(make_doc(mobility_policies=[{"identity": "Global", "enable_mobility": True}])))
        self.assertEqual(set(scripts), {ADFS_FILE, LYNC_FILE})
        for name, text in scripts.items():
            with self.subTest(script=name):
                self.assertIn("[CmdletBinding(SupportsShouldProcess = $true)]\nparam()\n", text)
                self.assertIn("Set-StrictMode -Version 2.0\n", text)
                self.assertIn("$ErrorActionPreference = 'Stop'\n", text)
                self.assertIn("Start-RunTranscript -Path (Join-Path -Path $RunFolder -ChildPath 'transcript.log')", text)
                self.assertRegex(text, r"finally \{\n    Stop-RunLog\n\}\n$")
                self.assertIn("Export-Clixml", text)
                self.assertIn("'created.csv'", text)
                # Checks come first, then the backups, then the changes.
                checks = text.index("Checking where this script runs")
                backup = text.index("Backing up the settings")
                changes = text.index("Applying the changes")
                self.assertLess(checks, backup)
                self.assertLess(backup, changes)
                changing = ("add-adfs", "set-adfs", "new-cs", "set-cs")
                self.assertFalse([c.text for c in commands(text[:changes]) if c.name.startswith(changing)])
                self.assertTrue([c.text for c in commands(text[changes:]) if c.name.startswith(changing)])

    def test_every_changing_command_honours_whatif(self) -> None:
        plan = plan_of(make_doc(
            edge_pools=[{"fqdn": "edge.contoso.com", "block_ntlm": True}],
            mobility_policies=[{"identity": "Global", "allow_save_credentials": False},
                               {"identity": "Tag:Sales", "enable_mobility": False}],
        ))
        for text in render_core(plan).values():
            for command in commands(text):
                if command.name.startswith(("new-cs", "set-cs", "add-adfs", "set-adfs")):
                    with self.subTest(command=command.text):
                        self.assertEqual(command.get("WhatIf"), "$WhatIfPreference")

    def test_the_header_names_plan_revision_version_product_and_machine(self) -> None:
        plan = plan_of(make_doc(name="Contoso <#evil#> plan"))
        header = {"plan_name": plan.name, "plan_ref": "3f2a-ref", "revision": "7", "tool_version": "9.9.9"}
        text = render_artifact(next(a for a in core.ARTIFACTS if a.key == "lync"), plan, header=header)
        top = text[:text.index("#>") + 2]
        self.assertIn("Plan:           Contoso  evil  plan", top)
        self.assertIn("Plan reference: 3f2a-ref", top)
        self.assertIn("Revision:       7", top)
        self.assertIn("planner 9.9.9", top)
        self.assertIn("Product:        Skype for Business Server 2019", top)
        self.assertIn("Run on:         Lync/SfB Management Shell on a Front End server", top)
        self.assertEqual(top.count("#>"), 1)

    def test_a_plan_rendered_without_a_source_says_draft(self) -> None:
        text = render_core(plan_of(make_doc()))[LYNC_FILE]
        self.assertIn("Revision:       draft", text)  # render_core without a Source (a bundle always has one)

    def test_no_double_quoted_strings_or_here_strings_in_code(self) -> None:
        for path in sorted(FIXTURES.glob("*.json")):
            plan, _ = load_plan(path.read_bytes())
            assert plan is not None
            for name, text in render_core(plan).items():
                with self.subTest(fixture=path.name, script=name):
                    kinds = {span.kind for span in scan_powershell(text)}
                    self.assertLessEqual(kinds, {"code", "single", "comment"})


class AdfsScriptTests(unittest.TestCase):
    def adfs(self, version: str, mfa: str) -> str:
        plan = plan_of(make_doc(adfs={"federation_service_name": "adfs.contoso.com", "version": version, "mfa": mfa}))
        scripts = render_core(plan)
        if not (version == "2.0" and mfa != "none"):
            # AD FS 2.0 with MFA is a blocking finding; everything else must pass verification.
            assert_verified(self, plan, scripts)
        return scripts[ADFS_FILE]

    def test_adfs_20_uses_the_snapin_and_no_mfa_or_policies(self) -> None:
        text = self.adfs("2.0", "none")
        self.assertIn("Add-PSSnapin Microsoft.Adfs.PowerShell", text)
        self.assertNotIn("Import-Module -Name 'ADFS'", text)
        self.assertNotIn("AdditionalAuthenticationRules", text)
        self.assertNotIn("AccessControlPolicyName", text)
        # The snap-in has Get-ADFSProperties (catalog override adfs20-snapin-properties): the farm is checked too.
        self.assertIn("$FarmName = (Get-AdfsProperties).HostName", text)
        self.assertTrue(find_command("Set-AdfsRelyingPartyTrust -TargetName 'Lync-Int-pool01' "
                                     f"-IssuanceAuthorizationRules {ps_str(intended.ISSUANCE_AUTHORIZATION_RULES)}",
                                     {ADFS_FILE: text}))

    def test_adfs_20_with_mfa_warns_that_it_cannot(self) -> None:
        text = self.adfs("2.0", "extranet")
        self.assertIn("Write-Warning", text)
        self.assertNotIn("AdditionalAuthenticationRules", text)

    def test_adfs_2012r2_puts_mfa_rules_on_each_trust(self) -> None:
        for mfa, rule in (("extranet", intended.MFA_EXTRANET_RULE), ("always", intended.MFA_ALWAYS_RULE)):
            with self.subTest(mfa=mfa):
                text = self.adfs("2012r2", mfa)
                self.assertIn("Import-Module -Name 'ADFS'", text)
                self.assertIn("(Get-AdfsGlobalAuthenticationPolicy).AdditionalAuthenticationProvider", text)
                self.assertNotIn("AccessControlPolicyName", text)
                for trust in ("Lync-Int-pool01", "Lync-Ext-pool01"):
                    self.assertTrue(find_command(f"Set-AdfsRelyingPartyTrust -TargetName '{trust}' "
                                                 f"-AdditionalAuthenticationRules {ps_str(rule)}", {ADFS_FILE: text}))
                    self.assertTrue(find_command(f"Add-AdfsRelyingPartyTrust -Name '{trust}' "
                                                 f"-AdditionalAuthenticationRules {ps_str(rule)}", {ADFS_FILE: text}))
        self.assertIn("insidecorporatenetwork", intended.MFA_EXTRANET_RULE)
        self.assertNotIn("insidecorporatenetwork", intended.MFA_ALWAYS_RULE)

    def test_adfs_2012r2_without_mfa_leaves_the_mfa_rules_alone(self) -> None:
        text = self.adfs("2012r2", "none")
        self.assertNotIn("AdditionalAuthenticationRules", text)
        self.assertNotIn("AdditionalAuthenticationProvider", text)
        self.assertIn("-IssuanceAuthorizationRules", text)

    def test_adfs_2016_and_later_use_an_access_control_policy(self) -> None:
        expected = {"none": "Permit everyone", "extranet": "Permit everyone and require MFA from extranet access",
                    "always": "Permit everyone and require MFA"}
        for version in ("2016", "2019", "2022"):
            for mfa, policy in expected.items():
                with self.subTest(version=version, mfa=mfa):
                    text = self.adfs(version, mfa)
                    self.assertNotIn("-IssuanceAuthorizationRules", text)
                    # No MFA rule is set (the policy asks for MFA); rules a trust had before are only read back.
                    self.assertNotIn("-AdditionalAuthenticationRules", text)
                    self.assertIn(f"Get-AdfsAccessControlPolicy -Name {ps_str(policy)}", text)
                    for trust in ("Lync-Int-pool01", "Lync-Ext-pool01"):
                        self.assertTrue(find_command(f"Set-AdfsRelyingPartyTrust -TargetName '{trust}' "
                                                     f"-AccessControlPolicyName {ps_str(policy)}", {ADFS_FILE: text}))
                        self.assertTrue(find_command(f"Add-AdfsRelyingPartyTrust -Name '{trust}' "
                                                     f"-AccessControlPolicyName {ps_str(policy)}", {ADFS_FILE: text}))
                        self.assertTrue(find_command(
                            f"Set-AdfsRelyingPartyTrust -TargetName '{trust}' "
                            f"-IssuanceTransformRules {ps_str(intended.ISSUANCE_TRANSFORM_RULES)}", {ADFS_FILE: text}))

    def test_claim_types_are_http_uris(self) -> None:
        for version in ("2.0", "2012r2", "2016"):
            text = self.adfs(version, "none" if version == "2.0" else "always")
            self.assertNotIn("https://schemas.microsoft.com", text)
            self.assertIn("http://schemas.microsoft.com/ws/2008/06/identity/claims/primarysid", text)

    def test_a_trust_is_added_only_when_missing(self) -> None:
        # Matched by identifier (read from the pool's metadata before any change), not by name.
        text = self.adfs("2012r2", "extranet")
        for trust in ("Lync-Int-pool01", "Lync-Ext-pool01"):
            guard = f"if (-not (Get-AdfsRelyingPartyTrust -Identifier $Identifiers['{trust}'] -ErrorAction " \
                    f"SilentlyContinue)) {{\n        Add-AdfsRelyingPartyTrust -Name '{trust}'"
            self.assertIn(guard, text)
            self.assertNotIn(f"if (-not (Get-AdfsRelyingPartyTrust -Name '{trust}'", text)

    def test_trusts_are_matched_by_identifier_before_any_change(self) -> None:
        text = self.adfs("2016", "extranet")
        preflight = text[:text.index("Backing up the settings")]
        for trust, url in (("Lync-Int-pool01", "https://pool01.contoso.com"), ("Lync-Ext-pool01", "https://web01.contoso.com")):
            # Each trust's identifier is read and checked in the preflight (the checks themselves run in
            # tests/test_rollback_runs.py: a trust of that identifier under another name, or of that name
            # for another identifier, stops the script before any change).
            self.assertIn(f"$Identifiers['{trust}'] = Get-TrustIdentifier -Name '{trust}' -Url '{url}/passiveauth/"
                          f"federationmetadata/2007-06/federationmetadata.xml'", preflight)
            self.assertIn(f"Save-Backup -Kind 'AdfsRelyingPartyTrust' -Identity '{trust}' -Item "
                          f"(Get-AdfsRelyingPartyTrust -Identifier $Identifiers['{trust}']", text)
        # An unreachable metadata URL stops the script in the preflight.
        self.assertIn("$Metadata = [xml]$Client.DownloadString($Url)", preflight)
        self.assertIn("$Id = Get-MetadataIdentifier -Url $Url", preflight)

    def test_the_script_checks_it_runs_on_the_planned_farm(self) -> None:
        text = self.adfs("2019", "none")
        self.assertIn("$FarmName = (Get-AdfsProperties).HostName", text)
        self.assertIn("if ($FarmName -ne 'adfs.contoso.com')", text)

    def test_two_passive_pools_get_distinct_trusts(self) -> None:
        pools = [
            {"fqdn": "pool01.contoso.com", "external_web_fqdn": "web01.contoso.com", "auth": {"external": "passive"}},
            {"fqdn": "pool02.contoso.com", "external_web_fqdn": "web02.contoso.com", "auth": {"external": "passive"}},
        ]
        plan = plan_of(make_doc(pools=pools))
        scripts = render_core(plan)
        assert_verified(self, plan, scripts)
        adds = commands(scripts[ADFS_FILE], "Add-AdfsRelyingPartyTrust")
        names = [c.get("Name") for c in adds]
        self.assertEqual(names, ["Lync-Int-pool01", "Lync-Ext-pool01", "Lync-Int-pool02", "Lync-Ext-pool02"])
        urls = {c.get("MetadataUrl") for c in adds}
        self.assertEqual(urls, {
            f"https://{host}/passiveauth/federationmetadata/2007-06/federationmetadata.xml"
            for host in ("pool01.contoso.com", "web01.contoso.com", "pool02.contoso.com", "web02.contoso.com")
        })
        identities = [c.get("Identity") for c in commands(scripts[LYNC_FILE], "New-CsWebServiceConfiguration")]
        self.assertEqual(identities, ["service:WebServer:pool01.contoso.com", "service:WebServer:pool02.contoso.com"])

    def test_no_adfs_script_without_a_passive_pool(self) -> None:
        plan = plan_of(make_doc(pools=[{"fqdn": "pool01.contoso.com", "auth": {"external": "tls_dsk"}}]))
        self.assertNotIn(ADFS_FILE, render_core(plan))


class ManagementShellScriptTests(unittest.TestCase):
    def test_passive_pool_at_service_scope(self) -> None:
        text = render_core(plan_of(make_doc()))[LYNC_FILE]
        identity = "service:WebServer:pool01.contoso.com"
        self.assertIn(f"if (-not (Get-CsWebServiceConfiguration -Identity '{identity}' -ErrorAction SilentlyContinue))"
                      " {\n", text)
        # A new collection copies what the plan leaves alone from the one that applies until now: its site's in the
        # topology, read at run time, else the global one.
        self.assertIn("        $Parent = Get-AppliedWebServiceConfiguration -Pool 'pool01.contoso.com'\n"
                      f"        New-CsWebServiceConfiguration -Identity '{identity}'", text)
        scripts = {LYNC_FILE: text}
        self.assertTrue(find_command(
            f"Set-CsWebServiceConfiguration -Identity '{identity}' -UseWsFedPassiveAuth $true -UseWindowsAuth None "
            "-UsePinAuth $false -UseCertificateAuth $true -WsFedPassiveMetadataUri "
            "'https://adfs.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml'", scripts))
        # Microsoft's two-factor procedure turns PIN off too: extension + PIN never goes through AD FS.
        for command in commands(text, "New-CsWebServiceConfiguration"):
            self.assertEqual(command.get("UsePinAuth"), "$false")
        for command in commands(text):
            if command.name in ("set-cswebserviceconfiguration", "new-cswebserviceconfiguration",
                                "set-csproxyconfiguration", "new-csproxyconfiguration"):
                self.assertTrue((command.get("Identity") or "").startswith("service:"), command.text)
            if command.has("UseWindowsAuth"):
                self.assertIn(command.get("UseWindowsAuth"), ("None", "Negotiate", "NTLM"))

    def test_certificate_auth_follows_the_plan_on_a_passive_pool(self) -> None:
        doc = make_doc()
        doc["pools"][0]["auth"]["certificate_auth"] = False
        text = render_core(plan_of(doc))[LYNC_FILE]
        for command in commands(text, "Set-CsWebServiceConfiguration"):
            self.assertEqual(command.get("UseCertificateAuth"), "$false")

    def test_tls_dsk_keeps_windows_auth_and_sets_lifetimes(self) -> None:
        pools = [{"fqdn": "pool01.contoso.com", "auth": {
            "external": "tls_dsk", "client_certificate_hours": {"default": 720, "min": 24, "max": 1440}}}]
        plan = plan_of(make_doc(pools=pools, adfs=None, edge_pools=[{"fqdn": "edge.contoso.com", "block_ntlm": True}]))
        scripts = render_core(plan)
        assert_verified(self, plan, scripts)
        text = scripts[LYNC_FILE]
        # Windows authentication stays as it is: the script never sets it (a new collection copies it).
        for command in commands(text):
            if command.has("UseWindowsAuth"):
                self.assertEqual((command.name, command.get("UseWindowsAuth")),
                                 ("new-cswebserviceconfiguration", "$Parent.UseWindowsAuth"))
        self.assertNotIn("UseWsFedPassiveAuth", text)
        self.assertNotIn("UseCertificateForClientToProxyAuth $false", text)
        self.assertTrue(find_command(
            "Set-CsWebServiceConfiguration -Identity 'service:WebServer:pool01.contoso.com' -UseCertificateAuth $true "
            "-DefaultValidityPeriodHours 720 -MinValidityPeriodHours 24 -MaxValidityPeriodHours 1440", scripts))
        # Blocking NTLM and Kerberos sets certificate sign-in on explicitly, in both branches.
        self.assertTrue(find_command(
            "New-CsProxyConfiguration -Identity 'service:EdgeServer:edge.contoso.com' "
            "-UseKerberosForClientToProxyAuth $false -UseNtlmForClientToProxyAuth $false "
            "-UseCertificateForClientToProxyAuth $true", scripts))
        self.assertTrue(find_command(
            "Set-CsProxyConfiguration -Identity 'service:EdgeServer:edge.contoso.com' "
            "-UseKerberosForClientToProxyAuth $false -UseNtlmForClientToProxyAuth $false "
            "-UseCertificateForClientToProxyAuth $true", scripts))
        self.assertNotIn("UseCertifcate", text)

    def test_tls_dsk_with_certificates_off_is_refused(self) -> None:
        plan = plan_of(make_doc(pools=[{"fqdn": "p.contoso.com", "auth": {"external": "tls_dsk",
                                                                           "certificate_auth": False}}], adfs=None))
        with self.assertRaises(ValueError):
            render_core(plan)

    def test_ntlm_pools_turn_nothing_off(self) -> None:
        pools = [{"fqdn": "pool01.contoso.com", "auth": {"external": "ntlm"}}]
        plan = plan_of(make_doc(pools=pools, adfs=None, mobility_policies=[{"identity": "Global",
                                                                             "allow_save_credentials": False}]))
        text = render_core(plan)[LYNC_FILE]
        self.assertNotIn("ClientToProxyAuth", text)
        self.assertNotIn("WebServiceConfiguration -Identity", text)
        self.assertNotIn("UseWindowsAuth", text)

    def test_an_ntlm_pool_that_blocks_its_registrar_is_never_dropped_silently(self) -> None:
        # The findings refuse the plan; the script builder refuses it too instead of dropping the block.
        pools = [{"fqdn": "pool01.contoso.com", "auth": {"external": "ntlm", "block_ntlm_at_registrar": True}}]
        plan = plan_of(make_doc(pools=pools, adfs=None))
        with self.assertRaisesRegex(ValueError, "NTLM pool cannot block NTLM at its Registrar"):
            render_core(plan)

    def test_ntlm_pool_with_certificate_lifetimes_only_sets_those(self) -> None:
        OVERRIDES = {"overrideauthtypeforexternalclients", "overrideauthtypeforinternalclients"}
        pools = [{"fqdn": "pool01.contoso.com", "auth": {
            "external": "ntlm", "client_certificate_hours": {"default": 720, "min": 8, "max": 720}}}]
        text = render_core(plan_of(make_doc(pools=pools, adfs=None)))[LYNC_FILE]
        sets = commands(text, "Set-CsWebServiceConfiguration")
        # The Set- that changes an existing collection sets the lifetimes only...
        changes = [c for c in sets if not {p for p, _ in c.params} & OVERRIDES]
        self.assertEqual(len(changes), 1)
        self.assertEqual({p for p, _ in changes[0].params}, {
            "identity", "usecertificateauth", "defaultvalidityperiodhours", "minvalidityperiodhours",
            "maxvalidityperiodhours", "whatif"})
        # ...and the others copy one authentication-type override each into a collection the script just created.
        for command in sets:
            if command not in changes:
                self.assertEqual(len({p for p, _ in command.params} & OVERRIDES), 1)
                self.assertEqual({p for p, _ in command.params} - OVERRIDES, {"identity", "whatif"})

    def test_registrar_is_blocked_only_when_asked(self) -> None:
        doc = make_doc()
        text = render_core(plan_of(doc))[LYNC_FILE]
        self.assertNotIn("service:Registrar:", text)
        doc["pools"][0]["auth"]["block_ntlm_at_registrar"] = True
        text = render_core(plan_of(doc))[LYNC_FILE]
        self.assertTrue(find_command("New-CsProxyConfiguration -Identity 'service:Registrar:pool01.contoso.com' "
                                     "-UseKerberosForClientToProxyAuth $false -UseNtlmForClientToProxyAuth $false",
                                     {LYNC_FILE: text}))

    def test_an_edge_that_keeps_ntlm_is_left_alone(self) -> None:
        text = render_core(plan_of(make_doc(edge_pools=[{"fqdn": "edge.contoso.com", "block_ntlm": False}])))[LYNC_FILE]
        # Its proxy settings are neither read for a backup nor changed. (The MFA promise's check of the topology
        # lists the Edge pools with Get-CsService -EdgeServer, which changes nothing.)
        self.assertNotIn("service:EdgeServer:", text)
        self.assertNotIn("CsProxyConfiguration", text)

    def test_mobility_policies_per_scope(self) -> None:
        doc = make_doc(pools=[{"fqdn": "pool01.contoso.com", "site": "Redmond", "external_web_fqdn": "web.contoso.com",
                               "auth": {"external": "passive"}}], mobility_policies=[
            {"identity": "Global", "allow_exchange_connectivity": False},
            {"identity": "site:Redmond", "enable_outside_voice": False, "require_wifi_for_ip_audio": True},
            {"identity": "Tag:Executives", "allow_save_credentials": False, "allow_save_im_history": False},
            {"identity": "Tag:Empty"},
        ])
        plan = plan_of(doc)
        scripts = render_core(plan)
        assert_verified(self, plan, scripts)
        text = scripts[LYNC_FILE]
        sets = {c.get("Identity"): c for c in commands(text, "Set-CsMobilityPolicy")}
        news = {c.get("Identity"): c for c in commands(text, "New-CsMobilityPolicy")}
        self.assertEqual(set(sets), {"Global", "site:Redmond", "Tag:Executives"})
        self.assertEqual(set(news), {"site:Redmond", "Tag:Executives", "Tag:Empty"})
        self.assertEqual(dict(sets["Global"].params), {"identity": "Global", "allowexchangeconnectivity": "$false",
                                                       "whatif": "$WhatIfPreference"})
        # A new site policy also gets the plan's Global settings it does not set itself; an existing one is only
        # changed where the plan names a setting.
        self.assertEqual(dict(news["site:Redmond"].params), {
            "identity": "site:Redmond", "enableoutsidevoice": "$false", "requirewififoripaudio": "$true",
            "allowexchangeconnectivity": "$false", "whatif": "$WhatIfPreference"})
        self.assertEqual(dict(sets["site:Redmond"].params), {
            "identity": "site:Redmond", "enableoutsidevoice": "$false", "requirewififoripaudio": "$true",
            "whatif": "$WhatIfPreference"})
        self.assertEqual(dict(news["Tag:Executives"].params), {
            "identity": "Tag:Executives", "allowsavecredentials": "$false", "allowexchangeconnectivity": "$false",
            "allowsaveimhistory": "$false", "whatif": "$WhatIfPreference"})
        self.assertEqual(dict(news["Tag:Empty"].params), {
            "identity": "Tag:Empty", "allowexchangeconnectivity": "$false", "whatif": "$WhatIfPreference"})
        self.assertEqual(dict(sets["Tag:Executives"].params), {
            "identity": "Tag:Executives", "allowsavecredentials": "$false", "allowsaveimhistory": "$false",
            "whatif": "$WhatIfPreference"})
        self.assertIn("if (-not (Get-CsMobilityPolicy -Identity 'Tag:Executives' -ErrorAction SilentlyContinue)) {\n"
                      "        # A new policy would start from the product's defaults: it also gets the plan's Global "
                      "settings it does not set.\n        New-CsMobilityPolicy -Identity 'Tag:Executives'", text)
        self.assertIn("Get-CsSite -Identity 'Redmond'", text)
        for online_only in ("EncryptAppData", "RequireIntune", "EnablePushNotifications", "AllowDeviceContactsSync",
                            "VoiceSettings", "AllowAutomaticPstnFallback"):
            self.assertNotIn(online_only, text)

    def test_a_global_policy_with_no_settings_is_not_touched(self) -> None:
        plan = plan_of(make_doc(mobility_policies=[{"identity": "Global"}]))
        self.assertNotIn("CsMobilityPolicy", render_core(plan)[LYNC_FILE])

    def test_lync_2013_and_skype_2019_load_their_own_module(self) -> None:
        policies = [{"identity": "Global", "allow_save_credentials": False, "enable_mobility": True}]
        lync = render_core(plan_of(make_doc(product="lync2013", mobility_policies=policies)))[LYNC_FILE]
        sfb = render_core(plan_of(make_doc(product="sfb2019", mobility_policies=policies)))[LYNC_FILE]
        self.assertIn("Import-Module -Name 'Lync'", lync)
        self.assertIn("if ($CsCommand.ModuleName -ne 'Lync')", lync)
        self.assertIn("Import-Module -Name 'SkypeForBusiness'", sfb)
        self.assertIn("if ($CsCommand.ModuleName -ne 'SkypeForBusiness')", sfb)
        # Lync 2013 checks for the cumulative-update parameter before changing anything; Skype has it.
        self.assertIn("(Get-Command -Name 'Set-CsMobilityPolicy').Parameters.ContainsKey('AllowSaveCredentials')", lync)
        self.assertNotIn("ContainsKey('EnableMobility')", lync)
        self.assertNotIn("(Get-Command -Name 'Set-CsMobilityPolicy').Parameters.ContainsKey", sfb)
        # Skype checks only the settings a new web service collection copies that Lync Server 2013 never had.
        self.assertEqual(re.findall(r"Get-Command -Name '([^']+)'\)\.Parameters\.ContainsKey\('(\w+)'\)", sfb),
                         [("New-CsWebServiceConfiguration", "MobilePreferredAuthType"),
                          ("New-CsWebServiceConfiguration", "UseDomainAuthInLWA")])
        self.assertLess(lync.index("ContainsKey"), lync.index("Backing up"))

    def test_every_pool_and_edge_is_looked_up_in_the_topology_first(self) -> None:
        plan = plan_of(make_doc(edge_pools=[{"fqdn": "edge.contoso.com", "block_ntlm": True}]))
        text = render_core(plan)[LYNC_FILE]
        for fqdn in ("pool01.contoso.com", "edge.contoso.com"):
            self.assertLess(text.index(f"Get-CsPool -Identity '{fqdn}'"), text.index("Backing up"))

    def test_every_changed_collection_is_backed_up_before_the_changes(self) -> None:
        plan = plan_of(make_doc(edge_pools=[{"fqdn": "edge.contoso.com", "block_ntlm": True}],
                                mobility_policies=[{"identity": "Tag:X", "enable_mobility": True}]))
        text = render_core(plan)[LYNC_FILE]
        changes = text.index("Applying the changes")
        backups = [(c.get("Kind"), c.get("Identity")) for c in commands(text[:changes], "Save-Backup")]
        self.assertEqual(backups, [
            ("CsWebServiceConfiguration", "service:WebServer:pool01.contoso.com"),
            ("CsProxyConfiguration", "service:EdgeServer:edge.contoso.com"),
            ("CsMobilityPolicy", "Tag:X"),
        ])
        created = [(c.get("Kind"), c.get("Identity")) for c in commands(text[changes:], "Register-Created")]
        self.assertEqual(created, backups)


class HarmlessTwinTests(unittest.TestCase):
    def hostile(self) -> PlanData:
        plan, findings = load_plan((FIXTURES / "hostile.json").read_bytes())
        assert plan is not None, findings
        return plan

    def test_every_user_string_is_replaced_consistently(self) -> None:
        plan = self.hostile()
        twin = harmless_twin(plan)
        text = json.dumps([repr(twin)])
        for needle in ("obrien", "O'Brien", "Dub", "Sales", "Remove-Item", "$(", "`", "\u2018", "\u2019"):
            self.assertNotIn(needle, text)
        # The same site in the pool and in the site policy gets the same placeholder.
        self.assertEqual(twin.mobility_policies[1].identity, f"site:{twin.pools[0].site}")
        # Distinct values stay distinct, suffixes stay shared.
        self.assertNotEqual(twin.pools[0].fqdn, twin.pools[1].fqdn)
        self.assertTrue(twin.pools[0].fqdn.endswith("." + twin.sip_domains[0]))
        self.assertNotEqual(twin.pools[0].rp_names.internal, twin.pools[0].rp_names.external)

    def test_structure_booleans_and_numbers_are_kept(self) -> None:
        plan = self.hostile()
        twin = harmless_twin(plan)
        self.assertEqual(twin.product, plan.product)
        self.assertEqual(len(twin.pools), len(plan.pools))
        self.assertEqual([p.auth for p in twin.pools], [p.auth for p in plan.pools])
        self.assertEqual([m.scope for m in twin.mobility_policies], [m.scope for m in plan.mobility_policies])
        self.assertEqual([m.settings() for m in twin.mobility_policies], [m.settings() for m in plan.mobility_policies])
        self.assertEqual((twin.adfs.version, twin.adfs.mfa), (plan.adfs.version, plan.adfs.mfa))  # type: ignore[union-attr]
        self.assertEqual(harmless_twin(plan), twin)

    def test_the_twin_renders_the_same_commands(self) -> None:
        for path in sorted(FIXTURES.glob("*.json")):
            plan, _ = load_plan(path.read_bytes())
            assert plan is not None
            scripts, twin_scripts = render_core(plan), render_core(harmless_twin(plan))
            self.assertEqual(set(scripts), set(twin_scripts))
            for name in scripts:
                with self.subTest(fixture=path.name, script=name):
                    self.assertEqual(skeleton(scripts[name]), skeleton(twin_scripts[name]))


class HostileInputTests(unittest.TestCase):
    """O'Brien's plan: quotes of every kind, $(...), backticks, semicolons and comment markers in names."""

    PAYLOADS = ("Remove-Item", "Stop-Computer", "Invoke-Expression", "whoami", "$(", "`", "\u2013WhatIf")

    def setUp(self) -> None:
        plan, findings = load_plan((FIXTURES / "hostile.json").read_bytes())
        assert plan is not None, findings
        self.plan = plan
        self.scripts = render_core(plan)

    def test_it_renders_and_verifies(self) -> None:
        self.assertEqual(set(self.scripts), {ADFS_FILE, LYNC_FILE})
        assert_verified(self, self.plan, self.scripts)

    def test_no_payload_reaches_code(self) -> None:
        for name, text in self.scripts.items():
            for span in scan_powershell(text):
                if span.kind == "code":
                    for payload in self.PAYLOADS:
                        with self.subTest(script=name, payload=payload):
                            self.assertNotIn(payload, span.text)

    def test_each_value_is_one_whole_string(self) -> None:
        strings = set()
        for text in self.scripts.values():
            strings |= {decode_single(s.text) for s in scan_powershell(text) if s.kind == "single"}
        pool = self.plan.pools[0]
        expected = {pool.rp_names.internal, pool.rp_names.external, pool.site,
                    *(m.identity for m in self.plan.mobility_policies)}
        self.assertLessEqual(expected, strings)

    def test_the_plan_name_stays_inside_the_header_comment(self) -> None:
        for text in self.scripts.values():
            spans = scan_powershell(text)
            self.assertEqual(spans[0].kind, "comment")
            self.assertIn("Remove-Item C:\\ -Recurse", spans[0].text)
            self.assertTrue(spans[0].text.endswith("#>"))
            self.assertEqual(spans[0].text.count("#>"), 1)

    def test_commands_are_the_same_as_with_harmless_names(self) -> None:
        twin_scripts = render_core(harmless_twin(self.plan))
        for name, text in self.scripts.items():
            self.assertEqual(skeleton(text), skeleton(twin_scripts[name]))


class RegistryTests(unittest.TestCase):
    def test_artifacts_are_in_run_order_with_unique_keys(self) -> None:
        orders = [a.run_order for a in ARTIFACTS]
        self.assertEqual(orders, sorted(orders))
        self.assertEqual(len({a.key for a in ARTIFACTS}), len(ARTIFACTS))
        self.assertLess(core.RUN_ORDER_ADFS, core.RUN_ORDER_LYNC)

    def test_every_artifact_template_exists(self) -> None:
        env = environment()
        for artifact in ARTIFACTS:
            with self.subTest(artifact=artifact.key):
                env.get_template(artifact.template)

    def test_artifact_filename_may_depend_on_the_plan(self) -> None:
        artifact = core.Artifact(key="k", filename=lambda plan: f"{plan.product}.ps1", template="t", machine="m",
                                 run_order=1, purpose="p", check_after="c", applies=lambda plan: True,
                                 context=lambda plan: {})
        plan = plan_of(make_doc())
        self.assertEqual(artifact.output_name(plan), "sfb2019.ps1")
        self.assertEqual(artifact.describe(plan)["filename"], "sfb2019.ps1")
