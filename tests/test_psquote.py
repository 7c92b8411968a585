"""The PowerShell quoting filters."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.scripts.psquote import ps_array, ps_bool, ps_comment, ps_int, ps_name, ps_str


@pytest.mark.parametrize("raw,quoted", [
    ("plain", "'plain'"),
    ("O'Brien", "'O''Brien'"),
    ("a\u2018b\u2019c\u201ad\u201be", "'a\u2018\u2018b\u2019\u2019c\u201a\u201ad\u201b\u201be'"),
    ('say "$(Remove-Item x)" `n', "'say \"$(Remove-Item x)\" `n'"),
    ("", "''"),
])
def test_ps_str_doubles_every_single_quote_character(raw, quoted):
    assert ps_str(raw) == quoted


def test_ps_str_refuses_none_and_nul():
    with pytest.raises(ValueError):
        ps_str(None)
    with pytest.raises(ValueError):
        ps_str("a\x00b")


def test_ps_str_refuses_a_lone_surrogate():
    # A lone surrogate cannot be written as UTF-8, so the script could never be saved.
    for text in ("\ud800", "a\udfffb"):
        with pytest.raises(ValueError, match="surrogate"):
            ps_str(text)


def test_ps_bool_and_int_are_strict():
    assert ps_bool(True) == "$true" and ps_bool(False) == "$false"
    assert ps_int(720) == "720"
    for bad in ("true", 1, None):
        with pytest.raises(TypeError):
            ps_bool(bad)
    for bad in (True, "720", 7.5):
        with pytest.raises(TypeError):
            ps_int(bad)


def test_ps_array():
    assert ps_array(["a", "b'c"]) == "@('a','b''c')"


@pytest.mark.parametrize("raw", ["a\nRemove-Item x", "a\r\nb", "a\u2028b", "a\u2029b", "a\u0085b", "x #> y", "<# x"])
def test_ps_comment_cannot_end_the_comment(raw):
    out = ps_comment(raw)
    assert not any(ch in out for ch in "\r\n\u2028\u2029\u0085")
    assert "#>" not in out and "<#" not in out


@pytest.mark.parametrize("name", ["EnableMobility", "A", "RequireWIFIForIPAudio", "x1"])
def test_ps_name_passes_a_plain_identifier(name):
    assert ps_name(name) == name


@pytest.mark.parametrize("bad", ["", "1x", "a-b", "a b", "a'", "$x", "a;b", "\u00e9", "a\n", None, 3, "a\u2019"])
def test_ps_name_refuses_anything_but_one_identifier(bad):
    with pytest.raises(ValueError):
        ps_name(bad)


_COMMENT_ALPHABET = "ab #<>\r\n\t\x00\x1b\x7f\x85\u2028\u2029\u202e\u2066\u200b\ud800é "


@settings(max_examples=500)
@given(st.text(alphabet=_COMMENT_ALPHABET, max_size=30))
def test_ps_comment_is_its_plain_definition(raw: str) -> None:
    # The fast path (printable text without "#") must give what the expression alone gives.
    from wizard.scripts import psquote

    assert ps_comment(raw) == psquote._COMMENT_BREAKERS_RE.sub(" ", raw).strip()
