"""An MFA promise and the pools of the topology the plan does not list, as lync-management-shell.ps1 sees them.

Without a state file the findings can only say that such pools are not checked (mfa_topology_unchecked); the
Management Shell script reads the topology before its first change and names each Front End, Director and Edge
pool the plan does not list: they keep their settings, and their sign-in from the Internet is outside the promise.
Run against the fake cmdlets of tests/psfakes.py in tests/psmini.py.
"""
from __future__ import annotations

from pathlib import Path

from tests.test_rollback_runs import lync_site


def test_pools_of_the_topology_outside_an_mfa_plan_are_named_before_the_change(tmp_path: Path) -> None:
    site = lync_site(tmp_path)   # promises extranet MFA: sfbpool01, Director sfbdir01, Edge sfbedge
    site.store.services = {
        "userserver": ("sfbpool01.contoso.com", "sfbpool02.contoso.com"),
        "director": ("sfbdir01.contoso.com", "sfbdir02.contoso.com"),
        "edgeserver": ("sfbedge.contoso.com", "sfbedge2.contoso.com"),
    }
    outcome = site.run_change(whatif=True)
    assert outcome.ok, outcome.error
    named = [w for w in outcome.warnings if "not in the plan" in w]
    assert len(named) == 3, outcome.warnings
    text = " ".join(named)
    for fqdn in ("sfbpool02.contoso.com", "sfbdir02.contoso.com", "sfbedge2.contoso.com"):
        assert fqdn in text
    for fqdn in ("sfbpool01.contoso.com", "sfbdir01.contoso.com", "sfbedge.contoso.com "):
        assert fqdn not in text
    assert "MFA" in text


def test_a_topology_the_plan_lists_whole_gives_no_such_warning(tmp_path: Path) -> None:
    site = lync_site(tmp_path)
    site.store.services = {"userserver": ("sfbpool01.contoso.com",), "director": ("sfbdir01.contoso.com",),
                           "edgeserver": ("sfbedge.contoso.com",)}
    outcome = site.run_change(whatif=True)
    assert outcome.ok, outcome.error
    assert not [w for w in outcome.warnings if "not in the plan" in w]
