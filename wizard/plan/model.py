"""The `lync-auth-plan/1` plan as frozen dataclasses, and the fixed vocabularies a plan
chooses from (products, authentication modes, AD FS versions, MFA modes, ...).

Pure Python: no Django, no database. The reader (`wizard.plan.reader`) builds these
from a JSON document; the writer (`wizard.plan.writer`) turns them back into one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import field as _field  # for AcceptedRisk, whose own `field` hides the name
from datetime import date
from enum import StrEnum
from typing import Any

FORMAT = "lync-auth-plan/1"

# Where each product's Microsoft lifecycle page is: the dates below come from them.
LIFECYCLE_LINK = "https://learn.microsoft.com/lifecycle/products/"


@dataclass(frozen=True)
class ProductFacts:
    """What the tool knows about one product: its name, its Management Shell, its lifecycle, its features.

    `shell_module` is the module the Management Shell's cmdlets come from; `module_verified` is False
    where no source confirms it (Subscription Edition), so a script never refuses a server for it.
    `version_major` is the first number of Get-CsServerVersion's version (None when not known:
    Subscription Edition keeps 2019's 7.0.2046 prefix, by secondary sources). `extended_support_end`
    is the end of extended support (None: supported), `security_updates_end` the end of the paid
    Extended Security Updates (secondary sources), and `way_forward` how the estate reaches a supported
    product. `modern_auth` says whether Modern Authentication through AD FS exists there;
    `modern_auth_cu` is the cumulative update it needs (empty: from release).
    """

    label: str
    shell_module: str
    module_verified: bool
    version_major: int | None
    extended_support_end: date | None
    mainstream_support_end: date | None
    security_updates_end: date | None
    way_forward: str
    lifecycle_page: str
    modern_auth: bool
    modern_auth_cu: str = ""
    auth_config_cu: str = ""


# The one table of products (the plan file's values are its keys). Dates: Microsoft's lifecycle data;
# the end of the paid Extended Security Updates of 2015 and 2019 rests on secondary sources.
PRODUCT_FACTS: dict[str, ProductFacts] = {
    "lync2013": ProductFacts(
        label="Lync Server 2013", shell_module="Lync", module_verified=True, version_major=5,
        extended_support_end=date(2023, 4, 11), mainstream_support_end=date(2018, 4, 10), security_updates_end=None,
        way_forward=("Lync Server 2013 cannot be upgraded to Subscription Edition: its users reach Subscription "
                     "Edition through a migration (new Subscription Edition pools, the users moved, the Lync "
                     "Server 2013 pools removed)"),
        lifecycle_page=LIFECYCLE_LINK + "microsoft-lync-server-2013", modern_auth=False),
    "sfb2015": ProductFacts(
        label="Skype for Business Server 2015", shell_module="SkypeForBusiness", module_verified=True,
        version_major=6, extended_support_end=date(2025, 10, 14), mainstream_support_end=date(2020, 10, 13),
        security_updates_end=date(2026, 10, 31),
        way_forward=("Subscription Edition is installed side by side with Skype for Business Server 2015: new "
                     "Subscription Edition pools, the users moved, the 2015 pools removed"),
        lifecycle_page=LIFECYCLE_LINK + "skype-for-business-server-2015", modern_auth=True,
        modern_auth_cu="the March 2016 cumulative update (6.0.9319.235)",
        auth_config_cu="the July 2018 cumulative update (6.0.9319.534)"),
    "sfb2019": ProductFacts(
        label="Skype for Business Server 2019", shell_module="SkypeForBusiness", module_verified=True,
        version_major=7, extended_support_end=date(2025, 10, 14), mainstream_support_end=date(2024, 1, 9),
        security_updates_end=date(2026, 10, 31),
        way_forward="Subscription Edition is installed in place over Skype for Business Server 2019",
        lifecycle_page=LIFECYCLE_LINK + "skype-for-business-server-2019", modern_auth=True),
    "sfbse": ProductFacts(
        label="Skype for Business Server Subscription Edition", shell_module="SkypeForBusiness",
        module_verified=False, version_major=None, extended_support_end=None, mainstream_support_end=None,
        security_updates_end=None, way_forward="", lifecycle_page=LIFECYCLE_LINK + "skype-for-business-server-2019",
        modern_auth=True),
}
PRODUCTS: dict[str, str] = {key: facts.label for key, facts in PRODUCT_FACTS.items()}
# Subscription Edition is the 2019 code with a new name, version and licence: Microsoft's cmdlet help
# names no Subscription Edition, so its cmdlets and parameters are taken as 2019's (the catalog says so too).
SUBSCRIPTION_EDITION = "sfbse"
SUBSCRIPTION_EDITION_AS = "sfb2019"


@dataclass(frozen=True)
class AuthModeFacts:
    """What one external authentication mode means for the servers (see `AuthMode`)."""

    label: str
    keeps_windows_auth: bool
    certificate_sign_in_only: bool
    needs_adfs: bool
    products: frozenset[str]
    needs_cu_on: frozenset[str] = frozenset()


class AuthMode(StrEnum):
    """A pool's external authentication mode. The values are the plan file's strings (a contract).

    Every rule, artifact and template asks the mode for its facts instead of comparing strings:
    `keeps_windows_auth` (the web services keep UseWindowsAuth, NTLM/Negotiate), `certificate_sign_in_only`
    (remote SIP sign-in with a Lync client certificate only, TLS-DSK), `needs_adfs` (sign-in goes through
    AD FS, so the plan needs its `adfs` section), `products` (where the mode can be configured) and
    `needs_cu_on` (products on which it needs a cumulative update: passive on Lync Server 2013 needs the
    July 2013 one).
    """

    NTLM = "ntlm"
    TLS_DSK = "tls_dsk"
    PASSIVE = "passive"

    @property
    def facts(self) -> AuthModeFacts:
        """Return the facts of this mode."""
        return AUTH_MODE_FACTS[self]

    @property
    def label(self) -> str:
        """Return the mode in words."""
        return self.facts.label

    @property
    def keeps_windows_auth(self) -> bool:
        """Return True when the pool's web services keep Windows authentication (NTLM/Negotiate)."""
        return self.facts.keeps_windows_auth

    @property
    def certificate_sign_in_only(self) -> bool:
        """Return True when remote SIP sign-in is meant to use a Lync client certificate (TLS-DSK) only."""
        return self.facts.certificate_sign_in_only

    @property
    def needs_adfs(self) -> bool:
        """Return True when sign-in goes through AD FS (the plan then needs its `adfs` section)."""
        return self.facts.needs_adfs

    @property
    def products(self) -> frozenset[str]:
        """Return the products (PRODUCTS keys) on which the mode can be configured."""
        return self.facts.products

    def needs_cu(self, product: str) -> bool:
        """Return True when `product` only has this mode from a cumulative update on."""
        return product in self.facts.needs_cu_on


_ALL_PRODUCTS = frozenset(PRODUCTS)
AUTH_MODE_FACTS: dict[AuthMode, AuthModeFacts] = {
    AuthMode.NTLM: AuthModeFacts(
        label="NTLM (Windows authentication) kept", keeps_windows_auth=True, certificate_sign_in_only=False,
        needs_adfs=False, products=_ALL_PRODUCTS),
    AuthMode.TLS_DSK: AuthModeFacts(
        label="TLS-DSK (client certificates) only from the Internet", keeps_windows_auth=True,
        certificate_sign_in_only=True, needs_adfs=False, products=_ALL_PRODUCTS),
    AuthMode.PASSIVE: AuthModeFacts(
        label="Passive (AD FS) authentication", keeps_windows_auth=False, certificate_sign_in_only=False,
        needs_adfs=True, products=_ALL_PRODUCTS, needs_cu_on=frozenset({"lync2013"})),
}
# The plan file's values with their labels (form choices, the reader's vocabulary).
AUTH_MODES: dict[str, str] = {mode.value: mode.label for mode in AuthMode}
POOL_ROLES: dict[str, str] = {"frontend": "Front End pool", "director": "Director pool"}
ADFS_VERSIONS: dict[str, str] = {
    "2.0": "AD FS 2.0 (Windows Server 2008 R2)",
    "2012r2": "AD FS 3.0 (Windows Server 2012 R2)",
    "2016": "AD FS 2016",
    "2019": "AD FS 2019",
    "2022": "AD FS 2022",
}
MFA_MODES: dict[str, str] = {
    "none": "No additional authentication",
    "extranet": "MFA for requests from the extranet",
    "always": "MFA for every request",
}
# AD FS versions that assign an access control policy to a relying party trust instead of
# issuance authorization (and additional authentication) rules.
ACP_ADFS_VERSIONS: tuple[str, ...] = ("2016", "2019", "2022")
# The built-in AD FS 2016+ access control policy for each MFA mode (as Get-AdfsAccessControlPolicy
# names them). For extranet-only MFA the plain "require MFA" policy would prompt internal users too.
ACCESS_CONTROL_POLICIES: dict[str, str] = {
    "none": "Permit everyone",
    "extranet": "Permit everyone and require MFA from extranet access",
    "always": "Permit everyone and require MFA",
}


@dataclass(frozen=True)
class ScenarioFacts:
    """What one `Set-CsAuthConfig -Scenario` value does, as the tool reads Microsoft's description.

    `enum_pattern` finds the value among the names of the cmdlet's own AuthConfigScenario enumeration
    at run time (one of them is misspelled in the module, and the documentation spells it otherwise),
    so neither spelling is written into a script. The effects are inferred from the procedure that came
    before the cmdlet (nothing documents them setting by setting): `windows_external` / `windows_internal`
    whether Windows (and forms) authentication stays on at the web services for clients outside / inside,
    `sip_ntlm` and `sip_kerberos` whether the Registrar keeps NTLM and Kerberos (for clients inside too),
    `modern_internal` whether Modern Authentication stays on for clients inside.
    """

    label: str
    enum_pattern: str
    windows_external: bool
    windows_internal: bool
    sip_ntlm: bool
    sip_kerberos: bool
    modern_internal: bool


class ModernAuthScenario(StrEnum):
    """A `modern_auth.scenario` of the plan file (its strings are a contract): a `Set-CsAuthConfig` scenario."""

    ALLOW_ALL = "allow_all"
    BLOCK_WINDOWS_AUTH_EXTERNALLY = "block_windows_auth_externally"
    BLOCK_WINDOWS_AUTH_EXTERNALLY_AND_INTERNALLY = "block_windows_auth_externally_and_internally"
    BLOCK_WINDOWS_AUTH_EXTERNALLY_AND_MODERN_AUTH_INTERNALLY = (
        "block_windows_auth_externally_and_modern_auth_internally")
    BLOCK_MODERN_AUTH_INTERNALLY = "block_modern_auth_internally"

    @property
    def facts(self) -> ScenarioFacts:
        """Return the facts of this scenario."""
        return MODERN_AUTH_SCENARIO_FACTS[self]

    @property
    def label(self) -> str:
        """Return the scenario in words."""
        return self.facts.label

    @property
    def blocks_windows_externally(self) -> bool:
        """Return True when clients on the Internet can no longer sign in with Windows authentication."""
        return not self.facts.windows_external


MODERN_AUTH_SCENARIO_FACTS: dict[ModernAuthScenario, ScenarioFacts] = {
    ModernAuthScenario.ALLOW_ALL: ScenarioFacts(
        "Modern and Windows authentication, outside and inside", r"^AllowAllExternallyAndInternally$",
        windows_external=True, windows_internal=True, sip_ntlm=True, sip_kerberos=True, modern_internal=True),
    ModernAuthScenario.BLOCK_WINDOWS_AUTH_EXTERNALLY: ScenarioFacts(
        "Windows authentication blocked from the Internet", r"^BlockWindowsAuthExternally$",
        windows_external=False, windows_internal=True, sip_ntlm=False, sip_kerberos=True, modern_internal=True),
    ModernAuthScenario.BLOCK_WINDOWS_AUTH_EXTERNALLY_AND_INTERNALLY: ScenarioFacts(
        "Windows authentication blocked everywhere (Modern Authentication only)",
        r"^BlockWindowsAuthExternallyAndInternally$",
        windows_external=False, windows_internal=False, sip_ntlm=False, sip_kerberos=False, modern_internal=True),
    ModernAuthScenario.BLOCK_WINDOWS_AUTH_EXTERNALLY_AND_MODERN_AUTH_INTERNALLY: ScenarioFacts(
        "Windows authentication blocked from the Internet, Modern Authentication blocked inside",
        # The module spells "Externaly" with one l, the documentation with two: either is found.
        r"^BlockWindowsAuthExternall?yAndModernAuthInternally$",
        windows_external=False, windows_internal=True, sip_ntlm=False, sip_kerberos=True, modern_internal=False),
    ModernAuthScenario.BLOCK_MODERN_AUTH_INTERNALLY: ScenarioFacts(
        "Modern Authentication blocked inside", r"^BlockModernAuthInternally$",
        windows_external=True, windows_internal=True, sip_ntlm=True, sip_kerberos=True, modern_internal=False),
}
MODERN_AUTH_SCENARIOS: dict[str, str] = {s.value: s.label for s in ModernAuthScenario}
# The AD FS versions Modern Authentication works with (AD FS 2.0 has no OAuth), and Microsoft's setup
# script for each: the bundle tells the admin to download it and never rebuilds or includes it.
MODERN_AUTH_ADFS_VERSIONS: tuple[str, ...] = ("2012r2", "2016", "2019", "2022")
ADFS_OAUTH_SETUP_SCRIPTS: dict[str, str] = {
    "2012r2": "Setup-AdfsOAuthTrustForSfB.ps1",
    "2016": "Setup-Adfs2016OAuthTrustForSfB.ps1",
    "2019": "Setup-Adfs2016OAuthTrustForSfB.ps1",
    "2022": "Setup-Adfs2016OAuthTrustForSfB.ps1",
}
ADFS_OAUTH_SETUP_DOWNLOAD = "https://aka.ms/sfbadalscripts"
# The type New-CsOAuthServer gets for an AD FS farm.
OAUTH_SERVER_TYPE = "ADFS"
# The type of the OAuth server (evoSTS) hybrid Modern Authentication makes the client authorization server: Entra
# ID. There is one client authorization server at a time, so an AD FS plan would replace it for every user.
HYBRID_OAUTH_SERVER_TYPE = "AzureAD"
# Office 2013 turns ADAL on with two DWORD values under the user's Identity key (HKCU).
OFFICE2013_IDENTITY_KEY = "HKCU:\\Software\\Microsoft\\Office\\15.0\\Common\\Identity"
OFFICE2013_ADAL_VALUES: tuple[tuple[str, int], ...] = (("EnableADAL", 1), ("Version", 1))
# Office builds Microsoft lists as unable to use Modern Authentication on premises.
MODERN_AUTH_UNSUPPORTED_OFFICE_BUILDS: tuple[str, ...] = (
    "15.0.0000-15.0.4766", "16.0.0000-16.0.4293", "16.0.6000-16.0.6224", "16.0.6001.0000-16.0.6001.1032",
)


# Where a Lync/SfB pool's web services publish their passive-authentication (relying party)
# metadata, which AD FS reads when the relying party trust is added.
PASSIVE_METADATA_PATH = "/passiveauth/federationmetadata/2007-06/federationmetadata.xml"
KEY_SIZES = (2048, 4096)
AUTODISCOVER_PORTS = (443, 80)

# Plan key -> Set-CsMobilityPolicy parameter, in the order they are emitted.
MOBILITY_SETTINGS: dict[str, str] = {
    "enable_mobility": "EnableMobility",
    "enable_outside_voice": "EnableOutsideVoice",
    "enable_ip_audio_video": "EnableIPAudioVideo",
    "require_wifi_for_ip_audio": "RequireWIFIForIPAudio",
    "require_wifi_for_ip_video": "RequireWIFIForIPVideo",
    "require_wifi_for_sharing": "RequireWiFiForSharing",
    "allow_save_credentials": "AllowSaveCredentials",
    "allow_exchange_connectivity": "AllowExchangeConnectivity",
    "allow_save_im_history": "AllowSaveIMHistory",
    "allow_save_call_logs": "AllowSaveCallLogs",
    "allow_customer_experience_improvement_program": "AllowCustomerExperienceImprovementProgram",
}

# Mobility parameters that Microsoft's current help lists for Skype for Business Server only, while
# the Lync Server 2013 help lists them too: on Lync Server 2013 they need a cumulative update.
LYNC2013_CU_MOBILITY_SETTINGS: tuple[str, ...] = (
    "allow_save_credentials",
    "allow_exchange_connectivity",
    "allow_save_im_history",
    "allow_save_call_logs",
    "allow_customer_experience_improvement_program",
    "require_wifi_for_sharing",
)

# The longest names the plan builds from a SIP domain are lyncdiscoverinternal.<domain> and
# _sipinternaltls._tcp.<domain> (21 characters added); sip.<domain> and lyncdiscover.<domain> go on
# certificates. A DNS name has at most 253 characters, so a SIP domain may have 253 - 21.
SIP_DOMAIN_DERIVED_PREFIX = "lyncdiscoverinternal."
SIP_DOMAIN_MAX = 253 - len(SIP_DOMAIN_DERIVED_PREFIX)
# Client certificate lifetime limits in hours (Set-CsWebServiceConfiguration help).
CERT_HOURS_LIMITS: dict[str, tuple[int, int]] = {
    "default": (8, 8760),
    "min": (8, 4320),
    "max": (8, 8760),
}
NAME_MAX = 200
# Accepted risks: the reason is free text shown to reviewers and in the runbook; the field is a plan path.
ACCEPTED_RISK_REASON_MAX = 500
FIELD_PATH_MAX = 200


def passive_metadata_url(web_fqdn: str) -> str:
    """Return the passive-authentication metadata URL AD FS reads for a pool's web services FQDN."""
    return f"https://{web_fqdn}{PASSIVE_METADATA_PATH}"


@dataclass(frozen=True)
class CertificateHours:
    """Lifetime of Lync-issued client certificates, in hours."""

    default: int
    min: int
    max: int
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class PoolAuth:
    """How a pool authenticates external users."""

    external: AuthMode
    certificate_auth: bool = True
    client_certificate_hours: CertificateHours | None = None
    block_ntlm_at_registrar: bool = False
    # True turns PIN authentication off on the pool's web services (UsePinAuth $false); passive
    # pools have it off already, so there it changes nothing.
    block_pin_auth: bool = False
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)
    # The `x_` keys of a client_certificate_hours object holding nothing else (no lifetimes: they are
    # left as they are, so `client_certificate_hours` is None), kept so that export gives them back.
    hours_extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # A plan built in code may pass the plan file's string: it becomes the enum member.
        object.__setattr__(self, "external", AuthMode(self.external))


@dataclass(frozen=True)
class RelyingParties:
    """AD FS relying-party trust names for one passive pool."""

    internal: str
    external: str
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Pool:
    """A Front End or Director pool (or Standard Edition server)."""

    fqdn: str
    role: str = "frontend"
    site: str | None = None
    internal_web_fqdn: str | None = None
    external_web_fqdn: str | None = None
    auth: PoolAuth | None = None
    relying_parties: RelyingParties | None = None
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)
    # The `x_` keys of a relying_parties object holding no name (the defaults, so `relying_parties`
    # is None), kept so that export gives them back.
    rp_extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @property
    def internal_web(self) -> str:
        """Return the internal web services FQDN (the pool FQDN when not set)."""
        return self.internal_web_fqdn or self.fqdn

    @property
    def rp_names(self) -> RelyingParties:
        """Return the relying-party names, derived from the pool when not set."""
        if self.relying_parties is not None:
            return self.relying_parties
        host = self.fqdn.split(".")[0]
        return RelyingParties(internal=f"Lync-Int-{host}", external=f"Lync-Ext-{host}")

    @property
    def web_service_identity(self) -> str:
        """Return the `service:WebServer:<pool>` identity."""
        return f"service:WebServer:{self.fqdn}"

    @property
    def registrar_identity(self) -> str:
        """Return the `service:Registrar:<pool>` identity."""
        return f"service:Registrar:{self.fqdn}"


@dataclass(frozen=True)
class EdgePool:
    """An Edge pool and its external names."""

    fqdn: str
    access_fqdn: str | None = None
    webconf_fqdn: str | None = None
    av_fqdn: str | None = None
    block_ntlm: bool = False
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @property
    def proxy_identity(self) -> str:
        """Return the `service:EdgeServer:<pool>` identity."""
        return f"service:EdgeServer:{self.fqdn}"


@dataclass(frozen=True)
class Adfs:
    """The AD FS farm used for passive authentication."""

    federation_service_name: str
    version: str
    mfa: str = "none"
    published_on_reverse_proxy: bool = False
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @property
    def metadata_url(self) -> str:
        """Return the AD FS federation metadata URL (for -WsFedPassiveMetadataUri)."""
        return f"https://{self.federation_service_name}/FederationMetadata/2007-06/FederationMetadata.xml"


@dataclass(frozen=True)
class ModernAuth:
    """Modern Authentication (ADAL/OAuth) through AD FS, for the whole deployment.

    `oauth_server_identity` is New-CsOAuthServer's -Identity (None: the AD FS federation service name),
    `accept_sid_claims` its -AcceptSecurityIdentifierInformation (resource forests; None: the server's
    setting is left alone, and a new server gets the product's default, off), `scenario` the
    Set-CsAuthConfig scenario (None: left alone), `office2013_clients` whether the bundle carries the
    Office 2013 client settings.
    """

    oauth_server_identity: str | None = None
    accept_sid_claims: bool | None = None
    scenario: ModernAuthScenario | None = None
    office2013_clients: bool = False
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # A plan built in code may pass the plan file's string: it becomes the enum member.
        if self.scenario is not None:
            object.__setattr__(self, "scenario", ModernAuthScenario(self.scenario))


@dataclass(frozen=True)
class MobilityPolicy:
    """A mobility policy; each setting left as None is not touched."""

    identity: str
    enable_mobility: bool | None = None
    enable_outside_voice: bool | None = None
    enable_ip_audio_video: bool | None = None
    require_wifi_for_ip_audio: bool | None = None
    require_wifi_for_ip_video: bool | None = None
    require_wifi_for_sharing: bool | None = None
    allow_save_credentials: bool | None = None
    allow_exchange_connectivity: bool | None = None
    allow_save_im_history: bool | None = None
    allow_save_call_logs: bool | None = None
    allow_customer_experience_improvement_program: bool | None = None
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def settings(self) -> list[tuple[str, str, bool]]:
        """Return (plan key, cmdlet parameter, value) for each setting the plan names."""
        out = []
        for key, param in MOBILITY_SETTINGS.items():
            value = getattr(self, key)
            if value is not None:
                out.append((key, param, value))
        return out

    @property
    def scope(self) -> str:
        """Return 'global', 'site' or 'tag'."""
        if self.identity == "Global":
            return "global"
        return "site" if self.identity.startswith("site:") else "tag"


@dataclass(frozen=True)
class SimpleUrls:
    """Meet, dial-in and admin simple URLs (host names)."""

    meet: tuple[str, ...] = ()
    dialin: str | None = None
    admin: str | None = None
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def hosts(self) -> list[str]:
        """Return every simple URL host, meet first."""
        return [*self.meet, *(h for h in (self.dialin, self.admin) if h)]


@dataclass(frozen=True)
class Certificates:
    """Certificate request settings."""

    key_size: int = 2048
    ca: str | None = None
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class AcceptedRisk:
    """An error finding the plan's authors accept: its code, the field it names, and why.

    The accepted error becomes a warning that says so; the runbook lists every accepted risk.
    """

    code: str
    field: str
    reason: str
    # `x_` keys of this object in the file, kept so that export gives them back (not compared).
    extensions: tuple[tuple[str, Any], ...] = _field(default=(), compare=False)


@dataclass(frozen=True)
class PlanData:
    """A whole validated, normalised plan."""

    name: str
    product: str
    sip_domains: tuple[str, ...]
    pools: tuple[Pool, ...]
    edge_pools: tuple[EdgePool, ...] = ()
    adfs: Adfs | None = None
    mobility_policies: tuple[MobilityPolicy, ...] = ()
    simple_urls: SimpleUrls | None = None
    office_web_apps_fqdn: str | None = None
    autodiscover_port: int = 443
    certificates: Certificates | None = None
    accepted_risks: tuple[AcceptedRisk, ...] = ()
    modern_auth: ModernAuth | None = None
    # `x_` keys from the file, kept so that export gives them back.
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=True)

    @property
    def product_label(self) -> str:
        """Return the product's display name."""
        return PRODUCTS[self.product]

    @property
    def product_facts(self) -> ProductFacts:
        """Return what the tool knows about the plan's product."""
        return PRODUCT_FACTS[self.product]

    @property
    def oauth_server_identity(self) -> str | None:
        """Return the OAuth server identity Modern Authentication uses (None without modern_auth or AD FS)."""
        if self.modern_auth is None:
            return None
        if self.modern_auth.oauth_server_identity:
            return self.modern_auth.oauth_server_identity
        return self.adfs.federation_service_name if self.adfs is not None else None

    @property
    def modern_auth_scenario(self) -> ModernAuthScenario | None:
        """Return the Set-CsAuthConfig scenario the plan sets, or None."""
        return self.modern_auth.scenario if self.modern_auth is not None else None

    @property
    def signs_in_through_adfs(self) -> bool:
        """Return True when users sign in through the plan's AD FS farm: passive pools or Modern Authentication."""
        return self.adfs is not None and (bool(self.passive_pools) or self.modern_auth is not None)

    @property
    def passive_pools(self) -> tuple[Pool, ...]:
        """Return the pools set to passive authentication."""
        return tuple(p for p in self.pools if p.auth and p.auth.external is AuthMode.PASSIVE)
