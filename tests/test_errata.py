"""Every documented erratum is caught, in any letter case, and its correct form is not."""
from __future__ import annotations

import pytest

from wizard.proof.errata import ERRATA, find_errata
from wizard.proof.verify import verify_scripts

# One script per erratum that must trigger it (line 2 holds the mistake).
TRIGGERS = {
    "misspelled-client-to-proxy-certificate":
        "# check\nGet-CsProxyConfiguration | Select-Object UseCertifcateForClientToProxyAuth\n",
    "https-claim-type":
        "$r = 'x'\n$IAR = '@RuleTemplate = \"AllowAllAuthzRule\" => issue(Type = \"https://schemas.microsoft.com/authorization/claims/permit\", Value = \"true\");'\n",
    "use-windows-auth-boolean":
        "$x = 1\nSet-CsWebServiceConfiguration -Identity 'service:WebServer:p.contoso.com' -UseWindowsAuth $false\n",
    "new-configuration-at-global":
        "$x = 1\nNew-CsWebServiceConfiguration -Identity Global -UseWsFedPassiveAuth $true\n",
    "online-only-mobility-parameter":
        "$x = 1\nSet-CsMobilityPolicy -Identity 'site:Redmond' -VoiceSettings 'x'\n",
    "proxy-configuration-at-global":
        "$x = 1\nSet-CsProxyConfiguration -UseNtlmForClientToProxyAuth $false\n",
    "passive-auth-at-global":
        "$x = 1\nSet-CsWebServiceConfiguration -UseWsFedPassiveAuth $true\n",
    "malformed-ntlm-parameter":
        "# Microsoft's line:\n# Set-CsProxyConfiguration UseNTLMforClientProxyAuth= false\n",
    "disable-external-auth-override":
        "$x = 1\nSet-CsWebServiceConfiguration -Identity 'site:A' -OverrideAuthTypeForInternalClients 'DisableExternalAuth'\n",
    "identity-with-stray-space":
        "$x = 1\nSet-CsProxyConfiguration -Identity 'service: EdgeServer:atl-edge-001.litwareinc.com' -UseNtlmForClientToProxyAuth $false\n",
    "modern-auth-scenario-double-l":
        "$x = 1\nSet-CsAuthConfig -Scenario BlockWindowsAuthExternallyAndModernAuthInternally\n",
    "allow-all-misspelled":
        "$x = 1\nSet-CsAuthConfig -Scenario AllowAllExernallyAndInternally\n",
    "oauth-configuration-misspelled":
        "$x = 1\nSet-CsOAuthConfiguraiton -ClientAuthorizationOAuthServerIdentity 'sts.contoso.com'\n",
    "test-registration-authentication-method":
        "$x = 1\nTest-CsRegistration -TargetFqdn 'pool.contoso.com' -UserSipAddress 'sip:a@contoso.com' -AuthenticationMethod OAuthInteractive\n",
    "client-adal-auth-override-on-premises":
        "$x = 1\nSet-CsOAuthConfiguration -ClientAdalAuthOverride Allowed\n",
    "auth-config-per-pool":
        "$x = 1\nSet-CsAuthConfig -Scenario BlockWindowsAuthExternally -Pool 'pool.contoso.com'\n",
    "auth-config-custom-scenario":
        "$x = 1\nSet-CsAuthConfig -Scenario Custom\n",
    "configuration-identity-scope":
        "$x = 1\nSet-CsProxyConfiguration -Identity 'site:Redmond' -UseNtlmForClientToProxyAuth $false\n",
    "access-control-policy-with-authorization-rules":
        "$x = 1\nSet-AdfsRelyingPartyTrust -TargetName 'Lync-Ext' -AccessControlPolicyName 'Permit everyone' "
        "-IssuanceAuthorizationRules '@RuleTemplate = \"AllowAllAuthzRule\" => issue(Type = "
        "\"http://schemas.microsoft.com/authorization/claims/permit\", Value = \"true\");'\n",
}


def found_ids(script: str, product: str = "sfb2019") -> set[str]:
    report = verify_scripts({"s.ps1": script}, product=product, adfs_version="2016")
    return {p.split("erratum ", 1)[1].split(":", 1)[0] for p in report.problems if "erratum " in p}


def test_every_erratum_has_a_reason_and_a_trigger():
    assert {e.id for e in ERRATA} == set(TRIGGERS)
    for erratum in ERRATA:
        assert len(erratum.reason) > 60, erratum.id
        assert erratum.text_pattern is not None or erratum.command_check is not None


@pytest.mark.parametrize("erratum_id", sorted(TRIGGERS))
def test_each_erratum_is_found_on_its_line(erratum_id):
    script = TRIGGERS[erratum_id]
    report = verify_scripts({"s.ps1": script}, product="sfb2019", adfs_version="2016")
    assert any(p.startswith("s.ps1:2: erratum " + erratum_id) for p in report.problems), report.problems


@pytest.mark.parametrize("erratum_id", sorted(TRIGGERS))
def test_each_erratum_is_found_in_upper_case_too(erratum_id):
    assert erratum_id in found_ids(TRIGGERS[erratum_id].upper().replace("$X", "$x"))


@pytest.mark.parametrize("script", [
    "New-CsWebServiceConfiguration -Identity 'global' -UseWsFedPassiveAuth $true\n",
    "new-csproxyconfiguration -identity 'GLOBAL' -UseNtlmForClientToProxyAuth $false\n",
    "$Scope = 'Global'\nNew-CsProxyConfiguration -Identity $Scope -UseNtlmForClientToProxyAuth $false\n",
    "New-CsWebServiceConfiguration -UseWsFedPassiveAuth $true\n",
    "New-CsWebServiceConfiguration 'Global' -UseWsFedPassiveAuth $true\n",
])
def test_new_configuration_at_global_in_every_spelling(script):
    assert "new-configuration-at-global" in found_ids(script)


@pytest.mark.parametrize("script", [
    "Set-CsProxyConfiguration -Identity Global -UseNtlmForClientToProxyAuth $false\n",
    "Set-CsProxyConfiguration -Identity 'global' -UseKerberosForClientToProxyAuth $false\n",
    "$g = 'Global'\nSet-CsProxyConfiguration -Identity $g -UseNtlmForClientToProxyAuth $false\n",
])
def test_proxy_configuration_at_global_in_every_spelling(script):
    assert "proxy-configuration-at-global" in found_ids(script)


@pytest.mark.parametrize("script", [
    "Set-CsWebServiceConfiguration -Identity 'site:A' -UseWindowsAuth:$true\n",
    "$v = $true\nSet-CsWebServiceConfiguration -Identity 'site:A' -UseWindowsAuth $v\n",
    "Set-CsWebServiceConfiguration -Identity 'site:A' -UseWindows $false\n",
])
def test_use_windows_auth_boolean_in_every_spelling(script):
    assert "use-windows-auth-boolean" in found_ids(script)


@pytest.mark.parametrize("param", ["EncryptAppData", "RequireIntune", "EnablePushNotifications",
                                   "AllowDeviceContactsSync", "VoiceSettings", "AllowAutomaticPstnFallback"])
def test_every_online_only_mobility_parameter(param):
    script = f"New-CsMobilityPolicy -Identity 'Tag:Mobile' -{param} $true\n"
    assert "online-only-mobility-parameter" in found_ids(script)


@pytest.mark.parametrize("script", [
    "Set-CsProxyConfiguration -Identity 'service:EdgeServer:lyncedge.contoso.com' -UseCertificateForClientToProxyAuth $true -UseNtlmForClientToProxyAuth $false\n",
    "$IAR = '@RuleTemplate = \"AllowAllAuthzRule\" => issue(Type = \"http://schemas.microsoft.com/authorization/claims/permit\", Value = \"true\");'\n",
    "Set-CsWebServiceConfiguration -Identity 'service:WebServer:p.contoso.com' -UseWindowsAuth None -UseWsFedPassiveAuth $true\n",
    "New-CsWebServiceConfiguration -Identity 'service:WebServer:p.contoso.com' -UseWsFedPassiveAuth $true\n",
    "New-CsProxyConfiguration -Identity 'service:Registrar:p.contoso.com' -UseNtlmForClientToProxyAuth $false\n",
    "Set-CsWebServiceConfiguration -Identity Global -DefaultValidityPeriodHours 720\n",
    "Set-CsMobilityPolicy -Identity Global -AllowExchangeConnectivity $false\n",
    "$i = Get-CsProxyConfiguration -Identity 'service:EdgeServer:e.contoso.com'\nSet-CsProxyConfiguration -Instance $i\n",
    "Set-CsWebServiceConfiguration -Identity 'site:A' -OverrideAuthTypeForExternalClients 'DisableWindowsAuth'\n",
])
def test_the_correct_forms_are_not_errata(script):
    assert found_ids(script) == set()


def test_find_errata_reports_each_mistake_once_per_line():
    script = "Set-CsWebServiceConfiguration -Identity 'site:A' -UseWindowsAuth $true\n"
    from wizard.proof.catalog import VALUE_BOOL, VALUE_STRING
    from wizard.proof.errata import CommandFacts
    facts = CommandFacts("set-cswebserviceconfiguration", 1,
                         {"identity": (VALUE_STRING, "site:A"), "usewindowsauth": (VALUE_BOOL, True)})
    found = find_errata(script, [facts])
    assert [(line, e.id) for line, e, _ in found] == [(1, "use-windows-auth-boolean")]


@pytest.mark.parametrize("script", [
    # The module's own spelling and the correct forms the errata name are not errata.
    "Set-CsAuthConfig -Scenario BlockWindowsAuthExternalyAndModernAuthInternally\n",
    "Set-CsAuthConfig -Scenario AllowAllExternallyAndInternally\n",
    "Set-CsOAuthConfiguration -Identity 'Global' -ClientAuthorizationOAuthServerIdentity 'sts.contoso.com'\n",
    "Test-CsRegistration -TargetFqdn 'pool.contoso.com' -UserSipAddress 'sip:a@contoso.com' -Authentication OAuthInteractive\n",
    "$Scenario = Get-AuthScenarioName -Pattern '^BlockWindowsAuthExternall?yAndModernAuthInternally$'\nSet-CsAuthConfig -Scenario $Scenario\n",
])
def test_the_correct_modern_authentication_forms_are_not_errata(script):
    assert not found_ids(script)


def test_a_per_pool_auth_config_is_caught_when_the_pool_is_given_by_position_too():
    assert "auth-config-per-pool" in found_ids("Set-CsAuthConfig BlockWindowsAuthExternally 'pool.contoso.com'\n")


@pytest.mark.parametrize("script", [
    "Add-AdfsRelyingPartyTrust -Name 'Lync-Ext' -MetadataUrl 'https://w.contoso.com/m.xml' "
    "-AccessControlPolicyName 'Permit everyone' -IssuanceAuthorizationRulesFile 'C:\\rules.txt'\n",
    "Set-AdfsWebApiApplication -TargetName 'SfB' -IssuanceAuthorizationRules 'x' "
    "-AccessControlPolicyName 'Permit everyone and require MFA'\n",
])
def test_an_access_control_policy_never_comes_with_authorization_rules(script):
    # The two models are mutually exclusive on one relying party or application (AD FS 2016 and later).
    assert "access-control-policy-with-authorization-rules" in found_ids(script)


@pytest.mark.parametrize("script", [
    "Set-AdfsRelyingPartyTrust -TargetName 'Lync-Ext' -AccessControlPolicyName 'Permit everyone'\n",
    "Set-AdfsRelyingPartyTrust -TargetName 'Lync-Ext' -IssuanceAuthorizationRules 'x'\n",
    "Set-AdfsRelyingPartyTrust -TargetName 'Lync-Ext' -AccessControlPolicyName 'Permit everyone' "
    "-IssuanceTransformRules 'x'\n",
])
def test_an_access_control_policy_alone_or_rules_alone_are_fine(script):
    assert "access-control-policy-with-authorization-rules" not in found_ids(script)


@pytest.mark.parametrize("script", [
    # Proxy settings exist at the global scope and for Edge and Registrar services only.
    "New-CsProxyConfiguration -Identity 'service:WebServer:pool.contoso.com' -UseNtlmForClientToProxyAuth $false\n",
    "Set-CsProxyConfiguration -Identity 'SITE:Dublin' -UseKerberosForClientToProxyAuth $false\n",
    "Remove-CsProxyConfiguration -Identity 'EdgeServer:edge.contoso.com'\n",
    # Web service settings exist at the global, site and Web Server service scopes only.
    "Set-CsWebServiceConfiguration -Identity 'service:Registrar:pool.contoso.com' -UsePinAuth $false\n",
    "New-CsWebServiceConfiguration -Identity 'service:EdgeServer:edge.contoso.com' -UseCertificateAuth $true\n",
    "Remove-CsWebServiceConfiguration -Identity 'pool.contoso.com'\n",
])
def test_configuration_identities_outside_their_scopes(script):
    assert "configuration-identity-scope" in found_ids(script)


@pytest.mark.parametrize("script", [
    "Set-CsProxyConfiguration -Identity 'service:EdgeServer:edge.contoso.com' -UseNtlmForClientToProxyAuth $false\n",
    "New-CsProxyConfiguration -Identity 'Service:Registrar:pool.contoso.com' -UseNtlmForClientToProxyAuth $false\n",
    "Remove-CsProxyConfiguration -Identity 'Global'\n",
    "Set-CsWebServiceConfiguration -Identity 'site:Redmond' -UsePinAuth $false\n",
    "Set-CsWebServiceConfiguration -Identity 'service:WebServer:pool.contoso.com' -UsePinAuth $false\n",
    "Remove-CsWebServiceConfiguration -Identity $Identity -Force\n",
    "Get-CsProxyConfiguration -Identity 'site:Redmond' -ErrorAction SilentlyContinue\n",
])
def test_configuration_identities_in_their_scopes(script):
    assert "configuration-identity-scope" not in found_ids(script)
