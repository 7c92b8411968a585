"""The harmless twin of a plan: the same plan with every user-supplied string replaced.

The verifier renders a plan and its twin and compares the two token streams: user data
may change what is inside single-quoted strings and comments, nothing else. That proof is
only as good as the twin, so the twin is built by walking the plan's dataclass fields, and
every string field must be classified in `FIELD_KINDS`:

* `fqdn`: replaced label by label (`h1.h2.h3`), so suffix relations survive; the labels
  the tool itself puts in front of SIP domains (`sip`, `lyncdiscover`, ...) are kept;
* `name`: free text (plan name, site, relying-party names, accepted-risk reasons) -> `Name<n>`;
* `policy_identity`: `Global` kept, `site:<name>` / `Tag:<name>` keep their prefix;
* `ca`: `host\\CA name`, the host as an FQDN and the name as a name;
* `keep`: a choice from a fixed vocabulary (product, role, auth mode, AD FS version, MFA, Modern Auth scenario,
  accepted-risk finding codes and field paths): conditions depend on it, and the reader only
  accepts the vocabulary's values (a field path only as letters, digits, dots and brackets);
* `drop`: `x_` extension data, which no template reads.

Equal inputs give equal placeholders and distinct inputs distinct ones, so every condition a
template evaluates comes out the same. A string field that is not classified makes
`harmless_twin` raise (the verifier then fails closed), and `unclassified_string_fields`
lets a test name it; `user_string_paths` gives the attack tests every replaced value of a
plan by its document path, so a new field is attacked as soon as it is classified.

Pure Python: no Django, no database.
"""
from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from functools import cache
from typing import Any

from wizard.plan.model import PlanData

FQDN = "fqdn"
NAME = "name"
POLICY_IDENTITY = "policy_identity"
CA = "ca"
KEEP = "keep"
DROP = "drop"
KINDS = frozenset({FQDN, NAME, POLICY_IDENTITY, CA, KEEP, DROP})

# (dataclass name, field name) -> kind, for every field of the plan that holds a string.
FIELD_KINDS: dict[tuple[str, str], str] = {
    ("PlanData", "name"): NAME,
    ("PlanData", "product"): KEEP,
    ("PlanData", "sip_domains"): FQDN,
    ("PlanData", "office_web_apps_fqdn"): FQDN,
    ("PlanData", "extensions"): DROP,
    ("Pool", "extensions"): DROP,
    ("Pool", "rp_extensions"): DROP,
    ("PoolAuth", "extensions"): DROP,
    ("PoolAuth", "hours_extensions"): DROP,
    ("CertificateHours", "extensions"): DROP,
    ("RelyingParties", "extensions"): DROP,
    ("EdgePool", "extensions"): DROP,
    ("Adfs", "extensions"): DROP,
    ("ModernAuth", "extensions"): DROP,
    ("MobilityPolicy", "extensions"): DROP,
    ("SimpleUrls", "extensions"): DROP,
    ("Certificates", "extensions"): DROP,
    ("AcceptedRisk", "extensions"): DROP,
    ("Pool", "fqdn"): FQDN,
    ("Pool", "role"): KEEP,
    ("Pool", "site"): NAME,
    ("Pool", "internal_web_fqdn"): FQDN,
    ("Pool", "external_web_fqdn"): FQDN,
    ("PoolAuth", "external"): KEEP,
    ("RelyingParties", "internal"): NAME,
    ("RelyingParties", "external"): NAME,
    ("EdgePool", "fqdn"): FQDN,
    ("EdgePool", "access_fqdn"): FQDN,
    ("EdgePool", "webconf_fqdn"): FQDN,
    ("EdgePool", "av_fqdn"): FQDN,
    ("Adfs", "federation_service_name"): FQDN,
    ("Adfs", "version"): KEEP,
    ("Adfs", "mfa"): KEEP,
    ("ModernAuth", "oauth_server_identity"): FQDN,
    ("ModernAuth", "scenario"): KEEP,
    ("MobilityPolicy", "identity"): POLICY_IDENTITY,
    ("SimpleUrls", "meet"): FQDN,
    ("SimpleUrls", "dialin"): FQDN,
    ("SimpleUrls", "admin"): FQDN,
    ("Certificates", "ca"): CA,
    ("AcceptedRisk", "code"): KEEP,
    ("AcceptedRisk", "field"): KEEP,
    ("AcceptedRisk", "reason"): NAME,
}

# Labels the tool itself prefixes to SIP domains stay, so that built names such as
# sip.<domain> relate to the plan's names in the twin exactly as in the real plan.
KEPT_LABELS = frozenset({"sip", "lyncdiscover", "lyncdiscoverinternal", "_sip", "_tls", "_tcp",
                         "_sipinternaltls", "_sipfederationtls"})


class UnclassifiedField(TypeError):
    """A plan dataclass has a string field that FIELD_KINDS does not classify."""


class _Placeholders:
    """Consistent placeholders: one input value always gives the same output, distinct inputs distinct outputs."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        self.names: dict[str, str] = {}

    def fqdn(self, value: str) -> str:
        return ".".join(self._label(label) for label in value.split("."))

    def _label(self, label: str) -> str:
        if label in KEPT_LABELS:
            return label
        if label not in self.labels:
            self.labels[label] = f"h{len(self.labels) + 1}"
        return self.labels[label]

    def name(self, value: str) -> str:
        if value not in self.names:
            self.names[value] = f"Name{len(self.names) + 1}"
        return self.names[value]

    def policy_identity(self, value: str) -> str:
        prefix, sep, rest = value.partition(":")
        if not sep:
            return value            # Global
        return f"{prefix}:{self.name(rest)}"

    def ca(self, value: str) -> str:
        host, _, name = value.partition("\\")
        return f"{self.fqdn(host)}\\{self.name(name)}"

    def replace(self, kind: str, value: str) -> str:
        if kind == FQDN:
            return self.fqdn(value)
        if kind == NAME:
            return self.name(value)
        if kind == POLICY_IDENTITY:
            return self.policy_identity(value)
        if kind == CA:
            return self.ca(value)
        return value                # KEEP


def kind_of(cls: type, field_name: str) -> str | None:
    """Return the FIELD_KINDS kind of `cls.field_name` (looked up through the base classes), or None."""
    for base in cls.__mro__:
        kind = FIELD_KINDS.get((base.__name__, field_name))
        if kind is not None:
            return kind
    return None


def _holds_str(hint: Any) -> bool:
    """Return True when a type hint can hold a string (str, a str enum, Optional/tuple/union of those)."""
    if isinstance(hint, type):
        return issubclass(hint, str)
    if hint is Any:
        return True
    return any(_holds_str(arg) for arg in typing.get_args(hint) if arg is not Ellipsis)


def _dataclasses_in(hint: Any) -> Iterator[type]:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        yield hint
    for arg in typing.get_args(hint):
        yield from _dataclasses_in(arg)


@cache
def _hints(cls: type) -> dict[str, Any]:
    import wizard.plan.model as model

    return typing.get_type_hints(cls, vars(model))


def string_fields(root: type = PlanData) -> list[tuple[type, str]]:
    """Return (dataclass, field name) for every field that can hold a string, in every dataclass reachable
    from `root`, in walk order."""
    seen: list[type] = []
    out: list[tuple[type, str]] = []

    def visit(cls: type) -> None:
        if cls in seen:
            return
        seen.append(cls)
        hints = _hints(cls)
        for field in dataclasses.fields(cls):
            hint = hints[field.name]
            if _holds_str(hint):
                out.append((cls, field.name))
            for inner in _dataclasses_in(hint):
                visit(inner)

    visit(root)
    return out


def unclassified_string_fields(root: type = PlanData) -> list[str]:
    """Return `Class.field` for every string field reachable from `root` that FIELD_KINDS does not classify."""
    return [f"{cls.__name__}.{name}" for cls, name in string_fields(root) if kind_of(cls, name) is None]


def _twin(ph: _Placeholders, obj: Any) -> Any:
    cls = type(obj)
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        kind = kind_of(cls, field.name)
        new = _twin_value(ph, cls, field.name, kind, value)
        if new is not value:
            changes[field.name] = new
    return dataclasses.replace(obj, **changes) if changes else obj


def _twin_value(ph: _Placeholders, cls: type, name: str, kind: str | None, value: Any) -> Any:
    if kind == DROP:
        return type(value)()
    if value is None or isinstance(value, bool | int | float):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _twin(ph, value)
    if isinstance(value, tuple):
        return tuple(_twin_value(ph, cls, name, kind, item) for item in value)
    if isinstance(value, str):
        if kind is None:
            raise UnclassifiedField(f"{cls.__name__}.{name} holds a string but wizard.scripts.twin.FIELD_KINDS "
                                    f"does not say how the harmless twin replaces it")
        return ph.replace(kind, value)
    raise UnclassifiedField(f"{cls.__name__}.{name} holds a {type(value).__name__}, which the twin cannot walk")


def harmless_twin(plan: PlanData) -> PlanData:
    """Return `plan` with every user-supplied string replaced by a harmless placeholder of the same kind.

    Booleans, numbers, the kept choices and the structure stay; `x_` extension data is dropped.
    Raises UnclassifiedField when a string field is not in FIELD_KINDS.
    """
    twin: PlanData = _twin(_Placeholders(), plan)
    return twin


class UserString(typing.NamedTuple):
    """One string of a plan that the twin replaces: where it is, how, and what it is."""

    path: str       # the plan file's path: `pools[0].site`, `simple_urls.meet[1]`
    kind: str       # FQDN, NAME, POLICY_IDENTITY or CA
    value: str
    field: str      # `Pool.site`


def user_string_paths(plan: PlanData) -> list[UserString]:
    """Return every string the twin replaces in `plan`, in walk order.

    The paths are the plan file's, so the attack tests can put hostile text at each of them.
    Kept choices and dropped extension data are not listed.
    """
    out: list[UserString] = []

    def walk(obj: Any, path: str) -> None:
        cls = type(obj)
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name)
            here = f"{path}.{field.name}" if path else field.name
            visit(cls, field.name, value, here)

    def visit(cls: type, name: str, value: Any, here: str) -> None:
        kind = kind_of(cls, name)
        if kind in (KEEP, DROP) or value is None or isinstance(value, bool | int | float):
            return
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            walk(value, here)
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                visit(cls, name, item, f"{here}[{i}]")
        elif isinstance(value, str) and kind is not None:
            out.append(UserString(here, kind, value, f"{cls.__name__}.{name}"))

    walk(plan, "")
    return out


__all__ = [
    "CA",
    "DROP",
    "FIELD_KINDS",
    "FQDN",
    "KEEP",
    "KEPT_LABELS",
    "NAME",
    "POLICY_IDENTITY",
    "UnclassifiedField",
    "UserString",
    "harmless_twin",
    "kind_of",
    "string_fields",
    "unclassified_string_fields",
    "user_string_paths",
]
