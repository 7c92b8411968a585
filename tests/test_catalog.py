"""The cmdlet catalog: what the build tool keeps, what the overrides change, how lookups resolve."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from wizard.proof.catalog import (
    CATALOG_PATH,
    VALUE_ARRAY,
    VALUE_BAREWORD,
    VALUE_BOOL,
    VALUE_EXPANDABLE,
    VALUE_INT,
    VALUE_NONE,
    VALUE_STRING,
    VALUE_UNKNOWN,
    load_catalog,
)

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import build_catalog  # noqa: E402 (after the path set-up)

OVERRIDES = REPO / "wizard" / "proof" / "catalog" / "overrides.json"
# The Microsoft reference the catalog was built from lives outside the repository and the
# product never reads it. A maintainer who rebuilds the catalog points WIZARD_REFERENCE_CMDLETS
# at that cmdlets.json to prove the committed catalog is what the tool builds; otherwise skipped.
_REFERENCE_ENV = os.environ.get("WIZARD_REFERENCE_CMDLETS", "")
REFERENCE = Path(_REFERENCE_ENV) if _REFERENCE_ENV else None
needs_reference = pytest.mark.skipif(
    REFERENCE is None or not REFERENCE.exists(),
    reason="set WIZARD_REFERENCE_CMDLETS to the reference cmdlets.json to check the catalog build",
)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


# --- the build ---------------------------------------------------------------------------------
# The build runs in CI on a small fixture copied from the reference (tests/fixtures/reference/,
# written by tools/catalog_fixture.py): every cmdlet an override names, plus a few of each module.

FIXTURE = REPO / "tests" / "fixtures" / "reference" / "cmdlets.json"


@pytest.fixture(scope="module")
def fixture_build():
    return build_catalog.build(FIXTURE, OVERRIDES)


def test_each_fixture_cmdlet_builds_exactly_as_committed(fixture_build):
    committed = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    assert fixture_build["cmdlets"], "the fixture holds no cmdlet"
    for name, entry in fixture_build["cmdlets"].items():
        assert entry == committed["cmdlets"][name], f"{name}: rebuild the catalog with tools/build_catalog.py"
    assert fixture_build["common_parameters"] == committed["common_parameters"]


def test_the_fixture_holds_every_cmdlet_an_override_names():
    import catalog_fixture

    overrides = json.loads(OVERRIDES.read_text(encoding="utf-8"))
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    missing = catalog_fixture.override_cmdlets(overrides) - set(fixture)
    assert not missing, f"run tools/catalog_fixture.py: the fixture lacks {sorted(missing)}"


def _overrides_with(tmp_path, change):
    overrides = json.loads(OVERRIDES.read_text(encoding="utf-8"))
    change(overrides)
    path = tmp_path / "overrides.json"
    path.write_text(json.dumps(overrides), encoding="utf-8")
    return path


def test_an_override_naming_a_missing_parameter_stops_the_build(tmp_path):
    path = _overrides_with(tmp_path, lambda o: o["overrides"].append({
        "id": "typo", "kind": "online_only", "cmdlets": ["Set-CsMobilityPolicy"], "parameters": ["EncryptAppDta"],
        "why": "a typo must not pass silently"}))
    with pytest.raises(build_catalog.CatalogBuildError, match="EncryptAppDta"):
        build_catalog.build(FIXTURE, path)


def test_an_override_naming_a_missing_cmdlet_stops_the_build(tmp_path):
    path = _overrides_with(tmp_path, lambda o: o["overrides"].append({
        "id": "typo", "kind": "online_only", "cmdlets": ["Set-CsMobiltyPolicy"], "parameters": ["EncryptAppData"],
        "why": "a typo must not pass silently"}))
    with pytest.raises(build_catalog.CatalogBuildError, match="Set-CsMobiltyPolicy"):
        build_catalog.build(FIXTURE, path)


def test_an_override_without_a_reason_stops_the_build(tmp_path):
    path = _overrides_with(tmp_path, lambda o: o["overrides"][0].update(why=" "))
    with pytest.raises(build_catalog.CatalogBuildError, match="why"):
        build_catalog.build(FIXTURE, path)


def test_an_unknown_override_kind_stops_the_build(tmp_path):
    path = _overrides_with(tmp_path, lambda o: o["overrides"][0].update(kind="guess"))
    with pytest.raises(build_catalog.CatalogBuildError, match="unknown kind"):
        build_catalog.build(FIXTURE, path)


def test_check_mode_reports_a_stale_file(tmp_path):
    stale = tmp_path / "cmdlets.json"
    stale.write_text("{}", encoding="utf-8")
    assert build_catalog.main([str(FIXTURE), "--output", str(stale), "--check"]) == 1
    assert build_catalog.main([str(FIXTURE), "--output", str(stale)]) == 0
    assert build_catalog.main([str(FIXTURE), "--output", str(stale), "--check"]) == 0


# With the whole reference at hand (a maintainer rebuilding the catalog), the committed file is
# exactly what the tool builds from it.

@needs_reference
def test_the_committed_catalog_is_what_the_tool_builds_now():
    built = build_catalog.render(build_catalog.build(REFERENCE, OVERRIDES))
    assert built == CATALOG_PATH.read_text(encoding="utf-8"), "rebuild with tools/build_catalog.py"


@needs_reference
def test_every_reference_cmdlet_is_kept(catalog):
    # The catalog is the reference plus the cmdlets an `add_cmdlet` override adds (with its sources).
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    overrides = json.loads(OVERRIDES.read_text(encoding="utf-8"))["overrides"]
    added = sorted(o["cmdlet"] for o in overrides if o["kind"] == "add_cmdlet")
    assert sorted([*reference, *added]) == catalog.names()
    assert not set(added) & set(reference)
    assert {catalog.lookup(n).module for n in reference} == {"SkypeForBusiness", "ADFS", "pki"}


def test_every_override_says_why_and_cites_its_source():
    data = json.loads(OVERRIDES.read_text(encoding="utf-8"))
    for entry in data["overrides"]:
        assert len(entry["why"]) > 60, entry["id"]
        assert entry.get("sources"), entry["id"]
    assert data["common_parameters"]["why"]


def test_version_and_provenance(catalog):
    assert catalog.version.startswith("2026-11-22+")
    repos = catalog.provenance["repositories"]
    assert repos["MicrosoftDocs/office-docs-powershell"]["snapshot_commit"] == "93336da2bca96c31c0fc8acc52658a30ef8a6c94"
    assert "winserver2012r2_docset_commit" in repos["MicrosoftDocs/windows-powershell-docs"]
    files = catalog.provenance["files"]
    assert files["SkypeForBusiness/Set-CsWebServiceConfiguration.md"]["repo"] == "MicrosoftDocs/office-docs-powershell"
    assert "ADFS-winserver2012r2/Set-AdfsRelyingPartyTrust.md" in files
    assert len(catalog.provenance["overrides_sha256"]) == 64


# --- lookups ------------------------------------------------------------------------------------

def test_lookup_ignores_case_and_module_prefix(catalog):
    for spelled in ("set-cswebserviceconfiguration", "SET-CSWEBSERVICECONFIGURATION",
                    "SkypeForBusiness\\Set-CsWebServiceConfiguration"):
        assert catalog.lookup(spelled).name == "Set-CsWebServiceConfiguration"
    assert catalog.lookup("Set-CsNothing") is None


@pytest.mark.parametrize("name,checked", [
    ("Get-CsUser", True), ("Get-CsSomethingNew", True), ("Get-AdfsAnything", True),
    ("Test-Certificate", True), ("Export-Csv", False), ("ConvertTo-Csv", False),
    ("Write-Host", False), ("Start-Transcript", False), ("Import-Module", False),
])
def test_which_names_must_be_catalogued(catalog, name, checked):
    assert catalog.must_check(name) is checked


@pytest.mark.parametrize("spelled,name", [
    ("-Identity", "Identity"), ("identity", "Identity"), ("-wi", "WhatIf"), ("-ea", "ErrorAction"),
    ("-UseWsFedPassiveA", "UseWsFedPassiveAuth"), ("-DefaultValidity", "DefaultValidityPeriodHours"),
    ("-WhatIf:", "WhatIf"), ("\u2013Force", "Force"),
])
def test_parameters_resolve_by_name_alias_and_unambiguous_prefix(catalog, spelled, name):
    check = catalog.check_parameter("Set-CsWebServiceConfiguration", spelled, product="sfb2019")
    assert check.ok and check.parameter.name == name


def test_ambiguous_and_unknown_parameters(catalog):
    assert catalog.check_parameter("Set-CsWebServiceConfiguration", "-Use", product="sfb2019").status == "ambiguous"
    check = catalog.check_parameter("Set-CsProxyConfiguration", "-UseCertifcateForClientToProxyAuth", product="sfb2019")
    assert check.status == "unknown" and not check.ok


# --- availability by product -------------------------------------------------------------------

@pytest.mark.parametrize("cmdlet,param,product,status", [
    ("Set-CsWebServiceConfiguration", "UseWsFedPassiveAuth", "lync2013", "ok"),
    ("Set-CsWebServiceConfiguration", "MobilePreferredAuthType", "lync2013", "not_on_product"),
    ("Set-CsWebServiceConfiguration", "MobilePreferredAuthType", "sfb2015", "ok"),
    ("Set-CsWebServiceConfiguration", "UseDomainAuthInLWA", "lync2013", "needs_cu"),
    ("Set-CsWebServiceConfiguration", "OverrideAuthTypeForExternalClients", "lync2013", "not_on_product"),
    ("Set-CsWebServiceConfiguration", "OverrideAuthTypeForExternalClients", "sfb2015", "needs_cu"),
    ("Set-CsWebServiceConfiguration", "OverrideAuthTypeForExternalClients", "sfb2019", "ok"),
    ("Set-CsMobilityPolicy", "AllowSaveCredentials", "lync2013", "needs_cu"),
    ("Set-CsMobilityPolicy", "AllowExchangeConnectivity", "lync2013", "needs_cu"),
    ("New-CsMobilityPolicy", "RequireWiFiForSharing", "lync2013", "needs_cu"),
    ("Set-CsMobilityPolicy", "AllowSaveCredentials", "sfb2015", "ok"),
    ("Set-CsMobilityPolicy", "RequireWIFIForIPAudio", "lync2013", "ok"),
    ("New-CsMobilityPolicy", "RequireWIFIForIPAudio", "sfb2019", "ok"),
    ("Set-CsMobilityPolicy", "EncryptAppData", "sfb2019", "online_only"),
    ("Set-CsMobilityPolicy", "RequireIntune", "sfb2019", "online_only"),
    ("New-CsMobilityPolicy", "AllowAutomaticPstnFallback", "lync2013", "online_only"),
    # The help's parameter lines say 2019 only; Microsoft's Modern Authentication page and KB 4346673 say the
    # July 2018 cumulative update brought it to 2015 (override modern-auth-set-csauthconfig-on-2015).
    ("Set-CsAuthConfig", "Scenario", "sfb2015", "needs_cu"),
    ("Set-CsAuthConfig", "Scenario", "sfb2019", "ok"),
    ("Set-CsAuthConfig", "Scenario", "sfbse", "ok"),
    ("Set-CsOAuthConfiguration", "ClientAdalAuthOverride", "sfbse", "online_only"),
    ("New-CsOAuthServer", "Type", "lync2013", "not_on_product"),
    ("New-CsOAuthServer", "Type", "sfb2015", "needs_cu"),
    ("New-CsOAuthServer", "Type", "sfbse", "ok"),
    # The switch that turns Modern Authentication on came with it: the March 2016 cumulative update on 2015
    # (override modern-auth-client-authorization-on-2015), like -Type.
    ("Set-CsOAuthConfiguration", "ClientAuthorizationOAuthServerIdentity", "sfb2015", "needs_cu"),
    ("Set-CsOAuthConfiguration", "ClientAuthorizationOAuthServerIdentity", "sfb2019", "ok"),
    ("Set-CsOAuthConfiguration", "ClientAuthorizationOAuthServerIdentity", "sfbse", "ok"),
    ("Set-CsOAuthConfiguration", "ClientAuthorizationOAuthServerIdentity", "lync2013", "not_on_product"),
    ("Request-CsCertificate", "AllSipDomain", "lync2013", "ok"),
])
def test_parameter_availability_per_product(catalog, cmdlet, param, product, status):
    assert catalog.check_parameter(cmdlet, param, product=product).status == status


@pytest.mark.parametrize("cmdlet,param,version,status", [
    ("Set-AdfsRelyingPartyTrust", "AdditionalAuthenticationRules", "2.0", "not_on_adfs_version"),
    ("Set-AdfsRelyingPartyTrust", "AdditionalAuthenticationRules", "2012r2", "ok"),
    ("Set-AdfsRelyingPartyTrust", "AccessControlPolicyName", "2.0", "not_on_adfs_version"),
    ("Set-AdfsRelyingPartyTrust", "AccessControlPolicyName", "2012r2", "not_on_adfs_version"),
    ("Set-AdfsRelyingPartyTrust", "AccessControlPolicyName", "2016", "ok"),
    ("Set-AdfsRelyingPartyTrust", "IssuanceTransformRules", "2.0", "ok"),
    ("Add-AdfsRelyingPartyTrust", "MetadataUrl", "2.0", "ok"),
    ("Add-AdfsRelyingPartyTrust", "Name", "2022", "ok"),
    ("Set-AdfsRelyingPartyTrust", "TargetName", None, "not_on_adfs_version"),
])
def test_parameter_availability_per_adfs_version(catalog, cmdlet, param, version, status):
    assert catalog.check_parameter(cmdlet, param, product="sfb2019", adfs_version=version).status == status


def test_cmdlet_availability(catalog):
    assert catalog.cmdlet_problem("Get-AdfsAccessControlPolicy", product="lync2013", adfs_version="2012r2")
    assert catalog.cmdlet_problem("Get-AdfsAccessControlPolicy", product="lync2013", adfs_version="2016") is None
    assert catalog.cmdlet_problem("Set-AdfsGlobalAuthenticationPolicy", product="lync2013", adfs_version="2.0")
    assert catalog.cmdlet_problem("Get-AdfsRelyingPartyTrust", product="lync2013", adfs_version=None)
    assert catalog.cmdlet_problem("Set-CsAuthConfig", product="lync2013", adfs_version=None)
    assert catalog.cmdlet_problem("Test-Certificate", product="lync2013", adfs_version=None) is None
    assert catalog.cmdlet_problem("Get-CsWebServiceConfiguration", product="sfb2019", adfs_version=None) is None


def test_common_parameters_need_no_availability(catalog):
    for param in ("-ErrorAction", "-Verbose", "-WarningAction", "-OutVariable"):
        assert catalog.check_parameter("Get-CsService", param, product="lync2013").ok
    # Get- cmdlets do not support ShouldProcess, so -WhatIf is not theirs.
    assert catalog.check_parameter("Get-CsWebServiceConfiguration", "-WhatIf", product="sfb2019").status == "unknown"


# --- values --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cmdlet,param,kind,value,ok", [
    ("Set-CsWebServiceConfiguration", "UseWindowsAuth", VALUE_BAREWORD, "None", True),
    ("Set-CsWebServiceConfiguration", "UseWindowsAuth", VALUE_STRING, "negotiate", True),
    ("Set-CsWebServiceConfiguration", "UseWindowsAuth", VALUE_STRING, "Kerberos", False),
    ("Set-CsWebServiceConfiguration", "UseWindowsAuth", VALUE_BOOL, True, False),
    ("Set-CsWebServiceConfiguration", "UseWsFedPassiveAuth", VALUE_BOOL, True, True),
    ("Set-CsWebServiceConfiguration", "UseWsFedPassiveAuth", VALUE_STRING, "true", False),
    ("Set-CsWebServiceConfiguration", "UseWsFedPassiveAuth", VALUE_INT, 1, True),
    ("Set-CsWebServiceConfiguration", "UseWsFedPassiveAuth", VALUE_NONE, None, False),
    ("Set-CsWebServiceConfiguration", "DefaultValidityPeriodHours", VALUE_INT, 7, False),
    ("Set-CsWebServiceConfiguration", "DefaultValidityPeriodHours", VALUE_INT, 8, True),
    ("Set-CsWebServiceConfiguration", "DefaultValidityPeriodHours", VALUE_INT, 8760, True),
    ("Set-CsWebServiceConfiguration", "DefaultValidityPeriodHours", VALUE_INT, 8761, False),
    ("Set-CsWebServiceConfiguration", "MaxValidityPeriodHours", VALUE_STRING, "720", True),
    ("Set-CsWebServiceConfiguration", "MinValidityPeriodHours", VALUE_INT, 4321, False),
    ("Set-CsWebServiceConfiguration", "MinValidityPeriodHours", VALUE_STRING, "eight", False),
    ("Set-CsWebServiceConfiguration", "MobilePreferredAuthType", VALUE_STRING, "WsFedPassive", True),
    ("Set-CsWebServiceConfiguration", "MobilePreferredAuthType", VALUE_STRING, "Passive", False),
    ("Set-CsWebServiceConfiguration", "WsFedPassiveMetadataUri", VALUE_STRING, "https://a/b", True),
    ("Set-CsWebServiceConfiguration", "WsFedPassiveMetadataUri", VALUE_BOOL, True, False),
    ("Set-CsWebServiceConfiguration", "WsFedPassiveMetadataUri", VALUE_ARRAY, ((VALUE_STRING, "a"),), False),
    ("Set-CsWebServiceConfiguration", "Identity", VALUE_UNKNOWN, None, True),
    ("Set-CsWebServiceConfiguration", "Identity", VALUE_EXPANDABLE, "service:$x", True),
    ("Set-CsWebServiceConfiguration", "Force", VALUE_NONE, None, True),
    ("Set-CsWebServiceConfiguration", "WhatIf", VALUE_BOOL, False, True),
    ("Set-CsWebServiceConfiguration", "WhatIf", VALUE_STRING, "yes", False),
    ("Request-CsCertificate", "KeySize", VALUE_INT, 2048, True),
    ("Request-CsCertificate", "KeySize", VALUE_STRING, "4096", True),
    ("Request-CsCertificate", "KeySize", VALUE_INT, 3072, False),
    ("Request-CsCertificate", "Type", VALUE_ARRAY, ((VALUE_STRING, "AccessEdgeExternal"), (VALUE_STRING, "DataEdgeExternal")), True),
    ("Request-CsCertificate", "Type", VALUE_STRING, "WebServicesExternal", True),
    ("Request-CsCertificate", "Type", VALUE_ARRAY, ((VALUE_STRING, "AccessEdgeExternal"), (VALUE_STRING, "Edge")), False),
    ("Set-CsAuthConfig", "Scenario", VALUE_STRING, "BlockWindowsAuthExternalyAndModernAuthInternally", True),
    ("Set-CsAuthConfig", "Scenario", VALUE_STRING, "BlockWindowsAuthExternallyAndModernAuthInternally", False),
    ("Get-CsWebServiceConfiguration", "ErrorAction", VALUE_BAREWORD, "SilentlyContinue", True),
    ("Get-CsWebServiceConfiguration", "ErrorAction", VALUE_BAREWORD, "Silently", False),
    ("Set-AdfsRelyingPartyTrust", "SignatureAlgorithm", VALUE_STRING, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", True),
    ("Set-AdfsRelyingPartyTrust", "SignatureAlgorithm", VALUE_STRING, "https://www.w3.org/2001/04/xmldsig-more#rsa-sha256", False),
    ("Set-AdfsRelyingPartyTrust", "AccessControlPolicyName", VALUE_STRING, "Permit everyone and require MFA from extranet access", True),
])
def test_literal_values(catalog, cmdlet, param, kind, value, ok):
    result = catalog.check_value(cmdlet, param, kind, value)
    assert result.ok is ok, result.message


def test_values_that_differ_between_adfs_versions(catalog):
    check = catalog.check_value
    assert check("Set-AdfsRelyingPartyTrust", "AllowedClientTypes", VALUE_STRING, "Confidential", adfs_version="2016").ok
    assert not check("Set-AdfsRelyingPartyTrust", "AllowedClientTypes", VALUE_STRING, "Confidential",
                     adfs_version="2012r2").ok


def test_unknown_values_are_skipped_not_passed_silently(catalog):
    result = catalog.check_value("Set-CsWebServiceConfiguration", "UseWindowsAuth", VALUE_UNKNOWN)
    assert result.ok and result.skipped


# --- Subscription Edition: as 2019, by the alias in overrides.json -----------------------------------------

def test_subscription_edition_has_exactly_what_2019_has(catalog):
    assert catalog.products == ("lync2013", "sfb2015", "sfb2019", "sfbse")
    for name in catalog.names():
        info = catalog.lookup(name)
        if info.products is not None:
            assert ("sfbse" in info.products) == ("sfb2019" in info.products), name
        for param in info.parameters.values():
            if param.availability is not None and "sfb2019" in param.availability:
                assert param.availability["sfbse"] == param.availability["sfb2019"], (name, param.name)


def test_the_subscription_edition_alias_says_why_and_where_from():
    data = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    [alias] = data["product_aliases"]
    assert (alias["product"], alias["as"]) == ("sfbse", "sfb2019")
    assert "names Skype for Business Server Subscription Edition in no 'applicable' line" in alias["why"]
    assert alias["sources"]


def test_an_alias_without_a_reason_or_for_a_named_product_stops_the_build(tmp_path):
    path = _overrides_with(tmp_path, lambda o: o["product_aliases"][0].update(why=" "))
    with pytest.raises(build_catalog.CatalogBuildError, match="why"):
        build_catalog.build(FIXTURE, path)
    path = _overrides_with(tmp_path, lambda o: o["product_aliases"][0].update(product="sfb2015"))
    with pytest.raises(build_catalog.CatalogBuildError, match="new product"):
        build_catalog.build(FIXTURE, path)


def test_an_added_parameter_cannot_exist_where_its_cmdlet_does_not(tmp_path):
    def change(o):
        added = next(ov for ov in o["overrides"] if ov["id"] == "modern-auth-new-csoauthserver")
        added["products"] = ["sfb2015", "sfb2019"]     # -Type still says lync2013 "no": fine
        added["parameters"]["Realm"]["availability"] = {"lync2013": "yes"}
    with pytest.raises(build_catalog.CatalogBuildError, match="cannot exist on lync2013"):
        build_catalog.build(FIXTURE, _overrides_with(tmp_path, change))


def test_export_pfx_switches_are_switches_whatever_the_help_yaml_says(catalog):
    # The Export-PfxCertificate help gives -Force, -NoClobber, -NoProperties and -WhatIf the type
    # CryptoAlgorithmOptions in its PARAMETERS YAML, while its SYNTAX shows them as switches (they are):
    # taken as values, `-Force $false` would pass and bind $false to -Force instead of a position.
    for name in ("Force", "NoClobber", "NoProperties", "WhatIf"):
        param = catalog.resolve_parameter("Export-PfxCertificate", name).parameter
        assert (param.type, param.kind) == ("SwitchParameter", "switch"), name
        assert "export-pfx-switches" in param.overrides
    assert catalog.check_value("Export-PfxCertificate", "Force", VALUE_NONE).ok


def test_a_type_override_must_name_a_known_type(tmp_path):
    path = _overrides_with(tmp_path, lambda o: o["overrides"].append({
        "id": "bad-type", "kind": "type", "cmdlets": ["Set-CsProxyConfiguration"], "parameters": ["Identity"],
        "why": "a type override names its type", "sources": ["x"]}))
    with pytest.raises(build_catalog.CatalogBuildError, match="bad-type"):
        build_catalog.build(FIXTURE, path)
