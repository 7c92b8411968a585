"""The lync-auth-state/1 reader: strict like the plan reader, errors by path, FQDNs normalised as in
plans, unknown fields of collected objects kept and ignored, limits on size, nesting and counts."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from wizard.plan.finding import Finding
from wizard.plan.state_reader import (
    LIST_MAX,
    MAX_DEPTH,
    MAX_ERRORS,
    STATE_MAX_BYTES,
    StateUnreadable,
    load_state,
    merge_state_docs,
    parse_state_text,
    read_state,
)

STATES = Path(__file__).resolve().parent / "fixtures" / "states"
FIXTURES = sorted(STATES.glob("*.state.json"))


def fixture(name: str = "sfb2019-adfs2019-wap") -> dict[str, Any]:
    return json.loads((STATES / f"{name}.state.json").read_text(encoding="utf-8"))


def errors(findings: list[Finding]) -> dict[str, str]:
    return {f.field: f.code for f in findings if f.severity == "error"}


def read(doc: dict[str, Any]):
    return read_state(copy.deepcopy(doc))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_fixture_reads_without_errors_or_warnings(path: Path) -> None:
    estate, findings = load_state(path.read_bytes())
    assert estate is not None, errors(findings)
    assert [f for f in findings if f.severity != "info"] == []
    assert estate.collected_at.endswith("Z") and len(estate.collected_at) == 20


def test_unknown_fields_inside_collected_objects_are_kept_and_ignored() -> None:
    doc = fixture("sfb2015-director-two-edges")
    assert "use_domain_auth_in_lwa" in doc["web_service_configurations"][0]
    doc["pools"][0]["x_future"] = {"deep": [1, 2]}
    doc["pools"][0]["registrar_port"] = 5061
    doc["adfs"] = {"federation_service_name": "adfs.contoso.com", "some_new_property": True,
                   "relying_parties": [{"name": "A", "new_rule_kind": "x"}]}
    estate, findings = read(doc)
    assert estate is not None and not errors(findings)
    assert not [f for f in findings if "registrar_port" in f.field or "new_" in f.field]


def test_unknown_top_level_fields_are_errors_but_x_keys_are_kept() -> None:
    doc = fixture()
    doc["typo_pools"] = []
    doc["x_collector_build"] = "2026.12"
    estate, findings = read(doc)
    assert estate is None
    assert errors(findings) == {"typo_pools": "unknown_field"}
    del doc["typo_pools"]
    estate, _ = read(doc)
    assert estate is not None and estate.extensions == (("x_collector_build", "2026.12"),)


@pytest.mark.parametrize("change, field, code", [
    (lambda d: d.update(format="lync-auth-plan/1"), "format", "wrong_format"),
    (lambda d: d.pop("collected_at"), "collected_at", "required"),
    (lambda d: d.update(collected_at="yesterday"), "collected_at", "invalid_date"),
    (lambda d: d.update(collected_at=20261201), "collected_at", "wrong_type"),
    (lambda d: d.pop("product"), "product", "required"),
    (lambda d: d.update(product="lync2010"), "product", "invalid_choice"),
    (lambda d: d.update(pools={"fqdn": "a.contoso.com"}), "pools", "wrong_type"),
    (lambda d: d["pools"].__setitem__(0, "a.contoso.com"), "pools[0]", "wrong_type"),
    (lambda d: d["pools"][0].pop("fqdn"), "pools[0].fqdn", "required"),
    (lambda d: d["pools"][0].update(external_web_fqdn="web .contoso.com"), "pools[0].external_web_fqdn",
     "invalid_fqdn"),
    (lambda d: d["pools"][0].update(role="edge"), "pools[0].role", "invalid_choice"),
    (lambda d: d["sip_domains"].append("Contoso.COM"), "sip_domains[1]", "duplicate"),
    (lambda d: d["web_service_configurations"][0].update(use_windows_auth="Kerberos"),
     "web_service_configurations[0].use_windows_auth", "invalid_choice"),
    (lambda d: d["web_service_configurations"][0].update(use_certificate_auth="true"),
     "web_service_configurations[0].use_certificate_auth", "wrong_type"),
    (lambda d: d["web_service_configurations"][0].update(default_validity_period_hours=10**30),
     "web_service_configurations[0].default_validity_period_hours", "out_of_range"),
    (lambda d: d["web_service_configurations"][0].update(default_validity_period_hours=4320.5),
     "web_service_configurations[0].default_validity_period_hours", "wrong_type"),
    (lambda d: d["web_service_configurations"][1].update(identity="service:Registrar:x.contoso.com"),
     "web_service_configurations[1].identity", "invalid_identity"),
    (lambda d: d["web_service_configurations"][1].update(identity="GLOBAL"),
     "web_service_configurations[1].identity", "duplicate"),
    (lambda d: d["proxy_configurations"][0].update(identity="site:Oslo"), "proxy_configurations[0].identity",
     "invalid_identity"),
    (lambda d: d["mobility_policies"][1].update(identity="user:someone"), "mobility_policies[1].identity",
     "invalid_identity"),
    (lambda d: d["mobility_policies"][0].update(allow_save_credentials=0), "mobility_policies[0].allow_save_credentials",
     "wrong_type"),
    (lambda d: d["certificates"][0].update(thumbprint="not-a-thumbprint"), "certificates[0].thumbprint",
     "invalid_text"),
    (lambda d: d["certificates"][0].update(not_after="2027-13-01"), "certificates[0].not_after", "invalid_date"),
    (lambda d: d["adfs"].update(version="3.0"), "adfs.version", "invalid_choice"),
    (lambda d: d["adfs"]["relying_parties"][0].update(name="Lync\nExt"), "adfs.relying_parties[0].name",
     "invalid_text"),
    (lambda d: d["adfs"]["relying_parties"][1].update(name="lync-ext-SFBPOOL"), "adfs.relying_parties[1].name",
     "duplicate"),
    (lambda d: d["adfs"]["relying_parties"][0].update(issuance_transform_rules="a\x07b"),
     "adfs.relying_parties[0].issuance_transform_rules", "invalid_text"),
    (lambda d: d["adfs"]["relying_parties"][0].update(identifiers="https://x"), "adfs.relying_parties[0].identifiers",
     "wrong_type"),
    (lambda d: d["adfs"].update(web_application_proxy="yes"), "adfs.web_application_proxy", "wrong_type"),
])
def test_each_problem_is_an_error_named_by_its_path(change, field: str, code: str) -> None:
    doc = fixture()
    change(doc)
    estate, findings = read(doc)
    assert estate is None
    assert errors(findings).get(field) == code, errors(findings)


def test_fqdns_are_normalised_exactly_as_in_plans() -> None:
    doc = fixture()
    doc["pools"][0]["fqdn"] = " Service:WebServer:SfbPool.Corp.Contoso.com. "
    doc["pools"][0]["external_web_fqdn"] = "B\u00fccher.Contoso.com"
    doc["edge_pools"][0]["fqdn"] = "EdgeServer:SFBEDGE.corp.contoso.com"
    estate, findings = read(doc)
    assert estate is not None
    assert estate.pools[0].fqdn == "sfbpool.corp.contoso.com"
    assert estate.pools[0].external_web_fqdn == "xn--bcher-kva.contoso.com"
    assert estate.edge_pools[0].fqdn == "sfbedge.corp.contoso.com"
    codes = {(f.field, f.code) for f in findings}
    assert ("pools[0].fqdn", "scope_prefix_stripped") in codes
    assert ("pools[0].external_web_fqdn", "fqdn_normalised") in codes
    assert ("edge_pools[0].fqdn", "scope_prefix_stripped") in codes



def test_a_meeting_url_listed_twice_is_kept_once_and_said() -> None:
    doc = fixture()
    doc["simple_urls"] = {"meet": ["meet.contoso.com", "MEET.contoso.com", "meet.fabrikam.com"],
                          "dialin": None, "admin": None}
    estate, findings = read(doc)
    assert estate is not None
    assert estate.simple_urls.meet == ("meet.contoso.com", "meet.fabrikam.com")
    notes = [f for f in findings if f.code == "duplicate_removed"]
    assert [(f.severity, f.field) for f in notes] == [("info", "simple_urls.meet[1]")]
    assert "simple_urls.meet[0]" in notes[0].message

def test_identities_and_enums_take_the_plan_side_spelling() -> None:
    doc = fixture()
    doc["web_service_configurations"][1]["identity"] = "SERVICE:webserver:SFBPOOL.corp.contoso.com"
    doc["web_service_configurations"][0]["use_windows_auth"] = "ntlm"
    doc["mobility_policies"][1]["identity"] = "SITE:Oslo"
    estate, _ = read(doc)
    assert estate is not None
    assert estate.web_service_configurations[1].identity == "service:WebServer:sfbpool.corp.contoso.com"
    assert estate.web_service_configurations[0].use_windows_auth == "NTLM"
    assert estate.mobility_policies[1].identity == "site:Oslo"
    assert estate.web_service_for("sfbpool.corp.contoso.com") is estate.web_service_configurations[1]


def test_dates_are_read_as_utc() -> None:
    doc = fixture()
    doc["collected_at"] = "2026-12-01T10:30:00.1234567+01:00"
    doc["certificates"][0]["not_after"] = "2027-08-20T10:00:00"
    estate, findings = read(doc)
    assert estate is not None
    assert estate.collected_at == "2026-12-01T09:30:00Z"
    assert estate.certificates[0].not_after == "2027-08-20T10:00:00Z"
    assert ("certificates[0].not_after", "timezone_assumed") in {(f.field, f.code) for f in findings}


def test_subscription_edition_and_an_adfs_only_file_are_read() -> None:
    doc = fixture()
    doc["product"] = "sfbse"
    estate, _ = read(doc)
    assert estate is not None and estate.product == "sfbse"
    only_adfs = {"format": "lync-auth-state/1", "collected_at": "2026-12-01T09:41:17Z", "adfs": doc["adfs"]}
    estate, findings = read(only_adfs)
    assert not errors(findings)
    assert estate is not None and not estate.has_management_shell_data and estate.adfs is not None


def test_rules_text_keeps_its_line_breaks() -> None:
    estate, _ = read(fixture())
    assert estate is not None
    assert "\r\n" in (estate.adfs.relying_parties[0].issuance_transform_rules or "")


# --- what a hostile file cannot do -----------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[]", "one JSON object"),
    (b"{", "not valid JSON"),
    (b'{"a": NaN}', "NaN"),
    (b'{"a": -Infinity}', "Infinity"),
    (b'{"a": 1, "a": 2}', "appears twice"),
    (b'{"a": ' + b"9" * 5000 + b"}", r"^a: .*too long to be a number"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b" " * (STATE_MAX_BYTES + 1), "at most 512 KB"),
])
def test_what_is_not_a_state_file_is_unreadable(text: bytes, message: str) -> None:
    with pytest.raises(StateUnreadable, match=message):
        parse_state_text(text)


def test_a_byte_order_mark_is_accepted() -> None:
    data = (STATES / "lync2013-adfs20.state.json").read_bytes()
    estate, _ = load_state(b"\xef\xbb\xbf" + data)
    assert estate is not None


def test_deep_nesting_in_an_unknown_field_is_an_error_by_path() -> None:
    doc = fixture()
    deep: Any = "bottom"
    for _ in range(MAX_DEPTH + 5):
        deep = {"k": deep}
    doc["pools"][0]["future"] = deep
    estate, findings = read(doc)
    assert estate is None
    assert any(f.code == "too_deep" and f.field.startswith("pools[0].future.k") for f in findings)


@pytest.mark.parametrize("bad", ["\ud800", "a\x00b"])
def test_text_that_cannot_be_stored_is_refused_wherever_it_is(bad: str) -> None:
    for place in ("value", "key", "x_"):
        doc = fixture()
        if place == "value":
            doc["pools"][0]["future"] = ["ok", bad]
            field = "pools[0].future[1]"
        elif place == "key":
            doc["adfs"]["relying_parties"][0][bad] = 1
            field = "adfs.relying_parties[0]"
        else:
            doc["x_note"] = {"a": bad}
            field = "x_note.a"
        estate, findings = read(doc)
        assert estate is None
        assert errors(findings).get(field) == "invalid_text", (place, errors(findings))


def test_a_number_too_large_for_json_is_refused_by_path() -> None:
    estate, findings = load_state(b'{"format": "lync-auth-state/1", "collected_at": "2026-12-01T09:00:00Z", '
                                  b'"adfs": {"future": [1e400]}}')
    assert estate is None and errors(findings) == {"adfs.future[0]": "invalid_number"}


def test_a_hostile_key_gives_a_printable_path() -> None:
    doc = fixture()
    doc["bad\nkey\u202e"] = 1
    doc["pools"][0]["x\r\ny"] = "\ud800"
    estate, findings = read(doc)
    assert estate is None
    fields = {f.field for f in findings}
    assert "pools[0].x\\r\\ny" in fields
    assert all("\n" not in f and "\u202e" not in f for f in fields)
    estate, findings = read({**fixture(), "bad\nkey": 1})
    assert errors(findings) == {"bad\\nkey": "unknown_field"}


def test_lists_are_limited_and_errors_are_capped() -> None:
    doc = fixture()
    doc["sip_domains"] = [f"d{i}.contoso.com" for i in range(LIST_MAX + 1)]
    estate, findings = read(doc)
    assert estate is None and errors(findings) == {"sip_domains": "too_many"}
    doc = fixture()
    doc["sip_domains"] = ["bad name"] * LIST_MAX
    estate, findings = read(doc)
    bad = [f for f in findings if f.severity == "error"]
    assert len(bad) == MAX_ERRORS + 1 and bad[-1].code == "too_many_errors"


# --- two runs of the collector, merged ----------------------------------------------------------

def test_a_management_shell_run_and_an_adfs_run_merge_into_one_state() -> None:
    whole = fixture()
    shell = {k: v for k, v in whole.items() if k != "adfs"}
    adfs = {"format": "lync-auth-state/1", "collected_at": "2026-11-30T07:00:00Z", "collected_on": "adfs01.contoso.com",
            "adfs": {k: v for k, v in whole["adfs"].items() if k not in ("collected_at", "collected_on")}}
    for base, addition in ((shell, adfs), (adfs, shell)):
        merged = merge_state_docs(base, addition)
        estate, findings = read(merged)
        assert estate is not None, errors(findings)
        assert estate.product == "sfb2019" and estate.adfs is not None
        assert estate.adfs.collected_at == "2026-11-30T07:00:00Z"
        assert estate.adfs.collected_on == "adfs01.contoso.com"
        assert estate.collected_at == "2026-11-30T07:00:00Z"   # the older half
        assert estate.collected_on == "sfbfe01.corp.contoso.com"
    newer = merge_state_docs(whole, {**shell, "sip_domains": ["fabrikam.com"]})
    assert newer["sip_domains"] == ["fabrikam.com"] and newer["adfs"]["relying_parties"]


def test_a_new_management_shell_run_merged_into_a_merged_state_dates_it_by_its_adfs_part() -> None:
    # Day 1 the Management Shell, day 2 AD FS, day 10 the Management Shell again: the file holds the runs of
    # days 2 and 10, so it is dated day 2, never day 1 (a run it no longer holds).
    whole = fixture()
    shell = {k: v for k, v in whole.items() if k != "adfs"}
    adfs = {"format": "lync-auth-state/1", "collected_at": "2026-11-02T07:00:00Z", "collected_on": "adfs01.contoso.com",
            "adfs": {k: v for k, v in whole["adfs"].items() if k not in ("collected_at", "collected_on")}}
    first = merge_state_docs({**shell, "collected_at": "2026-11-01T07:00:00Z"}, adfs)
    assert first["collected_at"] == "2026-11-01T07:00:00Z"
    again = merge_state_docs(first, {**shell, "collected_at": "2026-11-10T07:00:00Z"})
    estate, findings = read(again)
    assert estate is not None, errors(findings)
    assert estate.adfs is not None and estate.adfs.collected_at == "2026-11-02T07:00:00Z"
    assert estate.collected_at == "2026-11-02T07:00:00Z"


def test_a_plan_file_given_as_a_state_file_is_named_as_such() -> None:
    doc = json.loads((Path(__file__).parent / "fixtures" / "plans" / "s01-passive-extranet-mfa.json")
                      .read_text(encoding="utf-8"))
    estate, findings = read_state(doc)
    assert estate is None
    assert [(f.code, f.field) for f in findings] == [("wrong_format", "format")]
    assert "this is a plan file (lync-auth-plan/1), not a state file" in findings[0].message


@pytest.mark.parametrize("text, message", [
    (b'{"format": "lync-auth-state/1", "pools": [{"fqdn": "a.contoso.com", "fqdn": "b.contoso.com"}]}',
     r"^pools\[0\]\.fqdn: .*appears twice"),
    (b'{"format": "lync-auth-state/1", "format": "lync-auth-state/1"}', r"^format: .*appears twice"),
    (b'{"adfs": {"relying_parties": [{"name": "x"}, {"name": "y", "x_n": [1, NaN]}]}}',
     r"^adfs\.relying_parties\[1\]\.x_n\[1\]: .*NaN"),
    (b'{"web_service_configurations": [{"default_validity_period_hours": Infinity}]}',
     r"^web_service_configurations\[0\]\.default_validity_period_hours: .*Infinity"),
    (b'{"adfs": {"farm_behavior_level": ' + b"9" * 5000 + b"}}", r"^adfs\.farm_behavior_level: .*too long"),
])
def test_a_repeated_key_or_a_non_number_is_named_by_its_path(text: bytes, message: str) -> None:
    # The contract: every error names its field by path, these two included.
    with pytest.raises(StateUnreadable, match=message):
        parse_state_text(text)


def _documented_example() -> dict[str, Any]:
    text = (Path(__file__).resolve().parent.parent / "docs" / "state-format.md").read_text(encoding="utf-8")
    block = text.split("```jsonc", 1)[1].split("```", 1)[0]
    return json.loads(re.sub(r" +// [^\n]*", "", block))


def test_the_documented_product_version_is_a_full_build_number() -> None:
    # The contract's product_version tells the cumulative update: a build number with all four parts
    # (7.0.2046.530), the form Get-CsServerVersion writes too, never a shortened one.
    example = _documented_example()
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", example["product_version"])
    estate, findings = read({**example, "certificates": [], "adfs": None})
    assert estate is not None, findings
    assert estate.product_version == example["product_version"]


def test_a_certificate_name_normalised_is_reported_as_every_fqdn_is() -> None:
    # "FQDNs are normalised exactly as in a plan": each normalisation that changed something is an info finding.
    doc = fixture()
    doc["certificates"][0]["alternative_names"] = ["LyncWeb.Contoso.com.", "*.contoso.com", "meet.contoso.com"]
    estate, findings = read(doc)
    assert estate is not None
    assert estate.certificates[0].alternative_names == ("lyncweb.contoso.com", "*.contoso.com", "meet.contoso.com")
    notes = {(f.field, f.code) for f in findings if f.severity == "info"}
    assert ("certificates[0].alternative_names[0]", "fqdn_normalised") in notes
    assert not any(f.field.startswith("certificates[0].alternative_names[1") for f in findings)


def test_an_fqdn_normalised_inside_an_identity_is_reported_but_the_cmdlets_prefix_case_is_not() -> None:
    doc = fixture()
    doc["web_service_configurations"][1]["identity"] = "Service:WebServer:SFBPOOL.corp.contoso.com."
    doc["mobility_policies"][1]["identity"] = "Site:Oslo"
    estate, findings = read(doc)
    assert estate is not None
    assert estate.web_service_configurations[1].identity == "service:WebServer:sfbpool.corp.contoso.com"
    notes = {f.field for f in findings if f.code == "identity_normalised"}
    assert notes == {"web_service_configurations[1].identity"}
    doc["web_service_configurations"][1]["identity"] = "SERVICE:webserver:sfbpool.corp.contoso.com"
    _, findings = read(doc)
    assert not any(f.code == "identity_normalised" for f in findings)
    doc["web_service_configurations"][1]["identity"] = "Service:WebServer:SfbPool.corp.contoso.com"
    _, findings = read(doc)
    assert {f.field for f in findings if f.code == "identity_normalised"} == {"web_service_configurations[1].identity"}


@pytest.mark.parametrize("text, build", [
    ("Skype for Business Server 2019 (7.0.2046.0): Volume license key installed.", "7.0.2046.0"),
    ("Lync Server 2013 (5.0.8308.0): Volume license key installed.", "5.0.8308.0"),
])
def test_product_version_as_get_csserverversion_says_it_is_read(text: str, build: str) -> None:
    """The contract names the source of `product_version`: what Get-CsServerVersion says (or the module's
    version). That cmdlet answers with a sentence (product, build in parentheses, a colon and the licence):
    a file that holds it reads, and the build number, the part that tells the cumulative update, is kept
    (with a note, as every normalisation has)."""
    doc = fixture()
    doc["product_version"] = text
    estate, findings = read(doc)
    assert estate is not None, errors(findings)
    assert estate.product_version == build
    assert ("product_version", "version_normalised") in {(f.field, f.code) for f in findings if f.severity == "info"}


@pytest.mark.parametrize("text", ["7.0.2046.530", "Skype for Business Server 2019 (7.0.2046.0)"])
def test_a_product_version_that_read_before_is_kept_as_it_is(text: str) -> None:
    doc = fixture()
    doc["product_version"] = text
    estate, findings = read(doc)
    assert estate is not None and estate.product_version == text
    assert not [f for f in findings if f.field == "product_version"]


@pytest.mark.parametrize("text", ["no version here: at all", "7.0;rm -rf", "(1.2.3.4)" + "x" * 300])
def test_a_product_version_without_a_build_number_is_still_an_error(text: str) -> None:
    doc = fixture()
    doc["product_version"] = text
    estate, findings = read(doc)
    assert estate is None and errors(findings).get("product_version") == "invalid_text"
