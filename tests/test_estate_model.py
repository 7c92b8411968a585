"""The Estate model's lookups: the collection that applies today, most specific scope first."""
from __future__ import annotations

from wizard.plan.estate import (
    Estate,
    EstateAdfs,
    EstateMobilityPolicy,
    EstatePool,
    EstateProxy,
    EstateRelyingParty,
    EstateWebService,
)


def estate(**kw):
    base = dict(
        collected_at="2026-12-01T09:30:00Z",
        product="sfb2019",
        pools=(EstatePool("fe01.corp.contoso.com", site="Dublin"), EstatePool("fe02.corp.contoso.com")),
        web_service_configurations=(
            EstateWebService("Global", use_windows_auth="Negotiate"),
            EstateWebService("Site:Dublin", use_windows_auth="NTLM"),
            EstateWebService("Service:WebServer:fe02.corp.contoso.com", use_windows_auth="None"),
        ),
        proxy_configurations=(EstateProxy("Global", use_ntlm_for_client_to_proxy_auth=True),
                              EstateProxy("Service:EdgeServer:edge01.corp.contoso.com",
                                          use_ntlm_for_client_to_proxy_auth=False)),
    )
    base.update(kw)
    return Estate(**base)


def test_web_service_settings_come_from_the_most_specific_scope_that_exists():
    e = estate()
    assert e.web_service_for("fe01.corp.contoso.com").identity == "Site:Dublin"
    assert e.web_service_for("FE02.corp.contoso.com").identity == "Service:WebServer:fe02.corp.contoso.com"
    assert e.web_service_for("fe03.corp.contoso.com").identity == "Global"
    assert estate(web_service_configurations=()).web_service_for("fe01.corp.contoso.com") is None


def test_proxy_settings_fall_back_to_global_because_they_have_no_site_scope():
    e = estate()
    assert e.proxy_for("service:EdgeServer:edge01.corp.contoso.com").use_ntlm_for_client_to_proxy_auth is False
    assert e.proxy_for("service:Registrar:fe01.corp.contoso.com").identity == "Global"


def test_site_and_tag_policies_are_the_overrides_of_global():
    e = estate(mobility_policies=(EstateMobilityPolicy("Global", (("allow_save_credentials", False),)),
                                  EstateMobilityPolicy("Site:Dublin", (("allow_save_credentials", True),)),
                                  EstateMobilityPolicy("Tag:Execs")))
    assert [m.identity for m in e.mobility_overrides()] == ["Site:Dublin", "Tag:Execs"]
    assert e.mobility_policy("global").get("allow_save_credentials") is False
    assert e.mobility_policy("site:dublin").get("allow_save_credentials") is True
    assert e.mobility_policy("Tag:Execs").get("allow_save_credentials") is None


def test_relying_parties_are_found_by_identifier_whatever_their_name():
    adfs = EstateAdfs(relying_parties=(
        EstateRelyingParty("Old Lync trust", identifiers=("https://lyncweb.contoso.com/passiveauth/",)),))
    assert adfs.relying_party_by_identifier("https://LYNCWEB.contoso.com/passiveauth").name == "Old Lync trust"
    assert adfs.relying_party_by_identifier("https://other.contoso.com/passiveauth") is None
    assert adfs.relying_party_named("old lync TRUST") is not None
