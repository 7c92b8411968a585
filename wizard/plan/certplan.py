"""The public certificates a plan needs: one Edge external certificate per Edge pool and one
reverse-proxy certificate, each with its subject, SANs, key and where it goes.

Pure: no Django, no templates. Every name is an IDNA A-label (the plan reader already
normalises them; this module converts again so a hand-built PlanData cannot slip a U-label
or a wildcard through), and the wildcard rules are enforced here:

* never a wildcard as a subject, on any certificate;
* never a wildcard anywhere on an Edge external certificate.

The A/V Edge FQDN is never on the Edge certificate: the A/V Edge service does not use the
certificate names (only its key, for A/V authentication).
"""
from __future__ import annotations

from dataclasses import dataclass

import idna

from wizard.caches import per_object
from wizard.plan import publishing
from wizard.plan.model import EdgePool, PlanData
from wizard.plan.validators import normalise_fqdn

SERVER_AUTH_OID = "1.3.6.1.5.5.7.3.1"
SERVER_AUTH = f"Server Authentication ({SERVER_AUTH_OID})"
EDGE_TYPES: tuple[str, ...] = ("AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication")
DEFAULT_KEY_SIZE = 2048
PUBLIC_CA = "public CA (offline request)"
RP_REQUEST_FILE = "reverse-proxy-certificate.req"
RP_INF_FILE = "reverse-proxy-certificate.inf"

EDGE_EXTERNAL = "edge_external"
REVERSE_PROXY = "reverse_proxy"


class CertificatePlanError(ValueError):
    """A name cannot go on a certificate (a wildcard where none is allowed, or not a DNS name)."""


@dataclass(frozen=True)
class CertificateRequest:
    """One certificate to request: its names, key and where it is installed."""

    kind: str
    title: str
    placement: str
    machine: str
    subject: str
    sans: tuple[str, ...]
    key_size: int
    exportable: bool
    ca: str | None
    request_file: str
    friendly_name: str
    types: tuple[str, ...] = ()
    eku: str = SERVER_AUTH
    edge_pool: str | None = None

    @property
    def subject_dn(self) -> str:
        """Return the subject distinguished name, `CN=<subject>`."""
        return f"CN={self.subject}"

    @property
    def domain_name(self) -> str:
        """Return the SANs as Request-CsCertificate -DomainName wants them: one comma-separated string."""
        return ",".join(self.sans)

    @property
    def ca_label(self) -> str:
        """Return the CA for display."""
        return self.ca or PUBLIC_CA


@dataclass(frozen=True)
class CertificatePlan:
    """Every certificate request of a plan, plus what could not be planned and why."""

    edge: tuple[CertificateRequest, ...]
    reverse_proxy: CertificateRequest | None
    notes: tuple[str, ...] = ()

    @property
    def requests(self) -> tuple[CertificateRequest, ...]:
        """Return every request, Edge ones first."""
        return (*self.edge, *((self.reverse_proxy,) if self.reverse_proxy else ()))


def a_label(name: str, *, wildcard_ok: bool = False, where: str = "a certificate") -> str:
    """Return `name` as a lowercase A-label; raise CertificatePlanError for a bad name or a wildcard
    where none is allowed."""
    if isinstance(name, str) and name.strip().startswith("*") and not wildcard_ok:
        raise CertificatePlanError(
            f"{name!r} is a wildcard and cannot be used as {where}: the subject of every certificate and "
            f"every name on the Edge external certificate must be an explicit host name")
    try:
        return normalise_fqdn(name, allow_wildcard=wildcard_ok)
    except ValueError as exc:
        raise CertificatePlanError(f"{name!r} cannot go on {where}: {exc}") from None


def unicode_name(name: str) -> str:
    """Return the Unicode form of an A-label name, or the name itself when it has no xn-- label."""
    if "xn--" not in name:
        return name
    try:
        return idna.decode(name)
    except (idna.IDNAError, UnicodeError):
        return name


def _unique(names: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for n in names:
        if n not in out:
            out.append(n)
    return tuple(out)


def _key_size(plan: PlanData) -> int:
    return plan.certificates.key_size if plan.certificates else DEFAULT_KEY_SIZE


def _ca(plan: PlanData) -> str | None:
    return plan.certificates.ca if plan.certificates else None


def edge_names(plan: PlanData, edge: EdgePool) -> list[str]:
    """Return the Edge certificate names in order, before duplicates are dropped: the Access Edge
    FQDN (the subject), the Web Conferencing Edge FQDN, then `sip.<domain>` per SIP domain.

    Raises CertificatePlanError when the pool has no Access Edge FQDN or a name is a wildcard.
    """
    if not edge.access_fqdn:
        raise CertificatePlanError(f"Edge pool {edge.fqdn} has no Access Edge FQDN to use as the subject")
    where = f"the Edge external certificate of {edge.fqdn}"
    names = [a_label(edge.access_fqdn, where=f"the subject of {where}")]
    if edge.webconf_fqdn:
        names.append(a_label(edge.webconf_fqdn, where=where))
    names += [a_label(f"sip.{d}", where=where) for d in plan.sip_domains]
    return names


def edge_certificate(plan: PlanData, edge: EdgePool) -> CertificateRequest | None:
    """Return the external certificate of one Edge pool, or None when the plan has no Access Edge FQDN for it."""
    if not edge.access_fqdn:
        return None
    names = edge_names(plan, edge)
    subject = names[0]
    sans = _unique(names)
    return CertificateRequest(
        kind=EDGE_EXTERNAL,
        title=f"Edge external ({edge.fqdn})",
        placement=f"External interface of every Edge Server in pool {edge.fqdn} (the same certificate and "
                  f"private key on each one)",
        machine=f"Edge Server of {edge.fqdn}",
        subject=subject,
        sans=sans,
        key_size=_key_size(plan),
        exportable=True,
        ca=_ca(plan),
        request_file=f"edge-external-{edge.fqdn}.req",
        friendly_name=f"Edge external {edge.fqdn}",
        types=EDGE_TYPES,
        edge_pool=edge.fqdn,
    )


def reverse_proxy_names(plan: PlanData) -> tuple[str, ...]:
    """Return the names the reverse proxy serves on 443, in certificate order."""
    return _unique([r.external_fqdn for r in publishing.publishing_rules(plan) if r.on_certificate])


def reverse_proxy_certificate(plan: PlanData) -> CertificateRequest | None:
    """Return the reverse-proxy certificate, or None when no pool has an external web services FQDN.

    The subject is the external web services FQDN of the first pool (in plan order) that has
    one; TLS clients match on the SANs, which repeat the subject, so the choice only matters
    for how the certificate is labelled.
    """
    subject_pool = next((p for p in plan.pools if p.external_web_fqdn), None)
    if subject_pool is None or subject_pool.external_web_fqdn is None:
        return None
    where = "the reverse proxy certificate"
    subject = a_label(subject_pool.external_web_fqdn, where=f"the subject of {where}")
    sans = _unique([subject, *(a_label(n, wildcard_ok=True, where=where) for n in reverse_proxy_names(plan))])
    return CertificateRequest(
        kind=REVERSE_PROXY,
        title="Reverse proxy",
        placement="HTTPS (443) listener of the reverse proxy that publishes the external web services",
        machine="Reverse proxy",
        subject=subject,
        sans=sans,
        key_size=_key_size(plan),
        exportable=True,
        ca=_ca(plan),
        request_file=RP_REQUEST_FILE,
        friendly_name="Lync external web services (reverse proxy)",
    )


# A render asks for the certificate plan of the same PlanData about a dozen times (twice as
# many with the harmless twin): compute it once per plan object (the result is frozen).
@per_object()
def certificate_plan(plan: PlanData) -> CertificatePlan:
    """Return every certificate the plan needs, with a note for each one that cannot be planned."""
    edge: list[CertificateRequest] = []
    notes: list[str] = []
    for e in plan.edge_pools:
        cert = edge_certificate(plan, e)
        if cert is None:
            notes.append(f"Edge pool {e.fqdn} has no Access Edge FQDN in the plan, so its external certificate "
                         f"is not planned here.")
            continue
        edge.append(cert)
        if not e.webconf_fqdn:
            notes.append(f"Edge pool {e.fqdn} has no Web Conferencing Edge FQDN in the plan; add it to the "
                         f"certificate if the pool publishes conferencing.")
        if e.av_fqdn and e.av_fqdn in cert.sans:
            notes.append(f"The A/V Edge FQDN of {e.fqdn} ({e.av_fqdn}) is also used by another Edge role, so it "
                         f"is on the certificate for that role; the A/V service never uses certificate names, "
                         f"so give it a name of its own.")
    rp = reverse_proxy_certificate(plan)
    adfs = plan.adfs
    if adfs is not None and plan.signs_in_through_adfs and not adfs.published_on_reverse_proxy:
        # Internet clients are sent to AD FS to sign in: the proxy that publishes it presents this name too.
        proxy = "an AD FS proxy" if adfs.version == "2.0" else "a Web Application Proxy"
        notes.append(f"Users sign in to AD FS ({adfs.federation_service_name}) from the Internet through {proxy}, "
                     f"not through the reverse proxy, so its certificate is not requested here: it needs "
                     f"{adfs.federation_service_name} as a subject alternative name, like the AD FS service "
                     f"communications certificate, and must come from a public CA, since clients on the Internet "
                     f"and mobile devices trust no other.")
    return CertificatePlan(edge=tuple(edge), reverse_proxy=rp, notes=tuple(notes))


def certificate_rows(cplan: CertificatePlan) -> list[dict[str, object]]:
    """Return one display row per certificate: certificate, where it goes, subject, SANs, EKU, key,
    exportable, CA. Names carry their Unicode form for IDN domains."""
    rows: list[dict[str, object]] = []
    for c in cplan.requests:
        rows.append({
            "certificate": c.title,
            "placement": c.placement,
            "subject": c.subject,
            "subject_unicode": unicode_name(c.subject) if unicode_name(c.subject) != c.subject else "",
            "sans": [{"name": n, "unicode": unicode_name(n) if unicode_name(n) != n else ""} for n in c.sans],
            "eku": c.eku,
            "key": f"RSA {c.key_size} bits",
            "exportable": "yes" if c.exportable else "no",
            "ca": c.ca_label,
            "request_file": c.request_file if c.kind == EDGE_EXTERNAL and not c.ca else
            (RP_INF_FILE if c.kind == REVERSE_PROXY else ""),
        })
    return rows
