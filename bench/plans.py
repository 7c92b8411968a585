"""Plans to measure: the one-pool example and generated plans of any size."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PLANS_DIR = Path(__file__).resolve().parent / "plans"
EXAMPLE = "s01-passive-extranet-mfa"
AUTH_CYCLE = ("passive", "tls_dsk", "ntlm")


def example_plan(name: str = EXAMPLE) -> dict[str, Any]:
    """Return the example plan document `name` (bench/plans/<name>.plan.json)."""
    return json.loads((PLANS_DIR / f"{name}.plan.json").read_text(encoding="utf-8"))


def generated_plan(pools: int, sip_domains: int = 20, *, edge_pools: int | None = None,
                   tag_policies: int = 0) -> dict[str, Any]:
    """Return a valid plan with `pools` pools spread over `sip_domains` SIP domains.

    Pools cycle through passive, TLS-DSK and NTLM authentication, every tenth is a Director,
    ten pools share a site (with a site mobility policy) and an Edge pool, so every
    template has work proportional to the size of the plan. `edge_pools` overrides the
    number of Edge pools (one per ten pools by default); `tag_policies` adds per-user
    (tag) mobility policies after the global and site ones.
    """
    domains = [f"corp{d:02d}.example.com" for d in range(sip_domains)]
    pool_docs = []
    for i in range(pools):
        domain = domains[i % len(domains)]
        auth: dict[str, Any] = {"external": AUTH_CYCLE[i % 3]}
        if auth["external"] == "passive":
            auth["block_ntlm_at_registrar"] = True
        elif auth["external"] == "tls_dsk":
            auth["client_certificate_hours"] = {"default": 720, "min": 8, "max": 720}
        pool_docs.append({
            "fqdn": f"pool{i:03d}.{domain}",
            "role": "director" if i % 10 == 9 else "frontend",
            "site": f"Site{i // 10:02d}",
            "internal_web_fqdn": f"pool{i:03d}.{domain}",
            "external_web_fqdn": f"web{i:03d}.{domain}",
            "auth": auth,
        })
    sites = sorted({p["site"] for p in pool_docs})
    edges = [{
        "fqdn": f"edge{j:02d}.{domains[0]}",
        "access_fqdn": f"sip{j:02d}.{domains[0]}",
        "webconf_fqdn": f"webconf{j:02d}.{domains[0]}",
        "av_fqdn": f"av{j:02d}.{domains[0]}",
        "block_ntlm": j % 2 == 0,
    } for j in range(edge_pools if edge_pools is not None else max(1, pools // 10))]
    policies: list[dict[str, Any]] = [{"identity": "Global", "allow_save_credentials": False,
                                       "allow_exchange_connectivity": False}]
    policies += [{"identity": f"site:{site}", "enable_outside_voice": False} for site in sites]
    policies += [{"identity": f"tag:MobileUsers{k:03d}", "enable_ip_audio_video": k % 2 == 0}
                 for k in range(tag_policies)]
    return accept_broken_promises({
        "format": "lync-auth-plan/1",
        "name": f"Benchmark: {pools} pools, {sip_domains} SIP domains",
        "product": "sfb2019",
        "sip_domains": domains,
        "pools": pool_docs,
        "edge_pools": edges,
        "adfs": {"federation_service_name": f"adfs.{domains[0]}", "version": "2019", "mfa": "extranet"},
        "mobility_policies": policies,
        "simple_urls": {"meet": [f"meet.{d}" for d in domains], "dialin": f"dialin.{domains[0]}",
                        "admin": f"admin.{domains[0]}"},
        "office_web_apps_fqdn": f"oos.{domains[0]}",
        "certificates": {"key_size": 2048},
    })


def limits_plan() -> dict[str, Any]:
    """Return a plan at the documented limits of the lists the wizard pages edit row by row.

    100 pools, 50 Edge pools and 100 mobility policies (wizard/plan/limits.py), over 20 SIP
    domains: the largest step pages a plan can have.
    """
    from wizard.plan.limits import LIST_LIMITS

    pools = LIST_LIMITS["pools"]
    sites = (pools + 9) // 10
    doc = generated_plan(pools, edge_pools=LIST_LIMITS["edge_pools"],
                         tag_policies=LIST_LIMITS["mobility_policies"] - 1 - sites)
    return {**doc, "name": f"Benchmark: a plan at the limits ({pools} pools)"}


def accept_broken_promises(doc: dict[str, Any]) -> dict[str, Any]:
    """Return `doc` with every error it may accept recorded in `accepted_risks`.

    The generated plans mix passive, TLS-DSK and NTLM pools (and Edges that keep NTLM) under an extranet
    MFA promise, which the tool refuses; a phased roll-out records that as accepted risks, and so does the
    benchmark, so the plan keeps its size and shape and still renders.
    """
    from wizard.plan.engine import assess
    from wizard.plan.findings import acceptable_errors

    _, findings = assess(doc)
    risks = [{"code": f.code, "field": f.field, "reason": "Phased roll-out (benchmark plan)"}
             for f in acceptable_errors(findings)]
    return {**doc, "accepted_risks": risks} if risks else doc
