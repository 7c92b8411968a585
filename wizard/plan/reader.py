"""Read a `lync-auth-plan/1` document: normalise and validate it into `PlanData`.

Pure Python: no Django, no database. Every problem becomes a Finding whose
`field` is the JSON path (`pools[0].auth.client_certificate_hours.default`).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from wizard.plan import validators as v
from wizard.plan.exposure import ACCEPTABLE_RISK_CODES
from wizard.plan.finding import Finding, error, info
from wizard.plan.limits import check_document, printable
from wizard.plan.model import (
    ACCEPTED_RISK_REASON_MAX,
    ADFS_VERSIONS,
    AUTH_MODES,
    AUTODISCOVER_PORTS,
    CERT_HOURS_LIMITS,
    FIELD_PATH_MAX,
    FORMAT,
    KEY_SIZES,
    MFA_MODES,
    MOBILITY_SETTINGS,
    MODERN_AUTH_SCENARIOS,
    NAME_MAX,
    POOL_ROLES,
    PRODUCTS,
    SIP_DOMAIN_DERIVED_PREFIX,
    SIP_DOMAIN_MAX,
    AcceptedRisk,
    Adfs,
    AuthMode,
    CertificateHours,
    Certificates,
    EdgePool,
    MobilityPolicy,
    ModernAuth,
    ModernAuthScenario,
    PlanData,
    Pool,
    PoolAuth,
    RelyingParties,
    SimpleUrls,
)


class PlanUnreadable(Exception):
    """The input is not a plan document at all (not JSON, or not a JSON object)."""



class _Reader:
    """Walks a JSON document, collecting findings with their paths."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def err(self, path: str, code: str, message: str) -> None:
        self.findings.append(error(code, path, message))

    def note(self, path: str, code: str, message: str) -> None:
        self.findings.append(info(code, path, message))

    def obj(self, value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict | None:
        """Return `value` if it is an object with only `allowed` keys (plus `x_` ones)."""
        if not isinstance(value, dict):
            self.err(path or "(plan)", "wrong_type", "must be an object ({...})")
            return None
        for key in value:
            if isinstance(key, str) and key.startswith("x_"):
                # x_ data is checked here, where every object is read, so that none goes unchecked
                # (an object that is dropped, or that keeps no x_ data, included).
                _check_extension(self, key, value[key], _join(path, key))
            elif not isinstance(key, str) or key not in allowed:
                self.err(_join(path, str(key)), "unknown_field",
                         f"unknown field {key!r} (allowed here: {', '.join(allowed)})")
        for key in required:
            if key not in value or value[key] is None:
                self.err(_join(path, key), "required", "is required")
        return value

    def boolean(self, value: Any, path: str, default: bool | None = None) -> bool | None:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.err(path, "wrong_type", f"must be true or false, not {_show(value)}")
            return default
        return value

    def integer(self, value: Any, path: str, lo: int, hi: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.err(path, "wrong_type", f"must be a whole number, not {_show(value)}")
            return None
        if not lo <= value <= hi:
            self.err(path, "out_of_range", f"must be between {lo} and {hi} (got {value})")
            return None
        return value

    def choice(self, value: Any, path: str, choices: dict[str, str] | tuple, default: str | None = None) -> str | None:
        if value is None:
            if default is None:
                self.err(path, "required", "is required")
            return default
        if not isinstance(value, str) or value not in choices:
            options = ", ".join(repr(c) for c in choices)
            self.err(path, "invalid_choice", f"must be one of {options}, not {_show(value)}")
            return None
        return value

    def text(self, value: Any, path: str, max_length: int) -> str | None:
        if value is None:
            return None
        try:
            return v.clean_text(value, max_length=max_length)
        except ValueError as exc:
            self.err(path, "invalid_text", str(exc))
            return None

    def fqdn(self, value: Any, path: str, *, scoped: str | None = None) -> str | None:
        """Return a normalised FQDN; `scoped` names the scope prefix kind that may be pasted."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.err(path, "wrong_type", f"must be a host name (text), not {_show(value)}")
            return None
        raw = value
        if scoped:
            raw, stripped = v.strip_scope_prefix(value, scoped)
            if stripped:
                self.note(path, "scope_prefix_stripped",
                          f"the scope prefix was removed from {value.strip()!r}: the plan holds the bare FQDN "
                          f"and the tool adds the identity prefix itself")
        try:
            name = v.normalise_fqdn(raw)
        except ValueError as exc:
            self.err(path, "invalid_fqdn", str(exc))
            return None
        if name != raw:
            self.note(path, "fqdn_normalised", f"{raw!r} was normalised to {name!r}")
        return name


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _whole_number_in(value: Any, choices: tuple[int, ...]) -> bool:
    """Whether `value` is one of `choices` as a JSON whole number: not true (== 1), not 443.0 (== 443)."""
    return type(value) is int and value in choices


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _check_extension(r: _Reader, key: str, value: Any, path: str) -> None:
    """Refuse the `x_` data `value` under `key` (at `path`) when it could not be shown or written back as
    it is: a key holding a control or invisible character, text holding a lone surrogate or NUL."""
    # Walk without recursion: x_ data may be nested as deep as the document limits allow.
    stack: list[tuple[str | None, Any, str]] = [(key, value, path)]
    while stack:
        name, item, at = stack.pop()
        if name is not None:
            try:
                v.clean_key(name)
            except ValueError as exc:
                r.err(at, "invalid_key", str(exc))
        if isinstance(item, str):
            if _SURROGATE_RE.search(item):
                r.err(at, "invalid_text", "holds a lone surrogate character, which cannot be written as UTF-8")
            elif "\x00" in item:
                r.err(at, "invalid_text", "holds a NUL character, which a plan cannot store")
        elif isinstance(item, list):
            stack.extend(reversed([(None, entry, f"{at}[{i}]") for i, entry in enumerate(item)]))
        elif isinstance(item, dict):
            stack.extend(reversed([(str(k), entry, _join(at, str(k))) for k, entry in item.items()]))


def _extensions(doc: dict) -> tuple[tuple[str, Any], ...]:
    return tuple((k, doc[k]) for k in sorted(doc) if isinstance(k, str) and k.startswith("x_"))


class ParsedObject(dict[str, Any]):
    """A parsed JSON object that remembers the keys it held more than once (json keeps the last)."""

    repeated: tuple[str, ...] = ()


def keep_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`object_pairs_hook` for json.loads: a ParsedObject noting its repeated keys."""
    out = ParsedObject()
    repeated: list[str] = []
    for key, value in pairs:
        if key in out and key not in repeated:
            repeated.append(key)
        out[key] = value
    out.repeated = tuple(repeated)
    return out


def walk(doc: Any, root: str) -> Iterator[tuple[Any, str]]:
    """Yield (value, path) for `doc` and every value inside it, in document order; `root` names the
    document in a path that starts with a list index ("(plan)[0]").

    Iterative, not recursive: a hostile document may be nested near Python's recursion limit.
    """
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        value, path = stack.pop()
        yield value, path
        if isinstance(value, dict):
            stack.extend((item, _join(path, key[:60])) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((item, f"{path or root}[{i}]") for i, item in reversed(list(enumerate(value))))


def repeated_key_at(value: Any, path: str) -> tuple[str, str] | None:
    """Return (path, key) of the first key `value` (a parsed object at `path`) held twice; None if none."""
    if isinstance(value, ParsedObject) and value.repeated:
        key = value.repeated[0]
        return _join(path, key[:60]), key
    return None


def plain_objects(doc: Any) -> Any:
    """Return `doc` with every ParsedObject as a plain dict (iteratively)."""
    root: list[Any] = [doc]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, doc)]
    while stack:
        parent, slot, value = stack.pop()
        if isinstance(value, dict):
            plain = dict(value)
            parent[slot] = plain
            stack.extend((plain, key, item) for key, item in plain.items() if isinstance(item, (dict, list)))
        elif isinstance(value, list):
            stack.extend((value, i, item) for i, item in enumerate(value) if isinstance(item, (dict, list)))
    return root[0]


# The largest plan file read (a plan at every list limit is about 95 KB): the web import's bound, and the
# command line's, which reads at most one byte more, so a huge file (or /dev/zero) is refused unread.
PLAN_MAX_BYTES = 256 * 1024


def parse_plan_text(text: str | bytes) -> Any:
    """Return the JSON document in `text`; raise PlanUnreadable when it is not a JSON object."""
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > PLAN_MAX_BYTES:
        raise PlanUnreadable(f"the file holds more than {PLAN_MAX_BYTES // 1024} KB; a plan file is at most "
                             f"{PLAN_MAX_BYTES // 1024} KB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PlanUnreadable(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    elif text.startswith("\ufeff"):
        text = text[1:]
    try:
        # A key given twice would silently keep its last value: refused, as an unknown field is.
        doc = json.loads(text, object_pairs_hook=keep_repeated_keys)
    except json.JSONDecodeError as exc:
        raise PlanUnreadable(f"the file is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise PlanUnreadable("the file is nested too deeply to be a plan") from None
    except ValueError as exc:  # e.g. an integer longer than Python's 4300-digit conversion limit
        raise PlanUnreadable(f"the file is not a readable plan: {exc}") from None
    if not isinstance(doc, dict):
        raise PlanUnreadable("the file is JSON but not a plan: a plan is one JSON object ({...})")
    for value, at in walk(doc, "(plan)"):
        repeated = repeated_key_at(value, at)
        if repeated is not None:
            path, key = repeated
            raise PlanUnreadable(f"{path}: the key {key[:40]!r} appears twice in one object")
    return plain_objects(doc)


def printable_paths(findings: list[Finding]) -> list[Finding]:
    """Return the findings with every path printable: such characters written as escapes (\\n, \\x1b)."""
    out = []
    for f in findings:
        field = printable(f.field)
        out.append(f if field == f.field else Finding(f.severity, f.code, field, f.message))
    return out


def read_plan(doc: Any) -> tuple[PlanData | None, list[Finding]]:
    """Return (the plan, findings) for a parsed JSON document.

    The plan is None whenever any finding is an error; info findings report
    every normalisation made. Every finding's path is printable (`printable_paths`).
    """
    over_limits = check_document(doc)  # sizes, depth, NaN/Infinity, unwritable keys: before anything else
    if over_limits:
        return None, printable_paths(over_limits)
    plan, findings = _read_plan(doc)
    return plan, printable_paths(findings)


def _read_plan(doc: Any) -> tuple[PlanData | None, list[Finding]]:
    r = _Reader()
    top = r.obj(doc, "", (
        "format", "name", "product", "sip_domains", "pools", "edge_pools", "adfs", "mobility_policies",
        "simple_urls", "office_web_apps_fqdn", "autodiscover_port", "certificates", "accepted_risks",
        "modern_auth",
    ), required=("format", "name", "product", "sip_domains", "pools"))
    if top is None:
        return None, r.findings
    if top.get("format") is not None and top["format"] != FORMAT:
        r.err("format", "wrong_format", f"must be exactly {FORMAT!r}, not {_show(top['format'])}")
    name = r.text(top.get("name"), "name", NAME_MAX) if "name" in top else None
    product = r.choice(top.get("product"), "product", PRODUCTS) if top.get("product") is not None else None

    sip_domains = _read_sip_domains(r, top.get("sip_domains"))
    pools = _read_pools(r, top.get("pools"))
    edge_pools = _read_edge_pools(r, top.get("edge_pools"))
    adfs = _read_adfs(r, top.get("adfs"))
    policies = _read_mobility(r, top.get("mobility_policies"))
    simple_urls = _read_simple_urls(r, top.get("simple_urls"))
    oos = r.fqdn(top.get("office_web_apps_fqdn"), "office_web_apps_fqdn")
    port = 443
    if top.get("autodiscover_port") is not None:
        raw_port = top["autodiscover_port"]
        if not _whole_number_in(raw_port, AUTODISCOVER_PORTS):
            r.err("autodiscover_port", "invalid_choice", f"must be 443 or 80, not {_show(raw_port)}")
        else:
            port = raw_port
    certificates = _read_certificates(r, top.get("certificates"))
    accepted = _read_accepted_risks(r, top.get("accepted_risks"))
    modern_auth = _read_modern_auth(r, top.get("modern_auth"))

    if pools and any(p.auth and p.auth.external.needs_adfs for p in pools) and adfs is None \
            and top.get("adfs") is None:
        r.err("adfs", "adfs_required",
              "a pool uses passive authentication, so the AD FS farm (federation service name and version) is required")
    elif top.get("modern_auth") is not None and top.get("adfs") is None:
        r.err("adfs", "adfs_required",
              "Modern Authentication signs users in through AD FS, so the AD FS farm (federation service name and "
              "version) is required")
    _derive_colliding_relying_parties(r, pools)
    _check_relying_party_names(r, pools)

    if any(f.severity == "error" for f in r.findings):
        return None, r.findings
    plan = PlanData(
        name=name or "", product=product or "", sip_domains=tuple(sip_domains), pools=tuple(pools),
        edge_pools=tuple(edge_pools), adfs=adfs, mobility_policies=tuple(policies), simple_urls=simple_urls,
        office_web_apps_fqdn=oos, autodiscover_port=port, certificates=certificates,
        accepted_risks=tuple(accepted), modern_auth=modern_auth, extensions=_extensions(top),
    )
    return plan, r.findings


def _list(r: _Reader, value: Any, path: str, *, required: bool) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        r.err(path, "wrong_type", "must be a list ([...])")
        return []
    if required and not value:
        r.err(path, "required", "needs at least one entry")
    return value


def _read_sip_domains(r: _Reader, value: Any) -> list[str]:
    out: list[str] = []
    if value is None:
        return out
    for i, raw in enumerate(_list(r, value, "sip_domains", required=True)):
        if raw is None:
            r.err(f"sip_domains[{i}]", "required", "must be a domain name, not null")
            continue
        name = r.fqdn(raw, f"sip_domains[{i}]")
        if name is None:
            continue
        if len(name) > SIP_DOMAIN_MAX:
            r.err(f"sip_domains[{i}]", "invalid_fqdn",
                  f"is {len(name)} characters long, at most {SIP_DOMAIN_MAX}: the names built from it, such as "
                  f"{SIP_DOMAIN_DERIVED_PREFIX}<domain>, would be longer than a DNS name may be (253)")
            continue
        if name in out:
            r.err(f"sip_domains[{i}]", "duplicate", f"{name!r} is listed twice")
            continue
        out.append(name)
    return out


def _read_pools(r: _Reader, value: Any) -> list[Pool]:
    pools: list[Pool] = []
    if value is None:
        return pools
    seen: dict[str, str] = {}
    for i, raw in enumerate(_list(r, value, "pools", required=True)):
        path = f"pools[{i}]"
        d = r.obj(raw, path, ("fqdn", "role", "site", "internal_web_fqdn", "external_web_fqdn", "auth",
                              "relying_parties"), required=("fqdn",))
        if d is None:
            continue
        fqdn = r.fqdn(d.get("fqdn"), f"{path}.fqdn", scoped="pool")
        role = r.choice(d.get("role"), f"{path}.role", POOL_ROLES, default="frontend")
        site = None
        if d.get("site") is not None:
            try:
                site = v.clean_name(d["site"])
            except ValueError as exc:
                r.err(f"{path}.site", "invalid_text", str(exc))
        internal_web = r.fqdn(d.get("internal_web_fqdn"), f"{path}.internal_web_fqdn")
        external_web = r.fqdn(d.get("external_web_fqdn"), f"{path}.external_web_fqdn")
        auth = _read_auth(r, d.get("auth"), f"{path}.auth")
        rps = _read_relying_parties(r, d.get("relying_parties"), f"{path}.relying_parties", fqdn)
        if fqdn is None:
            continue
        if fqdn in seen:
            r.err(f"{path}.fqdn", "duplicate", f"pool {fqdn!r} is already listed at {seen[fqdn]}")
            continue
        seen[fqdn] = path
        pools.append(Pool(fqdn=fqdn, role=role or "frontend", site=site, internal_web_fqdn=internal_web,
                          external_web_fqdn=external_web, auth=auth, relying_parties=rps,
                          extensions=_extensions(d), rp_extensions=_left_with(rps, d.get("relying_parties"))))
    return pools


def _read_auth(r: _Reader, value: Any, path: str) -> PoolAuth | None:
    if value is None:
        return None
    d = r.obj(value, path, ("external", "certificate_auth", "client_certificate_hours", "block_ntlm_at_registrar",
                            "block_pin_auth"), required=("external",))
    if d is None:
        return None
    external = r.choice(d.get("external"), f"{path}.external", AUTH_MODES) if d.get("external") is not None else None
    cert_auth = r.boolean(d.get("certificate_auth"), f"{path}.certificate_auth", True)
    block = r.boolean(d.get("block_ntlm_at_registrar"), f"{path}.block_ntlm_at_registrar", False)
    block_pin = r.boolean(d.get("block_pin_auth"), f"{path}.block_pin_auth", False)
    hours = _read_hours(r, d.get("client_certificate_hours"), f"{path}.client_certificate_hours")
    if external is None:
        return None
    return PoolAuth(external=AuthMode(external), certificate_auth=bool(cert_auth), client_certificate_hours=hours,
                    block_ntlm_at_registrar=bool(block), block_pin_auth=bool(block_pin), extensions=_extensions(d),
                    hours_extensions=_left_with(hours, d.get("client_certificate_hours")))


def _left_with(read: Any, raw: Any) -> tuple[tuple[str, Any], ...]:
    """Return the `x_` keys of object `raw` when it read as nothing (`read` is None): an object holding only
    `x_` data still holds it, and export gives it back."""
    return _extensions(raw) if read is None and isinstance(raw, dict) else ()


_HOURS_PARTS = ("default", "min", "max")


def _read_hours(r: _Reader, value: Any, hpath: str) -> CertificateHours | None:
    """Read client_certificate_hours; every problem is reported on the value it concerns."""
    if value is None:
        return None
    h = r.obj(value, hpath, _HOURS_PARTS)
    if h is None:
        return None
    given = [k for k in _HOURS_PARTS if h.get(k) is not None]
    missing = [k for k in _HOURS_PARTS if k not in given]
    if not given:
        return None  # none of the three: the lifetimes are left as they are, as when the object is left out
    for key in missing:
        r.err(f"{hpath}.{key}", "required",
              f"is needed with {' and '.join(given)}: the tool sets the three lifetimes together, because the "
              f"server checks default against min and max and would otherwise keep today's {key}, which may "
              f"not fit (allowed {CERT_HOURS_LIMITS[key][0]}-{CERT_HOURS_LIMITS[key][1]} hours)")
    read = {k: r.integer(h[k], f"{hpath}.{k}", *CERT_HOURS_LIMITS[k]) for k in given}
    vals = {k: n for k, n in read.items() if n is not None}
    if len(vals) != 3:
        return None
    lo, default, hi = vals["min"], vals["default"], vals["max"]
    ok = True
    if lo > hi:
        ok = False
        for key in ("min", "max"):
            r.err(f"{hpath}.{key}", "lifetime_order",
                  f"min ({lo} hours) must not be more than max ({hi} hours)")
    else:
        if default < lo:
            ok = False
            r.err(f"{hpath}.default", "lifetime_order", f"must be at least min ({lo} hours), not {default}")
        if default > hi:
            ok = False
            r.err(f"{hpath}.default", "lifetime_order", f"must be at most max ({hi} hours), not {default}")
    return CertificateHours(default=default, min=lo, max=hi, extensions=_extensions(h)) if ok else None


_FIELD_PATH_RE = re.compile(r"^[a-z_]+(?:\[\d{1,4}\])?(?:\.[a-z_]+(?:\[\d{1,4}\])?)*$")


def _read_accepted_risks(r: _Reader, value: Any) -> list[AcceptedRisk]:
    """Read accepted_risks: each a known acceptable error code, a plan field path and a reason."""
    out: list[AcceptedRisk] = []
    seen: dict[tuple[str, str], str] = {}
    for i, raw in enumerate(_list(r, value, "accepted_risks", required=False)):
        path = f"accepted_risks[{i}]"
        d = r.obj(raw, path, ("code", "field", "reason"), required=("code", "field", "reason"))
        if d is None:
            continue
        code = r.choice(d.get("code"), f"{path}.code", ACCEPTABLE_RISK_CODES) if d.get("code") is not None else None
        field_path = None
        if d.get("field") is not None:
            raw_field = d["field"]
            if not isinstance(raw_field, str) or len(raw_field) > FIELD_PATH_MAX \
                    or not _FIELD_PATH_RE.match(raw_field):
                r.err(f"{path}.field", "invalid_field_path",
                      f"must be the path of a plan field as findings name it, e.g. "
                      f"'pools[0].auth.block_ntlm_at_registrar', not {_show(raw_field)}")
            else:
                field_path = raw_field
        reason = r.text(d.get("reason"), f"{path}.reason", ACCEPTED_RISK_REASON_MAX)
        if code is None or field_path is None or reason is None:
            continue
        key = (code, field_path)
        if key in seen:
            r.err(f"{path}.field", "duplicate", f"{code} on {field_path} is already accepted at {seen[key]}")
            continue
        seen[key] = path
        out.append(AcceptedRisk(code=code, field=field_path, reason=reason, extensions=_extensions(d)))
    return out


def _read_relying_parties(r: _Reader, value: Any, path: str, fqdn: str | None) -> RelyingParties | None:
    """Read a pool's relying-party names; a name left out (or null) gets its default, derived from the pool."""
    if value is None:
        return None
    d = r.obj(value, path, ("internal", "external"))
    if d is None:
        return None
    names = {}
    bad = False
    for key in ("internal", "external"):
        if d.get(key) is None:
            continue
        try:
            names[key] = v.clean_name(d[key])
        except ValueError as exc:
            r.err(f"{path}.{key}", "invalid_text", str(exc))
            bad = True
    if bad or not names or fqdn is None:
        return None  # neither given: the pool's defaults, as when relying_parties is left out
    defaults = Pool(fqdn=fqdn).rp_names
    names = {"internal": defaults.internal, "external": defaults.external, **names}
    if names["internal"].casefold() == names["external"].casefold():
        r.err(f"{path}.external", "duplicate", "the internal and external relying parties need different names")
        return None
    return RelyingParties(**names, extensions=_extensions(d))


def _derive_colliding_relying_parties(r: _Reader, pools: list[Pool]) -> None:
    """Give every passive pool whose default relying-party names would collide names made of its full FQDN.

    The defaults (`Lync-Int-<host>`, `Pool.rp_names`) use the pool's first label, so two pools such as
    `lyncpool.emea.contoso.com` and `lyncpool.us.contoso.com`, or a pool whose default another pool names
    explicitly, would share a name; the plan format promises defaults never collide. Such a pool gets
    `Lync-Int-<fqdn>` / `Lync-Ext-<fqdn>` (with an info finding), which the writer then writes out.
    Pools whose defaults do not collide keep them, so their names and bytes do not change.
    """
    passive = [i for i, p in enumerate(pools) if p.auth and p.auth.external.needs_adfs]
    explicit = {name.casefold() for i in passive if (rps := pools[i].relying_parties) is not None
                for name in (rps.internal, rps.external)}
    defaults = Counter(pools[i].rp_names.internal.casefold() for i in passive if pools[i].relying_parties is None)
    for i in passive:
        pool = pools[i]
        if pool.relying_parties is not None:
            continue
        names = pool.rp_names
        if defaults[names.internal.casefold()] < 2 and names.internal.casefold() not in explicit \
                and names.external.casefold() not in explicit:
            continue
        try:
            # Through the rule every relying party name keeps (its length above all).
            derived = RelyingParties(internal=v.clean_name(f"Lync-Int-{pool.fqdn}"),
                                     external=v.clean_name(f"Lync-Ext-{pool.fqdn}"), extensions=pool.rp_extensions)
        except ValueError:
            continue  # not a name the plan can hold: the collision stays an error
        pools[i] = replace(pool, relying_parties=derived)
        r.note(f"pools[{i}].relying_parties", "relying_parties_derived",
               f"the default relying party names {names.internal!r} and {names.external!r} would collide with "
               f"another pool's, so this pool's are made of its full FQDN: {derived.internal!r} and "
               f"{derived.external!r}")


def _check_relying_party_names(r: _Reader, pools: list[Pool]) -> None:
    seen: dict[str, str] = {}
    for i, pool in enumerate(pools):
        if not (pool.auth and pool.auth.external.needs_adfs):
            continue
        for key in ("internal", "external"):
            name = getattr(pool.rp_names, key)
            folded = name.casefold()
            if folded in seen:
                r.err(f"pools[{i}].relying_parties.{key}", "duplicate",
                      f"relying party name {name!r} is already used by {seen[folded]}")
            else:
                seen[folded] = f"pools[{i}]"


def _read_edge_pools(r: _Reader, value: Any) -> list[EdgePool]:
    out: list[EdgePool] = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(r, value, "edge_pools", required=False)):
        path = f"edge_pools[{i}]"
        d = r.obj(raw, path, ("fqdn", "access_fqdn", "webconf_fqdn", "av_fqdn", "block_ntlm"), required=("fqdn",))
        if d is None:
            continue
        fqdn = r.fqdn(d.get("fqdn"), f"{path}.fqdn", scoped="edge")
        names = {k: r.fqdn(d.get(k), f"{path}.{k}") for k in ("access_fqdn", "webconf_fqdn", "av_fqdn")}
        block = r.boolean(d.get("block_ntlm"), f"{path}.block_ntlm", False)
        if fqdn is None:
            continue
        if fqdn in seen:
            r.err(f"{path}.fqdn", "duplicate", f"Edge pool {fqdn!r} is listed twice")
            continue
        seen.add(fqdn)
        out.append(EdgePool(fqdn=fqdn, block_ntlm=bool(block), **names, extensions=_extensions(d)))
    return out


def _read_adfs(r: _Reader, value: Any) -> Adfs | None:
    if value is None:
        return None
    d = r.obj(value, "adfs", ("federation_service_name", "version", "mfa", "published_on_reverse_proxy"),
              required=("federation_service_name", "version"))
    if d is None:
        return None
    fsn = r.fqdn(d.get("federation_service_name"), "adfs.federation_service_name")
    version = r.choice(d.get("version"), "adfs.version", ADFS_VERSIONS) if d.get("version") is not None else None
    mfa = r.choice(d.get("mfa"), "adfs.mfa", MFA_MODES, default="none")
    published = r.boolean(d.get("published_on_reverse_proxy"), "adfs.published_on_reverse_proxy", False)
    if fsn is None or version is None or mfa is None:
        return None
    return Adfs(federation_service_name=fsn, version=version, mfa=mfa, published_on_reverse_proxy=bool(published),
                extensions=_extensions(d))


def _read_modern_auth(r: _Reader, value: Any) -> ModernAuth | None:
    """Read modern_auth: the OAuth server identity, resource-forest SID claims, the scenario, Office 2013."""
    if value is None:
        return None
    d = r.obj(value, "modern_auth", ("oauth_server_identity", "accept_sid_claims", "scenario", "office2013_clients"))
    if d is None:
        return None
    identity = r.fqdn(d.get("oauth_server_identity"), "modern_auth.oauth_server_identity")
    # Omitted: the OAuth server's setting is left alone (the plan format's rule for optional settings).
    accept = r.boolean(d.get("accept_sid_claims"), "modern_auth.accept_sid_claims")
    scenario = None
    if d.get("scenario") is not None:
        scenario = r.choice(d.get("scenario"), "modern_auth.scenario", MODERN_AUTH_SCENARIOS)
    office = r.boolean(d.get("office2013_clients"), "modern_auth.office2013_clients", False)
    if d.get("oauth_server_identity") is not None and identity is None:
        return None
    if d.get("scenario") is not None and scenario is None:
        return None
    return ModernAuth(oauth_server_identity=identity, accept_sid_claims=accept,
                      scenario=ModernAuthScenario(scenario) if scenario is not None else None,
                      office2013_clients=bool(office), extensions=_extensions(d))


def normalise_policy_identity(raw: str) -> str:
    """Return 'Global', 'site:<name>' or 'Tag:<name>'; raise ValueError otherwise."""
    if not isinstance(raw, str):
        raise ValueError("must be text: 'Global', 'site:<name>' or 'Tag:<name>'")
    text = raw.strip()
    if text.casefold() == "global":
        return "Global"
    prefix, sep, rest = text.partition(":")
    if sep and prefix.casefold() in ("site", "tag"):
        name = v.clean_name(rest)
        return ("site:" if prefix.casefold() == "site" else "Tag:") + name
    raise ValueError(f"must be 'Global', 'site:<name>' or 'Tag:<name>', not {raw!r}")


def _read_mobility(r: _Reader, value: Any) -> list[MobilityPolicy]:
    out: list[MobilityPolicy] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(_list(r, value, "mobility_policies", required=False)):
        path = f"mobility_policies[{i}]"
        d = r.obj(raw, path, ("identity", *MOBILITY_SETTINGS), required=("identity",))
        if d is None or d.get("identity") is None:
            continue
        try:
            identity = normalise_policy_identity(d["identity"])
        except ValueError as exc:
            r.err(f"{path}.identity", "invalid_identity", str(exc))
            continue
        if identity != d["identity"]:
            r.note(f"{path}.identity", "identity_normalised", f"{d['identity']!r} was normalised to {identity!r}")
        settings = {k: r.boolean(d.get(k), f"{path}.{k}") for k in MOBILITY_SETTINGS}
        folded = identity.casefold()
        if folded in seen:
            r.err(f"{path}.identity", "duplicate", f"policy {identity!r} is already defined at {seen[folded]}")
            continue
        seen[folded] = path
        out.append(MobilityPolicy(identity=identity, **settings, extensions=_extensions(d)))
    return out


def keep_meeting_url(r: _Reader, meet: dict[str, int], name: str | None, i: int) -> None:
    """Add meeting URL `name` (simple_urls.meet[i], normalised; None when refused) to `meet` (each name, and the
    index of its first listing) once. A second listing is said (`duplicate_removed`), never dropped without a word.
    """
    if name is None:
        return
    if name in meet:
        r.note(f"simple_urls.meet[{i}]", "duplicate_removed",
               f"{name!r} is listed already (simple_urls.meet[{meet[name]}]): it is kept once")
    else:
        meet[name] = i


def _read_simple_urls(r: _Reader, value: Any) -> SimpleUrls | None:
    if value is None:
        return None
    d = r.obj(value, "simple_urls", ("meet", "dialin", "admin"))
    if d is None:
        return None
    meet: dict[str, int] = {}   # each name, and the index of its first listing
    raw_meet = d.get("meet")
    if isinstance(raw_meet, str):
        # Text the wizard kept as typed because it is not a list of names ("meet .contoso.com"):
        # say what is wrong with the text itself rather than only that it is not a list.
        try:
            v.normalise_fqdn(raw_meet)
            problem = "must be a list of host names ([...])"
        except ValueError as exc:
            problem = f"{exc}; separate several names with commas"
        r.err("simple_urls.meet", "invalid_fqdn", problem)
        raw_meet = None
    for i, raw in enumerate(_list(r, raw_meet, "simple_urls.meet", required=False)):
        if raw is None:
            r.err(f"simple_urls.meet[{i}]", "required", "must be a host name, not null")
            continue
        keep_meeting_url(r, meet, r.fqdn(raw, f"simple_urls.meet[{i}]"), i)
    return SimpleUrls(meet=tuple(meet), dialin=r.fqdn(d.get("dialin"), "simple_urls.dialin"),
                      admin=r.fqdn(d.get("admin"), "simple_urls.admin"), extensions=_extensions(d))


def _read_certificates(r: _Reader, value: Any) -> Certificates | None:
    if value is None:
        return None
    d = r.obj(value, "certificates", ("key_size", "ca"))
    if d is None:
        return None
    key_size = 2048
    if d.get("key_size") is not None:
        if not _whole_number_in(d["key_size"], KEY_SIZES):
            r.err("certificates.key_size", "invalid_choice", f"must be 2048 or 4096, not {_show(d['key_size'])}")
        else:
            key_size = d["key_size"]
    ca = None
    if d.get("ca") is not None:
        try:
            ca = v.clean_ca(d["ca"])
        except ValueError as exc:
            r.err("certificates.ca", "invalid_ca", str(exc))
        else:
            if ca != d["ca"]:  # the CA server's FQDN was normalised like every other FQDN: say so
                r.note("certificates.ca", "fqdn_normalised", f"{d['ca']!r} was normalised to {ca!r}")
    return Certificates(key_size=key_size, ca=ca, extensions=_extensions(d))


def load_plan(text: str | bytes) -> tuple[PlanData | None, list[Finding]]:
    """Return (plan, findings) for plan file text; raise PlanUnreadable for non-plans."""
    return read_plan(parse_plan_text(text))
