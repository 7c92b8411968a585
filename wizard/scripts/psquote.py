"""PowerShell quoting: the only way a value may enter a generated script.

Every template value passes through one of these filters. They are pure
functions so the scanner tests and the hostile-input tests can attack them
directly.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

# PowerShell's tokenizer treats all five of these as a single quote
# (CharExtensions.IsSingleQuote); doubling each one is exactly what
# CodeGeneration.EscapeSingleQuotedStringContent does.
SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
DOUBLE_QUOTES = '"\u201c\u201d\u201e'

_SINGLE_QUOTE_RE = re.compile(f"([{SINGLE_QUOTES}])")
# Anything that ends a line comment, or a block comment, in PowerShell.
_COMMENT_BREAKERS_RE = re.compile(r"[\r\n\u0085\u2028\u2029\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]|#>|<#")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


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
    return "'" + _SINGLE_QUOTE_RE.sub(r"\1\1", text) + "'"


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


def ps_comment(value: object) -> str:
    """Return text safe inside a `#` comment: no line breaks, no control characters, no block-comment markers."""
    text = str(value)
    return _COMMENT_BREAKERS_RE.sub(" ", text).strip()
