"""What the reverse proxy publishes and which DNS records a plan needs.

Pure functions over a PlanData: the publishing table (external name, ports, internal
target), the IIS ARR rewrite rules built from it, the DNS records per SIP domain, and
the DNS records per SIP domain. `wizard.plan.network` turns them into display rows.

Choices made here (docs/certificates-and-network.md explains each):

* The entry pool (simple URLs) is the first Director pool when the plan has one, otherwise
  the first pool: Microsoft publishes meet, dial-in and lyncdiscover to the Director's web
  services when a Director is deployed.
* The discovery pool (lyncdiscover, and the pool the Edge's next hop should be) is the entry
  pool, unless it uses passive authentication and another pool does not: Microsoft's
  two-factor guidance points discovery at a pool without passive authentication. `_sip._tls`
  always points at the Access Edge, never at a pool; the pool behind it is the Edge's next hop.
* Edge listeners: an Edge whose Access, Web Conferencing and A/V names share one name (so one
  address) listens on distinct ports, Microsoft's single-address example: Access Edge 5061,
  Web Conferencing 444, A/V 443. `_sip._tls` then carries the Access Edge port.
* The admin simple URL is internal only (Control Panel); it is never published or put on
  the reverse proxy certificate, only given an internal DNS record.
* Office Online Server and AD FS listen on 443 themselves, so they are published 443 -> 443.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from wizard.caches import per_object
from wizard.plan.model import AuthMode, EdgePool, PlanData, Pool

# Lync/SfB external web services listen on 4443 (HTTPS) and 8080 (HTTP) on the pool.
WEB_PORTS: tuple[tuple[int, int], ...] = ((443, 4443), (80, 8080))
HTTPS_ONLY: tuple[tuple[int, int], ...] = ((443, 443),)
HOST_HEADER = "passed through unchanged"
PREAUTH = "none (pass-through)"
PATHS = "/*"

# Kinds of a published name, in the order the table lists them.
WEB_SERVICES = "web_services"
SIMPLE_URL = "simple_url"
AUTODISCOVER = "autodiscover"
OFFICE_ONLINE = "office_online"
ADFS = "adfs"

EXTERNAL = "external"
INTERNAL = "internal"

# Placeholders for the addresses the plan does not hold.
RP_PUBLIC_IP = "<public IP of the reverse proxy listener>"
WAP_PUBLIC_IP = "<public IP of the Web Application Proxy>"
_A_LABEL_RE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


@dataclass(frozen=True)
class PortMap:
    """One external port forwarded to one internal port."""

    external: int
    internal: int

    @property
    def scheme(self) -> str:
        """Return 'https' or 'http' for the internal side."""
        return "http" if self.internal in (80, 8080) else "https"

    @property
    def label(self) -> str:
        """Return '443 -> 4443'."""
        return f"{self.external} \u2192 {self.internal}"


@dataclass(frozen=True)
class PublishingRule:
    """One external name the reverse proxy publishes."""

    external_fqdn: str
    kind: str
    purpose: str
    target_fqdn: str
    ports: tuple[PortMap, ...]
    sip_domain: str | None = None

    @property
    def on_certificate(self) -> bool:
        """Return True when the name is served on 443 and so needs to be on the proxy certificate."""
        return any(p.external == 443 for p in self.ports)

    @property
    def host_pattern(self) -> str:
        """Return the anchored {HTTP_HOST} regex for this name, dots escaped."""
        return host_pattern(self.external_fqdn)

    def port(self, external: int) -> PortMap | None:
        """Return the mapping for an external port, or None."""
        for p in self.ports:
            if p.external == external:
                return p
        return None


@dataclass(frozen=True)
class DnsRecord:
    """One DNS record an admin must create (or check)."""

    view: str           # EXTERNAL or INTERNAL DNS
    name: str
    type: str           # A, CNAME or SRV
    target: str         # a host name, or a <placeholder> for an address the plan does not know
    purpose: str
    port: int | None = None      # SRV only
    sip_domain: str | None = None

    @property
    def value(self) -> str:
        """Return the record data as a DNS admin would type it."""
        if self.type == "SRV":
            return f"0 0 {self.port} {self.target}"
        return self.target

    @property
    def target_is_name(self) -> bool:
        """Return True when the target is a host name (not an address placeholder)."""
        return not self.target.startswith("<")


def host_pattern(name: str) -> str:
    """Return `^name$` with the dots escaped, for an IIS {HTTP_HOST} condition.

    Only A-label host names are accepted: anything else would need more escaping than dots.
    """
    if not _A_LABEL_RE.match(name):
        raise ValueError(f"not an A-label host name: {name!r}")
    return "^" + name.replace(".", r"\.") + "$"


def entry_pool(plan: PlanData) -> Pool:
    """Return the pool that serves simple URLs and Autodiscover: the first Director, else the first pool."""
    for pool in plan.pools:
        if pool.role == "director":
            return pool
    return plan.pools[0]


def home_pool(plan: PlanData) -> Pool:
    """Return the first Front End pool (internal discovery points there), else the first pool."""
    for pool in plan.pools:
        if pool.role == "frontend":
            return pool
    return plan.pools[0]


def discovery_pool(plan: PlanData) -> Pool:
    """Return the pool lyncdiscover is published to and the Edge's next hop should be.

    The entry pool, unless it uses passive authentication and another pool does not (a Director
    first): clients without passive sign-in must discover a pool they can use, and users homed on
    a passive pool are redirected to it from there.
    """
    entry = entry_pool(plan)
    if not _is_passive(entry):
        return entry
    others = [p for p in plan.pools if not _is_passive(p)]
    for pool in others:
        if pool.role == "director":
            return pool
    return others[0] if others else entry


def _is_passive(pool: Pool) -> bool:
    return pool.auth is not None and pool.auth.external is AuthMode.PASSIVE


@dataclass(frozen=True)
class EdgeListener:
    """One external service of an Edge pool: its name, role and the TCP port clients reach it on."""

    role: str           # ACCESS, WEBCONF or AV
    fqdn: str
    port: int

    @property
    def label(self) -> str:
        """Return 'Access Edge', 'Web Conferencing Edge' or 'A/V Edge'."""
        return EDGE_ROLE_LABELS[self.role]


ACCESS = "access"
WEBCONF = "webconf"
AV = "av"
EDGE_ROLE_LABELS = {ACCESS: "Access Edge", WEBCONF: "Web Conferencing Edge", AV: "A/V Edge"}
# Microsoft's example for one address shared by the Edge services: each service its own port.
SHARED_ADDRESS_PORTS = {ACCESS: 5061, WEBCONF: 444, AV: 443}


def edge_listeners(edge: EdgePool) -> list[EdgeListener]:
    """Return the external listeners of an Edge pool that the plan names, Access first.

    Each listens on 443, unless its name (and so its address) is shared with another service:
    then the services that share it take distinct ports. A/V keeps 443 (media fallback over TCP
    needs it through firewalls), the Access Edge moves to 5061 and Web Conferencing to 444.
    """
    named = [(role, name) for role, name in ((ACCESS, edge.access_fqdn), (WEBCONF, edge.webconf_fqdn),
                                             (AV, edge.av_fqdn)) if name]
    out = []
    for role, name in named:
        shared = [r for r, n in named if n == name]
        if len(shared) == 1:
            port = 443
        elif role == AV or (AV not in shared and role == ACCESS):
            port = 443
        else:
            port = SHARED_ADDRESS_PORTS[role]
        out.append(EdgeListener(role, name, port))
    return out


def access_listener(edge: EdgePool) -> EdgeListener | None:
    """Return the Access Edge listener of an Edge pool (None without an Access Edge FQDN)."""
    return next((listener for listener in edge_listeners(edge) if listener.role == ACCESS), None)


def access_edge(plan: PlanData) -> EdgePool | None:
    """Return the Edge pool that `_sip._tls` and `sip.<domain>` point at: the first with an Access Edge FQDN."""
    for edge in plan.edge_pools:
        if edge.access_fqdn:
            return edge
    return None


def _pool_label(pool: Pool) -> str:
    return ("Director pool " if pool.role == "director" else "pool ") + pool.fqdn


def has_reverse_proxy(plan: PlanData) -> bool:
    """Return True when some pool has an external web services FQDN, which is what a reverse proxy publishes."""
    return any(p.external_web_fqdn for p in plan.pools)


def publishing_rules(plan: PlanData) -> list[PublishingRule]:
    """Return every name the reverse proxy publishes, each once, in table order.

    Without any external web services FQDN there is no reverse proxy to plan: nothing is published.
    """
    return list(_publishing_rules(plan))


# Asked for several times per artifact and per render: computed once per plan object.
@per_object()
def _publishing_rules(plan: PlanData) -> tuple[PublishingRule, ...]:
    rules: list[PublishingRule] = []
    if not has_reverse_proxy(plan):
        return ()
    entry = entry_pool(plan)

    for pool in plan.pools:
        if pool.external_web_fqdn:
            rules.append(PublishingRule(
                pool.external_web_fqdn, WEB_SERVICES, f"External web services of {_pool_label(pool)}",
                pool.internal_web, _ports(WEB_PORTS)))
    if plan.simple_urls:
        for name in plan.simple_urls.meet:
            rules.append(PublishingRule(name, SIMPLE_URL, "Meet simple URL", entry.internal_web, _ports(WEB_PORTS)))
        if plan.simple_urls.dialin:
            rules.append(PublishingRule(plan.simple_urls.dialin, SIMPLE_URL, "Dial-in simple URL",
                                        entry.internal_web, _ports(WEB_PORTS)))
    autodiscover_ports = WEB_PORTS if plan.autodiscover_port == 443 else ((80, 8080),)
    discovery = discovery_pool(plan)
    for domain in plan.sip_domains:
        rules.append(PublishingRule(
            f"lyncdiscover.{domain}", AUTODISCOVER, f"Autodiscover for {domain}", discovery.internal_web,
            _ports(autodiscover_ports), sip_domain=domain))
    if plan.office_web_apps_fqdn:
        rules.append(PublishingRule(plan.office_web_apps_fqdn, OFFICE_ONLINE, "Office Online Server",
                                    plan.office_web_apps_fqdn, _ports(HTTPS_ONLY)))
    if plan.adfs and plan.adfs.published_on_reverse_proxy:
        fsn = plan.adfs.federation_service_name
        rules.append(PublishingRule(fsn, ADFS, "AD FS federation service", fsn, _ports(HTTPS_ONLY)))

    seen: set[str] = set()
    unique: list[PublishingRule] = []
    for rule in rules:
        if rule.external_fqdn in seen:
            continue
        seen.add(rule.external_fqdn)
        unique.append(rule)
    return tuple(unique)


def publishing_conflicts(plan: PlanData) -> list[str]:
    """Return a sentence for each external name the plan uses for two different things."""
    first: dict[str, str] = {}
    out: list[str] = []
    names: list[tuple[str, str]] = []
    names += [(p.external_web_fqdn, f"the external web services of {p.fqdn}")
              for p in plan.pools if p.external_web_fqdn]
    if plan.simple_urls:
        names += [(n, "a meet simple URL") for n in plan.simple_urls.meet]
        if plan.simple_urls.dialin:
            names.append((plan.simple_urls.dialin, "the dial-in simple URL"))
        if plan.simple_urls.admin:
            names.append((plan.simple_urls.admin, "the admin simple URL"))
    if plan.office_web_apps_fqdn:
        names.append((plan.office_web_apps_fqdn, "Office Online Server"))
    if plan.adfs and plan.adfs.published_on_reverse_proxy:
        names.append((plan.adfs.federation_service_name, "the AD FS federation service"))
    for name, what in names:
        if name in first and first[name] != what:
            out.append(f"{name} is used both for {first[name]} and for {what}; each needs its own name.")
        first.setdefault(name, what)
    return out


def _join(items: list[str]) -> str:
    """Return 'a', 'a and b' or 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _ports(pairs: tuple[tuple[int, int], ...]) -> tuple[PortMap, ...]:
    return tuple(PortMap(e, i) for e, i in pairs)


def arr_rules(plan: PlanData) -> list[dict[str, str]]:
    """Return the IIS ARR URL-rewrite rules: one HTTPS rule per published name, then one HTTP rule
    for each name also published on port 80.

    Each dict has name, kind (the published name's kind), host (the FQDN), pattern (the
    {HTTP_HOST} regex), https ('on'/'off') and url (the rewrite target with {R:1}).
    """
    return list(_arr_rules(plan))


@per_object()
def _arr_rules(plan: PlanData) -> tuple[dict[str, str], ...]:
    out: list[dict[str, str]] = []
    rules = _publishing_rules(plan)
    for scheme, external in (("https", 443), ("http", 80)):
        for rule in rules:
            mapping = rule.port(external)
            if mapping is None:
                continue
            out.append({
                "name": f"{scheme} {rule.external_fqdn}",
                "kind": rule.kind,
                "host": rule.external_fqdn,
                "pattern": rule.host_pattern,
                "https": "on" if scheme == "https" else "off",
                "url": f"{mapping.scheme}://{rule.target_fqdn}:{mapping.internal}/{{R:1}}",
            })
    return tuple(out)


def dns_records(plan: PlanData, *, merge_access_names: bool = True) -> list[DnsRecord]:
    """Return the external records first, then the internal ones.

    With `merge_access_names` False, `sip.<domain>` gets its own A record even when it is an
    Access Edge FQDN already listed, so the number of records depends only on the plan's
    shape (the verification scripts drop the repeat at run time).
    """
    return list((_dns_records_merged if merge_access_names else _dns_records_apart)(plan))


@per_object()
def _dns_records_merged(plan: PlanData) -> tuple[DnsRecord, ...]:
    return tuple(_dns_records(plan, merge_access_names=True))


@per_object()
def _dns_records_apart(plan: PlanData) -> tuple[DnsRecord, ...]:
    return tuple(_dns_records(plan, merge_access_names=False))


def _dns_records(plan: PlanData, *, merge_access_names: bool) -> list[DnsRecord]:
    out: list[DnsRecord] = []
    rules = publishing_rules(plan)
    discovery = discovery_pool(plan)
    home = home_pool(plan)
    edge = access_edge(plan)

    for rule in rules:
        if rule.kind == AUTODISCOVER:
            continue
        out.append(DnsRecord(EXTERNAL, rule.external_fqdn, "A", RP_PUBLIC_IP, f"{rule.purpose} (reverse proxy)"))
    if plan.adfs is not None and plan.signs_in_through_adfs and not plan.adfs.published_on_reverse_proxy:
        # Clients on the Internet are sent to AD FS to sign in: its name must resolve there too, to the
        # Web Application Proxy that publishes it (the reverse proxy rules above do not).
        out.append(DnsRecord(EXTERNAL, plan.adfs.federation_service_name, "A", WAP_PUBLIC_IP,
                             "AD FS federation service (Web Application Proxy)"))
    for e in plan.edge_pools:
        # One A record per name: services that share a name share the address (and differ by port).
        listeners = edge_listeners(e)
        for name in dict.fromkeys(listener.fqdn for listener in listeners):
            sharing = [listener for listener in listeners if listener.fqdn == name]
            what = _join([listener.label for listener in sharing])
            purpose = (f"{what} external interface" if len(sharing) == 1 else
                       f"{_join([f'{listener.label} (port {listener.port})' for listener in sharing])} "
                       f"external interface (one address)")
            out.append(DnsRecord(EXTERNAL, name, "A", f"<public IP of the {what} interface of {e.fqdn}>", purpose))
    access_names = {e.access_fqdn for e in plan.edge_pools if e.access_fqdn}
    access = access_listener(edge) if edge is not None else None
    for domain in plan.sip_domains:
        discover = f"lyncdiscover.{domain}"
        purpose = (f"Autodiscover for {domain}: {_pool_label(discovery)} through the reverse proxy, "
                   f"port {plan.autodiscover_port}")
        # Without a reverse proxy nothing answers on lyncdiscover: no record rather than one to nowhere.
        if not rules:
            pass
        elif discovery.external_web_fqdn and discovery.external_web_fqdn != discover:
            out.append(DnsRecord(EXTERNAL, discover, "CNAME", discovery.external_web_fqdn, purpose, sip_domain=domain))
        else:
            out.append(DnsRecord(EXTERNAL, discover, "A", RP_PUBLIC_IP, purpose, sip_domain=domain))
        if edge is None or access is None or not edge.access_fqdn:
            continue
        sip = f"sip.{domain}"
        # Clients accept an SRV target only inside their own SIP domain (strict name matching),
        # and an SRV target must not be a CNAME (RFC 2782): other domains point at sip.<domain>,
        # an A record for the same Access Edge address. The target is always the Access Edge,
        # never a pool: the pool behind it is the Edge's next hop in the topology.
        in_domain = edge.access_fqdn == domain or edge.access_fqdn.endswith("." + domain)
        target = edge.access_fqdn if in_domain else sip
        # sip.<domain> may be the Access Edge FQDN of another Edge pool: the SRV record then reaches that
        # pool's Access Edge, so it must carry that pool's Access port (5061 when it shares one name).
        owner = next((e for e in plan.edge_pools if e.access_fqdn == target), edge)
        port = (access_listener(owner) or access).port
        out.append(DnsRecord(EXTERNAL, f"_sip._tls.{domain}", "SRV", target,
                             f"Remote sign-in for {domain} (Access Edge, TLS {port})", port=port,
                             sip_domain=domain))
        if sip not in access_names or not merge_access_names:
            out.append(DnsRecord(EXTERNAL, sip, "A", f"<public IP of the Access Edge interface of {edge.fqdn}>",
                                 f"Access Edge name for {domain} (on the Edge certificate)", sip_domain=domain))

    for domain in plan.sip_domains:
        out.append(DnsRecord(INTERNAL, f"lyncdiscoverinternal.{domain}", "CNAME", home.internal_web,
                             f"Internal Autodiscover for {domain}", sip_domain=domain))
        out.append(DnsRecord(INTERNAL, f"_sipinternaltls._tcp.{domain}", "SRV", home.fqdn,
                             f"Internal sign-in for {domain}", port=5061, sip_domain=domain))
    if plan.simple_urls:
        for name in plan.simple_urls.hosts():
            what = "Admin simple URL (internal only)" if name == plan.simple_urls.admin else "Simple URL, inside"
            out.append(DnsRecord(INTERNAL, name, "CNAME", home.internal_web, what))
    return out
