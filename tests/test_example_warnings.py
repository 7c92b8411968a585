"""The three shared example plans: the findings cover every "Must warn" item of the examples' README.

The plans are the copies in tests/fixtures/plans/. Each test names the README item it covers and
asserts on finding codes and on the words an admin needs to see.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from wizard.plan.finding import Finding, has_errors
from wizard.plan.findings import check_plan
from wizard.plan.model import PlanData
from wizard.plan.reader import read_plan

PLANS = Path(__file__).resolve().parent / "fixtures" / "plans"
EXAMPLES = (
    "s01-passive-extranet-mfa",
    "s02-tls-dsk-30-day-certificates",
    "s03-ntlm-kept-mobility-hardened",
)


def load(name: str) -> PlanData:
    plan, findings = read_plan(json.loads((PLANS / f"{name}.json").read_text(encoding="utf-8")))
    assert plan is not None, findings
    return plan


def one(findings: list[Finding], code: str, field: str | None = None) -> Finding:
    hits = [f for f in findings if f.code == code and (field is None or f.field == field)]
    assert len(hits) == 1, (code, field, [(f.code, f.field) for f in findings])
    return hits[0]


def has_words(finding: Finding, *words: str) -> None:
    for word in words:
        assert word in finding.message, (finding.code, word)


@pytest.fixture(scope="module")
def s01() -> list[Finding]:
    return check_plan(load("s01-passive-extranet-mfa"))


@pytest.fixture(scope="module")
def s02() -> list[Finding]:
    return check_plan(load("s02-tls-dsk-30-day-certificates"))


@pytest.fixture(scope="module")
def s03() -> list[Finding]:
    return check_plan(load("s03-ntlm-kept-mobility-hardened"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_have_no_blocking_finding(name):
    """Each example must render, so none of its findings is an error."""
    assert not has_errors(check_plan(load(name)))


# ---------------------------------------------------------------------------
# s01: passive (AD FS) authentication with MFA from the extranet


def test_s01_passive_applies_to_every_user_of_the_pool(s01):
    f = one(s01, "passive_pool_wide", "pools[0].auth.external")
    has_words(f, "every user", "lyncpool01.contoso.com")


def test_s01_clients_without_passive_support_can_no_longer_sign_in(s01):
    f = one(s01, "passive_unsupported_clients", "pools[0].auth.external")
    has_words(f, "Mac", "Lync 2010", "Lync Phone Edition", "3PIP", "room systems", "older mobile app builds",
              "can no longer sign in")


def test_s01_exchange_dependent_features_stop(s01):
    f = one(s01, "passive_exchange_features_lost", "pools[0].auth.external")
    has_words(f, "Exchange", "Unified Contact Store", "EWS", "Invoke-CsUcsRollback")


def test_s01_certificate_auth_kept_on_unlike_the_microsoft_procedure(s01):
    f = one(s01, "passive_certificate_auth_kept", "pools[0].auth.certificate_auth")
    has_words(f, "Microsoft's documentation disagrees", "turns it off", "keeps it on", "mobile")
    assert not [x for x in s01 if x.code == "passive_certificate_auth_off"]


def test_s01_mfa_rule_fires_only_for_extranet_requests_through_wap(s01):
    f = one(s01, "mfa_extranet_only_via_proxy", "adfs.mfa")
    has_words(f, "extranet", "Web Application Proxy", "insidecorporatenetwork")


def test_s01_mfa_needs_a_provider(s01):
    f = one(s01, "mfa_provider_required", "adfs.mfa")
    has_words(f, "provider", "Set-AdfsGlobalAuthenticationPolicy", "-AdditionalAuthenticationProvider")


def test_s01_adfs_must_reach_both_metadata_urls(s01):
    f = one(s01, "passive_relying_party_metadata")
    has_words(
        f, "both",
        "https://lyncpool01.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml",
        "https://lyncweb.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml",
        "'Lync-Int'", "'Lync-Ext'",
    )


# ---------------------------------------------------------------------------
# s02: certificate (TLS-DSK) sign-in only from the Internet


def test_s02_edge_block_leaves_web_services_open_to_ntlm(s02):
    f = one(s02, "edge_ntlm_block_sip_only", "edge_pools[0].block_ntlm")
    has_words(f, "sfbedge.fabrikam.com", "/CertProv", "/WebTicket", "NTLM", "password guessing",
              "account lockout")


def test_s02_first_certificate_comes_through_the_web_services(s02):
    f = one(s02, "tls_dsk_first_certificate", "pools[0].auth.external")
    has_words(f, "never signed in", "first", "CertProv",
              "https://sfbweb.fabrikam.com/CertProv/CertProvisioningService.svc")


def test_s02_thirty_day_certificates_and_revocation(s02):
    f = one(s02, "tls_dsk_certificate_lifetime", "pools[0].auth.client_certificate_hours.default")
    has_words(f, "720 hours", "every 30 days", "password", "Revoke-CsClientCertificate", "Get-CsClientCertificate")


def test_s02_clients_without_tls_dsk_cannot_sign_in_externally(s02):
    f = one(s02, "tls_dsk_unsupported_clients", "pools[0].auth.external")
    has_words(f, "cannot sign in with TLS-DSK", "can no longer sign in", "from the Internet")


def test_s02_blocking_edge_means_tls_dsk_is_enforced(s02):
    assert not [f for f in s02 if f.code == "tls_dsk_edge_not_blocking"]


# ---------------------------------------------------------------------------
# s03: NTLM kept, mobile clients hardened


def test_s03_ntlm_reachable_from_the_internet_through_web_services(s03):
    f = one(s03, "ntlm_exposed", "pools[0].auth.external")
    has_words(f, "reverse proxy", "lync.northwindtraders.com", "guess passwords", "lock accounts out",
              "lyncedge01.northwind.local", "Lync Security Filter")


def test_s03_ntlm_reachable_from_the_internet_through_the_edge(s03):
    f = one(s03, "edge_ntlm_exposed", "edge_pools[0].block_ntlm")
    has_words(f, "lyncedge01.northwind.local", "NTLM", "guessed", "locked out")


def test_s03_save_credentials_off_signs_the_ios_app_out(s03):
    f = one(s03, "mobility_save_credentials_off", "mobility_policies[0].allow_save_credentials")
    has_words(f, "AllowSaveCredentials", "iOS", "background", "signs the user out")


@pytest.mark.parametrize(("field", "param"), [
    ("mobility_policies[0].allow_save_credentials", "AllowSaveCredentials"),
    ("mobility_policies[0].allow_exchange_connectivity", "AllowExchangeConnectivity"),
])
def test_s03_lync_2013_mobility_parameters_need_a_cumulative_update(s03, field, param):
    f = one(s03, "mobility_parameter_needs_cu", field)
    has_words(f, param, "Lync Server 2013", "cumulative update", "Skype for Business Server only",
              "Microsoft's documentation disagrees", "first")


def test_s03_enable_mobility_true_gets_no_update_warning(s03):
    assert "mobility_policies[0].enable_mobility" not in {f.field for f in s03}
