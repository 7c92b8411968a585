"""Property: whatever the plan and whatever the configuration before the change, the default rollback puts
the configuration back exactly as it was, after any of: one change, a change run twice, a -WhatIf run then
the change, or a change that fails at its n-th changing call (then either re-run and rolled back, or rolled
back by naming the failed run's folder).

The plans are drawn over what the scripts branch on: product, one or two pools (Front End or Director, with
a site or not) in passive, TLS-DSK or NTLM mode (or none), certificate authentication, client certificate
lifetimes, block_pin_auth, block_ntlm_at_registrar, an Edge pool with block_ntlm or not, mobility policies
at global, site and tag scope, the AD FS version and MFA, and Modern Authentication (scenario or not) where
the plan allows it. The store before the change is drawn too: each collection the plan touches missing or
present with values of its own, the site and global collections a new collection copies from, objects the
plan does not name, and AD FS trusts that exist by the plan's name and identifier (with rules, policies and
more identifiers of their own) or not at all.

The scripts run in tests/psmini.py against the fakes of tests/psfakes.py, through the Site helper of
tests/test_rollback_runs.py.
"""
from __future__ import annotations

import copy
import json
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from tests.psfakes import AUTH_SCENARIOS, FakeAdfs, FakeLync
from tests.test_rollback_runs import Site
from wizard.plan.findings import check_plan, may_accept
from wizard.plan.model import ACCESS_CONTROL_POLICIES, passive_metadata_url
from wizard.plan.reader import read_plan
from wizard.scripts.bundle import Bundle, PlanRejected, Source, build_bundle

_PROPERTY = settings(max_examples=40, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.filter_too_much])

PRODUCTS = ("lync2013", "sfb2015", "sfb2019", "sfbse")
SITES = ("Dublin", "Oslo")
FSN = "adfs.contoso.com"
MOBILITY_KEYS = ("enable_mobility", "enable_outside_voice", "allow_save_credentials", "allow_exchange_connectivity",
                 "allow_save_im_history", "require_wifi_for_ip_video")
SCENARIOS = ("allow_all", "block_windows_auth_externally", "block_windows_auth_externally_and_internally",
             "block_windows_auth_externally_and_modern_auth_internally", "block_modern_auth_internally")
# How a run sequence ends in a rollback: (what runs before the rollback, whether the rollback names a folder).
SEQUENCES = ("once", "twice", "whatif-then-real", "fail-then-rerun", "fail-then-named-rollback",
             "rolled-back-then-again")


# ---------------------------------------------------------------------------
# Plans


@st.composite
def plan_docs(draw: st.DrawFn, *, need_adfs: bool = False, need_modern: bool = False) -> dict[str, Any]:
    product = draw(st.sampled_from(PRODUCTS[1:] if need_modern else PRODUCTS))
    pools = []
    for i in range(draw(st.integers(1, 2))):
        pool: dict[str, Any] = {"fqdn": f"pool{i}.contoso.com", "role": draw(st.sampled_from(["frontend", "director"])),
                                "external_web_fqdn": f"web{i}.contoso.com"}
        if draw(st.booleans()):
            pool["site"] = draw(st.sampled_from(SITES))
        if draw(st.booleans()):
            pool["internal_web_fqdn"] = f"int{i}.contoso.com"
        mode = "passive" if need_adfs and i == 0 else draw(st.sampled_from(["passive", "tls_dsk", "ntlm", None]))
        if mode is not None:
            auth: dict[str, Any] = {"external": mode}
            if mode != "tls_dsk" and draw(st.booleans()):
                auth["certificate_auth"] = False
            if draw(st.booleans()):
                low = draw(st.sampled_from([8, 24]))
                high = draw(st.sampled_from([720, 4320]))
                auth["client_certificate_hours"] = {"default": high, "min": low, "max": high}
            if mode != "ntlm" and draw(st.booleans()):
                auth["block_ntlm_at_registrar"] = True
            if draw(st.booleans()):
                auth["block_pin_auth"] = True
            pool["auth"] = auth
        pools.append(pool)
    doc: dict[str, Any] = {"format": "lync-auth-plan/1", "name": "property", "product": product,
                           "sip_domains": ["contoso.com"], "pools": pools}
    if draw(st.booleans()):
        doc["edge_pools"] = [{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com",
                              "block_ntlm": draw(st.booleans())}]
    passive = any((p.get("auth") or {}).get("external") == "passive" for p in pools)
    modern = need_modern or draw(st.booleans()) if product != "lync2013" else need_modern
    if passive or need_adfs or modern or draw(st.booleans()):
        version = draw(st.sampled_from(["2012r2", "2016", "2019", "2022"] if modern else
                                       ["2.0", "2012r2", "2016", "2019", "2022"]))
        mfa = "none" if version == "2.0" else draw(st.sampled_from(["none", "extranet", "always"]))
        doc["adfs"] = {"federation_service_name": FSN, "version": version, "mfa": mfa}
    if modern and "adfs" in doc:
        ma: dict[str, Any] = {}
        if draw(st.booleans()):
            ma["scenario"] = draw(st.sampled_from(SCENARIOS))
        doc["modern_auth"] = ma
    policies = []
    for identity in draw(st.lists(st.sampled_from(["Global", "site:Dublin", "Tag:Sales"]), unique=True, max_size=3)):
        policy: dict[str, Any] = {"identity": identity}
        for key in draw(st.lists(st.sampled_from(MOBILITY_KEYS), unique=True, max_size=3)):
            policy[key] = draw(st.booleans())
        policies.append(policy)
    if policies:
        doc["mobility_policies"] = policies
    return doc


def accepted(doc: dict[str, Any]) -> dict[str, Any] | None:
    """Return `doc` with every error a plan may accept accepted, or None when the plan is refused anyway."""
    plan, _ = read_plan(copy.deepcopy(doc))
    if plan is None:
        return None
    risks = [{"code": f.code, "field": f.field, "reason": "property test"} for f in check_plan(plan) if may_accept(f)]
    if risks:
        doc = {**doc, "accepted_risks": risks}
    return doc


@lru_cache(maxsize=256)
def _bundle(text: str) -> Bundle | None:
    plan, _ = read_plan(json.loads(text))
    if plan is None:
        return None
    try:
        return build_bundle(plan, source=Source.for_plan(plan))
    except (PlanRejected, ValueError):
        return None


def bundle_of(doc: dict[str, Any]) -> Bundle | None:
    done = accepted(doc)
    return None if done is None else _bundle(json.dumps(done, sort_keys=True))


# ---------------------------------------------------------------------------
# Starting stores


def _web_values(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "UseWsFedPassiveAuth": draw(st.booleans()),
        "WsFedPassiveMetadataUri": draw(st.sampled_from([None, "https://old.contoso.com/FederationMetadata/2007-06/"
                                                                "FederationMetadata.xml"])),
        "UseWindowsAuth": draw(st.sampled_from(["Negotiate", "NTLM", "Kerberos", "None"])),
        "UseCertificateAuth": draw(st.booleans()), "UsePinAuth": draw(st.booleans()),
        "DefaultValidityPeriodHours": draw(st.sampled_from([4320, 2000, 100])),
        "MinValidityPeriodHours": draw(st.sampled_from([8, 16])),
        "MaxValidityPeriodHours": draw(st.sampled_from([8760, 3000])),
        "AllowAnonymousAccessToLWAConference": draw(st.booleans()),
        "MaxGroupSizeToExpand": draw(st.sampled_from([100, 25])),
        "OverrideAuthTypeForExternalClients": draw(st.sampled_from([None, "DisableWindowsAuth"])),
        "OverrideAuthTypeForInternalClients": draw(st.sampled_from([None, "DisableNTLM"])),
    }


def _proxy_values(draw: st.DrawFn) -> dict[str, Any]:
    return {name: draw(st.booleans()) for name in ("UseKerberosForClientToProxyAuth", "UseNtlmForClientToProxyAuth",
                                                   "UseCertificateForClientToProxyAuth", "TreatAllClientsAsRemote")}


def _mobility_values(draw: st.DrawFn) -> dict[str, Any]:
    return {name: draw(st.booleans()) for name in ("EnableMobility", "EnableOutsideVoice", "AllowSaveCredentials",
                                                   "AllowExchangeConnectivity", "AllowSaveIMHistory",
                                                   "RequireWIFIForIPVideo")}


@st.composite
def lync_stores(draw: st.DrawFn, b: Bundle) -> FakeLync:
    plan = b.plan
    fqdns = tuple(p.fqdn for p in plan.pools) + tuple(e.fqdn for e in plan.edge_pools)
    services = {"UserServer": tuple(p.fqdn for p in plan.pools if p.role == "frontend"),
                "Director": tuple(p.fqdn for p in plan.pools if p.role == "director")}
    metadata = {plan.adfs.metadata_url: f"http://{FSN}/adfs/services/trust"} if plan.adfs else {}
    version = {"lync2013": "Lync Server 2013 (5.0.8308.0)", "sfb2015": "Skype for Business Server 2015 (6.0.9319.0)",
               "sfb2019": "Skype for Business Server 2019 (7.0.2046.0)",
               "sfbse": "Skype for Business Server Subscription Edition (7.0.2046.820)"}[plan.product]
    store = FakeLync(module="Lync" if plan.product == "lync2013" else "SkypeForBusiness", pools=fqdns, sites=SITES,
                     version=version, metadata=metadata, services=services,
                     pool_sites={p.fqdn: p.site for p in plan.pools if p.site})
    web = store.collections["CsWebServiceConfiguration"]
    proxy = store.collections["CsProxyConfiguration"]
    mobility = store.collections["CsMobilityPolicy"]
    # The global collections (always there) with values of their own.
    web.items["Global"].update(_web_values(draw))
    proxy.items["Global"].update(_proxy_values(draw))
    mobility.items["Global"].update(_mobility_values(draw))
    # Each collection the plan may touch, its parents, and one the plan never names: missing or with values.
    web_ids = [f"service:WebServer:{f}" for f in fqdns] + [f"site:{s}" for s in SITES] + ["service:WebServer:x.contoso.com"]
    proxy_ids = ([f"service:Registrar:{p.fqdn}" for p in plan.pools] + [f"service:EdgeServer:{e.fqdn}" for e in
                 plan.edge_pools] + ["service:Registrar:x.contoso.com"])
    mobility_ids = ["site:Dublin", "Tag:Sales", "Tag:Other"]
    for ids, coll, values in ((web_ids, web, _web_values), (proxy_ids, proxy, _proxy_values),
                              (mobility_ids, mobility, _mobility_values)):
        for identity in ids:
            if draw(st.booleans()):
                coll.items[identity] = {**coll.defaults, **values(draw)}
    if plan.modern_auth is not None:
        identity = plan.oauth_server_identity
        if draw(st.booleans()):
            store.collections["CsOAuthServer"].items[identity] = {
                "MetadataUrl": "https://old.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml",
                "Type": "ADFS", "AcceptSecurityIdentifierInformation": draw(st.booleans()), "Realm": None,
                "AuthorizationUriOverride": None}
        if draw(st.booleans()):
            store.collections["CsOAuthServer"].items["other.contoso.com"] = {
                "MetadataUrl": "https://other.contoso.com/m.xml", "Type": "ADFS",
                "AcceptSecurityIdentifierInformation": False, "Realm": None, "AuthorizationUriOverride": None}
        store.collections["CsOAuthConfiguration"].items["Global"]["ClientAuthorizationOAuthServerIdentity"] = draw(
            st.sampled_from([None, "old.contoso.com"]))
        # Custom is left out: the rollback says it cannot set it back (documented).
        store.auth_scenario = draw(st.sampled_from([s for s in AUTH_SCENARIOS if s != "Custom"]))
    return store


def _trust(draw: st.DrawFn, identifiers: list[str], *, acp: bool, parameters: bool = False) -> dict[str, Any]:
    """A trust as the farm has it; with `parameters`, its access control policy may take a group."""
    policy = draw(st.sampled_from([None, *ACCESS_CONTROL_POLICIES.values(), "Permit specific group"])) if acp else None
    given = draw(st.sampled_from([None, ["CONTOSO\\Lync users"]])) if policy and parameters else None
    return {"MetadataUrl": None, "AccessControlPolicyName": policy, "AccessControlPolicyParameters": given,
            "IssuanceAuthorizationRules": "" if policy else draw(st.sampled_from(["", "old authorization"])),
            "IssuanceTransformRules": draw(st.sampled_from(["", "old transform"])),
            "AdditionalAuthenticationRules": draw(st.sampled_from(["", "old mfa rule"])), "Identifier": identifiers}


def _entity(url: str) -> str:
    return url.split("/federationmetadata/")[0] + "/"


@st.composite
def adfs_stores(draw: st.DrawFn, b: Bundle) -> FakeAdfs:
    plan = b.plan
    acp = plan.adfs.version in ("2016", "2019", "2022")
    rps = []
    for pool in plan.pools:
        if pool.auth is None or pool.auth.external.value != "passive":
            continue
        names = pool.rp_names
        rps.append((names.internal, passive_metadata_url(pool.internal_web)))
        if pool.external_web_fqdn:
            rps.append((names.external, passive_metadata_url(pool.external_web_fqdn)))
    store = FakeAdfs(host_name=FSN, policies=tuple(ACCESS_CONTROL_POLICIES.values()),
                     metadata={url: _entity(url) for _, url in rps})
    for name, url in rps:
        if draw(st.booleans()):
            # Identifiers are unique in a farm (MSIS7612): one of its own, named after the trust.
            extra = [f"https://{name.lower()}.extra.contoso.com/"] if draw(st.booleans()) else []
            ids = draw(st.permutations([_entity(url), *extra]))
            store.trusts[name] = _trust(draw, list(ids), acp=acp, parameters=True)
    if draw(st.booleans()):
        store.trusts["Unrelated"] = _trust(draw, ["https://unrelated.contoso.com/"], acp=acp, parameters=True)
    return store


@st.composite
def oauth_stores(draw: st.DrawFn, b: Bundle) -> FakeAdfs:
    plan = b.plan
    web_api = plan.adfs.version in ("2016", "2019", "2022")
    store = FakeAdfs(host_name=FSN, policies=tuple(ACCESS_CONTROL_POLICIES.values()), web_api=web_api,
                     setup_makes_web_api=web_api and draw(st.booleans()))
    ids = []
    for pool in plan.pools:
        for name in (pool.internal_web, pool.external_web_fqdn):
            if name and f"https://{name}" not in ids:
                ids.append(f"https://{name}")
    if draw(st.booleans()):
        # An earlier setup made the trust with some of the pools' URLs (and maybe one of its own).
        held = draw(st.lists(st.sampled_from(ids), unique=True, min_size=1))
        extra = ["https://old.contoso.com"] if draw(st.booleans()) else []
        trust = _trust(draw, [*held, *extra], acp=web_api, parameters=True)
        if web_api and draw(st.booleans()):
            store.web_apis["Skype for Business Server"] = {**trust, "ApplicationGroupIdentifier": "Skype for Business"}
        else:
            store.trusts["Skype for Business Server"] = trust
    if draw(st.booleans()):
        store.trusts["Unrelated"] = _trust(draw, ["https://unrelated.contoso.com/"], acp=web_api, parameters=True)
    return store


# ---------------------------------------------------------------------------
# Running


def run_sequence(site: Site, sequence: str, fail_at: int) -> tuple[dict[str, Any], list[str]]:
    """Run `sequence` of changes then the rollback; return the store after it and what happened (for the report)."""
    log: list[str] = []
    if sequence == "rolled-back-then-again":
        # A first change and its rollback: the second chain must start from the restored store, not the first backup.
        log.append(f"first change: {site.run_change().error}")
        first = site.run_rollback()
        log.append(f"first rollback: {first.error}")
    if sequence == "whatif-then-real":
        outcome = site.run_change(whatif=True)
        log.append(f"whatif: {outcome.error}")
    if sequence.startswith("fail"):
        outcome = site.run_change(fail_at=fail_at)
        log.append(f"fail_at {fail_at}: {outcome.error}")
        if outcome.ok:
            sequence = "once-done"     # fewer changing calls than fail_at: it completed
        elif "simulated failure" not in (outcome.error or ""):
            return site.store.state(), log   # refused before its first change
        elif sequence == "fail-then-named-rollback":
            rolled = site.run_rollback(site.runs()[-1])
            log.append(f"named rollback: {rolled.error}")
            # A run that failed at its first change saved nothing it changed: that rollback refuses, rightly.
            assert rolled.ok or (rolled.error or "").startswith("Nothing to roll back: the run saved nothing"), log
            return site.store.state(), log
    if sequence != "once-done":
        outcome = site.run_change()
        log.append(f"change: {outcome.error}")
        if not outcome.ok:
            return site.store.state(), log
    if sequence == "twice":
        outcome = site.run_change()
        log.append(f"change again: {outcome.error}")
        assert outcome.ok, (outcome.error, log)
    rolled = site.run_rollback()
    log.append(f"rollback: {rolled.error}")
    assert rolled.ok, (rolled.error, log)
    return site.store.state(), log


def check(texts: dict[str, str], store: Any, change: str, rollback: str, sequence: str, fail_at: int,
          setup_script: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if setup_script:
            (folder / setup_script).write_text("# Microsoft's script\n", encoding="utf-8")
        site = Site(folder, texts, store, change, rollback)
        before = copy.deepcopy(store.state())
        after, log = run_sequence(site, sequence, fail_at)
        event(f"{change}: {sequence}")
        assert after == before, (log, differences(before, after))


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Return each object the rollback left otherwise than it was, and how."""
    out = []
    for noun in sorted(set(before) | set(after)):
        was, now = before.get(noun), after.get(noun)
        if not isinstance(was, dict) or not isinstance(now, dict):
            if was != now:
                out.append(f"{noun}: {was!r} -> {now!r}")
            continue
        for identity in sorted(set(was) | set(now)):
            if identity not in now:
                out.append(f"{noun} {identity}: removed")
            elif identity not in was:
                out.append(f"{noun} {identity}: left behind")
            else:
                out += [f"{noun} {identity}.{k}: {was[identity].get(k)!r} -> {now[identity].get(k)!r}"
                        for k in sorted(set(was[identity]) | set(now[identity]))
                        if was[identity].get(k) != now[identity].get(k)]
    return out


sequences = st.sampled_from(SEQUENCES)
fail_steps = st.integers(1, 8)


@_PROPERTY
@given(data=st.data(), doc=plan_docs(), sequence=sequences, fail_at=fail_steps)
def test_the_lync_rollback_restores_any_starting_store(data: st.DataObject, doc: dict[str, Any], sequence: str,
                                                      fail_at: int) -> None:
    b = bundle_of(doc)
    assume(b is not None and "lync-management-shell.ps1" in b.texts)
    store = data.draw(lync_stores(b))
    check(b.texts, store, "lync-management-shell.ps1", "rollback-lync.ps1", sequence, fail_at)


@_PROPERTY
@given(data=st.data(), doc=plan_docs(need_adfs=True), sequence=sequences, fail_at=fail_steps)
def test_the_adfs_rollback_restores_any_starting_trusts(data: st.DataObject, doc: dict[str, Any], sequence: str,
                                                        fail_at: int) -> None:
    b = bundle_of(doc)
    assume(b is not None and "adfs-server.ps1" in b.texts)
    store = data.draw(adfs_stores(b))
    check(b.texts, store, "adfs-server.ps1", "rollback-adfs.ps1", sequence, fail_at)


@_PROPERTY
@given(data=st.data(), doc=plan_docs(need_modern=True), sequence=sequences, fail_at=fail_steps)
def test_the_modern_auth_rollback_restores_any_starting_trust(data: st.DataObject, doc: dict[str, Any],
                                                              sequence: str, fail_at: int) -> None:
    b = bundle_of(doc)
    assume(b is not None and "adfs-modern-auth.ps1" in b.texts)
    store = data.draw(oauth_stores(b))
    setup = "Setup-AdfsOAuthTrustForSfB.ps1" if b.plan.adfs.version == "2012r2" else "Setup-Adfs2016OAuthTrustForSfB.ps1"
    check(b.texts, store, "adfs-modern-auth.ps1", "rollback-adfs-modern-auth.ps1", sequence, fail_at, setup)
