"""Intended versus actual: what a plan would change in an estate as a state file found it, and
the estate facts that make the plan unsafe or impossible.

`estate_report(plan, estate)` compares every setting the plan sets (wizard.plan.intended)
with the value that applies today (wizard.plan.estate: service, then site, then global) and
returns one row per setting (`change`, `no_op` or `unknown`) plus findings with stable codes
(`ESTATE_FINDING_CODES`, documented in docs/findings.md):

* one `estate_change` or `estate_no_op` note per setting, so `check_plan --state` lists
  every setting the estate does not have yet and marks the ones that change nothing;
* estate facts: a site or tag mobility policy that overrides the hardened Global one (a tag
  policy the hardened site one), an AD FS trust that already holds the identifier (or the
  name) of a trust the plan adds, or is disabled, a proxy collection with certificate
  authentication off where the plan turns NTLM off, a new collection that would start from
  defaults instead of the values in effect today, a pool passive today that the plan gives
  another mode (no mode turns passive off), names the topology does not have, another
  product or AD FS farm than the plan's (passive pools or Modern Authentication), no Web
  Application Proxy in front of an extranet-MFA farm, a certificate expired or about to.

The rules only read the estate; nothing here reaches a script. Pure Python: no Django, no
database.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from wizard.plan.estate import STATE_PRODUCTS, Estate, EstateAdfs, EstateMobilityPolicy
from wizard.plan.exposure import accepts_outside_plan, mfa_promised
from wizard.plan.finding import Finding, sort_findings
from wizard.plan.intended import (
    MOBILITY_KEYS,
    PROXY_INHERITED,
    WEB_INHERITED,
    IntendedCollection,
    IntendedSetting,
    IntendedTrust,
    creates_web_collection,
    intended_collections,
    intended_trusts,
    mobile_preferred_refused,
)
from wizard.plan.model import (
    ADFS_VERSIONS,
    MOBILITY_SETTINGS,
    PRODUCTS,
    SUBSCRIPTION_EDITION,
    SUBSCRIPTION_EDITION_AS,
    PlanData,
)

# code -> severity. Every finding this module emits uses one of these codes.
ESTATE_FINDING_CODES: dict[str, str] = {
    "estate_change": "info",
    "estate_no_op": "info",
    "estate_not_collected": "info",
    "estate_collection_created": "info",
    "estate_collection_resets": "warning",
    "estate_mobility_override": "warning",
    "estate_relying_party_present": "info",
    "estate_relying_party_identifier_taken": "error",
    "estate_relying_party_name_taken": "error",
    "estate_relying_party_disabled": "error",
    "estate_relying_party_legacy_rules": "warning",
    "estate_proxy_certificate_auth_off": "warning",
    "estate_product_mismatch": "error",
    "estate_product_subscription_edition": "warning",
    "estate_passive_with_modern_auth": "error",
    "estate_passive_kept": "warning",
    "estate_mobile_preferred_auth_refused": "error",
    "estate_passive_dropped_windows_off": "warning",
    "estate_modern_auth_pool_missing": "error",
    "estate_mfa_topology_outside_plan": "error",
    "estate_not_in_topology": "error",
    "estate_topology_differs": "warning",
    "estate_adfs_farm_mismatch": "error",
    "estate_adfs_version_mismatch": "error",
    "estate_adfs_version_unknown": "warning",
    "estate_no_web_application_proxy": "warning",
    "estate_certificate_expires": "warning",
}

# A certificate that expires within this many days of the collection is reported with the expired ones: a plan is
# rarely run the day the state is collected.
CERTIFICATE_NOTICE_DAYS = 30

# Cmdlet parameter -> the estate attribute that holds its value today.
WEB_SERVICE_ATTRIBUTES = {
    "UseWsFedPassiveAuth": "use_ws_fed_passive_auth",
    "WsFedPassiveMetadataUri": "ws_fed_passive_metadata_uri",
    "UseWindowsAuth": "use_windows_auth",
    "UseCertificateAuth": "use_certificate_auth",
    "UsePinAuth": "use_pin_auth",
    "DefaultValidityPeriodHours": "default_validity_period_hours",
    "MinValidityPeriodHours": "min_validity_period_hours",
    "MaxValidityPeriodHours": "max_validity_period_hours",
}
PROXY_ATTRIBUTES = {
    "UseNtlmForClientToProxyAuth": "use_ntlm_for_client_to_proxy_auth",
    "UseKerberosForClientToProxyAuth": "use_kerberos_for_client_to_proxy_auth",
    "UseCertificateForClientToProxyAuth": "use_certificate_for_client_to_proxy_auth",
}
TRUST_ATTRIBUTES = {
    "AccessControlPolicyName": "access_control_policy_name",
    "IssuanceAuthorizationRules": "issuance_authorization_rules",
    "IssuanceTransformRules": "issuance_transform_rules",
    "AdditionalAuthenticationRules": "additional_authentication_rules",
}

# What a collection created by New-Cs* starts from, per the cmdlet help (the documented defaults
# only): settings the plan does not name take these values, not the ones in effect today.
WEB_SERVICE_DEFAULTS: dict[str, Any] = {
    "UseCertificateAuth": True, "UsePinAuth": True, "UseWsFedPassiveAuth": False,
    "DefaultValidityPeriodHours": 4320, "MinValidityPeriodHours": 8, "MaxValidityPeriodHours": 8760,
}
PROXY_DEFAULTS: dict[str, Any] = {
    "UseNtlmForClientToProxyAuth": True, "UseKerberosForClientToProxyAuth": True,
    "UseCertificateForClientToProxyAuth": True,
}
# Mobility defaults by plan key (the cmdlet parameter names live in MOBILITY_SETTINGS only).
MOBILITY_DEFAULTS: dict[str, Any] = {MOBILITY_SETTINGS[key]: value for key, value in {
    "enable_mobility": True, "enable_outside_voice": True, "enable_ip_audio_video": True,
    "require_wifi_for_ip_audio": False, "require_wifi_for_ip_video": False, "require_wifi_for_sharing": False,
    "allow_save_credentials": True, "allow_exchange_connectivity": True, "allow_save_im_history": True,
    "allow_save_call_logs": True, "allow_customer_experience_improvement_program": True,
}.items()}
DEFAULTS = {"web_service": WEB_SERVICE_DEFAULTS, "proxy": PROXY_DEFAULTS, "mobility": MOBILITY_DEFAULTS}
NEW_CMDLETS = {"web_service": "New-CsWebServiceConfiguration", "proxy": "New-CsProxyConfiguration",
               "mobility": "New-CsMobilityPolicy"}
KIND_LABELS = {"web_service": "Web service configuration", "proxy": "Proxy configuration",
               "mobility": "Mobility policy", "relying_party": "AD FS relying party trust"}

# AD FS claim rules: compared token by token, not character by character.
RULE_PARAMETERS = frozenset({"IssuanceAuthorizationRules", "IssuanceTransformRules", "AdditionalAuthenticationRules"})
# Text settings that the collector writes as null when they are empty (not when it failed to read them).
EMPTY_WHEN_NULL = frozenset({"WsFedPassiveMetadataUri"})

CHANGE = "change"
NO_OP = "no_op"
UNKNOWN = "unknown"
STATUS_LABELS = {CHANGE: "changes", NO_OP: "no change (already set)", UNKNOWN: "not in the state file"}


@dataclass(frozen=True)
class DriftRow:
    """One setting the plan sets: its value today and after the change."""

    kind: str          # web_service | proxy | mobility | relying_party
    identity: str      # the collection (or trust) the script changes
    setting: str       # cmdlet parameter (or "RelyingPartyTrust" for the trust itself)
    field: str         # plan path that asks for it
    intended: str
    actual: str
    source: str        # the collection the value today comes from ("" when there is none)
    status: str        # change | no_op | unknown

    @property
    def kind_label(self) -> str:
        """Return what kind of object the row is about, for display."""
        return KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        """Return the status for display."""
        return STATUS_LABELS[self.status]

    @property
    def inherited(self) -> bool:
        """Return True when today's value comes from another scope than the one the script changes."""
        return bool(self.source) and self.source.casefold() != self.identity.casefold()


@dataclass(frozen=True)
class EstateReport:
    """The intended-versus-actual rows and the estate findings for one plan and one estate."""

    rows: tuple[DriftRow, ...]
    findings: tuple[Finding, ...]

    @property
    def changes(self) -> int:
        """Return how many settings the plan changes."""
        return sum(1 for r in self.rows if r.status == CHANGE)

    @property
    def no_ops(self) -> int:
        """Return how many settings the plan sets to the value they already have."""
        return sum(1 for r in self.rows if r.status == NO_OP)

    @property
    def unknown(self) -> int:
        """Return how many settings the state file does not tell."""
        return sum(1 for r in self.rows if r.status == UNKNOWN)


def _finding(code: str, field: str, message: str) -> Finding:
    return Finding(ESTATE_FINDING_CODES[code], code, field, message)


# ---------------------------------------------------------------------------
# Values


def show(value: Any) -> str:
    """Return a value the way the cmdlets display it (True/False, numbers, text)."""
    if value is None:
        return "not reported"
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


_SPACE_RE = re.compile(r"\s+")


def _same_value(actual: Any, intended: Any, parameter: str = "") -> bool:
    if isinstance(intended, bool):
        return actual is intended
    if isinstance(intended, int):
        return isinstance(actual, int) and not isinstance(actual, bool) and actual == intended
    if parameter in RULE_PARAMETERS:
        return _rule_text(str(actual)) == _rule_text(str(intended))
    # Text: enum names, policy names and URLs compare without case (and a URL without its last slash).
    a = _SPACE_RE.sub(" ", str(actual)).strip().rstrip("/").casefold()
    b = _SPACE_RE.sub(" ", str(intended)).strip().rstrip("/").casefold()
    return a == b


def _rule_text(text: str) -> str:
    """Return claim rules without the white space between their tokens (AD FS keeps rules as typed,
    on one line or several), keeping what is inside double quotes exactly."""
    out, quoted = [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if quoted or not ch.isspace():
            out.append(ch)
    return "".join(out)


def _short(text: str, width: int = 90) -> str:
    flat = _SPACE_RE.sub(" ", text).strip()
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _names(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------
# Which collection applies today


def _applies(estate: Estate, plan: PlanData, c: IntendedCollection) -> tuple[Any, Any]:
    """Return (the collection with exactly this identity, the one that applies today) from the estate."""
    if c.kind == "web_service":
        own = estate.web_service(c.identity)
        fqdn = c.identity.split(":", 2)[2]
        site = next((p.site for p in plan.pools if p.fqdn == fqdn and p.site), None)
        return own, own or estate.web_service_for(fqdn, site=site)
    if c.kind == "proxy":
        own_proxy = estate.proxy(c.identity)
        return own_proxy, own_proxy or estate.proxy("Global")
    own_policy = estate.mobility_policy(c.identity)
    if own_policy is not None:
        return own_policy, own_policy
    # A new site policy replaces Global for that site's users; a new tag policy has no users yet.
    return None, estate.mobility_policy("Global") if c.identity.casefold().startswith("site:") else None


def _value(collection: Any, kind: str, parameter: str) -> Any:
    if collection is None:
        return None
    if kind == "mobility":
        key = MOBILITY_KEYS.get(parameter)
        return collection.get(key) if key else None
    attribute = (WEB_SERVICE_ATTRIBUTES if kind == "web_service" else PROXY_ATTRIBUTES).get(parameter)
    return getattr(collection, attribute) if attribute else None


def _row(kind: str, identity: str, s: IntendedSetting, actual: Any, source: str) -> DriftRow:
    status = UNKNOWN if actual is None else (NO_OP if _same_value(actual, s.value, s.parameter) else CHANGE)
    return DriftRow(kind=kind, identity=identity, setting=s.parameter, field=s.field, intended=show(s.value),
                    actual=show(actual), source=source, status=status)


def _row_finding(row: DriftRow) -> Finding:
    where = f"{KIND_LABELS[row.kind]} {row.identity}"
    if row.status == NO_OP:
        return _finding("estate_no_op", row.field, f"{where}: {row.setting} is already {_short(row.intended)} in the "
                                                   f"estate, so setting it changes nothing (no-op).")
    if row.status == UNKNOWN:
        today = "the state file does not report it"
    else:
        today = f"today {_short(row.actual)}"
        if row.inherited:
            today += f" (from {row.source}, which applies to it now)"
    return _finding("estate_change", row.field, f"{where}: {row.setting}, {today}; the plan sets "
                                                f"{_short(row.intended)}.")


# ---------------------------------------------------------------------------
# Collections


def _collections(plan: PlanData, estate: Estate, rows: list[DriftRow]) -> Iterator[Finding]:
    collections = intended_collections(plan)
    if not estate.has_management_shell_data:
        if collections:
            yield _finding("estate_not_collected", "pools",
                           "The state file has no Management Shell part, so the web service, proxy and mobility "
                           "settings the plan changes cannot be compared with the estate: run collect-state.ps1 in "
                           "the Management Shell on a Front End server too.")
        return
    for c in collections:
        own, applies = _applies(estate, plan, c)
        source = applies.identity if applies is not None else ""
        for s in c.settings:
            actual = _value(applies, c.kind, s.parameter)
            if actual is None and applies is not None and s.parameter in EMPTY_WHEN_NULL:
                actual = "(none)"   # the collector writes an empty URI as null
            row = _row(c.kind, c.identity, s, actual, source)
            rows.append(row)
            yield _row_finding(row)
        if c.kind == "proxy":
            yield from _proxy_certificate(c, own)
        if own is None:
            yield from _created(c, applies, plan)


def _copied_from_parent(c: IntendedCollection, plan: PlanData) -> set[str]:
    """Return the parameters the script gives a new collection beyond the plan's own settings for it."""
    if c.kind == "web_service":
        return {param for param, products in WEB_INHERITED if plan.product in products}
    if c.kind == "proxy":
        return set(PROXY_INHERITED)
    # A new site or tag policy gets the plan's Global settings it does not set itself (not the estate's), so that
    # Global's hardening reaches its users too.
    return {param for policy in plan.mobility_policies if policy.scope == "global"
            for _, param, _ in policy.settings()}


def _created(c: IntendedCollection, applies: Any, plan: PlanData) -> Iterator[Finding]:
    """A collection the script creates starts from the cmdlet's defaults, except what the script copies."""
    set_here = {s.parameter for s in c.settings} | _copied_from_parent(c, plan)
    today = f"today {applies.identity} applies to it" if applies is not None else "nothing applies to it yet"
    yield _finding("estate_collection_created", f"{c.field}",
                   f"The estate has no {KIND_LABELS[c.kind].lower()} {c.identity}: the script creates it with "
                   f"{NEW_CMDLETS[c.kind]} ({today}).")
    if applies is None:
        return
    resets = []
    for parameter, default in DEFAULTS[c.kind].items():
        if parameter in set_here:
            continue
        inherited = _value(applies, c.kind, parameter)
        if inherited is not None and not _same_value(inherited, default):
            resets.append(f"{parameter} (today {show(inherited)}, then {show(default)})")
    if resets:
        yield _finding("estate_collection_resets", c.field,
                       f"The new {KIND_LABELS[c.kind].lower()} {c.identity} starts from the cmdlet's defaults, not "
                       f"from {applies.identity}, which applies today: {_names(resets)}. Add those settings to "
                       f"the plan if they must stay as they are.")


def _proxy_certificate(c: IntendedCollection, own: Any) -> Iterator[Finding]:
    """NTLM and Kerberos off where certificate authentication is off leaves no way to sign in."""
    if own is None or own.use_certificate_for_client_to_proxy_auth is not False:
        return
    yield _finding("estate_proxy_certificate_auth_off", c.settings[0].field,
                   f"In the estate, {c.identity} has certificate authentication off "
                   f"(UseCertificateForClientToProxyAuth False). With NTLM and Kerberos off as well nobody could "
                   f"sign in through it, so the script turns certificate authentication on in the same command. "
                   f"Someone turned it off on purpose: find out why before the change (a client or a filter that "
                   f"relied on it), because from then on only certificate (TLS-DSK) sign-in works there.")


# ---------------------------------------------------------------------------
# Mobility policies that override the hardened Global one


def _mobility_overrides(plan: PlanData, estate: Estate) -> Iterator[Finding]:
    if not estate.has_management_shell_data:
        return
    overrides = estate.mobility_overrides()
    planned = {m.identity.casefold(): m for m in plan.mobility_policies}
    for k, policy in enumerate(plan.mobility_policies):
        if policy.scope == "tag":
            continue  # nothing overrides a per-user policy for the users granted it
        for key, parameter, value in policy.settings():
            for other in overrides:
                if policy.scope == "site" and other.scope != "tag":
                    continue  # a per-user (tag) policy overrides a site policy too; another site's does not
                mine = planned.get(other.identity.casefold())
                if mine is not None and getattr(mine, key) is not None:
                    continue  # the plan sets this policy's value itself
                yield from _override(k, policy.identity, key, parameter, value, other)


def _override(k: int, hardened: str, key: str, parameter: str, value: bool,
              other: EstateMobilityPolicy) -> Iterator[Finding]:
    actual = other.get(key)
    if actual is value:
        return
    who = "users of site " + other.identity.partition(":")[2] if other.scope == "site" else \
        "users granted " + other.identity
    if actual is None:
        state = f"the state file does not report its {parameter}"
    else:
        state = f"it has {parameter} {show(actual)}"
    yield _finding("estate_mobility_override", f"mobility_policies[{k}].{key}",
                   f"Mobility policy {other.identity} in the estate overrides {hardened} for {who}, and {state}: the "
                   f"plan sets {parameter} {show(value)} on {hardened} only, so those users keep the policy's value. "
                   f"Add {other.identity} to the plan with {parameter} {show(value)}, or remove that policy.")


# ---------------------------------------------------------------------------
# AD FS relying party trusts


def _trusts(plan: PlanData, estate: Estate, rows: list[DriftRow]) -> Iterator[Finding]:
    trusts = intended_trusts(plan)
    if not trusts:
        return
    adfs = estate.adfs
    if adfs is None:
        yield _finding("estate_not_collected", "adfs",
                       "The state file has no AD FS part, so the relying party trusts the plan adds cannot be "
                       "compared with the farm: run collect-state.ps1 on the AD FS server too and upload that file.")
        return
    for t in trusts:
        yield from _trust(adfs, t, rows)


def _trust(adfs: EstateAdfs, t: IntendedTrust, rows: list[DriftRow]) -> Iterator[Finding]:
    by_identifier = (adfs.relying_party_by_identifier(t.identifier)
                     or adfs.relying_party_by_metadata_url(t.metadata_url))
    by_name = adfs.relying_party_named(t.name)
    if by_identifier is not None and by_identifier.enabled is False:
        # The AD FS script updates the rules of the trust it finds, and never enables it: AD FS issues no token
        # for a disabled trust, so every passive sign-in to that pool would fail.
        yield _finding("estate_relying_party_disabled", t.field,
                       f"AD FS has the trust {by_identifier.name!r} for {t.identifier}, but it is disabled: the AD FS "
                       f"script updates its rules and leaves it disabled, and AD FS issues no token for a disabled "
                       f"trust, so once {t.pool} uses passive authentication no sign-in through {t.web_fqdn} works. "
                       f"Find out why it was disabled, then enable it (Enable-AdfsRelyingPartyTrust) first.")
    if by_identifier is not None and by_name is not None and by_identifier is by_name:
        policy = next((st.value for st in t.settings if st.parameter == "AccessControlPolicyName"), None)
        if policy is not None and by_name.issuance_authorization_rules and not by_name.access_control_policy_name:
            # Set up before AD FS 2016: the script assigns the policy, and what AD FS does with the rules the trust
            # already has is documented nowhere; the plan's MFA holds for this trust only if the policy governs it.
            yield _finding("estate_relying_party_legacy_rules", t.field,
                           f"AD FS's trust {by_name.name!r} has issuance authorization rules and no access control "
                           f"policy (it was set up before AD FS 2016). The AD FS script assigns the policy "
                           f"{policy!r}, but whether AD FS then drops the old rules, keeps them unused or applies them "
                           f"instead of the policy is not documented, so until that is checked it is not certain that "
                           f"the policy, and any MFA it asks for, governs sign-in through this trust: the script warns "
                           f"when the rules are still there after it, and verify-adfs.ps1 reports the trust as FAIL "
                           f"until they are gone. Plan a sign-in through {t.web_fqdn} from the Internet after the "
                           f"change, to see the policy (the second factor, where it asks for one) applied.")
        yield _finding("estate_relying_party_present", t.field,
                       f"AD FS already has the trust {by_name.name!r} for {t.identifier}: the AD FS script updates its "
                       f"rules.")
        rows.append(DriftRow("relying_party", t.name, "RelyingPartyTrust", t.field, f"present ({t.identifier})",
                             f"present ({t.identifier})", t.name, NO_OP))
        for s in t.settings:
            actual = getattr(by_name, TRUST_ATTRIBUTES[s.parameter])
            rows.append(_row("relying_party", t.name, s, actual if actual is not None else "(none)", t.name))
        return
    if by_identifier is not None:
        yield _finding("estate_relying_party_identifier_taken", t.field,
                       f"AD FS already has a trust for {t.identifier}, named {by_identifier.name!r} (found by its "
                       f"identifier), so adding {t.name!r} would fail: AD FS allows each identifier on one trust only. "
                       f"Name the plan's {t.side} relying party {by_identifier.name!r} (the script then updates that "
                       f"trust), or remove the old trust first.")
    if by_name is not None and by_name is not by_identifier:
        theirs = _names(list(by_name.identifiers)) or "no identifier"
        yield _finding("estate_relying_party_name_taken", t.field,
                       f"AD FS already has a trust named {t.name!r}, but for {theirs}, not for {t.identifier}: the AD "
                       f"FS script would find it by name and replace that trust's rules. Choose another name for the "
                       f"plan's {t.side} relying party.")
    if by_identifier is None and by_name is None:
        rows.append(DriftRow("relying_party", t.name, "RelyingPartyTrust", t.field, f"present ({t.identifier})",
                             "absent", "", CHANGE))
        for s in t.settings:
            rows.append(DriftRow("relying_party", t.name, s.parameter, s.field, show(s.value), "absent", "", CHANGE))


# ---------------------------------------------------------------------------
# Product, topology and AD FS farm


def _product(plan: PlanData, estate: Estate) -> Iterator[Finding]:
    if estate.product is None or estate.product == plan.product:
        return
    if {estate.product, plan.product} == {SUBSCRIPTION_EDITION, SUBSCRIPTION_EDITION_AS}:
        # The two share every cmdlet, and how the collector tells them apart is not documented: never an error.
        if estate.product == SUBSCRIPTION_EDITION:
            text = (f"The estate runs {STATE_PRODUCTS[estate.product]}, but the plan is for {PRODUCTS[plan.product]}: "
                    f"the scripts use the same cmdlets, so they work, but the findings (support lifecycle) and the "
                    f"scripts' product check speak of 2019. Set the plan's product to Subscription Edition.")
        else:
            text = (f"The state file says {STATE_PRODUCTS[estate.product]}, but the plan is for "
                    f"{PRODUCTS[plan.product]}. Subscription Edition keeps 2019's version number and what its "
                    f"Get-CsServerVersion says is not documented, so the collector may have taken it for 2019: if "
                    f"the servers run Subscription Edition, keep the plan as it is; if they run 2019, set the plan's "
                    f"product to Skype for Business Server 2019.")
        yield _finding("estate_product_subscription_edition", "product", text)
        return
    yield _finding("estate_product_mismatch", "product",
                   f"The estate runs {STATE_PRODUCTS[estate.product]}, but the plan is for "
                   f"{PRODUCTS.get(plan.product, plan.product)}: the Management Shell script stops on the wrong "
                   f"module, and the cmdlets and parameters the plan relies on may not be there. Set the plan's "
                   f"product to the estate's.")


def _passive_with_modern_auth(plan: PlanData, estate: Estate) -> Iterator[Finding]:
    """A pool passive today, in a plan that turns Modern Authentication on: the two cannot share a deployment.

    A pool the plan sets to a mode of its own keeps whatever passive setting it has (no mode turns passive
    authentication off), so only the estate tells; a pool the plan sets to passive is refused by the plan's
    own rules already.
    """
    if plan.modern_auth is None or not estate.has_management_shell_data:
        return
    in_plan = {p.fqdn.casefold(): i for i, p in enumerate(plan.pools)}
    names = [p.fqdn for p in plan.pools] + [p.fqdn for p in estate.pools if p.fqdn.casefold() not in in_plan]
    for fqdn in names:
        index = in_plan.get(fqdn.casefold())
        pool = plan.pools[index] if index is not None else None
        if pool is not None and pool.auth is not None and pool.auth.external.needs_adfs:
            continue
        web = estate.web_service_for(fqdn, pool.site if pool is not None else None)
        if web is None or web.use_ws_fed_passive_auth is not True:
            continue
        field = f"pools[{index}].auth.external" if index is not None else "pools"
        yield _finding("estate_passive_with_modern_auth", field,
                       f"{fqdn} uses passive authentication today ({web.identity} in the state file), and the plan "
                       f"turns Modern Authentication on for the whole deployment: a pool cannot use both. Turn "
                       f"passive authentication off for that pool first (Set-CsWebServiceConfiguration "
                       f"-UseWsFedPassiveAuth $false on {web.identity}, with Windows authentication back on), or "
                       f"leave Modern Authentication out of this plan.")


def _passive_kept(plan: PlanData, estate: Estate) -> Iterator[Finding]:
    """A pool passive today that the plan sets to a mode that keeps Windows authentication: no mode turns passive
    authentication off, so where the script sets the pool's own collection (or leaves its web services alone) the
    pool stays passive, and the mode the plan gives it does not hold.

    With Modern Authentication the same pool is an error (`_passive_with_modern_auth`). A collection the script
    creates starts with passive authentication off (`estate_collection_resets` says so) but copies UseWindowsAuth
    from the collection that applied: where that is None, the pool is left with no password sign-in at all.
    """
    if plan.modern_auth is not None or not estate.has_management_shell_data:
        return
    for i, pool in enumerate(plan.pools):
        if pool.auth is None or pool.auth.external.needs_adfs:
            continue
        web = estate.web_service_for(pool.fqdn, pool.site)
        if web is None or web.use_ws_fed_passive_auth is not True:
            continue
        if creates_web_collection(plan, estate, i, pool):
            if web.use_windows_auth == "None":
                yield _finding("estate_passive_dropped_windows_off", f"pools[{i}].auth.external",
                               f"{pool.fqdn} uses passive authentication today ({web.identity} in the state file, "
                               f"UseWindowsAuth None). For the plan's {pool.auth.external.label} the script creates "
                               f"{pool.web_service_identity}: a new collection starts with passive authentication "
                               f"off but copies UseWindowsAuth None from {web.identity}, so the pool's web services "
                               f"then take neither an AD FS nor a Windows sign-in: a device without a client "
                               f"certificate cannot get one (other than with a PIN), and web and mobile clients cannot "
                               f"sign in. Give the pool Windows authentication first (its own collection with "
                               f"-UseWindowsAuth Negotiate), or keep it passive in the plan.")
            continue
        windows = f", UseWindowsAuth {web.use_windows_auth}" if web.use_windows_auth else ""
        yield _finding("estate_passive_kept", f"pools[{i}].auth.external",
                       f"{pool.fqdn} uses passive authentication today ({web.identity} in the state file{windows}), "
                       f"and the plan sets it to {pool.auth.external.label}, but no mode of the plan turns passive "
                       f"authentication off: the pool stays passive, with Windows authentication as it is, so the "
                       f"sign-in the plan describes for it (and its verification) does not hold. Turn passive "
                       f"authentication off there first (Set-CsWebServiceConfiguration -UseWsFedPassiveAuth $false "
                       f"on {web.identity}, with Windows authentication back on), or set the pool to passive in the "
                       f"plan.")


_REFUSED_BECAUSE = {
    "external": "passive authentication turns Windows authentication and PIN off",
    "block_pin_auth": "block_pin_auth turns PIN authentication off",
    "certificate_auth": "certificate_auth false turns certificate authentication off",
}


def _mobile_preferred(plan: PlanData, estate: Estate) -> Iterator[Finding]:
    """The collection that applies to a pool names, as the mobile clients' default sign-in method, one the plan turns
    off there: lync-management-shell.ps1 stops before its first change (Assert-MobilePreferredAuthType), because the
    cmdlet help warns that such a method can keep the web ticket service from starting. The same collections as the
    script: the pool's own, else the site the topology gives it, else Global."""
    for i, pool in enumerate(plan.pools):
        refused = mobile_preferred_refused(plan, pool)
        if not refused:
            continue
        web = estate.web_service_for(pool.fqdn, pool.site)
        if web is None or web.mobile_preferred_auth_type is None:
            continue
        for value, setting in refused:
            if value.casefold() != web.mobile_preferred_auth_type.casefold():
                continue
            yield _finding("estate_mobile_preferred_auth_refused", f"pools[{i}].auth.{setting}",
                           f"MobilePreferredAuthType is {web.mobile_preferred_auth_type} in {web.identity} (in the "
                           f"state file), the collection that applies to {pool.fqdn}, and the plan turns that "
                           f"sign-in method off there ({_REFUSED_BECAUSE[setting]}). The cmdlet help warns that a "
                           f"method the pool does not support can keep the web ticket service from starting, so "
                           f"lync-management-shell.ps1 stops before its first change. Set it to a method the pool "
                           f"keeps first (Set-CsWebServiceConfiguration on that collection, with "
                           f"-MobilePreferredAuthType None).")


def _modern_auth_pools(plan: PlanData, estate: Estate) -> Iterator[Finding]:
    """Modern Authentication is global, but the AD FS trust names only the plan's pools: the estate's other
    Front End and Director pools would lose sign-in (the script stops on them too, before its first change)."""
    if plan.modern_auth is None or not estate.has_management_shell_data:
        return
    in_plan = {p.fqdn.casefold() for p in plan.pools}
    for pool in estate.pools:
        if pool.fqdn.casefold() not in in_plan:
            yield _finding("estate_modern_auth_pool_missing", "pools",
                           f"{pool.fqdn} ({pool.role}) is in the topology but not in the plan. Modern Authentication "
                           f"is global, and the AD FS trust names only the plan's pools, so its users could not sign "
                           f"in. Add it to the plan (without authentication settings if it keeps its own).")


def _mfa_topology(plan: PlanData, estate: Estate) -> Iterator[Finding]:
    """Under an MFA promise, lync-management-shell.ps1 stops before its first change on a Front End, Director or Edge
    pool of the topology that the plan does not list, unless the plan accepts that risk (accepts_outside_plan): say
    so here, where the state file shows them, also when their settings keep the promise (then no broken promise
    names them). With Modern Authentication the pools are estate_modern_auth_pool_missing already."""
    if not mfa_promised(plan) or not estate.has_management_shell_data:
        return
    listed = {p.fqdn.casefold() for p in plan.pools}
    pools = [p.fqdn for p in estate.pools if p.fqdn.casefold() not in listed]
    if pools and plan.modern_auth is None and not accepts_outside_plan(plan, "pools"):
        yield _finding("estate_mfa_topology_outside_plan", "pools",
                       f"The plan promises MFA for sign-in from the Internet, and the topology has {_names(pools)}, "
                       f"which the plan does not list, so lync-management-shell.ps1 stops before its first change. "
                       f"Add each to the plan (without authentication settings if it keeps its own: the state file "
                       f"then shows whether it keeps the promise), or accept the risk on pools (accepted_risks). In "
                       f"the web wizard: the Environment step, or \"Accepted risks\" on the Review step.")
    listed_edges = {e.fqdn.casefold() for e in plan.edge_pools}
    edges = [e.fqdn for e in estate.edge_pools if e.fqdn.casefold() not in listed_edges]
    if edges and not accepts_outside_plan(plan, "edge_pools"):
        yield _finding("estate_mfa_topology_outside_plan", "edge_pools",
                       f"The plan promises MFA for sign-in from the Internet, and the topology has "
                       f"{'Edge pool' if len(edges) == 1 else 'Edge pools'} {_names(edges)}, which the plan does "
                       f"not list, so lync-management-shell.ps1 stops before its first change. Add each to the plan "
                       f"(with block_ntlm), or accept the risk on edge_pools (accepted_risks). In the web wizard: "
                       f"the Environment step, or \"Accepted risks\" on the Review step.")


def _topology(plan: PlanData, estate: Estate) -> Iterator[Finding]:
    if not estate.has_management_shell_data:
        return
    changed = {c.identity.split(":", 2)[-1] for c in intended_collections(plan) if c.kind != "mobility"}
    if estate.pools:
        for i, pool in enumerate(plan.pools):
            known = estate.pool(pool.fqdn)
            if known is None:
                yield _missing(f"pools[{i}].fqdn", f"pool {pool.fqdn}", pool.fqdn in changed)
                continue
            yield from _differs(f"pools[{i}]", f"pool {pool.fqdn}", (
                ("role", pool.role, known.role),
                ("site", pool.site, known.site),
                ("internal_web_fqdn", pool.internal_web, known.internal_web_fqdn or known.fqdn),
                ("external_web_fqdn", pool.external_web_fqdn, known.external_web_fqdn),
            ))
    if estate.edge_pools:
        for j, edge in enumerate(plan.edge_pools):
            known_edge = estate.edge_pool(edge.fqdn)
            if known_edge is None:
                yield _missing(f"edge_pools[{j}].fqdn", f"Edge pool {edge.fqdn}", edge.fqdn in changed)
                continue
            yield from _differs(f"edge_pools[{j}]", f"Edge pool {edge.fqdn}", (
                ("access_fqdn", edge.access_fqdn, known_edge.access_fqdn),
                ("webconf_fqdn", edge.webconf_fqdn, known_edge.webconf_fqdn),
                ("av_fqdn", edge.av_fqdn, known_edge.av_fqdn),
            ))
    if estate.sip_domains:
        for k, domain in enumerate(plan.sip_domains):
            if domain not in estate.sip_domains:
                yield _finding("estate_topology_differs", f"sip_domains[{k}]",
                               f"{domain} is not a SIP domain of the estate (Get-CsSipDomain lists "
                               f"{_names(list(estate.sip_domains))}): certificates and DNS records planned for it "
                               f"serve no user.")
    for k, policy in enumerate(plan.mobility_policies):
        if policy.scope != "site":
            continue
        site = policy.identity.partition(":")[2]
        if estate.has_site(site) is False:
            yield _missing(f"mobility_policies[{k}].identity", f"site {site}", True)


def _missing(field: str, what: str, changed: bool) -> Finding:
    if changed:
        return _finding("estate_not_in_topology", field,
                        f"The estate's topology has no {what}, and the plan changes it: the Management Shell "
                        f"script stops before it changes anything. Check the name against the topology.")
    return _finding("estate_topology_differs", field,
                    f"The estate's topology has no {what}: the plan does not change it, but the certificate, DNS "
                    f"and publishing tables built from it would be wrong. Check the name against the topology.")


def _differs(owner: str, what: str, pairs: tuple[tuple[str, Any, Any], ...]) -> Iterator[Finding]:
    for key, planned, actual in pairs:
        if actual is None or planned is None or str(planned).casefold() == str(actual).casefold():
            continue
        yield _finding("estate_topology_differs", f"{owner}.{key}",
                       f"The plan says {planned} for the {key.replace('_', ' ')} of {what}, the estate's topology "
                       f"says {actual}. Use the topology's value, or the names on certificates, DNS records and AD FS "
                       f"trusts will not match the servers.")


def _farm(plan: PlanData, estate: Estate) -> Iterator[Finding]:
    adfs, planned = estate.adfs, plan.adfs
    # Passive pools and Modern Authentication both sign users in through the plan's farm.
    if adfs is None or planned is None or not plan.signs_in_through_adfs:
        return
    lync_side = "the passive web services" if plan.passive_pools else "the OAuth server (Modern Authentication)"
    if adfs.federation_service_name and adfs.federation_service_name != planned.federation_service_name:
        yield _finding("estate_adfs_farm_mismatch", "adfs.federation_service_name",
                       f"The AD FS farm in the state file is {adfs.federation_service_name}, the plan's is "
                       f"{planned.federation_service_name}: the AD FS script refuses to run on another farm, and "
                       f"{lync_side} would send users to the wrong federation service.")
    if adfs.version and adfs.version != planned.version:
        modern = (", and Microsoft gives another script for the Modern Authentication trust from 2016 on"
                  if plan.modern_auth is not None else "")
        yield _finding("estate_adfs_version_mismatch", "adfs.version",
                       f"The AD FS farm runs {ADFS_VERSIONS[adfs.version]}, but the plan is for "
                       f"{ADFS_VERSIONS[planned.version]}: MFA is set differently on each version (per-trust rules "
                       f"on 2012 R2, access control policies from 2016){modern}, so the AD FS script would call "
                       f"cmdlets or parameters the farm does not have. Set the plan's AD FS version to the farm's.")
    if adfs.version is None:
        # The collector writes no version for AD FS 2.1 (Windows Server 2012), a version no plan can name.
        farm = adfs.federation_service_name or "the farm"
        yield _finding("estate_adfs_version_unknown", "adfs.version",
                       f"The state file does not say which AD FS version {farm} runs, so the plan's "
                       f"{ADFS_VERSIONS[planned.version]} cannot be checked against it: collect-state.ps1 leaves it "
                       f"out for AD FS 2.1 (Windows Server 2012), which has neither per-trust MFA rules nor access "
                       f"control policies nor Modern Authentication. Check the Windows Server release of the AD FS "
                       f"servers before the change.")
    if adfs.web_application_proxy is False and planned.mfa == "extranet" and planned.version != "2.0":
        farm = adfs.federation_service_name or "the farm"
        yield _finding("estate_no_web_application_proxy", "adfs.mfa",
                       f"No Web Application Proxy or AD FS proxy is registered with {farm}, "
                       f"so AD FS sees every request as coming from inside (insidecorporatenetwork true) and the "
                       f"extranet MFA the plan asks for would never be required. Publish AD FS through a Web "
                       f"Application Proxy first.")


def _certificates(estate: Estate) -> Iterator[Finding]:
    """Certificates of the machine the collector ran on that have expired, or soon will, when it ran."""
    collected = _moment(estate.collected_at)
    if collected is None:
        return
    uses: dict[tuple[str | None, str | None, str], list[str]] = {}
    for cert in estate.certificates:
        if cert.not_after is not None:
            # One certificate is listed once per use it is assigned to (Default, WebServicesInternal, ...).
            uses.setdefault((cert.thumbprint, cert.subject, cert.not_after), []).append(cert.use)
    where = f"on {estate.collected_on}" if estate.collected_on else "on the server the collector ran on"
    for (thumbprint, subject, not_after), names in uses.items():
        end = _moment(not_after)
        if end is None or end - collected > timedelta(days=CERTIFICATE_NOTICE_DAYS):
            continue
        what = f"The certificate {where} for {_names(names)}" + (f" ({subject})" if subject else "")
        if thumbprint:
            what += f", thumbprint {thumbprint},"
        when = (f"had expired on {not_after[:10]} when the state was collected" if end <= collected
                else f"expires on {not_after[:10]}, {(end - collected).days} days after the state was collected")
        yield _finding("estate_certificate_expires", "certificates",
                       f"{what} {when}: clients, the reverse proxy and AD FS (which reads the passive "
                       f"authentication metadata over HTTPS) refuse an expired certificate. Renew and assign it "
                       f"(Request-CsCertificate, Set-CsCertificate) before the change.")


def _moment(text: str | None) -> datetime | None:
    """Return a state file date (ISO 8601, UTC) as a datetime, or None."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------


def estate_report(plan: PlanData, estate: Estate) -> EstateReport:
    """Return the intended-versus-actual rows and the estate findings (sorted) for `plan` on `estate`."""
    rows: list[DriftRow] = []
    findings = [
        *_product(plan, estate),
        *_passive_with_modern_auth(plan, estate),
        *_passive_kept(plan, estate),
        *_mobile_preferred(plan, estate),
        *_modern_auth_pools(plan, estate),
        *_mfa_topology(plan, estate),
        *_topology(plan, estate),
        *_farm(plan, estate),
        *_collections(plan, estate, rows),
        *_mobility_overrides(plan, estate),
        *_trusts(plan, estate, rows),
        *_certificates(estate),
    ]
    return EstateReport(rows=tuple(rows), findings=tuple(sort_findings(findings)))


def estate_findings(plan: PlanData, estate: Estate) -> list[Finding]:
    """Return only the estate findings of `estate_report` (what `check_plan --state` adds)."""
    return list(estate_report(plan, estate).findings)


__all__ = [
    "ESTATE_FINDING_CODES",
    "DriftRow",
    "EstateReport",
    "estate_findings",
    "estate_report",
    "show",
]
