"""The `Artifact` type and the core artifacts: the AD FS server script and the
Lync/SfB Management Shell script.

Each artifact's `context(plan)` does the thinking (which commands, which values);
the templates only lay the values out through the `ps_*` filters.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wizard.caches import per_object
from wizard.plan.model import AUTH_MODES, MOBILITY_SETTINGS, PlanData, Pool

# Run-order bands, so artifacts from different files interleave predictably:
# 10-19 certificates, 20-29 DNS and reverse proxy, 30-39 AD FS, 40-49 Lync/SfB,
# 80-89 verification, 90-99 rollback (run only when needed).
RUN_ORDER_ADFS = 30
RUN_ORDER_LYNC = 40


@dataclass(frozen=True)
class Artifact:
    """One generated file: what it is, where it runs, and how it is built from a plan.

    `filename` is a fixed name or a function of the plan; `applies(plan)` says
    whether the plan needs the file at all; `context(plan)` returns the values
    the template lays out (the renderer adds `header` and `artifact`).
    `read_only` marks a script that changes nothing (a check): the runbook
    then does not ask for a `-WhatIf` run first.
    """

    key: str
    filename: str | Callable[[PlanData], str]
    template: str
    machine: str
    run_order: int
    purpose: str
    check_after: str
    applies: Callable[[PlanData], bool]
    context: Callable[[PlanData], dict[str, Any]]
    read_only: bool = False

    def output_name(self, plan: PlanData) -> str:
        """Return the file name for `plan`."""
        return self.filename(plan) if callable(self.filename) else self.filename

    def describe(self, plan: PlanData) -> dict[str, Any]:
        """Return the artifact's description as plain values (for headers and the runbook)."""
        return {
            "key": self.key, "filename": self.output_name(plan), "machine": self.machine,
            "run_order": self.run_order, "purpose": self.purpose, "check_after": self.check_after,
            "read_only": self.read_only,
        }


# ---------------------------------------------------------------------------
# AD FS claim rules. Claim types are opaque http:// URIs: the https:// form seen
# in some Microsoft pages is a link-rewrite bug and matches no claim.

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
PASSIVE_METADATA_PATH = "/passiveauth/federationmetadata/2007-06/federationmetadata.xml"

# Management Shell module per product: the Lync Server 2013 module is `Lync`.
SHELL_MODULES = {"lync2013": "Lync", "sfb2015": "SkypeForBusiness", "sfb2019": "SkypeForBusiness"}


def rp_metadata_url(web_fqdn: str) -> str:
    """Return the Lync passive-auth metadata URL AD FS reads for a web services FQDN."""
    return f"https://{web_fqdn}{PASSIVE_METADATA_PATH}"


# ---------------------------------------------------------------------------
# AD FS server script


def adfs_applies(plan: PlanData) -> bool:
    """Return True when the plan has passive pools (and so an AD FS farm)."""
    return plan.adfs is not None and bool(plan.passive_pools)


def adfs_context(plan: PlanData) -> dict[str, Any]:
    """Return the AD FS script's values: version handling, relying parties, rules and MFA."""
    return dict(_adfs_context(plan))


# The AD FS script, its rollback and `applies` ask for the same values: computed once per plan object.
@per_object()
def _adfs_context(plan: PlanData) -> dict[str, Any]:
    adfs = plan.adfs
    if adfs is None:
        raise ValueError("the AD FS script needs the plan's adfs section")
    version = adfs.version
    uses_acp = version in ACP_VERSIONS
    mfa_rule = None
    if version == "2012r2" and adfs.mfa == "extranet":
        mfa_rule = MFA_EXTRANET_RULE
    elif version == "2012r2" and adfs.mfa == "always":
        mfa_rule = MFA_ALWAYS_RULE
    relying_parties = []
    for pool in plan.passive_pools:
        names = pool.rp_names
        relying_parties.append({
            "name": names.internal, "side": "internal", "pool": pool.fqdn, "web_fqdn": pool.internal_web,
            "metadata_url": rp_metadata_url(pool.internal_web),
        })
        if pool.external_web_fqdn:
            relying_parties.append({
                "name": names.external, "side": "external", "pool": pool.fqdn, "web_fqdn": pool.external_web_fqdn,
                "metadata_url": rp_metadata_url(pool.external_web_fqdn),
            })
    return {
        "product_label": plan.product_label,
        "adfs_version": version,
        "snapin": version == "2.0",
        "federation_service_name": adfs.federation_service_name,
        "check_farm_name": version != "2.0",
        "mfa": adfs.mfa,
        "mfa_unsupported": version == "2.0" and adfs.mfa != "none",
        "mfa_rule": mfa_rule,
        "needs_mfa_provider": version != "2.0" and adfs.mfa != "none",
        "access_control_policy": ACCESS_CONTROL_POLICIES[adfs.mfa] if uses_acp else None,
        "authorization_rules": None if uses_acp else ISSUANCE_AUTHORIZATION_RULES,
        "transform_rules": ISSUANCE_TRANSFORM_RULES,
        "relying_parties": relying_parties,
    }


# ---------------------------------------------------------------------------
# Lync/SfB Management Shell script


def _web_service(plan: PlanData, pool: Pool) -> dict[str, Any] | None:
    """Return the web service settings for one pool, or None when the plan changes nothing there."""
    auth = pool.auth
    if auth is None:
        return None
    hours = auth.client_certificate_hours
    passive = auth.external == "passive"
    certificate_auth = auth.certificate_auth
    if auth.external == "tls_dsk" and not certificate_auth:
        # TLS-DSK is certificate sign-in: turning certificates off would lock out every external client.
        raise ValueError(f"pool {pool.fqdn}: TLS-DSK needs certificate authentication on")
    if auth.external == "ntlm" and hours is None and certificate_auth:
        # Nothing to change: a service-scope collection would only reset other settings to defaults.
        return None
    if passive and plan.adfs is None:
        raise ValueError(f"pool {pool.fqdn}: passive authentication needs the AD FS farm")
    return {
        "identity": pool.web_service_identity,
        "pool": pool.fqdn,
        "mode": auth.external,
        "mode_label": AUTH_MODES[auth.external],
        "passive": passive,
        "metadata_url": plan.adfs.metadata_url if passive and plan.adfs else None,
        "certificate_auth": certificate_auth,
        "hours": None if hours is None else {"default": hours.default, "min": hours.min, "max": hours.max},
    }


def _proxies(plan: PlanData) -> list[dict[str, Any]]:
    out = []
    for pool in plan.pools:
        auth = pool.auth
        # An NTLM pool keeps NTLM: the Registrar setting is only honoured for TLS-DSK and passive pools.
        if auth and auth.external != "ntlm" and auth.block_ntlm_at_registrar:
            out.append({"identity": pool.registrar_identity, "role": "Registrar", "fqdn": pool.fqdn})
    for edge in plan.edge_pools:
        if edge.block_ntlm:
            out.append({"identity": edge.proxy_identity, "role": "Edge", "fqdn": edge.fqdn})
    return out


def _mobility(plan: PlanData) -> list[dict[str, Any]]:
    out = []
    for policy in plan.mobility_policies:
        settings = {param: value for _, param, value in policy.settings()}
        if policy.scope == "global" and not settings:
            continue
        entry: dict[str, Any] = {
            "identity": policy.identity,
            "scope": policy.scope,
            "site": policy.identity.partition(":")[2] if policy.scope == "site" else None,
            "any": bool(settings),
        }
        # Every parameter the template knows, None when the plan leaves it alone.
        for param in MOBILITY_PARAMETERS:
            entry[param] = settings.get(param)
        out.append(entry)
    return out


# Every Set-/New-CsMobilityPolicy parameter a plan can name, in the plan's order.
MOBILITY_PARAMETERS = tuple(MOBILITY_SETTINGS.values())


# Mobility parameters Lync Server 2013 only has after a cumulative update (domain notes, section 3).
LYNC2013_CU_MOBILITY_PARAMETERS = (
    "AllowSaveCredentials", "AllowExchangeConnectivity", "AllowSaveIMHistory", "AllowSaveCallLogs",
    "AllowCustomerExperienceImprovementProgram", "RequireWiFiForSharing",
)


def _cu_checks(plan: PlanData, mobility: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Return the (cmdlet, parameter) pairs the script must find before it changes anything."""
    if plan.product != "lync2013":
        return []
    checks: list[dict[str, str]] = []
    for param in LYNC2013_CU_MOBILITY_PARAMETERS:
        users = [m for m in mobility if m[param] is not None]
        cmdlets = ["Set-CsMobilityPolicy"] if users else []
        if any(m["scope"] != "global" for m in users):
            cmdlets.append("New-CsMobilityPolicy")
        checks.extend({"cmdlet": cmdlet, "parameter": param} for cmdlet in cmdlets)
    return checks


def lync_context(plan: PlanData) -> dict[str, Any]:
    """Return the Management Shell script's values: web services, proxies, mobility policies, checks."""
    return dict(_lync_context(plan))


# Asked for by the Management Shell script, its verification and rollback and two `applies`
# checks: computed once per plan object (the nested values are shared: read-only).
@per_object()
def _lync_context(plan: PlanData) -> dict[str, Any]:
    web_services = [w for w in (_web_service(plan, p) for p in plan.pools) if w is not None]
    proxies = _proxies(plan)
    mobility = _mobility(plan)
    topology: list[str] = []
    for fqdn in [w["pool"] for w in web_services] + [p["fqdn"] for p in proxies]:
        if fqdn not in topology:
            topology.append(fqdn)
    sites: list[str] = []
    for m in mobility:
        if m["site"] is not None and m["site"] not in sites:
            sites.append(m["site"])
    return {
        "product": plan.product,
        "product_label": plan.product_label,
        "module": SHELL_MODULES[plan.product],
        "topology": topology,
        "sites": sites,
        "web_services": web_services,
        "proxies": proxies,
        "mobility": mobility,
        "parameter_checks": _cu_checks(plan, mobility),
    }


def lync_applies(plan: PlanData) -> bool:
    """Return True when the plan changes anything in the Lync/SfB configuration store."""
    ctx = lync_context(plan)
    return bool(ctx["web_services"] or ctx["proxies"] or ctx["mobility"])


ARTIFACTS: list[Artifact] = [
    Artifact(
        key="adfs",
        filename="adfs-server.ps1",
        template="adfs-server.ps1.j2",
        machine="AD FS server (primary) of the farm, in an elevated Windows PowerShell",
        run_order=RUN_ORDER_ADFS,
        purpose="Create the Lync/SfB relying party trusts with their claim rules and MFA",
        check_after=(
            "Get-AdfsRelyingPartyTrust lists each Lync relying party as enabled with its claim rules; "
            "signing in to https://<external web services FQDN>/passiveauth from outside redirects to AD FS"
        ),
        applies=adfs_applies,
        context=adfs_context,
    ),
    Artifact(
        key="lync",
        filename="lync-management-shell.ps1",
        template="lync-management-shell.ps1.j2",
        machine="Lync/SfB Management Shell on a Front End server (member of RTCUniversalServerAdmins)",
        run_order=RUN_ORDER_LYNC,
        purpose="Set web service authentication, Edge and Registrar proxy authentication and mobility policies",
        check_after=(
            "Get-CsWebServiceConfiguration, Get-CsProxyConfiguration and Get-CsMobilityPolicy show the new values; "
            "an external test client signs in with the method the plan chose; wait for replication "
            "(Get-CsManagementStoreReplicationStatus) before testing"
        ),
        applies=lync_applies,
        context=lync_context,
    ),
]
