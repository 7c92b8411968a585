"""One place for each rule: constants the product relies on are defined once.

Each test reads the source tree and names the one module allowed to hold the fact.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from wizard.plan.model import MOBILITY_SETTINGS, MobilityPolicy
from wizard.plan.reader import load_plan
from wizard.scripts.rendering import render_all

ROOT = Path(__file__).resolve().parents[1]


def _sources(*folders: str, suffix: str = ".py") -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob(f"*{suffix}"))
            if "migrations" not in p.parts]


def _holders(needle: str, *folders: str) -> set[str]:
    return {str(p.relative_to(ROOT)) for p in _sources(*folders) if needle in p.read_text(encoding="utf-8")}


@pytest.mark.parametrize("needle", [
    # The five single quotes and the four double quotes, written out (escaped) as a definition.
    "\"'\\u2018\\u2019\\u201a\\u201b\"",
    "'\"\\u201c\\u201d\\u201e'",
])
def test_powershells_quote_characters_are_defined_once(needle: str) -> None:
    # The tests attack and check with the same definition (tests/test_psscan.py pins it by Unicode name).
    assert _holders(needle, "wizard", "tests", "tools", "bench") == {"wizard/proof/psscan.py"}


@pytest.mark.parametrize("needle", [
    # The AD FS access control policy names.
    "Permit everyone and require MFA from extranet access\"",
    "\"Permit everyone\"",
    # The passive metadata path of a pool's web services.
    "/passiveauth/federationmetadata/2007-06/federationmetadata.xml",
])
def test_a_domain_constant_is_defined_in_the_model_only(needle: str) -> None:
    # Tests may spell out the values they expect in the output; the product holds each once.
    assert _holders(needle, "wizard") == {"wizard/plan/model.py"}


def test_the_lync_2013_cumulative_update_mobility_parameters_are_listed_once() -> None:
    # Written as plan keys in the model; the script's parameter checks derive their cmdlet names from it.
    assert _holders('"allow_save_im_history",\n', "wizard") == {"wizard/plan/model.py"}
    assert _holders('"AllowSaveIMHistory"', "wizard") == {"wizard/plan/model.py"}


def test_the_scanner_owns_the_only_quoting_rule() -> None:
    # psquote validates and then calls psscan.quote_single; no other module doubles quotes itself.
    doubling = [str(p.relative_to(ROOT)) for p in _sources("wizard")
                if r'sub(r"\1\1"' in p.read_text(encoding="utf-8")]
    assert doubling == ["wizard/proof/psscan.py"]


def test_no_template_writes_a_mobility_parameter_by_hand() -> None:
    for path in sorted((ROOT / "powershell_templates").glob("*.j2")):
        text = path.read_text(encoding="utf-8")
        written = [param for param in MOBILITY_SETTINGS.values() if param in text]
        assert not written, f"{path.name} names {written}: loop over the context's settings instead"


def test_every_mobility_setting_is_emitted_and_restored_in_table_order() -> None:
    plan, _ = load_plan(b'{"format": "lync-auth-plan/1", "name": "m", "product": "sfb2019", '
                        b'"sip_domains": ["contoso.com"], "pools": [{"fqdn": "p.contoso.com"}]}')
    assert plan is not None
    values = {key: i % 2 == 0 for i, key in enumerate(MOBILITY_SETTINGS)}
    plan = replace(plan, mobility_policies=(MobilityPolicy(identity="Tag:T", **values),))
    texts = render_all(plan)
    args = " ".join(f"-{param} {'$true' if values[key] else '$false'}" for key, param in MOBILITY_SETTINGS.items())
    assert f"New-CsMobilityPolicy -Identity 'Tag:T' {args} -WhatIf:$WhatIfPreference" in texts[
        "lync-management-shell.ps1"]
    rollback = texts["rollback-lync.ps1"]
    restored = " ".join(f"-{param} ${param}" for param in MOBILITY_SETTINGS.values())
    assert f"Set-CsMobilityPolicy -Identity 'Tag:T' {restored} -WhatIf:$WhatIfPreference" in rollback
    for param in MOBILITY_SETTINGS.values():
        assert f"        ${param} = [bool]$Saved.{param}\n" in rollback
