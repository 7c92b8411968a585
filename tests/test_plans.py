"""The plan reader: normalisation, validation with field paths, and writing back. No database."""
from __future__ import annotations

import copy
import json

import pytest

from wizard.plan import certplan
from wizard.plan.model import FORMAT
from wizard.plan.reader import PlanUnreadable, load_plan, read_plan
from wizard.plan.writer import dumps_plan, plan_to_dict

BASE = {
    "format": FORMAT,
    "name": "Contoso",
    "product": "sfb2015",
    "sip_domains": ["contoso.com"],
    "pools": [{"fqdn": "pool01.contoso.com", "auth": {"external": "tls_dsk"}}],
}


def doc(**changes):
    d = copy.deepcopy(BASE)
    d.update(changes)
    return d


def errors(findings):
    return {(f.field, f.code) for f in findings if f.severity == "error"}


def infos(findings):
    return {(f.field, f.code) for f in findings if f.severity == "info"}


def test_a_minimal_plan_reads_with_defaults():
    plan, findings = read_plan(doc())
    assert plan is not None and findings == []
    pool = plan.pools[0]
    assert pool.role == "frontend"
    assert pool.internal_web == "pool01.contoso.com"
    assert pool.auth.certificate_auth is True
    assert pool.auth.block_ntlm_at_registrar is False
    assert plan.autodiscover_port == 443
    assert pool.web_service_identity == "service:WebServer:pool01.contoso.com"


def test_fqdns_are_trimmed_lowercased_dot_stripped_and_idna_encoded_with_info():
    plan, findings = read_plan(doc(sip_domains=["  Contoso.COM. ", "bücher.example"]))
    assert plan.sip_domains == ("contoso.com", "xn--bcher-kva.example")
    assert ("sip_domains[0]", "fqdn_normalised") in infos(findings)
    assert ("sip_domains[1]", "fqdn_normalised") in infos(findings)



def test_a_meeting_url_listed_twice_is_kept_once_and_said():
    plan, findings = read_plan(doc(simple_urls={"meet": ["meet.contoso.com", None, "Meet.Contoso.COM.",
                                                        "meet.fabrikam.com", "meet.contoso.com"]}))
    assert plan is None   # the null is an error; the duplicates are not
    plan, findings = read_plan(doc(simple_urls={"meet": ["meet.contoso.com", "Meet.Contoso.COM.",
                                                        "meet.fabrikam.com", "meet.contoso.com"]}))
    assert plan.simple_urls.meet == ("meet.contoso.com", "meet.fabrikam.com")
    said = {f.field: f.message for f in findings if f.code == "duplicate_removed"}
    assert set(said) == {"simple_urls.meet[1]", "simple_urls.meet[3]"}
    assert all(f.severity == "info" for f in findings if f.code == "duplicate_removed")
    # Each names the listing it repeats, by its index in the file.
    assert "simple_urls.meet[0]" in said["simple_urls.meet[1]"]
    assert "simple_urls.meet[0]" in said["simple_urls.meet[3]"]

@pytest.mark.parametrize("raw", [
    "service:WebServer:pool01.contoso.com", "Registrar:pool01.contoso.com", "WebServer:POOL01.contoso.com",
])
def test_scope_prefixes_are_stripped_with_info(raw):
    plan, findings = read_plan(doc(pools=[{"fqdn": raw}]))
    assert plan.pools[0].fqdn == "pool01.contoso.com"
    assert plan.pools[0].web_service_identity == "service:WebServer:pool01.contoso.com"
    assert ("pools[0].fqdn", "scope_prefix_stripped") in infos(findings)


def test_edge_scope_prefix_is_stripped():
    plan, findings = read_plan(doc(edge_pools=[{"fqdn": "EdgeServer:edge.contoso.com"}]))
    assert plan.edge_pools[0].proxy_identity == "service:EdgeServer:edge.contoso.com"
    assert ("edge_pools[0].fqdn", "scope_prefix_stripped") in infos(findings)


@pytest.mark.parametrize("bad", ["", "contoso", "bad_name.contoso.com", "-x.contoso.com", "a b.contoso.com",
                                 "x" * 64 + ".com", "10.0.0.1", "pool\n.contoso.com", "*.contoso.com"])
def test_invalid_names_are_errors_naming_the_field(bad):
    plan, findings = read_plan(doc(sip_domains=["contoso.com", bad]))
    assert plan is None
    assert ("sip_domains[1]", "invalid_fqdn") in errors(findings)


def _domain_of_length(n: int) -> str:
    """Return a valid domain name of exactly `n` characters (labels of at most 63)."""
    labels, left = [], n - len(".com")
    while left > 0:
        size = min(63, left) if left - min(63, left) != 1 else 62
        labels.append("a" * size)
        left -= size + 1
    name = ".".join(labels) + ".com"
    assert len(name) == n
    return name


def test_a_sip_domain_too_long_for_the_names_built_from_it_is_an_error():
    # lyncdiscover.<domain> (reverse proxy certificate) and lyncdiscoverinternal.<domain> (DNS) must stay DNS
    # names: a longer SIP domain was accepted, and building the bundle then raised CertificatePlanError.
    long_domain = _domain_of_length(233)
    plan, findings = read_plan(doc(sip_domains=["contoso.com", long_domain]))
    assert plan is None and ("sip_domains[1]", "invalid_fqdn") in errors(findings)
    (f,) = [f for f in findings if f.field == "sip_domains[1]"]
    assert "232" in f.message and "lyncdiscoverinternal." in f.message
    longest = _domain_of_length(232)
    pools = [{"fqdn": "pool01.contoso.com", "external_web_fqdn": "web.contoso.com", "auth": {"external": "tls_dsk"}}]
    plan, findings = read_plan(doc(sip_domains=["contoso.com", longest], pools=pools))
    assert plan is not None, errors(findings)
    cert = certplan.certificate_plan(plan).reverse_proxy
    assert cert is not None and f"lyncdiscover.{longest}" in cert.sans


def test_unknown_fields_are_errors_but_x_fields_are_kept():
    d = doc(x_note="kept", colour="blue")
    d["pools"][0]["speed"] = 1
    d["pools"][0]["x_local"] = {"a": 1}
    plan, findings = read_plan(d)
    assert plan is None
    assert errors(findings) == {("colour", "unknown_field"), ("pools[0].speed", "unknown_field")}
    plan, findings = read_plan(doc(x_note="kept"))
    assert plan_to_dict(plan)["x_note"] == "kept"


def test_required_fields_and_types():
    plan, findings = read_plan({"format": FORMAT})
    assert plan is None
    assert {("name", "required"), ("product", "required"), ("sip_domains", "required"),
            ("pools", "required")} <= errors(findings)
    plan, findings = read_plan(doc(product="lync2010", pools=[], sip_domains="contoso.com"))
    assert ("product", "invalid_choice") in errors(findings)
    assert ("pools", "required") in errors(findings)
    assert ("sip_domains", "wrong_type") in errors(findings)


def test_wrong_format_string_is_an_error():
    _, findings = read_plan(doc(format="lync-auth-plan/2"))
    assert ("format", "wrong_format") in errors(findings)


def test_booleans_must_be_real_booleans():
    d = doc()
    d["pools"][0]["auth"]["certificate_auth"] = "true"
    _, findings = read_plan(d)
    assert ("pools[0].auth.certificate_auth", "wrong_type") in errors(findings)


@pytest.mark.parametrize("hours,field,code", [
    ({"default": 720, "min": 8, "max": 720}, None, None),
    ({"default": 7, "min": 8, "max": 720}, "pools[0].auth.client_certificate_hours.default", "out_of_range"),
    ({"default": 720, "min": 4321, "max": 8760}, "pools[0].auth.client_certificate_hours.min", "out_of_range"),
    ({"default": 720, "min": 8, "max": 9000}, "pools[0].auth.client_certificate_hours.max", "out_of_range"),
    ({"default": 800, "min": 8, "max": 720}, "pools[0].auth.client_certificate_hours.default", "lifetime_order"),
    ({"default": 720, "min": 800, "max": 1000}, "pools[0].auth.client_certificate_hours.default", "lifetime_order"),
    ({"default": 720.5, "min": 8, "max": 1000}, "pools[0].auth.client_certificate_hours.default", "wrong_type"),
    ({"default": 720, "min": 8}, "pools[0].auth.client_certificate_hours.max", "required"),
])
def test_certificate_lifetimes_are_range_checked_and_ordered(hours, field, code):
    d = doc()
    d["pools"][0]["auth"]["client_certificate_hours"] = hours
    plan, findings = read_plan(d)
    if field is None:
        assert plan.pools[0].auth.client_certificate_hours.default == 720
    else:
        assert plan is None
        assert (field, code) in errors(findings)


def test_duplicates_are_errors():
    d = doc(sip_domains=["contoso.com", "CONTOSO.com"],
            pools=[{"fqdn": "p.contoso.com"}, {"fqdn": "P.contoso.com."}],
            edge_pools=[{"fqdn": "e.contoso.com"}, {"fqdn": "e.contoso.com"}],
            mobility_policies=[{"identity": "Global"}, {"identity": "global"}])
    _, findings = read_plan(d)
    assert {("sip_domains[1]", "duplicate"), ("pools[1].fqdn", "duplicate"), ("edge_pools[1].fqdn", "duplicate"),
            ("mobility_policies[1].identity", "duplicate")} <= errors(findings)


def test_passive_needs_adfs():
    d = doc(pools=[{"fqdn": "p.contoso.com", "auth": {"external": "passive"}}])
    _, findings = read_plan(d)
    assert ("adfs", "adfs_required") in errors(findings)


def test_relying_party_names_default_per_pool_and_never_collide():
    d = doc(pools=[{"fqdn": "p1.contoso.com", "auth": {"external": "passive"}},
                   {"fqdn": "p2.contoso.com", "auth": {"external": "passive"}}],
            adfs={"federation_service_name": "adfs.contoso.com", "version": "2016"})
    plan, findings = read_plan(d)
    assert not [f for f in findings if f.severity == "error"]
    names = [(p.rp_names.internal, p.rp_names.external) for p in plan.pools]
    assert len({n for pair in names for n in pair}) == 4


def test_explicit_relying_party_names_must_be_distinct_across_pools():
    rps = {"internal": "Lync-Int", "external": "Lync-Ext"}
    d = doc(pools=[{"fqdn": "p1.contoso.com", "auth": {"external": "passive"}, "relying_parties": rps},
                   {"fqdn": "p2.contoso.com", "auth": {"external": "passive"}, "relying_parties": rps}],
            adfs={"federation_service_name": "adfs.contoso.com", "version": "2016"})
    _, findings = read_plan(d)
    assert ("pools[1].relying_parties.internal", "duplicate") in errors(findings)


@pytest.mark.parametrize("raw,expected", [
    ("Global", "Global"), ("global", "Global"), ("site:Redmond", "site:Redmond"), ("Site:Redmond", "site:Redmond"),
    ("tag:Sales Mobile", "Tag:Sales Mobile"),
])
def test_mobility_policy_identities_are_normalised(raw, expected):
    plan, _ = read_plan(doc(mobility_policies=[{"identity": raw, "enable_mobility": True}]))
    assert plan.mobility_policies[0].identity == expected


@pytest.mark.parametrize("raw", ["Redmond", "site:", "user:bob", 5, "Tag:a\nb"])
def test_bad_mobility_identities_are_errors(raw):
    _, findings = read_plan(doc(mobility_policies=[{"identity": raw}]))
    assert ("mobility_policies[0].identity", "invalid_identity") in errors(findings)


def test_mobility_settings_keep_only_what_the_plan_names():
    plan, _ = read_plan(doc(mobility_policies=[{"identity": "Global", "allow_save_credentials": False}]))
    assert plan.mobility_policies[0].settings() == [("allow_save_credentials", "AllowSaveCredentials", False)]


def test_names_reject_control_characters_but_keep_apostrophes():
    plan, _ = read_plan(doc(name="O'Brien’s plan"))
    assert plan.name == "O'Brien’s plan"
    _, findings = read_plan(doc(name="line\nbreak"))
    assert ("name", "invalid_text") in errors(findings)
    _, findings = read_plan(doc(name="x" * 201))
    assert ("name", "invalid_text") in errors(findings)


def test_ca_and_key_size_are_validated():
    plan, _ = read_plan(doc(certificates={"key_size": 4096, "ca": "CA01.contoso.com\\Contoso Issuing CA"}))
    assert plan.certificates.ca == "ca01.contoso.com\\Contoso Issuing CA"
    _, findings = read_plan(doc(certificates={"key_size": 1024, "ca": "no-backslash"}))
    assert {("certificates.key_size", "invalid_choice"), ("certificates.ca", "invalid_ca")} <= errors(findings)


def test_autodiscover_port():
    assert read_plan(doc(autodiscover_port=80))[0].autodiscover_port == 80
    _, findings = read_plan(doc(autodiscover_port=8080))
    assert ("autodiscover_port", "invalid_choice") in errors(findings)


@pytest.mark.parametrize("changes,field", [
    ({"autodiscover_port": 443.0}, "autodiscover_port"),
    ({"autodiscover_port": 80.0}, "autodiscover_port"),
    ({"certificates": {"key_size": 4096.0}}, "certificates.key_size"),
    ({"certificates": {"key_size": 2048.0}}, "certificates.key_size"),
])
def test_port_and_key_size_must_be_whole_numbers_not_floats(changes, field):
    # 443.0 == 443 in Python: a float must still be refused like 720.0 is, or it is written back
    # as 443.0 and reaches the scripts as 4096.0.
    plan, findings = read_plan(doc(**changes))
    assert plan is None
    assert (field, "invalid_choice") in errors(findings)


def test_every_error_names_a_field():
    d = doc(name="", product=3, pools=[{"fqdn": "x", "role": "edge", "auth": {"external": "kerberos"}}])
    _, findings = read_plan(d)
    assert findings and all(f.field for f in findings)


def test_unreadable_input_raises():
    for text in ("", "not json", "[1, 2]", "null", b"\xff\xfe\x00"):
        with pytest.raises(PlanUnreadable):
            load_plan(text)
    with pytest.raises(PlanUnreadable):
        load_plan("[" * 100000 + "]" * 100000)
    with pytest.raises(PlanUnreadable):
        load_plan('{"name": ' + "9" * 5000 + "}")


def test_bom_is_accepted():
    plan, _ = load_plan(("\ufeff" + json.dumps(doc())).encode("utf-8"))
    assert plan is not None


def test_writing_back_round_trips(tmp_path):
    d = doc(edge_pools=[{"fqdn": "e.contoso.com", "access_fqdn": "sip.contoso.com", "block_ntlm": True}],
            adfs={"federation_service_name": "adfs.contoso.com", "version": "2012r2", "mfa": "extranet"},
            mobility_policies=[{"identity": "site:Redmond", "allow_save_credentials": False}],
            simple_urls={"meet": ["meet.contoso.com"], "dialin": "dialin.contoso.com", "admin": None},
            office_web_apps_fqdn="oos.contoso.com", certificates={"key_size": 2048})
    plan, _ = read_plan(d)
    text = dumps_plan(plan)
    again, findings = load_plan(text)
    assert again == plan and findings == []
    assert dumps_plan(again) == text


@pytest.mark.parametrize("where,raw", [
    ("pools", "EdgeServer:pool01.contoso.com"),
    ("pools", "service:EdgeServer:pool01.contoso.com"),
    ("edge_pools", "service:WebServer:edge.contoso.com"),
    ("edge_pools", "Registrar:edge.contoso.com"),
])
def test_a_scope_prefix_of_another_role_is_an_error(where, raw):
    # The contract accepts a pool or Edge FQDN pasted with *its* scope prefix; an Edge identity
    # pasted as a pool (or a pool's as an Edge) is still not a DNS name: an error, not a silent fix.
    _, findings = read_plan(doc(**{where: [{"fqdn": raw}]}))
    assert (f"{where}[0].fqdn", "invalid_fqdn") in errors(findings)
    assert (f"{where}[0].fqdn", "scope_prefix_stripped") not in infos(findings)


@pytest.mark.parametrize("raw", ["UserServer:pool01.contoso.com", "service:Registrar:pool01.contoso.com"])
def test_other_pool_scope_prefixes_are_stripped(raw):
    plan, findings = read_plan(doc(pools=[{"fqdn": raw}]))
    assert plan.pools[0].fqdn == "pool01.contoso.com"
    assert ("pools[0].fqdn", "scope_prefix_stripped") in infos(findings)


def test_a_required_choice_given_as_null_is_one_error():
    d = doc(product=None, adfs={"federation_service_name": "adfs.contoso.com", "version": None},
            accepted_risks=[{"code": None, "field": "pools[0].auth.external", "reason": "x"}])
    d["pools"][0]["auth"]["external"] = None
    _, findings = read_plan(d)
    for path in ("product", "adfs.version", "pools[0].auth.external", "accepted_risks[0].code"):
        assert [f.code for f in findings if f.field == path] == ["required"], path


def test_the_ca_host_normalisation_is_reported():
    plan, findings = read_plan(doc(certificates={"ca": "CA01.contoso.com.\\Contoso Issuing CA"}))
    assert plan.certificates.ca == "ca01.contoso.com\\Contoso Issuing CA"
    assert ("certificates.ca", "fqdn_normalised") in infos(findings)
    _, findings = read_plan(doc(certificates={"ca": "ca01.contoso.com\\Contoso Issuing CA"}))
    assert infos(findings) == set()


def test_default_relying_party_names_never_collide_between_pools_sharing_a_host_label():
    # The contract: the default names "are derived from the pool so two passive pools never collide".
    # Two pools named lyncpool.<region>.contoso.com share the first label the short default is made of.
    passive = {"external": "passive"}
    d = doc(pools=[{"fqdn": "lyncpool.emea.contoso.com", "auth": passive},
                   {"fqdn": "lyncpool.us.contoso.com", "auth": passive},
                   {"fqdn": "other.contoso.com", "auth": passive}],
            adfs={"federation_service_name": "adfs.contoso.com", "version": "2016"})
    plan, findings = read_plan(d)
    assert errors(findings) == set()
    names = [(p.rp_names.internal, p.rp_names.external) for p in plan.pools]
    assert names == [("Lync-Int-lyncpool.emea.contoso.com", "Lync-Ext-lyncpool.emea.contoso.com"),
                     ("Lync-Int-lyncpool.us.contoso.com", "Lync-Ext-lyncpool.us.contoso.com"),
                     ("Lync-Int-other", "Lync-Ext-other")]
    assert {("pools[0].relying_parties", "relying_parties_derived"),
            ("pools[1].relying_parties", "relying_parties_derived")} == {
        (f.field, f.code) for f in findings if f.code == "relying_parties_derived"}
    again, _ = load_plan(dumps_plan(plan))
    assert again == plan


def test_a_default_relying_party_name_steps_aside_for_an_explicit_one():
    passive = {"external": "passive"}
    d = doc(pools=[{"fqdn": "a.contoso.com", "auth": passive,
                    "relying_parties": {"internal": "Lync-Int-b", "external": "Lync-Ext-a"}},
                   {"fqdn": "b.contoso.com", "auth": passive}],
            adfs={"federation_service_name": "adfs.contoso.com", "version": "2016"})
    plan, findings = read_plan(d)
    assert errors(findings) == set()
    assert plan.pools[1].rp_names.internal == "Lync-Int-b.contoso.com"


def test_a_null_format_is_one_error():
    _, findings = read_plan(doc(format=None))
    assert [f.code for f in findings if f.field == "format"] == ["required"]


@pytest.mark.parametrize("given,expected", [
    ({"external": "Lync-Ext"}, ("Lync-Int-p1", "Lync-Ext")),
    ({"internal": "Lync-Int", "external": None}, ("Lync-Int", "Lync-Ext-p1")),
    ({}, ("Lync-Int-p1", "Lync-Ext-p1")),
])
def test_a_relying_party_name_left_out_gets_its_default(given, expected):
    # The contract: relying_parties is optional and its names' "defaults are derived from the pool";
    # the wizard's own form shows the derived name for a field left empty.
    d = doc(pools=[{"fqdn": "p1.contoso.com", "auth": {"external": "passive"}, "relying_parties": given}],
            adfs={"federation_service_name": "adfs.contoso.com", "version": "2016"})
    plan, findings = read_plan(d)
    assert errors(findings) == set()
    assert (plan.pools[0].rp_names.internal, plan.pools[0].rp_names.external) == expected
    again, _ = load_plan(dumps_plan(plan))
    assert again == plan


@pytest.mark.parametrize("hours", [{}, {"default": None, "min": None, "max": None}])
def test_certificate_lifetimes_with_none_of_the_three_are_left_alone(hours):
    # The contract: client_certificate_hours is optional, "all three or none".
    d = doc()
    d["pools"][0]["auth"]["client_certificate_hours"] = hours
    plan, findings = read_plan(d)
    assert errors(findings) == set()
    assert plan.pools[0].auth.client_certificate_hours is None


def test_x_keys_inside_objects_are_kept_and_written_back():
    # x_ data is accepted in any object; an import followed by an export must give it back.
    d = doc(x_top=1, edge_pools=[{"fqdn": "e.contoso.com", "x_rack": "B2"}],
            adfs={"federation_service_name": "adfs.contoso.com", "version": "2016", "x_owner": "idm"},
            mobility_policies=[{"identity": "Global", "x_ticket": "CHG-1"}],
            simple_urls={"meet": ["meet.contoso.com"], "x_note": None},
            certificates={"key_size": 2048, "x_template": "WebServer"})
    d["pools"][0].update(x_owner={"team": "uc"}, relying_parties={"internal": "I", "external": "E", "x_n": 1})
    d["pools"][0]["auth"].update(x_why="audit", client_certificate_hours={"default": 8, "min": 8, "max": 8,
                                                                         "x_h": True})
    plan, findings = read_plan(d)
    assert errors(findings) == set()
    out = plan_to_dict(plan)
    assert out["x_top"] == 1
    assert out["pools"][0]["x_owner"] == {"team": "uc"}
    assert out["pools"][0]["auth"]["x_why"] == "audit"
    assert out["pools"][0]["auth"]["client_certificate_hours"]["x_h"] is True
    assert out["pools"][0]["relying_parties"]["x_n"] == 1
    assert out["edge_pools"][0]["x_rack"] == "B2"
    assert out["adfs"]["x_owner"] == "idm"
    assert out["mobility_policies"][0]["x_ticket"] == "CHG-1"
    assert out["simple_urls"]["x_note"] is None
    assert out["certificates"]["x_template"] == "WebServer"
    assert list(out["adfs"])[-1] == "x_owner"  # x_ keys at the end of their object
    text = dumps_plan(plan)
    again, _ = load_plan(text)
    assert dumps_plan(again) == text


def test_x_data_inside_objects_that_cannot_be_written_is_refused():
    d = doc()
    d["pools"][0]["x_note"] = "NUL \x00 here"
    _, findings = read_plan(d)
    assert ("pools[0].x_note", "invalid_text") in errors(findings)


def test_a_key_given_twice_is_refused_naming_its_path():
    # json keeps the last of two equal keys: a pasted block would silently replace another.
    plan = json.loads(json.dumps(doc()))
    text = json.dumps(plan)
    twice_at_top = text[:-1] + ', "name": "Another name"}'
    with pytest.raises(PlanUnreadable, match=r"^name: the key 'name' appears twice in one object$"):
        load_plan(twice_at_top)
    pool = json.dumps(plan["pools"][0])
    twice_in_a_pool = text.replace(pool, '{"fqdn": "other.contoso.com", ' + pool[1:], 1)
    with pytest.raises(PlanUnreadable, match=r"^pools\[0\]\.fqdn: the key 'fqdn' appears twice"):
        load_plan(twice_in_a_pool)
    # The same keys once each read as before.
    parsed, findings = load_plan(text)
    assert parsed is not None, findings


@pytest.mark.parametrize("char", ["\n", "\x1b", "\x7f", "\x85", "\u2028", "\u200b", "\u202e", "\u2066", "\ufeff"])
def test_an_x_key_with_a_control_or_invisible_character_is_refused_at_any_depth(char):
    # Such keys were kept and written back: a key with a line break or a bidirectional override
    # shows the reviewer something other than what the file holds.
    key = f"x_a{char}b"
    shown = f"x_a{ascii(char)[1:-1]}b"
    d = doc(**{key: 1, "x_meta": {f"in{char}ner": [{f"deep{char}": 1}], "ok": {"x_fine": 2}}})
    d["pools"][0][key] = "pool"
    d["pools"][0]["auth"][key] = "auth"
    d["pools"][0]["auth"]["client_certificate_hours"] = {"default": 8, "min": 8, "max": 8, key: 1}
    d["pools"][0]["relying_parties"] = {"internal": "I", "external": "E", key: 1}
    plan, findings = read_plan(d)
    assert plan is None
    assert {(shown, "invalid_key"), (f"pools[0].{shown}", "invalid_key"), (f"pools[0].auth.{shown}", "invalid_key"),
            (f"pools[0].auth.client_certificate_hours.{shown}", "invalid_key"),
            (f"pools[0].relying_parties.{shown}", "invalid_key"),
            (f"x_meta.in{ascii(char)[1:-1]}ner", "invalid_key"),
            (f"x_meta.in{ascii(char)[1:-1]}ner[0].deep{ascii(char)[1:-1]}", "invalid_key")} <= errors(findings)
    message = next(f.message for f in findings if f.field == shown)
    assert "control or invisible character" in message
    assert all(char not in f.field for f in findings)


def test_x_keys_with_visible_unicode_are_kept():
    plan, findings = read_plan(doc(x_clé={"naïve €": "ok", "日本": [1]}))
    assert errors(findings) == set()
    assert plan_to_dict(plan)["x_clé"] == {"naïve €": "ok", "日本": [1]}
