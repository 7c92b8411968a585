"""The sign-in exposure model: every way to sign in from the Internet that a plan leaves, before and after.

Pure Python: no Django, no database. The findings engine turns the model into the matrix
findings and the broken-promise errors; the runbook, the review page and the picture
(`wizard.scripts.exposure_svg`) draw it; the verification probes (issue 13) take their
expectations from `web_probes` and `sip_probes`.

The model
---------
`exposure(plan, *, estate=None) -> Exposure` lists

* entry points (`EntryPoint`): each Edge pool's SIP sign-in (its Access Edge FQDN), each pool's
  Registrar (reached through an Edge), each pool's external web services (the authenticated
  paths in `WEB_PATHS`: WebTicket, CertProv, Autodiscover/lyncdiscover (and its OAuth user resource),
  /abs/, /GroupExpansion/,
  /mcx/, /RgsClients/, /RequestHandlerExt/, /ucwa/, /passiveauth/) and AD FS (/adfs/ls) through a
  Web Application Proxy or the plain reverse proxy;
* for each entry point and credential (`Credential`: password over NTLM, password over
  Kerberos/Negotiate, PIN, a Lync client certificate, AD FS sign-in, AD FS Windows integrated
  sign-in, a user name and password at AD FS's WS-Trust endpoints) a `SignInPath` with its `before`
  and `after` `Access`: whether the credential is accepted there (`State.OPEN` / `CLOSED` /
  `UNKNOWN`) and whether a password alone gets in that way (`password_only`, same three states), with
  the plan field that closes it;
* per pool, how a Lync client certificate is first obtained (`CertificateIssuance`): through that
  pool's CertProv, with which credentials, before and after.

A setting the plan leaves alone is "as today": with no `estate` it is `UNKNOWN`, never closed; with
an `Estate` (a `lync-auth-state/1` file) "before", and "after" for what the plan leaves alone, come
from the collections that apply today (`Estate.web_service_for`, `proxy_for`, ...). Pools and Edge
pools the estate holds but the plan does not are part of the model too (the plan leaves them as they
are). With no Edge pool in the plan (and none in the estate) the Edge is "as today": one entry point
for "Edge pools not in the plan", everything unknown.

Credentials are an enumeration with facts (`CREDENTIAL_FACTS`), so a new one (OAuth / Modern
Authentication, issue 16) is an addition: a member, its facts, and the paths that accept it.

Promises
--------
`promises(plan)` are what the plan promises: `adfs.mfa` extranet/always promises that no Internet
sign-in works with a password alone; each Edge's `block_ntlm` promises no NTLM (nor Kerberos) at that
Edge. `broken_promises(plan, estate=...)` returns each path that breaks one (password-only `OPEN` or
`UNKNOWN` after the plan), grouped by finding code and by the field that closes it (`BrokenPromise`).
The findings engine reports them as errors (docs/findings.md lists the codes).

Verification (issue 13)
-----------------------
`web_probes(plan, *, estate=None) -> tuple[WebProbe, ...]`: per external web host (each pool's
external web services FQDN, and every simple URL and lyncdiscover name the reverse proxy publishes to
a pool) and per path of `WEB_PATHS`, the HTTP authentication schemes (`NTLM`, `Negotiate`, and
`adfs_redirect` for /passiveauth/) that must not / may / are unknown to be offered after the plan
(`Offer.MUST_NOT` / `MAY` / `UNKNOWN`), each with why.
`sip_probes(plan, *, estate=None) -> tuple[SipProbe, ...]`: per Edge pool, whether the SIP 401 at its
Access Edge may offer `NTLM`, `Kerberos`, `TLS-DSK`.
`registrar_probes(plan, *, estate=None)`: per pool whose Registrar the plan closes a scheme at, whether its SIP
401 to a REGISTER from inside may offer `NTLM`, `Kerberos`, `TLS-DSK` (verify-internal.ps1 sends it).
`adfs_probes(plan, *, estate=None)`: AD FS /adfs/ls/ and its WS-Trust Windows transport endpoints, with
whether Windows integrated sign-in may be offered there. `internet_checks(plan, model)`: per path closed
after the plan, whether those probes show it from the Internet, in words (the runbook and the review page).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property

from wizard.caches import per_object
from wizard.plan.estate import Estate, EstateProxy, EstateWebService
from wizard.plan.intended import creates_web_collection
from wizard.plan.model import AcceptedRisk, AuthMode, EdgePool, ModernAuth, PlanData, Pool


class State(StrEnum):
    """Whether something is possible: open, closed, or not known to the plan (as today)."""

    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


def any_of(states: Iterable[State]) -> State:
    """Return OPEN when any state is open, CLOSED when all are closed (or none given), else UNKNOWN."""
    seen = set(states)
    if State.OPEN in seen:
        return State.OPEN
    return State.UNKNOWN if State.UNKNOWN in seen else State.CLOSED


def all_of(states: Iterable[State]) -> State:
    """Return CLOSED when any state is closed, OPEN when all are open, else UNKNOWN."""
    seen = set(states)
    if State.CLOSED in seen:
        return State.CLOSED
    return State.UNKNOWN if State.UNKNOWN in seen or not seen else State.OPEN


def _state(value: bool | None) -> State:
    return State.UNKNOWN if value is None else State.OPEN if value else State.CLOSED


class Credential(StrEnum):
    """What a client presents from the Internet."""

    NTLM = "ntlm"
    KERBEROS = "kerberos"
    PIN = "pin"
    CLIENT_CERTIFICATE = "client_certificate"
    ADFS = "adfs"
    ADFS_WINDOWS = "adfs_windows"
    ADFS_WS_TRUST = "adfs_ws_trust"
    PASSWORD_GRANT = "password_grant"
    OAUTH = "oauth"


@dataclass(frozen=True)
class CredentialFacts:
    """A credential's label and whether it is a password alone whatever the path (`alone`).

    For the AD FS sign-in, the MFA rules decide; for a client certificate, how it was first obtained.
    """

    label: str
    short: str
    alone: bool


CREDENTIAL_FACTS: dict[Credential, CredentialFacts] = {
    Credential.NTLM: CredentialFacts("a password over NTLM", "NTLM", True),
    Credential.KERBEROS: CredentialFacts("a password over Kerberos (Negotiate)", "Kerberos", True),
    Credential.PIN: CredentialFacts("an extension or phone number and PIN", "PIN", True),
    Credential.CLIENT_CERTIFICATE: CredentialFacts("a Lync client certificate (TLS-DSK / certificate "
                                                   "authentication)", "client certificate", False),
    Credential.ADFS: CredentialFacts("an AD FS sign-in (forms)", "AD FS", False),
    Credential.ADFS_WINDOWS: CredentialFacts("Windows integrated sign-in at AD FS (NTLM/Kerberos)",
                                             "AD FS Windows", True),
    # AD FS's WS-Trust user name and password endpoints (ADFS_PASSWORD_PATHS): the password travels in the SOAP
    # message, and AD FS checks it before its MFA rules are looked at (they apply after the first step of
    # authentication). A client there cannot give a second factor: where the rules ask for one, no token is issued.
    Credential.ADFS_WS_TRUST: CredentialFacts("a user name and password posted to AD FS's WS-Trust endpoints "
                                              "(usernamemixed)", "AD FS WS-Trust", False),
    # What the Lync password-spray tools post: a user name and password to /WebTicket/oauthtoken (the
    # MsRtcOAuth password grant). The server checks it against the directory like Windows authentication,
    # and UseWindowsAuth governs it with NTLM and Negotiate.
    Credential.PASSWORD_GRANT: CredentialFacts("a password posted to /WebTicket/oauthtoken (the MsRtcOAuth "
                                               "password grant)", "password grant", True),
    # Modern Authentication: a token AD FS issues after its own sign-in, as strong as that sign-in.
    Credential.OAUTH: CredentialFacts("an OAuth token from AD FS (Modern Authentication)", "Modern Auth", False),
}


class EntryKind(StrEnum):
    """Kinds of entry point from the Internet."""

    EDGE_SIP = "edge_sip"
    REGISTRAR = "registrar"
    WEB_SERVICES = "web_services"
    ADFS = "adfs"


# The authenticated paths of a pool's external web services that clients and public password-spray
# tools use. All of them follow the pool's web service configuration (UseWindowsAuth and friends).
WEB_PATHS: tuple[tuple[str, str], ...] = (
    ("/WebTicket/WebTicketService.svc", "WebTicket"),
    ("/CertProv/CertProvisioningService.svc", "CertProv (client certificates)"),
    ("/Autodiscover/AutodiscoverService.svc/root/user", "Autodiscover (lyncdiscover)"),
    # The user resource the anonymous discovery document links to (UCWA, the mobile and web clients, and every
    # Lync password-spray tool): its 401 names the MsRtcOAuth token URL and the grant types the pool takes, the
    # password grant included, so it is where a request without credentials shows that grant open or closed.
    ("/Autodiscover/AutodiscoverService.svc/root/oauth/user", "Autodiscover OAuth user resource (MsRtcOAuth)"),
    ("/abs/", "Address Book"),
    ("/GroupExpansion/service.svc", "distribution group expansion"),
    ("/mcx/", "mobility (MCX)"),
    ("/RgsClients/", "Response Group clients"),
    ("/RequestHandlerExt/", "request handler"),
    ("/ucwa/", "UCWA (mobile and web clients)"),
    ("/passiveauth/", "passive authentication (AD FS redirect)"),
)
PASSIVEAUTH_PATH = "/passiveauth/"
ADFS_PATH = "/adfs/ls/"
# AD FS's WS-Trust endpoints that take Windows integrated sign-in (NTLM/Negotiate) in the request itself, with
# no sign-in page: what NTLM recon and spray tools ask an AD FS name for. A Web Application Proxy leaves them
# unpublished unless their proxy setting is turned on; a plain reverse proxy hands them to AD FS with the rest.
ADFS_WINDOWS_PATHS: tuple[str, ...] = ("/adfs/services/trust/2005/windowstransport",
                                       "/adfs/services/trust/13/windowstransport")
# AD FS's WS-Trust endpoints that take a user name and password in the request itself (a WS-Security UsernameToken
# in the SOAP message, no HTTP challenge): what active clients and password-spray tools post to. Whether a Web
# Application Proxy publishes them is each endpoint's proxy setting (Get-AdfsEndpoint), which no plan changes.
ADFS_PASSWORD_PATHS: tuple[str, ...] = ("/adfs/services/trust/2005/usernamemixed",
                                        "/adfs/services/trust/13/usernamemixed")
# The scheme name the verification probes use for the MsRtcOAuth password grant (Credential.PASSWORD_GRANT).
PASSWORD_GRANT_SCHEME = "password_grant"


@dataclass(frozen=True)
class EntryPoint:
    """One place a client on the Internet signs in.

    `key` is stable (`edge:<fqdn>`, `edge:*`, `registrar:<pool>`, `web:<pool>`, `adfs`); `host` is what
    the client connects to (None when the plan does not name it); `field` is the plan field that governs
    the entry point; `in_plan` is False for what only the estate holds.
    """

    key: str
    kind: EntryKind
    label: str
    host: str | None
    pool: str | None
    edge: str | None
    via: str
    field: str
    in_plan: bool = True
    paths: tuple[str, ...] = ()
    serves_every_pool: bool = False


@dataclass(frozen=True)
class Access:
    """Whether a credential is accepted on a path, and whether a password alone gets in that way."""

    accepted: State
    password_only: State
    why: str


@dataclass(frozen=True)
class SignInPath:
    """One credential at one entry point, before and after the plan; `field` closes it."""

    entry: EntryPoint
    credential: Credential
    before: Access
    after: Access
    field: str
    users: str

    @property
    def key(self) -> str:
        """Return `<entry key>/<credential>`, stable across renders."""
        return f"{self.entry.key}/{self.credential.value}"


@dataclass(frozen=True)
class CertificateIssuance:
    """How users of one pool first obtain a Lync client certificate: its CertProv, with these credentials.

    `credentials_after` are the credentials CertProv may accept after the plan; `by_password_after` those of
    them with which a password alone (or possibly alone: unknown) obtains a certificate.
    """

    pool: str
    field: str
    before: Access
    after: Access
    credentials_after: tuple[Credential, ...]
    by_password_after: tuple[Credential, ...] = ()

    @property
    def pool_label(self) -> str:
        """Return the pool's name in words (the stand-in for Front End pools not in the plan has none)."""
        return _NOT_IN_PLAN_LABEL if self.pool == _NOT_IN_PLAN else self.pool


@dataclass(frozen=True)
class Exposure:
    """The whole model: entry points, sign-in paths and certificate issuance, in a stable order."""

    entries: tuple[EntryPoint, ...]
    paths: tuple[SignInPath, ...]
    issuance: tuple[CertificateIssuance, ...]
    estate_used: bool = False
    # The pools whose passive relying party trusts the plan's AD FS script sets up with the plan's MFA (its passive
    # pools). AD FS asks for MFA per trust: an AD FS sign-in through any other pool's /passiveauth redirect is as
    # strong as that pool's own trusts are today.
    mfa_trust_pools: frozenset[str] = frozenset()

    @cached_property
    def _by_entry(self) -> dict[str, tuple[SignInPath, ...]]:
        grouped: dict[str, list[SignInPath]] = {}
        for path in self.paths:
            grouped.setdefault(path.entry.key, []).append(path)
        return {key: tuple(paths) for key, paths in grouped.items()}

    def paths_at(self, entry_key: str) -> tuple[SignInPath, ...]:
        """Return the paths of one entry point."""
        return self._by_entry.get(entry_key, ())

    def password_only(self, *, after: bool = True) -> tuple[SignInPath, ...]:
        """Return the paths where a password alone gets in (open) or may get in (unknown)."""
        return tuple(p for p in self.paths
                     if (p.after if after else p.before).password_only is not State.CLOSED)

    @cached_property
    def _by_pool(self) -> dict[str, CertificateIssuance]:
        return {i.pool: i for i in self.issuance}

    def issuance_for(self, pool: str) -> CertificateIssuance | None:
        """Return how users of `pool` first obtain a client certificate, or None."""
        return self._by_pool.get(pool)


# ---------------------------------------------------------------------------
# What applies to a pool's web services and to a proxy (Edge or Registrar)


@dataclass(frozen=True)
class _Web:
    ntlm: State
    kerberos: State
    pin: State
    certificate: State
    passive: State
    why: str
    # The MsRtcOAuth password grant follows Windows authentication (UseWindowsAuth) unless a Modern
    # Authentication scenario says otherwise; OAuth tokens from AD FS are accepted once the plan's
    # Modern Authentication is set up (the state file does not hold the OAuth settings).
    password_grant: State = State.UNKNOWN
    oauth: State = State.UNKNOWN


@dataclass(frozen=True)
class _Proxy:
    ntlm: State
    kerberos: State
    certificate: State
    why: str


_UNKNOWN_WEB = _Web(State.UNKNOWN, State.UNKNOWN, State.UNKNOWN, State.UNKNOWN, State.UNKNOWN,
                    "as today: the plan does not change it and no state file says what it is")
_UNKNOWN_PROXY = _Proxy(State.UNKNOWN, State.UNKNOWN, State.UNKNOWN,
                        "as today: the plan does not change it and no state file says what it is")


def _windows(value: str | None) -> tuple[State, State]:
    """Return (NTLM, Kerberos) from UseWindowsAuth: Negotiate offers both, NTLM only NTLM, None neither."""
    if value is None:
        return State.UNKNOWN, State.UNKNOWN
    # The cmdlet's values are Negotiate, NTLM and None; the collector may report them in any case.
    upper = value.upper()
    if upper == "NONE":
        return State.CLOSED, State.CLOSED
    if upper == "NTLM":
        return State.OPEN, State.CLOSED
    return State.OPEN, State.OPEN


def _collections(estate: Estate, fqdn: str, site: str | None) -> list[EstateWebService | None]:
    """Return the web service collections that may apply to the pool (None: none at all, so unknown).

    Its own service collection when the state file has one (the script's Set- changes that one). Otherwise the
    one the topology's site picks (`site:<site>`, else the global one): what applies to a pool the plan leaves
    alone, and what a collection the script creates copies (the script reads the pool's site from the topology
    at run time, whatever site the plan gives it). When the topology does not report the pool's site, the pool may
    be in any site: every site collection may apply. A pool the topology does not hold takes the plan's site (the
    script stops on it before any change anyway). A missing site in the state file never hides a collection.
    """
    own = estate.web_service(f"service:WebServer:{fqdn}")
    if own is not None:
        return [own]
    sites: list[str | None]
    known = estate.pool(fqdn)
    if known is None:
        sites = [site]
    elif known.site:
        sites = [known.site]
    else:
        sites = [None, *(w.identity.partition(":")[2] for w in estate.web_service_configurations
                         if w.identity.casefold().startswith("site:"))]
    found: list[EstateWebService | None] = []
    for name in sites:
        web = (estate.web_service(f"site:{name}") if name else None) or estate.web_service("Global")
        if web not in found:
            found.append(web)
    return found


def _web_of(web: EstateWebService) -> _Web:
    ntlm, kerberos = _windows(web.use_windows_auth)
    return _Web(ntlm, kerberos, _state(web.use_pin_auth), _state(web.use_certificate_auth),
                _state(web.use_ws_fed_passive_auth), f"as today ({web.identity} in the state file)",
                password_grant=ntlm)


def _web_today(estate: Estate | None, fqdn: str, site: str | None) -> _Web:
    if estate is None or not estate.has_management_shell_data or fqdn == _NOT_IN_PLAN:
        return _UNKNOWN_WEB
    collections = _collections(estate, fqdn, site)
    webs = [_UNKNOWN_WEB if web is None else _web_of(web) for web in collections]
    if len(webs) == 1:
        return webs[0]
    # More than one collection may apply (the topology does not say the pool's site): a setting is open when any of
    # them has it on.
    names = " or ".join(web.identity if web is not None else "no collection" for web in collections)
    return _Web(ntlm=any_of(w.ntlm for w in webs), kerberos=any_of(w.kerberos for w in webs),
                pin=any_of(w.pin for w in webs), certificate=any_of(w.certificate for w in webs),
                passive=any_of(w.passive for w in webs),
                why=f"as today ({names} in the state file: the topology does not say the pool's site, so any of "
                    f"them may apply)",
                password_grant=any_of(w.password_grant for w in webs))


def _web_shadowed(estate: Estate | None, fqdn: str, site: str | None) -> bool:
    """Return True when the state file shows a site or service collection applying to the pool's web services:
    it may take precedence over a global Set-CsAuthConfig scenario (inferred, never documented)."""
    if estate is None or not estate.has_management_shell_data or fqdn == _NOT_IN_PLAN:
        return False
    return any(web is not None and web.identity.casefold() != "global" for web in _collections(estate, fqdn, site))


def _scenario_closes(before: State, shadowed: bool) -> State:
    """Return what a global scenario that turns something off leaves: closed, or unknown where a more specific
    collection may take precedence (closed only when that collection itself has it off)."""
    if not shadowed:
        return State.CLOSED
    return State.CLOSED if before is State.CLOSED else State.UNKNOWN


def _web_after(plan_pool: Pool | None, today: _Web, modern: ModernAuth | None = None,
               shadowed: bool = False, created: bool = False) -> _Web:
    """Return the pool's web service settings once the plan's scripts have run.

    `modern` is the plan's Modern Authentication (global: it reaches every pool), `shadowed` whether a site
    or service collection may keep a global Set-CsAuthConfig scenario from this pool, `created` whether the state
    file shows that the script creates the pool's own collection (`_web_created`).
    """
    web = _web_after_mode(plan_pool, today, created)
    if modern is None:
        return web
    scenario = modern.scenario
    if scenario is None:
        return replace(web, oauth=State.OPEN,
                       why=f"{web.why}; Modern Authentication on, Set-CsAuthConfig left as today")
    if not scenario.blocks_windows_externally or (plan_pool is not None and plan_pool.auth is not None):
        # A pool with a mode of its own under a blocking scenario is refused (modern_auth_pool_auth_conflict).
        return replace(web, oauth=State.OPEN, why=f"{web.why}; Modern Authentication on ({scenario.value})")
    closed = [_scenario_closes(state, shadowed) for state in (web.ntlm, web.kerberos, web.password_grant)]
    why = (f"Modern Authentication, {scenario.value} (global): Windows and forms authentication off for clients "
           f"on the Internet (inferred); PIN and certificate authentication as before")
    if shadowed:
        why += "; a site or service collection applies to this pool and may keep the scenario from it"
    return replace(web, ntlm=closed[0], kerberos=closed[1], password_grant=closed[2], oauth=State.OPEN, why=why)


def _web_created(plan: PlanData, estate: Estate | None, ref: _PoolRef) -> bool:
    """Return True when the state file shows the pool has no collection of its own and the plan's script creates
    one for it (New-CsWebServiceConfiguration: passive authentication off, whatever applied until then)."""
    if estate is None or ref.plan_pool is None or ref.index is None:
        return False
    return creates_web_collection(plan, estate, ref.index, ref.plan_pool)


def _web_after_mode(plan_pool: Pool | None, today: _Web, created: bool = False) -> _Web:
    """Return the pool's web service settings once the plan's per-pool scripts have run."""
    auth = plan_pool.auth if plan_pool is not None else None
    if auth is None:
        return today
    mode = auth.external
    if mode is AuthMode.PASSIVE:
        # UseWindowsAuth None, UsePinAuth $false, UseWsFedPassiveAuth $true; certificates as the plan says.
        return _Web(State.CLOSED, State.CLOSED, State.CLOSED, _state(auth.certificate_auth), State.OPEN,
                    "passive authentication: Windows authentication and PIN off, sign-in through AD FS",
                    password_grant=State.CLOSED, oauth=today.oauth)
    # The modes that keep Windows authentication leave UseWindowsAuth alone, and UsePinAuth unless the plan
    # blocks PIN (block_pin_auth); the pool's verification expects Windows authentication offered (devices get
    # their first certificate with it).
    ntlm = today.ntlm if today.ntlm is not State.UNKNOWN else State.OPEN
    kerberos = today.kerberos if today.kerberos is not State.UNKNOWN else State.OPEN
    emits = mode.certificate_sign_in_only or auth.client_certificate_hours is not None or not auth.certificate_auth \
        or auth.block_pin_auth
    certificate = _state(auth.certificate_auth) if emits else today.certificate
    pin = State.CLOSED if auth.block_pin_auth else today.pin
    why = f"{mode.label}: Windows authentication kept" + ("; PIN off (block_pin_auth)" if auth.block_pin_auth else "")
    # A collection the script creates starts with passive authentication off (it is never copied).
    passive = State.CLOSED if created else today.passive
    return _Web(ntlm, kerberos, pin, certificate, passive, why, password_grant=ntlm, oauth=today.oauth)


def _proxy_today(estate: Estate | None, identity: str) -> _Proxy:
    if estate is None or not estate.has_management_shell_data:
        return _UNKNOWN_PROXY
    proxy: EstateProxy | None = estate.proxy_for(identity)
    if proxy is None:
        return _UNKNOWN_PROXY
    return _Proxy(_state(proxy.use_ntlm_for_client_to_proxy_auth),
                  _state(proxy.use_kerberos_for_client_to_proxy_auth),
                  _state(proxy.use_certificate_for_client_to_proxy_auth),
                  f"as today ({proxy.identity} in the state file)")


_BLOCKED = _Proxy(State.CLOSED, State.CLOSED, State.OPEN,
                  "NTLM and Kerberos off, certificate (TLS-DSK) sign-in on")


def _registrar_after(plan: PlanData, plan_pool: Pool | None, today: _Proxy, shadowed: bool) -> _Proxy:
    """Return a pool's Registrar once the plan has run: the plan's own block, else the Modern Authentication
    scenario (global; `shadowed` when a service collection may take precedence), else as today."""
    if plan_pool is not None and registrar_blocked(plan_pool):
        return _BLOCKED
    scenario = plan.modern_auth_scenario
    if scenario is None:
        return today
    facts = scenario.facts

    def sip(on: bool, now: State) -> State:
        if on:
            # The scenario turns it on at the global level; a collection of the pool's own keeps today's.
            return now if shadowed else State.OPEN
        return _scenario_closes(now, shadowed)

    why = (f"Modern Authentication, {scenario.value} (global): NTLM {'on' if facts.sip_ntlm else 'off'}, Kerberos "
           f"{'on' if facts.sip_kerberos else 'off'} at the Registrar (inferred), certificate sign-in as before")
    if shadowed:
        why += "; a service collection applies to this Registrar and may keep the scenario from it"
    return _Proxy(sip(facts.sip_ntlm, today.ntlm), sip(facts.sip_kerberos, today.kerberos), today.certificate, why)


def _registrar(plan: PlanData, estate: Estate | None, ref: _PoolRef) -> tuple[_Proxy, _Proxy]:
    """Return a pool's Registrar today and once the plan has run (the model's paths and `registrar_probes`)."""
    identity = f"service:Registrar:{ref.fqdn}"
    today = _UNKNOWN_PROXY if ref.fqdn == _NOT_IN_PLAN else _proxy_today(estate, identity)
    own = estate is not None and estate.has_management_shell_data and estate.proxy(identity) is not None
    return today, _registrar_after(plan, ref.plan_pool, today, own)


def registrar_blocked(pool: Pool) -> bool:
    """Return True when the plan turns NTLM and Kerberos off at the pool's Registrar."""
    return bool(pool.auth and pool.auth.block_ntlm_at_registrar)


# ---------------------------------------------------------------------------
# The pools, Edge pools and AD FS the model covers


@dataclass(frozen=True)
class _PoolRef:
    fqdn: str
    role: str
    site: str | None
    external_web_fqdn: str | None
    index: int | None            # position in plan.pools, None for an estate-only pool
    plan_pool: Pool | None

    @property
    def field(self) -> str:
        return f"pools[{self.index}]" if self.index is not None else "pools"

    @property
    def label(self) -> str:
        if self.fqdn == _NOT_IN_PLAN:
            return _NOT_IN_PLAN_LABEL
        return ("Director pool " if self.role == "director" else "pool ") + self.fqdn

    @property
    def homed(self) -> str:
        if self.fqdn == _NOT_IN_PLAN:
            return f"users homed on {_NOT_IN_PLAN_LABEL}"
        return f"users homed on {self.fqdn}"


@dataclass(frozen=True)
class _EdgeRef:
    fqdn: str
    access_fqdn: str | None
    index: int | None
    plan_edge: EdgePool | None

    @property
    def field(self) -> str:
        return f"edge_pools[{self.index}].block_ntlm" if self.index is not None else "edge_pools"


# The stand-in for the Front End pools when neither the plan nor the state file names one: a Director homes no
# user, so the users' home pools (their web services, CertProv and Registrar) are as today.
_NOT_IN_PLAN = "*"
_NOT_IN_PLAN_LABEL = "Front End pools not in the plan"


def _pools(plan: PlanData, estate: Estate | None) -> list[_PoolRef]:
    out = [_PoolRef(p.fqdn, p.role, p.site, p.external_web_fqdn, i, p) for i, p in enumerate(plan.pools)]
    if estate is not None:
        known = {p.fqdn.casefold() for p in plan.pools}
        out += [_PoolRef(p.fqdn, p.role, p.site, p.external_web_fqdn, None, None)
                for p in estate.pools if p.fqdn.casefold() not in known]
    if not any(ref.role != "director" for ref in out):
        out.append(_PoolRef(_NOT_IN_PLAN, "frontend", None, None, None, None))
    return out


def _edges(plan: PlanData, estate: Estate | None) -> list[_EdgeRef]:
    out = [_EdgeRef(e.fqdn, e.access_fqdn, j, e) for j, e in enumerate(plan.edge_pools)]
    if estate is not None:
        known = {e.fqdn.casefold() for e in plan.edge_pools}
        out += [_EdgeRef(e.fqdn, e.access_fqdn, None, None) for e in estate.edge_pools
                if e.fqdn.casefold() not in known]
    return out


def _adfs_in_use(plan: PlanData) -> bool:
    return plan.signs_in_through_adfs


def mfa_promised(plan: PlanData) -> bool:
    """Return True when the plan asks AD FS for MFA on the Internet (extranet or always) for the users who sign
    in through it: passive pools, or Modern Authentication (MFA on the trust Microsoft's setup script makes).

    AD FS 2.0 cannot require MFA at all: that plan is refused by its own error (mfa_adfs20_unsupported).
    """
    adfs = plan.adfs
    return _adfs_in_use(plan) and adfs is not None and adfs.mfa in ("extranet", "always") and adfs.version != "2.0"


def _adfs_access(plan: PlanData, estate: Estate | None) -> tuple[Access, Access, Access, Access]:
    """Return (forms before, forms after, Windows integrated before, Windows integrated after) at AD FS."""
    adfs = plan.adfs
    unknown = Access(State.UNKNOWN, State.UNKNOWN, "as today: the plan does not say how AD FS signs Lync users in")
    if adfs is None:
        return unknown, unknown, unknown, unknown
    wap_known = estate.adfs.web_application_proxy if estate is not None and estate.adfs is not None else None
    if adfs.published_on_reverse_proxy:
        through = "the plain reverse proxy, so AD FS sees Internet requests as internal"
        extranet_seen = False
    elif wap_known is False:
        through = "no Web Application Proxy (the state file lists none), so AD FS sees Internet requests as internal"
        extranet_seen = False
    else:
        through = "a Web Application Proxy (the plan does not publish AD FS on the reverse proxy)"
        extranet_seen = True
    if adfs.version == "2.0" or adfs.mfa == "none":
        mfa = False
        what = ("AD FS 2.0 cannot require MFA" if adfs.version == "2.0" and adfs.mfa != "none"
                else "no MFA asked for")
    elif adfs.mfa == "always":
        mfa, what = True, "MFA for every request"
    else:
        mfa = extranet_seen
        what = "MFA for extranet requests" + ("" if extranet_seen else ", which never fire here")
    forms_after = Access(State.OPEN, State.CLOSED if mfa else State.OPEN, f"through {through}: {what}")
    if extranet_seen:
        windows_after = Access(State.CLOSED, State.CLOSED, f"through {through}: forms sign-in, no Windows "
                                                            f"integrated sign-in from the Internet")
    else:
        windows_after = Access(State.OPEN, State.CLOSED if mfa else State.OPEN,
                               f"through {through}: Windows integrated sign-in is offered to the Internet; {what}")
    return unknown, forms_after, unknown, windows_after


def _adfs_ws_trust_access(plan: PlanData, forms_after: Access) -> tuple[Access, Access]:
    """Return (before, after) for a user name and password posted to AD FS's WS-Trust endpoints
    (`ADFS_PASSWORD_PATHS`).

    Whether they are reachable is as today: each endpoint's proxy setting decides whether a Web Application Proxy
    publishes it, and a plain reverse proxy hands AD FS whatever is enabled there; no plan changes either. AD FS
    checks the password before it looks at its MFA rules (they apply after the first step of authentication, in
    the help of Set-AdfsRelyingPartyTrust -AdditionalAuthenticationRules), and a WS-Trust client cannot give a
    second factor: where the rules ask for one, it gets no token (the help of Set-AdfsAdditionalAuthenticationRule
    says so; an access control policy's MFA is taken to act the same, inferred). So a password alone signs in there
    exactly where it does at the sign-in page, and where it does not, it is still checked: guessing and account
    lockout work there either way."""
    unknown = Access(State.UNKNOWN, State.UNKNOWN, "as today: the plan does not say how AD FS signs Lync users in")
    if plan.adfs is None:
        return unknown, unknown
    reach = ("as today: whether these endpoints answer from the Internet is their proxy setting and whether they "
             "are enabled (Get-AdfsEndpoint), which the plan does not change")
    if forms_after.password_only is State.CLOSED:
        what = ("AD FS checks the password first (so guessing and lockout work here), then issues no token where "
                "its MFA applies: a WS-Trust client cannot give a second factor")
    else:
        what = "AD FS issues a token for the password alone wherever it does at its sign-in page"
    return unknown, Access(State.UNKNOWN, all_of([State.UNKNOWN, forms_after.password_only]),
                           f"{reach}; {what} ({forms_after.why})")


def _web_access(web: _Web, credential: Credential, adfs: Access) -> Access:
    if credential is Credential.NTLM:
        return Access(web.ntlm, web.ntlm, web.why)
    if credential is Credential.KERBEROS:
        return Access(web.kerberos, web.kerberos, web.why)
    if credential is Credential.PIN:
        return Access(web.pin, web.pin, web.why)
    if credential is Credential.PASSWORD_GRANT:
        return Access(web.password_grant, web.password_grant, web.why)
    if credential is Credential.OAUTH:
        # A token from AD FS: as strong as the AD FS sign-in that issued it.
        return Access(web.oauth, all_of([web.oauth, adfs.password_only]), web.why)
    # AD FS through the pool's /passiveauth redirect: as strong as the AD FS sign-in.
    return Access(web.passive, all_of([web.passive, adfs.password_only]), web.why)


def _issuance(web: _Web, published: State, adfs: Access, why: str,
              oauth: Access | None = None) -> tuple[Access, tuple[Credential, ...], tuple[Credential, ...]]:
    """Return how a client certificate is first obtained from this CertProv, with which credentials, and
    with which of them a password alone is enough.

    `adfs` is the AD FS sign-in through the pool's own passive relying party trusts, `oauth` the one through the
    Modern Authentication trust (the same as `adfs` when not given)."""
    oauth = adfs if oauth is None else oauth
    if web.certificate is State.CLOSED:
        return Access(State.CLOSED, State.CLOSED, "certificate authentication off: CertProv issues none"), (), ()
    through = [(Credential.NTLM, web.ntlm, web.ntlm), (Credential.KERBEROS, web.kerberos, web.kerberos),
               (Credential.PASSWORD_GRANT, web.password_grant, web.password_grant),
               (Credential.PIN, web.pin, web.pin),
               (Credential.ADFS, web.passive, all_of([web.passive, adfs.password_only])),
               (Credential.OAUTH, web.oauth, all_of([web.oauth, oauth.password_only]))]
    credentials = tuple(c for c, accepted, _ in through if accepted is not State.CLOSED)
    by_password = tuple(c for c, _, alone in through if alone is not State.CLOSED)
    accepted = all_of([web.certificate, published])
    password_only = all_of([accepted, any_of(alone for _, _, alone in through)])
    return Access(accepted, password_only, why), credentials, by_password if password_only is not State.CLOSED else ()


# ---------------------------------------------------------------------------
# The model


def exposure(plan: PlanData, *, estate: Estate | None = None) -> Exposure:
    """Return every way to sign in from the Internet that `plan` leaves, before and after it runs.

    The result is shared and read-only: without an estate the model of one plan object is built once
    (the findings, the runbook and the review page all ask for it).
    """
    if estate is None:
        return _plan_exposure(plan)
    return _exposure(plan, estate)


@per_object(slots=4)
def _plan_exposure(plan: PlanData) -> Exposure:
    return _exposure(plan, None)


def _exposure(plan: PlanData, estate: Estate | None) -> Exposure:
    pools = _pools(plan, estate)
    edges = _edges(plan, estate)
    adfs_before, adfs_after, wia_before, wia_after = _adfs_access(plan, estate)
    entries: list[EntryPoint] = []
    paths: list[SignInPath] = []
    issuance: list[CertificateIssuance] = []

    webs: dict[str, tuple[_Web, _Web]] = {}
    issued: dict[str, tuple[Access, Access]] = {}
    trusted = frozenset(ref.fqdn for ref in pools if _plan_sets_trusts(ref.plan_pool))
    passive_after: dict[str, Access] = {ref.fqdn: adfs_after if ref.fqdn in trusted else _trusts_as_today(adfs_after)
                                        for ref in pools}
    oauth_today, oauth_after = _oauth_states(plan)
    for ref in pools:
        today = _web_today(estate, ref.fqdn, ref.site)
        if oauth_today is not None:
            today = replace(today, oauth=oauth_today)
        after = _web_after(ref.plan_pool, today, plan.modern_auth, _web_shadowed(estate, ref.fqdn, ref.site),
                           _web_created(plan, estate, ref))
        if oauth_after is not None:
            after = replace(after, oauth=oauth_after)
        webs[ref.fqdn] = (today, after)
        published = State.OPEN if ref.external_web_fqdn else State.UNKNOWN
        where = (f"https://{ref.external_web_fqdn}/CertProv" if ref.external_web_fqdn
                 else "its CertProv (the plan names no external web services FQDN, so whether it is "
                      "published is not known)")
        before_issue, _, _ = _issuance(today, published, adfs_before, f"{where}, as today")
        after_issue, credentials, by_password = _issuance(after, published, passive_after[ref.fqdn],
                                                          f"{where}: {after.why}", oauth=adfs_after)
        issued[ref.fqdn] = (before_issue, after_issue)
        issuance.append(CertificateIssuance(ref.fqdn, f"{ref.field}.auth.external" if ref.index is not None
                                            else "pools", before_issue, after_issue, credentials, by_password))

    def _any(when: int) -> Access:
        states = [issued[r.fqdn][when] for r in pools]
        return Access(any_of(a.accepted for a in states), any_of(a.password_only for a in states),
                      "certificates issued by the CertProv of any pool")

    # Every Edge and every Director accepts the certificates of every pool's users: computed once.
    every_pool = (_any(0), _any(1))

    def any_user_certificate(when: int) -> Access:
        return every_pool[when]

    # SIP sign-in at each Edge.
    edge_refs = edges or [_EdgeRef("*", None, None, None)]
    for edge in edge_refs:
        synthetic = edge.fqdn == "*"
        if synthetic:
            key, label = "edge:*", "SIP sign-in through Edge pools not in the plan"
            today_proxy = after_proxy = _UNKNOWN_PROXY
        else:
            key = f"edge:{edge.fqdn}"
            label = f"SIP sign-in at Edge {edge.fqdn}" + (f" ({edge.access_fqdn})" if edge.access_fqdn else "")
            identity = f"service:EdgeServer:{edge.fqdn}"
            today_proxy = _proxy_today(estate, identity)
            after_proxy = _BLOCKED if edge.plan_edge is not None and edge.plan_edge.block_ntlm else today_proxy
        entry = EntryPoint(key, EntryKind.EDGE_SIP, label, edge.access_fqdn, None, None if synthetic else edge.fqdn,
                           "Access Edge", edge.field, in_plan=edge.index is not None, serves_every_pool=True)
        entries.append(entry)
        users = "users of every pool"
        for credential, before_state, after_state in (
                (Credential.NTLM, today_proxy.ntlm, after_proxy.ntlm),
                (Credential.KERBEROS, today_proxy.kerberos, after_proxy.kerberos)):
            paths.append(SignInPath(entry, credential, Access(before_state, before_state, today_proxy.why),
                                    Access(after_state, after_state, after_proxy.why), edge.field, users))
        cert_before, cert_after = any_user_certificate(0), any_user_certificate(1)
        paths.append(SignInPath(
            entry, Credential.CLIENT_CERTIFICATE,
            Access(all_of([today_proxy.certificate, cert_before.accepted]),
                   all_of([today_proxy.certificate, cert_before.password_only]), today_proxy.why),
            Access(all_of([after_proxy.certificate, cert_after.accepted]),
                   all_of([after_proxy.certificate, cert_after.password_only]),
                   f"{after_proxy.why}; {cert_after.why}"),
            edge.field, users))

    # Each pool's Registrar, reached through an Edge.
    for ref in pools:
        today_proxy, after_proxy = _registrar(plan, estate, ref)
        field_name = f"{ref.field}.auth.block_ntlm_at_registrar" if ref.index is not None else "pools"
        director = ref.role == "director"
        entry = EntryPoint(f"registrar:{ref.fqdn}", EntryKind.REGISTRAR, f"Registrar of {ref.label}", None,
                           ref.fqdn, None, "an Edge", field_name, in_plan=ref.index is not None,
                           serves_every_pool=director)
        entries.append(entry)
        users = "users of every pool (the Director authenticates them)" if director else ref.homed
        for credential, before_state, after_state in (
                (Credential.NTLM, today_proxy.ntlm, after_proxy.ntlm),
                (Credential.KERBEROS, today_proxy.kerberos, after_proxy.kerberos)):
            paths.append(SignInPath(entry, credential, Access(before_state, before_state, today_proxy.why),
                                    Access(after_state, after_state, after_proxy.why), field_name, users))
        if director:
            cert_before, cert_after = any_user_certificate(0), any_user_certificate(1)
        else:
            cert_before, cert_after = issued[ref.fqdn]
        paths.append(SignInPath(
            entry, Credential.CLIENT_CERTIFICATE,
            Access(all_of([today_proxy.certificate, cert_before.accepted]),
                   all_of([today_proxy.certificate, cert_before.password_only]), today_proxy.why),
            Access(all_of([after_proxy.certificate, cert_after.accepted]),
                   all_of([after_proxy.certificate, cert_after.password_only]),
                   f"{after_proxy.why}; {cert_after.why}"),
            field_name, users))

    # Each pool's external web services, through the reverse proxy.
    for ref in pools:
        today, after = webs[ref.fqdn]
        field_name = f"{ref.field}.auth.external" if ref.index is not None else "pools"
        host = ref.external_web_fqdn
        via = "reverse proxy" if host else "reverse proxy (the plan names no external web services FQDN)"
        entry = EntryPoint(f"web:{ref.fqdn}", EntryKind.WEB_SERVICES, f"Web services of {ref.label}", host,
                           ref.fqdn, None, via, field_name, in_plan=ref.index is not None,
                           paths=tuple(p for p, _ in WEB_PATHS))
        entries.append(entry)
        published = State.OPEN if host else State.UNKNOWN
        users = ref.homed + (" and users it redirects" if ref.role == "director" else "")
        # OAuth is in the model only with the plan's Modern Authentication: a plan without it says nothing of
        # the OAuth settings, and the state file does not hold them (docs/exposure.md).
        oauth = (Credential.OAUTH,) if plan.modern_auth is not None else ()
        for credential in (Credential.NTLM, Credential.KERBEROS, Credential.PASSWORD_GRANT, Credential.PIN,
                           Credential.ADFS, *oauth):
            before = _web_access(today, credential, adfs_before)
            after_access = _web_access(after, credential,
                                       adfs_after if credential is Credential.OAUTH else passive_after[ref.fqdn])
            if credential is Credential.ADFS and ref.fqdn not in trusted \
                    and after_access.password_only is not State.CLOSED:
                after_access = replace(after_access, why=f"{after_access.why}; {_TRUSTS_AS_TODAY}")
            paths.append(SignInPath(
                entry, credential,
                Access(all_of([before.accepted, published]), all_of([before.password_only, published]), before.why),
                Access(all_of([after_access.accepted, published]), all_of([after_access.password_only, published]),
                       after_access.why),
                field_name, users))
        cert_before, cert_after = issued[ref.fqdn]
        paths.append(SignInPath(entry, Credential.CLIENT_CERTIFICATE, cert_before, cert_after, field_name, users))

    # AD FS, when the plan signs users in through it.
    if _adfs_in_use(plan) and plan.adfs is not None:
        adfs = plan.adfs
        via = "reverse proxy" if adfs.published_on_reverse_proxy else "Web Application Proxy"
        entry = EntryPoint("adfs", EntryKind.ADFS, f"AD FS {adfs.federation_service_name}",
                           adfs.federation_service_name, None, None, via, "adfs.mfa")
        entries.append(entry)
        users = _names_of([*(["users of the passive pools"] if plan.passive_pools else []),
                           *(["users signing in with Modern Authentication"] if plan.modern_auth else [])])
        paths.append(SignInPath(entry, Credential.ADFS, adfs_before, adfs_after, "adfs.mfa", users))
        paths.append(SignInPath(entry, Credential.ADFS_WINDOWS, wia_before, wia_after,
                                "adfs.published_on_reverse_proxy", users))
        wst_before, wst_after = _adfs_ws_trust_access(plan, adfs_after)
        paths.append(SignInPath(entry, Credential.ADFS_WS_TRUST, wst_before, wst_after, "adfs.mfa", users))

    return Exposure(tuple(entries), tuple(paths), tuple(issuance), estate_used=estate is not None,
                    mfa_trust_pools=trusted)


def _oauth_states(plan: PlanData) -> tuple[State | None, State | None]:
    """Return whether the web services take an OAuth sign-in (Modern Authentication) today and after the plan where
    the plan settles it, None where it is as the pool's own settings say (unknown without Modern Authentication in
    the plan: the state file does not hold the OAuth settings).

    Lync Server 2013 has no Modern Authentication at all. On Skype for Business Server a plan with a passive pool and
    no `modern_auth` has a Management Shell script that stops before its first change when the global OAuth
    configuration names a client authorization server (the two cannot share a deployment), so once it has run no
    pool takes an OAuth sign-in.
    """
    if not plan.product_facts.modern_auth:
        return State.CLOSED, State.CLOSED
    if plan.modern_auth is None and plan.adfs is not None and plan.passive_pools:
        return None, State.CLOSED
    return None, None


def _plan_sets_trusts(pool: Pool | None) -> bool:
    """Return True when the plan's AD FS script sets up the pool's passive relying party trusts (and their MFA)."""
    return pool is not None and pool.auth is not None and pool.auth.external.needs_adfs


def _trusts_as_today(adfs_after: Access) -> Access:
    """Return the AD FS sign-in through the passive redirect of a pool whose trusts the plan leaves alone: the
    plan's MFA is set on its passive pools' trusts only, so a password alone may be enough here (as today)."""
    if adfs_after.password_only is not State.CLOSED:
        return adfs_after
    return Access(adfs_after.accepted, State.UNKNOWN, f"{adfs_after.why}; but {_TRUSTS_AS_TODAY}")


_TRUSTS_AS_TODAY = ("the plan sets its MFA only on the relying party trusts of its passive pools, so an AD FS sign-in "
                    "for this pool is as its own trusts are today")


def _names_of(items: list[str]) -> str:
    return " and ".join(items)


_STATE_WORDS = {State.OPEN: "open", State.CLOSED: "closed", State.UNKNOWN: "as today (unknown)"}


def describe_access(access: Access) -> str:
    """Return an Access in words: 'closed', 'open, with a password alone', 'as today (unknown)', ..."""
    text = _STATE_WORDS[access.accepted]
    if access.accepted is State.CLOSED:
        return text
    if access.password_only is State.OPEN:
        return text + ", with a password alone"
    if access.password_only is State.UNKNOWN:
        return text + ", perhaps with a password alone"
    return text + ", not with a password alone"


# ---------------------------------------------------------------------------
# Promises


@dataclass(frozen=True)
class Promise:
    """Something the plan promises about Internet sign-in."""

    kind: str       # "mfa" or "block_ntlm"
    field: str
    label: str


@dataclass(frozen=True)
class BrokenPromise:
    """Paths that break a promise, closed by one field; `code` is the finding code."""

    code: str
    field: str
    promise: Promise
    paths: tuple[SignInPath, ...]
    message: str


# Finding codes of broken promises: each an error a plan may record as an accepted risk.
BROKEN_PROMISE_CODES: dict[str, str] = {
    "mfa_edge_not_in_plan": "MFA promised, but no Edge pool is in the plan: SIP sign-in at the Edge is as today",
    "mfa_edge_password_open": "MFA promised, but an Edge still takes a password over NTLM/Kerberos",
    "mfa_registrar_password_open": "MFA promised, but a pool's Registrar still takes a password over NTLM/Kerberos",
    "mfa_web_password_open": "MFA promised, but a pool's web services take a password (NTLM, Negotiate or PIN)",
    "mfa_certificate_by_password": "MFA promised, but a pool's CertProv hands out client certificates for a "
                                   "password, which then sign in with TLS-DSK",
    "mfa_adfs_not_extranet": "extranet MFA promised, but AD FS cannot tell Internet requests from internal ones",
    "edge_block_not_kept": "block_ntlm promised, but NTLM or Kerberos stays open at that Edge",
}


# The broken promises a plan may record as accepted risks (`accepted_risks` in the plan file). A kept
# block_ntlm is the tool's own doing, so its failure is a fault to report, never a risk to accept.
ACCEPTABLE_RISK_CODES: tuple[str, ...] = tuple(code for code in BROKEN_PROMISE_CODES if code != "edge_block_not_kept")


# The pools and Edge pools of the topology that the plan does not list. With a state file they are in the model, and
# their broken promises name these fields (`pools`, `edge_pools`); without one, only lync-management-shell.ps1 sees
# them, when it reads the topology before its first change. It stops there unless the plan accepts that risk: an
# accepted risk on one of these fields, with a code that names it, says the plan's authors know pools outside the
# plan keep their settings.
OUTSIDE_PLAN_RISK_CODES: dict[str, tuple[str, ...]] = {
    "pools": ("mfa_web_password_open", "mfa_registrar_password_open", "mfa_certificate_by_password"),
    "edge_pools": ("mfa_edge_not_in_plan", "mfa_edge_password_open"),
}


def accepts_outside_plan_risk(plan: PlanData, risk: AcceptedRisk) -> bool:
    """Return True when `risk` of a plan that promises MFA accepts that the topology's pools ("pools") or Edge pools
    ("edge_pools") it does not list break that promise."""
    return mfa_promised(plan) and risk.code in OUTSIDE_PLAN_RISK_CODES.get(risk.field, ())


def accepts_outside_plan(plan: PlanData, field_name: str) -> bool:
    """Return True when the plan accepts that risk for `field_name` ("pools" or "edge_pools"): the Management Shell
    script then names those pools with a warning instead of stopping before its first change."""
    return any(r.field == field_name and accepts_outside_plan_risk(plan, r) for r in plan.accepted_risks)


def promises(plan: PlanData) -> tuple[Promise, ...]:
    """Return what the plan promises: MFA for Internet sign-in, and no NTLM at each blocking Edge."""
    out: list[Promise] = []
    if mfa_promised(plan) and plan.adfs is not None:
        # Said as the wizard says it, not as the plan file spells it: the review page shows these words.
        when = "for sign-in from the extranet" if plan.adfs.mfa == "extranet" else "for every sign-in"
        out.append(Promise("mfa", "adfs.mfa", f"multi-factor authentication at AD FS {when}: no Internet sign-in "
                                                f"works with a password alone"))
    for j, edge in enumerate(plan.edge_pools):
        if edge.block_ntlm:
            out.append(Promise("block_ntlm", f"edge_pools[{j}].block_ntlm",
                               f"NTLM and Kerberos blocked at Edge {edge.fqdn}: no NTLM or Kerberos sign-in at "
                               f"that Edge"))
    return tuple(out)


# Credentials whose password is typed at AD FS: AD FS (its MFA, its view of the extranet) decides their strength.
_THROUGH_ADFS = frozenset({Credential.ADFS, Credential.OAUTH})


def _mfa_code(path: SignInPath, model: Exposure) -> list[tuple[str, str]]:
    """Return (code, closing field) pairs for one password-only path under an MFA promise."""
    kind = path.entry.kind
    if path.credential is Credential.CLIENT_CERTIFICATE:
        # The certificate is the symptom; the CertProv that issues it for a password is the cause.
        out = []
        pools = [path.entry.pool] if path.entry.pool else []
        if path.entry.serves_every_pool:
            pools = [i.pool for i in model.issuance]
        for name in pools:
            issue = model.issuance_for(name)
            if issue is None or issue.after.password_only is State.CLOSED:
                continue
            if _direct_by_password(issue, model):
                out.append(("mfa_certificate_by_password", issue.field))
            if set(issue.by_password_after) & _THROUGH_ADFS and _adfs_entry_open(model):
                # Issued after an AD FS sign-in that needs no second factor: AD FS is the cause.
                out.append(("mfa_adfs_not_extranet", "adfs.published_on_reverse_proxy"))
        return out
    if kind is EntryKind.EDGE_SIP:
        return [("mfa_edge_not_in_plan" if path.entry.key == "edge:*" else "mfa_edge_password_open", path.field)]
    if kind is EntryKind.REGISTRAR:
        return [("mfa_registrar_password_open", path.field)]
    if kind is EntryKind.WEB_SERVICES:
        if path.credential is Credential.ADFS and path.entry.pool not in model.mfa_trust_pools:
            # The plan sets no MFA on this pool's passive relying party trusts: the pool is the cause.
            return [("mfa_web_password_open", path.field)]
        if path.credential in _THROUGH_ADFS:
            # A pool whose passive redirect is only "as today" adds nothing to what the AD FS entry reports.
            if path.after.accepted is not State.OPEN:
                return []
            return [("mfa_adfs_not_extranet", "adfs.published_on_reverse_proxy")]
        return [("mfa_web_password_open", path.field)]
    return [("mfa_adfs_not_extranet", "adfs.published_on_reverse_proxy")]


def _direct_by_password(issue: CertificateIssuance, model: Exposure) -> list[Credential]:
    """Return the credentials with which the pool's CertProv hands out a certificate for a password alone, the pool
    being the cause: every one but those typed at AD FS, and the AD FS sign-in too when the plan sets no MFA on
    the pool's own passive relying party trusts."""
    return [c for c in issue.by_password_after
            if c not in _THROUGH_ADFS or (c is Credential.ADFS and issue.pool not in model.mfa_trust_pools)]


def _adfs_entry_open(model: Exposure) -> bool:
    """Return True when a password alone may sign in at AD FS itself (its MFA never fires, or none is asked for)."""
    return any(p.after.password_only is not State.CLOSED for p in model.paths_at("adfs"))


def broken_promises(plan: PlanData, *, estate: Estate | None = None,
                    model: Exposure | None = None) -> list[BrokenPromise]:
    """Return every promise of `plan` that its own exposure model shows broken, grouped by code and field."""
    model = model if model is not None else exposure(plan, estate=estate)
    found: dict[tuple[str, str], tuple[Promise, list[SignInPath]]] = {}
    for promise in promises(plan):
        if promise.kind == "mfa":
            for path in model.password_only():
                for code, field_name in _mfa_code(path, model):
                    found.setdefault((code, field_name), (promise, []))[1].append(path)
        else:
            edge_key = f"edge:{plan.edge_pools[_index(promise.field)].fqdn}"
            for path in model.paths_at(edge_key):
                if path.credential in (Credential.NTLM, Credential.KERBEROS) \
                        and path.after.accepted is not State.CLOSED:
                    found.setdefault(("edge_block_not_kept", promise.field), (promise, []))[1].append(path)
    out = []
    for (code, field_name), (promise, broken) in found.items():
        out.append(BrokenPromise(code, field_name, promise, tuple(broken),
                                 _message(code, field_name, promise, broken, plan, model)))
    return out


def _index(path: str) -> int:
    return int(path.split("[", 1)[1].split("]", 1)[0])


def _describe(path: SignInPath) -> str:
    state = "may work" if path.after.password_only is State.UNKNOWN else "works"
    return (f"{path.entry.label}: {CREDENTIAL_FACTS[path.credential].label} {state} for "
            f"{path.users} ({path.after.why})")


def _message(code: str, field_name: str, promise: Promise, broken: list[SignInPath], plan: PlanData,
             model: Exposure) -> str:
    unique: list[str] = []
    if code == "mfa_adfs_not_extranet":
        # The password typed at AD FS itself comes first: the other paths are certificates obtained through it.
        broken = sorted(broken, key=lambda path: path.entry.kind is not EntryKind.ADFS)
    for path in broken:
        text = _describe(path)
        if text not in unique:
            unique.append(text)
    shown = "; ".join(unique[:4]) + (f"; and {len(unique) - 4} more" if len(unique) > 4 else "")
    lead = ""
    if code == "mfa_certificate_by_password":
        pool = _pool_at(plan, field_name)
        issue = model.issuance_for(pool.fqdn) if pool is not None else None
        if issue is not None:
            alone = ", ".join(CREDENTIAL_FACTS[c].short for c in _direct_by_password(issue, model))
            lead = (f"the CertProv of {issue.pool} hands out Lync client certificates for a password alone "
                    f"({alone}), and with such a certificate ")
    fix = _fix_pin(code, field_name, broken, plan, model) or _FIXES[code](field_name, plan)
    return f"The plan promises {promise.label}, but {lead}{shown}. {fix}"


def _pool_at(plan: PlanData, field_name: str) -> Pool | None:
    if not field_name.startswith("pools["):
        return None
    return plan.pools[_index(field_name)]


def _fix_edge_missing(field_name: str, plan: PlanData) -> str:
    return ("No Edge pool is in the plan, so SIP sign-in from the Internet keeps whatever the Edge accepts "
            "today (out of the box: NTLM and Kerberos). Add every Edge pool to edge_pools with block_ntlm set "
            "to true, or record the risk as accepted.")


def _fix_edge(field_name: str, plan: PlanData) -> str:
    return (f"Set {field_name} to true (Microsoft's two-factor procedure turns NTLM and Kerberos off at the "
            f"Edge), or record the risk as accepted.")


def _fix_registrar(field_name: str, plan: PlanData) -> str:
    if plan.modern_auth is not None:
        return ("With Modern Authentication the Set-CsAuthConfig scenario decides the Registrar for every pool: "
                "only modern_auth.scenario block_windows_auth_externally_and_internally turns Kerberos off there "
                "as well as NTLM (it blocks Windows authentication inside too); otherwise record the risk as "
                "accepted.")
    if field_name == "pools":
        return "Add that pool to the plan with block_ntlm_at_registrar set to true, or record the risk as accepted."
    return (f"Set {field_name} to true (Microsoft's two-factor procedure turns NTLM and Kerberos off at the "
            f"Registrar too), or record the risk as accepted.")


_MODERN_PIN = ("No Set-CsAuthConfig scenario changes PIN authentication (an extension or phone number and a PIN), "
               "which signs in to the web services without AD FS: turn it off on the pool's web services "
               "(Set-CsWebServiceConfiguration -UsePinAuth $false, outside this plan) and show it with a state file, "
               "or record the risk as accepted.")


def _fix_pin(code: str, field_name: str, broken: list[SignInPath], plan: PlanData, model: Exposure) -> str | None:
    """Return the fix when PIN is all that breaks the promise on a pool with a mode of its own (block_pin_auth
    closes it without passive authentication), else None."""
    pool = _pool_at(plan, field_name)
    if pool is None or pool.auth is None or pool.auth.external is AuthMode.PASSIVE:
        return None
    if code == "mfa_web_password_open":
        pin_only = all(path.credential is Credential.PIN for path in broken)
    elif code == "mfa_certificate_by_password":
        issue = model.issuance_for(pool.fqdn)
        pin_only = issue is not None and set(_direct_by_password(issue, model)) == {Credential.PIN}
    else:
        return None
    if not pin_only:
        return None
    base = field_name.rsplit(".", 1)[0]
    return (f"PIN is what is left open on {pool.fqdn}: set {base}.block_pin_auth to true (UsePinAuth $false on "
            f"its web services; phones that sign in with an extension and PIN stop signing in), or record the risk "
            f"as accepted.")


def _fix_web(field_name: str, plan: PlanData) -> str:
    pool = _pool_at(plan, field_name)
    name = pool.fqdn if pool is not None else "that pool"
    if plan.modern_auth is not None:
        return ("With Modern Authentication, a modern_auth.scenario that blocks Windows authentication from the "
                f"Internet closes NTLM, Negotiate and the password grant on the web services of every pool. "
                f"{_MODERN_PIN}")
    return (f"Only passive authentication closes Windows authentication and PIN on the web services of {name}: "
            f"set {field_name} to \"passive\" (or add the pool to the plan), or record the risk as accepted.")


def _fix_certificate(field_name: str, plan: PlanData) -> str:
    pool = _pool_at(plan, field_name)
    name = pool.fqdn if pool is not None else "that pool"
    if plan.modern_auth is not None:
        return (f"Anyone with a user's password (or PIN) gets a Lync client certificate from the CertProv of {name} "
                f"and then signs in with TLS-DSK, where AD FS and its MFA never apply. A modern_auth.scenario that "
                f"blocks Windows authentication from the Internet closes the password routes. {_MODERN_PIN}")
    return (f"Anyone with a user's password gets a Lync client certificate from the CertProv of {name} and then "
            f"signs in with TLS-DSK, where AD FS and its MFA never apply. Set {field_name} to \"passive\" so "
            f"certificates are only issued after an AD FS sign-in, or record the risk as accepted.")


def _fix_adfs(field_name: str, plan: PlanData) -> str:
    return ("Only a Web Application Proxy (or AD FS proxy) marks Internet requests as extranet "
            "(insidecorporatenetwork = false), so the extranet MFA rule and extranet lockout never fire and Windows "
            "integrated sign-in is offered to the Internet. Publish AD FS through a Web Application Proxy and set "
            "adfs.published_on_reverse_proxy to false, choose mfa \"always\", or record the risk as accepted.")


def _fix_block(field_name: str, plan: PlanData) -> str:
    return "The scripts must turn NTLM and Kerberos off at that Edge; report this as a fault in the tool."


_FIXES = {
    "mfa_edge_not_in_plan": _fix_edge_missing,
    "mfa_edge_password_open": _fix_edge,
    "mfa_registrar_password_open": _fix_registrar,
    "mfa_web_password_open": _fix_web,
    "mfa_certificate_by_password": _fix_certificate,
    "mfa_adfs_not_extranet": _fix_adfs,
    "edge_block_not_kept": _fix_block,
}


# ---------------------------------------------------------------------------
# Verification expectations (issue 13)


class Offer(StrEnum):
    """Whether a server may offer an authentication scheme after the plan."""

    MUST_NOT = "must_not"
    MAY = "may"
    UNKNOWN = "unknown"


def _offer(state: State) -> Offer:
    return {State.OPEN: Offer.MAY, State.CLOSED: Offer.MUST_NOT, State.UNKNOWN: Offer.UNKNOWN}[state]


@dataclass(frozen=True)
class SchemeExpectation:
    """One authentication scheme and whether it may be offered, with why."""

    scheme: str
    offer: Offer
    why: str


@dataclass(frozen=True)
class WebProbe:
    """One URL to probe from the Internet and the schemes its 401 must not / may offer."""

    url: str
    host: str
    path: str
    pool: str
    published_as: str       # "web_services", "simple_url", "autodiscover" (or "adfs", see adfs_probes)
    schemes: tuple[SchemeExpectation, ...] = field(default=())


@dataclass(frozen=True)
class SipProbe:
    """One Access Edge and the schemes its SIP 401 to a REGISTER must not / may offer."""

    edge: str
    access_fqdn: str | None
    schemes: tuple[SchemeExpectation, ...] = field(default=())


def _web_hosts(plan: PlanData, pools: list[_PoolRef]) -> Iterator[tuple[str, str, _PoolRef, str]]:
    """Yield (scheme, host, pool, kind) for every external web host: each pool's, then what the reverse
    proxy publishes to the entry pool (simple URLs and lyncdiscover names)."""
    # Imported here: publishing imports nothing from this module, and only the probes need it.
    from wizard.plan import publishing

    by_internal = {(r.plan_pool.internal_web if r.plan_pool else r.fqdn): r for r in pools}
    seen: set[str] = set()
    for ref in pools:
        if ref.external_web_fqdn and ref.external_web_fqdn not in seen:
            seen.add(ref.external_web_fqdn)
            yield "https", ref.external_web_fqdn, ref, publishing.WEB_SERVICES
    for rule in publishing.publishing_rules(plan):
        if rule.kind not in (publishing.SIMPLE_URL, publishing.AUTODISCOVER) or rule.external_fqdn in seen:
            continue
        target = by_internal.get(rule.target_fqdn)
        if target is None:
            continue
        seen.add(rule.external_fqdn)
        scheme = "https" if rule.port(443) is not None else "http"
        yield scheme, rule.external_fqdn, target, rule.kind


def web_probes(plan: PlanData, *, estate: Estate | None = None) -> tuple[WebProbe, ...]:
    """Return, per external web host and per path of WEB_PATHS, the HTTP schemes that must not / may /
    are unknown to be offered once the plan has run."""
    pools = _pools(plan, estate)
    out: list[WebProbe] = []
    for scheme, host, ref, kind in _web_hosts(plan, pools):
        after = _web_after(ref.plan_pool, _web_today(estate, ref.fqdn, ref.site), plan.modern_auth,
                           _web_shadowed(estate, ref.fqdn, ref.site), _web_created(plan, estate, ref))
        # The same expectations for every path of the host (one tuple, shared); /passiveauth/ adds one.
        windows = (SchemeExpectation("NTLM", _offer(after.ntlm), after.why),
                   SchemeExpectation("Negotiate", _offer(after.kerberos), after.why))
        grant = SchemeExpectation(PASSWORD_GRANT_SCHEME, _offer(after.password_grant), after.why)
        schemes = (*windows, grant)
        passive = (*windows, SchemeExpectation("adfs_redirect", _offer(after.passive), after.why), grant)
        for path, _ in WEB_PATHS:
            out.append(WebProbe(f"{scheme}://{host}{path}", host, path, ref.fqdn, kind,
                                passive if path == PASSIVEAUTH_PATH else schemes))
    return tuple(out)


def sip_probes(plan: PlanData, *, estate: Estate | None = None) -> tuple[SipProbe, ...]:
    """Return, per Edge pool, whether its Access Edge's SIP 401 may offer NTLM, Kerberos and TLS-DSK."""
    out: list[SipProbe] = []
    for edge in _edges(plan, estate):
        today = _proxy_today(estate, f"service:EdgeServer:{edge.fqdn}")
        after = _BLOCKED if edge.plan_edge is not None and edge.plan_edge.block_ntlm else today
        out.append(SipProbe(edge.fqdn, edge.access_fqdn, (
            SchemeExpectation("NTLM", _offer(after.ntlm), after.why),
            SchemeExpectation("Kerberos", _offer(after.kerberos), after.why),
            SchemeExpectation("TLS-DSK", _offer(after.certificate), after.why),
        )))
    return tuple(out)


@dataclass(frozen=True)
class RegistrarProbe:
    """One pool's Registrar (its FQDN, SIP over TLS on 5061) and the schemes its SIP 401 to a REGISTER from inside
    the network must not / may offer."""

    pool: str
    schemes: tuple[SchemeExpectation, ...] = field(default=())


def registrar_probes(plan: PlanData, *, estate: Estate | None = None) -> tuple[RegistrarProbe, ...]:
    """Return, per pool of the plan whose Registrar the plan closes a scheme at (`block_ntlm_at_registrar`, or a
    Modern Authentication scenario), whether its SIP 401 may offer NTLM, Kerberos and TLS-DSK once the plan has
    run. The Registrar's proxy settings apply inside too, so verify-internal.ps1 sends the REGISTER from inside:
    from the Internet the Edge answers first. A Registrar the plan leaves as it is has nothing to check."""
    out: list[RegistrarProbe] = []
    for ref in _pools(plan, estate):
        if ref.plan_pool is None:
            continue
        _, after = _registrar(plan, estate, ref)
        schemes = (SchemeExpectation("NTLM", _offer(after.ntlm), after.why),
                   SchemeExpectation("Kerberos", _offer(after.kerberos), after.why),
                   SchemeExpectation("TLS-DSK", _offer(after.certificate), after.why))
        if any(s.offer is Offer.MUST_NOT for s in schemes):
            out.append(RegistrarProbe(ref.fqdn, schemes))
    return tuple(out)


def adfs_probes(plan: PlanData, *, estate: Estate | None = None) -> tuple[WebProbe, ...]:
    """Return the AD FS endpoints to probe from the Internet on the federation service name, each with whether
    its answer may offer Windows integrated sign-in (NTLM, Negotiate): the sign-in page (`ADFS_PATH`), then the
    WS-Trust Windows transport endpoints (`ADFS_WINDOWS_PATHS`). Empty when the plan signs nobody in through
    AD FS.

    Through a Web Application Proxy the Internet gets forms sign-in only (must not); through the plain
    reverse proxy AD FS takes Internet requests for internal ones and may offer it (see `_adfs_access`).
    The sign-in page challenges only a real sign-in request from an agent AD FS lists; the Windows transport
    endpoints challenge any request that reaches them, so they show whether AD FS is published without a WAP.
    """
    if not _adfs_in_use(plan) or plan.adfs is None:
        return ()
    _, _, _, windows_after = _adfs_access(plan, estate)
    offer = _offer(windows_after.accepted)
    host = plan.adfs.federation_service_name
    schemes = (SchemeExpectation("NTLM", offer, windows_after.why),
               SchemeExpectation("Negotiate", offer, windows_after.why))
    return tuple(WebProbe(f"https://{host}{path}", host, path, "", "adfs", schemes)
                 for path in (ADFS_PATH, *ADFS_WINDOWS_PATHS))


# What the runbook and the review page say of a closed path that verify-external.ps1 cannot see: a request
# without credentials shows neither PIN nor certificate authentication, and the Registrar sits behind the Edge.
_UNSEEN = "not from the Internet: a request without credentials cannot show it"
_UNSEEN_REGISTRAR = "not from the Internet: the Edge answers SIP sign-in first"


# The scheme a probe judges for each credential it can show (verify-external.ps1's web and SIP probes).
_PROBED_SCHEMES: dict[tuple[EntryKind, Credential], str] = {
    (EntryKind.WEB_SERVICES, Credential.NTLM): "NTLM",
    (EntryKind.WEB_SERVICES, Credential.KERBEROS): "Negotiate",
    (EntryKind.WEB_SERVICES, Credential.PASSWORD_GRANT): PASSWORD_GRANT_SCHEME,
    (EntryKind.WEB_SERVICES, Credential.ADFS): "adfs_redirect",
    (EntryKind.EDGE_SIP, Credential.NTLM): "NTLM",
    (EntryKind.EDGE_SIP, Credential.KERBEROS): "Kerberos",
    (EntryKind.REGISTRAR, Credential.NTLM): "NTLM",
    (EntryKind.REGISTRAR, Credential.KERBEROS): "Kerberos",
    (EntryKind.ADFS, Credential.ADFS_WINDOWS): "NTLM",
}
_AS_TODAY_ONLY = ("not from the Internet: closed as the state file shows it today, which the plan leaves as it is; "
                  "verify-external.ps1 is built from the plan alone and does not judge it")


def _must_not(probes: Iterable[tuple[str, tuple[SchemeExpectation, ...]]]) -> dict[str, set[str]]:
    """Return, per key (a pool, an Edge, AD FS), the schemes every probe of that key that judges them must not see."""
    judged: dict[str, dict[str, bool]] = {}
    for key, schemes in probes:
        seen = judged.setdefault(key, {})
        for s in schemes:
            seen[s.scheme] = seen.get(s.scheme, True) and s.offer is Offer.MUST_NOT
    return {key: {scheme for scheme, closed in seen.items() if closed} for key, seen in judged.items()}


def internet_checks(plan: PlanData, model: Exposure) -> dict[str, str]:
    """Return, per path that is closed after the plan (`SignInPath.key`), whether verify-external.ps1 checks from
    the Internet that it is closed after the change, in words ("from the Internet ..." or "not from the
    Internet: why"; for a Registrar that `registrar_probes` holds, also that verify-internal.ps1 probes it from
    inside). The scripts are built from the plan alone, so what only a state file holds is never probed: a path the
    model (with a state file) closes only because it is closed today is checked only where the plan's own probes
    expect it closed too.
    """
    web_pools = _must_not((probe.pool, probe.schemes) for probe in web_probes(plan))
    sip_closed = _must_not((probe.edge, probe.schemes) for probe in sip_probes(plan) if probe.access_fqdn)
    sip_edges = {probe.edge: (probe.access_fqdn, sip_closed[probe.edge]) for probe in sip_probes(plan)
                 if probe.access_fqdn}
    adfs_closed = _must_not(("adfs", probe.schemes) for probe in adfs_probes(plan)).get("adfs")
    registrars = _must_not((probe.pool, probe.schemes) for probe in registrar_probes(plan))
    out: dict[str, str] = {}
    for path in model.paths:
        if path.after.accepted is not State.CLOSED:
            continue
        entry, credential = path.entry, path.credential
        scheme = _PROBED_SCHEMES.get((entry.kind, credential), "")
        text = _UNSEEN
        if credential in (Credential.PIN, Credential.CLIENT_CERTIFICATE):
            pass
        elif entry.kind is EntryKind.EDGE_SIP:
            access, closed = sip_edges.get(entry.edge or "", (None, set())) if entry.in_plan else (None, set())
            if not access:
                text = "not from the Internet: the plan names no Access Edge FQDN to send a SIP REGISTER to"
            elif scheme in closed:
                text = f"from the Internet: verify-external.ps1 sends a SIP REGISTER to {access}"
            else:
                text = _AS_TODAY_ONLY
        elif entry.kind is EntryKind.REGISTRAR:
            text = _UNSEEN_REGISTRAR
            if entry.in_plan and scheme in registrars.get(entry.pool or "", set()):
                text += f"; from inside, verify-internal.ps1 sends a SIP REGISTER to {entry.pool}"
        elif entry.kind is EntryKind.WEB_SERVICES:
            if not (entry.in_plan and entry.pool in web_pools):
                text = "not from the Internet: the plan publishes no external name for it"
            elif scheme and scheme in web_pools[entry.pool or ""]:
                text = "from the Internet: verify-external.ps1 asks each of its published names without credentials"
            elif scheme:
                text = _AS_TODAY_ONLY
        elif entry.kind is EntryKind.ADFS and adfs_closed is not None:
            text = ("from the Internet: verify-external.ps1 asks AD FS /adfs/ls/ and its windowstransport "
                    "endpoints without credentials" if scheme in adfs_closed else _AS_TODAY_ONLY)
        out[path.key] = text
    return out


__all__ = [
    "ACCEPTABLE_RISK_CODES",
    "ADFS_PASSWORD_PATHS",
    "ADFS_PATH",
    "ADFS_WINDOWS_PATHS",
    "BROKEN_PROMISE_CODES",
    "CREDENTIAL_FACTS",
    "OUTSIDE_PLAN_RISK_CODES",
    "PASSIVEAUTH_PATH",
    "PASSWORD_GRANT_SCHEME",
    "WEB_PATHS",
    "Access",
    "BrokenPromise",
    "CertificateIssuance",
    "Credential",
    "CredentialFacts",
    "EntryKind",
    "EntryPoint",
    "Exposure",
    "Offer",
    "Promise",
    "RegistrarProbe",
    "SchemeExpectation",
    "SignInPath",
    "SipProbe",
    "State",
    "WebProbe",
    "accepts_outside_plan",
    "accepts_outside_plan_risk",
    "adfs_probes",
    "all_of",
    "any_of",
    "broken_promises",
    "describe_access",
    "exposure",
    "internet_checks",
    "mfa_promised",
    "promises",
    "registrar_blocked",
    "registrar_probes",
    "sip_probes",
    "web_probes",
]
