"""The authentication mode is one enum carrying its facts; nothing else compares the plan file's strings."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from wizard.plan.model import AUTH_MODES, PRODUCTS, AuthMode, PoolAuth
from wizard.plan.reader import load_plan

ROOT = Path(__file__).resolve().parents[1]
# A mode value written as a string literal, in Python or in a Jinja2 template.
_MODE_LITERAL = re.compile(r"""["'](?:ntlm|tls_dsk|passive)["']""")
_ENUM_MEMBER = re.compile(r"""^\s+[A-Z][A-Z_]* = ["'][a-z_]+["']$""")


def test_the_plan_file_values_are_the_contract_strings() -> None:
    assert [m.value for m in AuthMode] == ["ntlm", "tls_dsk", "passive"]
    assert list(AUTH_MODES) == ["ntlm", "tls_dsk", "passive"]
    assert AUTH_MODES["passive"] == AuthMode.PASSIVE.label


@pytest.mark.parametrize(("mode", "windows", "certificate_only", "adfs"), [
    (AuthMode.NTLM, True, False, False),
    (AuthMode.TLS_DSK, True, True, False),
    (AuthMode.PASSIVE, False, False, True),
])
def test_each_mode_carries_its_facts(mode: AuthMode, windows: bool, certificate_only: bool, adfs: bool) -> None:
    assert mode.keeps_windows_auth is windows
    assert mode.certificate_sign_in_only is certificate_only
    assert mode.needs_adfs is adfs
    assert mode.products == frozenset(PRODUCTS)


def test_passive_needs_a_cumulative_update_on_lync_2013_only() -> None:
    assert AuthMode.PASSIVE.needs_cu("lync2013")
    assert not AuthMode.PASSIVE.needs_cu("sfb2015")
    assert not AuthMode.TLS_DSK.needs_cu("lync2013")


def test_a_plan_built_in_code_with_a_string_gets_the_enum() -> None:
    auth = PoolAuth(external="tls_dsk")  # type: ignore[arg-type]
    assert auth.external is AuthMode.TLS_DSK
    assert auth == PoolAuth(external=AuthMode.TLS_DSK)


def test_the_reader_gives_the_enum() -> None:
    plan, _ = load_plan(b'{"format": "lync-auth-plan/1", "name": "x", "product": "sfb2019", '
                        b'"sip_domains": ["contoso.com"], "pools": [{"fqdn": "p.contoso.com", '
                        b'"auth": {"external": "ntlm"}}]}')
    assert plan is not None and plan.pools[0].auth is not None
    assert plan.pools[0].auth.external is AuthMode.NTLM


def test_no_template_compares_a_mode_string() -> None:
    offenders = [f"{path.name}: {m.group()}" for path in sorted((ROOT / "powershell_templates").glob("*.j2"))
                 for m in _MODE_LITERAL.finditer(path.read_text(encoding="utf-8"))]
    offenders += [f"{path.name}: {m.group()}" for path in sorted((ROOT / "templates").rglob("*.html"))
                  for m in _MODE_LITERAL.finditer(path.read_text(encoding="utf-8"))]
    assert not offenders, "templates get booleans from their context, never mode strings: " + ", ".join(offenders)


def test_no_python_module_compares_a_mode_string() -> None:
    # The model defines the values; presets are plan documents (the contract's strings, not comparisons).
    allowed = {ROOT / "wizard" / "plan" / "model.py", ROOT / "wizard" / "web" / "presets.py"}
    offenders = []
    for path in sorted((ROOT / "wizard").rglob("*.py")):
        if path in allowed or "migrations" in path.parts:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            # Another vocabulary's enum member may share a spelling (exposure.Credential.NTLM = "ntlm").
            if _ENUM_MEMBER.match(line):
                continue
            offenders += [f"{path.relative_to(ROOT)}: {m.group()}" for m in _MODE_LITERAL.finditer(line)]
    assert not offenders, "compare AuthMode members or ask their facts: " + ", ".join(offenders)
