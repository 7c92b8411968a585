"""The certificate, publishing and DNS plan as the review page and the runbook show it:
display-ready rows and the notes an admin must read.

Pure: built from `certplan` (the certificates) and `publishing` (the reverse proxy and
DNS), which it sits above.
"""
from __future__ import annotations

from wizard.caches import per_object
from wizard.plan.certplan import certificate_plan, certificate_rows, unicode_name
from wizard.plan.model import PlanData
from wizard.plan.publishing import (
    EXTERNAL,
    HOST_HEADER,
    INTERNAL,
    PATHS,
    PREAUTH,
    access_edge,
    arr_rules,
    dns_records,
    entry_pool,
    has_reverse_proxy,
    publishing_conflicts,
    publishing_rules,
)


def _unicode(name: str) -> str:
    """Return the Unicode form of an A-label name when it differs, else ''."""
    shown = unicode_name(name)
    return shown if shown != name else ""


def network_notes(plan: PlanData) -> list[str]:
    """Return what an admin must know about the certificate, publishing and DNS plan."""
    notes = list(certificate_plan(plan).notes)
    notes += publishing_conflicts(plan)
    entry = entry_pool(plan)
    if entry.auth and entry.auth.external == "passive":
        notes.append(f"Simple URLs and lyncdiscover are published to {entry.fqdn}, which uses passive (AD FS) "
                     f"authentication: clients that cannot do passive sign-in discover a pool they cannot use. "
                     f"Microsoft's two-factor guidance points discovery at a pool without it.")
    if plan.autodiscover_port == 80:
        notes.append("Autodiscover is published on port 80 only, so lyncdiscover names are not on the reverse "
                     "proxy certificate; mobile clients then start discovery over HTTP.")
    if not has_reverse_proxy(plan):
        notes.append("No pool has an external web services FQDN, so nothing is published through a reverse proxy: "
                     "no simple URL, lyncdiscover, Office Online Server or AD FS publishing is planned.")
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
