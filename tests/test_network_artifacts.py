"""Certificate, reverse proxy, DNS, verification and rollback files in the bundle.

The plan under test has three SIP domains (one an IDN written in Unicode), a Front End
pool with TLS-DSK, a passive Director, an Edge pool, Office Online Server and AD FS
published on the reverse proxy.
"""
from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import pytest
from django.template.loader import render_to_string

from tests.psmini import Builtin, Interpreter, PSError
from tests.test_verify_tables import script_checks
from wizard.plan import certplan, exposure, publishing
from wizard.plan import network as network_plan
from wizard.plan.reader import read_plan
from wizard.proof.psast import VALUE_VARIABLE, Command, analyse
from wizard.scripts.artifacts import ARTIFACTS, network
from wizard.scripts.bundle import Bundle, Source, build_bundle
from wizard.scripts.rendering import harmless_twin

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
FIXTURE = FIXTURES / "multi-domain-director-idn.json"
NETWORK_FILES = (
    "certificates.md", "certificates-edge.ps1", "reverse-proxy-certificate.inf", "dns-records.md",
    "reverse-proxy-publishing.md", "reverse-proxy-arr.config", "verify-external.ps1", "verify-internal.ps1",
    "rollback-lync.ps1", "rollback-adfs.ps1",
)


def fixture_doc() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def plan_from(doc: dict):
    plan, findings = read_plan(doc)
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return plan


@lru_cache(maxsize=1)
def fixture_bundle() -> Bundle:
    plan = plan_from(fixture_doc())
    return build_bundle(plan, source=Source.for_plan(plan, plan_ref="ref-1", revision=4))


def bundle_for(doc: dict) -> Bundle:
    plan = plan_from(doc)
    return build_bundle(plan, source=Source.for_plan(plan))


def text(name: str) -> str:
    return fixture_bundle().texts[name]


def commands(script: str, name: str) -> list[Command]:
    facts = analyse(script)
    assert not facts.errors, facts.errors
    return [e for e in facts.events if isinstance(e, Command) and e.name.lower() == name.lower()]


def arguments(command: Command) -> dict[str, object]:
    """Return {parameter: literal value or ('var', name) or True for a switch}."""
    out: dict[str, object] = {}
    elements = list(command.elements)
    i = 0
    while i < len(elements):
        element = elements[i]
        i += 1
        if element.parameter is None:
            continue
        name = element.parameter.lstrip("-").rstrip(":")
        if i < len(elements) and elements[i].parameter is None:
            value = elements[i].value
            i += 1
            if value.kind == VALUE_VARIABLE:
                out[name] = ("var", value.value)
            elif value.kind == "array":
                out[name] = tuple(v.value for v in value.value)
            else:
                out[name] = value.value
        else:
            out[name] = True
    return out


# ---------------------------------------------------------------------------
# The bundle


def test_every_network_file_is_in_the_bundle_and_verified():
    bundle = fixture_bundle()
    for name in NETWORK_FILES:
        assert name in bundle.files, name
    assert bundle.report.ok, bundle.report.problems
    checked = " ".join(bundle.report.checked)
    for name in NETWORK_FILES:
        if name.endswith(".ps1"):
            assert f"{name}: tree-sitter-powershell parse: no ERROR or MISSING node" in checked
            assert f"{name}: token stream equals the harmless twin's" in checked


def test_network_files_are_listed_in_sha256sums_with_windows_line_endings_where_windows_reads_them():
    bundle = fixture_bundle()
    sums = bundle.texts["SHA256SUMS"]
    for name in NETWORK_FILES:
        assert re.search(rf"^[0-9a-f]{{64}}  {re.escape(name)}$", sums, re.MULTILINE), name
    assert bundle.files["verify-external.ps1"].startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in bundle.files["reverse-proxy-certificate.inf"]
    assert not bundle.files["reverse-proxy-certificate.inf"].startswith(b"\xef\xbb\xbf")


def test_runbook_keeps_the_rollback_for_when_it_is_needed():
    runbook = text("runbook.md")
    later = runbook[runbook.index("rollback-lync.ps1") - 2000:]
    assert "rollback-lync.ps1" in runbook and "rollback-adfs.ps1" in runbook
    assert "Only if the change must be undone" in later


def test_network_artifacts_say_what_to_check_and_rollback_says_when_to_run():
    mine = {a.key: a for a in network.ARTIFACTS}
    for artifact in mine.values():
        assert artifact.purpose and artifact.check_after, artifact.key
    for key in ("rollback_lync", "rollback_adfs"):
        assert mine[key].run_order >= 90
        assert mine[key].purpose.startswith("Only if the change must be undone")
    assert [a.key for a in ARTIFACTS].index("certificates_edge") < [a.key for a in ARTIFACTS].index("lync")
    assert [a.key for a in ARTIFACTS].index("lync") < [a.key for a in ARTIFACTS].index("verify_external")


# ---------------------------------------------------------------------------
# Certificates


def test_edge_request_carries_the_planned_names_types_and_key():
    [request] = commands(text("certificates-edge.ps1"), "Request-CsCertificate")
    args = arguments(request)
    assert args["New"] is True
    assert args["Type"] == ("AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication")
    assert args["DomainName"] == "sip.contoso.com,webconf.contoso.com,sip.fabrikam.com,sip.xn--bcher-kva.example"
    assert args["PrivateKeyExportable"] is True
    assert args["KeySize"] == 4096
    assert args["Output"] == ("var", "$requestfile")
    assert "CA" not in args
    assert "av.contoso.com" not in args["DomainName"]


def test_edge_script_never_says_a_name_it_requests_is_not_on_the_certificate():
    """An Edge with one name for Access, Web Conferencing and A/V: that name is the subject, so the script's
    help must not call it 'not on the certificate'."""
    doc = fixture_doc()
    doc["edge_pools"][0].update({"access_fqdn": "edge.contoso.com", "webconf_fqdn": "edge.contoso.com",
                                 "av_fqdn": "edge.contoso.com"})
    script = bundle_for(doc).texts["certificates-edge.ps1"]
    assert "Subject:  edge.contoso.com" in script
    assert "Not on the certificate: the A/V Edge FQDN edge.contoso.com" not in script
    assert "The A/V Edge FQDN edge.contoso.com is listed only because another Edge service uses the same name" in script
    assert "Not on the certificate: the A/V Edge FQDN av.contoso.com" in text("certificates-edge.ps1")


def test_certificate_table_never_says_a_listed_av_name_is_not_on_the_certificate():
    # The table listed edge.contoso.com (Access, Web Conferencing and A/V share it) while the text under it
    # said the A/V Edge FQDN is not on the Edge certificate.
    doc = fixture_doc()
    doc["edge_pools"][0].update({"access_fqdn": "edge.contoso.com", "webconf_fqdn": "edge.contoso.com",
                                 "av_fqdn": "edge.contoso.com"})
    table = bundle_for(doc).texts["certificates.md"]
    assert "| edge.contoso.com |" in table
    assert "not on the Edge certificate" not in table
    assert "the A/V Edge FQDN\nis on it only where another Edge service of the pool has the same name" in table


def test_edge_request_writes_the_type_as_a_quoted_array():
    assert "-Type @('AccessEdgeExternal','DataEdgeExternal','AudioVideoAuthentication')" in text("certificates-edge.ps1")


def test_edge_request_goes_to_the_online_ca_when_the_plan_names_one():
    doc = fixture_doc()
    doc["certificates"]["ca"] = "ca01.contoso.com\\Contoso Issuing CA"
    [request] = commands(bundle_for(doc).texts["certificates-edge.ps1"], "Request-CsCertificate")
    args = arguments(request)
    assert args["CA"] == "ca01.contoso.com\\Contoso Issuing CA"
    assert "Output" not in args


def test_edge_script_runs_per_edge_pool():
    doc = fixture_doc()
    doc["edge_pools"].append({"fqdn": "edge2.contoso.com", "access_fqdn": "sip2.contoso.com", "block_ntlm": True})
    script = bundle_for(doc).texts["certificates-edge.ps1"]
    assert "[ValidateSet('sfbedge.contoso.com', 'edge2.contoso.com')]" in script
    requests = commands(script, "Request-CsCertificate")
    assert [arguments(r)["DomainName"].split(",")[0] for r in requests] == ["sip.contoso.com", "sip2.contoso.com"]


def _run_edge_script(script: str, folder: Path, parameters: dict | None = None) -> tuple[int, list[str]]:
    """Run certificates-edge.ps1 from `folder` (its log goes there) in psmini, with a Request-CsCertificate
    that records its -DomainName."""
    requested: list[str] = []

    def request(interp, named, pos, data):
        requested.append(named.get("DomainName"))
        if named.get("Output"):   # an offline request: the cmdlet writes the request file there
            Path(str(named["Output"])).write_text("-----BEGIN NEW CERTIFICATE REQUEST-----\n", encoding="ascii")
        return []

    def found(interp, named, pos, data):
        return ["command"]

    interp = Interpreter(script, commands={"Request-CsCertificate": Builtin(request, frozenset({"New"})),
                                            "Get-Command": Builtin(found)},
                         script_path=str(folder / "certificates-edge.ps1"))
    try:
        code = interp.run(parameters)
    except PSError:
        code = 1
    return code, requested


def test_edge_script_with_several_pools_requests_nothing_until_told_which_pool(tmp_path):
    # Without -EdgePool, the script run on an Edge of the second pool requested the first pool's names there.
    doc = fixture_doc()
    doc["edge_pools"].append({"fqdn": "edge2.contoso.com", "access_fqdn": "sip2.contoso.com", "block_ntlm": True})
    script = bundle_for(doc).texts["certificates-edge.ps1"]
    assert _run_edge_script(script, tmp_path) == (1, [])
    code, requested = _run_edge_script(script, tmp_path, {"EdgePool": "edge2.contoso.com"})
    assert code == 0 and [r.split(",")[0] for r in requested] == ["sip2.contoso.com"]
    # One Edge pool: it is the default.
    code, requested = _run_edge_script(text("certificates-edge.ps1"), tmp_path)
    assert code == 0 and [r.split(",")[0] for r in requested] == ["sip.contoso.com"]


def test_no_edge_script_without_an_access_edge_fqdn():
    doc = fixture_doc()
    del doc["edge_pools"][0]["access_fqdn"]
    assert "certificates-edge.ps1" not in bundle_for(doc).files


def test_reverse_proxy_inf_has_every_required_line():
    inf = text("reverse-proxy-certificate.inf")
    lines = inf.splitlines()
    for line in ('Signature="$Windows NT$"', 'Subject = "CN=sfbweb.contoso.com"', "KeyLength = 4096",
                 "Exportable = TRUE", "MachineKeySet = TRUE", "RequestType = PKCS10", "KeyUsage = 0xa0",
                 'ProviderName = "Microsoft RSA SChannel Cryptographic Provider"', "HashAlgorithm = SHA256",
                 "OID=1.3.6.1.5.5.7.3.1", '2.5.29.17 = "{text}"'):
        assert line in lines, line
    sections = [line for line in lines if line.startswith("[")]
    assert sections == ["[Version]", "[NewRequest]", "[EnhancedKeyUsageExtension]", "[Extensions]"]


def test_reverse_proxy_inf_lists_one_continue_line_per_san_in_order():
    inf = text("reverse-proxy-certificate.inf")
    sans = re.findall(r'^_continue_ = "dns=([^"&]+)&"$', inf, re.MULTILINE)
    assert sans == list(certplan.certificate_plan(plan_from(fixture_doc())).reverse_proxy.sans)
    assert "lyncdiscover.xn--bcher-kva.example" in sans
    assert "adfs.contoso.com" in sans
    assert "admin.contoso.com" not in sans
    assert inf.index('2.5.29.17 = "{text}"') < inf.index("_continue_")


def test_reverse_proxy_inf_key_length_follows_the_plan():
    doc = fixture_doc()
    doc["certificates"] = {"key_size": 2048}
    assert "KeyLength = 2048" in bundle_for(doc).texts["reverse-proxy-certificate.inf"].splitlines()


def test_certificate_table_lists_both_certificates_with_a_labels_and_unicode():
    table = text("certificates.md")
    assert "| Edge external (sfbedge.contoso.com) |" in table
    assert "| Reverse proxy |" in table
    assert "sip.xn--bcher-kva.example (sip.bücher.example)" in table
    assert "RSA 4096 bits" in table
    assert "av.contoso.com" not in table.split("| Reverse proxy |")[0].split("| Edge external")[1]


# ---------------------------------------------------------------------------
# Reverse proxy and DNS


def arr_rules() -> list[ET.Element]:
    root = ET.fromstring(fixture_bundle().texts["reverse-proxy-arr.config"].encode("utf-8"))
    assert root.tag == "rewrite"
    return root.findall("./rules/rule")


def test_arr_config_has_one_https_rule_per_published_name():
    rules = arr_rules()
    published = [r.external_fqdn for r in publishing.publishing_rules(plan_from(fixture_doc()))]
    https_hosts = []
    for rule in rules:
        conditions = {c.get("input"): c.get("pattern") for c in rule.findall("./conditions/add")}
        if conditions["{HTTPS}"] == "^ON$":
            https_hosts.append(conditions["{HTTP_HOST}"])
    assert https_hosts == [publishing.host_pattern(n) for n in published]


def test_arr_rules_rewrite_to_the_pool_internal_web_fqdn_on_4443():
    by_pattern = {}
    for rule in arr_rules():
        conditions = {c.get("input"): c.get("pattern") for c in rule.findall("./conditions/add")}
        key = (conditions["{HTTP_HOST}"], conditions["{HTTPS}"])
        by_pattern[key] = rule.find("./action")
        assert rule.find("./match").get("url") == "(.*)"
    action = by_pattern[(r"^sfbweb\.contoso\.com$", "^ON$")]
    assert action.get("type") == "Rewrite"
    assert action.get("url") == "https://sfbpool01.contoso.com:4443/{R:1}"
    assert by_pattern[(r"^meet\.xn--bcher-kva\.example$", "^ON$")].get("url") == "https://sfbdirint.contoso.com:4443/{R:1}"
    assert by_pattern[(r"^sfbweb\.contoso\.com$", "^OFF$")].get("url") == "http://sfbpool01.contoso.com:8080/{R:1}"
    assert by_pattern[(r"^adfs\.contoso\.com$", "^ON$")].get("url") == "https://adfs.contoso.com:443/{R:1}"
    assert (r"^adfs\.contoso\.com$", "^OFF$") not in by_pattern


def test_publishing_table_shows_ports_targets_and_no_preauthentication():
    table = text("reverse-proxy-publishing.md")
    row = next(line for line in table.splitlines() if line.startswith("| sfbdirweb.contoso.com "))
    assert "443 → 4443, 80 → 8080" in row
    assert "https://sfbdirint.contoso.com:4443" in row
    assert "none (pass-through)" in row
    assert "passed through unchanged" in row


def test_dns_table_has_the_records_of_every_sip_domain_split_external_and_internal():
    table = text("dns-records.md")
    external, internal = table.split("## Internal DNS")
    for domain in ("contoso.com", "fabrikam.com", "xn--bcher-kva.example"):
        assert re.search(rf"^\| \\_sip.\\_tls.{re.escape(domain)} \| SRV \| 0 0 443 sip.{re.escape(domain)} \|",
                         external, re.MULTILINE), domain
        assert re.search(rf"^\| lyncdiscover.{re.escape(domain)}.* \| CNAME \| sfbweb.contoso.com \|", external, re.MULTILINE)
        assert re.search(rf"^\| \\_sipinternaltls.\\_tcp.{re.escape(domain)} \| SRV \| 0 0 5061 sfbpool01",
                         internal, re.MULTILINE)
    assert "| sip.contoso.com | A |" in external
    assert "| av.contoso.com | A |" in external
    assert "admin.contoso.com" in internal and "admin.contoso.com" not in external
    assert "lyncdiscover.xn--bcher-kva.example (lyncdiscover.bücher.example)" in external


# ---------------------------------------------------------------------------
# Verification scripts


def test_verification_scripts_are_read_only():
    for name in ("verify-external.ps1", "verify-internal.ps1"):
        facts = analyse(text(name))
        names = {e.name.lower() for e in facts.events if isinstance(e, Command)}
        changing = {n for n in names if re.match(r"(set|new|remove|add|grant|enable|disable|update)-(cs|adfs)", n)}
        assert not changing, (name, changing)


def test_verify_external_checks_dns_ports_tls_certprov_and_metadata():
    script = text("verify-external.ps1")
    # The DNS, port and TLS tables hold groups of names, expanded by the script (tests/test_verify_tables.py).
    assert {"Name": "_sip._tls.fabrikam.com", "Type": "SRV", "Target": "sip.fabrikam.com", "Port": 443} \
        in script_checks(script, "DnsChecks")
    assert {"Name": "lyncdiscover.xn--bcher-kva.example", "Type": "CNAME", "Target": "sfbweb.contoso.com", "Port": 0} \
        in script_checks(script, "DnsChecks")
    assert {"Name": "sfbweb.contoso.com", "Port": 80} in script_checks(script, "PortChecks")
    assert {"Name": "av.contoso.com", "Port": 443} in script_checks(script, "PortChecks")
    assert {"Name": "meet.xn--bcher-kva.example", "Port": 443, "Certificate": "Reverse proxy"} \
        in script_checks(script, "TlsChecks")
    assert ("@{ Url = 'https://sfbweb.contoso.com/CertProv/CertProvisioningService.svc'; Pool = 'sfbpool01.contoso.com'; "
            "Mode = 'tls_dsk'; WindowsAuth = $true }") in script
    assert ("@{ Url = 'https://sfbdirweb.contoso.com/CertProv/CertProvisioningService.svc'; Pool = 'sfbdir01.contoso.com'; "
            "Mode = 'passive'; WindowsAuth = $false }") in script
    assert "'https://adfs.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml'" in script
    assert "'https://sfbdirweb.contoso.com/passiveauth/federationmetadata/2007-06/federationmetadata.xml'" in script


def test_the_av_edge_name_is_never_checked_for_a_certificate():
    script = text("verify-external.ps1")
    tls = script[script.index("$TlsChecks = @("):script.index("$AuthChecks = @(")]
    assert "av.contoso.com" not in tls


@pytest.mark.parametrize("second_shares_one_name", [False, True])
def test_each_edge_tls_check_reaches_the_edge_pool_whose_certificate_it_names(second_shares_one_name):
    """With two Edge pools, DNS points sip.<domain> at the first Access Edge only: a TLS check of those names
    under the second pool's certificate (and on its Access port) would test the first pool's Edge instead."""
    doc = fixture_doc()
    name = "edge2.contoso.com"
    doc["edge_pools"].append({"fqdn": "sfbedge2.contoso.com", "access_fqdn": name,
                              "webconf_fqdn": name if second_shares_one_name else "webconf2.contoso.com",
                              "av_fqdn": name if second_shares_one_name else "av2.contoso.com"})
    plan = plan_from(doc)
    edges = {e.fqdn: e for e in plan.edge_pools}
    owner: dict[str, str] = {}
    for record in publishing.dns_records(plan):
        if record.view == publishing.EXTERNAL and record.type == "A":
            for fqdn in edges:
                if record.target.endswith(f" of {fqdn}>"):
                    owner[record.name] = fqdn
    checks = [c for c in network.verify_external_context(plan)["tls"] if c["certificate"].startswith("Edge external")]
    for check in checks:
        pool = check["certificate"][len("Edge external ("):-1]
        assert owner[check["name"]] == pool, check
        listeners = publishing.edge_listeners(edges[pool])
        ports = [lst.port for lst in listeners if lst.fqdn == check["name"]] or [publishing.access_listener(edges[pool]).port]
        assert check["port"] in ports, check
    # Every name DNS gives an Edge certificate is still checked on that Edge.
    for domain in plan.sip_domains:
        assert {"name": f"sip.{domain}", "port": 443, "certificate": "Edge external (sfbedge.contoso.com)"} in checks


def test_verify_scripts_use_the_documented_probes_and_write_a_json_report():
    for name in ("verify-external.ps1", "verify-internal.ps1"):
        script = text(name)
        for needle in ("Resolve-DnsName", "Test-NetConnection", "System.Net.Security.SslStream",
                       "RemoteCertificateValidationCallback", "DnsNameList", "'2.5.29.17'", "WWW-Authenticate",
                       "ConvertTo-Json", "'PASS'", "'FAIL'", "Set-StrictMode -Version 2.0"):
            assert needle in script, (name, needle)
        [report] = list(commands(script, "Set-Content"))
        assert arguments(report)["LiteralPath"] == ("var", "$path")


def test_verify_scripts_put_no_value_in_a_double_quoted_string():
    for name in ("verify-external.ps1", "verify-internal.ps1"):
        assert '"' not in text(name), name


def test_verify_internal_reads_back_the_settings_the_change_script_sets():
    script = text("verify-internal.ps1")
    # Each set of values is written once ($ExpectedSettings) and each collection names its set.
    interp = Interpreter(script)
    sets = interp.evaluate("ExpectedSettings")
    read = {row["Identity"]: dict(sets[row["Settings"]].items())
            for table in ("WebServiceExpected", "ProxyExpected", "MobilityExpected") for row in interp.evaluate(table)}
    assert read["service:WebServer:sfbdir01.contoso.com"] == {
        "UseWsFedPassiveAuth": True,
        "WsFedPassiveMetadataUri": "https://adfs.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml",
        "UseWindowsAuth": "None", "UsePinAuth": False, "UseCertificateAuth": True}
    assert read["service:WebServer:sfbpool01.contoso.com"] == {
        "UseCertificateAuth": True, "DefaultValidityPeriodHours": 720, "MinValidityPeriodHours": 8,
        "MaxValidityPeriodHours": 720}
    assert read["service:EdgeServer:sfbedge.contoso.com"] == {
        "UseKerberosForClientToProxyAuth": False, "UseNtlmForClientToProxyAuth": False,
        "UseCertificateForClientToProxyAuth": True}
    assert read["Global"] == {"AllowSaveCredentials": False, "AllowExchangeConnectivity": False}
    for cmdlet in ("Get-CsWebServiceConfiguration", "Get-CsProxyConfiguration", "Get-CsMobilityPolicy"):
        [call] = commands(script, cmdlet)
        assert arguments(call)["Identity"] == ("var", "$item.identity") or "Identity" in arguments(call)


def test_verify_internal_expects_what_the_change_script_sets():
    """Each expected value appears as a parameter value of the change script's Set-/New- command."""
    plan = plan_from(fixture_doc())
    change = text("lync-management-shell.ps1")
    sets = {}
    for name in ("New-CsWebServiceConfiguration", "Set-CsWebServiceConfiguration", "New-CsProxyConfiguration",
                 "Set-CsProxyConfiguration", "Set-CsMobilityPolicy"):
        for command in commands(change, name):
            args = arguments(command)
            sets.setdefault(args["Identity"], []).append(args)
    for group in network.verify_internal_context(plan)["expected"].values():
        for item in group:
            for setting in item["settings"]:
                values = [a.get(setting["name"]) for a in sets[item["identity"]]]
                expected = setting["value"]
                if setting["name"] == "UseCertificateForClientToProxyAuth" and not any(values):
                    # Read back whether or not the change script sets it: with NTLM and Kerberos off, the
                    # exposure model expects certificate sign-in open there (TLS-DSK may be offered).
                    edge = next((p for p in exposure.sip_probes(plan)
                                 if item["identity"] == f"service:EdgeServer:{p.edge}"), None)
                    if edge is not None:
                        tls_dsk = next(x for x in edge.schemes if x.scheme == "TLS-DSK")
                        assert tls_dsk.offer is exposure.Offer.MAY and expected is True
                    else:
                        assert item["identity"].startswith("service:Registrar:") and expected is True
                elif setting["name"] == "UseWindowsAuth":
                    assert expected in values  # a bareword in the change script
                else:
                    assert expected in values, (item["identity"], setting)


def test_verification_data_has_the_same_shape_for_a_plan_and_its_harmless_twin():
    plan = plan_from(fixture_doc())
    twin = harmless_twin(plan)
    for build in (network.verify_external_context, network.verify_internal_context):
        real, other = build(plan), build(twin)
        for key in ("dns", "ports", "tls", "auth", "metadata"):
            assert len(real[key]) == len(other[key]), (build.__name__, key)


# ---------------------------------------------------------------------------
# Rollback


def test_rollback_scripts_take_an_optional_backup_folder_and_support_whatif():
    for name, key in (("rollback-lync.ps1", "lync"), ("rollback-adfs.ps1", "adfs")):
        script = text(name)
        assert "[CmdletBinding(SupportsShouldProcess = $true)]" in script
        assert "    [string]$BackupFolder = ''\n)" in script
        assert f"$RunKey = '{key}'" in script
        assert "'^(\\d{8}-\\d{6})-' + $RunKey + '(-whatif)?$'" in script
        assert "$ErrorActionPreference = 'Stop'" in script
        assert "Start-Transcript" in script
        assert "Import-Clixml" in script
        for command in analyse(script).events:
            if isinstance(command, Command) and re.match(r"(set|remove)-(cs|adfs)", command.name.lower()):
                assert arguments(command).get("WhatIf") == ("var", "$whatifpreference"), command


def test_rollback_lync_lists_what_the_change_sets_newest_first_and_restores_it_by_kind():
    """The rollback's tables name every collection the change script sets, in rollback order (the
    change's last change first); what each restore puts back is run and checked in
    tests/test_rollback_runs.py."""
    script = text("rollback-lync.ps1")
    change = text("lync-management-shell.ps1")
    proxies = [arguments(c)["Identity"] for c in commands(change, "New-CsProxyConfiguration")]
    webs = [arguments(c)["Identity"] for c in commands(change, "New-CsWebServiceConfiguration")]
    table = script[script.index("$ProxyCollections = @("):]
    listed = re.findall(r"^    '([^']+)'$", table[:table.index("\n)")], re.MULTILINE)
    assert listed == proxies[::-1]
    table = script[script.index("$WebServiceCollections = @("):]
    rows = re.findall(r"^    @\{ Identity = '([^']+)'; Passive = (\$\w+); Hours = (\$\w+) \}$",
                      table[:table.index("\n)")], re.MULTILINE)
    assert [identity for identity, _, _ in rows] == webs[::-1]
    # The Director is passive, the Front End pool sets certificate lifetimes.
    assert {i: (p, h) for i, p, h in rows} == {
        "service:WebServer:sfbdir01.contoso.com": ("$true", "$false"),
        "service:WebServer:sfbpool01.contoso.com": ("$false", "$true")}
    # Each kind of restore is a literal command with literal parameters the catalog checks.
    sets = [set(arguments(c)) for c in commands(script, "Set-CsWebServiceConfiguration")]
    assert {"Identity", "UseWsFedPassiveAuth", "UseWindowsAuth", "UsePinAuth", "UseCertificateAuth", "WhatIf"} in sets
    assert {"Identity", "UseCertificateAuth", "DefaultValidityPeriodHours", "MinValidityPeriodHours",
            "MaxValidityPeriodHours", "WhatIf"} in sets
    [proxy] = commands(script, "Set-CsProxyConfiguration")
    assert set(arguments(proxy)) == {"Identity", "UseKerberosForClientToProxyAuth", "UseNtlmForClientToProxyAuth",
                                     "UseCertificateForClientToProxyAuth", "WhatIf"}
    [mobility] = commands(script, "Set-CsMobilityPolicy")
    assert set(arguments(mobility)) == {"Identity", "AllowSaveCredentials", "AllowExchangeConnectivity", "WhatIf"}
    # The global policy is never removed: the change only set values on it.
    assert not any(arguments(c)["Identity"] == "Global" for c in commands(script, "Remove-CsMobilityPolicy"))


def test_rollback_lync_only_accepts_a_backup_of_this_plan():
    script = text("rollback-lync.ps1")
    known = script[script.index("$KnownIdentities = @("):script.index(")", script.index("$KnownIdentities = @("))]
    for identity in ("service:WebServer:sfbpool01.contoso.com", "service:WebServer:sfbdir01.contoso.com",
                     "service:EdgeServer:sfbedge.contoso.com", "service:Registrar:sfbdir01.contoso.com", "Global"):
        assert f"'{identity}'" in known
    assert "it was written for another plan" in script


def test_rollback_lync_reads_the_change_script_backup_layout():
    """The kinds and folder name the rollback reads are the ones lync-management-shell.ps1 writes."""
    change, rollback = text("lync-management-shell.ps1"), text("rollback-lync.ps1")
    for kind in ("CsWebServiceConfiguration", "CsProxyConfiguration", "CsMobilityPolicy"):
        assert f"Save-Backup -Kind '{kind}'" in change
        assert f"Get-Saved -Kind '{kind}'" in rollback
    assert "Register-Created -Kind 'CsWebServiceConfiguration'" in change
    assert "'backup.csv'" in change and "'backup.csv'" in rollback
    assert "'created.csv'" in change and "'created.csv'" in rollback
    assert "'run.csv'" in change and "'run.csv'" in rollback
    assert "-ChildPath 'backup'" in change and "$RunName = $RunStamp + '-' + $RunKey" in change
    assert "$RunKey = 'lync'" in change and "$RunKey = 'lync'" in rollback
    assert "$RunStamp = Get-Date -Format 'yyyyMMdd-HHmmss'" in change


def test_rollback_adfs_lists_the_trusts_newest_first_and_restores_them_by_identifier():
    script = text("rollback-adfs.ps1")
    table = script[script.index("$Trusts = @("):]
    assert re.findall(r"^    '([^']+)'$", table[:table.index("\n)")], re.MULTILINE) == [
        "SfB-Director-Ext", "SfB-Director-Int"]
    # Each trust is restored by the identifier of the trust that was saved (the change matched it that way).
    assert "$SavedId = [string]@($Saved.Identifier)[0]" in script
    restored = set()
    for command in commands(script, "Set-AdfsRelyingPartyTrust"):
        args = arguments(command)
        assert args["TargetIdentifier"] == ("var", "$savedid"), args
        restored.update(set(args) - {"TargetIdentifier", "WhatIf"})
        # A policy's parameters only ever go back together with its name.
        assert "AccessControlPolicyParameters" not in args or "AccessControlPolicyName" in args, args
    # AD FS 2019: the change assigns an access control policy; restoring may have to un-assign it, or put the
    # saved one back with the parameters it took.
    assert restored == {"AccessControlPolicyName", "AccessControlPolicyParameters", "IssuanceAuthorizationRules",
                        "IssuanceTransformRules"}
    # Only a trust the change added is removed, by the name the change gave it.
    [remove] = commands(script, "Remove-AdfsRelyingPartyTrust")
    assert arguments(remove)["TargetName"] == ("var", "$name")


def test_rollback_adfs_on_2012r2_restores_the_mfa_rule():
    doc = fixture_doc()
    doc["adfs"]["version"] = "2012r2"
    script = bundle_for(doc).texts["rollback-adfs.ps1"]
    params = set()
    for command in commands(script, "Set-AdfsRelyingPartyTrust"):
        params |= set(arguments(command))
    assert {"IssuanceAuthorizationRules", "IssuanceTransformRules", "AdditionalAuthenticationRules"} <= params
    assert "AccessControlPolicyName" not in params


def test_rollback_adfs_on_adfs_20_uses_the_snapin_and_removes_created_trusts():
    doc = fixture_doc()
    doc["adfs"].update(version="2.0", mfa="none")
    bundle = bundle_for(doc)
    script = bundle.texts["rollback-adfs.ps1"]
    assert "Add-PSSnapin Microsoft.Adfs.PowerShell" in script
    # The AD FS 2.0 snap-in has Remove-ADFSRelyingPartyTrust, so created trusts are removed there too.
    assert commands(script, "Remove-AdfsRelyingPartyTrust")
    assert "AD FS 2.0 Management console" not in script
    assert bundle.report.ok


def test_no_adfs_rollback_without_passive_pools():
    doc = fixture_doc()
    doc["pools"][1]["auth"] = {"external": "tls_dsk"}
    doc["pools"][1].pop("relying_parties")
    doc.pop("adfs")
    files = bundle_for(doc).files
    assert "rollback-adfs.ps1" not in files
    assert "rollback-lync.ps1" in files


# ---------------------------------------------------------------------------
# Other plans and hostile input


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_every_fixture_renders_verified_network_files(fixture):
    doc = json.loads((FIXTURES / fixture).read_text(encoding="utf-8"))
    bundle = bundle_for(doc)
    assert bundle.report.ok
    assert "dns-records.md" in bundle.files
    assert "verify-internal.ps1" in bundle.files


def test_hostile_names_stay_inert_in_markdown_and_config():
    doc = fixture_doc()
    doc["name"] = "x | `code` <script>alert(1)</script> [link](http://evil) *bold* \"quoted\" 100%"
    bundle = bundle_for(doc)
    for name in ("certificates.md", "dns-records.md", "reverse-proxy-publishing.md"):
        first = bundle.texts[name].splitlines()[0]
        assert "<script>" not in first and "\\|" in first and "\\`code\\`" in first, first
    assert doc["name"] not in bundle.texts["reverse-proxy-certificate.inf"]
    ET.fromstring(bundle.texts["reverse-proxy-arr.config"].encode("utf-8"))


def test_plan_without_edge_or_external_web_has_no_public_certificate_or_external_check():
    doc = copy.deepcopy(fixture_doc())
    doc.pop("edge_pools")
    doc.pop("adfs")
    for pool in doc["pools"]:
        pool.pop("external_web_fqdn")
        pool["auth"] = {"external": "ntlm"}
        pool.pop("relying_parties", None)
    files = bundle_for(doc).files
    for name in ("certificates.md", "certificates-edge.ps1", "reverse-proxy-certificate.inf",
                 "reverse-proxy-arr.config", "reverse-proxy-publishing.md", "verify-external.ps1"):
        assert name not in files, name
    assert "dns-records.md" in files and "verify-internal.ps1" in files


def test_reverse_proxy_certificate_context_refuses_an_unplanned_key_size():
    plan = plan_from(fixture_doc())
    odd = replace(plan, certificates=replace(plan.certificates, key_size=3072))
    with pytest.raises(ValueError):
        network.proxy_certificate_context(odd)


# ---------------------------------------------------------------------------
# Review page partial


def test_review_partial_shows_certificates_publishing_and_dns():
    html = render_to_string("wizard/_network_tables.html",
                            {"network": network_plan.network_context(plan_from(fixture_doc()))})
    assert 'id="network-certificates"' in html and 'id="network-publishing"' in html
    assert 'id="network-dns-external"' in html and 'id="network-dns-internal"' in html
    assert "<code>sip.xn--bcher-kva.example</code>" in html and "sip.bücher.example" in html
    assert 'data-record="SRV _sip._tls.fabrikam.com"' in html
    assert "https://sfbdirint.contoso.com:4443" in html
    # 11 published names on HTTPS, 9 of them also on HTTP (not Office Online Server or AD FS).
    assert "20 IIS ARR rewrite rules" in html
    assert "{#" not in html and "{%" not in html
    assert "style=" not in html and "<script" not in html


def test_review_partial_escapes_what_it_shows():
    ctx = network_plan.network_context(plan_from(fixture_doc()))
    ctx["notes"] = ["<b>bold</b>"]
    html = render_to_string("wizard/_network_tables.html", {"network": ctx})
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
