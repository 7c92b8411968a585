"""Verification from the attacker's side (issue 13): what verify-external.ps1 probes, what it expects,
and how it judges what it sees.

The expectations are read out of the rendered script itself (tests/psmini.py evaluates its data) and
compared, path by path, with the plan's exposure model. The functions that decide (the verdicts, the
NTLM challenge decoder, the SIP response parser) are run by the same interpreter on crafted answers.
"""
from __future__ import annotations

import base64
import json
import re
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.psmini import CIDict, Interpreter, PSError
from wizard.plan import exposure, publishing
from wizard.plan.reader import read_plan
from wizard.proof.psast import Command, analyse
from wizard.scripts.artifacts import network
from wizard.scripts.bundle import Bundle, Source, build_bundle

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
PLANS = sorted(FIXTURES.glob("*.json"))

# The web paths public password-spray tools and cheat sheets use against Lync/SfB (issue 13), and where
# verify-external.ps1 probes each: a path of the exposure model, or the discovery probe.
SPRAY_PATHS = {
    "/abs/": "/abs/",
    "/WebTicket/WebTicketService.svc": "/WebTicket/WebTicketService.svc",
    "/CertProv/CertProvisioningService.svc": "/CertProv/CertProvisioningService.svc",
    "/GroupExpansion/": "/GroupExpansion/service.svc",
    "/mcx/": "/mcx/",
    "/RgsClients/": "/RgsClients/",
    "/RequestHandlerExt/": "/RequestHandlerExt/",
    "/Autodiscover/AutodiscoverService.svc/root": network.DISCOVERY_PATH,
    # The user resource the discovery document links to: its 401 names the MsRtcOAuth token URL and grant types,
    # which is where the spray tools learn that a password is taken at /WebTicket/oauthtoken.
    "/Autodiscover/AutodiscoverService.svc/root/oauth/user": "/Autodiscover/AutodiscoverService.svc/root/oauth/user",
    "/ucwa/": "/ucwa/",
    "/passiveauth": "/passiveauth/",
}


def plan_of(path: Path) -> Any:
    plan, findings = read_plan(json.loads(path.read_text(encoding="utf-8")))
    assert plan is not None, [f for f in findings if f.severity == "error"]
    return plan


@lru_cache(maxsize=16)
def bundle_of(path: Path) -> Bundle:
    plan = plan_of(path)
    return build_bundle(plan, source=Source.for_plan(plan))


@lru_cache(maxsize=16)
def script_data(path: Path) -> dict[str, Any]:
    """The data verify-external.ps1 holds, as the script itself evaluates it."""
    interp = Interpreter(bundle_of(path).texts["verify-external.ps1"])
    return {name: interp.evaluate(name) for name in (
        "WebExpectations", "WebStatuses", "WebPathSets", "WebProbes", "DiscoveryPath", "DiscoveryChecks",
        "SipProbes")}


def external_plans() -> list[Path]:
    return [p for p in PLANS if "verify-external.ps1" in bundle_of(p).files]


def test_every_fixture_with_an_internet_side_has_the_probes():
    assert len(external_plans()) == len(PLANS)


# ---------------------------------------------------------------------------
# The expectations come from the exposure model, path by path


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_each_expected_scheme_per_path_comes_from_the_exposure_model(path):
    plan = plan_of(path)
    data = script_data(path)
    hosts = {h["Base"]: h for h in data["WebProbes"]}
    model = [*exposure.web_probes(plan), *exposure.adfs_probes(plan)]
    assert model, "every fixture publishes something"
    probed = 0
    for probe in model:
        base = probe.url[:-len(probe.path)]
        entry = next(p for p in data["WebPathSets"][hosts[base]["Paths"]] if p["Path"] == probe.path)
        held = {s["Scheme"]: (s["Offer"], s["Why"]) for s in data["WebExpectations"][entry["Expect"]]}
        for expectation in probe.schemes:
            assert held.pop(expectation.scheme) == (expectation.offer.value, expectation.why), (probe.url, expectation)
        if probe.published_as != "adfs":
            # The MsRtcOAuth password grant is a credential of the model (issue 16): UseWindowsAuth governs it with
            # NTLM, so the model expects it where it expects NTLM, Modern Authentication scenarios included.
            model = {s.scheme: (s.offer, s.why) for s in probe.schemes}
            assert model["password_grant"] == model["NTLM"], probe.url
        assert not held, (probe.url, held)
        statuses = list(data["WebStatuses"][entry["Statuses"]])
        if probe.path == exposure.PASSIVEAUTH_PATH:
            redirect = next(s.offer for s in probe.schemes if s.scheme == "adfs_redirect")
            assert (set(statuses) <= set(range(300, 400))) == (redirect is exposure.Offer.MAY)
        if probe.published_as == "adfs":
            # The sign-in page must answer; a Windows transport endpoint is not published through a WAP (404).
            assert 401 in statuses and (404 in statuses) == (probe.path in exposure.ADFS_WINDOWS_PATHS)
        probed += 1
    # And nothing is probed that the model does not know.
    assert probed == sum(len(data["WebPathSets"][h["Paths"]]) for h in data["WebProbes"])


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_every_spray_path_is_probed_on_every_external_web_name(path):
    plan = plan_of(path)
    data = script_data(path)
    names = {r.external_fqdn for r in publishing.publishing_rules(plan)
             if r.kind in (publishing.WEB_SERVICES, publishing.SIMPLE_URL, publishing.AUTODISCOVER)}
    probed: dict[str, set[str]] = {}
    for host in data["WebProbes"]:
        name = re.sub(r"^https?://", "", host["Base"])
        probed.setdefault(name, set()).update(p["Path"] for p in data["WebPathSets"][host["Paths"]])
    assert names <= set(probed)
    discovery = {re.sub(r"^https?://", "", base) for base in data["DiscoveryChecks"]}
    for name in names:
        for tool_path, where in SPRAY_PATHS.items():
            if where == network.DISCOVERY_PATH:
                kind = next(r.kind for r in publishing.publishing_rules(plan) if r.external_fqdn == name)
                if kind != publishing.SIMPLE_URL:
                    assert name in discovery, (name, tool_path)
            else:
                assert where in probed[name], (name, tool_path)
    assert data["DiscoveryPath"] == "/Autodiscover/AutodiscoverService.svc/root"
    if plan.adfs is not None and plan.passive_pools:
        assert probed[plan.adfs.federation_service_name] == {"/adfs/ls/", *ADFS_WINDOWS_TRANSPORT}


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_each_access_edge_gets_a_sip_probe_with_the_models_schemes(path):
    plan = plan_of(path)
    held = {p["Edge"]: p for p in script_data(path)["SipProbes"]}
    for probe in exposure.sip_probes(plan):
        edge = next(e for e in plan.edge_pools if e.fqdn == probe.edge)
        if not edge.access_fqdn:
            assert probe.edge not in held
            continue
        item = held[probe.edge]
        listener = publishing.access_listener(edge)
        assert (item["Name"], item["Port"]) == (listener.fqdn, listener.port)
        assert item["Domain"] in plan.sip_domains
        assert [(s["Scheme"], s["Offer"], s["Why"]) for s in item["Schemes"]] == \
            [(s.scheme, s.offer.value, s.why) for s in probe.schemes]


def test_block_ntlm_means_neither_ntlm_nor_kerberos_at_the_edge():
    data = script_data(FIXTURES / "multi-domain-director-idn.json")
    [item] = data["SipProbes"]
    offers = {s["Scheme"]: s["Offer"] for s in item["Schemes"]}
    assert offers == {"NTLM": "must_not", "Kerberos": "must_not", "TLS-DSK": "may"}


# AD FS's WS-Trust Windows transport endpoints: what NTLM recon and spray tools ask an AD FS name for (an NTLM
# challenge straight away, no sign-in page). The promise that AD FS takes no Windows integrated sign-in from
# the Internet (a Web Application Proxy in front) is checked on them, not only on /adfs/ls/.
ADFS_WINDOWS_TRANSPORT = ("/adfs/services/trust/2005/windowstransport", "/adfs/services/trust/13/windowstransport")


@pytest.mark.parametrize(("fixture", "offer"), [("s01-passive-extranet-mfa", "must_not"),
                                                 ("multi-domain-director-idn", "may")])
def test_the_adfs_windows_transport_endpoints_are_probed_with_the_models_windows_sign_in(fixture, offer):
    path = FIXTURES / f"{fixture}.json"
    plan = plan_of(path)
    data = script_data(path)
    [host] = [h for h in data["WebProbes"] if h["Base"] == f"https://{plan.adfs.federation_service_name}"]
    entries = {p["Path"]: p for p in data["WebPathSets"][host["Paths"]]}
    for endpoint in ADFS_WINDOWS_TRANSPORT:
        entry = entries[endpoint]
        assert {s["Scheme"]: s["Offer"] for s in data["WebExpectations"][entry["Expect"]]} == {
            "NTLM": offer, "Negotiate": offer}
        statuses = set(data["WebStatuses"][entry["Statuses"]])
        # Through a Web Application Proxy the endpoint is not published (404); the plain reverse proxy hands
        # it to AD FS, which challenges (401). A proxy or server error is never a pass.
        assert {401, 404} <= statuses and not any(s >= 500 for s in statuses)


def test_a_windows_transport_endpoint_that_challenges_through_a_wap_is_a_fail():
    data = script_data(FIXTURES / "s01-passive-extranet-mfa.json")
    [host] = [h for h in data["WebProbes"] if h["Base"] == "https://adfs.contoso.com"]
    entry = next(p for p in data["WebPathSets"][host["Paths"]] if p["Path"] == ADFS_WINDOWS_TRANSPORT[0])
    statuses = list(data["WebStatuses"][entry["Statuses"]])
    wanted = [CIDict(list(s.items())) for s in data["WebExpectations"][entry["Expect"]]]
    passed, reason = verdict(answer(401, ("Negotiate", "NTLM"), leak="NetBiosDomain CONTOSO"), statuses, wanted)
    assert not passed and "NTLM is offered, which the plan closes" in reason
    passed, reason = verdict(answer(404, text="Not Found"), statuses, wanted)
    assert passed, reason


# ---------------------------------------------------------------------------
# The probes are read-only, bounded and send no credentials


def test_probes_send_no_credentials_and_change_nothing():
    script = bundle_of(FIXTURES / "multi-domain-director-idn.json").texts["verify-external.ps1"]
    facts = analyse(script)
    names = {e.name.lower() for e in facts.events if isinstance(e, Command)}
    assert not {n for n in names if re.match(r"(set|new|remove|add|grant|enable|disable|update)-(cs|adfs)", n)}
    assert not {n for n in names if n in ("invoke-webrequest", "invoke-restmethod")}
    # Every HTTP request is a GET; the SIP probe sends one REGISTER and no credentials.
    assert set(re.findall(r"\$Request\.Method = '(\w+)'", script)) == {"GET"}
    assert "-Credential" not in script and "UseDefaultCredentials = $true" not in script
    assert "$Request.UseDefaultCredentials = $false" in script and "$Request.Credentials = $null" in script
    # The only Authorization header is the constant NTLM NEGOTIATE, which names no user or domain.
    assert re.findall(r"-Authorization \(([^)]*)\)", script) == ["$Scheme + ' ' + $NtlmNegotiate"]
    token = re.search(r"\$NtlmNegotiate = '([^']+)'", script).group(1)
    raw = base64.b64decode(token)
    assert raw[:8] == b"NTLMSSP\0" and struct.unpack("<I", raw[8:12])[0] == 1
    domain_len, _, _, workstation_len, _, _ = struct.unpack("<HHIHHI", raw[16:32])
    assert domain_len == 0 and workstation_len == 0 and len(raw) == 40


def test_every_probe_is_bounded_by_the_time_out():
    script = bundle_of(FIXTURES / "multi-domain-director-idn.json").texts["verify-external.ps1"]
    assert "$Request.Timeout = $TimeoutSeconds * 1000" in script
    assert "$Request.ReadWriteTimeout = $TimeoutSeconds * 1000" in script
    assert "$Stream.ReadTimeout = $TimeoutSeconds * 1000" in script
    assert "WaitOne($TimeoutSeconds * 1000)" in script
    assert "$Text.Length -lt $MaxAnswerBytes" in script and "(Get-Date) -lt $Deadline" in script
    # A host that gave no answer is not probed again.
    assert "$script:Unreachable.ContainsKey($WebHost.Base)" in script


def test_the_json_report_keeps_every_observation():
    script = bundle_of(FIXTURES / "multi-domain-director-idn.json").texts["verify-external.ps1"]
    assert "Reason = $Reason; Observed = $Observed })" in script
    assert "ConvertTo-Json -Depth 8" in script
    for call in ("Check 'Web sign-in probe' -Target $Url -Passed $Verdict.Passed -Reason $Verdict.Reason -Observed $Observed",
                 "Check 'SIP sign-in probe' -Target ($Item.Name + ':' + $Item.Port) -Passed $Verdict.Passed "
                 "-Reason $Verdict.Reason -Observed $Observed",
                 "Check 'Discovery' -Target $Url -Passed $Verdict.Passed -Reason $Verdict.Reason -Observed $Observed"):
        assert call in script, call


# ---------------------------------------------------------------------------
# The verdicts, run by the interpreter


@lru_cache(maxsize=1)
def probe_functions() -> Interpreter:
    interp = Interpreter(bundle_of(FIXTURES / "multi-domain-director-idn.json").texts["verify-external.ps1"])
    interp.define_functions()
    return interp


def answer(status: int = 401, schemes: tuple[str, ...] = (), *, location: str = "", grants: tuple[str, ...] = (),
           error: str = "", leak: str = "", fqdn: str = "", text: str = "") -> CIDict:
    return CIDict([("Status", status), ("StatusText", text), ("Schemes", list(schemes)), ("Token", ""),
                   ("Grants", list(grants)), ("Location", location), ("ServerFqdn", fqdn), ("Server", ""),
                   ("Leak", leak), ("Error", error)])


def expect(*pairs: tuple[str, str]) -> list[CIDict]:
    return [CIDict([("Scheme", s), ("Offer", o), ("Why", "the plan")]) for s, o in pairs]


WEB = [200, 301, 302, 303, 307, 308, 401, 403]
CLOSED = expect(("NTLM", "must_not"), ("Negotiate", "must_not"), ("password_grant", "must_not"))
KEPT = expect(("NTLM", "may"), ("Negotiate", "may"), ("password_grant", "may"))


def verdict(a: CIDict, statuses: list[int], wanted: list[CIDict]) -> tuple[bool, str]:
    result = probe_functions().call("Get-WebVerdict", Answer=a, Statuses=statuses, Expect=wanted)
    return result["Passed"], result["Reason"]


@pytest.mark.parametrize(("a", "why"), [
    (answer(404, text="Not Found"), "not found"),
    (answer(502, text="Bad Gateway"), "proxy error"),
    (answer(503, text="Service Unavailable"), "proxy error"),
    (answer(0, error="TLS failure: the remote certificate is invalid"), "TLS failure"),
    (answer(0, error="no HTTP answer: The operation has timed out"), "no HTTP answer"),
    (answer(400, text="Bad Request"), "unexpected status"),
])
def test_a_status_that_is_not_an_answer_is_a_fail_with_its_reason(a, why):
    passed, reason = verdict(a, WEB, KEPT)
    assert not passed and why in reason


@given(status=st.integers(min_value=100, max_value=599), schemes=st.lists(st.sampled_from(
    ["NTLM", "Negotiate", "MsRtcOAuth", "Bearer"]), max_size=3))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_never_a_pass_for_a_status_outside_the_expected_ones(status, schemes):
    passed, _ = verdict(answer(status, tuple(schemes)), WEB, KEPT)
    if status not in WEB:
        assert not passed


def test_a_scheme_the_plan_closes_is_a_fail_and_one_it_keeps_is_a_pass():
    passed, reason = verdict(answer(401, ("Negotiate", "NTLM"), leak="NetBiosDomain CONTOSO"), WEB, CLOSED)
    assert not passed and "NTLM is offered, which the plan closes" in reason and "Negotiate is offered" in reason
    assert "NetBiosDomain CONTOSO" in reason
    passed, reason = verdict(answer(401, ("Negotiate", "NTLM"), leak="NetBiosDomain CONTOSO"), WEB, KEPT)
    assert passed and "the NTLM challenge names NetBiosDomain CONTOSO" in reason
    passed, reason = verdict(answer(401, ("MsRtcOAuth",), grants=("urn:microsoft.rtc:passive",)), WEB, CLOSED)
    assert passed, reason
    passed, reason = verdict(answer(401, ("MsRtcOAuth",), grants=("urn:microsoft.rtc:anonmeeting", "password")),
                             WEB, CLOSED)
    assert not passed and "password_grant is offered" in reason


def test_what_the_plan_leaves_as_today_is_reported_not_judged():
    unknown = expect(("NTLM", "unknown"), ("Negotiate", "unknown"))
    passed, reason = verdict(answer(401, ("NTLM",), fqdn="fe01.contoso.local"), WEB, unknown)
    assert passed and "NTLM as today" in reason and "X-MS-Server-Fqdn names fe01.contoso.local" in reason


def test_passive_sign_in_must_redirect_to_adfs():
    redirect = expect(("NTLM", "must_not"), ("adfs_redirect", "may"))
    passive = [301, 302, 303, 307, 308]
    passed, _ = verdict(answer(302, location="https://adfs.contoso.com/adfs/ls/?wa=wsignin1.0"), passive, redirect)
    assert passed
    passed, reason = verdict(answer(401, ("MsRtcOAuth",)), passive, redirect)
    assert not passed and "no redirect to AD FS" in reason
    passed, reason = verdict(answer(302, location="https://evil.example/login"), passive, redirect)
    assert not passed and "no redirect to AD FS" in reason
    off = expect(("NTLM", "may"), ("adfs_redirect", "must_not"))
    passed, reason = verdict(answer(302, location="https://adfs.contoso.com/adfs/ls/"), [*WEB, 404], off)
    assert not passed and "adfs_redirect is offered" in reason


def test_challenges_are_parsed_from_the_header_values():
    parsed = probe_functions().call(
        "Get-AuthChallenges",
        Values=["Negotiate", "NTLM TlRMTVNTUAACAAAAAAAAADgAAAAFgomi", 'MsRtcOAuth href="https://x/WebTicket/oauthtoken"',
                "Bearer", " ", "(garbage"],
        Joined='MsRtcOAuth href="https://x/WebTicket/oauthtoken",grant_type="urn:microsoft.rtc:windows,'
               'urn:microsoft.rtc:anonmeeting,password"')
    assert parsed["Schemes"] == ["Negotiate", "NTLM", "MsRtcOAuth", "Bearer"]
    assert parsed["Token"] == "TlRMTVNTUAACAAAAAAAAADgAAAAFgomi"
    assert parsed["Grants"] == ["urn:microsoft.rtc:windows", "urn:microsoft.rtc:anonmeeting", "password"]


OAUTH_USER = "/Autodiscover/AutodiscoverService.svc/root/oauth/user"
# What the web services answer there without credentials while they take a password (the MsRtcOAuth challenge).
PASSWORD_GRANT_CHALLENGE = ('MsRtcOAuth href="https://lyncweb.contoso.com/WebTicket/oauthtoken",'
                            'grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"')


def test_the_password_grant_the_model_closes_is_seen_where_the_server_announces_it():
    """The model closes the MsRtcOAuth password grant on a passive pool, and the runbook says verify-external.ps1
    checks it from the Internet. Only the OAuth user resource announces the grant types to a request without
    credentials: verify-external.ps1 must ask it on the pool's external name, and a 401 that still offers the
    password grant there is a FAIL."""
    path = FIXTURES / "s01-passive-extranet-mfa.json"
    plan = plan_of(path)
    data = script_data(path)
    [host] = [h for h in data["WebProbes"] if h["Base"] == "https://lyncweb.contoso.com"]
    entry = next((p for p in data["WebPathSets"][host["Paths"]] if p["Path"] == OAUTH_USER), None)
    assert entry is not None, "the OAuth user resource is not probed: the password grant check could never fail"
    wanted = [CIDict(list(s.items())) for s in data["WebExpectations"][entry["Expect"]]]
    assert {s["Scheme"]: s["Offer"] for s in wanted}["password_grant"] == "must_not"
    statuses = list(data["WebStatuses"][entry["Statuses"]])
    parsed = probe_functions().call("Get-AuthChallenges", Values=[PASSWORD_GRANT_CHALLENGE],
                                    Joined=PASSWORD_GRANT_CHALLENGE)
    seen = answer(401, tuple(parsed["Schemes"]), grants=tuple(parsed["Grants"]))
    passed, reason = verdict(seen, statuses, wanted)
    assert not passed and "password_grant is offered, which the plan closes" in reason
    # The runbook's "Checked after the change" may then say so.
    model = exposure.exposure(plan)
    grant = next(p for p in model.paths if p.entry.kind is exposure.EntryKind.WEB_SERVICES
                 and p.credential is exposure.Credential.PASSWORD_GRANT)
    assert OAUTH_USER in grant.entry.paths
    assert exposure.internet_checks(plan, model)[grant.key].startswith("from the Internet")


# ---------------------------------------------------------------------------
# The NTLM challenge decoder


def av(av_id: int, text: str) -> bytes:
    value = text.encode("utf-16-le")
    return struct.pack("<HH", av_id, len(value)) + value


def challenge(target: str = "CONTOSO", info: bytes | None = None, *, flags: int = 0xA2898205,
              info_offset: int | None = None, info_length: int | None = None, signature: bytes = b"NTLMSSP\0",
              message_type: int = 2) -> str:
    """An NTLM CHALLENGE message (MS-NLMP 2.2.1.2) with the given target name and target information."""
    if info is None:
        info = (av(2, "CONTOSO") + av(1, "FE01") + av(4, "contoso.local") + av(3, "fe01.contoso.local")
                + av(5, "contoso.local") + struct.pack("<HH", 0, 0))
    name = target.encode("utf-16-le")
    header_len = 56
    name_offset = header_len
    offset = name_offset + len(name) if info_offset is None else info_offset
    length = len(info) if info_length is None else info_length
    head = (signature + struct.pack("<I", message_type) + struct.pack("<HHI", len(name), len(name), name_offset)
            + struct.pack("<I", flags) + b"\x01" * 8 + b"\0" * 8 + struct.pack("<HHI", length, length, offset)
            + b"\x0a\x00\x63\x45\x00\x00\x00\x0f")
    return base64.b64encode(head + name + info).decode("ascii")


def decode(token: str) -> CIDict:
    return probe_functions().call("ConvertFrom-NtlmChallenge", Token=token)


def test_the_decoder_reads_the_internal_names_a_challenge_gives_away():
    names = decode(challenge())
    assert (names["TargetName"], names["NetBiosDomain"], names["NetBiosComputer"], names["DnsDomain"],
            names["DnsComputer"], names["DnsTree"], names["Error"]) == (
        "CONTOSO", "CONTOSO", "FE01", "contoso.local", "fe01.contoso.local", "contoso.local", "")
    leak = probe_functions().call("Get-NtlmLeak", Names=names)
    assert leak == ("NetBiosDomain CONTOSO, DnsDomain contoso.local, NetBiosComputer FE01, "
                    "DnsComputer fe01.contoso.local, DnsTree contoso.local")


@pytest.mark.parametrize(("token", "error"), [
    ("not base64 at all!", "not base64"),
    (base64.b64encode(b"NTLMSSP\0").decode(), "shorter than an NTLM challenge"),
    (challenge(signature=b"XTLMSSP\0"), "not an NTLM challenge"),
    (challenge(message_type=3), "not an NTLM challenge"),
    (challenge(info_offset=0xFFFFFFF0), "outside the message"),
    (challenge(info_length=0xFFFF), "outside the message"),
    (challenge(info=struct.pack("<HH", 2, 400) + b"AB"), "runs past its end"),
    ("A" * 9000, "longer than 8192"),
])
def test_a_malformed_challenge_gives_an_error_not_an_exception(token, error):
    names = decode(token)
    assert error in names["Error"]
    assert names["NetBiosDomain"] == "" and names["DnsComputer"] == ""


def test_the_decoder_reads_at_most_32_fields():
    many = b"".join(av(6, "") for _ in range(500)) + av(2, "LATE")
    names = decode(challenge(info=many))
    assert names["NetBiosDomain"] == "" and names["Error"] == ""


@given(st.binary(max_size=300))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_the_decoder_never_fails_on_any_bytes(data):
    names = decode(base64.b64encode(data).decode("ascii"))
    assert set(names) == {"TargetName", "NetBiosComputer", "NetBiosDomain", "DnsComputer", "DnsDomain", "DnsTree",
                          "Error"}


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=0xFFFFFFFF),
       st.integers(min_value=0, max_value=0xFFFF))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_the_decoder_never_fails_on_a_challenge_with_any_target_information(info, offset, length):
    names = decode(challenge(info=info, info_offset=offset, info_length=length))
    assert isinstance(names["Error"], str)


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=9), st.binary(max_size=40),
                          st.integers(min_value=0, max_value=0xFFFF) | st.none()), max_size=12))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_the_decoder_never_reads_past_the_target_information(fields):
    """Well-formed headers, fields whose declared length may lie: the decoder stops, never overreads."""
    info = b"".join(struct.pack("<HH", i, len(v) if n is None else n) + v for i, v, n in fields)
    names = decode(challenge(info=info))
    lied = any(n is not None and n != len(v) for _, v, n in fields)
    if not lied:
        assert names["Error"] == ""


# ---------------------------------------------------------------------------
# SIP


CRLF = "\r\n"


def sip(status: str, *headers: str) -> str:
    return CRLF.join([f"SIP/2.0 {status}", "Via: SIP/2.0/TLS x", *headers, "Content-Length: 0"]) + CRLF + CRLF


def test_the_sip_answer_is_parsed_after_provisional_responses():
    text = sip("100 Trying") + sip(
        "401 Unauthorized",
        'WWW-Authenticate: NTLM realm="SIP Communications Service", targetname="fe01.contoso.local", version=4',
        'WWW-Authenticate: Kerberos realm="SIP Communications Service", targetname="sip/fe01.contoso.local", version=4',
        'WWW-Authenticate: TLS-DSK realm="SIP Communications Service", version=4, '
        'sts-uri="https://lyncweb.contoso.com:443/CertProv/CertProvisioningService.svc"')
    parsed = probe_functions().call("ConvertFrom-SipResponse", Text=text)
    assert parsed["Status"] == 401 and parsed["Phrase"] == "Unauthorized"
    assert parsed["Schemes"] == ["NTLM", "Kerberos", "TLS-DSK"]
    assert parsed["Target"] == "fe01.contoso.local" and parsed["Error"] == ""
    incomplete = probe_functions().call("ConvertFrom-SipResponse", Text="SIP/2.0 401 Unauthorized\r\nWWW-Auth")
    assert incomplete["Error"]


EDGE_BLOCKED = expect(("NTLM", "must_not"), ("Kerberos", "must_not"), ("TLS-DSK", "may"))


def sip_verdict(status: int, schemes: tuple[str, ...], *, error: str = "", target: str = "") -> tuple[bool, str]:
    a = CIDict([("Status", status), ("Phrase", "Unauthorized" if status == 401 else "Other"),
                ("Schemes", list(schemes)), ("Target", target), ("Error", error)])
    result = probe_functions().call("Get-SipVerdict", Answer=a, Expect=EDGE_BLOCKED)
    return result["Passed"], result["Reason"]


def test_with_block_ntlm_the_edge_must_offer_neither_ntlm_nor_kerberos():
    assert sip_verdict(401, ("TLS-DSK",))[0]
    passed, reason = sip_verdict(401, ("NTLM", "TLS-DSK"), target="fe01.contoso.local")
    assert not passed and "NTLM is offered" in reason and "fe01.contoso.local" in reason
    passed, reason = sip_verdict(401, ("Kerberos", "TLS-DSK"))
    assert not passed and "Kerberos is offered" in reason


@pytest.mark.parametrize(("status", "schemes", "error", "why"), [
    (403, (), "", "no authentication challenge"),
    (504, (), "", "no authentication challenge"),
    (401, (), "", "offers no scheme"),
    (0, (), "TLS failure: handshake failed", "TLS failure"),
    (0, (), "no complete SIP response within the time-out", "no complete SIP response"),
])
def test_a_sip_answer_that_is_not_a_challenge_is_a_fail(status, schemes, error, why):
    passed, reason = sip_verdict(status, schemes, error=error)
    assert not passed and why in reason


def test_decoder_errors_in_the_interpreter_are_contained():
    """ConvertFrom-NtlmChallenge catches the base64 error itself: no PSError escapes."""
    try:
        decode("%%%")
    except PSError as error:  # pragma: no cover - the assertion below explains
        pytest.fail(f"the decoder let an error escape: {error}")


# ---------------------------------------------------------------------------
# The CertProv authentication check (both scripts): a status that is not the pool's answer is a FAIL


def certprov_run(script: str, status: int, schemes: tuple[str, ...], *, windows_auth: bool) -> tuple[str, str]:
    """Run Test-CertProvAuthentication of `script` (verify-external.ps1 or verify-internal.ps1) on one crafted
    answer (Get-HttpAnswer replaced by a fake); return the status and reason it records."""
    from tests.psmini import Builtin, DotNetObject, PSObject

    class Results(DotNetObject):
        """The script's List[object] of results: only Add is used."""

        def __init__(self) -> None:
            self.rows: list[Any] = []

        def ps_call(self, name: str, args: list[Any]) -> Any:
            assert name.lower() == "add", name
            self.rows.append(args[0])

    def http_answer(interp: Interpreter, named: CIDict, positional: list[Any], given: Any) -> list[Any]:
        return [PSObject([("Status", status), ("Schemes", list(schemes)), ("Body", "")])]

    interp = Interpreter(bundle_of(FIXTURES / "multi-domain-director-idn.json").texts[script],
                         commands={"Get-HttpAnswer": Builtin(http_answer)})
    interp.define_functions()
    del interp.functions["Get-HttpAnswer"]
    interp.evaluate("CertProvStatuses")
    results = Results()
    interp.set("Results", results)
    item = CIDict([("Url", "https://web.contoso.com/CertProv/CertProvisioningService.svc"), ("Pool", "pool.contoso.com"),
                   ("Mode", "ntlm" if windows_auth else "passive"), ("WindowsAuth", windows_auth)])
    interp.call("Test-CertProvAuthentication", Item=item)
    [row] = results.rows
    return row.to_dict()["Status"], row.to_dict()["Reason"]


@pytest.mark.parametrize("script", ["verify-external.ps1", "verify-internal.ps1"])
@pytest.mark.parametrize(("status", "schemes"), [(404, ()), (502, ()), (503, ()), (500, ("NTLM",)), (400, ())])
@pytest.mark.parametrize("windows_auth", [False, True])
def test_certprov_check_fails_when_the_pool_did_not_answer(script, status, schemes, windows_auth):
    """A passive pool's CertProv must not offer Negotiate/NTLM, but a 404 or a proxy error offers nothing either:
    it is a FAIL (the request never reached the pool's web services), not a PASS."""
    verdict, reason = certprov_run(script, status, schemes, windows_auth=windows_auth)
    assert verdict == "FAIL", reason
    assert f"HTTP {status}" in reason and "not an answer" in reason


@pytest.mark.parametrize("script", ["verify-external.ps1", "verify-internal.ps1"])
def test_certprov_check_judges_windows_authentication_on_an_answer(script):
    assert certprov_run(script, 401, ("Negotiate", "NTLM"), windows_auth=True)[0] == "PASS"
    assert certprov_run(script, 401, ("MsRtcOAuth",), windows_auth=True)[0] == "FAIL"
    assert certprov_run(script, 401, ("MsRtcOAuth",), windows_auth=False)[0] == "PASS"
    assert certprov_run(script, 401, ("NTLM",), windows_auth=False)[0] == "FAIL"
    assert network.verify_internal_context(plan_of(FIXTURES / "multi-domain-director-idn.json"))[
        "certprov_statuses"] == list(network.PROBE_STATUSES["web"])
