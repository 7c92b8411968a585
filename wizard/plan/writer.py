"""Write a `PlanData` back as a `lync-auth-plan/1` document (the export format and
what revisions store).

Pure Python: no Django, no database.
"""
from __future__ import annotations

import json
import re
from dataclasses import fields, replace
from typing import Any

from wizard.plan.model import FORMAT, PlanData, Pool, PoolAuth, SimpleUrls
from wizard.plan.validators import INVISIBLE_CHARS


def plan_to_dict(plan: PlanData) -> dict[str, Any]:
    """Return the plan as a `lync-auth-plan/1` document (defaults written out, None left out)."""
    doc: dict[str, Any] = {
        "format": FORMAT,
        "name": plan.name,
        "product": plan.product,
        "sip_domains": list(plan.sip_domains),
        "pools": [_pool_dict(p) for p in plan.pools],
    }
    if plan.edge_pools:
        doc["edge_pools"] = [_kept(_drop_none(_values(e)), e) for e in plan.edge_pools]
    if plan.adfs:
        doc["adfs"] = _kept(_drop_none(_values(plan.adfs)), plan.adfs)
    if plan.modern_auth:
        ma = plan.modern_auth
        doc["modern_auth"] = _kept(_drop_none({
            "oauth_server_identity": ma.oauth_server_identity, "accept_sid_claims": ma.accept_sid_claims,
            "scenario": ma.scenario.value if ma.scenario is not None else None,
            "office2013_clients": ma.office2013_clients,
        }), ma)
    if plan.mobility_policies:
        doc["mobility_policies"] = [
            _kept(_drop_none(_values(m)), m) for m in plan.mobility_policies
        ]
    if plan.simple_urls:
        s = plan.simple_urls
        doc["simple_urls"] = _kept({"meet": list(s.meet), "dialin": s.dialin, "admin": s.admin}, s)
    if plan.office_web_apps_fqdn:
        doc["office_web_apps_fqdn"] = plan.office_web_apps_fqdn
    doc["autodiscover_port"] = plan.autodiscover_port
    if plan.certificates:
        doc["certificates"] = _kept(_drop_none({"key_size": plan.certificates.key_size, "ca": plan.certificates.ca}),
                                    plan.certificates)
    if plan.accepted_risks:
        doc["accepted_risks"] = [_kept({"code": a.code, "field": a.field, "reason": a.reason}, a)
                                 for a in plan.accepted_risks]
    for key, value in plan.extensions:
        doc[key] = value
    return doc


def _pool_dict(p: Pool) -> dict[str, Any]:
    d: dict[str, Any] = {"fqdn": p.fqdn, "role": p.role, "site": p.site, "internal_web_fqdn": p.internal_web_fqdn,
                         "external_web_fqdn": p.external_web_fqdn}
    if p.auth:
        a = p.auth
        d["auth"] = {"external": a.external.value, "certificate_auth": a.certificate_auth}
        if a.client_certificate_hours:
            h = a.client_certificate_hours
            d["auth"]["client_certificate_hours"] = _kept({"default": h.default, "min": h.min, "max": h.max}, h)
        elif a.hours_extensions:
            d["auth"]["client_certificate_hours"] = dict(a.hours_extensions)
        d["auth"]["block_ntlm_at_registrar"] = a.block_ntlm_at_registrar
        # Written only when on: plans written before the setting existed keep their bytes (and hashes).
        if a.block_pin_auth:
            d["auth"]["block_pin_auth"] = True
        _kept(d["auth"], a)
    if p.relying_parties:
        d["relying_parties"] = _kept({"internal": p.relying_parties.internal,
                                      "external": p.relying_parties.external}, p.relying_parties)
    elif p.rp_extensions:
        d["relying_parties"] = dict(p.rp_extensions)
    return _kept(_drop_none(d), p)


def _values(obj: Any) -> dict[str, Any]:
    """Return a plan dataclass's fields by name, without its `x_` extension data."""
    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "extensions"}


def _kept(d: dict[str, Any], obj: Any) -> dict[str, Any]:
    """Add the `x_` keys read with `obj` at the end of its object `d`, and return `d`."""
    for key, value in obj.extensions:
        d[key] = value
    return d


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: val for k, val in d.items() if val is not None}


def _default(cls: type, name: str) -> Any:
    return next(f.default for f in fields(cls) if f.name == name)


def with_written_defaults(doc: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a raw plan document (one the reader refused) with the defaults `plan_to_dict` writes out
    added where the keys are missing, so that comparing it with a stored revision shows only real changes.

    Only containers of the right type are touched: anything malformed is left as it is (a draft that is not
    an object at all, too).
    """
    if not isinstance(doc, dict):
        return doc
    out = dict(doc)
    out.setdefault("autodiscover_port", _default(PlanData, "autodiscover_port"))
    if isinstance(out.get("pools"), list):
        pools = []
        for item in out["pools"]:
            if isinstance(item, dict):
                item = {**item}
                item.setdefault("role", _default(Pool, "role"))
                if isinstance(item.get("auth"), dict):
                    item["auth"] = {"certificate_auth": _default(PoolAuth, "certificate_auth"),
                                    "block_ntlm_at_registrar": _default(PoolAuth, "block_ntlm_at_registrar"),
                                    **item["auth"]}
            pools.append(item)
        out["pools"] = pools
    if isinstance(out.get("simple_urls"), dict):
        out["simple_urls"] = {"meet": list(_default(SimpleUrls, "meet")), "dialin": _default(SimpleUrls, "dialin"),
                              "admin": _default(SimpleUrls, "admin"), **out["simple_urls"]}
    return out


# Characters json.dumps leaves raw (it escapes only those below U+0020) that an editor, a diff or a
# viewer takes for a line break (NEL, U+2028, U+2029) or that hide or reorder what a reviewer reads
# (other C1 controls, bidirectional controls, zero-width characters, the BOM). In JSON text they can
# only stand inside a string, where the escape `\uXXXX` is the same character: the value is unchanged.
_JSON_ESCAPED_RE = re.compile(f"[{INVISIBLE_CHARS}]")


def dumps_json(value: Any, *, sort_keys: bool = False) -> str:
    """Return `value` as pretty JSON text with a trailing newline, readable (not ASCII-only) yet
    with every line-breaking or invisible formatting character escaped, so the file has one line
    per JSON line for every editor and shows a reviewer exactly what it holds."""
    return escape_json_text(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n")


def escape_json_text(text: str) -> str:
    """Return `text` (JSON from json.dumps with ensure_ascii=False, or text to show) with those characters
    written as `\\uXXXX`."""
    return _JSON_ESCAPED_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def dumps_plan(plan: PlanData) -> str:
    """Return the plan as pretty, stable JSON text with a trailing newline (see `dumps_json`)."""
    return dumps_json(plan_to_dict(plan))


def with_changes(plan: PlanData, **changes: Any) -> PlanData:
    """Return a copy of `plan` with top-level fields replaced (tests and the harmless twin use it)."""
    return replace(plan, **changes)
