"""The state collector, `collect-state.ps1`: in every bundle, and downloadable on its own.

It reads an estate and writes one `lync-auth-state/1` file (docs/state-format.md) for the
planner to read back (wizard.plan.state_reader). It depends on no plan: its text is the
same in every bundle and in the download from the plan list, and the verifier checks it
for every product and AD FS version (it runs wherever it is taken). The field lists below
are what it reads from each collection the cmdlets return; the tests hold the reader to
the same keys.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from wizard import __version__
from wizard.plan.model import MOBILITY_SETTINGS, PlanData
from wizard.proof.verify import VerifyReport, verify_scripts
from wizard.scripts.artifacts.core import Artifact
from wizard.scripts.rendering import render_template

COLLECTOR_FILE = "collect-state.ps1"
COLLECTOR_TEMPLATE = "collect-state.ps1.j2"
# Before every other step (bands in core: 10-19 certificates, ...): collect, upload, compare.
RUN_ORDER_COLLECT = 5

# (state file key, property of the object the cmdlet returns, JSON type: Text | Bool | Number)
WEB_SERVICE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("identity", "Identity", "Text"),
    ("use_windows_auth", "UseWindowsAuth", "Text"),
    ("use_certificate_auth", "UseCertificateAuth", "Bool"),
    ("use_pin_auth", "UsePinAuth", "Bool"),
    ("use_ws_fed_passive_auth", "UseWsFedPassiveAuth", "Bool"),
    ("ws_fed_passive_metadata_uri", "WsFedPassiveMetadataUri", "Text"),
    ("default_validity_period_hours", "DefaultValidityPeriodHours", "Number"),
    ("min_validity_period_hours", "MinValidityPeriodHours", "Number"),
    ("max_validity_period_hours", "MaxValidityPeriodHours", "Number"),
    ("mobile_preferred_auth_type", "MobilePreferredAuthType", "Text"),
)
PROXY_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("identity", "Identity", "Text"),
    ("use_ntlm_for_client_to_proxy_auth", "UseNtlmForClientToProxyAuth", "Bool"),
    ("use_kerberos_for_client_to_proxy_auth", "UseKerberosForClientToProxyAuth", "Bool"),
    ("use_certificate_for_client_to_proxy_auth", "UseCertificateForClientToProxyAuth", "Bool"),
)
MOBILITY_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("identity", "Identity", "Text"),
    *((key, parameter, "Bool") for key, parameter in MOBILITY_SETTINGS.items()),
)
CERTIFICATE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("use", "Use", "Text"),
    ("subject", "Subject", "Text"),
    ("thumbprint", "Thumbprint", "Text"),
)
TRUST_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "Name", "Text"),
    ("metadata_url", "MetadataUrl", "Text"),
    ("enabled", "Enabled", "Bool"),
    ("access_control_policy_name", "AccessControlPolicyName", "Text"),
    ("issuance_authorization_rules", "IssuanceAuthorizationRules", "Text"),
    ("issuance_transform_rules", "IssuanceTransformRules", "Text"),
    ("additional_authentication_rules", "AdditionalAuthenticationRules", "Text"),
)


def _rows(fields: tuple[tuple[str, str, str], ...]) -> list[dict[str, str]]:
    return [{"key": key, "property": prop, "kind": kind} for key, prop, kind in fields]


def collector_context(plan: PlanData | None = None) -> dict[str, Any]:
    """Return the collector's values: the same for every plan (it reads the estate, not the plan)."""
    return {
        "web_service_fields": _rows(WEB_SERVICE_FIELDS),
        "proxy_fields": _rows(PROXY_FIELDS),
        "mobility_fields": _rows(MOBILITY_FIELDS),
        "certificate_fields": _rows(CERTIFICATE_FIELDS),
        "trust_fields": _rows(TRUST_FIELDS),
    }


ARTIFACTS: list[Artifact] = [
    Artifact(
        key="collect_state",
        filename=COLLECTOR_FILE,
        template=COLLECTOR_TEMPLATE,
        machine=("A Front End server, in the Lync/SfB Management Shell; then the primary AD FS server, in Windows "
                 "PowerShell (on AD FS 2.0, after Add-PSSnapin Microsoft.Adfs.PowerShell)"),
        run_order=RUN_ORDER_COLLECT,
        purpose=("Read-only: collect the estate as it is (topology, SIP domains, simple URLs, web service, proxy and "
                 "mobility settings of every scope, certificates; the AD FS farm and its relying party trusts) into "
                 "a lync-auth-state/1 file, and upload it to the planner to compare the plan with the estate"),
        check_after=("The script printed where it wrote lync-auth-state-*.json; the planner's estate page of this "
                     "plan reads the file and lists every setting the plan changes, and every estate fact to fix "
                     "first"),
        applies=lambda plan: True,
        context=collector_context,
        read_only=True,
        portable=True,
    ),
]


def render_collector() -> str:
    """Return the text of collect-state.ps1, exactly as every bundle holds it."""
    artifact = ARTIFACTS[0]
    header = {"tool_version": __version__}
    describe = {"key": artifact.key, "filename": COLLECTOR_FILE, "machine": artifact.machine,
                "run_order": artifact.run_order, "purpose": artifact.purpose, "check_after": artifact.check_after,
                "read_only": artifact.read_only}
    return render_template(COLLECTOR_TEMPLATE, {**collector_context(), "header": header, "artifact": describe})


@lru_cache(maxsize=1)
def collector_download() -> bytes:
    """Return the bytes of collect-state.ps1 as a bundle holds them; raise VerificationFailed if it fails."""
    # Imported here: the bundle module imports this registry.
    from wizard.scripts.bundle import encode_file

    text = render_collector()
    verify_collector(text).raise_for_problems()
    return encode_file(COLLECTOR_FILE, text)


def verify_collector(text: str) -> VerifyReport:
    """Return the verification of the collector on its own (every product and AD FS version)."""
    return verify_scripts({COLLECTOR_FILE: text}, product="sfb2019", adfs_version=None,
                          twin_scripts={COLLECTOR_FILE: text}, portable={COLLECTOR_FILE})
