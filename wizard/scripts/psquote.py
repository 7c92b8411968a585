"""PowerShell quoting: the only way a value may enter a generated script.

Every template value passes through one of these filters. They are pure
functions so the scanner tests and the hostile-input tests can attack them
directly. PowerShell's lexical facts (its five single quotes, four double quotes
and the single-quote escaping rule) live in `wizard.proof.psscan`: this module
validates a value, then quotes it with that rule.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from wizard.proof.psscan import DOUBLE_QUOTES, SINGLE_QUOTES, quote_single

# Anything that ends a line comment, or a block comment, in PowerShell.
_COMMENT_BREAKERS_RE = re.compile(r"[\r\n\u0085\u2028\u2029\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]|#>|<#")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


__all__ = ["DOUBLE_QUOTES", "SINGLE_QUOTES", "ps_array", "ps_bool", "ps_comment", "ps_int", "ps_name", "ps_str"]

# A cmdlet parameter, variable or property name the tool itself chose from one of its tables.
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")


def ps_str(value: object) -> str:
    """Return `value` as a single-quoted PowerShell literal, every single-quote character doubled."""
    if value is None:
        raise ValueError("ps_str: refusing to quote None (a missing value must never become '')")
    text = str(value)
    if "\x00" in text:
        # A NUL can truncate the file for some Windows tools; no plan value needs one.
        raise ValueError("ps_str: NUL character in value")
    if text.isascii():
        # The common case, without a regex: ASCII has one single quote and no surrogate.
        return "'" + text.replace("'", "''") + "'"
    if _SURROGATE_RE.search(text):
        # A lone surrogate cannot be encoded as UTF-8, so the script could never be written.
        raise ValueError("ps_str: lone surrogate in value")
    return quote_single(text)


def ps_bool(value: object) -> str:
    """Return `$true` or `$false`; anything but a real bool is a programming error."""
    if value is True:
        return "$true"
    if value is False:
        return "$false"
    raise TypeError(f"ps_bool: expected a bool, got {value!r}")


def ps_int(value: object) -> str:
    """Return an integer literal; bools and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"ps_int: expected an int, got {value!r}")
    return str(value)


def ps_array(values: Iterable[object]) -> str:
    """Return `@('a','b')`, each element quoted with ps_str."""
    return "@(" + ",".join(ps_str(v) for v in values) + ")"


def ps_name(value: object) -> str:
    """Return a parameter, variable or property name from the tool's own tables, as bare code.

    For templates that loop over a table (the mobility settings): `-{{ p | ps_name }}`,
    `${{ p | ps_name }}`, `$Saved.{{ p | ps_name }}`. Only ASCII letters and digits, starting
    with a letter, are accepted, so the name can never be anything but one identifier; a user
    value never reaches this filter (the harmless twin keeps the same names, so the verifier
    would see a difference if one did).
    """
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ValueError(f"ps_name: not a plain identifier: {value!r}")
    return value


def ps_comment(value: object) -> str:
    """Return text safe inside a `#` comment: no line breaks, no control characters, no block-comment markers."""
    text = str(value)
    # Every character the expression replaces is unprintable, and both markers hold a "#": a printable
    # text without one has nothing to replace (most comments name a pool or a mode).
    if text.isprintable() and "#" not in text:
        return text.strip()
    return _COMMENT_BREAKERS_RE.sub(" ", text).strip()
