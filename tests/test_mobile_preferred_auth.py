"""MobilePreferredAuthType against the sign-in methods the plan turns off on a pool.

The cmdlet help of Set-/New-CsWebServiceConfiguration warns that a MobilePreferredAuthType naming a method
the pool does not support can keep the web ticket service from starting. A passive pool loses Windows
authentication and PIN, block_pin_auth loses PIN, certificate_auth false loses certificates: when the collection
that applies to the pool (its own, else its site's, else the global one: a collection the script creates copies
the value from there) names one of those, lync-management-shell.ps1 stops before its first change, instead of
leaving every user of the pool without a web ticket. Skype for Business Server only (Lync Server 2013 has no
such parameter). Run against the fake cmdlets of tests/psfakes.py in tests/psmini.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_rollback_runs import lync_site

DIRECTOR = "service:WebServer:sfbdir01.contoso.com"     # passive in the fixture, no collection of its own today
POOL = "service:WebServer:sfbpool01.contoso.com"        # tls_dsk in the fixture (Windows authentication kept)


@pytest.mark.parametrize("value", ["WebTicketServiceWinNegotiate", "WebTicketServiceWinNtlm", "WebTicketServicePin"])
@pytest.mark.parametrize("where", ["Global", "site:Dublin", DIRECTOR])
def test_a_preferred_method_the_passive_pool_loses_stops_the_script_before_any_change(
        tmp_path: Path, value: str, where: str) -> None:
    site = lync_site(tmp_path)
    web = site.store.collections["CsWebServiceConfiguration"]
    web.items.setdefault(where, dict(web.defaults))
    web.items[where]["MobilePreferredAuthType"] = value
    before = site.store.state()
    for whatif in (True, False):
        outcome = site.run_change(whatif=whatif)
        assert outcome.error, "the change ran with a MobilePreferredAuthType the passive pool no longer supports"
        assert f"MobilePreferredAuthType is {value} in {where}" in outcome.error
        assert "sfbdir01.contoso.com" in outcome.error
        # The advice names no collection inside a command: an identity read from the server (a site's name) is
        # text, and pasted between bare quotes or none it could end the string (as estate_mobile_preferred_auth_refused).
        assert f"-Identity {where}" not in outcome.error
        assert "Set-CsWebServiceConfiguration on that collection, with -MobilePreferredAuthType None" in outcome.error
    assert site.store.state() == before


@pytest.mark.parametrize("value", ["None", "OAuth", "WsFedPassive", "WebTicketServiceCert"])
def test_a_preferred_method_the_passive_pool_keeps_lets_the_script_run(tmp_path: Path, value: str) -> None:
    site = lync_site(tmp_path)
    site.store.collections["CsWebServiceConfiguration"].items["Global"]["MobilePreferredAuthType"] = value
    outcome = site.run_change()
    assert outcome.ok, outcome.error
    # The collection the script creates for the Director copies the value, as before.
    assert site.store.collections["CsWebServiceConfiguration"].items[DIRECTOR]["MobilePreferredAuthType"] == value


def test_windows_authentication_preferred_on_a_pool_that_keeps_it_is_left_alone(tmp_path: Path) -> None:
    """The TLS-DSK Front End pool keeps Windows authentication: its own collection may prefer it."""
    site = lync_site(tmp_path)
    site.store.collections["CsWebServiceConfiguration"].items[POOL]["MobilePreferredAuthType"] = \
        "WebTicketServiceWinNegotiate"
    outcome = site.run_change()
    assert outcome.ok, outcome.error
