"""The network files, the findings and the runbook say the same thing (issue 13, third part):
discovery, the `_sip._tls` target, an Edge with one name for several services, split-brain DNS
and same-name publishing, the runbook's order and wording, and the client advice for passive pools."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import pytest

from tests.test_verify_tables import script_checks
from wizard.plan import network, publishing
from wizard.plan.findings import check_plan
from wizard.plan.impact import client_impact
from wizard.plan.reader import read_plan
from wizard.scripts.artifacts import network as network_artifacts
from wizard.scripts.bundle import Bundle, Source, build_bundle

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
EXAMPLES = sorted(FIXTURES.glob("*.json"))
DOCS = Path(__file__).parent.parent / "docs"


def doc_of(name: str = "multi-domain-director-idn") -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def plan_of(doc: dict):
    plan, findings = read_plan(doc)
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return plan


def render(doc: dict) -> Bundle:
    plan = plan_of(doc)
    return build_bundle(plan, source=Source.for_plan(plan))


@lru_cache(maxsize=16)
def fixture_bundle(name: str) -> Bundle:
    return render(doc_of(name))


def _variants() -> list[tuple[str, dict]]:
    """The fixtures, and the fixture with the Director not passive and with every pool passive."""
    out = [(p.stem, doc_of(p.stem)) for p in EXAMPLES]
    director_tls = doc_of()
    director_tls["pools"][1]["auth"] = {"external": "tls_dsk"}
    director_tls["pools"][1].pop("relying_parties")
    # Nobody signs in through AD FS any more: MFA would be a promise nobody meets (refused).
    director_tls["adfs"]["mfa"] = "none"
    out.append(("director-tls-dsk", director_tls))
    return out


# ---------------------------------------------------------------------------
# Discovery


@pytest.mark.parametrize(("name", "doc"), _variants(), ids=[n for n, _ in _variants()])
def test_discovery_is_the_same_pool_in_the_dns_table_the_arr_rules_and_the_findings(name, doc):
    plan = plan_of(doc)
    if not publishing.has_reverse_proxy(plan):
        return
    target = publishing.discovery_pool(plan)
    bundle = render(doc)
    dns = bundle.texts["dns-records.md"]
    arr = ET.fromstring(bundle.texts["reverse-proxy-arr.config"].encode("utf-8"))
    for domain in plan.sip_domains:
        host = f"lyncdiscover.{domain}"
        # dns-records.md: the record leads to the discovery pool's external name and says which pool.
        row = next(line for line in dns.splitlines() if line.startswith(f"| {host} "))
        assert target.fqdn in row, row
        if target.external_web_fqdn:
            assert f"| CNAME | {target.external_web_fqdn} |" in row
        # The ARR rules forward that name to the same pool.
        for rule in arr.findall("./rules/rule"):
            conditions = {c.get("input"): c.get("pattern") for c in rule.findall("./conditions/add")}
            if conditions["{HTTP_HOST}"] == publishing.host_pattern(host):
                url = rule.find("./action").get("url")
                assert re.match(rf"https?://{re.escape(target.internal_web)}:(4443|8080)/", url), url
    # The finding that advises where discovery goes names the same pool.
    advice = [f for f in bundle.findings if f.code == "passive_dns_discovery"]
    passive = [p for p in plan.pools if p.auth and p.auth.external == "passive"]
    if passive and target not in passive:
        [finding] = advice
        assert finding.message.startswith(f"Discovery leads to {target.fqdn},")
        assert finding.field == f"pools[{plan.pools.index(target)}].fqdn"
    else:
        assert not advice


@pytest.mark.parametrize(("name", "doc"), _variants(), ids=[n for n, _ in _variants()])
def test_sip_tls_points_at_the_access_edge_never_at_a_pool(name, doc):
    plan = plan_of(doc)
    pool_names = {p.fqdn for p in plan.pools} | {p.internal_web for p in plan.pools} | \
        {p.external_web_fqdn for p in plan.pools if p.external_web_fqdn}
    records = publishing.dns_records(plan)
    by_name = {(r.name, r.type): r for r in records if r.view == publishing.EXTERNAL}
    edge = publishing.access_edge(plan)
    for record in records:
        if record.name.startswith("_sip._tls."):
            assert record.target not in pool_names
            assert edge is not None and record.target in {edge.access_fqdn, f"sip.{record.sip_domain}"}
            a_record = by_name.get((record.target, "A"))
            assert a_record is not None and "Access Edge" in a_record.purpose
    for finding in check_plan(plan):
        assert not re.search(r"_sip\._tls[^.]*\.[^ ]* at [a-z0-9.-]+(pool|dir)", finding.message), finding.message
    texts = render(doc).texts
    assert "never at a pool" in texts["dns-records.md"]


# ---------------------------------------------------------------------------
# One name for several Edge services


def single_name_doc() -> dict:
    doc = doc_of()
    doc["edge_pools"][0].update(access_fqdn="edge.contoso.com", webconf_fqdn="edge.contoso.com",
                                av_fqdn="edge.contoso.com")
    return doc


def test_one_name_for_access_web_conferencing_and_av_gets_distinct_ports():
    edge = plan_of(single_name_doc()).edge_pools[0]
    ports = {(listener.role, listener.port) for listener in publishing.edge_listeners(edge)}
    assert ports == {("access", 5061), ("webconf", 444), ("av", 443)}


@pytest.mark.parametrize(("names", "expected"), [
    (("a.contoso.com", "w.contoso.com", "v.contoso.com"), {"access": 443, "webconf": 443, "av": 443}),
    (("a.contoso.com", "a.contoso.com", "v.contoso.com"), {"access": 443, "webconf": 444, "av": 443}),
    (("a.contoso.com", "w.contoso.com", "a.contoso.com"), {"access": 5061, "webconf": 443, "av": 443}),
    (("a.contoso.com", "w.contoso.com", "w.contoso.com"), {"access": 443, "webconf": 444, "av": 443}),
])
def test_services_sharing_a_name_never_share_a_port(names, expected):
    doc = doc_of()
    doc["edge_pools"][0].update(access_fqdn=names[0], webconf_fqdn=names[1], av_fqdn=names[2])
    listeners = publishing.edge_listeners(plan_of(doc).edge_pools[0])
    assert {listener.role: listener.port for listener in listeners} == expected
    assert len({(listener.fqdn, listener.port) for listener in listeners}) == 3


def test_one_edge_name_has_one_a_record_and_the_srv_carries_the_access_port():
    plan = plan_of(single_name_doc())
    external = [r for r in publishing.dns_records(plan) if r.view == publishing.EXTERNAL]
    edge_records = [r for r in external if r.name == "edge.contoso.com"]
    assert len(edge_records) == 1 and edge_records[0].type == "A"
    assert "port 5061" in edge_records[0].purpose and "port 444" in edge_records[0].purpose
    for srv in (r for r in external if r.type == "SRV"):
        assert srv.port == 5061 and srv.value.startswith("0 0 5061 ")
    assert any("5061" in note and "444" in note for note in network.network_notes(plan))


def test_verification_checks_each_edge_service_on_its_own_listener():
    plan = plan_of(single_name_doc())
    ctx = network_artifacts.verify_external_context(plan)
    ports = {(p["name"], p["port"]) for p in ctx["ports"]}
    assert {("edge.contoso.com", 5061), ("edge.contoso.com", 444), ("edge.contoso.com", 443)} <= ports
    tls = {(t["name"], t["port"]) for t in ctx["tls"] if t["certificate"].startswith("Edge")}
    # Access (and every sip.<domain>) on 5061, Web Conferencing on 444, A/V (443) never: it has no certificate name.
    assert tls == {("edge.contoso.com", 5061), ("edge.contoso.com", 444), ("sip.contoso.com", 5061),
                   ("sip.fabrikam.com", 5061), ("sip.xn--bcher-kva.example", 5061)}
    srv = [d for d in ctx["dns"] if d["type"] == "SRV"]
    assert srv and all(d["port"] == 5061 for d in srv)
    script = render(single_name_doc()).texts["verify-external.ps1"]
    assert {"Name": "edge.contoso.com", "Port": 5061, "Certificate": "Edge external (sfbedge.contoso.com)"} \
        in script_checks(script, "TlsChecks")


def test_sip_tls_srv_carries_the_port_of_the_access_edge_it_reaches():
    """A second Edge pool whose one name (Access, Web Conferencing and A/V) is sip.<domain>: _sip._tls.<domain>
    leads to that pool, whose Access Edge listens on 5061 (443 is its A/V Edge), so the SRV record says 5061."""
    doc = doc_of()
    doc["edge_pools"].append({"fqdn": "sfbedge2.contoso.com", "access_fqdn": "sip.fabrikam.com",
                              "webconf_fqdn": "sip.fabrikam.com", "av_fqdn": "sip.fabrikam.com"})
    plan = plan_of(doc)
    srv = {r.name: r for r in publishing.dns_records(plan) if r.type == "SRV" and r.view == publishing.EXTERNAL}
    assert (srv["_sip._tls.fabrikam.com"].target, srv["_sip._tls.fabrikam.com"].port) == ("sip.fabrikam.com", 5061)
    assert (srv["_sip._tls.contoso.com"].target, srv["_sip._tls.contoso.com"].port) == ("sip.contoso.com", 443)
    # The TLS checks test sip.fabrikam.com on that pool's listeners (Access 5061, Web Conferencing 444), under
    # its certificate, and never on 443 (its A/V Edge) as a name of the first pool's certificate.
    tls = [c for c in network_artifacts.verify_external_context(plan)["tls"] if c["name"] == "sip.fabrikam.com"]
    assert {(c["port"], c["certificate"]) for c in tls} == {(5061, "Edge external (sfbedge2.contoso.com)"),
                                                            (444, "Edge external (sfbedge2.contoso.com)")}


def test_separate_edge_names_keep_443_everywhere():
    ctx = network_artifacts.verify_external_context(plan_of(doc_of()))
    edge_ports = {p["port"] for p in ctx["ports"] if p["name"] in ("sip.contoso.com", "webconf.contoso.com",
                                                                   "av.contoso.com")}
    assert edge_ports == {443}


# ---------------------------------------------------------------------------
# Split-brain DNS and names published under their own name


def test_split_brain_advice_never_sends_the_external_web_name_to_the_internal_site():
    for path in EXAMPLES:
        bundle = fixture_bundle(path.stem)
        dns = bundle.texts["dns-records.md"]
        assert "or to\nthe pool's internal web services" not in dns
        assert "never to\na pool's internal web site" in dns
        notes = " ".join(network.network_notes(bundle.plan))
        assert "internal web services" not in notes or "never to a pool's internal web site" in notes


def _split_brain_advice(text: str) -> str:
    """Return the names the split-brain advice sends to the reverse proxy (up to "to the reverse proxy")."""
    flat = " ".join(text.split())
    start = flat.index("With split-brain DNS")
    return flat[start:flat.index("to the reverse proxy", start)]


def test_split_brain_advice_agrees_with_the_internal_dns_table():
    """The internal table sends the simple URLs to a pool's internal web services: the split-brain advice
    next to it must not tell the admin to point them at the reverse proxy instead."""
    checked = 0
    for path in EXAMPLES:
        bundle = fixture_bundle(path.stem)
        plan = bundle.plan
        inside = {r.name for r in publishing.dns_records(plan) if r.view == publishing.INTERNAL}
        simple = set(plan.simple_urls.hosts()) & inside if plan.simple_urls else set()
        if not simple or not publishing.has_reverse_proxy(plan):
            continue
        for text in (bundle.texts["dns-records.md"], " ".join(network.network_notes(plan))):
            advice = _split_brain_advice(text)
            assert "simple URL" not in advice, advice
            assert "external web services" in advice and "lyncdiscover" in advice, advice
        checked += 1
    assert checked


@pytest.mark.parametrize("on_reverse_proxy", [False, True])
def test_adfs_gets_an_external_dns_record_wherever_it_is_published(on_reverse_proxy):
    """Passive sign-in sends Internet clients to AD FS: its name must be in the public zone, pointing at the
    reverse proxy when that publishes it, otherwise at the Web Application Proxy."""
    doc = doc_of()
    doc["adfs"]["published_on_reverse_proxy"] = on_reverse_proxy
    if not on_reverse_proxy:
        doc["accepted_risks"] = [r for r in doc["accepted_risks"] if r["code"] != "mfa_adfs_not_extranet"]
    plan = plan_of(doc)
    fsn = plan.adfs.federation_service_name
    records = [r for r in publishing.dns_records(plan) if r.view == publishing.EXTERNAL and r.name == fsn]
    assert [r.type for r in records] == ["A"]
    assert ("reverse proxy" if on_reverse_proxy else "Web Application Proxy") in records[0].target
    bundle = render(doc)
    assert re.search(rf"^\| {re.escape(fsn)} \| A \|", bundle.texts["dns-records.md"], re.M)
    assert {"Name": fsn, "Type": "A", "Target": "", "Port": 0} in script_checks(
        bundle.texts["verify-external.ps1"], "DnsChecks")
    # Nobody signs in through AD FS: no record.
    doc["pools"][1]["auth"] = {"external": "tls_dsk"}
    doc["pools"][1].pop("relying_parties")
    doc["adfs"]["mfa"] = "none"
    plan = plan_of(doc)
    assert not plan.signs_in_through_adfs
    if not on_reverse_proxy:
        assert fsn not in {r.name for r in publishing.dns_records(plan)}


def test_arr_rules_for_adfs_and_office_online_say_how_the_proxy_reaches_the_server():
    text = fixture_bundle("multi-domain-director-idn").texts["reverse-proxy-arr.config"]
    for name, what in (("adfs.contoso.com", "AD FS"), ("oos.contoso.com", "Office Online Server")):
        rule = text.index(f'<rule name="https {name}"')
        comment = text.rindex("<!--", 0, rule)
        between = text[comment:rule]
        assert what in between and "hosts file entry" in between
        assert "</rule>" not in between
    pool_rule = text.index('<rule name="https sfbweb.contoso.com"')
    assert "hosts file entry" not in text[text.rindex("<rules>", 0, pool_rule):pool_rule]
    ET.fromstring(text.encode("utf-8"))
    notes = fixture_bundle("multi-domain-director-idn").texts["reverse-proxy-publishing.md"]
    note = next(line for line in notes.splitlines() if "hosts file entry" in line)
    assert "(oos.contoso.com)" in note and "(adfs.contoso.com)" in note


def test_pool_targets_note_hardware_load_balancers():
    bundle = fixture_bundle("multi-domain-director-idn")
    head = bundle.texts["reverse-proxy-arr.config"].split("\n<rewrite>\n")[0]
    assert "hardware load balancer" in head and "4443" in head
    assert "hardware load balancer" in bundle.texts["reverse-proxy-publishing.md"]


# ---------------------------------------------------------------------------
# The runbook


def steps(runbook: str) -> dict[str, str]:
    """Return {file name: its step's text}."""
    out = {}
    for block in runbook.split("\n### ")[1:]:
        block = block.split("\n## ")[0]
        match = re.search(r"^- File: (.+)$", block, re.MULTILINE)
        if match:
            out[match.group(1)] = block
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_runbook_asks_for_whatif_only_where_a_script_changes_something(path):
    bundle = fixture_bundle(path.stem)
    by_file = steps(bundle.texts["runbook.md"])
    for name in ("verify-external.ps1", "verify-internal.ps1"):
        if name in by_file:
            assert "-WhatIf" not in by_file[name], name
            assert "only reads and reports" in by_file[name]
    for name in ("lync-management-shell.ps1", "adfs-server.ps1"):
        if name in by_file:
            assert "with `-WhatIf` first" in by_file[name]
    head = bundle.texts["runbook.md"].split("## Steps, in order")[0]
    assert "Run every script that changes something once with `-WhatIf`" in head
    assert "The verification scripts only read" in head


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_no_passiveauth_check_before_passive_authentication_is_on(path):
    runbook = fixture_bundle(path.stem).texts["runbook.md"]
    order = list(steps(runbook))
    lync_at = order.index("lync-management-shell.ps1") if "lync-management-shell.ps1" in order else len(order)
    for name in order[:lync_at]:
        assert "passiveauth" not in steps(runbook)[name], name


# ---------------------------------------------------------------------------
# Stale text and client advice


@pytest.mark.parametrize(("name", "doc"), _variants(), ids=[n for n, _ in _variants()])
def test_no_advice_to_use_allsipdomain(name, doc):
    """certificates-edge.ps1 already puts every SIP domain's sip name on the request."""
    bundle = render(doc)
    for text in bundle.texts.values():
        assert "AllSipDomain" not in text
    for finding in bundle.findings:
        if finding.code == "sip_domain_no_access_edge":
            assert "certificates-edge.ps1 requests it" in finding.message


def test_the_docs_say_what_the_adfs_20_rollback_does():
    doc = (DOCS / "certificates-and-network.md").read_text(encoding="utf-8")
    flat = " ".join(doc.split())
    if network_artifacts.ADFS20_CAN_REMOVE:
        assert "does not remove a trust" not in flat
        assert "On AD FS 2.0 the rollback removes the trusts the change added too" in flat
    else:
        assert "AD FS 2.0 Management console" in flat


def test_windows_phone_signs_in_through_ad_fs_from_lync_2013_mobile_5_2_like_the_other_mobile_apps():
    # Microsoft's announcement of passive authentication for the Lync 2013 mobile apps (October 2013, release 5.2)
    # names iOS and Windows Phone; nothing the product stands on says Windows Phone shows a blank AD FS page, which
    # the finding and the matrix used to say. Builds before 5.2 cannot sign in through AD FS on any platform.
    plan = plan_of(doc_of())
    [finding] = [f for f in check_plan(plan) if f.code == "passive_unsupported_clients"]
    assert "blank page" not in finding.message
    assert "before 5.2 on iPhone, iPad and Windows Phone" in finding.message
    mobile = client_impact(plan).cell("mobile", "sfbdir01.contoso.com").reason
    assert "blank" not in mobile and "5.2 and later (iPhone, iPad, Windows Phone)" in mobile


def test_the_runbook_prepares_desktop_clients_for_passive_sign_in():
    runbook = fixture_bundle("s01-passive-extranet-mfa").texts["runbook.md"]
    section = runbook.split("## Before the switch: prepare the desktop clients")[1].split("## Steps, in order")[0]
    assert "Delete my sign-in info" in section
    assert "SavePassword" in section and "HKEY\\_CURRENT\\_USER" in section
    assert "DisableNTCredentials" in section and "HKEY\\_LOCAL\\_MACHINE" in section
    assert "lyncpool01.contoso.com" in section
    for name in ("s02-tls-dsk-30-day-certificates", "s03-ntlm-kept-mobility-hardened"):
        assert "prepare the desktop clients" not in fixture_bundle(name).texts["runbook.md"]
