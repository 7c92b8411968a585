"""Reverse proxy publishing, IIS ARR rules, DNS records and the review-page network context."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from wizard.plan import network, publishing
from wizard.plan.reader import read_plan

FIXTURE = Path(__file__).parent / "fixtures" / "plans" / "multi-domain-director-idn.json"


def fixture_doc() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def plan_from(doc: dict):
    plan, findings = read_plan(doc)
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return plan


def fixture_plan():
    return plan_from(fixture_doc())


def rules_by_name(plan) -> dict:
    return {r.external_fqdn: r for r in publishing.publishing_rules(plan)}


def test_pool_web_services_go_to_their_own_internal_web_fqdn_on_4443_and_8080():
    rules = rules_by_name(fixture_plan())
    fe = rules["sfbweb.contoso.com"]
    assert fe.target_fqdn == "sfbpool01.contoso.com"
    assert [(p.external, p.internal) for p in fe.ports] == [(443, 4443), (80, 8080)]
    director = rules["sfbdirweb.contoso.com"]
    assert director.target_fqdn == "sfbdirint.contoso.com"


def test_simple_urls_go_to_the_director():
    rules = rules_by_name(fixture_plan())
    for name in ("meet.contoso.com", "meet.fabrikam.com", "meet.xn--bcher-kva.example", "dialin.contoso.com"):
        assert rules[name].target_fqdn == "sfbdirint.contoso.com", name


def test_lyncdiscover_goes_to_a_pool_without_passive_authentication():
    """The fixture's Director is passive: discovery goes to the TLS-DSK Front End pool instead."""
    plan = fixture_plan()
    assert publishing.discovery_pool(plan).fqdn == "sfbpool01.contoso.com"
    rules = rules_by_name(plan)
    for name in ("lyncdiscover.contoso.com", "lyncdiscover.fabrikam.com", "lyncdiscover.xn--bcher-kva.example"):
        assert rules[name].target_fqdn == "sfbpool01.contoso.com", name


def test_lyncdiscover_goes_to_the_director_when_it_is_not_passive():
    doc = fixture_doc()
    doc["pools"][1]["auth"] = {"external": "tls_dsk"}
    plan = plan_from(doc)
    assert publishing.discovery_pool(plan).fqdn == "sfbdir01.contoso.com"
    assert rules_by_name(plan)["lyncdiscover.contoso.com"].target_fqdn == "sfbdirint.contoso.com"


def test_with_every_pool_passive_lyncdiscover_stays_on_the_entry_pool():
    doc = fixture_doc()
    doc["pools"][0]["auth"] = {"external": "passive"}
    plan = plan_from(doc)
    assert publishing.discovery_pool(plan).fqdn == "sfbdir01.contoso.com"


def test_without_a_director_the_first_pool_serves_simple_urls():
    doc = fixture_doc()
    doc["pools"] = [doc["pools"][0]]
    rules = rules_by_name(plan_from(doc))
    assert rules["meet.contoso.com"].target_fqdn == "sfbpool01.contoso.com"


def test_admin_url_is_never_published():
    assert "admin.contoso.com" not in rules_by_name(fixture_plan())


def test_office_online_and_adfs_are_published_443_to_443_on_themselves():
    rules = rules_by_name(fixture_plan())
    for name in ("oos.contoso.com", "adfs.contoso.com"):
        assert rules[name].target_fqdn == name
        assert [(p.external, p.internal) for p in rules[name].ports] == [(443, 443)]


def test_autodiscover_on_port_80_is_published_on_80_only():
    doc = fixture_doc()
    doc["autodiscover_port"] = 80
    rule = rules_by_name(plan_from(doc))["lyncdiscover.fabrikam.com"]
    assert [(p.external, p.internal) for p in rule.ports] == [(80, 8080)]
    assert rule.on_certificate is False


def test_each_name_is_published_once():
    names = [r.external_fqdn for r in publishing.publishing_rules(fixture_plan())]
    assert len(names) == len(set(names))


def test_a_name_used_twice_is_reported():
    doc = fixture_doc()
    doc["office_web_apps_fqdn"] = "meet.contoso.com"
    assert any("meet.contoso.com" in c for c in publishing.publishing_conflicts(plan_from(doc)))


def test_host_pattern_escapes_dots_and_anchors():
    assert publishing.host_pattern("meet.xn--bcher-kva.example") == r"^meet\.xn--bcher-kva\.example$"
    assert re.match(publishing.host_pattern("meet.contoso.com"), "meet.contoso.com")
    assert not re.match(publishing.host_pattern("meet.contoso.com"), "meetxcontoso.com")
    assert not re.match(publishing.host_pattern("meet.contoso.com"), "meet.contoso.com.evil.example")


@pytest.mark.parametrize("bad", ["*.contoso.com", "Meet.contoso.com", "meet.contoso.com$", "a(b).contoso.com"])
def test_host_pattern_refuses_anything_but_an_a_label(bad):
    with pytest.raises(ValueError):
        publishing.host_pattern(bad)


def test_arr_rules_one_https_rule_per_published_name_then_http_rules():
    plan = fixture_plan()
    rules = publishing.arr_rules(plan)
    https = [r for r in rules if r["https"] == "on"]
    http = [r for r in rules if r["https"] == "off"]
    assert [r["host"] for r in https] == [r.external_fqdn for r in publishing.publishing_rules(plan)]
    assert {r["host"] for r in http} == {r.external_fqdn for r in publishing.publishing_rules(plan)
                                          if r.port(80)}
    fe = next(r for r in https if r["host"] == "sfbweb.contoso.com")
    assert fe["url"] == "https://sfbpool01.contoso.com:4443/{R:1}"
    assert fe["pattern"] == r"^sfbweb\.contoso\.com$"
    fe_http = next(r for r in http if r["host"] == "sfbweb.contoso.com")
    assert fe_http["url"] == "http://sfbpool01.contoso.com:8080/{R:1}"
    oos = next(r for r in https if r["host"] == "oos.contoso.com")
    assert oos["url"] == "https://oos.contoso.com:443/{R:1}"


def records(plan, view=None):
    return [r for r in publishing.dns_records(plan) if view is None or r.view == view]


def test_dns_has_srv_lyncdiscover_and_sip_records_for_every_domain():
    ext = {(r.name, r.type): r for r in records(fixture_plan(), publishing.EXTERNAL)}
    for domain in ("contoso.com", "fabrikam.com", "xn--bcher-kva.example"):
        srv = ext[(f"_sip._tls.{domain}", "SRV")]
        assert srv.port == 443
        assert srv.value.startswith("0 0 443 ")
        assert (f"lyncdiscover.{domain}", "CNAME") in ext
        assert ext[(f"lyncdiscover.{domain}", "CNAME")].target == "sfbweb.contoso.com"
    assert ext[("_sip._tls.contoso.com", "SRV")].target == "sip.contoso.com"


def test_srv_targets_stay_inside_their_sip_domain_and_are_a_records():
    ext = {(r.name, r.type): r for r in records(fixture_plan(), publishing.EXTERNAL)}
    assert ext[("_sip._tls.fabrikam.com", "SRV")].target == "sip.fabrikam.com"
    assert ext[("_sip._tls.xn--bcher-kva.example", "SRV")].target == "sip.xn--bcher-kva.example"
    assert ("sip.fabrikam.com", "A") in ext
    assert ("sip.xn--bcher-kva.example", "A") in ext
    cnames = {r.name for r in records(fixture_plan()) if r.type == "CNAME"}
    srv_targets = {r.target for r in records(fixture_plan()) if r.type == "SRV"}
    assert not cnames & srv_targets


def test_access_edge_has_one_a_record_and_edge_names_are_external():
    ext = records(fixture_plan(), publishing.EXTERNAL)
    access = [r for r in ext if r.name == "sip.contoso.com"]
    assert len(access) == 1 and access[0].type == "A"
    assert {"webconf.contoso.com", "av.contoso.com"} <= {r.name for r in ext}


def test_published_names_have_external_a_records_to_the_reverse_proxy():
    ext = {r.name: r for r in records(fixture_plan(), publishing.EXTERNAL) if r.type == "A"}
    for name in ("sfbweb.contoso.com", "sfbdirweb.contoso.com", "meet.xn--bcher-kva.example", "dialin.contoso.com",
                 "oos.contoso.com", "adfs.contoso.com"):
        assert ext[name].target == publishing.RP_PUBLIC_IP


def test_internal_records_cover_discovery_and_the_admin_url():
    internal = {(r.name, r.type): r for r in records(fixture_plan(), publishing.INTERNAL)}
    assert internal[("_sipinternaltls._tcp.fabrikam.com", "SRV")].target == "sfbpool01.contoso.com"
    assert internal[("_sipinternaltls._tcp.fabrikam.com", "SRV")].port == 5061
    assert ("lyncdiscoverinternal.xn--bcher-kva.example", "CNAME") in internal
    assert ("admin.contoso.com", "CNAME") in internal
    assert "admin.contoso.com" not in {r.name for r in records(fixture_plan(), publishing.EXTERNAL)}


def test_no_access_edge_means_no_srv_records():
    doc = fixture_doc()
    doc.pop("edge_pools")
    plan = plan_from(doc)
    assert not [r for r in records(plan, publishing.EXTERNAL) if r.type == "SRV"]
    assert any("_sip._tls" in n for n in network.network_notes(plan))


def test_discovery_pool_without_external_name_gets_an_a_record_for_lyncdiscover():
    plan = fixture_plan()
    pools = (replace(plan.pools[0], external_web_fqdn=None), plan.pools[1])
    ext = {r.name: r for r in records(replace(plan, pools=pools), publishing.EXTERNAL)}
    assert ext["lyncdiscover.contoso.com"].type == "A"
    assert ext["lyncdiscover.contoso.com"].target == publishing.RP_PUBLIC_IP


def test_without_a_reverse_proxy_there_is_no_lyncdiscover_record():
    """Nothing answers on lyncdiscover without a reverse proxy: no A record to an address that does not exist."""
    plan = fixture_plan()
    pools = tuple(replace(p, external_web_fqdn=None) for p in plan.pools)
    bare = replace(plan, pools=pools)
    assert not publishing.has_reverse_proxy(bare)
    assert not [r for r in records(bare) if r.name.startswith("lyncdiscover.")]
    assert not [r for r in records(bare) if r.target == publishing.RP_PUBLIC_IP]
    assert [r for r in records(bare) if r.name.startswith("_sip._tls.")]


def test_network_context_rows_are_display_ready():
    ctx = network.network_context(fixture_plan())
    assert set(ctx) == {"certificates", "publishing", "arr_rules", "dns_external", "dns_internal", "notes"}
    row = next(r for r in ctx["publishing"] if r["name"] == "meet.xn--bcher-kva.example")
    assert row["unicode"] == "meet.bücher.example"
    assert row["ports"] == "443 \u2192 4443, 80 \u2192 8080"
    assert row["preauth"].startswith("none")
    assert row["host_header"] == publishing.HOST_HEADER
    assert all(isinstance(v, str) for r in ctx["publishing"] for v in r.values())
    srv = next(r for r in ctx["dns_external"] if r["name"] == "_sip._tls.fabrikam.com")
    assert srv["value"] == "0 0 443 sip.fabrikam.com"


def test_network_notes_warn_about_passive_discovery_admin_url_and_extranet_mfa():
    notes = " ".join(network.network_notes(fixture_plan()))
    assert "sfbdir01.contoso.com" in notes and "passive" in notes
    assert "admin.contoso.com" in notes
    assert "Web Application Proxy" in notes
