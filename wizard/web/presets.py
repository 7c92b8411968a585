"""Presets: complete example plans an admin starts from and then adapts.

Each preset is a `lync-auth-plan/1` document with contoso.com names to replace.
`preset_doc` returns a fresh copy, so editing a draft never changes a preset.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from wizard.plan.model import FORMAT


@dataclass(frozen=True)
class Preset:
    """A named starting point for a plan."""

    slug: str
    title: str
    summary: str
    doc: dict[str, Any]


PRESETS: tuple[Preset, ...] = (
    Preset(
        slug="tls-dsk-only",
        title="TLS-DSK only from the Internet",
        summary=(
            "Remote clients sign in with Lync-issued client certificates only: NTLM and Kerberos are blocked at "
            "the Edge, and client certificates live 30 days. Internal sign-in is unchanged. Clients that cannot "
            "do TLS-DSK lose external sign-in, and the web services behind the reverse proxy still take passwords."
        ),
        doc={
            "format": FORMAT,
            "name": "TLS-DSK only from the Internet",
            "product": "sfb2015",
            "sip_domains": ["contoso.com"],
            "pools": [{
                "fqdn": "sfbpool01.contoso.com",
                "external_web_fqdn": "sfbweb.contoso.com",
                "auth": {"external": "tls_dsk", "certificate_auth": True,
                         "client_certificate_hours": {"default": 720, "min": 8, "max": 720}},
            }],
            "edge_pools": [{"fqdn": "sfbedge.contoso.com", "access_fqdn": "sip.contoso.com", "block_ntlm": True}],
        },
    ),
    Preset(
        slug="passive-adfs-mfa",
        title="Passive AD FS with extranet MFA",
        summary=(
            "The pool hands sign-in to AD FS, which asks for a second factor when the request comes from the "
            "extranet. Windows authentication is turned off on the pool, certificate authentication stays on for "
            "the mobile apps. Every client without passive support (Lync 2010, Mac, phones, room systems) stops "
            "signing in to that pool."
        ),
        doc={
            "format": FORMAT,
            "name": "Passive AD FS with extranet MFA",
            "product": "lync2013",
            "sip_domains": ["contoso.com"],
            "pools": [{
                "fqdn": "lyncpool01.contoso.com",
                "internal_web_fqdn": "lyncpool01.contoso.com",
                "external_web_fqdn": "lyncweb.contoso.com",
                "auth": {"external": "passive", "certificate_auth": True, "block_ntlm_at_registrar": True},
                "relying_parties": {"internal": "Lync-Int", "external": "Lync-Ext"},
            }],
            "edge_pools": [{"fqdn": "lyncedge.contoso.com", "block_ntlm": True}],
            "adfs": {"federation_service_name": "adfs.contoso.com", "version": "2012r2", "mfa": "extranet"},
            "mobility_policies": [{"identity": "Global", "allow_exchange_connectivity": False}],
        },
    ),
    Preset(
        slug="ntlm-mobile-hardened",
        title="Keep NTLM, harden mobile",
        summary=(
            "NTLM stays for clients that need it (Mac, room systems), so nothing stops signing in; the mobile "
            "apps no longer store passwords or pass them on to Exchange. Passwords can still be guessed from the "
            "Internet, so account lockout remains a risk."
        ),
        doc={
            "format": FORMAT,
            "name": "Keep NTLM, harden mobile",
            "product": "lync2013",
            "sip_domains": ["contoso.com"],
            "pools": [{
                "fqdn": "lyncse01.contoso.com",
                "external_web_fqdn": "lync.contoso.com",
                "auth": {"external": "ntlm"},
            }],
            "edge_pools": [{"fqdn": "lyncedge01.contoso.com", "block_ntlm": False}],
            "mobility_policies": [{"identity": "Global", "allow_save_credentials": False,
                                   "allow_exchange_connectivity": False, "enable_mobility": True}],
        },
    ),
)
_BY_SLUG = {p.slug: p for p in PRESETS}


def get_preset(slug: str) -> Preset:
    """Return the preset called `slug`; raise KeyError for an unknown one."""
    return _BY_SLUG[slug]


def preset_doc(slug: str, *, name: str | None = None) -> dict[str, Any]:
    """Return a fresh copy of the preset's plan document, renamed to `name` when given."""
    doc = copy.deepcopy(get_preset(slug).doc)
    if name:
        doc["name"] = name
    return doc


# The presets' example domain: every name in a preset ends with it.
EXAMPLE_DOMAIN = "contoso.com"
EXAMPLE_NOTE = ("The names in a preset (contoso.com, sfbpool01.contoso.com, adfs.contoso.com, ...) are examples: "
                "replace each one with your own on every step before you use the scripts.")


def holds_example_names(doc: Any) -> bool:
    """Return True when the draft still holds a name from the presets' example domain."""
    return EXAMPLE_DOMAIN in json.dumps(doc, ensure_ascii=False).lower()
