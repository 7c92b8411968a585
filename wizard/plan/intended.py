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

from wizard.plan.estate import Estate
from wizard.plan.model import (
    ACCESS_CONTROL_POLICIES,
    ACP_ADFS_VERSIONS,
    MOBILITY_SETTINGS,
    PRODUCTS,
    AuthMode,
    PlanData,
    Pool,
    passive_metadata_url,
)

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
PASSIVE_PATH = "/passiveauth"
# The relying party's metadata URL is the model's (one place): `passive_metadata_url`.
rp_metadata_url = passive_metadata_url


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
    "UseWsFedPassiveAuth", "WsFedPassiveMetadataUri", "UseWindowsAuth", "UsePinAuth", "UseCertificateAuth",
    "DefaultValidityPeriodHours", "MinValidityPeriodHours", "MaxValidityPeriodHours",
)
# What blocking NTLM and Kerberos sets on a proxy collection: certificate (TLS-DSK) sign-in is set on
# explicitly, because with it off as well nobody could sign in through that collection.
PROXY_SETTINGS: tuple[tuple[str, bool], ...] = (
    ("UseKerberosForClientToProxyAuth", False),
    ("UseNtlmForClientToProxyAuth", False),
    ("UseCertificateForClientToProxyAuth", True),
)
PROXY_PARAMETERS = tuple(param for param, _ in PROXY_SETTINGS)


# What a collection the script creates copies, at run time, from the collection that applied until
# then (New-Cs* would otherwise start from the product's defaults).
_ALL_PRODUCTS = frozenset(PRODUCTS)
_SFB = frozenset(p for p in PRODUCTS if p != "lync2013")
# The web service settings a new service collection copies from the site or global collection that applied
# until then (a new collection would otherwise start from the product's defaults), with the products that have
# each parameter. Passive authentication is never copied: it is set per pool, with its metadata URL.
WEB_INHERITED: tuple[tuple[str, frozenset[str]], ...] = (
    ("UseWindowsAuth", _ALL_PRODUCTS),
    ("UsePinAuth", _ALL_PRODUCTS),
    ("UseCertificateAuth", _ALL_PRODUCTS),
    ("AllowExternalAuthentication", _ALL_PRODUCTS),
    ("DefaultValidityPeriodHours", _ALL_PRODUCTS),
    ("MinValidityPeriodHours", _ALL_PRODUCTS),
    ("MaxValidityPeriodHours", _ALL_PRODUCTS),
    ("CASigningKeyLength", _ALL_PRODUCTS),
    ("MinCSRKeySize", _ALL_PRODUCTS),
    ("MaxCSRKeySize", _ALL_PRODUCTS),
    ("UseDomainAuthInLWA", _SFB),
    ("MobilePreferredAuthType", _SFB),
    # The meeting and Web App settings every product has had since Lync Server 2013's first release (New- would
    # otherwise put anonymous meeting join back on, say). The ones later updates added (HSTS, basic media
    # authentication, the web client's legacy UI, pending-get waits) are not copied: the scripts run under
    # Set-StrictMode, where reading a property an older update lacks stops the script.
    ("AllowAnonymousAccessToLWAConference", _ALL_PRODUCTS),
    ("AutoLaunchLyncWebAccess", _ALL_PRODUCTS),
    ("EnableCertChainDownload", _ALL_PRODUCTS),
    ("EnableGroupExpansion", _ALL_PRODUCTS),
    ("InferCertChainFromSSL", _ALL_PRODUCTS),
    ("MaxGroupSizeToExpand", _ALL_PRODUCTS),
    ("ShowAlternateJoinOptionsExpanded", _ALL_PRODUCTS),
    ("ShowDownloadCommunicatorAttendeeLink", _ALL_PRODUCTS),
    ("ShowJoinUsingLegacyClientLink", _ALL_PRODUCTS),
)
# The copied settings Lync Server 2013 never had: whether Skype for Business Server 2015's first release had them is
# not settled in its help, so the script checks that New-CsWebServiceConfiguration has them before it changes
# anything (a parameter missing there would stop it at the first collection it creates, half-way).
WEB_INHERITED_LATER: frozenset[str] = frozenset(param for param, products in WEB_INHERITED if products != _ALL_PRODUCTS)
# Settings only Set-CsWebServiceConfiguration has (New- does not), which can turn an authentication type off for
# external or internal web clients (the older way to what Set-CsAuthConfig does): a collection the script
# creates for a pool that keeps its own mode gets them from the collection that applied until then, when that one
# has them set, so a pool where Windows authentication was off from the Internet does not get it back. Skype for
# Business Server only (a 2015 cumulative update added them), and read only where the property exists.
WEB_SET_ONLY_INHERITED: tuple[str, ...] = ("OverrideAuthTypeForExternalClients", "OverrideAuthTypeForInternalClients")
WEB_SET_ONLY_PRODUCTS = _SFB
# MobilePreferredAuthType (Skype for Business Server only) names the mobile clients' default sign-in method; the help
# warns that a method the pool does not support can keep the web ticket service from starting. The values that name
# a method a setting of the plan turns off on the pool: Windows authentication (with the web ticket service's forms
# binding, WebTicketServiceAuth, which the exposure model counts with it: inferred), PIN, certificates. The script
# stops before its first change when the collection that applies to such a pool names one of them.
MOBILE_PREFERRED_WINDOWS: tuple[str, ...] = (
    "WebTicketServiceWinNegotiate", "WebTicketServiceWinNtlm", "WebTicketServiceAuth")
MOBILE_PREFERRED_PIN: tuple[str, ...] = ("WebTicketServicePin",)
MOBILE_PREFERRED_CERTIFICATE: tuple[str, ...] = ("WebTicketServiceCert",)
MOBILE_PREFERRED_PRODUCTS = _SFB


def mobile_preferred_refused(plan: PlanData, pool: Pool) -> list[tuple[str, str]]:
    """Return, for one pool, each MobilePreferredAuthType value that names a sign-in method the plan turns off
    there, with the setting of the pool's `auth` that turns it off (`external`, `block_pin_auth`,
    `certificate_auth`): the collection that applies to the pool must name none of them."""
    auth = pool.auth
    if auth is None or plan.product not in MOBILE_PREFERRED_PRODUCTS:
        return []
    passive = auth.external.needs_adfs
    out: list[tuple[str, str]] = []
    if passive:
        out += [(value, "external") for value in MOBILE_PREFERRED_WINDOWS + MOBILE_PREFERRED_PIN]
    elif auth.block_pin_auth:
        out += [(value, "block_pin_auth") for value in MOBILE_PREFERRED_PIN]
    if not auth.certificate_auth:
        out += [(value, "certificate_auth") for value in MOBILE_PREFERRED_CERTIFICATE]
    return out
# What a new collection does not get from the collection that applied until then: the product's defaults.
WEB_NOT_INHERITED: tuple[str, ...] = ("TrustedCACerts", "CrossDomainAuthorizationList", "HstsMaxAgeInSeconds",
                                      "MACResolverUrl", "SecondaryLocationSourceUrl")
# The proxy settings a new Edge or Registrar collection copies from the global one (proxy settings have no
# site scope). The three client-to-proxy authentication settings are the plan's own; with NTLM off in the
# collection, DisableNtlmFor2010AndLaterClients has nothing left to do, so it is not copied.
PROXY_INHERITED: tuple[str, ...] = (
    "TreatAllClientsAsRemote", "AcceptClientCompression",
    "AcceptServerCompression", "AllowPartnerPollingSubscribes", "DnsCacheRecordCount",
    "EnableLoggingAllMessageBodies", "EnableWhiteSpaceKeepAlive", "LoadBalanceEdgeServers",
    "LoadBalanceInternalServers", "MaxClientCompressionCount", "MaxClientMessageBodySizeKb",
    "MaxKeepAliveInterval", "MaxServerCompressionCount", "MaxServerMessageBodySizeKb", "OutgoingTlsCount",
    "RequestServerCompression",
)



def web_service_changes(plan: PlanData, index: int, pool: Pool) -> IntendedCollection | None:
    """Return what the script sets on the pool's web services, or None when it leaves them alone.

    An NTLM pool that keeps certificate authentication, the certificate lifetime and PIN
    authentication as they are needs nothing: a service-scope collection would only reset other
    settings to defaults.
    """
    auth = pool.auth
    if auth is None:
        return None
    hours = auth.client_certificate_hours
    mode = auth.external
    if not (mode.needs_adfs or mode.certificate_sign_in_only) and hours is None and auth.certificate_auth \
            and not auth.block_pin_auth:
        return None
    base = f"pools[{index}].auth"
    settings: list[IntendedSetting] = []
    if mode.needs_adfs and plan.adfs is not None:
        # PIN goes off with Windows auth: passive means every sign-in goes through AD FS (Microsoft's
        # two-factor procedure turns both off).
        settings += [
            IntendedSetting("UseWsFedPassiveAuth", True, f"{base}.external"),
            IntendedSetting("WsFedPassiveMetadataUri", plan.adfs.metadata_url, "adfs.federation_service_name"),
            IntendedSetting("UseWindowsAuth", "None", f"{base}.external"),
            IntendedSetting("UsePinAuth", False, f"{base}.external"),
        ]
    elif auth.block_pin_auth:
        # Passive turns PIN off already (above); the other modes only when the plan asks.
        settings.append(IntendedSetting("UsePinAuth", False, f"{base}.block_pin_auth"))
    settings.append(IntendedSetting("UseCertificateAuth", auth.certificate_auth, f"{base}.certificate_auth"))
    if hours is not None:
        hpath = f"{base}.client_certificate_hours"
        settings += [
            IntendedSetting("DefaultValidityPeriodHours", hours.default, f"{hpath}.default"),
            IntendedSetting("MinValidityPeriodHours", hours.min, f"{hpath}.min"),
            IntendedSetting("MaxValidityPeriodHours", hours.max, f"{hpath}.max"),
        ]
    return IntendedCollection("web_service", pool.web_service_identity, f"pools[{index}]", tuple(settings))


def creates_web_collection(plan: PlanData, estate: Estate, index: int, pool: Pool) -> bool:
    """Return True when the state file shows the pool has no web service collection of its own and the script
    creates one for it (New-CsWebServiceConfiguration: passive authentication off, as it is never copied)."""
    return estate.has_management_shell_data and estate.web_service(pool.web_service_identity) is None \
        and web_service_changes(plan, index, pool) is not None


def proxy_changes(plan: PlanData) -> list[IntendedCollection]:
    """Return the Registrar and Edge proxy collections whose NTLM and Kerberos the script turns off."""
    out = []
    for i, pool in enumerate(plan.pools):
        auth = pool.auth
        if not (auth and auth.block_ntlm_at_registrar):
            continue
        if auth.external is AuthMode.NTLM:
            # Never dropped silently: the findings refuse this plan (registrar_block_on_ntlm_pool).
            raise ValueError(f"pool {pool.fqdn}: an NTLM pool cannot block NTLM at its Registrar")
        field = f"pools[{i}].auth.block_ntlm_at_registrar"
        out.append(IntendedCollection("proxy", pool.registrar_identity, f"pools[{i}]",
                                      tuple(IntendedSetting(p, v, field) for p, v in PROXY_SETTINGS)))
    for j, edge in enumerate(plan.edge_pools):
        if edge.block_ntlm:
            field = f"edge_pools[{j}].block_ntlm"
            out.append(IntendedCollection("proxy", edge.proxy_identity, f"edge_pools[{j}]",
                                          tuple(IntendedSetting(p, v, field) for p, v in PROXY_SETTINGS)))
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
    uses_acp = adfs.version in ACP_ADFS_VERSIONS
    rule = mfa_rule(adfs.version, adfs.mfa)
    out = []
    for i, pool in enumerate(plan.pools):
        if not (pool.auth and pool.auth.external.needs_adfs):
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
