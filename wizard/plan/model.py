"""The `lync-auth-plan/1` plan as frozen dataclasses, and the fixed vocabularies a plan
chooses from (products, authentication modes, AD FS versions, MFA modes, ...).

Pure Python: no Django, no database. The reader (`wizard.plan.reader`) builds these
from a JSON document; the writer (`wizard.plan.writer`) turns them back into one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

FORMAT = "lync-auth-plan/1"

PRODUCTS: dict[str, str] = {
    "lync2013": "Lync Server 2013",
    "sfb2015": "Skype for Business Server 2015",
    "sfb2019": "Skype for Business Server 2019",
}


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


@dataclass(frozen=True)
class PoolAuth:
    """How a pool authenticates external users."""

    external: AuthMode
    certificate_auth: bool = True
    client_certificate_hours: CertificateHours | None = None
    block_ntlm_at_registrar: bool = False

    def __post_init__(self) -> None:
        # A plan built in code may pass the plan file's string: it becomes the enum member.
        object.__setattr__(self, "external", AuthMode(self.external))


@dataclass(frozen=True)
class RelyingParties:
    """AD FS relying-party trust names for one passive pool."""

    internal: str
    external: str


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

    @property
    def metadata_url(self) -> str:
        """Return the AD FS federation metadata URL (for -WsFedPassiveMetadataUri)."""
        return f"https://{self.federation_service_name}/FederationMetadata/2007-06/FederationMetadata.xml"


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

    def hosts(self) -> list[str]:
        """Return every simple URL host, meet first."""
        return [*self.meet, *(h for h in (self.dialin, self.admin) if h)]


@dataclass(frozen=True)
class Certificates:
    """Certificate request settings."""

    key_size: int = 2048
    ca: str | None = None


@dataclass(frozen=True)
class AcceptedRisk:
    """An error finding the plan's authors accept: its code, the field it names, and why.

    The accepted error becomes a warning that says so; the runbook lists every accepted risk.
    """

    code: str
    field: str
    reason: str


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
    # `x_` keys from the file, kept so that export gives them back.
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=True)

    @property
    def product_label(self) -> str:
        """Return the product's display name."""
        return PRODUCTS[self.product]

    @property
    def passive_pools(self) -> tuple[Pool, ...]:
        """Return the pools set to passive authentication."""
        return tuple(p for p in self.pools if p.auth and p.auth.external is AuthMode.PASSIVE)
