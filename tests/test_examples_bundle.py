"""The three worked examples: their bundles hold every command they must, and nothing they must not.

A "must contain" line is satisfied when some command in some `.ps1` of the bundle has
the same cmdlet name and at least those parameters with those values. Cmdlet and
parameter names compare without regard to case, values with their quotes removed, and
a `$variable` argument counts as the value assigned to it earlier in the same script.
Extra parameters are allowed; a command may sit inside an `if`/`try` block.
"""
from __future__ import annotations

import json
import re
import tempfile
import unittest
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import tree_sitter
import tree_sitter_powershell

from wizard.plan.reader import load_plan
from wizard.scripts.bundle import Bundle, Source, build_bundle

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plans"


@dataclass(frozen=True)
class Command:
    """One parsed command: lowercase cmdlet name, lowercase parameter -> normalised value (None for a switch)."""

    name: str
    params: tuple[tuple[str, str | None], ...]
    text: str

    def get(self, param: str) -> str | None:
        for name, value in self.params:
            if name == param.lower():
                return value
        return None

    def has(self, param: str) -> bool:
        return any(name == param.lower() for name, _ in self.params)


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def _normalise(text: str, variables: dict[str, str]) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return re.sub(r"''", "'", text[1:-1])
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    if text.startswith("$"):
        lowered = text.lower()
        if lowered in ("$true", "$false", "$null"):
            return lowered
        return variables.get(lowered, text)
    return text


def parse_commands(script: str) -> list[Command]:
    """Return every command of `script` in document order, with `$variable` values resolved."""
    source = script.encode("utf-8")
    tree = _parser().parse(source)
    variables: dict[str, str] = {}
    commands: list[Command] = []

    def text_of(node: tree_sitter.Node) -> str:
        return source[node.start_byte:node.end_byte].decode("utf-8")

    def visit(node: tree_sitter.Node, in_function: bool = False) -> None:
        # Only script-level assignments count: a function's variables are its own.
        in_function = in_function or node.type == "function_statement"
        if node.type == "assignment_expression" and not in_function:
            left = node.children[0]
            right = node.children[-1]
            name = text_of(left).strip().lower()
            if name.startswith("$"):
                variables[name] = _normalise(text_of(right), variables)
        if node.type == "command":
            name_node = node.child_by_field_name("command_name")
            elements = node.child_by_field_name("command_elements")
            params: list[tuple[str, str | None]] = []
            if name_node is not None and elements is not None:
                children = [c for c in elements.children if c.type != "command_argument_sep"]
                i = 0
                while i < len(children):
                    child = children[i]
                    if child.type == "command_parameter":
                        pname = text_of(child).lstrip("-").rstrip(":").lower()
                        value = None
                        if i + 1 < len(children) and children[i + 1].type != "command_parameter":
                            value = _normalise(text_of(children[i + 1]), variables)
                            i += 1
                        params.append((pname, value))
                    i += 1
            if name_node is not None:
                commands.append(Command(text_of(name_node).lower(), tuple(params), text_of(node)))
        for child in node.children:
            visit(child, in_function)

    visit(tree.root_node)
    return commands


def parse_expected(line: str) -> Command:
    """Return the command a "must contain" line describes."""
    commands = parse_commands(line)
    assert len(commands) == 1, line
    return commands[0]


def _same(expected: str | None, actual: str | None) -> bool:
    if expected is None or actual is None:
        return expected is actual
    if expected.lower() in ("$true", "$false", "$null"):
        return expected.lower() == actual.lower()
    return expected == actual


def command_matches(expected: Command, actual: Command) -> bool:
    """Return True when `actual` is `expected`'s cmdlet with at least its parameters and values."""
    if expected.name != actual.name:
        return False
    return all(actual.has(name) and _same(value, actual.get(name)) for name, value in expected.params)


def find_command(line: str, scripts: dict[str, str]) -> list[Command]:
    """Return every command in `scripts` that satisfies the "must contain" `line`."""
    expected = parse_expected(line)
    return [c for text in scripts.values() for c in parse_commands(text) if command_matches(expected, c)]


def fixture_bundle(stem: str) -> Bundle:
    """Return the bundle of tests/fixtures/plans/<stem>.json."""
    plan, findings = load_plan((FIXTURES / f"{stem}.json").read_bytes())
    assert plan is not None, findings
    return build_bundle(plan, source=Source.for_plan(plan))


S01_MUST_CONTAIN = [
    ("Add-AdfsRelyingPartyTrust -Name 'Lync-Int' -MetadataUrl "
    "'https://lyncpool01.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml'"),
    ("Add-AdfsRelyingPartyTrust -Name 'Lync-Ext' -MetadataUrl "
    "'https://lyncweb.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml'"),
    ("Set-AdfsRelyingPartyTrust -TargetName 'Lync-Int' -IssuanceAuthorizationRules '@RuleTemplate = "
    "\"AllowAllAuthzRule\" => issue(Type = \"http://schemas.microsoft.com/authorization/claims/permit\", "
    "Value = \"true\");'"),
    ("Set-AdfsRelyingPartyTrust -TargetName 'Lync-Ext' -IssuanceAuthorizationRules '@RuleTemplate = "
    "\"AllowAllAuthzRule\" => issue(Type = \"http://schemas.microsoft.com/authorization/claims/permit\", "
    "Value = \"true\");'"),
    ("Set-AdfsRelyingPartyTrust -TargetName 'Lync-Ext' -AdditionalAuthenticationRules "
    "'c:[Type == \"http://schemas.microsoft.com/ws/2012/01/insidecorporatenetwork\", Value == \"false\"] => "
    "issue(Type = \"http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationmethod\", "
    "Value = \"http://schemas.microsoft.com/claims/multipleauthn\");'"),
    ("New-CsWebServiceConfiguration -Identity 'service:WebServer:lyncpool01.contoso.com' -UseWsFedPassiveAuth $true "
    "-WsFedPassiveMetadataUri 'https://adfs.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml'"),
    ("Set-CsWebServiceConfiguration -Identity 'service:WebServer:lyncpool01.contoso.com' -UseWsFedPassiveAuth $true "
    "-UseWindowsAuth None -UseCertificateAuth $true"),
    ("New-CsProxyConfiguration -Identity 'service:EdgeServer:lyncedge.contoso.com' "
    "-UseKerberosForClientToProxyAuth $false -UseNtlmForClientToProxyAuth $false"),
    ("New-CsProxyConfiguration -Identity 'service:Registrar:lyncpool01.contoso.com' "
    "-UseKerberosForClientToProxyAuth $false -UseNtlmForClientToProxyAuth $false"),
    "Set-CsMobilityPolicy -Identity Global -AllowExchangeConnectivity $false",
]
# The transform rule: "the rule name after @RuleName is free text", so it is matched by pattern.
TRANSFORM_RULE_RE = re.compile(
    r'^@RuleTemplate = "PassThroughClaims" @RuleName = "[^"]*" '
    r'c:\[Type == "http://schemas\.microsoft\.com/ws/2008/06/identity/claims/primarysid"\]=> issue\(claim = c\);$'
)
S01_MUST_NOT_CONTAIN = [
    "UseCertifcateForClientToProxyAuth", "https://schemas.microsoft.com/", "-UseWindowsAuth $true",
    "-UseWindowsAuth $false", "-AccessControlPolicyName", "EncryptAppData",
]

S02_MUST_CONTAIN = [
    ("Set-CsWebServiceConfiguration -Identity 'service:WebServer:sfbpool01.fabrikam.com' -UseCertificateAuth $true "
    "-DefaultValidityPeriodHours 720 -MaxValidityPeriodHours 720"),
    ("New-CsProxyConfiguration -Identity 'service:EdgeServer:sfbedge.fabrikam.com' -UseNtlmForClientToProxyAuth $false "
    "-UseKerberosForClientToProxyAuth $false"),
]
S02_MUST_NOT_CONTAIN = [
    "-UseCertificateForClientToProxyAuth $false", "-UseCertificateAuth $false", "-UseWindowsAuth None",
    "-UseWsFedPassiveAuth $true",
]

S03_MUST_CONTAIN = [
    "Set-CsMobilityPolicy -Identity Global -AllowSaveCredentials $false -AllowExchangeConnectivity $false",
]
S03_MUST_NOT_CONTAIN = [
    "-UseNtlmForClientToProxyAuth $false", "-UseWindowsAuth None", "-UseWsFedPassiveAuth $true",
    "-EnableMobility $false", "EncryptAppData", "RequireIntune", "EnablePushNotifications",
    "AllowDeviceContactsSync", "VoiceSettings",
]


class MatcherTests(unittest.TestCase):
    """The matcher reads commands the way the examples' README describes."""

    def test_quotes_case_and_order_do_not_matter(self) -> None:
        script = "set-csmobilitypolicy -allowexchangeconnectivity $FALSE -identity \"Global\"\n"
        self.assertTrue(find_command("Set-CsMobilityPolicy -Identity Global -AllowExchangeConnectivity $false",
                                     {"a.ps1": script}))

    def test_a_variable_assigned_earlier_counts_as_its_value(self) -> None:
        script = "$Rules = 'a \"b\" c'\nSet-AdfsRelyingPartyTrust -TargetName 'X' -IssuanceTransformRules $Rules\n"
        self.assertTrue(find_command("Set-AdfsRelyingPartyTrust -TargetName 'X' -IssuanceTransformRules 'a \"b\" c'",
                                     {"a.ps1": script}))

    def test_commands_inside_blocks_are_found_and_extra_parameters_allowed(self) -> None:
        script = "if (-not (Get-X)) {\n    New-X -Identity 'a' -B $true -WhatIf:$WhatIfPreference\n}\n"
        self.assertTrue(find_command("New-X -Identity 'a' -B $true", {"a.ps1": script}))

    def test_a_variable_assigned_inside_a_function_is_not_the_script_value(self) -> None:
        script = "function F {\n    $WhatIfPreference = $false\n}\nSet-X -Identity 'a' -WhatIf:$WhatIfPreference\n"
        (command,) = [c for c in parse_commands(script) if c.name == "set-x"]
        self.assertEqual(command.get("WhatIf"), "$WhatIfPreference")

    def test_a_different_value_or_missing_parameter_does_not_match(self) -> None:
        script = "Set-X -Identity 'a' -B $false\n"
        self.assertFalse(find_command("Set-X -Identity 'a' -B $true", {"a.ps1": script}))
        self.assertFalse(find_command("Set-X -Identity 'a' -C $false", {"a.ps1": script}))


class BundleAssertions(unittest.TestCase):
    """What a bundle's scripts must and must not hold, as the examples' README reads (no tests of its own)."""

    def assert_contains(self, lines: list[str], scripts: dict[str, str]) -> None:
        for line in lines:
            with self.subTest(line=line):
                self.assertTrue(find_command(line, scripts), f"no command matches: {line}")

    def assert_absent(self, strings: list[str], scripts: dict[str, str]) -> None:
        for needle in strings:
            for name, text in scripts.items():
                with self.subTest(needle=needle, script=name):
                    self.assertNotIn(needle.lower(), text.lower())

    def assert_no_global_scope(self, scripts: dict[str, str]) -> None:
        for text in scripts.values():
            for command in parse_commands(text):
                if command.name in ("set-csproxyconfiguration", "set-cswebserviceconfiguration",
                                    "new-cswebserviceconfiguration", "new-csproxyconfiguration",
                                    "new-csmobilitypolicy"):
                    identity = (command.get("Identity") or "global").lower()
                    self.assertNotEqual(identity, "global", command.text)
                    self.assertFalse(identity.startswith("site:") and "proxy" in command.name, command.text)


class ExampleBundleTests(BundleAssertions):
    def test_s01_passive_extranet_mfa(self) -> None:
        scripts = fixture_bundle("s01-passive-extranet-mfa").scripts
        self.assert_contains(S01_MUST_CONTAIN, scripts)
        for trust in ("Lync-Int", "Lync-Ext"):
            rules = [c.get("IssuanceTransformRules") for c in find_command(
                f"Set-AdfsRelyingPartyTrust -TargetName '{trust}'", scripts) if c.has("IssuanceTransformRules")]
            self.assertTrue([r for r in rules if TRANSFORM_RULE_RE.match(r or "")], f"{trust}: {rules}")
        self.assert_absent(S01_MUST_NOT_CONTAIN, scripts)
        self.assert_no_global_scope(scripts)

    def test_s02_tls_dsk_30_day_certificates(self) -> None:
        scripts = fixture_bundle("s02-tls-dsk-30-day-certificates").scripts
        self.assert_contains(S02_MUST_CONTAIN, scripts)
        self.assert_absent(S02_MUST_NOT_CONTAIN, scripts)
        self.assert_no_global_scope(scripts)
        # The minimum lifetime the plan names is set too.
        self.assertTrue(find_command("Set-CsWebServiceConfiguration -Identity 'service:WebServer:sfbpool01.fabrikam.com' "
                                     "-MinValidityPeriodHours 8", scripts))

    def test_s03_ntlm_kept_mobility_hardened(self) -> None:
        scripts = fixture_bundle("s03-ntlm-kept-mobility-hardened").scripts
        self.assert_contains(S03_MUST_CONTAIN, scripts)
        self.assert_absent(S03_MUST_NOT_CONTAIN, scripts)
        self.assert_no_global_scope(scripts)


# The findings codes that say each "Must warn" item (tests/test_example_warnings.py checks their words).
MUST_WARN = {
    "s01-passive-extranet-mfa": {"passive_pool_wide", "passive_unsupported_clients", "passive_exchange_features_lost",
                                 "passive_certificate_auth_kept", "mfa_extranet_only_via_proxy",
                                 "mfa_provider_required", "passive_relying_party_metadata"},
    "s02-tls-dsk-30-day-certificates": {"edge_ntlm_block_sip_only", "tls_dsk_first_certificate",
                                        "tls_dsk_certificate_lifetime", "tls_dsk_unsupported_clients"},
    "s03-ntlm-kept-mobility-hardened": {"ntlm_exposed", "edge_ntlm_exposed", "mobility_save_credentials_off",
                                        "mobility_parameter_needs_cu"},
}
EXPECTED = {
    "s01-passive-extranet-mfa": (S01_MUST_CONTAIN, S01_MUST_NOT_CONTAIN),
    "s02-tls-dsk-30-day-certificates": (S02_MUST_CONTAIN, S02_MUST_NOT_CONTAIN),
    "s03-ntlm-kept-mobility-hardened": (S03_MUST_CONTAIN, S03_MUST_NOT_CONTAIN),
}


class ExamplesThroughTheCommandLineTests(BundleAssertions):
    """The examples as an admin runs them: `render_plan PLAN.json --out DIR` writes the bundle (0), and
    `check_plan PLAN.json --json` lists the warnings (0, no error); what the bundle must and must not hold
    is read from the files written."""

    def test_each_example_renders_and_checks_through_the_command_line(self) -> None:
        from tests.test_cli import manage  # runs manage.py as a process: exit statuses are part of the contract

        for stem, (contain, absent) in EXPECTED.items():
            with self.subTest(example=stem), tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "bundle"
                done = manage("render_plan", str(FIXTURES / f"{stem}.json"), "--out", str(out))
                self.assertEqual(done.returncode, 0, done.stderr)
                names = sorted(p.name for p in out.iterdir())
                self.assertTrue({"plan.json", "runbook.md", "SHA256SUMS"} <= set(names), names)
                listed = sorted(line.split("  ", 1)[1] for line in
                                (out / "SHA256SUMS").read_text(encoding="ascii").splitlines())
                self.assertEqual(listed, [n for n in names if n != "SHA256SUMS"])
                scripts = {p.name: p.read_text(encoding="utf-8-sig") for p in out.glob("*.ps1")}
                self.assert_contains(contain, scripts)
                self.assert_absent(absent, scripts)
                self.assert_no_global_scope(scripts)

                checked = manage("check_plan", str(FIXTURES / f"{stem}.json"), "--json")
                self.assertEqual(checked.returncode, 0, checked.stderr)
                findings = json.loads(checked.stdout)
                self.assertEqual([f for f in findings if f["severity"] == "error"], [])
                self.assertLessEqual(MUST_WARN[stem], {f["code"] for f in findings if f["severity"] == "warning"})
