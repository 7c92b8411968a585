"""The certificate plan: Edge external and reverse-proxy certificates computed from a plan."""
from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import pytest

from wizard.plan import certplan, network
from wizard.plan.model import EdgePool, Pool
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


def minimal_doc(**extra) -> dict:
    doc = {
        "format": "lync-auth-plan/1",
        "name": "t",
        "product": "sfb2015",
        "sip_domains": ["contoso.com"],
        "pools": [{"fqdn": "pool.contoso.com", "external_web_fqdn": "web.contoso.com"}],
    }
    doc.update(extra)
    return doc


def test_edge_certificate_subject_is_the_access_edge_fqdn_and_repeated_as_first_san():
    cert = certplan.certificate_plan(fixture_plan()).edge[0]
    assert cert.subject == "sip.contoso.com"
    assert cert.subject_dn == "CN=sip.contoso.com"
    assert cert.sans[0] == "sip.contoso.com"


def test_edge_certificate_has_webconf_and_sip_name_of_every_domain_as_a_labels():
    cert = certplan.certificate_plan(fixture_plan()).edge[0]
    assert cert.sans == (
        "sip.contoso.com", "webconf.contoso.com", "sip.fabrikam.com", "sip.xn--bcher-kva.example",
    )
    assert all(name.isascii() for name in cert.sans)


def test_edge_certificate_never_carries_the_av_edge_fqdn():
    cert = certplan.certificate_plan(fixture_plan()).edge[0]
    assert "av.contoso.com" not in cert.sans
    assert "av.contoso.com" not in cert.domain_name
    assert cert.subject != "av.contoso.com"


def test_edge_certificate_is_exportable_with_the_plan_key_size_and_edge_types():
    cert = certplan.certificate_plan(fixture_plan()).edge[0]
    assert cert.exportable is True
    assert cert.key_size == 4096
    assert cert.types == ("AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication")
    assert "every Edge Server" in cert.placement


def test_domain_name_is_one_comma_separated_string_without_spaces():
    cert = certplan.certificate_plan(fixture_plan()).edge[0]
    assert cert.domain_name == "sip.contoso.com,webconf.contoso.com,sip.fabrikam.com,sip.xn--bcher-kva.example"


def test_key_size_defaults_to_2048_and_ca_to_an_offline_request():
    doc = minimal_doc(edge_pools=[{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com"}])
    cplan = certplan.certificate_plan(plan_from(doc))
    for cert in cplan.requests:
        assert cert.key_size == 2048
        assert cert.ca is None
        assert cert.ca_label == certplan.PUBLIC_CA
    assert cplan.edge[0].request_file == "edge-external-edge.contoso.com.req"


def test_an_online_ca_from_the_plan_is_used():
    doc = minimal_doc(edge_pools=[{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com"}],
                      certificates={"key_size": 2048, "ca": "ca01.contoso.com\\Contoso Issuing CA"})
    cert = certplan.certificate_plan(plan_from(doc)).edge[0]
    assert cert.ca == "ca01.contoso.com\\Contoso Issuing CA"


def test_edge_pool_without_access_fqdn_gets_no_certificate_and_a_note():
    doc = minimal_doc(edge_pools=[{"fqdn": "edge.contoso.com"}])
    cplan = certplan.certificate_plan(plan_from(doc))
    assert cplan.edge == ()
    assert any("edge.contoso.com" in n and "Access Edge FQDN" in n for n in cplan.notes)


def test_each_edge_pool_gets_its_own_certificate():
    doc = minimal_doc(edge_pools=[
        {"fqdn": "edge1.contoso.com", "access_fqdn": "sip.contoso.com", "webconf_fqdn": "wc1.contoso.com"},
        {"fqdn": "edge2.contoso.com", "access_fqdn": "sip2.contoso.com", "webconf_fqdn": "wc2.contoso.com"},
    ])
    edges = certplan.certificate_plan(plan_from(doc)).edge
    assert [c.subject for c in edges] == ["sip.contoso.com", "sip2.contoso.com"]
    assert edges[1].sans == ("sip2.contoso.com", "wc2.contoso.com", "sip.contoso.com")


def test_av_name_shared_with_another_role_is_reported():
    doc = minimal_doc(edge_pools=[{"fqdn": "edge.contoso.com", "access_fqdn": "sip.contoso.com",
                                   "av_fqdn": "sip.contoso.com"}])
    cplan = certplan.certificate_plan(plan_from(doc))
    assert any("A/V Edge FQDN" in n for n in cplan.notes)


def test_reverse_proxy_subject_is_the_first_pool_external_web_fqdn():
    cert = certplan.certificate_plan(fixture_plan()).reverse_proxy
    assert cert is not None
    assert cert.subject == "sfbweb.contoso.com"
    assert cert.sans[0] == "sfbweb.contoso.com"


def test_reverse_proxy_sans_cover_pools_director_simple_urls_autodiscover_oos_and_adfs():
    cert = certplan.certificate_plan(fixture_plan()).reverse_proxy
    assert cert.sans == (
        "sfbweb.contoso.com", "sfbdirweb.contoso.com",
        "meet.contoso.com", "meet.fabrikam.com", "meet.xn--bcher-kva.example", "dialin.contoso.com",
        "lyncdiscover.contoso.com", "lyncdiscover.fabrikam.com", "lyncdiscover.xn--bcher-kva.example",
        "oos.contoso.com", "adfs.contoso.com",
    )


def test_reverse_proxy_never_carries_the_admin_url_or_edge_names():
    cert = certplan.certificate_plan(fixture_plan()).reverse_proxy
    for name in ("admin.contoso.com", "sip.contoso.com", "av.contoso.com", "webconf.contoso.com"):
        assert name not in cert.sans


def test_lyncdiscover_names_leave_the_certificate_when_autodiscover_is_on_port_80():
    doc = fixture_doc()
    doc["autodiscover_port"] = 80
    cert = certplan.certificate_plan(plan_from(doc)).reverse_proxy
    assert not [n for n in cert.sans if n.startswith("lyncdiscover.")]


def test_adfs_is_on_the_proxy_certificate_only_when_published_there():
    doc = fixture_doc()
    doc["adfs"]["published_on_reverse_proxy"] = False
    cert = certplan.certificate_plan(plan_from(doc)).reverse_proxy
    assert "adfs.contoso.com" not in cert.sans


@pytest.mark.parametrize(("version", "proxy"), [("2019", "Web Application Proxy"), ("2.0", "AD FS proxy")])
def test_adfs_published_elsewhere_gets_a_note_about_its_public_certificate(version, proxy):
    # Internet users are sent to AD FS to sign in: the proxy publishing it needs its name on a public certificate.
    doc = fixture_doc()
    doc["adfs"].update(published_on_reverse_proxy=False, version=version, mfa="none")
    notes = [n for n in certplan.certificate_plan(plan_from(doc)).notes if "adfs.contoso.com" in n]
    assert len(notes) == 1 and proxy in notes[0] and "public CA" in notes[0]
    assert notes[0] in network.network_context(plan_from(doc))["notes"]


def test_adfs_on_the_reverse_proxy_or_unused_gets_no_such_note():
    doc = fixture_doc()
    assert not [n for n in certplan.certificate_plan(plan_from(doc)).notes if "adfs.contoso.com" in n]
    doc["adfs"]["published_on_reverse_proxy"] = False
    for pool in doc["pools"]:
        pool["auth"] = {"external": "tls_dsk"}
    assert not [n for n in certplan.certificate_plan(plan_from(doc)).notes if "adfs.contoso.com" in n]


def test_no_external_web_fqdn_means_no_reverse_proxy_certificate():
    doc = minimal_doc(pools=[{"fqdn": "pool.contoso.com"}])
    cplan = certplan.certificate_plan(plan_from(doc))
    assert cplan.reverse_proxy is None
    assert any("reverse proxy" in n for n in network.network_notes(plan_from(doc)))


def test_wildcard_access_edge_fqdn_is_refused_as_subject():
    plan = fixture_plan()
    edge = replace(plan.edge_pools[0], access_fqdn="*.contoso.com")
    with pytest.raises(certplan.CertificatePlanError, match="wildcard"):
        certplan.edge_certificate(plan, edge)


def test_wildcard_webconf_fqdn_is_refused_on_the_edge_certificate():
    plan = fixture_plan()
    edge = replace(plan.edge_pools[0], webconf_fqdn="*.contoso.com")
    with pytest.raises(certplan.CertificatePlanError, match="Edge external certificate"):
        certplan.edge_certificate(plan, edge)


def test_wildcard_external_web_fqdn_is_refused_as_reverse_proxy_subject():
    plan = fixture_plan()
    pools = (replace(plan.pools[0], external_web_fqdn="*.contoso.com"), *plan.pools[1:])
    with pytest.raises(certplan.CertificatePlanError, match="subject"):
        certplan.certificate_plan(replace(plan, pools=pools))


def test_wildcard_is_accepted_as_a_reverse_proxy_san():
    plan = fixture_plan()
    simple = replace(plan.simple_urls, meet=("*.fabrikam.com",))
    cert = certplan.reverse_proxy_certificate(replace(plan, simple_urls=simple))
    assert "*.fabrikam.com" in cert.sans
    assert cert.subject == "sfbweb.contoso.com"


def test_unicode_names_in_a_hand_built_plan_become_a_labels():
    plan = fixture_plan()
    edge = EdgePool(fqdn="edge.bücher.example", access_fqdn="sip.bücher.example", webconf_fqdn="konferenz.bücher.example")
    cert = certplan.edge_certificate(plan, edge)
    assert cert.subject == "sip.xn--bcher-kva.example"
    assert "konferenz.xn--bcher-kva.example" in cert.sans


def test_a_name_that_is_not_a_dns_name_is_refused():
    plan = fixture_plan()
    pools = (Pool(fqdn="pool.contoso.com", external_web_fqdn="web contoso.com"),)
    with pytest.raises(certplan.CertificatePlanError):
        certplan.reverse_proxy_certificate(replace(plan, pools=pools))


def test_certificate_rows_show_every_column_and_the_unicode_form():
    rows = certplan.certificate_rows(certplan.certificate_plan(fixture_plan()))
    assert [r["certificate"] for r in rows] == ["Edge external (sfbedge.contoso.com)", "Reverse proxy"]
    for row in rows:
        assert set(row) >= {"certificate", "placement", "subject", "sans", "eku", "key", "exportable", "ca"}
        assert row["eku"] == "Server Authentication (1.3.6.1.5.5.7.3.1)"
        assert row["key"] == "RSA 4096 bits"
        assert row["exportable"] == "yes"
    idn = [s for s in rows[0]["sans"] if s["name"] == "sip.xn--bcher-kva.example"]
    assert idn == [{"name": "sip.xn--bcher-kva.example", "unicode": "sip.bücher.example"}]
    assert rows[1]["request_file"] == "reverse-proxy-certificate.inf"


def test_the_plan_document_is_not_changed():
    doc = fixture_doc()
    before = copy.deepcopy(doc)
    certplan.certificate_plan(plan_from(doc))
    assert doc == before
