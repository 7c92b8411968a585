"""Certificate, reverse proxy, DNS, verification and rollback artifacts.

The thinking happens here and in `wizard.certplan` / `wizard.publishing`; the templates
only lay the values out through their context's filters. The verification and rollback
contexts are built from the same `core` contexts the changing scripts use, so what is
checked and restored is exactly what those scripts change.
"""
from __future__ import annotations

from typing import Any

from wizard.plan import certplan, exposure, network, publishing
from wizard.plan.intended import intended_collections
from wizard.plan.model import (
    ACP_ADFS_VERSIONS,
    KEY_SIZES,
    OFFICE2013_ADAL_VALUES,
    OFFICE2013_IDENTITY_KEY,
    PlanData,
    passive_metadata_url,
)
from wizard.scripts.artifacts.core import (
    SHELL_MODULES,
    Artifact,
    adfs_applies,
    adfs_context,
    adfs_oauth_applies,
    adfs_oauth_context,
    lync_applies,
    lync_context,
    mobility_parameters,
)

# Run-order bands (see core): 10-19 certificates, 20-29 DNS and reverse proxy,
# 80-89 verification, 90-99 rollback (run only when needed).
RUN_ORDER_CERTIFICATE_TABLE = 10
RUN_ORDER_EDGE_CERTIFICATE = 11
RUN_ORDER_PROXY_CERTIFICATE = 12
RUN_ORDER_DNS = 20
RUN_ORDER_PUBLISHING = 21
RUN_ORDER_ARR = 22
# The Office 2013 client settings go out before the Management Shell script blocks Windows authentication.
RUN_ORDER_OFFICE2013 = 35
RUN_ORDER_VERIFY_EXTERNAL = 80
RUN_ORDER_VERIFY_INTERNAL = 81
RUN_ORDER_VERIFY_ADFS = 82
RUN_ORDER_ROLLBACK_LYNC = 90
RUN_ORDER_ROLLBACK_ADFS = 91
RUN_ORDER_ROLLBACK_ADFS_OAUTH = 92

CERTPROV_PATH = "/CertProv/CertProvisioningService.svc"
# The AD FS 2.0 snap-in has Remove-ADFSRelyingPartyTrust too (catalog override
# `adfs20-snapin`), so the rollback removes created trusts on every version. Set this to
# False to make the AD FS 2.0 rollback tell the admin to delete them by hand instead.
ADFS20_CAN_REMOVE = True


def _header_values(plan: PlanData) -> dict[str, Any]:
    return {"product_label": plan.product_label, "module": SHELL_MODULES[plan.product]}


# ---------------------------------------------------------------------------
# Certificates


def edge_certificate_applies(plan: PlanData) -> bool:
    """Return True when some Edge pool has an Access Edge FQDN to put on a certificate."""
    return bool(certplan.certificate_plan(plan).edge)


def edge_certificate_context(plan: PlanData) -> dict[str, Any]:
    """Return the Request-CsCertificate values for every Edge pool."""
    av_names = {e.fqdn: e.av_fqdn for e in plan.edge_pools}
    certs = []
    for cert in certplan.certificate_plan(plan).edge:
        certs.append({
            "pool": cert.edge_pool,
            "subject": cert.subject,
            "sans": list(cert.sans),
            "domain_name": cert.domain_name,
            "types": list(cert.types),
            "key_size": cert.key_size,
            "ca": cert.ca,
            "request_file": cert.request_file,
            "friendly_name": cert.friendly_name,
            "av_fqdn": av_names.get(cert.edge_pool or ""),
            # One name for several Edge services (the topology's single FQDN option): the A/V Edge FQDN is then
            # on the certificate as the Access or Web Conferencing Edge name.
            "av_shares_a_name": av_names.get(cert.edge_pool or "") in cert.sans,
        })
    # With several Edge pools there is no default: run without -EdgePool on an Edge of another pool, the
    # script would request the first pool's names there (the cmdlet takes the subject from that server).
    return {**_header_values(plan), "edge_certificates": certs,
            "default_pool": certs[0]["pool"] if len(certs) == 1 else "",
            "pools": [c["pool"] for c in certs]}


def proxy_certificate_applies(plan: PlanData) -> bool:
    """Return True when the plan has a reverse proxy certificate."""
    return certplan.certificate_plan(plan).reverse_proxy is not None


def proxy_certificate_context(plan: PlanData) -> dict[str, Any]:
    """Return the certreq INF values of the reverse proxy certificate."""
    cert = certplan.certificate_plan(plan).reverse_proxy
    if cert is None:
        raise ValueError("the plan has no reverse proxy certificate")
    if cert.key_size not in KEY_SIZES:
        # The template writes the key length without interpolation, one line per allowed size.
        raise ValueError(f"key size {cert.key_size} is not one of {KEY_SIZES}")
    return {
        # An enterprise CA issues a request only for a template it publishes: the built-in Web Server one.
        "enterprise_ca": cert.ca is not None,
        "subject_dn": cert.subject_dn,
        "key_size": cert.key_size,
        "san_entries": [f"dns={name}&" for name in cert.sans],
        "sans": list(cert.sans),
    }


def network_tables_context(plan: PlanData) -> dict[str, Any]:
    """Return the review-page rows (certificates, publishing, DNS, notes) for the Markdown files."""
    return {**network.network_context(plan), "plan_name": plan.name}


def arr_context(plan: PlanData) -> dict[str, Any]:
    """Return the IIS ARR rewrite rules."""
    return {"rules": publishing.arr_rules(plan)}


def publishing_applies(plan: PlanData) -> bool:
    """Return True when the reverse proxy publishes anything."""
    return bool(publishing.publishing_rules(plan))


# ---------------------------------------------------------------------------
# Verification


def _setting(name: str, value: Any) -> dict[str, Any]:
    kind = "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "str"
    return {"name": name, "kind": kind, "value": value}


def check_groups(rows: list[dict[str, Any]], *, crossed: str | None = None) -> list[dict[str, Any]]:
    """Return `rows` (checks, each a dict with a "name") as groups the verification scripts expand back.

    A group holds the names of consecutive rows whose other fields are equal (its "names" and those
    fields); with `crossed` (say "port"), consecutive rows of one name first become one entry with the
    list of their `crossed` values (the group's "ports", the key plus "s"), and a group is then the
    names of consecutive entries with the same list and fields. `Expand-Checks` (verify-common.ps1.j2)
    turns a group back into one check per name (per name and value of the list, name first): exactly
    `rows`, in their order, repeats included (tests/test_verify_tables.py runs it on every fixture).

    One hashtable per row cost the verifier about 20 us of parsing each, and the file its bytes; a
    name in a group costs a fifth of that. Which rows are consecutive and equal depends only on the
    plan's shape (the harmless twin gives equal placeholders for equal values), so the twin's groups
    are the same.
    """
    entries: list[tuple[str, tuple[tuple[str, Any], ...], tuple[Any, ...]]] = []
    for row in rows:
        fields = tuple((k, v) for k, v in row.items() if k != "name" and k != crossed)
        value = (row[crossed],) if crossed is not None else ()
        if crossed is not None and entries and entries[-1][0] == row["name"] and entries[-1][1] == fields:
            entries[-1] = (row["name"], fields, entries[-1][2] + value)
        else:
            entries.append((row["name"], fields, value))
    groups: list[dict[str, Any]] = []
    last: tuple[tuple[tuple[str, Any], ...], tuple[Any, ...]] | None = None
    for name, fields, values in entries:
        if groups and last == (fields, values):
            groups[-1]["names"].append(name)
            continue
        last = (fields, values)
        group: dict[str, Any] = dict(fields)
        if crossed is not None:
            group[f"{crossed}s"] = list(values)
        group["names"] = [name]
        groups.append(group)
    return groups


def _auth_checks(plan: PlanData, *, external: bool) -> list[dict[str, Any]]:
    out = []
    for pool in plan.pools:
        if pool.auth is None:
            continue
        hosts = [pool.external_web_fqdn] if external else [pool.internal_web]
        for host in hosts:
            if not host:
                continue
            out.append({
                "url": f"https://{host}{CERTPROV_PATH}",
                "pool": pool.fqdn,
                "mode": pool.auth.external.value,
                # Windows authentication stays on the web services for modes that keep it (UseWindowsAuth
                # is untouched); passive pools get UseWindowsAuth None, so Negotiate/NTLM must be gone.
                "windows_auth": pool.auth.external.keeps_windows_auth,
            })
    return out


def _metadata_checks(plan: PlanData, *, external: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if plan.adfs is None or not plan.passive_pools:
        return out
    out.append({"url": plan.adfs.metadata_url, "what": "AD FS federation metadata"})
    for pool in plan.passive_pools:
        hosts = [] if external else [pool.internal_web]
        if pool.external_web_fqdn:
            hosts.append(pool.external_web_fqdn)
        for host in hosts:
            out.append({"url": passive_metadata_url(host), "what": f"Relying-party metadata of {pool.fqdn}"})
    return out


# What counts as an answer from the server behind the reverse proxy, per kind of probe. Any other status
# (404, a 5xx or proxy error), no answer or a TLS failure is a FAIL with its reason, never a PASS.
PROBE_STATUSES: dict[str, tuple[int, ...]] = {
    # An authenticated path of a pool's web services: a challenge, a page, a redirect or a refusal.
    "web": (200, 301, 302, 303, 307, 308, 401, 403),
    # /passiveauth/ of a passive pool: the redirect to AD FS.
    "redirect": (301, 302, 303, 307, 308),
    # /passiveauth/ where passive authentication is off (or as today): not used, so it may be absent.
    "unused": (200, 301, 302, 303, 307, 308, 401, 403, 404),
    # The anonymous discovery document (lyncdiscover, Autodiscover root).
    "discovery": (200,),
    # AD FS answers an incomplete sign-in request with its sign-in or error page, or a challenge.
    "adfs": (200, 302, 400, 401, 403),
    # AD FS's WS-Trust Windows transport endpoints: not published through a Web Application Proxy (404), or
    # AD FS's challenge or refusal of a GET without a sign-in message.
    "adfs_windows": (400, 401, 403, 404, 405),
}
DISCOVERY_PATH = "/Autodiscover/AutodiscoverService.svc/root"
# The MsRtcOAuth password grant (user name and password at /WebTicket/oauthtoken, what the Lync spray
# tools post) is a credential of the exposure model (Credential.PASSWORD_GRANT): its expectation comes with
# the model's, under this scheme name.
PASSWORD_GRANT = exposure.PASSWORD_GRANT_SCHEME


def _status_kind(probe: exposure.WebProbe) -> str:
    if probe.published_as == "adfs":
        return "adfs_windows" if probe.path in exposure.ADFS_WINDOWS_PATHS else "adfs"
    if probe.path == exposure.PASSIVEAUTH_PATH:
        redirect = next(s.offer for s in probe.schemes if s.scheme == "adfs_redirect")
        return "redirect" if redirect is exposure.Offer.MAY else "unused"
    return "web"


def web_probe_expectations(probe: exposure.WebProbe) -> list[exposure.SchemeExpectation]:
    """Return every scheme verify-external.ps1 judges on one probe: the exposure model's, the MsRtcOAuth
    password grant included for a pool's web services."""
    return list(probe.schemes)


def _web_probe_data(plan: PlanData) -> dict[str, Any]:
    """Return the web probes as data, each distinct thing once: the expectations (keyed e1, e2, ...), the
    path sets (keyed p1, p2, ...: per path its expectation key and the kind of status expected; the
    hosts of one pool share one), and per host its base URL and path set.

    The keys and the order depend only on the plan's shape (the harmless twin gets the same ones): the
    model's reasons name no plan value.
    """
    probes = list(exposure.web_probes(plan))
    probes.extend(exposure.adfs_probes(plan))
    expectation_keys: dict[tuple[tuple[str, str, str], ...], str] = {}
    host_paths: dict[str, list[tuple[str, str, str]]] = {}
    hosts: dict[str, dict[str, Any]] = {}
    # The probes of one host share their expectations (one tuple): each is turned into data once.
    signatures: dict[tuple[int, bool], tuple[tuple[str, str, str], ...]] = {}
    # Each shared tuple's key is found once (not a signature built and hashed per probe).
    keys_of: dict[tuple[int, bool], str] = {}
    for probe in probes:
        held = (id(probe.schemes), probe.published_as == "adfs")
        key = keys_of.get(held)
        if key is None:
            signature = signatures[held] = tuple((s.scheme, s.offer.value, s.why)
                                                 for s in web_probe_expectations(probe))
            if signature not in expectation_keys:
                expectation_keys[signature] = f"e{len(expectation_keys) + 1}"
            key = keys_of[held] = expectation_keys[signature]
        path = probe.path
        base = probe.url[:-len(path)]
        paths = host_paths.get(base)
        if paths is None:
            paths = host_paths[base] = []
            hosts[base] = {"base": base, "browser": probe.published_as == "adfs",
                           "discovery": probe.published_as in ("web_services", "autodiscover")}
        paths.append((path, key, _status_kind(probe)))
    path_keys: dict[tuple[tuple[str, str, str], ...], str] = {}
    for base, paths in host_paths.items():
        key = path_keys.setdefault(tuple(paths), f"p{len(path_keys) + 1}")
        hosts[base]["paths"] = key
    expectations = [{"key": key, "schemes": [{"scheme": scheme, "offer": offer, "why": why}
                                             for scheme, offer, why in signature]}
                    for signature, key in expectation_keys.items()]
    path_sets = [{"key": key, "paths": [{"path": p, "expect": e, "statuses": k} for p, e, k in paths]}
                 for paths, key in path_keys.items()]
    return {"expectations": expectations, "path_sets": path_sets, "hosts": list(hosts.values()),
            "discovery": [h["base"] for h in hosts.values() if h["discovery"]],
            "statuses": [{"kind": k, "codes": list(v)} for k, v in PROBE_STATUSES.items()]}


def _sip_probe_data(plan: PlanData) -> list[dict[str, Any]]:
    """Return one SIP sign-in probe per Edge pool with an Access Edge FQDN: the listener, a SIP domain of
    the plan for the REGISTER, and the schemes the exposure model says its 401 must not / may offer."""
    out = []
    edges = {e.fqdn: e for e in plan.edge_pools}
    for probe in exposure.sip_probes(plan):
        edge = edges.get(probe.edge)
        listener = publishing.access_listener(edge) if edge is not None else None
        if listener is None:
            continue
        out.append({"edge": probe.edge, "name": listener.fqdn, "port": listener.port,
                    "domain": plan.sip_domains[0],
                    "schemes": [{"scheme": s.scheme, "offer": s.offer.value, "why": s.why} for s in probe.schemes]})
    return out


# The port a pool's Registrar takes SIP over TLS on, from clients inside.
REGISTRAR_SIP_PORT = 5061


def _registrar_probe_data(plan: PlanData) -> list[dict[str, Any]]:
    """Return one SIP sign-in probe per Registrar the plan closes a scheme at: the pool's FQDN and SIP port, a SIP
    domain of the plan for the REGISTER, and the schemes the exposure model says its 401 must not / may offer."""
    return [{"pool": probe.pool, "name": probe.pool, "port": REGISTRAR_SIP_PORT, "domain": plan.sip_domains[0],
             "schemes": [{"scheme": s.scheme, "offer": s.offer.value, "why": s.why} for s in probe.schemes]}
            for probe in exposure.registrar_probes(plan)]


def verify_external_context(plan: PlanData) -> dict[str, Any]:
    """Return what verify-external.ps1 checks from the Internet: DNS, ports, TLS names, CertProv
    authentication schemes and metadata URLs.

    The lists keep repeats (an Access Edge FQDN that is also `sip.<domain>`, say): the script
    skips a repeat at run time, so the data's shape depends only on the plan's shape, which
    is what the harmless-twin comparison needs.
    """
    records = publishing.dns_records(plan, merge_access_names=False)
    dns = [{"name": r.name, "type": r.type, "target": r.target if r.target_is_name else "",
            "port": r.port or 0} for r in records if r.view == publishing.EXTERNAL]
    ports: list[dict[str, Any]] = []
    for rule in publishing.publishing_rules(plan):
        ports += [{"name": rule.external_fqdn, "port": p.external} for p in rule.ports]
    for edge in plan.edge_pools:
        # Each Edge service on its own listener: one name shared by several services means several ports.
        ports += [{"name": listener.fqdn, "port": listener.port} for listener in publishing.edge_listeners(edge)]
    tls: list[dict[str, Any]] = []
    cplan = certplan.certificate_plan(plan)
    # DNS points sip.<domain> at the Access Edge of this pool only (publishing.access_edge): on any other
    # Edge pool's certificate those names are there for a fail-over, and a TLS check of them would reach
    # this pool's Edge, on the other pool's port, and report it under the other pool's certificate.
    dns_edge = publishing.access_edge(plan)
    for cert in cplan.edge:
        edge = next(e for e in plan.edge_pools if e.fqdn == cert.edge_pool)
        port_of = {listener.role: listener.port for listener in publishing.edge_listeners(edge)}
        first_sip = 2 if edge.webconf_fqdn else 1
        # A sip.<domain> that is another Edge pool's Access Edge FQDN is checked under that pool's certificate.
        other_access = {e.access_fqdn for e in plan.edge_pools if e.fqdn != edge.fqdn and e.access_fqdn}
        for i, name in enumerate(certplan.edge_names(plan, edge)):
            # edge_names: the Access Edge FQDN, then the Web Conferencing Edge FQDN (when named), then the
            # sip.<domain> names, which are Access Edge names too. Each is checked on its own listener.
            if i >= first_sip and (dns_edge is None or edge.fqdn != dns_edge.fqdn or name in other_access):
                continue
            webconf = edge.webconf_fqdn is not None and i == 1
            port = port_of[publishing.WEBCONF] if webconf else port_of[publishing.ACCESS]
            tls.append({"name": name, "port": port, "certificate": cert.title})
    if cplan.reverse_proxy is not None:
        rp = cplan.reverse_proxy
        tls += [{"name": n, "port": 443, "certificate": rp.title} for n in rp.sans if not n.startswith("*")]
    return {
        **_header_values(plan),
        "dns": dns,
        "ports": ports,
        "tls": tls,
        "dns_groups": check_groups(dns),
        "port_groups": check_groups(ports, crossed="port"),
        "tls_groups": check_groups(tls),
        "auth": _auth_checks(plan, external=True),
        "certprov_statuses": list(PROBE_STATUSES["web"]),
        "metadata": _metadata_checks(plan, external=True),
        "web": _web_probe_data(plan),
        "sip": _sip_probe_data(plan),
        "discovery_path": DISCOVERY_PATH,
    }


def internet_reachable(plan: PlanData) -> list[str]:
    """Return, in words, what of the plan is reachable from the Internet: its Edge pools, the web names a
    reverse proxy publishes, and AD FS where users sign in through it (passive pools or Modern
    Authentication: a Web Application Proxy or the reverse proxy publishes it even without Edge or web
    services names). Empty when nothing is, and then there is nothing for verify-external.ps1 to probe."""
    out: list[str] = []
    if plan.edge_pools:
        out.append("its Edge pools")
    if publishing.has_reverse_proxy(plan):
        out.append("the web services names its reverse proxy publishes")
    if exposure.adfs_probes(plan):
        out.append("AD FS, which its users sign in through")
    return out


# What the runbook says when a bundle has no verify-external.ps1.
NO_EXTERNAL_VERIFICATION = (
    "There is no verify-external.ps1 in this bundle: the plan names nothing reachable from the Internet (no Edge "
    "pool, no external web services FQDN, and no sign-in through AD FS), so there is nothing of it to probe from "
    "outside. If the Internet does reach these servers, add those Edge pools, external web services names or the "
    "AD FS farm to the plan: the bundle then checks them from the Internet too.")


def verify_external_applies(plan: PlanData) -> bool:
    """Return True when anything of the plan is reachable from the Internet (`internet_reachable`)."""
    return bool(internet_reachable(plan))


def _expected_settings(plan: PlanData) -> dict[str, list[dict[str, Any]]]:
    """Return the values lync-management-shell.ps1 sets, per collection, as (name, kind, value) rows."""
    groups = {"web_service": "web_services", "proxy": "proxies", "mobility": "mobility"}
    out: dict[str, list[dict[str, Any]]] = {"web_services": [], "proxies": [], "mobility": []}
    for collection in intended_collections(plan):
        rows = [_setting(s.parameter, s.value) for s in collection.settings]
        if rows:
            out[groups[collection.kind]].append({"identity": collection.identity, "settings": rows})
    return out


def _settings_sets(expected: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Return each distinct set of expected values once, keyed s1, s2, ... in order of first use, and
    give every collection of `expected` the key of its set ("settings_key"): the pools of one mode
    share their values, so verify-internal.ps1 writes each set once instead of once per collection."""
    keys: dict[tuple[tuple[str, str, Any], ...], str] = {}
    sets: list[dict[str, Any]] = []
    for group in ("web_services", "proxies", "mobility"):
        for item in expected[group]:
            values = tuple((s["name"], s["kind"], s["value"]) for s in item["settings"])
            key = keys.get(values)
            if key is None:
                key = keys[values] = f"s{len(keys) + 1}"
                sets.append({"key": key, "settings": item["settings"]})
            item["settings_key"] = key
    return sets


def verify_internal_context(plan: PlanData) -> dict[str, Any]:
    """Return what verify-internal.ps1 checks inside: internal DNS, ports, TLS, CertProv, metadata,
    and the Lync/SfB settings read back from the configuration store."""
    expected = _expected_settings(plan)
    records = [r for r in publishing.dns_records(plan) if r.view == publishing.INTERNAL]
    dns = [{"name": r.name, "type": r.type, "target": r.target, "port": r.port or 0} for r in records]
    ports: list[dict[str, Any]] = []
    tls: list[dict[str, Any]] = []
    for pool in plan.pools:
        for port in (443, 4443):
            ports.append({"name": pool.internal_web, "port": port})
        ports.append({"name": pool.fqdn, "port": REGISTRAR_SIP_PORT})
        if pool.internal_web not in [t["name"] for t in tls]:
            tls.append({"name": pool.internal_web, "port": 443, "certificate": f"internal web services of {pool.fqdn}"})
    if plan.adfs is not None and plan.passive_pools:
        ports.append({"name": plan.adfs.federation_service_name, "port": 443})
        tls.append({"name": plan.adfs.federation_service_name, "port": 443,
                    "certificate": "AD FS service communications"})
    return {
        **_header_values(plan),
        "dns": dns,
        "ports": ports,
        "tls": tls,
        "dns_groups": check_groups(dns),
        "port_groups": check_groups(ports, crossed="port"),
        "tls_groups": check_groups(tls),
        "auth": _auth_checks(plan, external=False),
        "certprov_statuses": list(PROBE_STATUSES["web"]),
        "metadata": _metadata_checks(plan, external=False),
        "expected": expected,
        "expected_sets": _settings_sets(expected),
        "reads_settings": lync_applies(plan),
        "modern_auth": _modern_auth_expected(plan),
        "registrar_probes": _registrar_probe_data(plan),
    }


def _modern_auth_expected(plan: PlanData) -> dict[str, Any] | None:
    """Return what verify-internal.ps1 reads back for Modern Authentication (the values the script sets)."""
    modern = lync_context(plan)["modern_auth"]
    if modern is None:
        return None
    front_ends = [p.fqdn for p in plan.pools if p.role == "frontend"] or [plan.pools[0].fqdn]
    return {
        "identity": modern["identity"],
        "server": {"settings": [_setting("Type", modern["type"]), _setting("MetadataUrl", modern["metadata_url"])]
                   # The server's own setting is left alone when the plan does not set it: nothing to read back.
                   + ([] if modern["accept_sid"] is None
                      else [_setting("AcceptSecurityIdentifierInformation", modern["accept_sid"])])},
        "configuration": {"settings": [_setting("ClientAuthorizationOAuthServerIdentity", modern["identity"])]},
        "scenario": modern["scenario"],
        "test_pool": front_ends[0],
    }


def verify_adfs_applies(plan: PlanData) -> bool:
    """Return True when an AD FS script changes the farm: relying party trusts of passive pools, or the Modern
    Authentication trust."""
    return adfs_applies(plan) or adfs_oauth_applies(plan)


def _rule_sets(rows: list[list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Return each distinct list of expected trust properties once, keyed r1, r2, ..., and per row its key."""
    keys: dict[tuple[tuple[str, str, bool, bool], ...], str] = {}
    sets: list[dict[str, Any]] = []
    out: list[str] = []
    for row in rows:
        values = tuple((e["property"], e["value"], e["rules"], e["empty"]) for e in row)
        key = keys.get(values)
        if key is None:
            key = keys[values] = f"r{len(keys) + 1}"
            sets.append({"key": key, "expected": row})
        out.append(key)
    return sets, out


def _trust_property(name: str, value: str) -> dict[str, Any]:
    # A claim rule set is compared without its whitespace (AD FS keeps a rule set in its own layout); a policy
    # name as it is.
    return {"property": name, "value": value, "rules": name.endswith("Rules"), "empty": False}


# From AD FS 2016 on a trust under an access control policy must hold no issuance authorization rules: a trust set up
# before keeps them unless AD FS drops them, and which of the two AD FS then applies (so whether the policy's MFA
# holds) is documented nowhere. verify-adfs.ps1 fails on them (Test-NoAuthorizationRules).
_NO_AUTHORIZATION_RULES: dict[str, Any] = {"property": "IssuanceAuthorizationRules", "value": "", "rules": True,
                                           "empty": True}


def verify_adfs_context(plan: PlanData) -> dict[str, Any]:
    """Return what verify-adfs.ps1 reads back on the AD FS server: each relying party trust adfs-server.ps1 adds or
    changes (found by name, carrying its metadata's identifier, enabled, with the rules and MFA or access control
    policy it sets), and the Modern Authentication trust adfs-modern-auth.ps1 makes (every pool URL an identifier,
    enabled, its MFA). The same values those scripts take, from the same contexts."""
    adfs = plan.adfs
    if adfs is None or not verify_adfs_applies(plan):
        raise ValueError("verify-adfs.ps1 needs an AD FS script in the bundle")
    trusts: list[dict[str, Any]] = []
    rows: list[list[dict[str, Any]]] = []
    if adfs_applies(plan):
        ctx = adfs_context(plan)
        # What adfs-server.ps1 writes on every trust, in its order.
        if ctx["access_control_policy"] is not None:
            expected = [_trust_property("AccessControlPolicyName", ctx["access_control_policy"]),
                        dict(_NO_AUTHORIZATION_RULES)]
        else:
            expected = [_trust_property("IssuanceAuthorizationRules", ctx["authorization_rules"])]
        expected.append(_trust_property("IssuanceTransformRules", ctx["transform_rules"]))
        if ctx["mfa_rule"] is not None:
            expected.append(_trust_property("AdditionalAuthenticationRules", ctx["mfa_rule"]))
        trusts = ctx["relying_parties"]
        rows = [expected for _ in trusts]
    oauth: dict[str, Any] | None = None
    if adfs_oauth_applies(plan):
        octx = adfs_oauth_context(plan)
        mfa: list[dict[str, Any]] = []
        if octx["access_control_policy"] is not None:
            mfa.append(_trust_property("AccessControlPolicyName", octx["access_control_policy"]))
        elif octx["mfa_rule"] is not None:
            mfa.append(_trust_property("AdditionalAuthenticationRules", octx["mfa_rule"]))
        rows.append(mfa)
        oauth = {"pool_ids": octx["pool_ids"], "setup_script": octx["setup_script"]}
    sets, keys = _rule_sets(rows)
    if oauth is not None:
        oauth["expected"] = keys.pop()
    relying_parties = [{"name": rp["name"], "side": rp["side"], "pool": rp["pool"], "metadata_url": rp["metadata_url"],
                        "expected": key} for rp, key in zip(trusts, keys, strict=True)]
    return {
        **_header_values(plan),
        "adfs_version": adfs.version,
        "snapin": adfs.version == "2.0",
        "federation_service_name": adfs.federation_service_name,
        # An MFA requirement stops every sign-in it applies to when no MFA provider is enabled.
        "needs_mfa_provider": adfs.version != "2.0" and adfs.mfa != "none",
        "relying_parties": relying_parties,
        "rule_sets": sets,
        "oauth": oauth,
        # Find-OAuthTrust (_adfs_oauth.ps1.j2) looks for a Web API application where application groups exist.
        "web_api": adfs.version in ACP_ADFS_VERSIONS,
    }


# ---------------------------------------------------------------------------
# Rollback


def rollback_lync_context(plan: PlanData) -> dict[str, Any]:
    """Return, per collection the Lync/SfB script changes, the parameters to restore, in rollback order."""
    ctx = lync_context(plan)
    web = []
    for w in ctx["web_services"]:
        params = []
        if w["wsfed_passive"]:
            params += ["UseWsFedPassiveAuth", "UseWindowsAuth", "UsePinAuth"]
        params.append("UseCertificateAuth")
        restored = [*params, *(["DefaultValidityPeriodHours", "MinValidityPeriodHours", "MaxValidityPeriodHours"]
                               if w["hours"] is not None else []),
                    *(["WsFedPassiveMetadataUri"] if w["wsfed_passive"] else []),
                    *(["UsePinAuth"] if w["block_pin"] else [])]
        web.append({"identity": w["identity"], "pool": w["pool"], "params": params,
                    "hours": w["hours"] is not None, "metadata_uri": w["wsfed_passive"], "pin": w["block_pin"],
                    "summary": ", ".join(restored)})
    proxies = [{"identity": p["identity"], "role": p["role"], "fqdn": p["fqdn"]} for p in ctx["proxies"]]
    mobility = [{"identity": m["identity"], "scope": m["scope"], "params": mobility_parameters(m),
                 "summary": ", ".join(mobility_parameters(m)) or "(created by the change only)"}
                for m in ctx["mobility"]]
    identities = [w["identity"] for w in web] + [p["identity"] for p in proxies] + [m["identity"] for m in mobility]
    modern = ctx["modern_auth"]
    if modern is not None:
        identities += [modern["identity"], "Global"]
    # Which sets of values the web service collections had changed (the restoring function has a
    # Set-CsWebServiceConfiguration with literal parameters for each kind present).
    kinds = {(w["metadata_uri"], w["hours"]) for w in web}
    web_variants = {"wsfed": any(w["metadata_uri"] for w in web), "hours": any(w["hours"] for w in web),
                    "both": (True, True) in kinds, "wsfed_only": (True, False) in kinds,
                    "hours_only": (False, True) in kinds, "neither": (False, False) in kinds,
                    # PIN turned off outside passive authentication (block_pin_auth): restored on its own.
                    "pin": any(w["pin"] for w in web)}
    # Lists in rollback order: the change script's last change is undone first (Modern Authentication first).
    return {**_header_values(plan), "web_services": web[::-1], "proxies": proxies[::-1], "mobility": mobility[::-1],
            "modern_auth": modern, "identities": list(dict.fromkeys(identities)), "web_variants": web_variants}


def rollback_adfs_context(plan: PlanData) -> dict[str, Any]:
    """Return the relying-party trusts the AD FS script adds or changes, and which rule properties it sets."""
    ctx = adfs_context(plan)
    return {
        "product_label": plan.product_label,
        "adfs_version": ctx["adfs_version"],
        "snapin": ctx["snapin"],
        "uses_acp": plan.adfs is not None and plan.adfs.version in ACP_ADFS_VERSIONS,
        "restores_mfa_rule": ctx["mfa_rule"] is not None,
        "can_remove": not ctx["snapin"] or ADFS20_CAN_REMOVE,
        "federation_service_name": ctx["federation_service_name"],
        "trusts": [rp["name"] for rp in ctx["relying_parties"]][::-1],
    }


def rollback_adfs_oauth_context(plan: PlanData) -> dict[str, Any]:
    """Return what the rollback of adfs-modern-auth.ps1 needs: the same trust, found the same way."""
    return adfs_oauth_context(plan)


# ---------------------------------------------------------------------------
# Office 2013 clients


def office2013_applies(plan: PlanData) -> bool:
    """Return True when the plan asks for the Office 2013 client settings of Modern Authentication."""
    return plan.modern_auth is not None and plan.modern_auth.office2013_clients


def office2013_context(plan: PlanData) -> dict[str, Any]:
    """Return the registry key and DWORD values Office 2013 needs for Modern Authentication."""
    values = [{"name": name, "value": value} for name, value in OFFICE2013_ADAL_VALUES]
    return {"product_label": plan.product_label, "key": OFFICE2013_IDENTITY_KEY, "values": values,
            "undo": {"name": values[0]["name"], "value": 0}}


def _always(plan: PlanData) -> bool:
    return True


ARTIFACTS: list[Artifact] = [
    Artifact(
        key="certificates_table",
        filename="certificates.md",
        template="certificates-table.md.j2",
        machine="Read before ordering certificates (no machine)",
        run_order=RUN_ORDER_CERTIFICATE_TABLE,
        purpose="The public certificates the plan needs: subject, SANs, key, where each one goes",
        check_after="Every certificate the CA returns carries exactly the names listed, as A-labels",
        applies=lambda plan: bool(certplan.certificate_plan(plan).requests),
        context=network_tables_context,
    ),
    Artifact(
        key="certificates_edge",
        filename="certificates-edge.ps1",
        template="certificates-edge.ps1.j2",
        machine=("One Edge Server of each Edge pool, in an elevated Lync/SfB Management Shell "
                 "(-EdgePool names the pool)"),
        run_order=RUN_ORDER_EDGE_CERTIFICATE,
        purpose=("Request the Edge external certificate (Access, Web Conferencing and A/V authentication) with "
                 "an exportable key; after the CA issues it, import it with its key on every Edge Server of the "
                 "pool and assign it with Set-CsCertificate"),
        check_after=("certutil -dump on the request file (or the issued certificate) shows the Access Edge FQDN as "
                     "subject, the listed SANs and no A/V Edge FQDN; Get-CsCertificate on each Edge Server shows the "
                     "same thumbprint for AccessEdgeExternal, DataEdgeExternal and AudioVideoAuthentication"),
        applies=edge_certificate_applies,
        context=edge_certificate_context,
    ),
    Artifact(
        key="certificates_reverse_proxy",
        filename=certplan.RP_INF_FILE,
        template="certificates-reverse-proxy.inf.j2",
        machine="Reverse proxy server, elevated command prompt: certreq -new reverse-proxy-certificate.inf "
                "reverse-proxy-certificate.req",
        run_order=RUN_ORDER_PROXY_CERTIFICATE,
        purpose=("certreq request file for the reverse proxy certificate (server authentication, exportable key "
                 "in the machine store); submit the .req to the CA, then certreq -accept the issued certificate"),
        check_after=("certutil -dump reverse-proxy-certificate.req lists every SAN of certificates.md; after "
                     "certreq -accept the certificate is in LocalMachine\\My with its private key"),
        applies=proxy_certificate_applies,
        context=proxy_certificate_context,
    ),
    Artifact(
        key="dns_records",
        filename="dns-records.md",
        template="dns-records.md.j2",
        machine="External DNS (each SIP domain's public zone) and internal DNS",
        run_order=RUN_ORDER_DNS,
        purpose="The DNS records per SIP domain: what goes in external DNS and what in internal DNS",
        check_after="Resolve-DnsName answers every external name from the Internet",
        check_after_extra=lambda plan: " (verify-external.ps1 checks them)" if verify_external_applies(plan) else "",
        applies=_always,
        context=network_tables_context,
    ),
    Artifact(
        key="reverse_proxy_publishing",
        filename="reverse-proxy-publishing.md",
        template="reverse-proxy-publishing.md.j2",
        machine="Reverse proxy (any product: IIS ARR, a load balancer, a proxy appliance)",
        run_order=RUN_ORDER_PUBLISHING,
        purpose="The publishing table: each external name, its ports, the internal target, host header and "
                "pre-authentication",
        check_after=("https://<each name>/ reaches the listed internal target "
                     "(verify-external.ps1 checks ports and TLS)"),
        applies=publishing_applies,
        context=network_tables_context,
    ),
    Artifact(
        key="reverse_proxy_arr",
        filename="reverse-proxy-arr.config",
        template="reverse-proxy-arr.config.j2",
        machine="IIS Application Request Routing reverse proxy: merge into the site's web.config <system.webServer>",
        run_order=RUN_ORDER_ARR,
        purpose="IIS ARR URL Rewrite rules: one rule per published name, matched on {HTTP_HOST}",
        check_after="IIS Manager > URL Rewrite lists the rules; verify-external.ps1 passes for every published name",
        applies=publishing_applies,
        context=arr_context,
    ),
    Artifact(
        key="office2013",
        filename="office2013-modern-auth.ps1",
        template="office2013-modern-auth.ps1.j2",
        machine=("Every Office 2013 user's computer, in that user's own session (a Group Policy logon script, for "
                 "example): it writes to the user's registry (HKCU)"),
        run_order=RUN_ORDER_OFFICE2013,
        purpose=("Turn Modern Authentication on in Office 2013 (the Lync 2013 client) for the user who runs it: "
                 "EnableADAL and Version under the Office 15.0 Identity key; -Undo turns it off again"),
        check_after=("reg query HKCU\\Software\\Microsoft\\Office\\15.0\\Common\\Identity shows EnableADAL and "
                     "Version as 0x1; the client then signs in through AD FS"),
        applies=office2013_applies,
        context=office2013_context,
    ),
    Artifact(
        key="verify_external",
        filename="verify-external.ps1",
        template="verify-external.ps1.j2",
        machine=("A Windows computer on the Internet, outside the firewall (Windows PowerShell 3.0 or later; "
                 "Windows 8 / Server 2012 or later for the DNS checks)"),
        run_order=RUN_ORDER_VERIFY_EXTERNAL,
        purpose=("Read-only check from the Internet after the change: DNS, ports, certificates on every name, "
                 "authentication offered by CertProv, metadata URLs, and the attacker's view: every web path "
                 "password-spray tools use and each Access Edge's SIP sign-in, judged against the plan's exposure "
                 "model; writes verify-external.json"),
        check_after="Every line says PASS; keep verify-external.json with the change record",
        applies=verify_external_applies,
        context=verify_external_context,
        read_only=True,
    ),
    Artifact(
        key="verify_internal",
        filename="verify-internal.ps1",
        template="verify-internal.ps1.j2",
        machine="A Front End server, in the Lync/SfB Management Shell",
        run_order=RUN_ORDER_VERIFY_INTERNAL,
        purpose=("Read-only check inside after the change: internal DNS, ports and certificates, CertProv, "
                 "metadata URLs, the Lync/SfB settings read back and compared with the plan, and a SIP REGISTER to "
                 "each Registrar whose sign-in the plan closes; writes verify-internal.json"),
        check_after="Every line says PASS; keep verify-internal.json with the change record",
        applies=_always,
        context=verify_internal_context,
        read_only=True,
    ),
    Artifact(
        key="verify_adfs",
        filename="verify-adfs.ps1",
        template="verify-adfs.ps1.j2",
        machine="The AD FS server where the AD FS scripts ran, in an elevated Windows PowerShell",
        run_order=RUN_ORDER_VERIFY_ADFS,
        purpose=("Read-only check on the AD FS farm after the change: each relying party trust the AD FS scripts "
                 "add or change exists with its identifiers, is enabled and has the claim rules and the MFA (rule or "
                 "access control policy) the plan asks for; writes verify-adfs.csv"),
        purpose_extra=lambda plan: ("; and the Skype for Business OAuth trust of Modern Authentication holds every "
                                    "pool's web services URLs, is enabled and has the plan's MFA"
                                    if adfs_oauth_applies(plan) else ""),
        check_after="Every line says PASS; keep verify-adfs.csv with the change record",
        applies=verify_adfs_applies,
        context=verify_adfs_context,
        read_only=True,
    ),
    Artifact(
        key="rollback_lync",
        filename="rollback-lync.ps1",
        template="rollback-lync.ps1.j2",
        machine="The Front End server where lync-management-shell.ps1 ran, in the Lync/SfB Management Shell",
        run_order=RUN_ORDER_ROLLBACK_LYNC,
        purpose=("Only if the change must be undone (users cannot sign in, verify-*.ps1 fails and cannot be fixed "
                 "forward): restores the Lync/SfB settings saved by lync-management-shell.ps1 and removes the "
                 "collections it created. Run it beside lync-management-shell.ps1, first with -WhatIf: it takes the "
                 "newest completed real run (never a -WhatIf run) and says which folder it used; -BackupFolder "
                 "backup\\<stamp>-lync names another"),
        check_after=("Get-CsWebServiceConfiguration, Get-CsProxyConfiguration and Get-CsMobilityPolicy show the values "
                     "of the backup; external clients sign in as before the change"),
        applies=lync_applies,
        context=rollback_lync_context,
    ),
    Artifact(
        key="rollback_adfs",
        filename="rollback-adfs.ps1",
        template="rollback-adfs.ps1.j2",
        machine="The AD FS server where adfs-server.ps1 ran, in an elevated Windows PowerShell",
        run_order=RUN_ORDER_ROLLBACK_ADFS,
        purpose=("Only if the change must be undone, after rollback-lync.ps1: restores the relying-party trust rules "
                 "saved by adfs-server.ps1 and removes the trusts it added. Run it beside adfs-server.ps1, first "
                 "with -WhatIf: it takes the newest completed real run (never a -WhatIf run) and says which folder "
                 "it used; -BackupFolder backup\\<stamp>-adfs names another"),
        check_after="Get-AdfsRelyingPartyTrust shows the saved rules again and no trust the change added",
        applies=adfs_applies,
        context=rollback_adfs_context,
    ),
    Artifact(
        key="rollback_adfs_oauth",
        filename="rollback-adfs-modern-auth.ps1",
        template="rollback-adfs-modern-auth.ps1.j2",
        machine="The AD FS server where adfs-modern-auth.ps1 ran, in an elevated Windows PowerShell",
        run_order=RUN_ORDER_ROLLBACK_ADFS_OAUTH,
        purpose=("Only if the change must be undone, after rollback-lync.ps1: removes the Skype for Business OAuth "
                 "trust the change made (and says what else Microsoft's script may have made), or restores the "
                 "identifiers and MFA saved by adfs-modern-auth.ps1. Run it beside adfs-modern-auth.ps1, first with "
                 "-WhatIf: it takes the newest completed real run and says which folder it used; -BackupFolder "
                 "backup\\<stamp>-adfs_oauth names another"),
        check_after="The trust is gone, or shows the identifiers and MFA of the backup again",
        applies=adfs_oauth_applies,
        context=rollback_adfs_oauth_context,
    ),
]
