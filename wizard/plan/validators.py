"""Reusable value checks and normalisers, shared by the plan reader and the forms.

Each function returns the normalised value or raises ValueError with a message
that reads well after "<field>: ".
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import idna

_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Scope prefixes an admin may paste from Get-Cs* output.
# The prefixes that name each kind of pool's own services: a Front End or Director pool's identity is
# never `EdgeServer:`, an Edge pool's never `WebServer:` or `Registrar:`. A prefix of another kind is
# not stripped, so the value stays what it is, not a DNS name, and is refused.
SCOPE_PREFIX_BY_KIND = {
    "pool": re.compile(r"^\s*(?:service:)?(?:WebServer|Registrar|UserServer|ApplicationServer):", re.IGNORECASE),
    "edge": re.compile(r"^\s*(?:service:)?EdgeServer:", re.IGNORECASE),
}
# Control characters, including the Unicode line and paragraph separators, never
# belong in a name: they would end a PowerShell comment or a line. Bidirectional
# overrides and zero-width characters are refused too: they make a script show the
# reviewer something other than what runs. Lone surrogates cannot be written as UTF-8. The
# non-characters U+FFFE and U+FFFF are not XML characters at all: one in a plan name made the
# bundle's exposure.svg (whose title holds the name) a file no XML parser or browser reads.
# The characters (a regular expression class's body) that are neither a C0 control nor visible: C1
# controls, the line and paragraph separators, bidirectional controls, zero-width characters and the
# BOM. One set for every rule about them: names refuse them, rules text (which keeps its line breaks)
# too, printed paths and JSON files escape them.
INVISIBLE_CHARS = "\x7f-\x9f\u2028\u2029\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_CONTROL_RE = re.compile(f"[\x00-\x1f{INVISIBLE_CHARS}\ud800-\udfff\ufffd\ufffe\uffff]")
# The bidirectional (text-direction) controls: marks, embeddings, overrides and isolates. In free text a
# reviewer reads (a revision's message, a comment) they make a page show the words in another order than
# they were typed and stored (the "Trojan Source" trick), so that text refuses them (`bidi_control_in`).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_BIDI_RE = re.compile(f"[{BIDI_CONTROLS}]")
# What a key of `x_` data may not hold: a C0 control or one of the invisible characters.
_KEY_UNSAFE_RE = re.compile(f"[\x00-\x1f{INVISIBLE_CHARS}]")
# A DNS name IDNA leaves as it is (bar the letter case): LDH labels of 1 to 63 characters,
# none with "--" in the 3rd and 4th place (where `xn--` and other reserved prefixes live).
_PLAIN_LABEL = r"(?![a-z0-9-]{2}--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_NAME_RE = re.compile(rf"{_PLAIN_LABEL}(?:\.{_PLAIN_LABEL})+")
CA_RE = re.compile(r"^(?P<host>[^\\]+)\\(?P<name>[^\\]+)$")


def normalise_fqdn(raw: str, *, allow_wildcard: bool = False) -> str:
    """Return `raw` as a lowercase IDNA A-label FQDN with no trailing dot.

    Raises ValueError when the result is still not a valid DNS host name.
    """
    if not isinstance(raw, str):
        raise ValueError("must be a host name (text)")
    return _normalise_fqdn(raw, allow_wildcard)


# Rendering a large plan normalises the same few hundred names thousands of times
# (certificate, publishing and DNS tables), and IDNA checks are slow: cache them.
@lru_cache(maxsize=16384)
def _normalise_fqdn(raw: str, allow_wildcard: bool) -> str:
    text = raw.strip()
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise ValueError("must not be empty")
    if _CONTROL_RE.search(text) or any(ch.isspace() for ch in text):
        raise ValueError("must be a host name without spaces or control characters")
    wildcard = text.startswith("*.")
    if wildcard:
        if not allow_wildcard:
            raise ValueError("a wildcard is not allowed here")
        text = text[2:]
    if _PLAIN_NAME_RE.fullmatch(text.lower()):
        # Letters, digits and inner hyphens only, no `xn--` and no hyphens in the 3rd and 4th
        # place: IDNA changes nothing but the letter case (tests/test_validators_fast_path.py),
        # and its checks cost a 100-pool render about 10 ms when the cache is cold.
        ascii_name = text.lower()
    else:
        try:
            ascii_name = idna.encode(text, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise ValueError(f"{raw.strip()!r} is not a valid DNS name ({exc})") from None
    ascii_name = ascii_name.lower()
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise ValueError(f"{raw.strip()!r} must be a fully qualified name (at least two labels)")
    if len(ascii_name) > 253:
        raise ValueError("is longer than 253 characters")
    for label in labels:
        if not _LABEL_RE.match(label):
            raise ValueError(f"{raw.strip()!r} is not a valid DNS name (label {label!r})")
    if labels[-1].isdigit():
        raise ValueError(f"{raw.strip()!r} looks like an IP address; a DNS name is needed")
    return ("*." if wildcard else "") + ascii_name


def strip_scope_prefix(raw: str, kind: str) -> tuple[str, bool]:
    """Return (`raw` without a `service:WebServer:`-style prefix of `kind`'s own, whether one was removed).

    `kind` is "pool" or "edge" (`SCOPE_PREFIX_BY_KIND`).
    """
    if not isinstance(raw, str):
        return raw, False
    stripped = SCOPE_PREFIX_BY_KIND[kind].sub("", raw, count=1)
    return stripped, stripped != raw


def clean_text(raw: str, *, max_length: int, min_length: int = 1) -> str:
    """Return free text trimmed and NFC-normalised; refuse control characters and bad lengths."""
    if not isinstance(raw, str):
        raise ValueError("must be text")
    text = unicodedata.normalize("NFC", raw.strip())
    if _CONTROL_RE.search(text):
        raise ValueError("must not contain line breaks, control characters or invisible formatting characters")
    if len(text) < min_length:
        raise ValueError("must not be empty" if min_length == 1 else f"must be at least {min_length} characters")
    if len(text) > max_length:
        raise ValueError(f"must be at most {max_length} characters (got {len(text)})")
    return text


def bidi_control_in(text: str) -> str | None:
    """Return the first bidirectional control character in `text`, or None when it holds none."""
    found = _BIDI_RE.search(text)
    return found.group() if found else None


def clean_key(raw: str) -> str:
    """Return `raw`, a key of `x_` data (the `x_` key itself or one inside its value), when it holds no
    control or invisible character.

    Such a key is kept and written back as it is: a line break, a bidirectional override or a
    zero-width character in it shows a reader something other than what the file holds.
    """
    if _KEY_UNSAFE_RE.search(raw):
        raise ValueError("this key holds a control or invisible character (a line break, an escape, a zero-width "
                         "or bidirectional character); a key of x_ data may not")
    return raw


def clean_name(raw: str, *, max_length: int = 128) -> str:
    """Return a name used as a PowerShell value (site, tag, relying party): text without control characters."""
    return clean_text(raw, max_length=max_length)


def clean_ca(raw: str) -> str:
    """Return a `host\\CA name` online CA reference, the host normalised as an FQDN."""
    text = clean_text(raw, max_length=300)
    match = CA_RE.match(text)
    if not match:
        raise ValueError("must look like 'ca01.contoso.com\\Contoso Issuing CA' (CA server, a backslash, CA name)")
    host = normalise_fqdn(match.group("host"))
    return f"{host}\\{clean_text(match.group('name'), max_length=200)}"
