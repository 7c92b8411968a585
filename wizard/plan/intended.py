"""What a plan sets, setting by setting: the one description of the changes the scripts make.

`intended_collections(plan)` lists every Lync/SfB collection the Management Shell script
changes (web service configuration per pool, proxy configuration per Edge pool or
Registrar, mobility policies) with the cmdlet parameters and values it sets, and the plan
path that asks for each. `intended_trusts(plan)` does the same for the AD FS relying party
trusts. The verification script's expectations (wizard.scripts.artifacts.network) and the
intended-versus-actual report (wizard.plan.drift) are both built from these lists, so
what is checked after the change and what is compared before it are the same thing.

The AD FS claim rules live here too: they are part of what the plan sets.

Pure Python: no Django, no database.
"""
from __future__ import annotations

from dataclasses import dataclass

from wizard.plan.model import MOBILITY_SETTINGS, PlanData, Pool

# ---------------------------------------------------------------------------
# AD FS claim rules. Claim types are opaque http:// URIs: the https:// form seen in some
# Microsoft pages is a link-rewrite bug and matches no claim.

ISSUANCE_AUTHORIZATION_RULES = (
    '@RuleTemplate = "AllowAllAuthzRule" => issue(Type = "http://schemas.microsoft.com/authorization/claims/permit", '
    'Value = "true");'
)
ISSUANCE_TRANSFORM_RULES = (
    '@RuleTemplate = "PassThroughClaims" @RuleName = "Sid" '
    'c:[Type == "http://schemas.microsoft.com/ws/2008/06/identity/claims/primarysid"]=> issue(claim = c);'
)
MFA_EXTRANET_RULE = (
    'c:[Type == "http://schemas.microsoft.com/ws/2012/01/insidecorporatenetwork", Value == "false"] => '
    'issue(Type = "http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationmethod", '
    'Value = "http://schemas.microsoft.com/claims/multipleauthn");'
)
MFA_ALWAYS_RULE = (
    'c:[] => issue(Type = "http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationmethod", '
    'Value = "http://schemas.microsoft.com/claims/multipleauthn");'
)
# Built-in AD FS 2016+ access control policies, by the plan's MFA mode.
ACCESS_CONTROL_POLICIES = {
    "none": "Permit everyone",
    "extranet": "Permit everyone and require MFA from extranet access",
    "always": "Permit everyone and require MFA",
}
ACP_VERSIONS = ("2016", "2019", "2022")
PASSIVE_PATH = "/passiveauth"
PASSIVE_METADATA_PATH = "/passiveauth/federationmetadata/2007-06/federationmetadata.xml"


def rp_metadata_url(web_fqdn: str) -> str:
    """Return the Lync passive-auth metadata URL AD FS reads for a web services FQDN."""
    return f"https://{web_fqdn}{PASSIVE_METADATA_PATH}"


def rp_identifier(web_fqdn: str) -> str:
    """Return the identifier the relying party trust of a web services FQDN carries.

    It is the one the state format's example shows for such a trust
    (`https://<web services FQDN>/passiveauth`); trusts are also matched by their metadata
    URL, so a trust whose identifier is written another way is still found.
    """
    return f"https://{web_fqdn}{PASSIVE_PATH}"


# ---------------------------------------------------------------------------
# Lync/SfB collections


@dataclass(frozen=True)
class IntendedSetting:
    """One cmdlet parameter the scripts set, its value, and the plan path that asks for it."""

    parameter: str
    value: bool | int | str
    field: str


@dataclass(frozen=True)
class IntendedCollection:
    """One collection of settings the Management Shell script changes (or creates)."""

    kind: str               # "web_service" | "proxy" | "mobility"
    identity: str           # service:WebServer:<pool>, service:EdgeServer:<edge>, Global, site:<name>, Tag:<name>
    field: str              # plan path of its owner: pools[i], edge_pools[j] or mobility_policies[k]
    settings: tuple[IntendedSetting, ...]


# Web service parameters whose value a pool's authentication choice decides.
WEB_SERVICE_PARAMETERS = (
    "UseWsFedPassiveAuth", "WsFedPassiveMetadataUri", "UseWindowsAuth", "UseCertificateAuth",
    "DefaultValidityPeriodHours", "MinValidityPeriodHours", "MaxValidityPeriodHours",
)
PROXY_PARAMETERS = ("UseKerberosForClientToProxyAuth", "UseNtlmForClientToProxyAuth")


def web_service_changes(plan: PlanData, index: int, pool: Pool) -> IntendedCollection | None:
    """Return what the script sets on the pool's web services, or None when it leaves them alone.

    An NTLM pool that keeps certificate authentication and the certificate lifetime as they
    are needs nothing: a service-scope collection would only reset other settings to defaults.
    """
    auth = pool.auth
    if auth is None:
        return None
    hours = auth.client_certificate_hours
    if auth.external == "ntlm" and hours is None and auth.certificate_auth:
        return None
    base = f"pools[{index}].auth"
    settings: list[IntendedSetting] = []
    if auth.external == "passive" and plan.adfs is not None:
        settings += [
            IntendedSetting("UseWsFedPassiveAuth", True, f"{base}.external"),
            IntendedSetting("WsFedPassiveMetadataUri", plan.adfs.metadata_url, "adfs.federation_service_name"),
            IntendedSetting("UseWindowsAuth", "None", f"{base}.external"),
        ]
    settings.append(IntendedSetting("UseCertificateAuth", auth.certificate_auth, f"{base}.certificate_auth"))
    if hours is not None:
        hpath = f"{base}.client_certificate_hours"
        settings += [
            IntendedSetting("DefaultValidityPeriodHours", hours.default, f"{hpath}.default"),
            IntendedSetting("MinValidityPeriodHours", hours.min, f"{hpath}.min"),
            IntendedSetting("MaxValidityPeriodHours", hours.max, f"{hpath}.max"),
        ]
    return IntendedCollection("web_service", pool.web_service_identity, f"pools[{index}]", tuple(settings))


def proxy_changes(plan: PlanData) -> list[IntendedCollection]:
    """Return the Registrar and Edge proxy collections whose NTLM and Kerberos the script turns off."""
    out = []
    for i, pool in enumerate(plan.pools):
        auth = pool.auth
        # An NTLM pool keeps NTLM: the Registrar setting is only honoured for TLS-DSK and passive pools.
        if auth and auth.external != "ntlm" and auth.block_ntlm_at_registrar:
            field = f"pools[{i}].auth.block_ntlm_at_registrar"
            out.append(IntendedCollection("proxy", pool.registrar_identity, f"pools[{i}]",
                                          tuple(IntendedSetting(p, False, field) for p in PROXY_PARAMETERS)))
    for j, edge in enumerate(plan.edge_pools):
        if edge.block_ntlm:
            field = f"edge_pools[{j}].block_ntlm"
            out.append(IntendedCollection("proxy", edge.proxy_identity, f"edge_pools[{j}]",
                                          tuple(IntendedSetting(p, False, field) for p in PROXY_PARAMETERS)))
    return out


def mobility_changes(plan: PlanData) -> list[IntendedCollection]:
    """Return the mobility policies the script sets (or creates: a site or tag policy with no setting)."""
    out = []
    for k, policy in enumerate(plan.mobility_policies):
        settings = tuple(IntendedSetting(param, value, f"mobility_policies[{k}].{key}")
                         for key, param, value in policy.settings())
        if policy.scope == "global" and not settings:
            continue
        out.append(IntendedCollection("mobility", policy.identity, f"mobility_policies[{k}]", settings))
    return out


def intended_collections(plan: PlanData) -> list[IntendedCollection]:
    """Return every collection the Management Shell script changes, in the script's order."""
    web = [w for w in (web_service_changes(plan, i, p) for i, p in enumerate(plan.pools)) if w is not None]
    return [*web, *proxy_changes(plan), *mobility_changes(plan)]


# Plan key <-> cmdlet parameter of the mobility settings, both ways.
MOBILITY_KEYS: dict[str, str] = {param: key for key, param in MOBILITY_SETTINGS.items()}


# ---------------------------------------------------------------------------
# AD FS relying party trusts


@dataclass(frozen=True)
class IntendedTrust:
    """One relying party trust the AD FS script adds (or updates), with the rules it sets."""

    name: str
    side: str                                  # "internal" | "external"
    pool: str
    web_fqdn: str
    identifier: str
    metadata_url: str
    field: str                                 # pools[i].relying_parties.<side>
    settings: tuple[IntendedSetting, ...]


def mfa_rule(version: str, mfa: str) -> str | None:
    """Return the per-trust additional authentication rule the AD FS script sets, or None."""
    if version == "2012r2" and mfa == "extranet":
        return MFA_EXTRANET_RULE
    if version == "2012r2" and mfa == "always":
        return MFA_ALWAYS_RULE
    return None


def intended_trusts(plan: PlanData) -> list[IntendedTrust]:
    """Return the relying party trusts of the plan's passive pools and the rules set on each."""
    adfs = plan.adfs
    if adfs is None:
        return []
    uses_acp = adfs.version in ACP_VERSIONS
    rule = mfa_rule(adfs.version, adfs.mfa)
    out = []
    for i, pool in enumerate(plan.pools):
        if not (pool.auth and pool.auth.external == "passive"):
            continue
        names = pool.rp_names
        sides = [("internal", names.internal, pool.internal_web)]
        if pool.external_web_fqdn:
            sides.append(("external", names.external, pool.external_web_fqdn))
        for side, name, web in sides:
            field = f"pools[{i}].relying_parties.{side}"
            settings: list[IntendedSetting] = []
            if uses_acp:
                settings.append(IntendedSetting("AccessControlPolicyName", ACCESS_CONTROL_POLICIES[adfs.mfa],
                                                "adfs.mfa"))
            else:
                settings.append(IntendedSetting("IssuanceAuthorizationRules", ISSUANCE_AUTHORIZATION_RULES, field))
            settings.append(IntendedSetting("IssuanceTransformRules", ISSUANCE_TRANSFORM_RULES, field))
            if rule is not None:
                settings.append(IntendedSetting("AdditionalAuthenticationRules", rule, "adfs.mfa"))
            out.append(IntendedTrust(name=name, side=side, pool=pool.fqdn, web_fqdn=web,
                                     identifier=rp_identifier(web), metadata_url=rp_metadata_url(web), field=field,
                                     settings=tuple(settings)))
    return out
