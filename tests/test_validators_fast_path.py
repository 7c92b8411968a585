"""The FQDN normaliser's fast path for plain ASCII names gives exactly what IDNA gives."""
from __future__ import annotations

import idna
from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.plan import validators

label = st.one_of(st.text(alphabet="abcXYZ019-", min_size=1, max_size=66),
                  st.text(alphabet="a0-", min_size=1, max_size=6))
names = st.lists(label, min_size=1, max_size=5).map(".".join)


def through_idna(text: str) -> str | None:
    try:
        return idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return None


@settings(max_examples=3000, deadline=None)
@given(names)
def test_a_plain_name_takes_the_fast_path_only_when_idna_would_give_the_same(name):
    fast = validators._PLAIN_NAME_RE.fullmatch(name.lower())
    if fast:
        assert through_idna(name) == name.lower()


def test_names_idna_treats_specially_never_take_the_fast_path():
    for name in ("xn--bcher-kva.example", "ab--cd.example", "0.0---0", "a---b.example", "-a.example", "a-.example",
                 "a..b", "a" * 64 + ".com",
                 "a_b.example", "b\u00fccher.example", "example"):
        assert not validators._PLAIN_NAME_RE.fullmatch(name.lower()), name


def test_the_normaliser_answers_as_before():
    validators._normalise_fqdn.cache_clear()
    assert validators.normalise_fqdn("LyncPool01.Contoso.COM.") == "lyncpool01.contoso.com"
    assert validators.normalise_fqdn("bücher.example") == "xn--bcher-kva.example"
    for bad in ("ab--cd.example", "a---b.example", "0.0---0", "-a.example", "a" * 64 + ".example"):
        try:
            validators.normalise_fqdn(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")
