"""The client-impact matrix: for each kind of client and each pool of a plan,
whether it still signs in after the change, and why.

Pure Python: no Django, no database. Based on which clients can use which sign-in
method, on the split between SIP through the Edge and the web services behind the
reverse proxy, and on what mobility policies allow.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.plan.model import MobilityPolicy, ModernAuth, PlanData, Pool

STATES: tuple[str, ...] = ("signs_in", "degraded", "breaks")

# (key, label) in display order.
CLIENTS: tuple[tuple[str, str], ...] = (
    ("lync2010", "Lync 2010"),
    ("lync2013", "Lync 2013 desktop"),
    ("sfb", "Skype for Business desktop"),
    ("mac", "Lync for Mac"),
    ("mobile", "Mobile apps"),
    ("lwa", "Lync Web App"),
    ("devices", "Phones / room systems"),
)
CLIENT_KEYS: tuple[str, ...] = tuple(key for key, _ in CLIENTS)

# Column mode for a pool whose plan has no auth section.
UNCHANGED = "unchanged"
UNCHANGED_REASON = "unchanged by this plan"
# The Modern Authentication columns (plans with modern_auth): every pool alike, from the Internet and inside.
MODERN_AUTH_INTERNET = "modern_auth_internet"
MODERN_AUTH_INSIDE = "modern_auth_inside"
COLUMN_LABELS: dict[str, str] = {
    MODERN_AUTH_INTERNET: "Modern Authentication, from the Internet (every pool)",
    MODERN_AUTH_INSIDE: "Modern Authentication, inside the network (every pool)",
}


@dataclass(frozen=True)
class Cell:
    """What happens to one kind of client on one pool."""

    state: str
    reason: str

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown state {self.state!r}")

    def to_dict(self) -> dict[str, str]:
        """Return the cell as a JSON-able dict."""
        return {"state": self.state, "reason": self.reason}


@dataclass(frozen=True)
class Column:
    """One pool of the plan: its FQDN and its external authentication mode (or 'unchanged'); or one of the
    Modern Authentication columns (`fqdn` empty, `mode` a COLUMN_LABELS key)."""

    fqdn: str
    mode: str

    @property
    def label(self) -> str | None:
        """Return the column's heading when it is not a pool's (a Modern Authentication column), else None."""
        return COLUMN_LABELS.get(self.mode)

    def to_dict(self) -> dict[str, str]:
        """Return the column as a JSON-able dict."""
        return {"fqdn": self.fqdn, "mode": self.mode}


@dataclass(frozen=True)
class ImpactRow:
    """One kind of client across every pool."""

    key: str
    label: str
    cells: tuple[Cell, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the row as a JSON-able dict."""
        return {"key": self.key, "label": self.label, "cells": [c.to_dict() for c in self.cells]}


@dataclass(frozen=True)
class ImpactMatrix:
    """Clients (rows, in CLIENTS order) by pools (columns, in plan order)."""

    columns: tuple[Column, ...]
    table: tuple[ImpactRow, ...]

    @property
    def rows(self) -> list[tuple[str, list[Cell]]]:
        """Return (client label, cells) pairs for templates."""
        return matrix_rows(self)

    def cell(self, client: str, fqdn: str) -> Cell:
        """Return the cell for a client key and a pool FQDN; raise KeyError when either is unknown."""
        col = next((k for k, c in enumerate(self.columns) if c.fqdn == fqdn), None)
        row = next((r for r in self.table if r.key == client), None)
        if col is None or row is None:
            raise KeyError((client, fqdn))
        return row.cells[col]

    def to_dict(self) -> dict[str, Any]:
        """Return the matrix as a JSON-able dict."""
        return {"columns": [c.to_dict() for c in self.columns], "rows": [r.to_dict() for r in self.table]}


def matrix_rows(matrix: ImpactMatrix) -> list[tuple[str, list[Cell]]]:
    """Return the matrix as (client label, [cell per pool]) pairs, in row order."""
    return [(row.label, list(row.cells)) for row in matrix.table]


# ---------------------------------------------------------------------------


def _merge(base: Cell, extra: Cell) -> Cell:
    """Return the worse of two cells' states with both reasons."""
    state = STATES[max(STATES.index(base.state), STATES.index(extra.state))]
    return Cell(state, f"{base.reason}; {extra.reason}")


def _all(state: str, reason: str) -> dict[str, Cell]:
    return {key: Cell(state, reason) for key in CLIENT_KEYS}


def _passive_cells(certificate_auth: bool) -> dict[str, Cell]:
    """Passive (AD FS) pool."""
    exchange = "Exchange features (contacts in Exchange, calendar presence, conversation history) are lost"
    mobile = ("Lync 2013 mobile 5.2 and later (iPhone, iPad, Windows Phone) and Skype for Business apps sign in "
              "through AD FS; older builds, including early Android builds, can't")
    if not certificate_auth:
        mobile += "; with no CertProv certificate the apps return to AD FS whenever their web ticket runs out"
    return {
        "lync2010": Cell("breaks", "no passive (AD FS) sign-in"),
        "lync2013": Cell("degraded", f"signs in only from the July 2013 cumulative update (15.0.4517) on; "
                                     f"{exchange}"),
        "sfb": Cell("degraded", f"signs in through AD FS; {exchange}"),
        "mac": Cell("breaks", "no passive (AD FS) sign-in"),
        "mobile": Cell("degraded", mobile),
        "lwa": Cell("degraded", "guests still join meetings; domain sign-in on a passive pool is untested: check it"),
        "devices": Cell("breaks", "Lync Phone Edition, 3PIP phones and room systems have no passive sign-in"),
    }


def _tls_dsk_cells(prefix: str, certificate_auth: bool, registrar_blocked: bool) -> dict[str, Cell]:
    """Remote SIP sign-in needs TLS-DSK because an Edge blocks NTLM.

    `prefix` says why TLS-DSK is enforced for this pool. Mobile apps and the Web
    App use the web services behind the reverse proxy, not SIP through the Edge,
    so the Edge block does not touch them.
    """
    where = "from outside or inside" if registrar_blocked else "from outside"
    web = Cell("signs_in", f"{prefix}: uses the web services behind the reverse proxy, which a SIP block at the "
                           f"Edge or Registrar does not touch")
    if not certificate_auth:
        gone = Cell("breaks", f"{prefix}, but certificate authentication is off: no TLS-DSK sign-in {where}")
        return {"lync2010": gone, "lync2013": gone, "sfb": gone, "mac": gone,
                "mobile": web, "lwa": web, "devices": gone}
    desktop = Cell("signs_in", f"{prefix}: signs in {where} with its Lync certificate (TLS-DSK); a new device "
                               f"first fetches one from CertProv with the password")
    return {
        "lync2010": desktop,
        "lync2013": desktop,
        "sfb": desktop,
        "mac": Cell("degraded", f"{prefix}: whether Lync for Mac 2011 and other Mac clients sign in with TLS-DSK "
                                f"is not settled; test sign-in {where} before the switch"),
        "mobile": web,
        "lwa": web,
        "devices": Cell("degraded", f"{prefix}: Lync Phone Edition signs in with a certificate after PIN sign-in; "
                                    f"phones and room systems that only do NTLM can't sign in {where}"),
    }


# Who loses sign-in when a pool that is not passive turns PIN authentication off (block_pin_auth).
PIN_BLOCKED = Cell("breaks", "PIN authentication off (block_pin_auth): Lync Phone Edition and 3PIP desk phones that "
                             "sign in with an extension or phone number and PIN can no longer sign in, inside or "
                             "outside (dial-in conferencing callers still enter their PIN on the phone line: that is "
                             "not a web services sign-in)")


# Who loses sign-in when a pool that is not passive turns certificate authentication off on its web
# services (certificate_auth false): phones that signed in with a PIN keep using the Lync certificate
# they were given there, so they stop working, inside the network too.
CERT_AUTH_OFF = Cell("breaks", "certificate authentication off on the web services (certificate_auth false): Lync "
                               "Phone Edition phones that signed in with an extension and PIN use their Lync "
                               "certificate there, so they stop working, inside or outside, unless paired with a "
                               "computer by USB; common area phones cannot; phones that sign in with a user name and "
                               "password keep signing in; test 3PIP desk phones before the change")


def _pool_cells(plan: PlanData, pool: Pool) -> dict[str, Cell]:
    """Return the cells of one pool before mobility policies are applied."""
    cells = _mode_cells(plan, pool)
    auth = pool.auth
    if auth is not None and not auth.external.needs_adfs:
        # Passive pools have PIN sign-in off already: their devices row says so.
        if not auth.certificate_auth:
            cells = {**cells, "devices": _merge(cells["devices"], CERT_AUTH_OFF)}
        if auth.block_pin_auth:
            cells = {**cells, "devices": _merge(cells["devices"], PIN_BLOCKED)}
    return cells


def _mode_cells(plan: PlanData, pool: Pool) -> dict[str, Cell]:
    """Return the cells of one pool's authentication mode (and the Edge's and Registrar's blocks)."""
    auth = pool.auth
    edge_blocks = any(e.block_ntlm for e in plan.edge_pools)
    if auth is None:
        if not edge_blocks:
            return _all("signs_in", UNCHANGED_REASON)
        return _tls_dsk_cells(f"Pool {UNCHANGED_REASON}, but the Edge blocks NTLM", True, False)
    if auth.external.needs_adfs:
        return _passive_cells(auth.certificate_auth)
    if edge_blocks:
        why = "the Edge blocks NTLM"
    elif auth.block_ntlm_at_registrar:
        why = "the Registrar blocks NTLM"
    elif auth.external.certificate_sign_in_only:
        return _all("signs_in", "nothing enforced: no Edge pool in the plan blocks NTLM")
    else:
        return _all("signs_in", "NTLM still accepted, and still open to password guessing and lockout from the "
                                "Internet")
    prefix = f"TLS-DSK only, {why}" if auth.external.certificate_sign_in_only else f"NTLM kept, but {why}"
    return _tls_dsk_cells(prefix, auth.certificate_auth, auth.block_ntlm_at_registrar)


def _site_policy(plan: PlanData, pool: Pool) -> MobilityPolicy | None:
    """Return the policy that applies to the pool's users by default: their site's, else Global."""
    if pool.site:
        wanted = f"site:{pool.site}".casefold()
        for policy in plan.mobility_policies:
            if policy.identity.casefold() == wanted:
                return policy
    return next((p for p in plan.mobility_policies if p.scope == "global"), None)


def _mobility_effect(plan: PlanData, pool: Pool) -> Cell | None:
    """Return what the plan's mobility policies do to the mobile app of this pool's users."""
    effects: list[Cell] = []
    policy = _site_policy(plan, pool)
    if policy is not None:
        if policy.enable_mobility is False:
            effects.append(Cell("breaks", f"mobility policy {policy.identity} turns the mobile app off"))
        else:
            if policy.allow_save_credentials is False:
                effects.append(Cell("degraded", f"the iOS app signs out when it returns from the background "
                                                f"(AllowSaveCredentials off in {policy.identity})"))
            if policy.allow_exchange_connectivity is False:
                effects.append(Cell("degraded", f"no Exchange connection from the app (AllowExchangeConnectivity "
                                                f"off in {policy.identity})"))
            if policy.enable_ip_audio_video is False:
                effects.append(Cell("degraded", f"no VoIP or video calls from the app (EnableIPAudioVideo off in "
                                                f"{policy.identity})"))
    for tag in (p for p in plan.mobility_policies if p.scope == "tag"):
        if tag.enable_mobility is False:
            effects.append(Cell("degraded", f"users granted {tag.identity} lose the mobile app"))
            continue
        if tag.allow_save_credentials is False:
            effects.append(Cell("degraded", f"users granted {tag.identity}: the iOS app signs out when it returns "
                                            f"from the background"))
        if tag.allow_exchange_connectivity is False:
            effects.append(Cell("degraded", f"users granted {tag.identity}: no Exchange connection from the app"))
        if tag.enable_ip_audio_video is False:
            effects.append(Cell("degraded", f"users granted {tag.identity}: no VoIP or video calls from the app"))
    if not effects:
        return None
    result = effects[0]
    for extra in effects[1:]:
        result = _merge(result, extra)
    return result


def _mode(pool: Pool) -> str:
    return pool.auth.external.value if pool.auth else UNCHANGED


# ---------------------------------------------------------------------------
# Modern Authentication (the scenario is global: the same for every pool)


def _office2013(ma: ModernAuth) -> str:
    if ma.office2013_clients:
        return "with EnableADAL and Version set (office2013-modern-auth.ps1 in this bundle)"
    return "only with EnableADAL and Version set for each user (not in this plan)"


def _modern_internet(ma: ModernAuth) -> dict[str, Cell]:
    """What happens from the Internet under the plan's Modern Authentication scenario."""
    scenario = ma.scenario
    if scenario is None or not scenario.blocks_windows_externally:
        why = ("Set-CsAuthConfig left as it is" if scenario is None else scenario.label)
        kept = Cell("signs_in", f"{why}: Windows authentication stays open from the Internet for clients without "
                                f"Modern Authentication")
        modern = Cell("signs_in", f"{why}: signs in with Modern Authentication through AD FS")
        return {"lync2010": kept, "lync2013": Cell("signs_in", f"{why}: Modern Authentication "
                                                               f"{_office2013(ma)}, else Windows authentication"),
                "sfb": modern, "mac": kept, "mobile": kept, "lwa": kept, "devices": kept}
    no_adal = f"{scenario.label}: no Modern Authentication through AD FS, so no sign-in from the Internet"
    return {
        "lync2010": Cell("breaks", no_adal),
        "lync2013": Cell("degraded" if ma.office2013_clients else "breaks",
                         f"{scenario.label}: signs in from the Internet {_office2013(ma)}; builds up to 15.0.4766 "
                         f"never"),
        "sfb": Cell("signs_in", f"{scenario.label}: signs in with Modern Authentication through AD FS (MFA when AD FS "
                                f"asks); a few early builds cannot"),
        "mac": Cell("breaks", f"{scenario.label}: Microsoft supports Modern Authentication on premises for the "
                              f"Windows desktop client only"),
        "mobile": Cell("breaks", f"{scenario.label}: Microsoft supports no mobile client with Modern Authentication "
                                 f"on premises"),
        "lwa": Cell("degraded", f"{scenario.label}: domain users' forms sign-in no longer works from the Internet; "
                                f"guests still join"),
        "devices": Cell("degraded", f"{scenario.label}: phones and room systems that sign in with a user name and "
                                    f"password have no Modern Authentication and cannot sign in from the Internet; "
                                    f"phones that sign in with an extension and PIN (Lync Phone Edition) should keep "
                                    f"signing in, since the scenario leaves PIN and certificate authentication on "
                                    f"(inferred: test one phone first)"),
    }


def _modern_inside(ma: ModernAuth) -> dict[str, Cell]:
    """What happens inside the network under the plan's Modern Authentication scenario."""
    scenario = ma.scenario
    if scenario is None:
        return _all("signs_in", "Set-CsAuthConfig left as it is: inside, sign-in as today")
    facts = scenario.facts
    if not facts.windows_internal:
        inside = _modern_internet(ma)
        return {key: Cell(cell.state, cell.reason.replace("from the Internet", "inside the network too"))
                for key, cell in inside.items()} | {
            "lwa": Cell("degraded", f"{scenario.label}: the Web Scheduler, Dial-in page, Control Panel and Response "
                                    f"Group settings page lack Modern Authentication (sources differ by version)")}
    adal = ("signs in with Modern Authentication" if facts.modern_internal
            else "signs in with Windows authentication (Modern Authentication off inside)")
    if facts.sip_ntlm:
        windows = Cell("signs_in", f"{scenario.label}: Windows authentication inside as before")
        return {**_all("signs_in", f"{scenario.label}: Windows authentication inside as before"),
                "sfb": Cell("signs_in", f"{scenario.label}: {adal}"), "lync2010": windows}
    ntlm_off = f"{scenario.label}: NTLM off at the Registrar inside too, Kerberos on"
    return {
        "lync2010": Cell("degraded", f"{ntlm_off}: domain-joined computers sign in with Kerberos, others cannot"),
        "lync2013": Cell("degraded", f"{ntlm_off}: {adal} where it can, else Kerberos"),
        "sfb": Cell("signs_in", f"{scenario.label}: {adal}"),
        "mac": Cell("breaks", f"{ntlm_off}: Mac clients sign in to SIP with NTLM"),
        "mobile": Cell("signs_in", f"{scenario.label}: the web services inside keep Windows authentication"),
        "lwa": Cell("signs_in", f"{scenario.label}: Windows authentication inside as before"),
        "devices": Cell("degraded", f"{ntlm_off}: phones and room systems that sign in to SIP with a user name and "
                                    f"password (NTLM) cannot; phones that sign in with an extension and PIN (Lync "
                                    f"Phone Edition) should keep signing in, since the scenario leaves PIN and "
                                    f"certificate authentication on (inferred: test one phone first)"),
    }


def client_impact(plan: PlanData) -> ImpactMatrix:
    """Return the client-impact matrix of `plan`: CLIENTS rows by pool columns, then, with Modern
    Authentication, its two columns (from the Internet, inside); every pool's cells take the worse of its own
    and the Modern Authentication ones, since the scenario reaches every pool."""
    ma = plan.modern_auth
    modern = (_modern_internet(ma), _modern_inside(ma)) if ma is not None else None
    per_pool: list[dict[str, Cell]] = []
    for pool in plan.pools:
        cells = _pool_cells(plan, pool)
        mobility = _mobility_effect(plan, pool)
        if mobility is not None:
            base = cells["mobile"]
            # A mobile app that already cannot sign in is not made worse by a policy.
            cells = {**cells, "mobile": base if base.state == "breaks" else _merge(base, mobility)}
        if modern is not None:
            cells = {key: _worst(cell, modern[0][key], modern[1][key]) for key, cell in cells.items()}
        per_pool.append(cells)
    columns = [Column(p.fqdn, _mode(p)) for p in plan.pools]
    if modern is not None:
        per_pool.extend(modern)
        columns += [Column("", MODERN_AUTH_INTERNET), Column("", MODERN_AUTH_INSIDE)]
    table = tuple(
        ImpactRow(key=key, label=label, cells=tuple(cells[key] for cells in per_pool))
        for key, label in CLIENTS
    )
    return ImpactMatrix(columns=tuple(columns), table=table)


def _worst(base: Cell, *others: Cell) -> Cell:
    """Return `base` merged with every other cell that is worse than signing in (their reasons added)."""
    out = base
    for other in others:
        if other.state != "signs_in":
            out = _merge(out, other)
    return out


# Where Lync 2013 / Skype for Business 2015 desktop clients keep their sign-in settings; the
# Skype for Business 2016 and later clients use 16.0 in place of 15.0.
CLIENT_POLICY_KEY = "HKEY_LOCAL_MACHINE\\Software\\Policies\\Microsoft\\Office\\15.0\\Lync"
CLIENT_USER_KEY = "HKEY_CURRENT_USER\\Software\\Microsoft\\Office\\15.0\\Lync"
CLIENT_PROFILE_FOLDER = "%LOCALAPPDATA%\\Microsoft\\Office\\15.0\\Lync"


def desktop_client_preparation(plan: PlanData) -> list[str]:
    """Return what the desktop clients of passive pools must forget or change before their first
    sign-in through AD FS (Microsoft's two-factor procedure), or nothing without a passive pool."""
    pools = [p.fqdn for p in plan.passive_pools]
    if not pools:
        return []
    users = "users of " + (pools[0] if len(pools) == 1 else ", ".join(pools[:-1]) + " and " + pools[-1])
    return [
        f"Before their first sign-in after the switch, {users} choose \"Delete my sign-in info\" on the sign-in "
        f"screen and delete their SIP profile folder (sip_<sign-in address>) under {CLIENT_PROFILE_FOLDER}: the "
        f"saved password and the cached client certificate of the old sign-in are tried first otherwise.",
        f"SavePassword set to 0 (REG_DWORD) under {CLIENT_USER_KEY}, by Group Policy for those users: a client that "
        f"saves the password keeps the user's Windows credentials and client certificate on the computer, which "
        f"two-factor sign-in must not rely on.",
        f"DisableNTCredentials set to 0 (REG_DWORD) under {CLIENT_POLICY_KEY}: when it is 1 (often set by Group "
        f"Policy), the client asks for Windows credentials before it sends the user to AD FS.",
        "Skype for Business 2016 and later clients use 16.0 in place of 15.0 in these paths.",
    ]
