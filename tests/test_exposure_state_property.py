"""Property: with a state file, a plan that promises MFA and is not refused leaves no Internet path where a
password alone signs in, judged by an oracle of its own (not the exposure model).

Each example draws a plan (the generator of tests/test_exposure_property.py, pools given a site or none) and a
`lync-auth-state/1` file: a topology whose pools and Edge pools may or may not be the plan's (other sites,
other roles, pools and Edges only the estate has), web service collections at global, site and service scope
(Windows authentication Negotiate / NTLM / None / not reported, PIN, certificate and passive authentication on,
off or not reported), proxy collections at global and service scope, mobility policies and an AD FS part.

The oracle reasons from the two documents alone:

* the web service collection that applies to a pool the plan leaves alone is its service collection, else its
  topology site's, else the global one; a pool whose site the topology does not report may be in any site;
* a pool whose authentication the plan changes gets the Management Shell script's settings: `Set-` on its
  service collection when it has one, else `New-` copying what the script does not set from the collection that
  applies today (the script reads the pool's site from the topology at run time, whatever site the plan names);
* proxy settings: the service collection, else the global one; the script's own blocks;
* "not reported" is open.
"""
from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.test_exposure_property import plans
from wizard.plan.engine import assess
from wizard.plan.exposure import mfa_promised
from wizard.plan.state_reader import read_state

_PROPERTY = settings(max_examples=1000, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_SITES = ["Oslo", "Bergen"]
_POOLS = [f"pool{i}.contoso.com" for i in range(4)]
_EDGES = [f"edge{j}.contoso.com" for j in range(3)]


def _fold(text: str | None) -> str | None:
    return text.casefold() if text is not None else None


def _value(draw: st.DrawFn, closed: Any, opened: Any, hardened: bool) -> Any:
    """Return the closed value mostly (hardened), else any of closed, open or not reported (None)."""
    if hardened and draw(st.integers(min_value=0, max_value=9)):
        return closed
    return draw(st.sampled_from([closed, opened, None]))


@st.composite
def states(draw: st.DrawFn) -> dict[str, Any]:
    hardened = draw(st.integers(min_value=0, max_value=2)) > 0
    pools = []
    for fqdn in _POOLS:
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            continue
        pool: dict[str, Any] = {"fqdn": fqdn, "role": draw(st.sampled_from(["frontend", "frontend", "director"])),
                                "site": draw(st.sampled_from([*_SITES, None]))}
        if draw(st.booleans()):
            pool["external_web_fqdn"] = "web" + fqdn.removeprefix("pool")
        pools.append(pool)
    edges = [{"fqdn": fqdn, "access_fqdn": f"sip{fqdn[4]}.contoso.com"} for fqdn in _EDGES
             if draw(st.integers(min_value=0, max_value=2)) == 0]
    webs = []
    for identity in ["Global", *(f"site:{s}" for s in _SITES), *(f"service:WebServer:{p}" for p in _POOLS)]:
        if (identity != "Global" and draw(st.integers(min_value=0, max_value=2)) == 0) \
                or (identity == "Global" and not draw(st.integers(min_value=0, max_value=9))):
            continue
        windows = _value(draw, draw(st.sampled_from(["None", "none"])),
                         draw(st.sampled_from(["Negotiate", "NTLM", "ntlm"])), hardened)
        webs.append({"identity": identity if draw(st.booleans()) else identity.replace("site:", "Site:"),
                     "use_windows_auth": windows,
                     "use_certificate_auth": draw(st.sampled_from([True, False, None])),
                     "use_pin_auth": _value(draw, False, True, hardened),
                     "use_ws_fed_passive_auth": draw(st.sampled_from([True, False, None]))})
    proxies = []
    for identity in ["Global", *(f"service:EdgeServer:{e}" for e in _EDGES),
                     *(f"service:Registrar:{p}" for p in _POOLS)]:
        if (identity != "Global" and draw(st.integers(min_value=0, max_value=2)) == 0) \
                or (identity == "Global" and not draw(st.integers(min_value=0, max_value=9))):
            continue
        proxies.append({"identity": identity,
                        "use_ntlm_for_client_to_proxy_auth": _value(draw, False, True, hardened),
                        "use_kerberos_for_client_to_proxy_auth": _value(draw, False, True, hardened),
                        "use_certificate_for_client_to_proxy_auth": draw(st.sampled_from([True, False, None]))})
    doc: dict[str, Any] = {
        "format": "lync-auth-state/1", "collected_at": "2026-12-01T09:30:00Z", "product": "sfb2019",
        "sip_domains": ["contoso.com"], "pools": pools, "edge_pools": edges,
        "web_service_configurations": webs, "proxy_configurations": proxies,
        "mobility_policies": [{"identity": "Global", "allow_save_credentials": draw(st.booleans())},
                              *([{"identity": "site:Oslo", "allow_save_credentials": True}]
                                if draw(st.booleans()) else [])],
    }
    if draw(st.booleans()):
        doc["sites"] = list(_SITES)
    if draw(st.booleans()):
        doc["adfs"] = {"federation_service_name": "adfs.contoso.com",
                       "version": draw(st.sampled_from(["2012r2", "2016", "2019"])),
                       "web_application_proxy": draw(st.sampled_from([True, True, False, None])),
                       "relying_parties": []}
    return doc


@st.composite
def plans_with_sites(draw: st.DrawFn) -> dict[str, Any]:
    doc = draw(plans())
    for pool in doc["pools"]:
        site = draw(st.sampled_from([*_SITES, None]))
        if site is not None:
            pool["site"] = site
    return doc


# ---------------------------------------------------------------------------
# The oracle


class _Oracle:
    def __init__(self, plan: dict[str, Any], state: dict[str, Any]) -> None:
        self.plan, self.state = plan, state
        self.webs = {w["identity"].casefold(): w for w in state["web_service_configurations"]}
        self.proxies = {p["identity"].casefold(): p for p in state["proxy_configurations"]}
        self.topology = {p["fqdn"]: p for p in state["pools"]}
        self.plan_pools = {p["fqdn"]: p for p in plan["pools"]}
        adfs = plan.get("adfs") or {}
        wap = (state.get("adfs") or {}).get("web_application_proxy")
        extranet_seen = not adfs.get("published_on_reverse_proxy") and wap is not False
        self.adfs_password_alone = not (adfs.get("mfa") == "always" or (adfs.get("mfa") == "extranet" and extranet_seen))

    def _web(self, identity: str) -> dict[str, Any] | None:
        return self.webs.get(identity.casefold())

    def _today(self, fqdn: str) -> list[dict[str, Any] | None]:
        """The collections that may apply to a pool the plan leaves alone (None: no collection, all unknown)."""
        own = self._web(f"service:WebServer:{fqdn}")
        if own is not None:
            return [own]
        known = self.topology.get(fqdn)
        if known is None:
            sites = [self.plan_pools[fqdn].get("site")]
        elif known.get("site") is None:
            sites = [*_SITES, None]
        else:
            sites = [known["site"]]
        out = []
        for site in sites:
            found = self._web(f"site:{site}") if site else None
            out.append(found if found is not None else self._web("Global"))
        return out

    def _after(self, fqdn: str) -> list[dict[str, Any]]:
        """The settings of the pool's web services once the script has run (one dict per collection that may
        apply)."""
        pool = self.plan_pools.get(fqdn)
        auth = (pool or {}).get("auth")
        mode = (auth or {}).get("external")
        emits = auth is not None and (mode in ("passive", "tls_dsk") or not auth.get("certificate_auth", True)
                                      or auth.get("block_pin_auth"))
        if not emits:
            return [dict(w or {}) for w in self._today(fqdn)]
        assert pool is not None and auth is not None
        own = self._web(f"service:WebServer:{fqdn}")
        if own is not None:
            bases = [dict(own)]
        else:
            bases = []
            for parent in self._today(fqdn):
                base = {k: (parent or {}).get(k) for k in ("use_windows_auth", "use_pin_auth", "use_certificate_auth")}
                base["use_ws_fed_passive_auth"] = False
                bases.append(base)
        for base in bases:
            base["use_certificate_auth"] = auth.get("certificate_auth", True)
            if mode == "passive":
                base.update(use_windows_auth="None", use_pin_auth=False, use_ws_fed_passive_auth=True)
            if auth.get("block_pin_auth"):
                base["use_pin_auth"] = False
        return bases

    def _password_alone(self, web: dict[str, Any]) -> bool:
        windows = (web.get("use_windows_auth") or "Negotiate").casefold() != "none"
        pin = web.get("use_pin_auth") is not False
        passive = web.get("use_ws_fed_passive_auth") is not False
        return windows or pin or (passive and self.adfs_password_alone)

    def _pools(self) -> list[str]:
        """The pools of the topology and of the plan (a plan pool the topology lacks is taken as the plan says)."""
        return list(self.topology) + [fqdn for fqdn in self.plan_pools if fqdn not in self.topology]

    def _role(self, fqdn: str) -> str:
        known = self.plan_pools.get(fqdn) or self.topology.get(fqdn) or {}
        return known.get("role", "frontend")

    def _proxy(self, identity: str) -> dict[str, Any]:
        return self.proxies.get(identity.casefold()) or self.proxies.get("global") or {}

    def open_paths(self) -> list[str]:
        out = []
        pools = self._pools()
        issues = {}
        for fqdn in pools:
            afters = self._after(fqdn)
            if any(self._password_alone(w) for w in afters):
                out.append(f"web:{fqdn}")
            issues[fqdn] = any(w.get("use_certificate_auth") is not False and self._password_alone(w)
                               for w in afters)
        any_issue = any(issues.values())
        if not any(self._role(p) != "director" for p in pools):
            out.append("no Front End pool known")
        for fqdn in pools:
            auth = (self.plan_pools.get(fqdn) or {}).get("auth") or {}
            if auth.get("block_ntlm_at_registrar"):
                proxy = {"use_ntlm_for_client_to_proxy_auth": False, "use_kerberos_for_client_to_proxy_auth": False,
                         "use_certificate_for_client_to_proxy_auth": True}
            else:
                proxy = self._proxy(f"service:Registrar:{fqdn}")
            certificate = any_issue if self._role(fqdn) == "director" else issues[fqdn]
            if self._sip_open(proxy, certificate):
                out.append(f"registrar:{fqdn}")
        edges = {e["fqdn"]: e for e in self.state["edge_pools"]} | {e["fqdn"]: e for e in self.plan.get("edge_pools", [])}
        if not edges:
            out.append("no Edge known")
        for fqdn, edge in edges.items():
            if edge.get("block_ntlm"):
                continue
            if self._sip_open(self._proxy(f"service:EdgeServer:{fqdn}"), any_issue):
                out.append(f"edge:{fqdn}")
        if self.adfs_password_alone:
            out.append("adfs")
        return out

    @staticmethod
    def _sip_open(proxy: dict[str, Any], certificate_by_password: bool) -> bool:
        return (proxy.get("use_ntlm_for_client_to_proxy_auth") is not False
                or proxy.get("use_kerberos_for_client_to_proxy_auth") is not False
                or (proxy.get("use_certificate_for_client_to_proxy_auth") is not False and certificate_by_password))


def oracle_open_paths(plan: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """Return the Internet paths where a password alone signs in (or may) once the plan has run."""
    return _Oracle(plan, state).open_paths()


def check(plan_doc: dict[str, Any], state_doc: dict[str, Any]) -> None:
    estate, read = read_state(copy.deepcopy(state_doc))
    assert estate is not None, [(f.field, f.code) for f in read if f.severity == "error"]
    plan, findings = assess(copy.deepcopy(plan_doc), estate=estate)
    assert plan is not None
    if not mfa_promised(plan):
        event("no MFA promised")
        return
    if [f for f in findings if f.severity == "error"]:
        event("refused")
        return
    event("MFA promised, not refused: oracle checked")
    assert oracle_open_paths(plan_doc, state_doc) == []


@_PROPERTY
@given(plans_with_sites(), states())
def test_a_plan_not_refused_with_a_state_leaves_no_password_only_path(plan_doc: dict[str, Any],
                                                                      state_doc: dict[str, Any]) -> None:
    check(plan_doc, state_doc)


# ---------------------------------------------------------------------------
# What the property found, as plain tests


def _state(pools: list[dict[str, Any]], webs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": "lync-auth-state/1", "collected_at": "2026-12-01T09:30:00Z", "product": "sfb2019",
            "sip_domains": ["contoso.com"], "pools": pools,
            "edge_pools": [{"fqdn": "edge0.contoso.com", "access_fqdn": "sip.contoso.com"}],
            "web_service_configurations": webs,
            "proxy_configurations": [{"identity": "Global", "use_ntlm_for_client_to_proxy_auth": False,
                                      "use_kerberos_for_client_to_proxy_auth": False,
                                      "use_certificate_for_client_to_proxy_auth": True}]}


_OPEN_GLOBAL = {"identity": "Global", "use_windows_auth": "Negotiate", "use_certificate_auth": True,
                "use_pin_auth": True, "use_ws_fed_passive_auth": False}
_CLOSED_SITE = {"identity": "site:Oslo", "use_windows_auth": "None", "use_certificate_auth": True,
                "use_pin_auth": False, "use_ws_fed_passive_auth": False}


def _plan(first: dict[str, Any]) -> dict[str, Any]:
    return {"format": "lync-auth-plan/1", "name": "x", "sip_domains": ["contoso.com"], "product": "sfb2019",
            "pools": [first,
                      {"fqdn": "pool1.contoso.com", "role": "frontend", "site": "Oslo",
                       "external_web_fqdn": "web1.contoso.com",
                       "auth": {"external": "passive", "certificate_auth": True, "block_ntlm_at_registrar": True}}],
            "edge_pools": [{"fqdn": "edge0.contoso.com", "access_fqdn": "sip.contoso.com", "block_ntlm": True}],
            "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2016", "mfa": "always",
                     "published_on_reverse_proxy": False}}


def _errors(plan_doc: dict[str, Any], state_doc: dict[str, Any]) -> set[tuple[str, str]]:
    estate, _ = read_state(copy.deepcopy(state_doc))
    _, findings = assess(copy.deepcopy(plan_doc), estate=estate)
    return {(f.code, f.field) for f in findings if f.severity == "error"}


def test_a_pool_without_a_site_in_the_plan_gets_a_collection_copied_from_its_topology_site() -> None:
    # The topology puts pool0 in Oslo, where Windows authentication and PIN are off; the plan names no site (or
    # another one). The service collection the script creates for its TLS-DSK mode copies UseWindowsAuth from
    # site:Oslo, the collection that applies today (the script reads the site from the topology): Windows
    # authentication stays off and nothing is refused. (The script copied Global here before, and the model
    # refused the plan for it: tests/test_new_collection_inherits.py runs the script.)
    plan_doc = _plan({"fqdn": "pool0.contoso.com", "role": "frontend", "external_web_fqdn": "web0.contoso.com",
                      "auth": {"external": "tls_dsk", "certificate_auth": True, "block_ntlm_at_registrar": True,
                               "block_pin_auth": True}})
    state_doc = _state([{"fqdn": "pool0.contoso.com", "role": "frontend", "site": "Oslo"},
                        {"fqdn": "pool1.contoso.com", "role": "frontend", "site": "Oslo"}],
                       [_OPEN_GLOBAL, _CLOSED_SITE])
    assert oracle_open_paths(plan_doc, state_doc) == []
    assert _errors(plan_doc, state_doc) == set()
    plan_doc["pools"][0]["site"] = "Bergen"
    assert oracle_open_paths(plan_doc, state_doc) == []
    assert _errors(plan_doc, state_doc) == set()
    # In the topology's Bergen instead, where Global applies (no site:Bergen), Windows authentication is open.
    state_doc["pools"][0]["site"] = "Bergen"
    plan_doc["pools"][0]["site"] = "Oslo"
    assert oracle_open_paths(plan_doc, state_doc)
    assert ("mfa_web_password_open", "pools[0].auth.external") in _errors(plan_doc, state_doc)


def test_a_pool_whose_site_the_state_file_does_not_report_may_take_any_site_collection() -> None:
    # pool2 is only in the estate, its site not reported (null): Global has PIN off, but site:Bergen has it on,
    # and pool2 may well be in Bergen.
    plan_doc = _plan({"fqdn": "pool0.contoso.com", "role": "frontend", "site": "Oslo",
                      "external_web_fqdn": "web0.contoso.com",
                      "auth": {"external": "passive", "certificate_auth": True, "block_ntlm_at_registrar": True}})
    plan_doc["pools"].pop()
    closed_global = {**_OPEN_GLOBAL, "use_windows_auth": "None", "use_pin_auth": False}
    bergen = {**_CLOSED_SITE, "identity": "site:Bergen", "use_pin_auth": True}
    state_doc = _state([{"fqdn": "pool2.contoso.com", "role": "frontend", "site": None}], [closed_global, bergen])
    assert oracle_open_paths(plan_doc, state_doc)
    assert ("mfa_web_password_open", "pools") in _errors(plan_doc, state_doc)
    # With the site reported as one whose collection is closed (or none), nothing is left open.
    state_doc["pools"][0]["site"] = "Oslo"
    assert oracle_open_paths(plan_doc, state_doc) == []
    assert _errors(plan_doc, state_doc) == set()
