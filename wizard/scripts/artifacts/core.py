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
from wizard.plan.exposure import accepts_outside_plan, mfa_promised
from wizard.plan.intended import (
    ISSUANCE_AUTHORIZATION_RULES,
    ISSUANCE_TRANSFORM_RULES,
    PROXY_INHERITED,
    WEB_INHERITED,
    WEB_INHERITED_LATER,
    WEB_SET_ONLY_INHERITED,
    WEB_SET_ONLY_PRODUCTS,
    mfa_rule,
    mobile_preferred_refused,
)
from wizard.plan.model import (
    ACCESS_CONTROL_POLICIES,
    ACP_ADFS_VERSIONS,
    ADFS_OAUTH_SETUP_DOWNLOAD,
    ADFS_OAUTH_SETUP_SCRIPTS,
    HYBRID_OAUTH_SERVER_TYPE,
    LYNC2013_CU_MOBILITY_SETTINGS,
    MOBILITY_SETTINGS,
    MODERN_AUTH_ADFS_VERSIONS,
    OAUTH_SERVER_TYPE,
    PRODUCT_FACTS,
    AuthMode,
    PlanData,
    Pool,
    passive_metadata_url,
)

# Run-order bands, so artifacts from different files interleave predictably:
# 10-19 certificates, 20-29 DNS and reverse proxy, 30-39 AD FS, 40-49 Lync/SfB,
# 80-89 verification, 90-99 rollback (run only when needed).
RUN_ORDER_ADFS = 30
RUN_ORDER_ADFS_OAUTH = 31
RUN_ORDER_LYNC = 40


@dataclass(frozen=True)
class Artifact:
    """One generated file: what it is, where it runs, and how it is built from a plan.

    `filename` is a fixed name or a function of the plan; `applies(plan)` says
    whether the plan needs the file at all; `context(plan)` returns the values
    the template lays out (the renderer adds `header` and `artifact`).
    `read_only` marks a script that changes nothing (a check): the runbook
    then does not ask for a `-WhatIf` run first. `portable` marks a script that
    does not depend on the plan and runs on any product and AD FS version (the
    state collector): the verifier checks it against every one of them.
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
    portable: bool = False
    # What the artifact also does for some plans, appended to `purpose` (the Management Shell script's Modern
    # Authentication part).
    purpose_extra: Callable[[PlanData], str] | None = None
    # What `check_after` adds for some plans (the DNS records: verify-external.ps1 checks them, where the bundle
    # has it).
    check_after_extra: Callable[[PlanData], str] | None = None

    def output_name(self, plan: PlanData) -> str:
        """Return the file name for `plan`."""
        return self.filename(plan) if callable(self.filename) else self.filename

    def describe(self, plan: PlanData) -> dict[str, Any]:
        """Return the artifact's description as plain values (for headers and the runbook)."""
        return {
            "key": self.key, "filename": self.output_name(plan), "machine": self.machine,
            "run_order": self.run_order,
            "purpose": self.purpose + (self.purpose_extra(plan) if self.purpose_extra is not None else ""),
            "check_after": self.check_after + (self.check_after_extra(plan) if self.check_after_extra is not None
                                               else ""),
            "read_only": self.read_only,
        }


# The AD FS claim rules are part of what a plan sets: they live with the plan's intended
# settings (wizard.plan.intended).

# Management Shell module per product (the model's table): the Lync Server 2013 module is `Lync`.
SHELL_MODULES = {product: facts.shell_module for product, facts in PRODUCT_FACTS.items()}


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
    uses_acp = version in ACP_ADFS_VERSIONS
    rule = mfa_rule(version, adfs.mfa)
    relying_parties = []
    for pool in plan.passive_pools:
        names = pool.rp_names
        relying_parties.append({
            "name": names.internal, "side": "internal", "pool": pool.fqdn, "web_fqdn": pool.internal_web,
            "metadata_url": passive_metadata_url(pool.internal_web),
        })
        if pool.external_web_fqdn:
            relying_parties.append({
                "name": names.external, "side": "external", "pool": pool.fqdn, "web_fqdn": pool.external_web_fqdn,
                "metadata_url": passive_metadata_url(pool.external_web_fqdn),
            })
    return {
        "product_label": plan.product_label,
        "adfs_version": version,
        "snapin": version == "2.0",
        "federation_service_name": adfs.federation_service_name,
        "mfa": adfs.mfa,
        "mfa_unsupported": version == "2.0" and adfs.mfa != "none",
        "mfa_rule": rule,
        "needs_mfa_provider": version != "2.0" and adfs.mfa != "none",
        "access_control_policy": ACCESS_CONTROL_POLICIES[adfs.mfa] if uses_acp else None,
        "authorization_rules": None if uses_acp else ISSUANCE_AUTHORIZATION_RULES,
        "transform_rules": ISSUANCE_TRANSFORM_RULES,
        "relying_parties": relying_parties,
    }


# ---------------------------------------------------------------------------
# AD FS server script for Modern Authentication


def oauth_pool_ids(plan: PlanData) -> list[str]:
    """Return every pool's internal and external web services URL, in plan order: what Microsoft's setup script
    takes as -poolIDs, and the identifiers of the trust it makes."""
    out: list[str] = []
    for pool in plan.pools:
        for name in (pool.internal_web, pool.external_web_fqdn):
            url = f"https://{name}" if name else None
            if url and url not in out:
                out.append(url)
    return out


def adfs_oauth_applies(plan: PlanData) -> bool:
    """Return True when the plan turns Modern Authentication on through an AD FS farm that can issue OAuth tokens."""
    return plan.modern_auth is not None and plan.adfs is not None and plan.adfs.version in MODERN_AUTH_ADFS_VERSIONS


def adfs_oauth_context(plan: PlanData) -> dict[str, Any]:
    """Return the AD FS Modern Authentication script's values: Microsoft's setup script, the pool URLs, MFA."""
    adfs = plan.adfs
    if adfs is None or plan.modern_auth is None or adfs.version not in MODERN_AUTH_ADFS_VERSIONS:
        raise ValueError("the AD FS Modern Authentication script needs modern_auth and AD FS 2012 R2 or later")
    uses_acp = adfs.version in ACP_ADFS_VERSIONS
    mfa = adfs.mfa != "none"
    return {
        "product_label": plan.product_label,
        "adfs_version": adfs.version,
        "federation_service_name": adfs.federation_service_name,
        "setup_script": ADFS_OAUTH_SETUP_SCRIPTS[adfs.version],
        "download": ADFS_OAUTH_SETUP_DOWNLOAD,
        "pool_ids": oauth_pool_ids(plan),
        "anchor": oauth_pool_ids(plan)[0],
        # AD FS 2016 and later have application groups: Microsoft's script may make a Web API application.
        "web_api": uses_acp,
        # The script Microsoft gives for a farm with application groups, named when a 2012 R2 plan meets one.
        "application_groups_setup_script": ADFS_OAUTH_SETUP_SCRIPTS[ACP_ADFS_VERSIONS[0]],
        "uses_acp": uses_acp,
        "mfa": adfs.mfa,
        "access_control_policy": ACCESS_CONTROL_POLICIES[adfs.mfa] if uses_acp and mfa else None,
        "mfa_rule": mfa_rule(adfs.version, adfs.mfa),
        "needs_mfa_provider": mfa,
    }


# ---------------------------------------------------------------------------
# Lync/SfB Management Shell script


def _web_service(plan: PlanData, pool: Pool) -> dict[str, Any] | None:
    """Return the web service settings for one pool, or None when the plan changes nothing there."""
    auth = pool.auth
    if auth is None:
        return None
    hours = auth.client_certificate_hours
    mode = auth.external
    passive = mode.needs_adfs
    certificate_auth = auth.certificate_auth
    if mode.certificate_sign_in_only and not certificate_auth:
        # TLS-DSK is certificate sign-in: turning certificates off would lock out every external client.
        raise ValueError(f"pool {pool.fqdn}: TLS-DSK needs certificate authentication on")
    # Passive turns PIN off with Windows authentication; block_pin_auth adds it to the other modes.
    block_pin = auth.block_pin_auth and not passive
    if not (passive or mode.certificate_sign_in_only) and hours is None and certificate_auth and not block_pin:
        # Nothing to change: a service-scope collection would only reset other settings to defaults.
        return None
    if passive and plan.adfs is None:
        raise ValueError(f"pool {pool.fqdn}: passive authentication needs the AD FS farm")
    sets = _web_parameters(passive, hours is not None, block_pin)
    return {
        "identity": pool.web_service_identity,
        "pool": pool.fqdn,
        "mode": mode.value,
        "mode_label": mode.label,
        "wsfed_passive": passive,
        "certificate_sign_in_only": mode.certificate_sign_in_only,
        "metadata_url": plan.adfs.metadata_url if passive and plan.adfs else None,
        "certificate_auth": certificate_auth,
        "block_pin": block_pin,
        "hours": None if hours is None else {"default": hours.default, "min": hours.min, "max": hours.max},
        # A collection the script creates takes these from the collection that applied until then (its site's in
        # the topology, read at run time, else the global one).
        "inherit": [param for param, products in WEB_INHERITED if plan.product in products and param not in sets],
        # A passive pool's authentication is the plan's alone (an inherited override could even turn passive off).
        "inherit_set_only": list(WEB_SET_ONLY_INHERITED) if plan.product in WEB_SET_ONLY_PRODUCTS and not passive
        else [],
        # The MobilePreferredAuthType values that would name a method the plan turns off here: the script stops
        # before its first change when the collection that applies to the pool names one.
        "mobile_refused": [value for value, _ in mobile_preferred_refused(plan, pool)],
    }


def _web_parameters(passive: bool, hours: bool, block_pin: bool = False) -> set[str]:
    """Return the Set-/New-CsWebServiceConfiguration parameters the script sets for one pool."""
    params = {"UseCertificateAuth"}
    if passive:
        params |= {"UseWsFedPassiveAuth", "WsFedPassiveMetadataUri", "UseWindowsAuth", "UsePinAuth"}
    if block_pin:
        # Set by the plan, so a collection the script creates does not copy it from its parent.
        params.add("UsePinAuth")
    if hours:
        params |= {"DefaultValidityPeriodHours", "MinValidityPeriodHours", "MaxValidityPeriodHours"}
    return params


def _proxies(plan: PlanData) -> list[dict[str, Any]]:
    out = []
    for pool in plan.pools:
        auth = pool.auth
        if not (auth and auth.block_ntlm_at_registrar):
            continue
        if auth.external is AuthMode.NTLM:
            # Never dropped silently: the findings refuse this plan (registrar_block_on_ntlm_pool).
            raise ValueError(f"pool {pool.fqdn}: an NTLM pool cannot block NTLM at its Registrar")
        out.append({"identity": pool.registrar_identity, "role": "Registrar", "fqdn": pool.fqdn,
                    "inherit": list(PROXY_INHERITED)})
    for edge in plan.edge_pools:
        if edge.block_ntlm:
            out.append({"identity": edge.proxy_identity, "role": "Edge", "fqdn": edge.fqdn,
                        "inherit": list(PROXY_INHERITED)})
    return out


def _mobility(plan: PlanData) -> list[dict[str, Any]]:
    out = []
    # A new site or tag policy starts from the product's defaults: it gets the plan's Global settings it
    # does not set itself, so Global's hardening reaches its users too.
    global_policy = next((p for p in plan.mobility_policies if p.scope == "global"), None)
    carried = {key: value for key, _, value in global_policy.settings()} if global_policy is not None else {}
    for policy in plan.mobility_policies:
        # (cmdlet parameter, value) for each setting the plan names, in MOBILITY_SETTINGS order.
        settings = [{"parameter": param, "value": value} for _, param, value in policy.settings()]
        if policy.scope == "global" and not settings:
            continue
        own = {key: value for key, _, value in policy.settings()}
        new_settings = settings
        if policy.scope != "global":
            new_settings = [{"parameter": param, "value": own.get(key, carried.get(key))}
                            for key, param in MOBILITY_SETTINGS.items() if key in own or key in carried]
        out.append({
            "identity": policy.identity,
            "scope": policy.scope,
            "site": policy.identity.partition(":")[2] if policy.scope == "site" else None,
            "tag": policy.identity.partition(":")[2] if policy.scope == "tag" else None,
            "any": bool(settings),
            "settings": settings,
            "new_settings": new_settings,
            "carries_global": new_settings != settings,
        })
    return out


def mobility_parameters(entry: dict[str, Any]) -> list[str]:
    """Return the cmdlet parameters a mobility entry of `lync_context` sets, in table order."""
    return [s["parameter"] for s in entry["settings"]]




# Mobility parameters Lync Server 2013 only has after a cumulative update.
LYNC2013_CU_MOBILITY_PARAMETERS = tuple(MOBILITY_SETTINGS[key] for key in LYNC2013_CU_MOBILITY_SETTINGS)


# What the script checks before its first change when passive authentication needs a cumulative update
# (Lync Server 2013 before the July 2013 update has no -UseWsFedPassiveAuth).
PASSIVE_PARAMETER_CHECKS: tuple[tuple[str, str], ...] = (
    ("Set-CsWebServiceConfiguration", "UseWsFedPassiveAuth"),
    ("New-CsWebServiceConfiguration", "UseWsFedPassiveAuth"),
)
_PASSIVE_CU = ("Lync Server 2013 has it from the July 2013 cumulative update on: install the latest cumulative update "
               "first.")
_MOBILITY_CU = ("Lync Server 2013 has it only with a later cumulative update: install the latest cumulative update "
                "first.")
_INHERIT_CU = ("A web service collection this script creates copies that setting from the collection that applies "
               "until now, so this shell's cmdlets are older than the plan's product needs: install the latest "
               "cumulative update first.")


def _modern_auth_cu(plan: PlanData) -> str:
    facts = plan.product_facts
    if facts.modern_auth_cu:
        return f"{facts.label} has it from {facts.modern_auth_cu} on: install the latest cumulative update first."
    return f"{facts.label} has it from release: check that this is that product's Management Shell."


def _auth_config_cu(plan: PlanData) -> str:
    facts = plan.product_facts
    if facts.auth_config_cu:
        return f"{facts.label} has it from {facts.auth_config_cu} on: install the latest cumulative update first."
    return f"{facts.label} has it from release: check that this is that product's Management Shell."


def _cu_checks(plan: PlanData, web_services: list[dict[str, Any]],
               mobility: list[dict[str, Any]], modern: dict[str, Any] | None) -> list[dict[str, str]]:
    """Return the (cmdlet, parameter, why) the script must find before it changes anything."""
    checks: list[dict[str, str]] = []
    later = sorted({param for w in web_services for param in w["inherit"] if param in WEB_INHERITED_LATER})
    checks.extend({"cmdlet": "New-CsWebServiceConfiguration", "parameter": param, "why": _INHERIT_CU}
                  for param in later)
    if any(w["wsfed_passive"] for w in web_services) and AuthMode.PASSIVE.needs_cu(plan.product):
        checks.extend({"cmdlet": cmdlet, "parameter": param, "why": _PASSIVE_CU}
                      for cmdlet, param in PASSIVE_PARAMETER_CHECKS)
    if modern is not None:
        why = _modern_auth_cu(plan)
        # -Type is always written; -AcceptSecurityIdentifierInformation only when the plan sets it.
        params = ["Type"] + (["AcceptSecurityIdentifierInformation"] if modern["accept_sid"] is not None else [])
        for cmdlet in ("New-CsOAuthServer", "Set-CsOAuthServer"):
            checks.extend({"cmdlet": cmdlet, "parameter": param, "why": why} for param in params)
        checks.append({"cmdlet": "Set-CsOAuthConfiguration", "parameter": "ClientAuthorizationOAuthServerIdentity",
                       "why": why})
    if plan.product != "lync2013":
        return checks
    for param in LYNC2013_CU_MOBILITY_PARAMETERS:
        sets = any(param in mobility_parameters(m) for m in mobility)
        creates = any(m["scope"] != "global" and param in [s["parameter"] for s in m["new_settings"]]
                      for m in mobility)
        cmdlets = (["Set-CsMobilityPolicy"] if sets else []) + (["New-CsMobilityPolicy"] if creates else [])
        checks.extend({"cmdlet": cmdlet, "parameter": param, "why": _MOBILITY_CU} for cmdlet in cmdlets)
    return checks


def _cmdlet_checks(plan: PlanData, modern: dict[str, Any] | None) -> list[dict[str, str]]:
    """Return the cmdlets the script must find before it changes anything (beyond the module's own)."""
    if modern is None:
        return []
    why = _modern_auth_cu(plan)
    out = [{"cmdlet": name, "why": why} for name in
           ("Get-CsOAuthServer", "New-CsOAuthServer", "Set-CsOAuthServer", "Get-CsOAuthConfiguration",
            "Set-CsOAuthConfiguration")]
    if modern["scenario"] is not None:
        out += [{"cmdlet": name, "why": _auth_config_cu(plan)} for name in ("Get-CsAuthConfig", "Set-CsAuthConfig")]
    return out


def modern_auth_context(plan: PlanData) -> dict[str, Any] | None:
    """Return what the Management Shell script sets for Modern Authentication, or None without it.

    The OAuth server (New-CsOAuthServer, or Set-CsOAuthServer when it exists), the global OAuth
    configuration's client authorization server and the Set-CsAuthConfig scenario, whose enumeration
    name the script finds at run time with `pattern`.
    """
    ma = plan.modern_auth
    identity = plan.oauth_server_identity
    if ma is None or plan.adfs is None or identity is None:
        return None
    scenario = ma.scenario
    return {
        "identity": identity,
        "type": OAUTH_SERVER_TYPE,
        # A client authorization server of this type is hybrid Modern Authentication: the script stops on it.
        "hybrid_type": HYBRID_OAUTH_SERVER_TYPE,
        "metadata_url": plan.adfs.metadata_url,
        "accept_sid": ma.accept_sid_claims,
        # Every pool the AD FS trust names: the topology may have no other (the pre-check says so).
        "pools": [p.fqdn for p in plan.pools],
        "scenario": None if scenario is None else {
            "value": scenario.value, "label": scenario.label, "pattern": scenario.facts.enum_pattern,
        },
    }


def _version_check(plan: PlanData) -> dict[str, Any]:
    """Return how the script tells the product from Get-CsServerVersion (`min`/`max` of the major version)."""
    facts = plan.product_facts
    if facts.version_major is not None and plan.product != "sfb2019":
        low, high = facts.version_major, facts.version_major
    else:
        # 2019 and Subscription Edition: Subscription Edition keeps 2019's version prefix (secondary sources), and
        # whether a later one reports 8 is not known, so neither refuses a newer major version.
        low, high = PRODUCT_FACTS["sfb2019"].version_major or 7, None
    # `max` is either None (no upper bound) or `min` (exactly that major version).
    return {
        "min": low, "max": high,
        "subscription_edition": plan.product == "sfbse",
        "is_2019": plan.product == "sfb2019",
    }


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
    modern = modern_auth_context(plan)
    return {
        "product": plan.product,
        "product_label": plan.product_label,
        "module": SHELL_MODULES[plan.product],
        "module_verified": plan.product_facts.module_verified,
        "version": _version_check(plan),
        "topology": topology,
        "sites": sites,
        "web_services": web_services,
        # The pools whose MobilePreferredAuthType must not name a method the plan turns off there.
        "mobile_checks": [w for w in web_services if w["mobile_refused"]],
        "proxies": proxies,
        "mobility": mobility,
        "modern_auth": modern,
        # An MFA promise covers the plan's pools only: the script stops before it changes anything on a pool or Edge
        # pool of the topology the plan does not list, unless the plan accepts that risk (then it names them with a
        # warning). The findings say the same without a state file: mfa_topology_unchecked.
        # With Modern Authentication a pool outside the plan stops the script whatever the plan accepts (its users
        # could not sign in at all): that check comes with the Modern Authentication ones, so only Edges here.
        "mfa_topology": {"pools": [p.fqdn for p in plan.pools], "edges": [e.fqdn for e in plan.edge_pools],
                         "check_pools": plan.modern_auth is None,
                         "pools_accepted": accepts_outside_plan(plan, "pools"),
                         "edges_accepted": accepts_outside_plan(plan, "edge_pools")}
        if mfa_promised(plan) else None,
        # Passive pools on a product that has Modern Authentication: the script stops when it is on already.
        "check_no_modern_auth": plan.product_facts.modern_auth and any(w["wsfed_passive"] for w in web_services),
        "cmdlet_checks": _cmdlet_checks(plan, modern),
        "parameter_checks": _cu_checks(plan, web_services, mobility, modern),
    }


def runbook_steps_after(plan: PlanData, key: str) -> list[dict[str, Any]]:
    """Return the runbook steps that come right after artifact `key` and have no file of their own: after the
    Management Shell script, Enable-CsComputer on every server when the plan sets a Set-CsAuthConfig scenario."""
    if key != "lync" or plan.modern_auth_scenario is None:
        return []
    pools = [p.fqdn for p in plan.pools]
    # The scenario is set at the global level: it reaches every pool of the topology, not only the plan's.
    return [{
        "key": "enable_cscomputer", "filename": "", "command": "Enable-CsComputer",
        "machine": ("Every Front End and Director server of every pool in the topology (the scenario is global), "
                    "not only of the pools this plan names (" + ", ".join(pools) + "), one after the other, in the "
                    "Lync/SfB Management Shell (it acts on the computer it runs on only)"),
        "purpose": "Make the new authentication scenario take effect on each server",
        "check_after": ("Enable-CsComputer ends without an error on every server; then verify-internal.ps1 shows the "
                        "scenario (Get-CsAuthConfig) and, with -OAuthTestUser, a Modern Authentication sign-in"),
        "read_only": False, "is_script": False,
    }]


def lync_applies(plan: PlanData) -> bool:
    """Return True when the plan changes anything in the Lync/SfB configuration store."""
    ctx = lync_context(plan)
    return bool(ctx["web_services"] or ctx["proxies"] or ctx["mobility"] or ctx["modern_auth"])


ARTIFACTS: list[Artifact] = [
    Artifact(
        key="adfs",
        filename="adfs-server.ps1",
        template="adfs-server.ps1.j2",
        machine="AD FS server (primary) of the farm, in an elevated Windows PowerShell",
        run_order=RUN_ORDER_ADFS,
        purpose="Create the Lync/SfB relying party trusts with their claim rules and MFA",
        check_after=(
            "Get-AdfsRelyingPartyTrust lists each Lync relying party as enabled with its claim rules. Sign-in "
            "through AD FS only starts once lync-management-shell.ps1 (the next step) turns passive "
            "authentication on, so test it after that step"
        ),
        applies=adfs_applies,
        context=adfs_context,
    ),
    Artifact(
        key="adfs_oauth",
        filename="adfs-modern-auth.ps1",
        template="adfs-modern-auth.ps1.j2",
        machine=("AD FS server (primary) of the farm, in an elevated Windows PowerShell, with Microsoft's "
                 "Skype for Business OAuth setup script beside this one"),
        run_order=RUN_ORDER_ADFS_OAUTH,
        purpose=("Run Microsoft's setup script for the Skype for Business OAuth trust with every pool's web services "
                 "URLs, and set MFA on the trust it makes"),
        check_after=(
            "Get-AdfsRelyingPartyTrust (or, on AD FS 2016 and later, Get-AdfsWebApiApplication) lists the trust with "
            "every pool's internal and external web services URL as identifiers, and the MFA the plan asks for. "
            "Modern Authentication only starts once lync-management-shell.ps1 (the next step) sets up the OAuth server"
        ),
        applies=adfs_oauth_applies,
        context=adfs_oauth_context,
    ),
    Artifact(
        key="lync",
        filename="lync-management-shell.ps1",
        template="lync-management-shell.ps1.j2",
        machine="Lync/SfB Management Shell on a Front End server (member of RTCUniversalServerAdmins)",
        run_order=RUN_ORDER_LYNC,
        purpose="Set web service authentication, Edge and Registrar proxy authentication and mobility policies",
        purpose_extra=lambda plan: ("; turn Modern Authentication on (OAuth server, OAuth configuration"
                                    + (", authentication configuration" if plan.modern_auth_scenario else "") + ")"
                                    if plan.modern_auth is not None else ""),
        check_after=(
            "Get-CsWebServiceConfiguration, Get-CsProxyConfiguration and Get-CsMobilityPolicy show the new values; "
            "wait for replication (Get-CsManagementStoreReplicationStatus), then an external test client signs in "
            "with the method the plan chose"
        ),
        # A passive pool signs in through AD FS, which faces the Internet: the bundle then has verify-external.ps1.
        check_after_extra=lambda plan: (", and for a passive pool https://<external web services FQDN>/passiveauth "
                                        "from outside redirects to AD FS (verify-external.ps1 checks it)"
                                        if plan.passive_pools else ""),
        applies=lync_applies,
        context=lync_context,
    ),
]
