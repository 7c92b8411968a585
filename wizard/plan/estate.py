"""What an estate holds today: the `lync-auth-state/1` state file as frozen dataclasses.

A plan says what should be; an `Estate` says what is, as the read-only collector found it
(docs/state-format.md). The reader that builds an Estate from a JSON document lives in
`wizard.plan.state_reader`; the rules, the exposure model and the drift report take an
Estate as an optional input, and treat every setting it does not hold as unknown.

The lookups answer the question the product keeps asking: which collection of settings
applies to this pool or this Edge today. Lync/SfB picks the most specific scope that
exists: service, then site, then global. Identities are compared without regard to case,
as the cmdlets do.

Pure Python: no Django, no database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizard.plan.model import PRODUCTS, SimpleUrls

STATE_FORMAT = "lync-auth-state/1"

# The products a state file may name: the same vocabulary as plans (wizard.plan.model.PRODUCTS),
# Subscription Edition ("sfbse") included.
STATE_PRODUCTS: dict[str, str] = dict(PRODUCTS)


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


@dataclass(frozen=True)
class EstatePool:
    """A Front End or Director pool of the topology."""

    fqdn: str
    role: str = "frontend"
    site: str | None = None
    internal_web_fqdn: str | None = None
    external_web_fqdn: str | None = None


@dataclass(frozen=True)
class EstateEdgePool:
    """An Edge pool of the topology and its external names."""

    fqdn: str
    access_fqdn: str | None = None
    webconf_fqdn: str | None = None
    av_fqdn: str | None = None


@dataclass(frozen=True)
class EstateWebService:
    """One Get-CsWebServiceConfiguration collection; None where the collector did not report a value."""

    identity: str
    use_windows_auth: str | None = None          # "Negotiate" | "NTLM" | "None"
    use_certificate_auth: bool | None = None
    use_pin_auth: bool | None = None
    use_ws_fed_passive_auth: bool | None = None
    ws_fed_passive_metadata_uri: str | None = None
    default_validity_period_hours: int | None = None
    min_validity_period_hours: int | None = None
    max_validity_period_hours: int | None = None
    # Optional, project: the mobile clients' default sign-in method (Skype for Business Server; Lync Server 2013
    # has no such property, so the collector reports none there).
    mobile_preferred_auth_type: str | None = None


@dataclass(frozen=True)
class EstateProxy:
    """One Get-CsProxyConfiguration collection."""

    identity: str
    use_ntlm_for_client_to_proxy_auth: bool | None = None
    use_kerberos_for_client_to_proxy_auth: bool | None = None
    use_certificate_for_client_to_proxy_auth: bool | None = None


@dataclass(frozen=True)
class EstateMobilityPolicy:
    """One Get-CsMobilityPolicy policy: (plan key, value) for each setting the collector reported."""

    identity: str
    settings: tuple[tuple[str, bool], ...] = ()

    def get(self, key: str) -> bool | None:
        """Return the value of plan setting `key` (e.g. `allow_save_credentials`), or None when not reported."""
        return dict(self.settings).get(key)

    @property
    def scope(self) -> str:
        """Return 'global', 'site' or 'tag'."""
        if _same(self.identity, "Global"):
            return "global"
        return "site" if self.identity.casefold().startswith("site:") else "tag"


@dataclass(frozen=True)
class EstateCertificate:
    """One certificate from Get-CsCertificate on the machine the collector ran on."""

    use: str
    subject: str | None = None
    alternative_names: tuple[str, ...] = ()
    not_after: str | None = None
    thumbprint: str | None = None


@dataclass(frozen=True)
class EstateRelyingParty:
    """One AD FS relying party trust."""

    name: str
    identifiers: tuple[str, ...] = ()
    metadata_url: str | None = None
    enabled: bool | None = None
    access_control_policy_name: str | None = None
    issuance_authorization_rules: str | None = None
    issuance_transform_rules: str | None = None
    additional_authentication_rules: str | None = None


@dataclass(frozen=True)
class EstateAdfs:
    """The AD FS farm as the collector found it on an AD FS server."""

    federation_service_name: str | None = None
    version: str | None = None                   # "2.0" | "2012r2" | "2016" | "2019" | "2022"
    web_application_proxy: bool | None = None    # a WAP / AD FS proxy is registered
    relying_parties: tuple[EstateRelyingParty, ...] = ()
    # Optional (the project's additions, docs/state-format.md): where and when this part was
    # collected when it was merged from a second run, and the farm behavior level.
    collected_at: str | None = None
    collected_on: str | None = None
    farm_behavior_level: int | None = None

    def relying_party_by_metadata_url(self, url: str) -> EstateRelyingParty | None:
        """Return the trust that reads its metadata from `url` (compared without case), or None."""
        wanted = url.rstrip("/").casefold()
        return next((rp for rp in self.relying_parties
                     if rp.metadata_url and rp.metadata_url.rstrip("/").casefold() == wanted), None)

    def relying_party_by_identifier(self, identifier: str) -> EstateRelyingParty | None:
        """Return the trust that has `identifier` (compared without case or a trailing slash), or None."""
        wanted = identifier.rstrip("/").casefold()
        for rp in self.relying_parties:
            if any(i.rstrip("/").casefold() == wanted for i in rp.identifiers):
                return rp
        return None

    def relying_party_named(self, name: str) -> EstateRelyingParty | None:
        """Return the trust called `name` (AD FS compares names without case), or None."""
        return next((rp for rp in self.relying_parties if _same(rp.name, name)), None)


@dataclass(frozen=True)
class Estate:
    """A whole state file: the topology and the settings of every scope, as collected."""

    collected_at: str
    collected_on: str | None = None
    product: str | None = None                   # None when only the AD FS part was collected
    product_version: str | None = None
    sip_domains: tuple[str, ...] = ()
    pools: tuple[EstatePool, ...] = ()
    edge_pools: tuple[EstateEdgePool, ...] = ()
    simple_urls: SimpleUrls | None = None
    web_service_configurations: tuple[EstateWebService, ...] = ()
    proxy_configurations: tuple[EstateProxy, ...] = ()
    mobility_policies: tuple[EstateMobilityPolicy, ...] = ()
    certificates: tuple[EstateCertificate, ...] = ()
    adfs: EstateAdfs | None = None
    # Optional (the project's addition): the topology's site names (Get-CsSite), when collected.
    sites: tuple[str, ...] | None = None
    extensions: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def product_label(self) -> str | None:
        """Return the product's display name, or None when only the AD FS part was collected."""
        return STATE_PRODUCTS.get(self.product) if self.product else None

    def has_site(self, name: str) -> bool | None:
        """Return whether the topology has site `name`; None when the sites were not collected."""
        if self.sites is None:
            return None
        return any(_same(s, name) for s in self.sites)

    @property
    def has_management_shell_data(self) -> bool:
        """Return True when the Management Shell part was collected (the AD FS part may come alone)."""
        return self.product is not None

    def pool(self, fqdn: str) -> EstatePool | None:
        """Return the topology's pool `fqdn`, or None."""
        return next((p for p in self.pools if _same(p.fqdn, fqdn)), None)

    def edge_pool(self, fqdn: str) -> EstateEdgePool | None:
        """Return the topology's Edge pool `fqdn`, or None."""
        return next((e for e in self.edge_pools if _same(e.fqdn, fqdn)), None)

    def web_service(self, identity: str) -> EstateWebService | None:
        """Return the web service collection with exactly this identity, or None."""
        return next((w for w in self.web_service_configurations if _same(w.identity, identity)), None)

    def web_service_for(self, pool_fqdn: str, site: str | None = None) -> EstateWebService | None:
        """Return the collection that applies to the pool's web services today: service, site, then global.

        The site is the one the topology gives the pool; `site` (a plan's) only stands in where the topology does
        not hold the pool or gives it no site. A collection the Management Shell script creates copies this one:
        the script reads the pool's site from the topology at run time.
        """
        known = self.pool(pool_fqdn)
        if known is not None and known.site:
            site = known.site
        candidates = [f"service:WebServer:{pool_fqdn}"]
        if site:
            candidates.append(f"site:{site}")
        candidates.append("Global")
        return next((w for w in map(self.web_service, candidates) if w is not None), None)

    def proxy(self, identity: str) -> EstateProxy | None:
        """Return the proxy collection with exactly this identity, or None."""
        return next((p for p in self.proxy_configurations if _same(p.identity, identity)), None)

    def proxy_for(self, identity: str) -> EstateProxy | None:
        """Return the collection that applies to `service:EdgeServer:<fqdn>` or `service:Registrar:<fqdn>`
        today: that service's own collection, else the global one (proxy settings have no site scope)."""
        return self.proxy(identity) or self.proxy("Global")

    def mobility_policy(self, identity: str) -> EstateMobilityPolicy | None:
        """Return the mobility policy with exactly this identity (`Global`, `site:X`, `Tag:X`), or None."""
        return next((m for m in self.mobility_policies if _same(m.identity, identity)), None)

    def mobility_overrides(self) -> tuple[EstateMobilityPolicy, ...]:
        """Return the site and tag mobility policies: they apply instead of Global to their users."""
        return tuple(m for m in self.mobility_policies if m.scope != "global")
