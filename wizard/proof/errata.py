"""Documented mistakes in Microsoft's own pages that a generated script must never repeat.

Each erratum is data: an id, the reason (naming the page or help it corrects), and either a
pattern searched in the whole script text or a check over one resolved command. verify.py
runs every erratum on every script; tests/test_errata.py proves each one fires.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wizard.proof.catalog import VALUE_BAREWORD, VALUE_BOOL, VALUE_STRING


@dataclass(frozen=True)
class CommandFacts:
    """A catalogued command after parameter resolution: names are lowercase canonical names."""

    name: str                                  # canonical cmdlet name, lowercase
    line: int
    params: Mapping[str, tuple[str, Any]]      # parameter -> (VALUE_* kind, literal or None)


@dataclass(frozen=True)
class Erratum:
    """One documented mistake and how to spot it."""

    id: str
    reason: str
    # Matched against the lowercased script (PowerShell names are case-insensitive); the
    # pattern only runs when one of `needles` occurs, which keeps big scripts fast.
    text_pattern: re.Pattern[str] | None = None
    needles: tuple[str, ...] = ()
    command_check: Callable[[CommandFacts], str | None] | None = None


def _text_value(facts: CommandFacts, param: str) -> str | None:
    kind, value = facts.params.get(param, ("", None))
    if kind in (VALUE_STRING, VALUE_BAREWORD) and isinstance(value, str):
        return value.strip()
    return None


def _new_at_global(facts: CommandFacts) -> str | None:
    if facts.name not in ("new-cswebserviceconfiguration", "new-csproxyconfiguration"):
        return None
    if "identity" not in facts.params:
        return "New- without -Identity would prompt for it or target the global collection"
    identity = _text_value(facts, "identity")
    if identity is not None and identity.lower() == "global":
        return "New- cannot create a collection at the global scope"
    return None


def _proxy_at_global(facts: CommandFacts) -> str | None:
    if facts.name != "set-csproxyconfiguration" or "instance" in facts.params:
        return None
    if "identity" not in facts.params:
        return "Set-CsProxyConfiguration without -Identity changes the global settings"
    identity = _text_value(facts, "identity")
    if identity is not None and identity.lower() == "global":
        return "Set-CsProxyConfiguration -Identity Global changes every Edge and Registrar at once"
    return None


def _windows_auth_bool(facts: CommandFacts) -> str | None:
    kind, _ = facts.params.get("usewindowsauth", ("", None))
    if facts.name.endswith("-cswebserviceconfiguration") and kind == VALUE_BOOL:
        return "-UseWindowsAuth is an enum (Negotiate, NTLM, None), not $true/$false"
    return None


_ONLINE_ONLY_MOBILITY = ("encryptappdata", "requireintune", "enablepushnotifications",
                         "allowdevicecontactssync", "voicesettings", "allowautomaticpstnfallback")


def _online_only_mobility(facts: CommandFacts) -> str | None:
    if not facts.name.endswith("-csmobilitypolicy"):
        return None
    found = [p for p in _ONLINE_ONLY_MOBILITY if p in facts.params]
    return f"Online-only mobility setting(s): {', '.join(found)}" if found else None


def _passive_at_global(facts: CommandFacts) -> str | None:
    if facts.name != "set-cswebserviceconfiguration" or "instance" in facts.params:
        return None
    kind, value = facts.params.get("usewsfedpassiveauth", ("", None))
    if kind != VALUE_BOOL or value is not True:
        return None
    identity = _text_value(facts, "identity")
    if "identity" not in facts.params or (identity is not None and identity.lower() == "global"):
        return "passive authentication switched on for the global web services collection"
    return None


def _client_adal_override(facts: CommandFacts) -> str | None:
    if facts.name == "set-csoauthconfiguration" and "clientadalauthoverride" in facts.params:
        return "-ClientAdalAuthOverride is a Skype for Business Online setting, never an on-premises one"
    return None


def _auth_config_per_pool(facts: CommandFacts) -> str | None:
    if facts.name == "set-csauthconfig" and "pool" in facts.params:
        return "Set-CsAuthConfig -Pool sets one pool's Registrar or web services apart from the global scenario"
    return None


def _custom_auth_scenario(facts: CommandFacts) -> str | None:
    if facts.name != "set-csauthconfig":
        return None
    scenario = _text_value(facts, "scenario")
    if scenario is not None and scenario.lower() == "custom":
        return "Set-CsAuthConfig -Scenario Custom is undescribed"
    return None


# The scopes each kind of collection exists at (the Identity help of the New-, Set- and Remove- cmdlets):
# proxy settings globally and for Edge and Registrar services only (no site scope); web service settings
# globally, per site and for the Web Server service only.
_CONFIGURATION_SCOPES: dict[str, tuple[str, ...]] = {
    "-csproxyconfiguration": ("service:edgeserver:", "service:registrar:"),
    "-cswebserviceconfiguration": ("site:", "service:webserver:"),
}


def _configuration_identity_scope(facts: CommandFacts) -> str | None:
    verb, _, noun = facts.name.partition("-")
    prefixes = _CONFIGURATION_SCOPES.get("-" + noun)
    if prefixes is None or verb not in ("new", "set", "remove"):
        return None
    identity = _text_value(facts, "identity")
    if identity is None:
        return None
    scope = identity.lower()
    if scope == "global" or (scope.startswith(prefixes) and scope not in prefixes):
        return None
    return f"-Identity {identity!r} is not a scope these settings exist at"


_ACP_TARGETS = ("add-adfsrelyingpartytrust", "set-adfsrelyingpartytrust", "set-adfswebapiapplication")
_AUTHORIZATION_RULES = ("issuanceauthorizationrules", "issuanceauthorizationrulesfile")


def _acp_with_authorization_rules(facts: CommandFacts) -> str | None:
    if facts.name not in _ACP_TARGETS or "accesscontrolpolicyname" not in facts.params:
        return None
    found = [p for p in _AUTHORIZATION_RULES if p in facts.params]
    if found:
        return f"-AccessControlPolicyName together with -{found[0]} on one command"
    return None


ERRATA: tuple[Erratum, ...] = (
    Erratum(
        "misspelled-client-to-proxy-certificate",
        "Microsoft's passive-auth verification snippet spells the parameter "
        "'UseCertifcateForClientToProxyAuth'; the real name is UseCertificateForClientToProxyAuth.",
        text_pattern=re.compile(r"usecertifcateforclienttoproxyauth"),
        needles=("usecertifcate",),
    ),
    Erratum(
        "https-claim-type",
        "Claim types are opaque http:// URIs; the https://schemas.microsoft.com/ form on the current "
        "SfB page is a bulk link-rewrite bug and no longer names the permit or primarysid claim.",
        text_pattern=re.compile(r"https://schemas\.microsoft\.com/"),
        needles=("https://schemas.",),
    ),
    Erratum(
        "use-windows-auth-boolean",
        "Microsoft's page on turning on Modern Authentication shows -UseWindowsAuth $true/$false, but the "
        "parameter is an enum "
        "(Negotiate, NTLM, None).",
        text_pattern=re.compile(r"[-\u2013\u2014\u2015]usewindowsauth\s*:?\s*\$(?:true|false)\b"),
        needles=("usewindowsauth",),
        command_check=_windows_auth_bool,
    ),
    Erratum(
        "new-configuration-at-global",
        "New-CsWebServiceConfiguration and New-CsProxyConfiguration fail at the global scope: the "
        "global collection always exists, and the help says new collections are site or service "
        "scoped.",
        command_check=_new_at_global,
    ),
    Erratum(
        "online-only-mobility-parameter",
        "EncryptAppData, RequireIntune, EnablePushNotifications, AllowDeviceContactsSync, "
        "VoiceSettings and AllowAutomaticPstnFallback belong to Skype for Business Online and must "
        "never reach an on-premises pool.",
        text_pattern=re.compile(
            r"[-\u2013\u2014\u2015](?:encryptappdata|requireintune|enablepushnotifications|"
            r"allowdevicecontactssync|voicesettings|allowautomaticpstnfallback)\b"),
        needles=_ONLINE_ONLY_MOBILITY,
        command_check=_online_only_mobility,
    ),
    Erratum(
        "proxy-configuration-at-global",
        "Set-CsProxyConfiguration without -Identity (or with Global) turns NTLM/Kerberos off for "
        "every Edge and Registrar, internal users included; the service:EdgeServer: scope is what "
        "limits it to external sign-in.",
        command_check=_proxy_at_global,
    ),
    Erratum(
        "passive-auth-at-global",
        "Microsoft warns that passive authentication turned on for the Registrar and the web services at "
        "the global scope is likely to break sign-in across the whole organisation.",
        command_check=_passive_at_global,
    ),
    Erratum(
        "malformed-ntlm-parameter",
        "Microsoft's page on turning on Modern Authentication gives "
        "'Set-CsProxyConfiguration UseNTLMforClientProxyAuth= false', "
        "which is neither a parameter name nor PowerShell syntax; the parameter is "
        "UseNtlmForClientToProxyAuth.",
        text_pattern=re.compile(r"usentlmforclientproxyauth"),
        needles=("usentlmforclientproxyauth",),
    ),
    Erratum(
        "disable-external-auth-override",
        "Microsoft's page on turning on Modern Authentication shows "
        "-OverrideAuthTypeForInternalClients \"DisableExternalAuth\", a "
        "value missing from its own list of valid overrides.",
        text_pattern=re.compile(r"\bdisableexternalauth\b"),
        needles=("disableexternalauth",),
    ),
    Erratum(
        "modern-auth-scenario-double-l",
        "The description of Set-CsAuthConfig spells a scenario BlockWindowsAuthExternallyAndModernAuthInternally, "
        "with two l's; the module's value has one ('Externaly'), so the documented spelling fails to bind. "
        "Scripts find the value in the module's enumeration instead of writing either spelling.",
        text_pattern=re.compile(r"blockwindowsauthexternallyandmodernauthinternally"),
        needles=("blockwindowsauthexternallyandmodern",),
    ),
    Erratum(
        "allow-all-misspelled",
        "KB 4346673 writes the first scenario as AllowAllExernallyAndInternally (no 't' after 'Ex'); the value is "
        "AllowAllExternallyAndInternally.",
        text_pattern=re.compile(r"allowallexernallyandinternally"),
        needles=("allowallexernally",),
    ),
    Erratum(
        "oauth-configuration-misspelled",
        "The AD FS 3.0 OAuth KB gives 'Set-CsOAuthConfiguraiton', a cmdlet that does not exist; the cmdlet is "
        "Set-CsOAuthConfiguration.",
        text_pattern=re.compile(r"set-csoauthconfiguraiton"),
        needles=("configuraiton",),
    ),
    Erratum(
        "test-registration-authentication-method",
        "The AD FS 3.0 OAuth KB names Test-CsRegistration's parameter -AuthenticationMethod; it is -Authentication "
        "(with OAuthInteractive for Modern Authentication).",
        text_pattern=re.compile(r"test-csregistration\b[^\n]*[-\u2013\u2014\u2015]authenticationmethod\b"),
        needles=("authenticationmethod",),
    ),
    Erratum(
        "client-adal-auth-override-on-premises",
        "Set-CsOAuthConfiguration -ClientAdalAuthOverride is tagged for Skype for Business Online only: on premises "
        "Modern Authentication is turned on with an OAuth server and -ClientAuthorizationOAuthServerIdentity.",
        text_pattern=re.compile(r"[-\u2013\u2014\u2015]clientadalauthoverride\b"),
        needles=("clientadalauthoverride",),
        command_check=_client_adal_override,
    ),
    Erratum(
        "auth-config-per-pool",
        "Set-CsAuthConfig is meant for the global level only: with -Pool, a pool that holds only one of the "
        "Registrar and web services roles gets that role's settings apart from the other, and clients may fail to "
        "sign in (the cmdlet's own help).",
        command_check=_auth_config_per_pool,
    ),
    Erratum(
        "auth-config-custom-scenario",
        "Set-CsAuthConfig lists a 'Custom' scenario that no page describes: what it sets is unknown, so no "
        "script may choose it.",
        command_check=_custom_auth_scenario,
    ),
    Erratum(
        "configuration-identity-scope",
        "Proxy settings exist globally and for Edge Server and Registrar services only (there is no site scope), "
        "and web service settings globally, per site and for the Web Server service only, as the Identity help "
        "of the New-, Set- and Remove- cmdlets says: any other identity names no collection, and the command fails.",
        command_check=_configuration_identity_scope,
    ),
    Erratum(
        "access-control-policy-with-authorization-rules",
        "From AD FS 2016 on, a relying party trust or application is governed either by an access control "
        "policy or by issuance authorization rules: Microsoft's page on access control policies in AD FS calls "
        "the two models mutually exclusive, so one command must never set both (the transform rules stay).",
        command_check=_acp_with_authorization_rules,
    ),
    Erratum(
        "identity-with-stray-space",
        "The Set-CsProxyConfiguration help writes the identity as \"service: EdgeServer:...\" with a "
        "stray space, which names no service.",
        text_pattern=re.compile(r"service:\s+(?:edgeserver|registrar|webserver):"),
        needles=("service:",),
    ),
)


def find_errata(script: str, commands: Sequence[CommandFacts]) -> list[tuple[int, Erratum, str]]:
    """Return (line, erratum, detail) for every erratum found in `script` and its commands."""
    found: list[tuple[int, Erratum, str]] = []
    # lower() may change the length of a few characters, but never the number of line breaks
    # before a position, so line numbers computed on the lowered text are right.
    lowered = script.lower()
    for erratum in ERRATA:
        if erratum.text_pattern is not None and any(n in lowered for n in erratum.needles):
            for m in erratum.text_pattern.finditer(lowered):
                line = lowered.count("\n", 0, m.start()) + 1
                found.append((line, erratum, f"text {m.group()!r}"))
        if erratum.command_check is not None:
            for facts in commands:
                detail = erratum.command_check(facts)
                if detail:
                    found.append((facts.line, erratum, detail))
    # A text pattern and a command check may both see the same mistake: report it once per line.
    unique = {(line, erratum.id): (line, erratum, detail) for line, erratum, detail in reversed(found)}
    return sorted(unique.values(), key=lambda item: (item[0], item[1].id))
