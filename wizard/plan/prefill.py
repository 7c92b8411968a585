"""A plan prefilled from an estate: the topology, SIP domains, simple URLs and AD FS farm as a
state file found them, and nothing that changes anything until the admin chooses settings.

`plan_from_estate(estate)` returns a `lync-auth-plan/1` document (a dict, as drafts are
stored) and notes for the admin. The document names pools without `auth`, Edge pools
without `block_ntlm`, no mobility policy and AD FS without MFA: rendered as it is, its
bundle changes no setting. It may still be incomplete (a state file without Front End
or Director pools gives a plan without pools), which the notes say.

Pure Python: no Django, no database.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.plan import validators as v
from wizard.plan.estate import STATE_PRODUCTS, Estate
from wizard.plan.model import FORMAT, NAME_MAX, PRODUCTS

PROVENANCE_KEY = "x_prefilled_from_state"


@dataclass(frozen=True)
class Prefilled:
    """A prefilled plan document and what the admin must know about it."""

    doc: dict[str, Any]
    notes: tuple[str, ...]


def plan_product(estate_product: str | None) -> tuple[str | None, str | None]:
    """Return (the product a plan names for the estate's product, a note when plans cannot name it).

    Every product a state file may name is a plan product too (Subscription Edition included), so a
    prefilled plan names the estate's product as it is.
    """
    if estate_product is None or estate_product in PRODUCTS:
        return estate_product, None
    return None, f"The estate runs {STATE_PRODUCTS.get(estate_product, estate_product)}, which plans cannot " \
                 f"name: choose the product in the Environment step."


def default_name(estate: Estate) -> str:
    """Return a plan name that says where and when the state was collected."""
    where = estate.collected_on or (estate.adfs.federation_service_name if estate.adfs else None) or "an estate"
    return f"Estate of {where}, collected {estate.collected_at[:10]}"[:NAME_MAX]


def plan_from_estate(estate: Estate, *, name: str | None = None) -> Prefilled:
    """Return a plan document prefilled from `estate` that changes nothing, and notes about it."""
    notes: list[str] = []
    product, note = plan_product(estate.product)
    if note:
        notes.append(note)
    title = v.clean_text(name, max_length=NAME_MAX) if name else default_name(estate)
    doc: dict[str, Any] = {"format": FORMAT, "name": title}
    if product is not None:
        doc["product"] = product
    else:
        notes.append("The state file has no Management Shell part: choose the product in the Environment step.")
    doc["sip_domains"] = list(estate.sip_domains)
    doc["pools"] = [
        _without_none({"fqdn": p.fqdn, "role": p.role, "site": p.site, "internal_web_fqdn": p.internal_web_fqdn,
                       "external_web_fqdn": p.external_web_fqdn})
        for p in estate.pools
    ]
    if not estate.pools:
        notes.append("The state file names no Front End or Director pool: add the pools in the Environment step "
                     "before the plan can be rendered.")
    if not estate.sip_domains:
        notes.append("The state file names no SIP domain: add them in the Environment step.")
    if estate.edge_pools:
        doc["edge_pools"] = [
            _without_none({"fqdn": e.fqdn, "access_fqdn": e.access_fqdn, "webconf_fqdn": e.webconf_fqdn,
                           "av_fqdn": e.av_fqdn})
            for e in estate.edge_pools
        ]
    if estate.simple_urls is not None and estate.simple_urls.hosts():
        s = estate.simple_urls
        doc["simple_urls"] = {"meet": list(s.meet), "dialin": s.dialin, "admin": s.admin}
    adfs = estate.adfs
    if adfs is not None:
        if adfs.federation_service_name and adfs.version:
            doc["adfs"] = {"federation_service_name": adfs.federation_service_name, "version": adfs.version}
        else:
            notes.append("The state file's AD FS part has no federation service name or no AD FS version a plan can "
                         "name: fill in the AD FS step by hand.")
    doc[PROVENANCE_KEY] = _without_none({
        "collected_at": estate.collected_at, "collected_on": estate.collected_on, "product": estate.product,
        "product_version": estate.product_version,
    })
    return Prefilled(doc=doc, notes=tuple(notes))


def _without_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: value for k, value in d.items() if value is not None}
