"""Property: no plan that renders with MFA promised leaves a password-only path in its own exposure model,
and every refused plan names a field.

Plans are generated over every combination the issue names: authentication modes per pool (or none),
Director/Front End roles, Edge presence and block_ntlm, Registrar blocking, certificate authentication,
external web names, AD FS version and publishing, MFA mode, and Lync 2013 or Skype for Business.
"""
from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.plan.engine import assess
from wizard.plan.exposure import Credential, State, exposure, mfa_promised
from wizard.plan.findings import may_accept
from wizard.scripts.bundle import Source, build_bundle

_PROPERTY = settings(max_examples=150, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_PATH_RE = re.compile(r"^[a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*$")
_TOP = {"name", "product", "sip_domains", "pools", "edge_pools", "adfs", "mobility_policies", "simple_urls",
        "office_web_apps_fqdn", "autodiscover_port", "certificates", "accepted_risks"}


def _mostly(draw: st.DrawFn, hardened: bool, value: Any, other: st.SearchStrategy[Any]) -> Any:
    """Return `value` nine times in ten for a hardened plan, else whatever `other` draws."""
    if hardened and draw(st.integers(min_value=0, max_value=9)):
        return value
    return draw(other)


@st.composite
def pools(draw: st.DrawFn, hardened: bool) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(min_value=1, max_value=3))):
        pool: dict[str, Any] = {"fqdn": f"pool{i}.contoso.com",
                                "role": draw(st.sampled_from(["frontend", "director"]))}
        if _mostly(draw, hardened, True, st.booleans()) or i == 0:
            pool["external_web_fqdn"] = f"web{i}.contoso.com"
        mode = _mostly(draw, hardened, "passive", st.sampled_from([None, "ntlm", "tls_dsk", "passive", "passive"]))
        if mode is not None:
            pool["auth"] = {"external": mode,
                            "certificate_auth": _mostly(draw, hardened, True, st.booleans()),
                            "block_ntlm_at_registrar": _mostly(draw, hardened, True, st.booleans())}
            if draw(st.booleans()):
                pool["auth"]["block_pin_auth"] = True
        out.append(pool)
    return out


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    # Half the plans are drawn close to one that keeps the MFA promise, so that both sides of the
    # property (refused, and rendered with MFA) are well covered.
    hardened = draw(st.booleans())
    doc: dict[str, Any] = {
        "format": "lync-auth-plan/1", "name": "generated", "sip_domains": ["contoso.com"],
        "product": draw(st.sampled_from(["lync2013", "sfb2015", "sfb2019"])),
        "pools": draw(pools(hardened)),
    }
    edges = _mostly(draw, hardened, 1, st.integers(min_value=0, max_value=2))
    if edges:
        doc["edge_pools"] = [{"fqdn": f"edge{j}.contoso.com", "access_fqdn": f"sip{j or ''}.contoso.com",
                              "block_ntlm": _mostly(draw, hardened, True, st.booleans())} for j in range(edges)]
    if draw(st.booleans()) or any((p.get("auth") or {}).get("external") == "passive" for p in doc["pools"]):
        doc["adfs"] = {"federation_service_name": "adfs.contoso.com",
                       "version": _mostly(draw, hardened, "2016",
                                          st.sampled_from(["2.0", "2012r2", "2016", "2019", "2022"])),
                       "mfa": draw(st.sampled_from(["none", "extranet", "always", "always", "extranet"])),
                       "published_on_reverse_proxy": _mostly(draw, hardened, False, st.booleans())}
    return doc


def _field_exists_in_plan_format(doc: dict[str, Any], path: str) -> bool:
    """Return True when `path` names a field of the plan (present, or a field the format allows there)."""
    if not _PATH_RE.match(path):
        return False
    top, _, _ = path.partition(".")
    name, _, index = top.partition("[")
    if name not in _TOP:
        return False
    if index:
        items = doc.get(name) or []
        return int(index.rstrip("]")) < len(items)
    return True


@_PROPERTY
@given(plans())
def test_a_rendered_plan_that_promises_mfa_leaves_no_password_only_path(doc: dict[str, Any]) -> None:
    plan, findings = assess(doc)
    assert plan is not None, [f for f in findings if f.severity == "error"]
    errors = [f for f in findings if f.severity == "error"]
    for f in errors:
        assert _field_exists_in_plan_format(doc, f.field), (f.code, f.field)
    model = exposure(plan)
    # The block_ntlm promise: no NTLM or Kerberos at a blocking Edge, in every plan.
    for j, edge in enumerate(plan.edge_pools):
        if edge.block_ntlm:
            for credential in (Credential.NTLM, Credential.KERBEROS):
                path = next(p for p in model.paths_at(f"edge:{edge.fqdn}") if p.credential is credential)
                assert path.after.accepted is State.CLOSED, (j, credential)
    if errors:
        return
    if mfa_promised(plan):
        open_paths = [(p.key, p.after.password_only.value) for p in model.password_only(after=True)]
        assert open_paths == [], open_paths
    # It renders: the scripts the model assumes are the ones emitted (and the verifier passes them).
    build_bundle(plan, source=Source.for_plan(plan), findings=findings)


@_PROPERTY
@given(plans())
def test_accepting_every_acceptable_error_renders_and_still_shows_the_paths(doc: dict[str, Any]) -> None:
    plan, findings = assess(doc)
    assert plan is not None
    acceptable = [f for f in findings if may_accept(f)]
    others = [f for f in findings if f.severity == "error" and not may_accept(f)]
    if not acceptable or others:
        return
    doc = {**doc, "accepted_risks": [{"code": f.code, "field": f.field, "reason": "accepted in the test"}
                                     for f in acceptable]}
    accepted_plan, accepted_findings = assess(doc)
    assert accepted_plan is not None
    assert not [f for f in accepted_findings if f.severity == "error"]
    assert {(f.code, f.field) for f in accepted_findings if f.message.startswith("accepted: ")} == \
        {(f.code, f.field) for f in acceptable}
    # Accepting a risk never hides the path from the model.
    assert exposure(accepted_plan).password_only(after=True)
