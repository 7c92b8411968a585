"""The project's cmdlet signature catalog: which cmdlets and parameters exist where, and what they accept.

The data is `cmdlets.json` beside this file, built by `tools/build_catalog.py` from Microsoft's
help plus `overrides.json`. This module only reads it; it never imports Django.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).resolve().parent / "cmdlets.json"

# Kinds of argument the verifier reports for a value (see Catalog.check_value).
VALUE_BOOL = "bool"            # $true / $false
VALUE_INT = "int"              # an integer literal
VALUE_STRING = "string"        # a single-quoted string or a verbatim here-string
VALUE_EXPANDABLE = "expandable_string"  # "..." or @"..."@ (content may expand at run time)
VALUE_BAREWORD = "bareword"    # an unquoted command-mode word such as None
VALUE_NULL = "null"            # $null
VALUE_ARRAY = "array"          # 'a','b' or @('a','b'): literal_value is a tuple of (kind, value)
VALUE_NONE = "none"            # a switch written without a value
VALUE_UNKNOWN = "unknown"      # anything not known before run time (variables, expressions)

_INT_BOUNDS = {
    "Int32": (-(2**31), 2**31 - 1), "System.Int32": (-(2**31), 2**31 - 1),
    "UInt32": (0, 2**32 - 1), "System.UInt32": (0, 2**32 - 1),
    "Int64": (-(2**63), 2**63 - 1), "System.Int64": (-(2**63), 2**63 - 1),
    "UInt64": (0, 2**64 - 1), "System.UInt64": (0, 2**64 - 1),
}
# `*-Csv` are core cmdlets (Import-Csv, Export-Csv, ConvertTo-/ConvertFrom-Csv), not Skype ones.
_DECIMAL_RE = re.compile(r"[+-]?[0-9]+")
_CHECKED_NAME_RE = re.compile(r"^[a-z]+-(?:cs|adfs)", re.IGNORECASE)


@dataclass(frozen=True)
class ParamInfo:
    """One parameter of one cmdlet (or a common parameter)."""

    name: str
    type: str
    kind: str                      # switch | bool | int | enum | string | object
    array: bool
    aliases: tuple[str, ...]
    position: int | None
    values: tuple[Any, ...] | None
    range: tuple[int, int] | None
    availability: Mapping[str, str] | None   # product or AD FS version -> yes|needs_cu|no|online_only
    values_by_adfs: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()
    common: bool = False
    # A text parameter the help shows taking $null, saying what that does (an override of kind null_clears).
    null_clears: bool = False


@dataclass(frozen=True)
class CmdletInfo:
    """One catalogued cmdlet."""

    name: str
    module: str
    products: tuple[str, ...] | None       # Skype cmdlets: where the cmdlet exists
    adfs_versions: tuple[str, ...] | None  # ADFS cmdlets: where the cmdlet exists
    supports_whatif: bool
    source: str
    parameters: Mapping[str, ParamInfo]

    @property
    def is_adfs(self) -> bool:
        return self.adfs_versions is not None


@dataclass(frozen=True)
class ParamCheck:
    """The outcome of Catalog.check_parameter; `ok` is True for `ok` and `needs_cu`."""

    # ok | needs_cu | unknown_cmdlet | unknown | ambiguous | not_on_product | online_only | not_on_adfs_version
    status: str
    message: str
    parameter: ParamInfo | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "needs_cu")


@dataclass(frozen=True)
class ValueCheck:
    """The outcome of Catalog.check_value; `skipped` means the value is not known before run time."""

    ok: bool
    message: str = ""
    skipped: bool = False


class Catalog:
    """Read-only view of cmdlets.json with case-insensitive lookups."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data["catalog_version"]
        self.products: tuple[str, ...] = tuple(data["products"])
        self.adfs_versions: tuple[str, ...] = tuple(data["adfs_versions"])
        self.provenance: Mapping[str, Any] = data["provenance"]
        self.common_parameters = {
            name: _param(name, spec, common=True) for name, spec in data["common_parameters"].items()
        }
        self._cmdlets = {name.lower(): _cmdlet(name, spec) for name, spec in data["cmdlets"].items()}
        self._resolvers: dict[str, _Resolver] = {}
        self._lookups: dict[str, CmdletInfo | None] = {}

    def __len__(self) -> int:
        return len(self._cmdlets)

    def names(self) -> list[str]:
        """Return every catalogued cmdlet name in its documented spelling."""
        return sorted(c.name for c in self._cmdlets.values())

    def lookup(self, cmdlet: str) -> CmdletInfo | None:
        """Return the cmdlet named `cmdlet` (any letter case, optional `Module\\` prefix), or None."""
        try:
            return self._lookups[cmdlet]
        except KeyError:
            info = self._cmdlets.get(_bare_name(cmdlet).lower())
            _remember(self._lookups, cmdlet, info)
            return info

    def must_check(self, cmdlet: str) -> bool:
        """Return True when a command of this name has to be in the catalog to pass verification."""
        bare = _bare_name(cmdlet)
        if bare.lower() in self._cmdlets:
            return True
        return bool(_CHECKED_NAME_RE.match(bare)) and not bare.lower().endswith("-csv")

    def cmdlet_problem(self, cmdlet: str, *, product: str, adfs_version: str | None) -> str | None:
        """Return why `cmdlet` cannot run for this product / AD FS version, or None when it can."""
        info = self.lookup(cmdlet)
        if info is None:
            return f"{cmdlet} is not in the cmdlet catalog"
        if info.products is not None and product not in info.products:
            return f"{info.name} does not exist on {product}"
        if info.adfs_versions is not None:
            if adfs_version is None:
                return f"{info.name} is an AD FS cmdlet but the plan has no AD FS version"
            if adfs_version not in info.adfs_versions:
                return f"{info.name} does not exist on AD FS {adfs_version}"
        return None

    def resolve_parameter(self, cmdlet: str, spelled: str) -> ParamCheck:
        """Return which parameter `-spelled` binds to (name, alias or unambiguous prefix)."""
        info = self.lookup(cmdlet)
        if info is None:
            return ParamCheck("unknown_cmdlet", f"{cmdlet} is not in the cmdlet catalog")
        return self._resolver(info).resolve(spelled.lstrip("-\u2013\u2014\u2015").rstrip(":"))

    def check_parameter(self, cmdlet: str, param: str, *, product: str,
                        adfs_version: str | None = None) -> ParamCheck:
        """Return whether `-param` exists for `cmdlet` on `product` (and `adfs_version` for ADFS cmdlets)."""
        info = self.lookup(cmdlet)
        if info is None:
            return ParamCheck("unknown_cmdlet", f"{cmdlet} is not in the cmdlet catalog")
        resolved = self._resolver(info).resolve(param.lstrip("-\u2013\u2014\u2015").rstrip(":"))
        p = resolved.parameter
        if p is None or p.availability is None:
            return resolved
        if info.is_adfs:
            if adfs_version is None:
                return ParamCheck("not_on_adfs_version", f"{info.name} -{p.name}: the plan has no AD FS version", p)
            state = p.availability.get(adfs_version, "no")
            if state == "no":
                return ParamCheck("not_on_adfs_version",
                                  f"{info.name} -{p.name} does not exist on AD FS {adfs_version}", p)
        else:
            state = p.availability.get(product, "no")
            if state == "online_only":
                return ParamCheck("online_only", f"{info.name} -{p.name} exists only in Skype for Business Online", p)
            if state == "no":
                return ParamCheck("not_on_product", f"{info.name} -{p.name} does not exist on {product}", p)
        if state == "needs_cu":
            return ParamCheck("needs_cu", f"{info.name} -{p.name} needs a cumulative update on {product}", p)
        return resolved

    def check_value(self, cmdlet: str, param: str, value_node_kind: str, literal_value: Any = None,
                    *, adfs_version: str | None = None) -> ValueCheck:
        """Return whether a literal of `value_node_kind` fits the parameter's type, accepted values and range."""
        resolved = self.resolve_parameter(cmdlet, param)
        if resolved.parameter is None:
            return ValueCheck(False, resolved.message)
        return self.check_param_value(resolved.parameter, value_node_kind, literal_value, adfs_version=adfs_version)

    def check_param_value(self, param: ParamInfo, value_node_kind: str, literal_value: Any = None,
                          *, adfs_version: str | None = None) -> ValueCheck:
        """Like check_value, for a parameter already resolved (the verifier's fast path)."""
        return _check_value(param, value_node_kind, literal_value, adfs_version)

    def _resolver(self, info: CmdletInfo) -> _Resolver:
        key = info.name.lower()
        if key not in self._resolvers:
            params = dict(info.parameters)
            for name, p in self.common_parameters.items():
                params.setdefault(name, p)
            self._resolvers[key] = _Resolver(info.name, params)
        return self._resolvers[key]


class _Resolver:
    """PowerShell parameter binding by exact name, alias, then unambiguous prefix (all case-insensitive)."""

    def __init__(self, cmdlet: str, params: Mapping[str, ParamInfo]) -> None:
        self.cmdlet = cmdlet
        self.exact = {name.lower(): p for name, p in params.items()}
        self.alias = {a.lower(): p for p in params.values() for a in p.aliases}
        self.spellings = sorted({*self.exact, *self.alias})
        self.cache: dict[str, ParamCheck] = {}

    def resolve(self, spelled: str) -> ParamCheck:
        key = spelled.lower()
        hit = self.cache.get(key)
        if hit is None:
            hit = self._resolve(spelled, key)
            _remember(self.cache, key, hit)
        return hit

    def _resolve(self, spelled: str, key: str) -> ParamCheck:
        p = self.exact.get(key) or self.alias.get(key)
        if p is not None:
            return ParamCheck("ok", "", p)
        matches = {id(p): p for s in self.spellings if s.startswith(key) and key
                   for p in (self.exact.get(s) or self.alias[s],)}
        if len(matches) == 1:
            return ParamCheck("ok", "", next(iter(matches.values())))
        if matches:
            names = ", ".join(sorted(p.name for p in matches.values()))
            return ParamCheck("ambiguous", f"{self.cmdlet} -{spelled} is ambiguous ({names})")
        return ParamCheck("unknown", f"{self.cmdlet} has no parameter -{spelled}")


def _check_value(p: ParamInfo, kind: str, value: Any, adfs_version: str | None) -> ValueCheck:
    if kind == VALUE_UNKNOWN or p.kind == "object":
        return ValueCheck(True, skipped=True)
    label = f"-{p.name} ({p.type})"
    if p.kind == "switch":
        if kind in (VALUE_NONE, VALUE_BOOL):
            return ValueCheck(True)
        return ValueCheck(False, f"{label} is a switch: write it alone or as -{p.name}:$true/$false")
    if kind == VALUE_NONE:
        return ValueCheck(False, f"{label} needs a value")
    if kind == VALUE_ARRAY:
        if not p.array:
            return ValueCheck(False, f"{label} takes one value, not a list")
        for item_kind, item in value:
            if item_kind == VALUE_ARRAY:
                return ValueCheck(False, f"{label} got a nested list")
            result = _check_scalar(p, item_kind, item, adfs_version, label)
            if not result.ok or result.skipped:
                return result
        return ValueCheck(True)
    return _check_scalar(p, kind, value, adfs_version, label)


def _check_scalar(p: ParamInfo, kind: str, value: Any, adfs_version: str | None, label: str) -> ValueCheck:
    if kind == VALUE_UNKNOWN:
        return ValueCheck(True, skipped=True)
    if p.kind == "bool":
        if kind in (VALUE_BOOL, VALUE_INT):
            return ValueCheck(True)
        return ValueCheck(False, f"{label} takes $true or $false, not {_show(kind, value)}")
    if kind == VALUE_EXPANDABLE and _may_expand(value):
        return ValueCheck(True, skipped=True)
    if p.kind == "int":
        number = _as_int(kind, value)
        if number is None:
            return ValueCheck(False, f"{label} takes an integer, not {_show(kind, value)}")
        low, high = _INT_BOUNDS.get(p.type, (None, None))
        if low is not None and high is not None and not low <= number <= high:
            return ValueCheck(False, f"{label}: {number} is outside the {p.type} range")
        if p.range is not None and not p.range[0] <= number <= p.range[1]:
            return ValueCheck(False, f"{label}: {number} is outside {p.range[0]}-{p.range[1]}")
        if p.values is not None and number not in p.values:
            return ValueCheck(False, f"{label}: {number} is not one of {', '.join(map(str, p.values))}")
        return ValueCheck(True)
    if kind == VALUE_NULL and p.null_clears:
        return ValueCheck(True)
    if kind in (VALUE_BOOL, VALUE_NULL):
        return ValueCheck(False, f"{label} takes text, not {_show(kind, value)}")
    if p.kind == "enum":
        values = p.values_by_adfs.get(adfs_version or "", p.values) or ()
        text = str(value).strip()
        if not any(text.lower() == str(v).lower() for v in values):
            return ValueCheck(False, f"{label}: {text!r} is not one of {', '.join(map(str, values))}")
    return ValueCheck(True)


def _as_int(kind: str, value: Any) -> int | None:
    if kind == VALUE_INT and isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if kind in (VALUE_STRING, VALUE_BAREWORD, VALUE_EXPANDABLE) and _DECIMAL_RE.fullmatch(text):
        # Anything longer than 25 digits is out of every range; int() of it could be slow or refused.
        return int(text) if len(text) <= 25 else (-1 if text.startswith("-") else 1) * 10**25
    return None


def _may_expand(text: Any) -> bool:
    return any(ch in str(text) for ch in "$`")


def _show(kind: str, value: Any) -> str:
    return kind if value is None else f"{kind} {value!r}"


# The lookup memos are keyed by names read from scripts, which a hostile plan could vary without
# end: they keep at most this many names of at most this length, so their bytes stay bounded.
_MEMO_ENTRIES = 4096
_MEMO_KEY_CHARS = 128


def _remember(memo: dict[str, Any], key: str, value: Any) -> None:
    if len(key) <= _MEMO_KEY_CHARS and len(memo) < _MEMO_ENTRIES:
        memo[key] = value


def _bare_name(cmdlet: str) -> str:
    return cmdlet.rsplit("\\", 1)[-1]


def _param(name: str, spec: Mapping[str, Any], *, common: bool = False) -> ParamInfo:
    rng = spec.get("range")
    values = spec.get("values")
    return ParamInfo(
        name=name,
        type=spec["type"],
        kind=spec["kind"],
        array=bool(spec.get("array")),
        aliases=tuple(spec.get("aliases") or ()),
        position=spec.get("position"),
        values=tuple(values) if values is not None else None,
        range=(int(rng["min"]), int(rng["max"])) if rng else None,
        availability=spec.get("availability"),
        values_by_adfs={k: tuple(v) for k, v in (spec.get("values_by_adfs") or {}).items()},
        overrides=tuple(spec.get("overrides") or ()),
        common=common,
        null_clears=bool(spec.get("null_clears")),
    )


def _cmdlet(name: str, spec: Mapping[str, Any]) -> CmdletInfo:
    products = spec.get("products")
    versions = spec.get("adfs_versions")
    return CmdletInfo(
        name=name,
        module=spec["module"],
        products=tuple(products) if products is not None else None,
        adfs_versions=tuple(versions) if versions is not None else None,
        supports_whatif=bool(spec.get("supports_whatif")),
        source=spec.get("source", ""),
        parameters={pname: _param(pname, p) for pname, p in spec["parameters"].items()},
    )


def load_catalog_from(path: Path) -> Catalog:
    """Return the catalog stored at `path` (tests use this for hand-made catalogs)."""
    return Catalog(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Return the project catalog (read once per process)."""
    return load_catalog_from(CATALOG_PATH)
