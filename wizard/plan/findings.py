"""The findings engine: rules over a validated plan that tell the admin what the
change does, to whom, and what to do first.

Pure Python: no Django, no database. `check_plan` runs every rule in `RULES`, in
order; each rule is a small function whose docstring says what it checks. Codes are
stable and listed, with their severity and subject area, in `FINDING_CODES` and in
docs/findings.md.

Severity:
  error   -- the plan cannot be applied as it stands (the result would not work); blocks rendering.
  warning -- the plan applies, but people lose something or a risk stays open: read and accept it.
  info    -- a prerequisite to check, or what the tool does and why.

Errors raised while reading the plan (`adfs_required`, normalisation notes, ...)
come from wizard/plan/reader.py and are not repeated here.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from wizard.plan.estate import Estate
from wizard.plan.explain import label_for
from wizard.plan.exposure import (
    ACCEPTABLE_RISK_CODES,
    BROKEN_PROMISE_CODES,
    CREDENTIAL_FACTS,
    OUTSIDE_PLAN_RISK_CODES,
    EntryKind,
    Exposure,
    SignInPath,
    accepts_outside_plan,
    accepts_outside_plan_risk,
    broken_promises,
    describe_access,
    exposure,
    mfa_promised,
)
from wizard.plan.finding import Finding
from wizard.plan.intended import WEB_NOT_INHERITED
from wizard.plan.model import (
    ACCESS_CONTROL_POLICIES,
    ACP_ADFS_VERSIONS,
    ADFS_OAUTH_SETUP_DOWNLOAD,
    ADFS_OAUTH_SETUP_SCRIPTS,
    ADFS_VERSIONS,
    LYNC2013_CU_MOBILITY_SETTINGS,
    MOBILITY_SETTINGS,
    MODERN_AUTH_ADFS_VERSIONS,
    MODERN_AUTH_UNSUPPORTED_OFFICE_BUILDS,
    OFFICE2013_ADAL_VALUES,
    PASSIVE_METADATA_PATH,
    PRODUCT_FACTS,
    AuthMode,
    EdgePool,
    PlanData,
    Pool,
    PoolAuth,
    passive_metadata_url,
)
from wizard.plan.publishing import discovery_pool, has_reverse_proxy

# code -> severity. Every finding this module emits uses one of these codes.
FINDING_CODES: dict[str, str] = {
    # Passive (AD FS) pools.
    "passive_pool_wide": "warning",
    "passive_unsupported_clients": "warning",
    "passive_exchange_features_lost": "warning",
    "passive_certificate_auth_kept": "warning",
    "passive_certificate_auth_off": "warning",
    "passive_relying_party_metadata": "warning",
    "passive_external_web_fqdn_missing": "error",
    "passive_same_web_names": "error",
    "passive_modern_auth_conflict": "info",
    "passive_dns_discovery": "info",
    "passive_lwa_domain_auth": "info",
    "web_forms_sign_in_unverified": "warning",
    "passive_pin_auth_off": "info",
    "passive_needs_cu": "warning",
    # Product lifecycle.
    "product_out_of_support": "warning",
    # Modern Authentication through AD FS.
    "modern_auth_product_unsupported": "error",
    "modern_auth_adfs_version": "error",
    "modern_auth_passive_pool": "error",
    "modern_auth_pool_auth_conflict": "error",
    "modern_auth_not_recommended": "warning",
    "modern_auth_clients": "warning",
    "modern_auth_sip_ntlm_inside": "warning",
    "modern_auth_web_pages": "warning",
    "modern_auth_adfs_password_surface": "warning",
    "modern_auth_certificate_auth_kept": "warning",
    "modern_auth_global_scope": "warning",
    "modern_auth_needs_cu": "warning",
    "modern_auth_office2013": "warning",
    "modern_auth_office2013_settings": "info",
    "modern_auth_setup_script": "info",
    "modern_auth_enable_computer": "info",
    "modern_auth_without_mfa": "info",
    "modern_auth_resource_forest": "info",
    # AD FS and MFA.
    "adfs_unused": "info",
    "mfa_without_adfs_sign_in": "error",
    "mfa_adfs20_unsupported": "error",
    "mfa_extranet_only_via_proxy": "warning",
    "mfa_provider_required": "warning",
    "mfa_always_prompts_internal": "warning",
    "mfa_topology_unchecked": "warning",
    "mfa_access_control_policy": "info",
    "mfa_certificates_issued_before": "warning",
    "passive_adfs_password_surface": "warning",
    "adfs_windows_auth_on_internet": "warning",
    # TLS-DSK, Edge and Registrar.
    "edge_ntlm_block_sip_only": "warning",
    "tls_dsk_first_certificate": "warning",
    "tls_dsk_certificate_lifetime": "warning",
    "tls_dsk_unsupported_clients": "warning",
    "edge_block_unsupported_clients": "warning",
    "tls_dsk_edge_not_blocking": "warning",
    "tls_dsk_certificate_auth_off": "error",
    "registrar_ntlm_blocked": "warning",
    "registrar_block_on_ntlm_pool": "error",
    # PIN authentication (block_pin_auth).
    "pin_auth_blocked": "warning",
    "pin_auth_blocked_passive": "info",
    # Certificate authentication off on a pool that is not passive.
    "certificate_auth_off_phones": "warning",
    "certificate_lifetime_short": "warning",
    "certificate_lifetime_long": "warning",
    # NTLM kept.
    "ntlm_exposed": "warning",
    "ntlm_pool_edge_blocks": "warning",
    "edge_ntlm_exposed": "warning",
    "edge_block_not_probed": "warning",
    # Mobility policies.
    "mobility_save_credentials_off": "warning",
    "mobility_parameter_needs_cu": "warning",
    "mobility_exchange_connectivity_off": "info",
    "mobility_disabled": "warning",
    "mobility_outside_voice_without_mobility": "warning",
    "mobility_site_unknown": "warning",
    "mobility_policy_empty": "info",
    "mobility_new_policy_defaults": "warning",
    "mobility_tag_not_granted": "warning",
    # Names and certificates.
    "external_web_same_as_internal": "warning",
    "duplicate_name": "error",
    "sip_domain_no_access_edge": "info",
    "edge_av_equals_access": "warning",
    "autodiscover_names_on_certificate": "info",
    "adfs_on_reverse_proxy": "info",
    "edge_certificate_internal_ca": "warning",
    # Scope.
    "service_scope_only": "info",
    # The exposure model: broken promises (errors a plan may accept) and the matrix (one note per entry point).
    **dict.fromkeys(BROKEN_PROMISE_CODES, "error"),
    "exposure_edge_sip": "info",
    "exposure_registrar": "info",
    "exposure_web_services": "info",
    "exposure_adfs": "info",
    "exposure_certificate": "info",
    # Accepted risks.
    "accepted_risk_unused": "warning",
}
# The notes that make up the exposure matrix (the runbook and the review page draw them as a table).
EXPOSURE_CODES: tuple[str, ...] = ("exposure_edge_sip", "exposure_registrar", "exposure_web_services",
                                   "exposure_adfs", "exposure_certificate")

# Lync Server's own default client certificate lifetime (DefaultValidityPeriodHours).
SERVER_DEFAULT_CERT_HOURS = 4320
# Out of the box a client may ask CertProv for a certificate of up to a year (MaxValidityPeriodHours).
SERVER_MAX_CERT_HOURS = 8760
SHORT_CERT_HOURS = 24

Rule = Callable[[PlanData], Iterator[Finding]]


def _finding(code: str, field: str, message: str) -> Finding:
    """Return a finding whose severity is the one registered for `code`."""
    return Finding(FINDING_CODES[code], code, field, message)


# ---------------------------------------------------------------------------
# Small helpers


def _auth_mode(pool: Pool) -> AuthMode | None:
    return pool.auth.external if pool.auth else None


def _indexed(plan: PlanData, mode: AuthMode) -> Iterator[tuple[int, Pool, PoolAuth]]:
    """Yield (index, pool, its auth) for the pools whose external authentication is `mode`."""
    for i, pool in enumerate(plan.pools):
        if pool.auth is not None and pool.auth.external is mode:
            yield i, pool, pool.auth


def _blocking_edges(plan: PlanData) -> list[EdgePool]:
    return [e for e in plan.edge_pools if e.block_ntlm]


def _names(items: list[str]) -> str:
    """Return 'a', 'a and b' or 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _hours(hours: int) -> str:
    """Return '720 hours (30 days)' or '36 hours'."""
    if hours % 24 == 0:
        days = hours // 24
        return f"{hours} hours ({days} day{'s' if days != 1 else ''})"
    return f"{hours} hours"


def _every(hours: int) -> str:
    """Return '30 days', 'day' or '36 hours' (to follow 'at least every')."""
    if hours % 24 == 0:
        days = hours // 24
        return "day" if days == 1 else f"{days} days"
    return f"{hours} hours"


def _lwa_name(plan: PlanData) -> str:
    return "Lync Web App" if plan.product == "lync2013" else "Skype for Business Web App"


# ---------------------------------------------------------------------------
# Passive (AD FS) pools


def passive_pool_wide(plan: PlanData) -> Iterator[Finding]:
    """Passive authentication is pool-wide, not external-only."""
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        yield _finding(
            "passive_pool_wide", f"pools[{i}].auth.external",
            f"Passive (AD FS) authentication on {pool.fqdn} is a setting of the whole pool: it applies to every "
            f"user homed on the pool and to every sign-in through its web services, inside the network as well as "
            f"from the Internet. Agree a switch-over date with those users before running the scripts.",
        )


def passive_unsupported_clients(plan: PlanData) -> Iterator[Finding]:
    """Clients without passive sign-in stop working on the pool."""
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        yield _finding(
            "passive_unsupported_clients", f"pools[{i}].auth.external",
            f"After the switch, clients that cannot sign in through AD FS can no longer sign in to {pool.fqdn}: "
            f"Mac clients (Lync for Mac 2011 and Skype for Business on Mac), Lync 2010, Lync 2013 desktop older "
            f"than the July 2013 cumulative update (15.0.4517), "
            f"Lync Phone Edition and other 3PIP phones, room systems, and older mobile app builds (Lync 2013 "
            f"mobile before 5.2 on iPhone, iPad and Windows Phone, and early Android builds). Upgrade those clients "
            f"first, or keep their users on a pool that still accepts Windows authentication.",
        )


def passive_exchange_features_lost(plan: PlanData) -> Iterator[Finding]:
    """Exchange-dependent features stop with passive authentication, for the users who sign in there: a pool's own
    users, or, on a Director (which homes no users), the users of every pool who sign in through it."""
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        who = (f"{pool.fqdn} is a Director and homes no users, but the users of every pool who sign in through it "
               f"then sign in through AD FS and lose" if pool.role == "director" else f"Users of {pool.fqdn} lose")
        yield _finding(
            "passive_exchange_features_lost", f"pools[{i}].auth.external",
            f"{who} the features that reach Exchange with their Windows credentials: the "
            f"Unified Contact Store, calendar-based presence and free/busy, conversation history and the other "
            f"Exchange Web Services (EWS) features. Contact lists kept in Exchange would become unreachable, so "
            f"move them back first with Invoke-CsUcsRollback and turn the Unified Contact Store off in those "
            f"users' user services policy, so the lists are not moved to Exchange again.",
        )


def passive_certificate_auth(plan: PlanData) -> Iterator[Finding]:
    """Certificate authentication on a passive pool: the Microsoft sources disagree."""
    disagreement = (
        "Microsoft's documentation disagrees about certificate authentication on a passive pool: the official "
        "passive-authentication procedure turns it off (UseCertificateAuth $false), while the same guidance also "
        "says clients still need it after signing in, and the mobile walkthroughs keep it on."
    )
    for i, pool, auth in _indexed(plan, AuthMode.PASSIVE):
        field = f"pools[{i}].auth.certificate_auth"
        if auth.certificate_auth:
            yield _finding(
                "passive_certificate_auth_kept", field,
                f"{disagreement} This plan keeps it on for {pool.fqdn}, unlike the official procedure, so that "
                f"mobile apps can get a Lync client certificate after signing in through AD FS. The price: a device "
                f"holding a valid Lync certificate signs in again without going back to AD FS (or its MFA) until "
                f"that certificate expires. Keep the certificate lifetime short and revoke lost devices with "
                f"Revoke-CsClientCertificate.",
            )
        else:
            yield _finding(
                "passive_certificate_auth_off", field,
                f"{disagreement} This plan follows the official procedure and turns certificate authentication off "
                f"for {pool.fqdn}: mobile apps can no longer get a Lync client certificate from CertProv, so they "
                f"must sign in through AD FS again whenever their web ticket runs out (about every 8 hours), and "
                f"the web services stop accepting the certificates already issued. SIP sign-in does not: the Edge "
                f"and the Registrar keep accepting them until they expire. Set certificate_auth to true to keep "
                f"mobile users signed in.",
            )


def passive_relying_party_metadata(plan: PlanData) -> Iterator[Finding]:
    """AD FS must read both relying-party metadata documents of the pool."""
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        rps = pool.rp_names
        urls = [f"{passive_metadata_url(pool.internal_web)} (relying party '{rps.internal}')"]
        if pool.external_web_fqdn:
            urls.append(f"{passive_metadata_url(pool.external_web_fqdn)} (relying party '{rps.external}')")
        yield _finding(
            "passive_relying_party_metadata", f"pools[{i}].relying_parties",
            f"When the AD FS script adds the relying party trusts for {pool.fqdn}, the AD FS server itself "
            f"downloads {'both' if len(urls) == 2 else 'the'} metadata URL{'s' if len(urls) == 2 else ''}: "
            f"{_names(urls)}. Check from the AD FS server that the name{'s' if len(urls) == 2 else ''} "
            f"resolve{'' if len(urls) == 2 else 's'}, the firewall lets HTTPS through and the web services "
            f"certificate is trusted there: the script reads each metadata document before it changes anything "
            f"and stops if AD FS cannot, and without them no trust can be added.",
        )


def passive_external_web_fqdn_missing(plan: PlanData) -> Iterator[Finding]:
    """A passive pool needs its external web services name for the external relying party.

    An error, not a warning: without that name the external relying party trust
    cannot be created, Internet sign-ins through the reverse proxy have no trust in
    AD FS to land on, and the extranet MFA rule would have nothing to attach to, so
    the hardening the plan asks for would silently not happen.
    """
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        if pool.external_web_fqdn:
            continue
        yield _finding(
            "passive_external_web_fqdn_missing", f"pools[{i}].external_web_fqdn",
            f"{pool.fqdn} uses passive authentication but the plan has no external web services FQDN for it. The "
            f"external relying party trust is built from that name (https://<external web FQDN>"
            f"{PASSIVE_METADATA_PATH}); without it, users signing in from the Internet through the reverse "
            f"proxy have no relying party in AD FS and any MFA rule has nothing to attach to. Add "
            f"external_web_fqdn as it appears in the topology.",
        )


def passive_same_web_names(plan: PlanData) -> Iterator[Finding]:
    """Two relying parties cannot share one metadata URL."""
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        if pool.external_web_fqdn and pool.external_web_fqdn == pool.internal_web:
            yield _finding(
                "passive_same_web_names", f"pools[{i}].external_web_fqdn",
                f"{pool.fqdn} uses {pool.external_web_fqdn} for both its internal and external web services, so "
                f"the internal and external relying party trusts would read the same metadata URL and claim the "
                f"same identifier; AD FS refuses the second trust. Use the pool's real external web services "
                f"FQDN from the topology.",
            )


def passive_modern_auth_conflict(plan: PlanData) -> Iterator[Finding]:
    """Passive authentication and Modern Auth (ADAL) exclude each other on a pool."""
    if not plan.product_facts.modern_auth or plan.modern_auth is not None:
        # Modern Authentication does not exist on Lync Server 2013; with it in the plan, the error
        # modern_auth_passive_pool says the same and refuses the plan.
        return
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        yield _finding(
            "passive_modern_auth_conflict", f"pools[{i}].auth.external",
            f"A pool cannot use passive authentication and Modern Authentication (ADAL) at the same time, and "
            f"Modern Authentication is global: once Set-CsOAuthConfiguration names a client authorization server, "
            f"it is on for every pool, {pool.fqdn} included, whichever pool its users are on. If this deployment "
            f"has it on already, the Management Shell script stops before its first change: turn it off first "
            f"(Set-CsOAuthConfiguration -ClientAuthorizationOAuthServerIdentity $null), or keep {pool.fqdn} off "
            f"passive authentication.",
        )


def passive_dns_discovery(plan: PlanData) -> Iterator[Finding]:
    """Discovery should lead to a pool without passive authentication; the pool is the
    one `publishing.discovery_pool` publishes lyncdiscover to, so this says what dns-records.md and the
    reverse proxy rules do."""
    passive = [p.fqdn for _, p, _ in _indexed(plan, AuthMode.PASSIVE)]
    if not passive:
        return
    target = discovery_pool(plan)
    if _auth_mode(target) is AuthMode.PASSIVE:
        return
    i = plan.pools.index(target)
    lyncdiscover = _names([f"lyncdiscover.{d}" for d in plan.sip_domains])
    srv = _names([f"_sip._tls.{d}" for d in plan.sip_domains])
    published = (f"the reverse proxy publishes {lyncdiscover} to it (dns-records.md, reverse-proxy-arr.config), "
                 f"and " if has_reverse_proxy(plan) else "")
    yield _finding(
        "passive_dns_discovery", f"pools[{i}].fqdn",
        f"Discovery leads to {target.fqdn}, which does not use passive authentication, rather than to "
        f"{_names(passive)}: {published}the Edge pool's next hop in the topology should be it too. {srv} point at "
        f"the Access Edge, never at a pool. Every client can then find the service and sign in there, and users "
        f"homed on a passive pool are redirected to it.",
    )


def passive_lwa_domain_auth(plan: PlanData) -> Iterator[Finding]:
    """Web App domain sign-in under passive auth; UseDomainAuthInLWA docs disagree on Lync 2013."""
    lwa = _lwa_name(plan)
    if plan.product == "lync2013":
        why = (
            "Microsoft's documentation disagrees on whether Lync Server 2013 has UseDomainAuthInLWA (the current "
            "cmdlet help lists it for Skype for Business Server only, the Lync Server 2013 help lists it too), so "
            "the tool leaves it alone."
        )
    else:
        why = "The tool leaves UseDomainAuthInLWA alone."
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        yield _finding(
            "passive_lwa_domain_auth", f"pools[{i}].auth.external",
            f"{why} How {lwa} behaves for domain users on a passive pool is not documented: after the switch, "
            f"join a meeting on {pool.fqdn} from {lwa} both as a domain user and as a guest.",
        )


_FORMS_SIGN_IN_PATH = "/WebTicket/WebTicketService.svc/Auth"


def _forms_sign_in_message(hosts: list[str], closed_by: str) -> str:
    where = _names([f"https://{h}{_FORMS_SIGN_IN_PATH}" for h in hosts]) if hosts else (
        f"{_FORMS_SIGN_IN_PATH} on the external web services")
    return (
        f"{closed_by} The web ticket service also takes a user name and password posted in a WS-Security "
        f"UsernameToken to its forms binding, {where}: the Web App's domain sign-in uses it, and so do the "
        f"password-spraying tools aimed at Lync and Skype for Business. The tool counts it with Windows "
        f"authentication, so closed after the plan, by inference only: no Microsoft page says which setting turns "
        f"it off. verify-external.ps1 cannot show it either, since a request without credentials does not reveal "
        f"it, so its PASS lines do not cover this path. After the change, from the Internet, sign in there with a "
        f"test account's correct password (or point the spraying tool you audit with at that account) and check "
        f"that it is refused; until then treat it as open."
    )


def web_forms_sign_in_unverified(plan: PlanData) -> Iterator[Finding]:
    """Where the plan closes Windows authentication on the web services, the web ticket service's forms
    sign-in (a user name and password in a UsernameToken) is closed by inference only and no verification
    script shows it: the admin must try it with a test account."""
    scenario = plan.modern_auth_scenario
    if scenario is not None and scenario.blocks_windows_externally:
        hosts = [p.external_web_fqdn for p in plan.pools if p.external_web_fqdn]
        yield _finding(
            "web_forms_sign_in_unverified", "modern_auth.scenario",
            _forms_sign_in_message(hosts, "The Set-CsAuthConfig scenario blocks Windows authentication from the "
                                          "Internet on the web services of every pool."),
        )
        return
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        hosts = [pool.external_web_fqdn] if pool.external_web_fqdn else []
        yield _finding(
            "web_forms_sign_in_unverified", f"pools[{i}].auth.external",
            _forms_sign_in_message(hosts, f"Passive authentication turns Windows authentication off on the web "
                                          f"services of {pool.fqdn} (UseWindowsAuth None)."),
        )


def passive_pin_auth_off(plan: PlanData) -> Iterator[Finding]:
    """Passive pools get UsePinAuth $false, as Microsoft's two-factor procedure does."""
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        yield _finding(
            "passive_pin_auth_off", f"pools[{i}].auth.external",
            f"The script turns PIN authentication off on {pool.fqdn} (UsePinAuth $false), as Microsoft's "
            f"two-factor procedure does: an extension or phone number and a PIN is a credential that never goes "
            f"through AD FS, so it would bypass AD FS and its MFA. Phones that sign in with a PIN (Lync Phone "
            f"Edition) can no longer sign in to this pool.",
        )


def passive_needs_cu(plan: PlanData) -> Iterator[Finding]:
    """Passive authentication on Lync Server 2013 needs the July 2013 cumulative update."""
    for i, pool, auth in _indexed(plan, AuthMode.PASSIVE):
        if not auth.external.needs_cu(plan.product):
            continue
        yield _finding(
            "passive_needs_cu", f"pools[{i}].auth.external",
            f"Lync Server 2013 has passive authentication only from the July 2013 cumulative update on: update "
            f"every Front End and Director of {pool.fqdn} (and the servers where the scripts run) first. The "
            f"Management Shell script checks that Set-CsWebServiceConfiguration and New-CsWebServiceConfiguration "
            f"have -UseWsFedPassiveAuth before it changes anything, so a server without the update stops the "
            f"script before the first change instead of half-way.",
        )


# ---------------------------------------------------------------------------
# Product lifecycle


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _day(when: date) -> str:
    """Return a date the way the messages write it, whatever the locale: 14 October 2025."""
    return f"{when.day} {_MONTHS[when.month - 1]} {when.year}"


def product_out_of_support(plan: PlanData) -> Iterator[Finding]:
    """A product past the end of its extended support: since when, and the way to a supported one.

    Sources: plan format (product) and the lifecycle table of the model.

    The dates are data (`wizard.plan.model.PRODUCT_FACTS`); a product with an end date is out of
    support. The rule reads no clock, so the same plan always gives the same findings and bundle.
    """
    facts = plan.product_facts
    if facts.extended_support_end is None:
        return
    updates = ""
    if facts.security_updates_end is not None:
        updates = (f" The paid Extended Security Updates ran until {_day(facts.security_updates_end)} (according to "
                   f"secondary sources, not Microsoft's lifecycle page).")
    se = PRODUCT_FACTS["sfbse"].label
    yield _finding(
        "product_out_of_support", "product",
        f"{facts.label} has been out of extended support since {_day(facts.extended_support_end)}: no security "
        f"updates, no fixes, no help from Microsoft.{updates} {se} is the only supported version; the way "
        f"there: {facts.way_forward}. This plan hardens the estate as it is, which is worth doing on the way, not "
        f"instead of it. Microsoft's lifecycle page: {facts.lifecycle_page}.",
    )


# ---------------------------------------------------------------------------
# Modern Authentication (ADAL/OAuth) through AD FS


def _scenario_field(plan: PlanData) -> str:
    return "modern_auth.scenario" if plan.modern_auth_scenario is not None else "modern_auth"


def modern_auth_product_unsupported(plan: PlanData) -> Iterator[Finding]:
    """Modern Authentication needs Skype for Business Server 2015 or later, not Lync Server 2013."""
    if plan.modern_auth is None or plan.product_facts.modern_auth:
        return
    yield _finding(
        "modern_auth_product_unsupported", "modern_auth",
        f"{plan.product_label} has no Modern Authentication: New-CsOAuthServer -Type and Set-CsOAuthConfiguration "
        f"-ClientAuthorizationOAuthServerIdentity exist from Skype for Business Server 2015 on, and a topology that "
        f"still has Lync Server 2013 pools cannot use it. Remove modern_auth, or plan for Skype for Business Server "
        f"2015 or later.",
    )


def modern_auth_adfs_version(plan: PlanData) -> Iterator[Finding]:
    """AD FS 2.0 issues no OAuth tokens: Modern Authentication needs AD FS 2012 R2 or later."""
    if plan.modern_auth is None or plan.adfs is None or plan.adfs.version in MODERN_AUTH_ADFS_VERSIONS:
        return
    yield _finding(
        "modern_auth_adfs_version", "adfs.version",
        f"{ADFS_VERSIONS[plan.adfs.version]} has no OAuth, which Modern Authentication is built on: it needs AD FS "
        f"on Windows Server 2012 R2 or later. Upgrade the farm first, or remove modern_auth.",
    )


def modern_auth_passive_pool(plan: PlanData) -> Iterator[Finding]:
    """Passive and Modern Authentication cannot share a deployment: the OAuth settings are global."""
    if plan.modern_auth is None:
        return
    for i, pool, _ in _indexed(plan, AuthMode.PASSIVE):
        yield _finding(
            "modern_auth_passive_pool", f"pools[{i}].auth.external",
            f"{pool.fqdn} would use passive authentication while the plan turns Modern Authentication on. A pool "
            f"cannot use both, and the OAuth configuration that turns Modern Authentication on is global, so it "
            f"reaches this pool too. Choose one: remove modern_auth, or set this pool to another mode (MFA then "
            f"comes from AD FS through Modern Authentication).",
        )


def modern_auth_pool_auth_conflict(plan: PlanData) -> Iterator[Finding]:
    """A scenario that blocks Windows authentication decides it for every pool; a pool mode contradicts it.
    """
    scenario = plan.modern_auth_scenario
    if scenario is None or not scenario.blocks_windows_externally:
        return
    for i, pool in enumerate(plan.pools):
        if pool.auth is None or pool.auth.external is AuthMode.PASSIVE:
            continue  # passive: modern_auth_passive_pool
        yield _finding(
            "modern_auth_pool_auth_conflict", f"pools[{i}].auth.external",
            f"The scenario ({scenario.label}) decides Windows authentication for every pool, but {pool.fqdn} also "
            f"has a mode of its own ({pool.auth.external.label}). That mode keeps Windows authentication, and the "
            f"service-level collection the script would create for it could take precedence over the global "
            f"scenario for this pool. Set this pool's external authentication to \"leave unchanged\", or choose a "
            f"scenario that keeps Windows authentication from the Internet.",
        )


def modern_auth_not_recommended(plan: PlanData) -> Iterator[Finding]:
    """Microsoft's table of topologies does not recommend Modern Authentication with AD FS alone."""
    if plan.modern_auth is None:
        return
    yield _finding(
        "modern_auth_not_recommended", "modern_auth",
        "Microsoft does not recommend Modern Authentication on premises only (AD FS as the only authority): in "
        "Microsoft's own table of topologies it gives MFA to the Windows desktop client only, supports no mobile "
        "client and none of the Exchange integration features. The tool offers it because it is what an "
        "on-premises estate has; hybrid Modern Authentication with Entra ID is a different topology, not planned "
        "here.",
    )


_CLIENTS_WITHOUT_ADAL = ("Lync 2010", "Lync for Mac and Skype for Business on Mac", "the mobile apps", "room systems",
                         "desk phones that sign in with a user name and password")


def modern_auth_clients(plan: PlanData) -> Iterator[Finding]:
    """Who loses sign-in, per scenario: the clients that cannot use Modern Authentication."""
    ma = plan.modern_auth
    if ma is None:
        return
    scenario = ma.scenario
    office = ("Office 2013 (Lync 2013) desktop clients " + (
        "once the Office 2013 settings of this bundle (office2013-modern-auth.ps1) reach them" if ma.office2013_clients
        else "only with EnableADAL and Version set to 1 for each user (modern_auth.office2013_clients: the bundle "
             "then carries them)"))
    builds = ", ".join(MODERN_AUTH_UNSUPPORTED_OFFICE_BUILDS)
    can = (f"Skype for Business 2016 and later desktop clients use Modern Authentication by themselves, and "
           f"{office}; Office builds {builds} cannot. Users may see more than one prompt, and shared computers "
           f"(kiosks) need the browser zone setting \"Prompt for user name and password\".")
    if scenario is None:
        what = ("The plan leaves Set-CsAuthConfig alone: whatever scenario is in effect stays (right after Modern "
                "Authentication is turned on, Microsoft documents it as both Modern and Windows authentication, "
                "inside and outside), so no client loses sign-in, and Windows authentication stays open to the "
                "Internet.")
    elif not scenario.blocks_windows_externally:
        inside = (" Inside the network every client signs in with Windows authentication, the Modern "
                  "Authentication clients included." if not scenario.facts.modern_internal else "")
        what = (f"With {scenario.value} ({scenario.label}) clients that cannot use Modern Authentication keep "
                f"signing in with Windows authentication, from the Internet too, so no client loses sign-in and "
                f"passwords stay open to guessing from the Internet.{inside}")
    else:
        where = "from the Internet" if scenario.facts.windows_internal else "anywhere, inside the network too"
        what = (f"With {scenario.value} ({scenario.label}) every client that cannot use Modern Authentication "
                f"through AD FS loses sign-in {where}: {_names(list(_CLIENTS_WITHOUT_ADAL))}, and Office 2013 "
                f"without the registry settings. Phones that sign in with an extension and PIN (Lync Phone "
                f"Edition) should keep signing in, since the scenario leaves PIN and certificate authentication on "
                f"(inferred, not documented). Test each client and device model before the switch.")
    yield _finding("modern_auth_clients", _scenario_field(plan), f"{what} {can}")


def modern_auth_sip_ntlm_inside(plan: PlanData) -> Iterator[Finding]:
    """Blocking Windows authentication externally also turns SIP NTLM off at the Registrar, inside too.
    """
    scenario = plan.modern_auth_scenario
    if scenario is None or scenario.facts.sip_ntlm or not scenario.facts.windows_internal:
        return
    yield _finding(
        "modern_auth_sip_ntlm_inside", "modern_auth.scenario",
        f"{scenario.value} blocks more than the Internet: it turns NTLM off at the Registrar for SIP sign-in, for "
        f"clients inside the network as well (Kerberos stays on). Internal clients and devices that sign in to SIP "
        f"with NTLM, such as computers outside the domain, Mac clients and phones, can no longer sign in inside "
        f"either.",
    )


def modern_auth_web_pages(plan: PlanData) -> Iterator[Finding]:
    """Web pages and web clients that have no Modern Authentication."""
    scenario = plan.modern_auth_scenario
    if scenario is None or not scenario.blocks_windows_externally:
        return
    lwa = _lwa_name(plan)
    text = (f"{lwa} forms sign-in no longer works for users on the Internet (guests still join meetings).")
    if not scenario.facts.windows_internal:
        text += (" With Windows authentication blocked inside too, the web pages that have no Modern "
                 "Authentication stop working for everyone: the Web Scheduler, the Dial-in page, the Control Panel "
                 "and the Response Group settings page. Microsoft's sources differ by version here: the Skype for "
                 "Business Server 2019 June 2023 cumulative update added OAuth to the Dial-in page and the Web "
                 "Scheduler.")
    yield _finding("modern_auth_web_pages", "modern_auth.scenario", text)


def modern_auth_adfs_password_surface(plan: PlanData) -> Iterator[Finding]:
    """With Modern Authentication, AD FS (through the WAP) is where passwords are typed: its lockout matters.
    """
    adfs = plan.adfs
    if plan.modern_auth is None or adfs is None:
        return
    if adfs.published_on_reverse_proxy:
        # Behind the plain reverse proxy AD FS takes Internet requests for internal ones: its extranet lockout
        # never counts them, so that advice would not hold (adfs_windows_auth_on_internet says the rest).
        where = "published through the plain reverse proxy"
        advice = ("AD FS takes those requests for internal ones there, so its extranet lockout never counts them: "
                  "publish it through a Web Application Proxy, then turn extranet lockout on.")
    else:
        where = "published through the Web Application Proxy"
        advice = f"{_adfs_lockout_advice(adfs.version)}{_WS_TRUST_ADVICE if adfs.version != '2.0' else ''}"
    yield _finding(
        "modern_auth_adfs_password_surface", "adfs",
        f"With Modern Authentication every desktop sign-in types its password at AD FS "
        f"({adfs.federation_service_name}), {where}: that is where passwords can be guessed from the Internet "
        f"now. {advice}",
    )


# How to keep guessing at AD FS from locking accounts out, by AD FS version (2.0 has no extranet lockout).
def _adfs_lockout_advice(version: str) -> str:
    if version == "2.0":
        return ("AD FS 2.0 has no extranet lockout of its own: every wrong password counts against the Active "
                "Directory lockout threshold, so watch lockout events, or move to a later AD FS.")
    return ("Turn AD FS extranet lockout on (Set-AdfsProperties -EnableExtranetLockout, smart lockout from AD FS "
            "2016 on) with a threshold below the Active Directory lockout threshold, so guessing locks the extranet "
            "sign-in, not the account.")


def passive_adfs_password_surface(plan: PlanData) -> Iterator[Finding]:
    """With passive authentication, AD FS (through the WAP) is where Internet users type their passwords.
    """
    adfs = plan.adfs
    if not plan.passive_pools or adfs is None or plan.modern_auth is not None or adfs.published_on_reverse_proxy:
        # Modern Authentication says the same in its own finding; a plain reverse proxy in front of AD FS is
        # an error or a warning of its own (AD FS takes the Internet for the intranet there).
        return
    pools = _names([p.fqdn for p in plan.passive_pools])
    yield _finding(
        "passive_adfs_password_surface", "adfs",
        f"Passive authentication sends the Internet users of {pools} to AD FS ({adfs.federation_service_name}) "
        f"through the Web Application Proxy, where they type their password before any second factor is asked: "
        f"that is where passwords can be guessed, and accounts locked out, from the Internet now. "
        f"{_adfs_lockout_advice(adfs.version)}{_WS_TRUST_ADVICE if adfs.version != '2.0' else ''}",
    )


# AD FS takes a password at more than its sign-in page: whatever WS-Trust endpoints the proxy publishes. Its MFA keeps
# a token from being issued there, not the password from being checked (the exposure model's adfs_ws_trust path).
_WS_TRUST_ADVICE = (" AD FS also takes user names and passwords at the WS-Trust endpoints the Web Application Proxy "
                    "publishes (such as /adfs/services/trust/2005/usernamemixed and /adfs/services/trust/13/"
                    "usernamemixed; Get-AdfsEndpoint lists each with its Proxy setting). Where AD FS asks for MFA, "
                    "no token is issued there for a password alone, but the password is still checked, so guesses "
                    "and lockouts count the same: take off the proxy those no client of yours needs, with "
                    "Set-AdfsEndpoint -TargetAddressPath <path> -Proxy $false.")


def modern_auth_certificate_auth_kept(plan: PlanData) -> Iterator[Finding]:
    """Certificate authentication stays on in every scenario: a certificate skips AD FS until it expires.
    """
    if plan.modern_auth is None:
        return
    yield _finding(
        "modern_auth_certificate_auth_kept", "modern_auth",
        "No Set-CsAuthConfig scenario turns certificate authentication off (the tool infers this from the "
        "procedure the cmdlet replaced): a device holding a valid Lync client certificate keeps signing in with it "
        "without going back to AD FS, or to its MFA, until the certificate expires. After the switch, certificates "
        "come from CertProv after a Modern Authentication sign-in. Keep their lifetime short and revoke lost "
        "devices with Revoke-CsClientCertificate.",
    )


def modern_auth_global_scope(plan: PlanData) -> Iterator[Finding]:
    """Set-CsAuthConfig runs at the global level only; more specific collections may take precedence.
    """
    scenario = plan.modern_auth_scenario
    if scenario is None:
        return
    yield _finding(
        "modern_auth_global_scope", "modern_auth.scenario",
        "The script runs Set-CsAuthConfig once, at the global level, as Microsoft recommends; never per pool (a "
        "pool whose Registrar and web services end up with different settings can leave clients unable to sign "
        "in). It sets both the Registrar and the web services. A site or service collection that already exists "
        "may take precedence over the global scenario for its pools (the tool infers this; nothing documents it): "
        "upload a state file to see them, and check verify-internal.ps1's Get-CsAuthConfig line after the change.",
    )


def modern_auth_needs_cu(plan: PlanData) -> Iterator[Finding]:
    """The cumulative updates Modern Authentication needs; the script checks for them first."""
    ma = plan.modern_auth
    facts = plan.product_facts
    if ma is None or not facts.modern_auth or not facts.modern_auth_cu:
        return
    needs = [f"Modern Authentication needs {facts.modern_auth_cu}"]
    if ma.scenario is not None and facts.auth_config_cu:
        needs.append(f"Set-CsAuthConfig arrived with {facts.auth_config_cu}")
    yield _finding(
        "modern_auth_needs_cu", "modern_auth",
        f"On {facts.label}, {' and '.join(needs)}: update every Front End and Director first. The Management Shell "
        f"script checks that these cmdlets and parameters exist before it changes anything, so an older server "
        f"stops the script at the start instead of half-way.",
    )


def modern_auth_office2013(plan: PlanData) -> Iterator[Finding]:
    """Office 2013 clients need two registry values for Modern Authentication; the bundle can carry them.
    """
    ma = plan.modern_auth
    if ma is None:
        return
    values = " and ".join(f"{name}={value}" for name, value in OFFICE2013_ADAL_VALUES)
    if ma.office2013_clients:
        yield _finding(
            "modern_auth_office2013_settings", "modern_auth.office2013_clients",
            f"The bundle carries office2013-modern-auth.ps1, which sets {values} (DWORD) under the user's Office "
            f"15.0 Identity key: run it for every Office 2013 user (a Group Policy logon script) before Windows "
            f"authentication is blocked. With -Undo it sets EnableADAL back to 0.",
        )
    elif ma.scenario is not None and ma.scenario.blocks_windows_externally:
        yield _finding(
            "modern_auth_office2013", "modern_auth.office2013_clients",
            f"Office 2013 (Lync 2013) desktop clients use Modern Authentication only with {values} (DWORD) under the "
            f"user's Office 15.0 Identity key; without them they lose sign-in where Windows authentication is "
            f"blocked. Set office2013_clients to true to get a script for them in the bundle, or set them by Group "
            f"Policy.",
        )


def modern_auth_setup_script(plan: PlanData) -> Iterator[Finding]:
    """The AD FS side is Microsoft's own setup script, which the admin downloads; the bundle does not carry it.
    """
    if plan.modern_auth is None or plan.adfs is None or plan.adfs.version not in ADFS_OAUTH_SETUP_SCRIPTS:
        return
    script = ADFS_OAUTH_SETUP_SCRIPTS[plan.adfs.version]
    yield _finding(
        "modern_auth_setup_script", "modern_auth",
        f"The AD FS trust for Modern Authentication is made by Microsoft's own script, {script} for "
        f"{ADFS_VERSIONS[plan.adfs.version]}: download it from Microsoft ({ADFS_OAUTH_SETUP_DOWNLOAD}) and put it "
        f"beside adfs-modern-auth.ps1 on the primary AD FS server. The bundle does not include or rebuild it; "
        f"adfs-modern-auth.ps1 stops when it is not there, runs it with every pool's internal and external web "
        f"services URL, and then sets MFA on the trust it made. Modern Authentication is global, so the plan must "
        f"list every Front End and Director pool of the topology (a pool needs no authentication settings to be "
        f"listed): users of a pool the trust does not name cannot sign in. lync-management-shell.ps1 stops before "
        f"its first change when the topology has a pool the plan does not list.",
    )


def modern_auth_enable_computer(plan: PlanData) -> Iterator[Finding]:
    """Set-CsAuthConfig takes effect on a server only after Enable-CsComputer runs there."""
    if plan.modern_auth_scenario is None:
        return
    yield _finding(
        "modern_auth_enable_computer", "modern_auth.scenario",
        "The new scenario takes effect on each server only after Enable-CsComputer runs on it, and the cmdlet acts "
        "on the computer it runs on only: the runbook lists it as a step, on every Front End and Director server "
        "of every pool.",
    )


def modern_auth_without_mfa(plan: PlanData) -> Iterator[Finding]:
    """Modern Authentication without MFA on the trust: a password alone signs in at AD FS."""
    if plan.modern_auth is None or plan.adfs is None or plan.adfs.mfa != "none":
        return
    yield _finding(
        "modern_auth_without_mfa", "adfs.mfa",
        "MFA is not asked for (adfs.mfa \"none\"), so the Modern Authentication sign-in at AD FS takes a password "
        "alone. Choose \"extranet\" to have AD FS ask sign-ins from the Internet for a second factor.",
    )


def modern_auth_resource_forest(plan: PlanData) -> Iterator[Finding]:
    """Resource forests: Skype for Business matches users by the PrimarySID claim."""
    ma = plan.modern_auth
    if ma is None or not ma.accept_sid_claims:
        return
    yield _finding(
        "modern_auth_resource_forest", "modern_auth.accept_sid_claims",
        "The OAuth server accepts security identifiers (New-CsOAuthServer -AcceptSecurityIdentifierInformation "
        "$true): in a resource forest, users are matched by the PrimarySID claim of the token, because the user "
        "principal name, SIP address and mail address do not match the resource forest's objects.",
    )



# ---------------------------------------------------------------------------
# AD FS and MFA


def _adfs_in_use(plan: PlanData) -> bool:
    return plan.signs_in_through_adfs


def adfs_unused(plan: PlanData) -> Iterator[Finding]:
    """AD FS settings without a passive pool (or Modern Authentication) are not used.

    With MFA asked for, that is a promise the plan does not keep: nobody signs in through AD FS, so every
    Internet sign-in stays as it is, without a second factor. That is an error, never only a note.
    """
    if plan.adfs is None or plan.signs_in_through_adfs:
        return
    if plan.adfs.mfa != "none":
        yield _finding(
            "mfa_without_adfs_sign_in", "adfs.mfa",
            f"The plan asks for MFA ({plan.adfs.mfa}), but no pool uses passive authentication and Modern "
            f"Authentication is not turned on: nobody signs in through AD FS, so no Internet sign-in meets a "
            f"second factor and every password path stays as it is. Set a pool to passive, turn Modern "
            f"Authentication on, or set mfa to none.",
        )
    else:
        yield _finding(
            "adfs_unused", "adfs",
            "The plan describes an AD FS farm but no pool uses passive authentication and Modern Authentication is "
            "not turned on, so nothing is configured in AD FS and the MFA setting has no effect. Remove the AD FS "
            "section, set a pool to passive, or turn Modern Authentication on.",
        )


def mfa_adfs20_unsupported(plan: PlanData) -> Iterator[Finding]:
    """AD FS 2.0 has no additional authentication rules."""
    adfs = plan.adfs
    if _adfs_in_use(plan) and adfs is not None and adfs.version == "2.0" and adfs.mfa != "none":
        yield _finding(
            "mfa_adfs20_unsupported", "adfs.mfa",
            "AD FS 2.0 cannot require MFA per relying party: additional authentication rules (and the "
            "insidecorporatenetwork claim the extranet rule relies on) arrived with AD FS on Windows Server 2012 "
            "R2. Upgrade AD FS, or set mfa to \"none\" (smart-card sign-in on AD FS 2.0 is a manual web.config "
            "change this tool does not make).",
        )


def mfa_extranet_only_via_proxy(plan: PlanData) -> Iterator[Finding]:
    """The extranet MFA rule depends on AD FS seeing the request as extranet."""
    adfs = plan.adfs
    if _adfs_in_use(plan) and adfs is not None and adfs.mfa == "extranet" and adfs.version != "2.0":
        yield _finding(
            "mfa_extranet_only_via_proxy", "adfs.mfa",
            "The extranet MFA rule only fires for requests AD FS sees as coming from the extranet, that is "
            "requests that reach it through a Web Application Proxy (WAP) or AD FS proxy, which mark them with "
            "insidecorporatenetwork = false. If Internet users reach AD FS directly, or through a reverse proxy "
            "that is not a WAP or AD FS proxy, they are never asked for a second factor. Users inside the "
            "network sign in without MFA.",
        )


def mfa_provider_required(plan: PlanData) -> Iterator[Finding]:
    """Requiring MFA needs an MFA provider enabled in AD FS."""
    adfs = plan.adfs
    if _adfs_in_use(plan) and adfs is not None and adfs.mfa != "none" and adfs.version != "2.0":
        yield _finding(
            "mfa_provider_required", "adfs.mfa",
            f"Requiring MFA only works when AD FS ({adfs.federation_service_name}) has an additional "
            f"authentication provider enabled (Set-AdfsGlobalAuthenticationPolicy "
            f"-AdditionalAuthenticationProvider ...). Without one AD FS cannot satisfy the rule and those sign-ins "
            f"fail. Register and enable the provider before running the AD FS script.",
        )


def mfa_always_prompts_internal(plan: PlanData) -> Iterator[Finding]:
    """MFA 'always' also prompts users inside the network."""
    adfs = plan.adfs
    if _adfs_in_use(plan) and adfs is not None and adfs.mfa == "always" and adfs.version != "2.0":
        yield _finding(
            "mfa_always_prompts_internal", "adfs.mfa",
            "With mfa \"always\", every sign-in to the Lync relying parties needs a second factor, from inside "
            "the network too: internal users get prompted as well. Choose \"extranet\" if only sign-ins from the "
            "Internet should need MFA.",
        )


def mfa_certificates_issued_before(plan: PlanData) -> Iterator[Finding]:
    """Client certificates issued before the switch were had without MFA, and SIP sign-in takes them until they expire.

    The plan's scripts keep certificate sign-in on at every Edge and Registrar (TLS-DSK is how remote clients sign
    in once NTLM is blocked), and no setting of the plan reaches a certificate already issued: only revoking it does.
    """
    if not mfa_promised(plan):
        return
    yield _finding(
        "mfa_certificates_issued_before", "adfs.mfa",
        f"Lync client certificates issued before the switch were obtained without a second factor (with a password "
        f"over NTLM or Kerberos, a PIN, or an AD FS sign-in without MFA), and the Edge and the Registrar keep "
        f"accepting them for SIP sign-in until they expire, up to the pool's maximum lifetime when they were issued, "
        f"out of the box {_hours(SERVER_MAX_CERT_HOURS)}. Whoever got one with a guessed or stolen password before "
        f"the switch still signs in with it, without MFA. To make MFA hold for everyone at once, revoke them after "
        f"the switch: Get-CsClientCertificate lists a user's certificates and Revoke-CsClientCertificate revokes "
        f"them, user by user; each device then signs in again through AD FS and its MFA.",
    )


def mfa_access_control_policy(plan: PlanData) -> Iterator[Finding]:
    """AD FS 2016 and later use an access control policy for MFA."""
    adfs = plan.adfs
    if not (_adfs_in_use(plan) and adfs is not None and adfs.mfa != "none"):
        return
    if adfs.version not in ACP_ADFS_VERSIONS:
        return
    policy = ACCESS_CONTROL_POLICIES[adfs.mfa]
    if adfs.mfa == "extranet":
        note = ("The plain 'Permit everyone and require MFA' policy would prompt internal users too, so it is not "
                "used.")
    else:
        note = "That policy asks everyone for a second factor, inside the network as well."
    where = []
    if plan.passive_pools:
        where.append("the Lync relying parties")
    if plan.modern_auth is not None:
        where.append("the Modern Authentication trust Microsoft's setup script creates")
    yield _finding(
        "mfa_access_control_policy", "adfs.mfa",
        f"On {ADFS_VERSIONS[adfs.version]} MFA is set through the built-in access control policy "
        f"'{policy}' on {_names(where)} rather than through per-relying-party rules. {note}",
    )


def adfs_windows_auth_on_internet(plan: PlanData) -> Iterator[Finding]:
    """AD FS behind the plain reverse proxy sees Internet requests as internal."""
    adfs = plan.adfs
    if not (_adfs_in_use(plan) and adfs is not None and adfs.published_on_reverse_proxy):
        return
    if adfs.mfa == "extranet" and adfs.version != "2.0":
        return  # an error of its own: mfa_adfs_not_extranet
    yield _finding(
        "adfs_windows_auth_on_internet", "adfs.published_on_reverse_proxy",
        f"AD FS ({adfs.federation_service_name}) is published through the plain reverse proxy, not a Web "
        f"Application Proxy, so it takes every Internet request for an internal one: it offers Windows integrated "
        f"sign-in (NTLM/Kerberos) to the Internet and its extranet lockout never counts those attempts. Publish "
        f"AD FS through a Web Application Proxy (or an AD FS proxy).",
    )


# ---------------------------------------------------------------------------
# TLS-DSK, Edge and Registrar


def edge_ntlm_block_sip_only(plan: PlanData) -> Iterator[Finding]:
    """Blocking NTLM at the Edge leaves the web services open."""
    scenario = plan.modern_auth_scenario
    if scenario is not None and scenario.blocks_windows_externally:
        return  # the scenario closes Windows authentication on every pool's web services
    open_pools = [p for p in plan.pools if _auth_mode(p) is not AuthMode.PASSIVE]
    if not open_pools:
        return
    where = []
    for p in open_pools:
        if p.external_web_fqdn:
            where.append(f"{p.fqdn} (https://{p.external_web_fqdn}/CertProv and /WebTicket)")
        else:
            where.append(f"{p.fqdn} (/CertProv and /WebTicket)")
    for j, edge in enumerate(plan.edge_pools):
        if not edge.block_ntlm:
            continue
        yield _finding(
            "edge_ntlm_block_sip_only", f"edge_pools[{j}].block_ntlm",
            f"Blocking NTLM on Edge {edge.fqdn} stops NTLM and Kerberos only for SIP sign-in from the Internet. "
            f"The web services behind the reverse proxy still accept a user name and password over NTLM for "
            f"{_names(where)}, so password guessing and account lockout remain possible there. Watch lockout "
            f"events for those URLs; only passive authentication (or turning Windows authentication off for "
            f"external web clients) closes them.",
        )


def tls_dsk_first_certificate(plan: PlanData) -> Iterator[Finding]:
    """A new device gets its first certificate from CertProv over the web services."""
    for i, pool, _ in _indexed(plan, AuthMode.TLS_DSK):
        if pool.external_web_fqdn:
            outside = (f"or from the Internet through the reverse proxy at "
                       f"https://{pool.external_web_fqdn}/CertProv/CertProvisioningService.svc")
        else:
            outside = ("or from the Internet through the reverse proxy (the plan has no external web services "
                       "FQDN for this pool, so check that one is published)")
        yield _finding(
            "tls_dsk_first_certificate", f"pools[{i}].auth.external",
            f"A device that has never signed in to {pool.fqdn} has no Lync client certificate yet. Its first "
            f"sign-in fetches one from the certificate provisioning service (CertProv) on the web services, with "
            f"the user's name and password: inside the network, {outside}. Keep /CertProv and /WebTicket "
            f"published, and do not turn Windows authentication off for the whole pool, or new devices never get "
            f"their first certificate.",
        )


def tls_dsk_certificate_lifetime(plan: PlanData) -> Iterator[Finding]:
    """Certificate lifetime: how often users re-enter credentials, and revocation."""
    for i, pool, auth in _indexed(plan, AuthMode.TLS_DSK):
        hours = auth.client_certificate_hours
        if hours is not None:
            lifetime = (f"Client certificates issued by {pool.fqdn} are valid for {_hours(hours.default)} by "
                        f"default and {hours.max} hours at most,")
            every = _every(hours.default)
            field = f"pools[{i}].auth.client_certificate_hours.default"
        else:
            lifetime = (f"The plan leaves the client certificate lifetime of {pool.fqdn} as it is on the server; "
                        f"out of the box that is {_hours(SERVER_DEFAULT_CERT_HOURS)},")
            every = _every(SERVER_DEFAULT_CERT_HOURS)
            field = f"pools[{i}].auth.external"
        yield _finding(
            "tls_dsk_certificate_lifetime", field,
            f"{lifetime} so users type their password again at least every {every}, when the certificate runs "
            f"out. A lost or stolen device keeps signing in until then: list a user's certificates with "
            f"Get-CsClientCertificate and revoke them with Revoke-CsClientCertificate.",
        )


def tls_dsk_unsupported_clients(plan: PlanData) -> Iterator[Finding]:
    """Clients that cannot do TLS-DSK cannot sign in through a blocking Edge."""
    if not _blocking_edges(plan):
        return
    for i, pool, _ in _indexed(plan, AuthMode.TLS_DSK):
        yield _finding(
            "tls_dsk_unsupported_clients", f"pools[{i}].auth.external",
            f"Clients and devices that cannot sign in with TLS-DSK (a Lync client certificate) can no longer sign "
            f"in to {pool.fqdn} from the Internet through the Edge: third-party SIP clients, and phones or room "
            f"systems that only do NTLM. Lync desktop clients and Lync Phone Edition (after PIN sign-in) use "
            f"TLS-DSK; test Mac clients and each device model from outside before the switch.",
        )


def edge_block_unsupported_clients(plan: PlanData) -> Iterator[Finding]:
    """An Edge that blocks NTLM also changes external sign-in for the users of pools the plan leaves alone."""
    scenario = plan.modern_auth_scenario
    if scenario is not None and scenario.blocks_windows_externally:
        return  # modern_auth_clients says who loses sign-in from the Internet
    alone = [p.fqdn for p in plan.pools if p.auth is None and p.role != "director"]
    if not alone:
        return  # each pool's own mode says it (tls_dsk_unsupported_clients, ntlm_pool_edge_blocks, passive)
    for j, edge in enumerate(plan.edge_pools):
        if not edge.block_ntlm:
            continue
        yield _finding(
            "edge_block_unsupported_clients", f"edge_pools[{j}].block_ntlm",
            f"Edge {edge.fqdn} stops NTLM and Kerberos for every SIP sign-in from the Internet through it, so it "
            f"changes sign-in for the users of {_names(alone)} too, although the plan leaves that pool's settings "
            f"alone, and for the users of pools not in the plan that sign in through this Edge. From the Internet "
            f"they can then only sign in with TLS-DSK (a Lync client certificate): third-party SIP clients, and "
            f"phones or room systems that only do NTLM, can no longer sign in from outside. Lync and Skype for "
            f"Business desktop clients and Lync Phone Edition (after PIN sign-in) use TLS-DSK; test Mac clients and "
            f"each device model from outside before the switch.",
        )


def tls_dsk_edge_not_blocking(plan: PlanData) -> Iterator[Finding]:
    """TLS-DSK is only enforced when the Edge blocks NTLM."""
    if _blocking_edges(plan):
        return
    for i, pool, _ in _indexed(plan, AuthMode.TLS_DSK):
        yield _finding(
            "tls_dsk_edge_not_blocking", f"pools[{i}].auth.external",
            f"{pool.fqdn} is meant to accept only TLS-DSK from the Internet, but no Edge pool in the plan blocks "
            f"NTLM (block_ntlm), so the Edge still accepts NTLM for remote sign-in and nothing is enforced. Add "
            f"the Edge pool that serves this pool with block_ntlm set to true.",
        )


def tls_dsk_certificate_auth_off(plan: PlanData) -> Iterator[Finding]:
    """TLS-DSK needs certificate authentication."""
    for i, pool, auth in _indexed(plan, AuthMode.TLS_DSK):
        if not auth.certificate_auth:
            yield _finding(
                "tls_dsk_certificate_auth_off", f"pools[{i}].auth.certificate_auth",
                f"TLS-DSK sign-in is certificate sign-in: with certificate_auth false, {pool.fqdn} issues no "
                f"client certificates and no client can sign in from the Internet once the Edge refuses NTLM. "
                f"Set certificate_auth to true (or leave it out).",
            )


def registrar_block_on_ntlm_pool(plan: PlanData) -> Iterator[Finding]:
    """An NTLM pool that also asks for NTLM off at its Registrar: the two contradict each other.

    An error, not a silent choice: honouring it would make every SIP sign-in to the pool, inside too,
    certificate-only, which is what the NTLM mode exists to avoid; dropping it would leave the runbook
    claiming a block that never happens.
    """
    for i, pool, auth in _indexed(plan, AuthMode.NTLM):
        if auth.block_ntlm_at_registrar:
            yield _finding(
                "registrar_block_on_ntlm_pool", f"pools[{i}].auth.block_ntlm_at_registrar",
                f"{pool.fqdn} keeps NTLM (external \"ntlm\"), yet block_ntlm_at_registrar would turn NTLM and "
                f"Kerberos off at its Registrar, for clients inside the network too. Set block_ntlm_at_registrar "
                f"to false to keep NTLM, or set external to \"tls_dsk\" (or \"passive\") to block it.",
            )


def registrar_ntlm_blocked(plan: PlanData) -> Iterator[Finding]:
    """NTLM/Kerberos off at the Registrar affects internal clients too."""
    for i, pool in enumerate(plan.pools):
        if not (pool.auth and pool.auth.block_ntlm_at_registrar) or pool.auth.external is AuthMode.NTLM:
            continue
        if pool.auth.external.needs_adfs:
            how = "obtained after signing in through AD FS"
        else:
            how = "fetched from CertProv with their password"
        yield _finding(
            "registrar_ntlm_blocked", f"pools[{i}].auth.block_ntlm_at_registrar",
            f"block_ntlm_at_registrar turns NTLM and Kerberos off on the Registrar of {pool.fqdn}, which serves "
            f"clients inside the network as well as the Edge. Internal clients must then sign in with a Lync "
            f"client certificate (TLS-DSK) {how}; internal clients and devices without a certificate that cannot "
            f"get one can no longer sign in, even on the corporate network.",
        )


def pin_auth_blocked(plan: PlanData) -> Iterator[Finding]:
    """block_pin_auth: who loses sign-in, or, on a passive pool, that it changes nothing."""
    for i, pool in enumerate(plan.pools):
        auth = pool.auth
        if auth is None or not auth.block_pin_auth:
            continue
        field = f"pools[{i}].auth.block_pin_auth"
        if auth.external.needs_adfs:
            yield _finding(
                "pin_auth_blocked_passive", field,
                f"{pool.fqdn} uses passive authentication, which turns PIN authentication off already "
                f"(passive_pin_auth_off): block_pin_auth changes nothing there.",
            )
            continue
        yield _finding(
            "pin_auth_blocked", field,
            f"The script turns PIN authentication off on the web services of {pool.fqdn} (UsePinAuth $false), for "
            f"clients inside the network as well as on the Internet. Nobody can sign in there with an extension or "
            f"phone number and PIN any more: Lync Phone Edition and 3PIP desk phones that sign in that way stop "
            f"signing in. Dial-in conferencing is not affected: a caller on the phone line enters the PIN to the "
            f"conferencing service, which is not a web services sign-in. In return it closes a password-like sign-in "
            f"from the Internet that never goes through AD FS.",
        )


def certificate_auth_off_phones(plan: PlanData) -> Iterator[Finding]:
    """certificate_auth false on a pool that is not passive: phones that signed in with a PIN stop working.

    Lync Phone Edition phones sign in with an extension and PIN once, then use the Lync certificate they
    were given with the web services; without certificate authentication there, they stop working even
    where NTLM is kept. Passive pools have PIN sign-in off anyway (passive_pin_auth_off).
    """
    for i, pool in enumerate(plan.pools):
        auth = pool.auth
        if auth is None or auth.certificate_auth or auth.external.needs_adfs:
            continue
        yield _finding(
            "certificate_auth_off_phones", f"pools[{i}].auth.certificate_auth",
            f"The script turns certificate authentication off on the web services of {pool.fqdn} (UseCertificateAuth "
            f"$false), for clients inside the network as well as on the Internet. Lync Phone Edition phones that "
            f"signed in with an extension and PIN use their Lync certificate with the web services afterwards, so "
            f"they stop working unless they are paired with a computer by USB, and common area phones, which only "
            f"sign in with a PIN, stop altogether. Phones that sign in with a user name and password keep signing "
            f"in. Test each 3PIP desk phone model before the change, or keep certificate_auth true.",
        )


def certificate_lifetime_bounds(plan: PlanData) -> Iterator[Finding]:
    """Very short or very long client certificate lifetimes."""
    for i, pool in enumerate(plan.pools):
        hours = pool.auth.client_certificate_hours if pool.auth else None
        if hours is None:
            continue
        field = f"pools[{i}].auth.client_certificate_hours.default"
        if hours.default < SHORT_CERT_HOURS:
            # A passive pool hands out its certificates after an AD FS sign-in, never for a password sent to CertProv.
            renewal = ("sign in through AD FS again (with its second factor, when MFA applies) more than once a day "
                       "to get a new one" if pool.auth is not None and pool.auth.external.needs_adfs else
                       "type their password more than once a day, and every renewal sends the password to CertProv "
                       "again")
            yield _finding(
                "certificate_lifetime_short", field,
                f"Client certificates from {pool.fqdn} last only {_hours(hours.default)} by default: users who "
                f"sign in with a certificate must {renewal}. Consider at least {SHORT_CERT_HOURS} hours.",
            )
        elif hours.default > SERVER_DEFAULT_CERT_HOURS:
            yield _finding(
                "certificate_lifetime_long", field,
                f"Client certificates from {pool.fqdn} last {_hours(hours.default)} by default, longer than the "
                f"server's own default of {_hours(SERVER_DEFAULT_CERT_HOURS)}: a lost or stolen device keeps "
                f"signing in that long unless its certificate is revoked with Revoke-CsClientCertificate. "
                f"Consider a shorter lifetime.",
            )


# ---------------------------------------------------------------------------
# NTLM kept


def ntlm_exposed(plan: PlanData) -> Iterator[Finding]:
    """NTLM reachable from the Internet: guessing and lockout."""
    open_edges = [e.fqdn for e in plan.edge_pools if not e.block_ntlm]
    if open_edges:
        edge_part = f"and SIP sign-in through Edge {_names(open_edges)} accepts it too"
    elif plan.edge_pools:
        edge_part = "while the Edge pools in the plan block NTLM for SIP sign-in"
    else:
        edge_part = "and so does SIP sign-in through any Edge pool that serves it"
    for i, pool, _ in _indexed(plan, AuthMode.NTLM):
        web = f" ({pool.external_web_fqdn})" if pool.external_web_fqdn else ""
        yield _finding(
            "ntlm_exposed", f"pools[{i}].auth.external",
            f"{pool.fqdn} keeps NTLM: its web services behind the reverse proxy{web} accept a user name and "
            f"password from the Internet, {edge_part}. Anyone can guess passwords there, and wrong guesses lock "
            f"accounts out (AD FS extranet lockout does not cover these Lync endpoints). Consider a lockout filter "
            f"in front of them (such as the Lync Security Filter on the Edge), a lockout policy that resets "
            f"quickly, and alerting on lockout events.",
        )


def ntlm_pool_edge_blocks(plan: PlanData) -> Iterator[Finding]:
    """An Edge that blocks NTLM also blocks it for pools that keep NTLM."""
    blocking = [e.fqdn for e in _blocking_edges(plan)]
    if not blocking:
        return
    for i, pool, _ in _indexed(plan, AuthMode.NTLM):
        yield _finding(
            "ntlm_pool_edge_blocks", f"pools[{i}].auth.external",
            f"The plan keeps NTLM for {pool.fqdn}, but Edge {_names(blocking)} blocks NTLM for every remote SIP "
            f"sign-in through it, including this pool's users: those who need NTLM (clients without TLS-DSK) "
            f"cannot sign in from the Internet through that Edge. Check which Edge serves this pool.",
        )


def edge_ntlm_exposed(plan: PlanData) -> Iterator[Finding]:
    """An Edge that keeps NTLM exposes SIP sign-in to guessing and lockout."""
    for j, edge in enumerate(plan.edge_pools):
        if edge.block_ntlm:
            continue
        name = f" ({edge.access_fqdn})" if edge.access_fqdn else ""
        yield _finding(
            "edge_ntlm_exposed", f"edge_pools[{j}].block_ntlm",
            f"Edge {edge.fqdn}{name} keeps accepting NTLM for SIP sign-in from the Internet, so passwords can be "
            f"guessed and accounts locked out through it. Set block_ntlm to true once remote clients can use "
            f"TLS-DSK, or put a lockout filter (such as the Lync Security Filter) on the Edge.",
        )


def edge_block_not_probed(plan: PlanData) -> Iterator[Finding]:
    """A block_ntlm Edge without an Access Edge FQDN: verify-external.ps1 has nowhere to send its SIP probe."""
    for j, edge in enumerate(plan.edge_pools):
        if edge.block_ntlm and not edge.access_fqdn:
            yield _finding(
                "edge_block_not_probed", f"edge_pools[{j}].access_fqdn",
                f"Blocking NTLM and Kerberos at Edge {edge.fqdn} is only checked from inside (verify-internal.ps1 "
                f"reads its proxy settings): the plan names no Access Edge FQDN for it, so verify-external.ps1 cannot "
                f"send the unauthenticated SIP REGISTER that shows, from the Internet, that the Edge no longer offers "
                f"NTLM or Kerberos. Add the Access Edge FQDN from the topology.",
            )


# ---------------------------------------------------------------------------
# Mobility policies


def _policy_path(i: int, key: str) -> str:
    return f"mobility_policies[{i}].{key}"


def mobility_save_credentials_off(plan: PlanData) -> Iterator[Finding]:
    """AllowSaveCredentials off signs the iOS app out from the background."""
    for i, policy in enumerate(plan.mobility_policies):
        if policy.allow_save_credentials is False:
            yield _finding(
                "mobility_save_credentials_off", _policy_path(i, "allow_save_credentials"),
                f"With AllowSaveCredentials off in mobility policy {policy.identity}, the mobile app no longer "
                f"stores the password: the iOS app signs the user out whenever it comes back from the background "
                f"and asks for the password again. Tell iPhone and iPad users before the change.",
            )


def mobility_parameter_needs_cu(plan: PlanData) -> Iterator[Finding]:
    """Lync 2013 mobility parameters listed for SfB only: the sources disagree."""
    if plan.product != "lync2013":
        return
    for i, policy in enumerate(plan.mobility_policies):
        for key in LYNC2013_CU_MOBILITY_SETTINGS:
            if getattr(policy, key) is None:
                continue
            param = MOBILITY_SETTINGS[key]
            yield _finding(
                "mobility_parameter_needs_cu", _policy_path(i, key),
                f"Microsoft's documentation disagrees about {param} on Lync Server 2013: the current cmdlet help "
                f"lists it for Skype for Business Server only, while the Lync Server 2013 help lists it too. It "
                f"exists on Lync Server 2013 only with a later cumulative update, so check the cumulative update "
                f"level of the Front End servers first (Get-CsMobilityPolicy lists {param} among the policy's "
                f"properties when it is there); on an older build Set-CsMobilityPolicy stops with an "
                f"unknown-parameter error.",
            )


def mobility_exchange_connectivity_off(plan: PlanData) -> Iterator[Finding]:
    """AllowExchangeConnectivity off: the app stops sending AD credentials to Exchange."""
    for i, policy in enumerate(plan.mobility_policies):
        if policy.allow_exchange_connectivity is False:
            yield _finding(
                "mobility_exchange_connectivity_off", _policy_path(i, "allow_exchange_connectivity"),
                f"With AllowExchangeConnectivity off in mobility policy {policy.identity}, the mobile app stops "
                f"sending the user's AD credentials to Exchange, so the app's Exchange-based features are no "
                f"longer available to those users.",
            )


def mobility_disabled(plan: PlanData) -> Iterator[Finding]:
    """EnableMobility off removes the mobile app."""
    for i, policy in enumerate(plan.mobility_policies):
        if policy.enable_mobility is False:
            yield _finding(
                "mobility_disabled", _policy_path(i, "enable_mobility"),
                f"EnableMobility off in mobility policy {policy.identity}: users under this policy can no longer "
                f"use the mobile app at all.",
            )


def mobility_outside_voice_without_mobility(plan: PlanData) -> Iterator[Finding]:
    """Call via Work needs EnableMobility."""
    for i, policy in enumerate(plan.mobility_policies):
        if policy.enable_outside_voice is True and policy.enable_mobility is False:
            yield _finding(
                "mobility_outside_voice_without_mobility", _policy_path(i, "enable_outside_voice"),
                f"Mobility policy {policy.identity} turns Call via Work (EnableOutsideVoice) on but mobility off: "
                f"Call via Work only works when EnableMobility is on as well, so these users won't get it.",
            )


def mobility_site_unknown(plan: PlanData) -> Iterator[Finding]:
    """A site policy for a site no pool in the plan belongs to."""
    sites = {p.site.casefold() for p in plan.pools if p.site}
    for i, policy in enumerate(plan.mobility_policies):
        if policy.scope != "site":
            continue
        name = policy.identity.split(":", 1)[1]
        if name.casefold() in sites:
            continue
        yield _finding(
            "mobility_site_unknown", _policy_path(i, "identity"),
            f"Mobility policy {policy.identity} is for site {name!r}, but no pool in the plan is in that site. "
            f"Check the site name against the topology (Get-CsSite) and set the site of the pools that belong "
            f"to it; with a wrong name the script fails, or the policy never reaches the users meant.",
        )


def _global_policy_settings(plan: PlanData) -> list[tuple[str, str, bool]]:
    """Return (plan key, parameter, value) of the plan's Global mobility policy, empty when it has none."""
    policy = next((p for p in plan.mobility_policies if p.scope == "global"), None)
    return policy.settings() if policy is not None else []


def mobility_new_policy_defaults(plan: PlanData) -> Iterator[Finding]:
    """A new site or tag policy starts from product defaults, not from Global."""
    carried = _global_policy_settings(plan)
    for i, policy in enumerate(plan.mobility_policies):
        if policy.scope == "global":
            continue
        own = {key for key, _, _ in policy.settings()}
        inherited = [f"{param} {'$true' if value else '$false'}" for key, param, value in carried if key not in own]
        if inherited:
            what = (f"so when the script creates it, it also gives it the plan's Global values it does not set "
                    f"itself: {_names(inherited)}.")
        else:
            what = ("and the plan's Global policy has nothing to carry into it, so set the hardening this policy's "
                    "users need (AllowSaveCredentials, AllowExchangeConnectivity, ...) on the policy itself.")
        yield _finding(
            "mobility_new_policy_defaults", _policy_path(i, "identity"),
            f"A new mobility policy ({policy.identity}) starts from the product's defaults, not from the Global "
            f"policy: AllowSaveCredentials and AllowExchangeConnectivity are back to true for its users, undoing "
            f"Global's hardening, {what} If {policy.identity} already exists, it keeps its own values for every "
            f"setting the plan does not name: check them with Get-CsMobilityPolicy.",
        )


def mobility_tag_not_granted(plan: PlanData) -> Iterator[Finding]:
    """A tag policy applies only to users it is granted to; the scripts grant nothing."""
    for i, policy in enumerate(plan.mobility_policies):
        if policy.scope != "tag":
            continue
        name = policy.identity.partition(":")[2]
        yield _finding(
            "mobility_tag_not_granted", _policy_path(i, "identity"),
            f"The scripts create or change the per-user mobility policy {policy.identity} but grant it to nobody, "
            f"so it reaches no user until it is granted: run Grant-CsMobilityPolicy -Identity <user> -PolicyName "
            f"<policy name> with the policy name {name} for each of its users (the runbook lists this step).",
        )


def mobility_policy_empty(plan: PlanData) -> Iterator[Finding]:
    """A policy with no settings emits nothing (plan format: omitted means unchanged)."""
    for i, policy in enumerate(plan.mobility_policies):
        if not policy.settings():
            yield _finding(
                "mobility_policy_empty", _policy_path(i, "identity"),
                f"Mobility policy {policy.identity} names no setting, so nothing is changed for it.",
            )


# ---------------------------------------------------------------------------
# Names and certificates


def external_web_same_as_internal(plan: PlanData) -> Iterator[Finding]:
    """Internal and external web services names should differ."""
    for i, pool in enumerate(plan.pools):
        if _auth_mode(pool) is AuthMode.PASSIVE:
            continue  # passive_same_web_names reports it as an error
        if pool.external_web_fqdn and pool.external_web_fqdn == pool.internal_web:
            yield _finding(
                "external_web_same_as_internal", f"pools[{i}].external_web_fqdn",
                f"{pool.fqdn} uses {pool.external_web_fqdn} for both internal and external web services. The "
                f"reverse proxy publishes the external name on port 443 and forwards to 4443, so one name for both "
                f"needs split DNS and a certificate that fits both sides. Check this matches the topology.",
            )


def _named_roles(plan: PlanData) -> Iterator[tuple[str, str, tuple[str, str], str]]:
    """Yield (name, field path, (owner, side), description) for every DNS name the plan holds.

    `sip.<domain>` comes first (when some Edge pool has an Access Edge FQDN, the plan puts it on the Edge
    certificate and points it at the Access Edge), so a field that reuses it is the one reported.
    """
    if any(e.access_fqdn for e in plan.edge_pools):
        for k, domain in enumerate(plan.sip_domains):
            yield (f"sip.{domain}", f"sip_domains[{k}]", (SIP_NAMES, "external"),
                   f"the Access Edge name of SIP domain {domain} (on the Edge certificate)")
    for i, p in enumerate(plan.pools):
        owner = f"pools[{i}]"
        yield p.fqdn, f"{owner}.fqdn", (owner, "internal"), f"the FQDN of pool {p.fqdn}"
        if p.internal_web_fqdn:
            yield (p.internal_web_fqdn, f"{owner}.internal_web_fqdn", (owner, "internal"),
                   f"the internal web services FQDN of pool {p.fqdn}")
        if p.external_web_fqdn:
            yield (p.external_web_fqdn, f"{owner}.external_web_fqdn", (owner, "external"),
                   f"the external web services FQDN of pool {p.fqdn}")
    for j, e in enumerate(plan.edge_pools):
        owner = f"edge_pools[{j}]"
        yield e.fqdn, f"{owner}.fqdn", (owner, "internal"), f"the internal FQDN of Edge pool {e.fqdn}"
        for key, what in (("access_fqdn", "Access Edge"), ("webconf_fqdn", "Web Conferencing Edge"),
                          ("av_fqdn", "A/V Edge")):
            name = getattr(e, key)
            if name:
                yield name, f"{owner}.{key}", (owner, "external"), f"the {what} FQDN of Edge pool {e.fqdn}"
    if plan.adfs:
        yield (plan.adfs.federation_service_name, "adfs.federation_service_name", ("adfs", "external"),
               "the AD FS federation service name")
    if plan.office_web_apps_fqdn:
        yield (plan.office_web_apps_fqdn, "office_web_apps_fqdn", ("office_web_apps", "internal"),
               "the Office Web Apps Server FQDN")
    if plan.simple_urls:
        for i, name in enumerate(plan.simple_urls.meet):
            yield name, f"simple_urls.meet[{i}]", (SIMPLE_URLS, "external"), "a meet simple URL"
        if plan.simple_urls.dialin:
            yield plan.simple_urls.dialin, "simple_urls.dialin", (SIMPLE_URLS, "external"), "the dial-in simple URL"
        if plan.simple_urls.admin:
            yield plan.simple_urls.admin, "simple_urls.admin", (SIMPLE_URLS, "internal"), "the admin simple URL"


SIP_NAMES = "sip_domains"
SIMPLE_URLS = "simple_urls"


def _may_share(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Return True when two uses of one name are legitimate or reported by another rule."""
    if a == b:
        return True  # e.g. a pool FQDN that is also its internal web name; the Edge's external names
    owners = {a[0], b[0]}
    if SIMPLE_URLS in owners:
        # Simple URLs may share one host (Microsoft's one-base-URL option), also a pool's external web
        # services name, which serves /meet and /dialin itself. Anything else is another listener.
        other = (a if b[0] == SIMPLE_URLS else b)
        return other[0] == SIMPLE_URLS or (other[0].startswith("pools[") and other[1] == "external")
    if SIP_NAMES in owners:
        # sip.<domain> may be any Edge pool's external name (its Access Edge FQDN, or one name for the whole
        # Edge), and inside a pool may answer it for legacy automatic sign-in; nothing else published.
        other = a if b[0] == SIP_NAMES else b
        return other[0].startswith("edge_pools[") or (other[0].startswith("pools[") and other[1] == "internal")
    # One pool's internal and external web names: external_web_same_as_internal / passive_same_web_names.
    return a[0] == b[0] and a[0].startswith("pools[")


def duplicate_name(plan: PlanData) -> Iterator[Finding]:
    """One DNS name used for two different roles.

    Each use is compared with every earlier use of the name, not only the first: two uses may each share
    the name with a third (sip.<domain>, say) and still not with each other.
    """
    earlier: dict[str, list[tuple[str, tuple[str, str], str]]] = {}
    for name, path, owner, what in _named_roles(plan):
        uses = earlier.setdefault(name, [])
        clash = next((use for use in uses if not _may_share(use[1], owner)), None)
        uses.append((path, owner, what))
        if clash is None:
            continue
        seen_path, _, seen_what = clash
        yield _finding(
            "duplicate_name", path,
            f"{name} is {what} and also {seen_what} ({seen_path}). One name cannot serve two roles: each needs "
            f"its own DNS record and certificate. Use the names from the topology.",
        )


def sip_domain_no_access_edge(plan: PlanData) -> Iterator[Finding]:
    """Each SIP domain wants sip.<domain> on the Edge external certificate."""
    if not plan.edge_pools:
        return
    access = {e.access_fqdn for e in plan.edge_pools if e.access_fqdn}
    for k, domain in enumerate(plan.sip_domains):
        name = f"sip.{domain}"
        if name in access:
            continue
        if access:
            known = f"No Edge pool in the plan uses {name} as its Access Edge name."
        else:
            known = f"The plan names no Access Edge FQDN, so it cannot tell whether {name} is covered."
        yield _finding(
            "sip_domain_no_access_edge", f"sip_domains[{k}]",
            f"{known} Clients of {domain} find the Edge through _sip._tls.{domain}, which points at {name}, an A "
            f"record for the Access Edge address (dns-records.md): the Edge external certificate must name it, or "
            f"automatic sign-in fails the certificate check. certificates-edge.ps1 requests it for every SIP "
            f"domain of the plan; an Edge certificate issued earlier without it must be replaced.",
        )


def edge_av_equals_access(plan: PlanData) -> Iterator[Finding]:
    """A/V Edge and Access Edge names normally differ."""
    for j, edge in enumerate(plan.edge_pools):
        if edge.av_fqdn and edge.av_fqdn == edge.access_fqdn:
            yield _finding(
                "edge_av_equals_access", f"edge_pools[{j}].av_fqdn",
                f"Edge {edge.fqdn} uses {edge.av_fqdn} for both the Access Edge and the A/V Edge. That only works "
                f"with the topology's single FQDN and IP address option (the services then listen on different "
                f"ports); otherwise use the A/V Edge FQDN from the topology. The A/V Edge name is never on the "
                f"certificate.",
            )


def autodiscover_names_on_certificate(plan: PlanData) -> Iterator[Finding]:
    """Autodiscover on 443 needs lyncdiscover.<domain> on the reverse proxy certificate."""
    if plan.autodiscover_port != 443 or not any(p.external_web_fqdn for p in plan.pools):
        return
    names = [f"lyncdiscover.{d}" for d in plan.sip_domains]
    if len(names) == 1:
        needs = f"{names[0]} for the SIP domain"
    else:
        needs = f"a lyncdiscover name for each of the {len(names)} SIP domains: {_names(names)}"
    yield _finding(
        "autodiscover_names_on_certificate", "autodiscover_port",
        f"Autodiscover is published on port 443, so the reverse proxy certificate needs {needs}. Publishing "
        f"Autodiscover on port 80 instead (autodiscover_port 80) needs no certificate change.",
    )


def adfs_on_reverse_proxy(plan: PlanData) -> Iterator[Finding]:
    """AD FS on the reverse proxy listener adds its name to that certificate."""
    adfs = plan.adfs
    if adfs is None or not adfs.published_on_reverse_proxy:
        return
    extra = ""
    if adfs.mfa == "extranet":
        extra = (" If that reverse proxy is not a Web Application Proxy or AD FS proxy, AD FS treats Internet "
                 "requests as internal and the extranet MFA rule never fires.")
    yield _finding(
        "adfs_on_reverse_proxy", "adfs.published_on_reverse_proxy",
        f"AD FS shares the reverse proxy listener, so put {adfs.federation_service_name} on the reverse proxy "
        f"certificate next to the web services names (not needed if the proxy picks a certificate per name with "
        f"SNI).{extra}",
    )


def edge_certificate_internal_ca(plan: PlanData) -> Iterator[Finding]:
    """The external certificates come from the CA the plan names: clients outside need a public CA."""
    ca = plan.certificates.ca if plan.certificates else None
    if ca is None:
        return
    which = []
    if any(e.access_fqdn for e in plan.edge_pools):
        which.append("the Edge external certificate (Request-CsCertificate -CA)")
    if any(p.external_web_fqdn for p in plan.pools):
        which.append("the reverse proxy certificate (its request carries CertificateTemplate WebServer)")
    if not which:
        return
    yield _finding(
        "edge_certificate_internal_ca", "certificates.ca",
        f"The plan sends {_names(which)} to the online CA {ca}. Clients on the Internet, mobile devices and "
        f"federated partners only trust certificates from a public CA, so an internal enterprise CA's certificate "
        f"on the Edge or the reverse proxy makes external sign-in and federation fail for everyone who does not "
        f"trust that CA. Leave certificates.ca out to get offline requests for a public CA.",
    )


# ---------------------------------------------------------------------------
# Scope


def service_scope_only(plan: PlanData) -> Iterator[Finding]:
    """Settings are changed per service, never at global scope."""
    if not (any(p.auth for p in plan.pools) or any(e.block_ntlm for e in plan.edge_pools)):
        return
    yield _finding(
        "service_scope_only", "pools",
        "The scripts change web service and proxy settings per pool and per Edge (service:WebServer:<pool>, "
        "service:Registrar:<pool>, service:EdgeServer:<edge>), never at global scope: passive authentication "
        "switched on globally would reach every pool and Edge at once and is known to cause sign-in failures "
        "across the whole organisation. Pools and Edge pools not in the plan keep their settings. A service "
        "collection the script has to create would start from the product's defaults, so it is created with the "
        "authentication, certificate, meeting and Web App settings of the collection that applied until then (the "
        "pool's site collection, else the global one) that the plan does not set; "
        + ", ".join(WEB_NOT_INHERITED) + " start from the product's defaults there: if your site or global "
        "collection changed them, set them on the new collection afterwards." + (
            " Modern Authentication is the exception: its OAuth configuration and its Set-CsAuthConfig scenario "
            "are global by design (modern_auth)." if plan.modern_auth is not None else ""),
    )


# ---------------------------------------------------------------------------

def mfa_topology_unchecked(plan: PlanData) -> Iterator[Finding]:
    """Without a state file, the MFA promise is checked against the pools and Edge pools the plan names only:
    a Director, Front End or Edge pool of the topology that the plan does not list is not in the model.
    `check_plan` drops it when a state file with Management Shell data puts the whole topology in the model."""
    if not mfa_promised(plan) or plan.adfs is None:
        return
    named = [p.fqdn for p in plan.pools] + [e.fqdn for e in plan.edge_pools]
    # With Modern Authentication a pool outside the plan stops the script whatever is accepted (its users could not
    # sign in): only Edge pools can be accepted there (risks_to_offer, accepts_outside_plan).
    accepted = ("(accepted_risks: field pools for Front End and Director pools, edge_pools for Edge pools" if
                plan.modern_auth is None else "(Edge pools only, as Modern Authentication would lock a Front End or "
                "Director pool's users out: accepted_risks, field edge_pools")
    yield _finding(
        "mfa_topology_unchecked", "adfs.mfa",
        f"The plan promises that no Internet sign-in works with a password alone, and the tool checks that against "
        f"the pools and Edge pools the plan names ({_names(named)}) only: without a state file it cannot see the "
        f"rest of the topology. A Director, Front End pool or Edge pool that the plan does not list keeps its "
        f"settings, so its NTLM, Kerberos or PIN sign-in from the Internet (a Director's web services and Registrar "
        f"take them for users of every pool) would break the promise unseen. Run collect-state.ps1 and check the "
        f"plan against its state file (every pool of the topology is then in the model), or list every Director, "
        f"Front End and Edge pool of the topology in the plan (in the web wizard: on the Environment step, leaving "
        f"its authentication unchanged when it keeps its settings). lync-management-shell.ps1 reads the topology "
        f"before its first change and stops on any such pool, unless the plan records the risk as accepted "
        f"{accepted}; in the web wizard: \"Accepted risks\" on the Review step).",
    )


RULES: tuple[Rule, ...] = (
    product_out_of_support,
    modern_auth_product_unsupported,
    modern_auth_adfs_version,
    modern_auth_passive_pool,
    modern_auth_pool_auth_conflict,
    modern_auth_not_recommended,
    modern_auth_clients,
    modern_auth_sip_ntlm_inside,
    modern_auth_web_pages,
    modern_auth_adfs_password_surface,
    passive_adfs_password_surface,
    modern_auth_certificate_auth_kept,
    modern_auth_global_scope,
    modern_auth_needs_cu,
    modern_auth_office2013,
    modern_auth_setup_script,
    modern_auth_enable_computer,
    modern_auth_without_mfa,
    modern_auth_resource_forest,
    passive_pool_wide,
    passive_unsupported_clients,
    passive_exchange_features_lost,
    passive_certificate_auth,
    passive_relying_party_metadata,
    passive_external_web_fqdn_missing,
    passive_same_web_names,
    passive_modern_auth_conflict,
    passive_dns_discovery,
    passive_lwa_domain_auth,
    web_forms_sign_in_unverified,
    passive_pin_auth_off,
    passive_needs_cu,
    adfs_unused,
    mfa_adfs20_unsupported,
    mfa_extranet_only_via_proxy,
    mfa_provider_required,
    mfa_always_prompts_internal,
    mfa_access_control_policy,
    mfa_certificates_issued_before,
    mfa_topology_unchecked,
    adfs_windows_auth_on_internet,
    edge_ntlm_block_sip_only,
    tls_dsk_first_certificate,
    tls_dsk_certificate_lifetime,
    tls_dsk_unsupported_clients,
    edge_block_unsupported_clients,
    tls_dsk_edge_not_blocking,
    tls_dsk_certificate_auth_off,
    certificate_auth_off_phones,
    registrar_block_on_ntlm_pool,
    registrar_ntlm_blocked,
    pin_auth_blocked,
    certificate_lifetime_bounds,
    ntlm_exposed,
    ntlm_pool_edge_blocks,
    edge_ntlm_exposed,
    edge_block_not_probed,
    mobility_save_credentials_off,
    mobility_parameter_needs_cu,
    mobility_exchange_connectivity_off,
    mobility_disabled,
    mobility_outside_voice_without_mobility,
    mobility_site_unknown,
    mobility_policy_empty,
    mobility_new_policy_defaults,
    mobility_tag_not_granted,
    external_web_same_as_internal,
    duplicate_name,
    sip_domain_no_access_edge,
    edge_av_equals_access,
    autodiscover_names_on_certificate,
    adfs_on_reverse_proxy,
    edge_certificate_internal_ca,
    service_scope_only,
)


# ---------------------------------------------------------------------------
# The exposure model: the matrix as notes, and the promises the plan breaks as errors


def _path_words(path: SignInPath) -> str:
    return (f"{CREDENTIAL_FACTS[path.credential].short}: {describe_access(path.before)} \u2192 "
            f"{describe_access(path.after)}")


_EXPOSURE_CODE = {
    EntryKind.EDGE_SIP: "exposure_edge_sip",
    EntryKind.REGISTRAR: "exposure_registrar",
    EntryKind.WEB_SERVICES: "exposure_web_services",
    EntryKind.ADFS: "exposure_adfs",
}


def exposure_matrix(plan: PlanData, model: Exposure) -> Iterator[Finding]:
    """One note per entry point: who signs in there from the Internet, with what, before and after the plan."""
    for entry in model.entries:
        paths = model.paths_at(entry.key)
        if not paths:
            continue
        where = f" ({entry.host})" if entry.host and entry.host not in entry.label else ""
        yield _finding(
            _EXPOSURE_CODE[entry.kind], entry.field,
            f"From the Internet, {entry.label}{where}, through {entry.via}, for {paths[0].users}: "
            + "; ".join(_path_words(p) for p in paths) + ".",
        )
    for issue in model.issuance:
        how = ", ".join(CREDENTIAL_FACTS[c].short for c in issue.credentials_after) or "nothing"
        yield _finding(
            "exposure_certificate", issue.field,
            f"Users of {issue.pool_label} first obtain a Lync client certificate from "
            f"{issue.after.why.split(': ')[0]}: "
            f"before {describe_access(issue.before)} \u2192 after {describe_access(issue.after)}; after the plan "
            f"CertProv takes {how}.",
        )


def exposure_promises(plan: PlanData, model: Exposure) -> Iterator[Finding]:
    """Every promise the plan breaks in its own exposure model is an error on the field that closes it."""
    for broken in broken_promises(plan, model=model):
        yield _finding(broken.code, broken.field, broken.message)


# ---------------------------------------------------------------------------
# Accepted risks


def may_accept(finding: Finding) -> bool:
    """Return True when a plan may record this finding as an accepted risk (an error about a broken promise)."""
    return finding.severity == "error" and finding.code in ACCEPTABLE_RISK_CODES


def acceptable_errors(findings: list[Finding]) -> list[Finding]:
    """Return the errors a plan may record as accepted risks (what the wizard offers to accept)."""
    return [f for f in findings if may_accept(f)]


# The topology's pools and Edge pools that a plan promising MFA does not list: lync-management-shell.ps1 stops on them
# unless the plan accepts that risk (accepts_outside_plan). Without a state file no error names them, so the wizard
# offers that acceptance beside the errors (risks_to_offer), recorded with the code a state file gives their broken
# promise (one of OUTSIDE_PLAN_RISK_CODES) and read back by the same rule as a plan file's entry.
OUTSIDE_PLAN_TITLES: dict[str, str] = {
    "pools": "Front End and Director pools not in the plan",
    "edge_pools": "Edge pools not in the plan",
}


def risk_field_label(field_name: str, doc: Any = None) -> str:
    """Return the label of the field a broken promise or an accepted risk names: the topology's pools outside the
    plan by their title, any other field as the wizard's forms name it (`explain.label_for`)."""
    return OUTSIDE_PLAN_TITLES.get(field_name) or label_for(field_name, doc)
_OUTSIDE_PLAN_OFFERS: dict[str, tuple[str, str]] = {
    "pools": ("mfa_web_password_open",
              "A Front End or Director pool of the topology that the plan does not list keeps its settings, so its "
              "NTLM, Kerberos or PIN sign-in from the Internet breaks the MFA promise (a Director signs in users of "
              "every pool), and lync-management-shell.ps1 stops before its first change on it. Add each such pool "
              "on the Environment step (with \"Leave unchanged\" on the Authentication step when it keeps its "
              "settings), or accept here that they keep their settings."),
    "edge_pools": ("mfa_edge_password_open",
                   "An Edge pool of the topology that the plan does not list keeps its settings, so its NTLM or "
                   "Kerberos SIP sign-in from the Internet breaks the MFA promise, and lync-management-shell.ps1 "
                   "stops before its first change on it. Add each such Edge pool on the Environment step (and block "
                   "NTLM there on the Authentication step), or accept here that they keep their settings."),
}


def risks_to_offer(plan: PlanData | None, findings: list[Finding]) -> list[Finding]:
    """Return what the wizard offers to record as accepted risks: the acceptable errors, then, for a plan that
    promises MFA, that the topology's pools (`pools`) and Edge pools (`edge_pools`) it does not list keep their
    settings, where the plan does not accept that yet and no error on that field would. With Modern Authentication
    only Edge pools: a pool outside that plan stops the script whatever is accepted."""
    offered = acceptable_errors(findings)
    if plan is None or not mfa_promised(plan):
        return offered
    for field_name in ("pools", "edge_pools") if plan.modern_auth is None else ("edge_pools",):
        codes = OUTSIDE_PLAN_RISK_CODES[field_name]
        if accepts_outside_plan(plan, field_name) or any(f.field == field_name and f.code in codes for f in offered):
            continue
        code, message = _OUTSIDE_PLAN_OFFERS[field_name]
        offered.append(Finding("warning", code, field_name, message))
    return offered


def apply_accepted_risks(plan: PlanData, findings: list[Finding]) -> list[Finding]:
    """Return `findings` with each accepted error turned into a warning that says so, plus a warning for
    each accepted risk that matches no error."""
    accepted = {(a.code, a.field): a for a in plan.accepted_risks}
    used: set[tuple[str, str]] = set()
    out: list[Finding] = []
    for f in findings:
        risk = accepted.get((f.code, f.field))
        if risk is not None and may_accept(f):
            used.add((f.code, f.field))
            out.append(Finding("warning", f.code, f.field, f"accepted: {risk.reason.rstrip('.')}. {f.message}"))
        else:
            out.append(f)
    # An accepted risk on `pools` or `edge_pools` under an MFA promise is also read by lync-management-shell.ps1: it
    # lets the script go on past the topology's pools the plan does not list (accepts_outside_plan_risk).
    for i, risk in enumerate(plan.accepted_risks):
        if (risk.code, risk.field) not in used and not accepts_outside_plan_risk(plan, risk):
            out.append(_finding(
                "accepted_risk_unused", f"accepted_risks[{i}]",
                f"The plan accepts {risk.code} on {risk.field}, but the plan has no such error (any more): remove "
                f"this accepted risk, so that it cannot hide the error if it comes back for another reason.",
            ))
    return out


def check_plan(plan: PlanData, *, estate: Estate | None = None) -> list[Finding]:
    """Return every finding of every rule for `plan`, in rule order (deterministic).

    The exposure model (`wizard.plan.exposure`) adds its matrix notes and the errors of broken promises;
    `estate` (what the servers hold today) replaces "as today (unknown)" with what is known. Accepted
    risks then turn their errors into warnings.
    """
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(plan))
    if estate is not None and estate.has_management_shell_data:
        # The estate's other pools and Edge pools are part of the model: the promise is checked against them.
        findings = [f for f in findings if f.code != "mfa_topology_unchecked"]
    model = exposure(plan, estate=estate)
    findings.extend(exposure_promises(plan, model))
    # A plan that touches no sign-in setting, read without a state file, would get a matrix of unknowns.
    if estate is not None or plan.edge_pools or any(p.auth for p in plan.pools) or plan.modern_auth is not None:
        findings.extend(exposure_matrix(plan, model))
    return apply_accepted_risks(plan, findings)
