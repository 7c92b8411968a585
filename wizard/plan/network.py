"""The certificate, publishing and DNS plan as the review page and the runbook show it:
display-ready rows and the notes an admin must read.

Pure: built from `certplan` (the certificates) and `publishing` (the reverse proxy and
DNS), which it sits above.
"""
from __future__ import annotations

from wizard.caches import per_object
from wizard.plan.certplan import certificate_plan, certificate_rows, unicode_name
from wizard.plan.model import AuthMode, PlanData, Pool
from wizard.plan.publishing import (
    ADFS,
    EXTERNAL,
    HOST_HEADER,
    INTERNAL,
    OFFICE_ONLINE,
    PATHS,
    PREAUTH,
    access_edge,
    arr_rules,
    discovery_pool,
    dns_records,
    edge_listeners,
    entry_pool,
    has_reverse_proxy,
    publishing_conflicts,
    publishing_rules,
)


def _unicode(name: str) -> str:
    """Return the Unicode form of an A-label name when it differs, else ''."""
    shown = unicode_name(name)
    return shown if shown != name else ""


def _passive(pool: Pool) -> bool:
    return pool.auth is not None and pool.auth.external is AuthMode.PASSIVE


def network_notes(plan: PlanData) -> list[str]:
    """Return what an admin must know about the certificate, publishing and DNS plan."""
    notes = list(certificate_plan(plan).notes)
    notes += publishing_conflicts(plan)
    entry = entry_pool(plan)
    discovery = discovery_pool(plan)
    published = has_reverse_proxy(plan)
    if published and discovery is not entry:
        notes.append(f"lyncdiscover is published to {discovery.fqdn}, which does not use passive (AD FS) "
                     f"authentication, and the simple URLs to {entry.fqdn}, which does: clients that cannot do "
                     f"passive sign-in still discover a pool they can use, as Microsoft's two-factor guidance "
                     f"asks. Make {discovery.fqdn} the Edge pool's next hop in the topology too; the _sip._tls "
                     f"records point at the Access Edge, never at a pool.")
    elif published and _passive(entry):
        notes.append(f"Simple URLs and lyncdiscover are published to {entry.fqdn}, which uses passive (AD FS) "
                     f"authentication, and no pool of the plan is without it: clients that cannot do passive "
                     f"sign-in discover a pool they cannot use. Microsoft's two-factor guidance points discovery at "
                     f"a pool without it.")
    for edge in plan.edge_pools:
        listeners = edge_listeners(edge)
        moved = [listener for listener in listeners if listener.port != 443]
        if moved:
            ports = ", ".join(f"{listener.label} {listener.port}" for listener in listeners)
            notes.append(f"Edge {edge.fqdn} gives several services one name, so one address: they listen on "
                         f"different ports ({ports}, Microsoft's example for one address), the DNS lists one A "
                         f"record for the name, and _sip._tls carries the Access Edge port. Check that the topology's "
                         f"external ports are the same, and that remote users' firewalls let "
                         f"{' and '.join(str(listener.port) for listener in moved)} out.")
    if published:
        notes.append("The reverse proxy forwards to each pool's internal web services FQDN on 4443 and 8080. For a "
                     "pool with more than one Front End (or Director) that name must resolve, on the reverse proxy, "
                     "to the hardware load balancer of the pool's external web services: DNS load balancing does "
                     "not balance web traffic.")
        same_name = [r for r in publishing_rules(plan) if r.kind in (ADFS, OFFICE_ONLINE)]
        if same_name:
            names = " and ".join(f"{r.purpose} ({r.external_fqdn})" for r in same_name)
            one = len(same_name) == 1
            notes.append(f"{names} {'is' if one else 'are'} published under {'its' if one else 'their'} own "
                         f"name, which in DNS points at the reverse proxy. The proxy must still reach the real server: "
                         f"give it a hosts file entry for each such name with the internal address of the server (or "
                         f"of its load balancer), or it forwards the requests to itself.")
        notes.append("With split-brain DNS (the public zones also hosted inside), the external web services and "
                     "lyncdiscover names must resolve inside to the reverse proxy, never to a pool's internal web "
                     "site: that site answers as the internal web services, so AD FS would read the wrong "
                     "relying-party metadata and clients would reach the wrong listener. The simple URLs are the "
                     "exception: inside they lead to the pool's internal web services, as the internal DNS table "
                     "lists them.")
    if plan.autodiscover_port == 80:
        notes.append("Autodiscover is published on port 80 only, so lyncdiscover names are not on the reverse "
                     "proxy certificate; mobile clients then start discovery over HTTP.")
    if not published:
        notes.append("No pool has an external web services FQDN, so nothing is published through a reverse proxy: "
                     "no simple URL, lyncdiscover, Office Online Server or AD FS publishing is planned, and no "
                     "lyncdiscover record is listed (mobile apps find the service only through it).")
    if access_edge(plan) is None:
        notes.append("No Edge pool has an Access Edge FQDN in the plan, so the _sip._tls and sip.<domain> records "
                     "are not listed.")
    if plan.simple_urls and plan.simple_urls.admin:
        notes.append(f"The admin simple URL {plan.simple_urls.admin} opens the Control Panel: it gets an internal "
                     f"DNS record only and is neither published nor put on the reverse proxy certificate.")
    if plan.adfs and plan.adfs.published_on_reverse_proxy and plan.adfs.mfa == "extranet":
        notes.append("AD FS is published by the same reverse proxy: AD FS only marks a request as coming from the "
                     "extranet when it arrives through a Web Application Proxy (or AD FS proxy), so extranet MFA "
                     "rules do not fire for requests relayed by a plain reverse proxy.")
    return notes


def network_context(plan: PlanData) -> dict[str, object]:
    """Return the rows the review page and the runbook show: certificates, publishing, ARR rules,
    external and internal DNS records, and notes. Every value is display-ready text (and shared
    by the calls for the same plan object: treat it as read-only)."""
    return dict(_network_context(plan))


# Three artifacts of every render show these tables: built once per plan object.
@per_object()
def _network_context(plan: PlanData) -> dict[str, object]:
    publishing_rows = [{
        "name": r.external_fqdn,
        "unicode": _unicode(r.external_fqdn),
        "purpose": r.purpose,
        "ports": ", ".join(p.label for p in r.ports),
        "target": r.target_fqdn,
        "target_ports": ", ".join(f"{p.scheme}://{r.target_fqdn}:{p.internal}" for p in r.ports),
        "host_header": HOST_HEADER,
        "preauth": PREAUTH,
        "paths": PATHS,
        "on_certificate": "yes" if r.on_certificate else "no",
    } for r in publishing_rules(plan)]

    def dns_rows(view: str) -> list[dict[str, str]]:
        return [{
            "name": d.name,
            "unicode": _unicode(d.name),
            "type": d.type,
            "value": d.value,
            "purpose": d.purpose,
        } for d in dns_records(plan) if d.view == view]

    return {
        "certificates": certificate_rows(certificate_plan(plan)),
        "publishing": publishing_rows,
        "arr_rules": arr_rules(plan),
        "dns_external": dns_rows(EXTERNAL),
        "dns_internal": dns_rows(INTERNAL),
        "notes": network_notes(plan),
    }
