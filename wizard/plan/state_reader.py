"""Read a `lync-auth-state/1` document: normalise and validate it into an `Estate`.

A state file says what an estate holds today, as the read-only collector found it
(docs/state-format.md). Everything in it is untrusted text. The reader is as strict as
the plan reader (`wizard.plan.reader`) and reports the same way: every problem is a
Finding whose `field` is the JSON path (`web_service_configurations[2].identity`), FQDNs
are normalised exactly as in a plan (each normalisation reported as an `info` finding),
and the plan reader's own walker and messages are reused so the two never drift apart.

Differences from the plan format, all from the contract:

* unknown top-level fields are errors (except `x_` keys), but unknown fields inside a
  collected object (a pool, a web service collection, a relying party trust, ...) are
  kept in the stored document and ignored here: a newer cumulative update may add
  properties;
* values are what the cmdlets returned: enums by name (compared without case), booleans,
  whole numbers, ISO 8601 dates;
* `product` may be "sfbse" (Subscription Edition), a product plans name too.

Limits, so that no file can make the product fail or crawl: at most STATE_MAX_BYTES of
UTF-8, nesting at most MAX_DEPTH deep, at most LIST_MAX entries in any list, no NaN or
Infinity, no repeated key in an object, no NUL or lone surrogate anywhere (PostgreSQL
could not store the file), and at most MAX_ERRORS errors reported.

Pure Python: no Django, no database.
"""
from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

from wizard.plan import validators as v
from wizard.plan.estate import (
    STATE_FORMAT,
    STATE_PRODUCTS,
    Estate,
    EstateAdfs,
    EstateCertificate,
    EstateEdgePool,
    EstateMobilityPolicy,
    EstatePool,
    EstateProxy,
    EstateRelyingParty,
    EstateWebService,
)
from wizard.plan.finding import Finding, error
from wizard.plan.model import ADFS_VERSIONS, FORMAT, MOBILITY_SETTINGS, POOL_ROLES, SimpleUrls

# The plan reader's walker: the same checks, codes and messages for both formats.
from wizard.plan.reader import (
    _join,
    _Reader,
    _show,
    keep_meeting_url,
    keep_repeated_keys,
    normalise_policy_identity,
    plain_objects,
    printable_paths,
    repeated_key_at,
    walk,
)

STATE_MAX_BYTES = 512 * 1024
MAX_DEPTH = 16
LIST_MAX = 500
MAX_ERRORS = 100
TEXT_MAX = 1024
RULES_MAX = 64 * 1024
HOURS_MAX = 1_000_000
VERSION_MAX = 64
VERSION_TEXT_MAX = 256  # Get-CsServerVersion's whole answer, of which the build number is kept

WINDOWS_AUTH_VALUES = ("Negotiate", "NTLM", "None")

# The Management Shell part: any of these present means `product` is required.
MANAGEMENT_SHELL_FIELDS = (
    "sip_domains", "sites", "pools", "edge_pools", "simple_urls", "web_service_configurations",
    "proxy_configurations", "mobility_policies", "certificates",
)
TOP_LEVEL_FIELDS = ("format", "collected_at", "collected_on", "product", "product_version", *MANAGEMENT_SHELL_FIELDS,
                    "adfs")

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_THUMBPRINT_RE = re.compile(r"^[0-9A-Fa-f]{40,128}$")
_VERSION_RE = re.compile(r"^[0-9A-Za-z.\- ()]+$")
# The build number in Get-CsServerVersion's answer, in parentheses (the collector takes the same part).
_SERVER_VERSION_RE = re.compile(r"\(([0-9]+(?:\.[0-9]+){1,3})\)")
_HOST_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Rules text keeps its line breaks and tabs; every other control or invisible formatting
# character is refused, as in names (validators._CONTROL_RE without \t, \n and \r).
_RULES_FORBIDDEN_RE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{v.INVISIBLE_CHARS}\ud800-\udfff\ufffd]")


class StateUnreadable(Exception):
    """The input is not a state document at all (not UTF-8 JSON, not an object, too big or too deep)."""


class _StateReader(_Reader):
    """The plan reader's walker, plus the state format's lenient objects and its own value kinds."""

    def obj(self, value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = (),
            *, strict: bool = True) -> dict | None:
        """Return `value` if it is an object; with `strict`, only `allowed` keys (and `x_` ones) are accepted.

        Collected objects are read with `strict=False`: a key the reader does not know is kept
        in the stored document and ignored here.
        """
        if strict:
            if not isinstance(value, dict) and not path:
                self.err("(state)", "wrong_type", "must be an object ({...})")
                return None
            return super().obj(value, path, allowed, required)
        if not isinstance(value, dict):
            self.err(path, "wrong_type", "must be an object ({...})")
            return None
        for key in required:
            if key not in value or value[key] is None:
                self.err(_join(path, key), "required", "is required")
        return value

    def optional_int(self, value: Any, path: str, lo: int, hi: int) -> int | None:
        return None if value is None else self.integer(value, path, lo, hi)

    def enum_name(self, value: Any, path: str, names: tuple[str, ...]) -> str | None:
        """Return an enum value by its name, compared without case (the cmdlets' own spelling varies)."""
        if value is None:
            return None
        if isinstance(value, str):
            for name in names:
                if value.strip().casefold() == name.casefold():
                    return name
        options = ", ".join(repr(n) for n in names)
        self.err(path, "invalid_choice", f"must be one of {options}, not {_show(value)}")
        return None

    def name(self, value: Any, path: str, max_length: int = 200) -> str | None:
        if value is None:
            return None
        try:
            return v.clean_name(value, max_length=max_length)
        except ValueError as exc:
            self.err(path, "invalid_text", str(exc))
            return None

    def rules(self, value: Any, path: str) -> str | None:
        """Return AD FS claim rules text: line breaks and tabs allowed, nothing else invisible."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.err(path, "wrong_type", f"must be text, not {_show(value)}")
            return None
        if _RULES_FORBIDDEN_RE.search(value):
            self.err(path, "invalid_text", "must not contain control characters (other than line breaks and tabs) "
                                           "or invisible formatting characters")
            return None
        if len(value) > RULES_MAX:
            self.err(path, "invalid_text", f"must be at most {RULES_MAX} characters (got {len(value)})")
            return None
        return value.strip() or None

    def timestamp(self, value: Any, path: str) -> str | None:
        """Return an ISO 8601 date and time as `YYYY-MM-DDTHH:MM:SSZ` (UTC)."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.err(path, "wrong_type", f"must be an ISO 8601 date and time (text), not {_show(value)}")
            return None
        text = value.strip()
        try:
            if len(text) > 64:
                raise ValueError("too long")
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.err(path, "invalid_date", f"must be an ISO 8601 date and time such as '2026-12-01T09:30:00Z', "
                                           f"not {_show(value)}")
            return None
        if moment.tzinfo is None:
            self.note(path, "timezone_assumed", f"{text!r} has no time zone: it is taken as UTC")
            moment = moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, ValueError):
            self.err(path, "invalid_date", f"{text!r} is out of range once converted to UTC")
            return None

    def host(self, value: Any, path: str) -> str | None:
        """Return a machine name: an FQDN normalised as in plans, or a single host label."""
        if value is None:
            return None
        if isinstance(value, str):
            label = value.strip().lower()
            if _HOST_LABEL_RE.match(label) and not label.isdigit():
                if label != value:
                    self.note(path, "fqdn_normalised", f"{value!r} was normalised to {label!r}")
                return label
        return self.fqdn(value, path)

    def items(self, value: Any, path: str) -> list:
        """Return a list's entries (at most LIST_MAX, with an error beyond)."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.err(path, "wrong_type", "must be a list ([...])")
            return []
        if len(value) > LIST_MAX:
            self.err(path, "too_many", f"holds {len(value)} entries; a state file holds at most {LIST_MAX} here")
            return []
        return value


# ---------------------------------------------------------------------------
# Parsing


class _NotANumber:
    """What `NaN`, `Infinity`, `-Infinity` or an overlong number parsed to: refused once its path is known."""

    def __init__(self, name: str, why: str = "is not a JSON number") -> None:
        self.name = name
        self.why = why


def _whole_number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:  # longer than Python's integer conversion limit
        return _NotANumber(f"a number of {len(text)} digits", "is too long to be a number a state file can hold")


def _refuse_unnamed_values(doc: Any) -> None:
    """Raise StateUnreadable, naming the field by its path, for a repeated key, a NaN/Infinity or an overlong number.

    The first problem in document order is reported.
    """
    for value, path in walk(doc, "(state)"):
        if isinstance(value, _NotANumber):
            raise StateUnreadable(f"{path or '(state)'}: {value.name} {value.why}")
        repeated = repeated_key_at(value, path)
        if repeated is not None:
            where, key = repeated
            raise StateUnreadable(f"{where}: the key {key[:40]!r} appears twice in one object")


def parse_state_text(text: str | bytes) -> Any:
    """Return the JSON document in `text`; raise StateUnreadable when it is not a JSON object within the limits.

    A repeated key and a NaN or Infinity are refused naming the field by its path, as every error is.
    """
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > STATE_MAX_BYTES:
        raise StateUnreadable(f"the file holds more than {STATE_MAX_BYTES // 1024} KB; a state file is at most "
                              f"{STATE_MAX_BYTES // 1024} KB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise StateUnreadable(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    elif text.startswith("\ufeff"):
        text = text[1:]
    try:
        doc = json.loads(text, parse_constant=_NotANumber, parse_int=_whole_number,
                         object_pairs_hook=keep_repeated_keys)
    except json.JSONDecodeError as exc:
        raise StateUnreadable(f"the file is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") \
            from None
    except RecursionError:
        raise StateUnreadable("the file is nested too deeply to be a state file") from None
    except ValueError as exc:  # a number longer than Python's digit limit
        raise StateUnreadable(f"the file is not a readable state file: {exc}") from None
    if not isinstance(doc, dict):
        raise StateUnreadable("the file is JSON but not a state file: a state file is one JSON object ({...})")
    _refuse_unnamed_values(doc)
    return plain_objects(doc)


def _check_storable(r: _StateReader, doc: Any) -> None:
    """Refuse what could never be stored or written back, anywhere in the document (unknown fields too).

    Iterative, not recursive: a hostile document nested near Python's recursion limit must not
    crash the reader.
    """
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        where = path or "(state)"
        if depth > MAX_DEPTH:
            r.err(where, "too_deep", f"is nested more than {MAX_DEPTH} levels deep")
            continue
        if isinstance(value, str):
            _check_text(r, value, where)
        elif isinstance(value, float) and not math.isfinite(value):
            # JSON has no infinity, but Python reads 1e400 as one: nothing could write it back.
            r.err(where, "invalid_number", "is too large to be a number a state file can hold")
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(r, key, where)
                stack.append((item, _join(path, key[:60]), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


def _check_text(r: _StateReader, text: str, path: str) -> None:
    if _SURROGATE_RE.search(text):
        r.err(path, "invalid_text", "holds a lone surrogate character, which cannot be written as UTF-8")
    elif "\x00" in text:
        r.err(path, "invalid_text", "holds a NUL character, which a state file cannot store")


# ---------------------------------------------------------------------------
# Reading


def read_state(doc: Any) -> tuple[Estate | None, list[Finding]]:
    """Return (the estate, findings) for a parsed JSON document.

    The estate is None whenever any finding is an error; info findings report every
    normalisation made.
    """
    r = _StateReader()
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        # A plan file where a state file was expected: one clear error, not a list of unknown fields.
        r.err("format", "wrong_format", f"this is a plan file ({FORMAT}), not a state file ({STATE_FORMAT}): "
                                        f"import it as a plan, or give the file collect-state.ps1 wrote")
        return None, _capped(r.findings)
    top = r.obj(doc, "", TOP_LEVEL_FIELDS, required=("format", "collected_at"))
    if top is None:
        return None, _capped(r.findings)
    before = len(r.findings)
    _check_storable(r, top)
    if len(r.findings) > before:
        # Text that cannot be stored, or nesting too deep: reading on would only repeat it.
        return None, _capped(r.findings)
    if "format" in top and top["format"] != STATE_FORMAT:
        r.err("format", "wrong_format", f"must be exactly {STATE_FORMAT!r}, not {_show(top['format'])}")
    collected_at = r.timestamp(top.get("collected_at"), "collected_at")
    collected_on = r.host(top.get("collected_on"), "collected_on")
    product = None
    if top.get("product") is not None:
        product = r.choice(top["product"], "product", STATE_PRODUCTS)
    elif any(top.get(k) is not None for k in MANAGEMENT_SHELL_FIELDS):
        r.err("product", "required", "is required when the file holds Management Shell data (topology or settings)")
    product_version = _read_version(r, top.get("product_version"))

    estate = Estate(
        collected_at=collected_at or "",
        collected_on=collected_on,
        product=product,
        product_version=product_version,
        sip_domains=tuple(_read_sip_domains(r, top.get("sip_domains"))),
        sites=_read_sites(r, top.get("sites")),
        pools=tuple(_read_pools(r, top.get("pools"))),
        edge_pools=tuple(_read_edge_pools(r, top.get("edge_pools"))),
        simple_urls=_read_simple_urls(r, top.get("simple_urls")),
        web_service_configurations=tuple(_read_collections(r, top.get("web_service_configurations"),
                                                           "web_service_configurations", _read_web_service)),
        proxy_configurations=tuple(_read_collections(r, top.get("proxy_configurations"), "proxy_configurations",
                                                     _read_proxy)),
        mobility_policies=tuple(_read_collections(r, top.get("mobility_policies"), "mobility_policies",
                                                  _read_mobility)),
        certificates=tuple(_read_certificates(r, top.get("certificates"))),
        adfs=_read_adfs(r, top.get("adfs")),
        extensions=tuple((k, top[k]) for k in sorted(top) if k.startswith("x_")),
    )
    if any(f.severity == "error" for f in r.findings):
        return None, _capped(r.findings)
    return estate, printable_paths(r.findings)


def _capped(findings: list[Finding]) -> list[Finding]:
    findings = printable_paths(findings)
    errors = [f for f in findings if f.severity == "error"]
    if len(errors) <= MAX_ERRORS:
        return findings
    kept = errors[:MAX_ERRORS]
    return [*kept, error("too_many_errors", "(state)", f"and {len(errors) - MAX_ERRORS} more errors: fix the ones "
                                                        f"above first (is this a lync-auth-state/1 file?)")]


def _read_version(r: _StateReader, value: Any) -> str | None:
    """Return the product version: a version number as it is, or the build number of Get-CsServerVersion's answer.

    The contract names Get-CsServerVersion as a source, and it answers with a sentence ("Skype for Business
    Server 2019 (7.0.2046.0): Volume license key installed."): its build number is kept, with a note.
    """
    if value is None:
        return None
    text = r.text(value, "product_version", VERSION_TEXT_MAX)
    if text is None:
        return None
    if len(text) <= VERSION_MAX and _VERSION_RE.match(text):
        return text
    build = _SERVER_VERSION_RE.search(text)
    if build is None:
        r.err("product_version", "invalid_text", f"must be a version number such as '7.0.2046.530', not {_show(value)}")
        return None
    r.note("product_version", "version_normalised", f"{text!r} was normalised to its build number {build.group(1)!r}")
    return build.group(1)


def _read_sip_domains(r: _StateReader, value: Any) -> list[str]:
    out: list[str] = []
    for i, raw in enumerate(r.items(value, "sip_domains")):
        path = f"sip_domains[{i}]"
        if raw is None:
            r.err(path, "required", "must be a domain name, not null")
            continue
        name = r.fqdn(raw, path)
        if name is None:
            continue
        if name in out:
            r.err(path, "duplicate", f"{name!r} is listed twice")
            continue
        out.append(name)
    return out


def _site_name(r: _StateReader, value: Any, path: str) -> str | None:
    """Return a site name; a pasted `site:` prefix is removed (and reported)."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().casefold().startswith("site:"):
        bare = value.strip()[5:]
        r.note(path, "scope_prefix_stripped", f"the scope prefix was removed from {value.strip()!r}: the file "
                                              f"holds the bare site name")
        value = bare
    return r.name(value, path, 128)


def _read_sites(r: _StateReader, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    out: list[str] = []
    for i, raw in enumerate(r.items(value, "sites")):
        path = f"sites[{i}]"
        if raw is None:
            r.err(path, "required", "must be a site name, not null")
            continue
        name = _site_name(r, raw, path)
        if name is None:
            continue
        if any(n.casefold() == name.casefold() for n in out):
            r.err(path, "duplicate", f"site {name!r} is listed twice")
            continue
        out.append(name)
    return tuple(out)


def _read_pools(r: _StateReader, value: Any) -> list[EstatePool]:
    pools: list[EstatePool] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(r.items(value, "pools")):
        path = f"pools[{i}]"
        d = r.obj(raw, path, (), required=("fqdn",), strict=False)
        if d is None:
            continue
        fqdn = r.fqdn(d.get("fqdn"), f"{path}.fqdn", scoped="pool")
        role = r.choice(d.get("role"), f"{path}.role", POOL_ROLES, default="frontend")
        site = _site_name(r, d.get("site"), f"{path}.site")
        internal_web = r.fqdn(d.get("internal_web_fqdn"), f"{path}.internal_web_fqdn")
        external_web = r.fqdn(d.get("external_web_fqdn"), f"{path}.external_web_fqdn")
        if fqdn is None:
            continue
        if fqdn in seen:
            r.err(f"{path}.fqdn", "duplicate", f"pool {fqdn!r} is already listed at {seen[fqdn]}")
            continue
        seen[fqdn] = path
        pools.append(EstatePool(fqdn=fqdn, role=role or "frontend", site=site, internal_web_fqdn=internal_web,
                                external_web_fqdn=external_web))
    return pools


def _read_edge_pools(r: _StateReader, value: Any) -> list[EstateEdgePool]:
    out: list[EstateEdgePool] = []
    seen: set[str] = set()
    for i, raw in enumerate(r.items(value, "edge_pools")):
        path = f"edge_pools[{i}]"
        d = r.obj(raw, path, (), required=("fqdn",), strict=False)
        if d is None:
            continue
        fqdn = r.fqdn(d.get("fqdn"), f"{path}.fqdn", scoped="edge")
        names = {k: r.fqdn(d.get(k), f"{path}.{k}") for k in ("access_fqdn", "webconf_fqdn", "av_fqdn")}
        if fqdn is None:
            continue
        if fqdn in seen:
            r.err(f"{path}.fqdn", "duplicate", f"Edge pool {fqdn!r} is listed twice")
            continue
        seen.add(fqdn)
        out.append(EstateEdgePool(fqdn=fqdn, **names))
    return out


def _read_simple_urls(r: _StateReader, value: Any) -> SimpleUrls | None:
    if value is None:
        return None
    d = r.obj(value, "simple_urls", (), strict=False)
    if d is None:
        return None
    meet: dict[str, int] = {}   # each name, and the index of its first listing
    for i, raw in enumerate(r.items(d.get("meet"), "simple_urls.meet")):
        if raw is None:
            r.err(f"simple_urls.meet[{i}]", "required", "must be a host name, not null")
            continue
        keep_meeting_url(r, meet, r.fqdn(raw, f"simple_urls.meet[{i}]"), i)
    return SimpleUrls(meet=tuple(meet), dialin=r.fqdn(d.get("dialin"), "simple_urls.dialin"),
                      admin=r.fqdn(d.get("admin"), "simple_urls.admin"))


# --- collections of settings, one identity each ---------------------------------------

def _read_collections(r: _StateReader, value: Any, name: str,
                      read_one: Callable[[_StateReader, dict, str, str], Any]) -> list[Any]:
    out: list[Any] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(r.items(value, name)):
        path = f"{name}[{i}]"
        d = r.obj(raw, path, (), required=("identity",), strict=False)
        if d is None or d.get("identity") is None:
            continue
        identity = _identity(r, d["identity"], f"{path}.identity", name)
        item = read_one(r, d, path, identity or "")
        if identity is None:
            continue
        folded = identity.casefold()
        if folded in seen:
            r.err(f"{path}.identity", "duplicate", f"{identity!r} is already listed at {seen[folded]}")
            continue
        seen[folded] = path
        out.append(item)
    return out


_SERVICE_ROLES = {
    "web_service_configurations": ("WebServer",),
    "proxy_configurations": ("EdgeServer", "Registrar"),
}
_IDENTITY_HELP = {
    "web_service_configurations": "'Global', 'site:<name>' or 'service:WebServer:<pool FQDN>'",
    "proxy_configurations": "'Global', 'service:EdgeServer:<FQDN>' or 'service:Registrar:<pool FQDN>' "
                            "(proxy settings have no site scope)",
}


def _identity(r: _StateReader, raw: Any, path: str, collection: str) -> str | None:
    """Return a collection identity in the form the plan side writes (`Global`, `site:X`, `service:Role:fqdn`)."""
    if collection == "mobility_policies":
        try:
            identity = normalise_policy_identity(raw)
        except ValueError as exc:
            r.err(path, "invalid_identity", str(exc))
            return None
    else:
        service = _service_identity(raw, collection)
        if service is None:
            r.err(path, "invalid_identity", f"must be {_IDENTITY_HELP[collection]}, not {_show(raw)}")
            return None
        identity = service
    # Only a real change is reported: the cmdlets write "Site:" and "Service:" where plans write
    # "site:" and "service:", and that alone is not worth a note on every collection. The name after
    # the scope (an FQDN lowercased, say) is compared exactly: its normalisation is a real change.
    if isinstance(raw, str) and _scope_folded(identity) != _scope_folded(raw.strip()):
        r.note(path, "identity_normalised", f"{raw!r} was normalised to {identity!r}")
    return identity


def _scope_folded(identity: str) -> tuple[str, str]:
    """Return (scope prefix without case, the name after it) of a collection identity."""
    if identity.casefold() == "global":
        return "global", ""
    scope, _, name = identity.rpartition(":")
    return scope.casefold(), name


def _service_identity(raw: Any, collection: str) -> str | None:
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if text.casefold() == "global":
        return "Global"
    prefix, sep, rest = text.partition(":")
    if not sep:
        return None
    if prefix.casefold() == "site" and collection == "web_service_configurations":
        try:
            return "site:" + v.clean_name(rest, max_length=128)
        except ValueError:
            return None
    if prefix.casefold() != "service":
        return None
    role, sep, fqdn = rest.partition(":")
    known = {r.casefold(): r for r in _SERVICE_ROLES[collection]}
    if not sep or role.strip().casefold() not in known:
        return None
    try:
        return f"service:{known[role.strip().casefold()]}:{v.normalise_fqdn(fqdn)}"
    except ValueError:
        return None


def _read_web_service(r: _StateReader, d: dict, path: str, identity: str) -> EstateWebService:
    hours = {k: r.optional_int(d.get(k), f"{path}.{k}", 0, HOURS_MAX) for k in (
        "default_validity_period_hours", "min_validity_period_hours", "max_validity_period_hours")}
    uri = r.text(d.get("ws_fed_passive_metadata_uri"), f"{path}.ws_fed_passive_metadata_uri", 2048)
    return EstateWebService(
        identity=identity,
        use_windows_auth=r.enum_name(d.get("use_windows_auth"), f"{path}.use_windows_auth", WINDOWS_AUTH_VALUES),
        use_certificate_auth=r.boolean(d.get("use_certificate_auth"), f"{path}.use_certificate_auth"),
        use_pin_auth=r.boolean(d.get("use_pin_auth"), f"{path}.use_pin_auth"),
        use_ws_fed_passive_auth=r.boolean(d.get("use_ws_fed_passive_auth"), f"{path}.use_ws_fed_passive_auth"),
        ws_fed_passive_metadata_uri=uri,
        # An enum name kept as text: a later cumulative update may add a value, which must not make the file
        # unreadable; it is compared without case where it is used.
        mobile_preferred_auth_type=r.name(d.get("mobile_preferred_auth_type"), f"{path}.mobile_preferred_auth_type",
                                          64),
        **hours,
    )


def _read_proxy(r: _StateReader, d: dict, path: str, identity: str) -> EstateProxy:
    keys = ("use_ntlm_for_client_to_proxy_auth", "use_kerberos_for_client_to_proxy_auth",
            "use_certificate_for_client_to_proxy_auth")
    return EstateProxy(identity=identity, **{k: r.boolean(d.get(k), f"{path}.{k}") for k in keys})


def _read_mobility(r: _StateReader, d: dict, path: str, identity: str) -> EstateMobilityPolicy:
    settings = []
    for key in MOBILITY_SETTINGS:
        value = r.boolean(d.get(key), f"{path}.{key}")
        if value is not None:
            settings.append((key, value))
    return EstateMobilityPolicy(identity=identity, settings=tuple(settings))


def _read_certificates(r: _StateReader, value: Any) -> list[EstateCertificate]:
    out: list[EstateCertificate] = []
    for i, raw in enumerate(r.items(value, "certificates")):
        path = f"certificates[{i}]"
        d = r.obj(raw, path, (), required=("use",), strict=False)
        if d is None:
            continue
        use = r.text(d.get("use"), f"{path}.use", 64)
        subject = r.text(d.get("subject"), f"{path}.subject", TEXT_MAX)
        names = []
        for k, name in enumerate(r.items(d.get("alternative_names"), f"{path}.alternative_names")):
            item = _alternative_name(r, name, f"{path}.alternative_names[{k}]")
            if item is not None:
                names.append(item)
        not_after = r.timestamp(d.get("not_after"), f"{path}.not_after")
        thumbprint = None
        if d.get("thumbprint") is not None:
            raw_print = d["thumbprint"]
            if not isinstance(raw_print, str) or not _THUMBPRINT_RE.match(raw_print.strip()):
                r.err(f"{path}.thumbprint", "invalid_text",
                      f"must be a certificate thumbprint (hexadecimal digits), not {_show(raw_print)}")
            else:
                thumbprint = raw_print.strip().upper()
        if use is None:
            continue
        out.append(EstateCertificate(use=use, subject=subject, alternative_names=tuple(names), not_after=not_after,
                                     thumbprint=thumbprint))
    return out


def _alternative_name(r: _StateReader, value: Any, path: str) -> str | None:
    """Return a subject alternative name: a DNS name normalised as in plans, else the cleaned text."""
    if value is None:
        r.err(path, "required", "must be a name, not null")
        return None
    if isinstance(value, str):
        try:
            name = v.normalise_fqdn(value, allow_wildcard=True)
        except ValueError:
            pass
        else:
            if name != value:
                r.note(path, "fqdn_normalised", f"{value!r} was normalised to {name!r}")
            return name
    return r.text(value, path, 255)


def _read_adfs(r: _StateReader, value: Any) -> EstateAdfs | None:
    if value is None:
        return None
    d = r.obj(value, "adfs", (), strict=False)
    if d is None:
        return None
    version = None
    if d.get("version") is not None:
        version = r.choice(d["version"], "adfs.version", ADFS_VERSIONS)
    relying_parties: list[EstateRelyingParty] = []
    names: dict[str, str] = {}
    for i, raw in enumerate(r.items(d.get("relying_parties"), "adfs.relying_parties")):
        path = f"adfs.relying_parties[{i}]"
        rp = _read_relying_party(r, raw, path)
        if rp is None:
            continue
        if rp.name.casefold() in names:
            r.err(f"{path}.name", "duplicate", f"relying party trust {rp.name!r} is already listed at "
                                               f"{names[rp.name.casefold()]}")
            continue
        names[rp.name.casefold()] = path
        relying_parties.append(rp)
    return EstateAdfs(
        federation_service_name=r.fqdn(d.get("federation_service_name"), "adfs.federation_service_name"),
        version=version,
        web_application_proxy=r.boolean(d.get("web_application_proxy"), "adfs.web_application_proxy"),
        relying_parties=tuple(relying_parties),
        collected_at=r.timestamp(d.get("collected_at"), "adfs.collected_at"),
        collected_on=r.host(d.get("collected_on"), "adfs.collected_on"),
        farm_behavior_level=r.optional_int(d.get("farm_behavior_level"), "adfs.farm_behavior_level", 0, 100),
    )


def _read_relying_party(r: _StateReader, raw: Any, path: str) -> EstateRelyingParty | None:
    d = r.obj(raw, path, (), required=("name",), strict=False)
    if d is None:
        return None
    name = r.name(d.get("name"), f"{path}.name")
    identifiers: list[str] = []
    for k, item in enumerate(r.items(d.get("identifiers"), f"{path}.identifiers")):
        if item is None:
            r.err(f"{path}.identifiers[{k}]", "required", "must be an identifier, not null")
            continue
        text = r.text(item, f"{path}.identifiers[{k}]", TEXT_MAX)
        if text is not None:
            identifiers.append(text)
    rp = EstateRelyingParty(
        name=name or "",
        identifiers=tuple(identifiers),
        metadata_url=r.text(d.get("metadata_url"), f"{path}.metadata_url", 2048),
        enabled=r.boolean(d.get("enabled"), f"{path}.enabled"),
        access_control_policy_name=r.name(d.get("access_control_policy_name"),
                                          f"{path}.access_control_policy_name"),
        issuance_authorization_rules=r.rules(d.get("issuance_authorization_rules"),
                                             f"{path}.issuance_authorization_rules"),
        issuance_transform_rules=r.rules(d.get("issuance_transform_rules"), f"{path}.issuance_transform_rules"),
        additional_authentication_rules=r.rules(d.get("additional_authentication_rules"),
                                                f"{path}.additional_authentication_rules"),
    )
    return rp if name is not None else None


# ---------------------------------------------------------------------------
# Entry points


def read_state_file(path: str, *, stdin: IO[Any] | None = None) -> Any:
    """Return the parsed state document in file `path` (`-` for standard input).

    Reads at most one byte more than STATE_MAX_BYTES, so a huge file is refused without
    reading it whole. Raises StateUnreadable when the file cannot be read or is not a state
    document at all.
    """
    limit = STATE_MAX_BYTES + 1
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        data = stream.buffer.read(limit) if hasattr(stream, "buffer") else stream.read(limit)
    else:
        try:
            with open(path, "rb") as handle:
                data = handle.read(limit)
        except OSError as exc:
            raise StateUnreadable(f"cannot read the file: {exc.strerror or exc}") from None
    return parse_state_text(data)


def load_state(text: str | bytes) -> tuple[Estate | None, list[Finding]]:
    """Return (estate, findings) for state file text; raise StateUnreadable for non-state files."""
    return read_state(parse_state_text(text))


def merge_state_docs(base: dict[str, Any], addition: dict[str, Any]) -> dict[str, Any]:
    """Return one state document from two runs of the collector (Management Shell and AD FS).

    Both must already read without errors. Each part `addition` holds replaces the same part
    of `base`: its Management Shell part (topology and settings) when it has one, its `adfs`
    part when it has one. An `adfs` part that comes from another run than the Management
    Shell part keeps where and when it was collected in its own `collected_at` and
    `collected_on`, and the document's `collected_at` is then the older of the two: nobody
    takes a merged file for newer than its oldest half.
    """
    shell = next((d for d in (addition, base) if d.get("product") is not None), None)
    adfs_source = next((d for d in (addition, base) if d.get("adfs") is not None), None)
    merged: dict[str, Any] = {"format": STATE_FORMAT}
    head = shell or adfs_source or addition
    for key in ("collected_at", "collected_on", "product", "product_version", *MANAGEMENT_SHELL_FIELDS):
        if head.get(key) is not None:
            merged[key] = head[key]
    if adfs_source is not None:
        adfs = dict(adfs_source["adfs"])
        if shell is not None and adfs_source is not shell:
            adfs.setdefault("collected_at", adfs_source.get("collected_at"))
            if adfs_source.get("collected_on") is not None:
                adfs.setdefault("collected_on", adfs_source["collected_on"])
            # The AD FS part's own date: a file merged before holds it there, and its top-level date may be
            # the older Management Shell run this merge replaces.
            merged["collected_at"] = min(_moment(shell), _moment(adfs))[1]
        merged["adfs"] = adfs
    for source in (base, addition):
        for key, value in source.items():
            if key.startswith("x_"):
                merged[key] = value
    return merged


def _moment(doc: dict[str, Any]) -> tuple[datetime, str]:
    text = str(doc.get("collected_at", ""))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return datetime.max.replace(tzinfo=UTC), text
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), text


def state_parts(doc: dict[str, Any]) -> tuple[bool, bool]:
    """Return (has the Management Shell part, has the AD FS part) for a state document."""
    return doc.get("product") is not None, doc.get("adfs") is not None


__all__ = [
    "LIST_MAX",
    "MAX_DEPTH",
    "STATE_MAX_BYTES",
    "StateUnreadable",
    "load_state",
    "merge_state_docs",
    "parse_state_text",
    "read_state",
    "read_state_file",
    "state_parts",
]
