"""psscan: PowerShell's own string, comment and here-string rules, including the Unicode quotes."""
from __future__ import annotations

import itertools
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.proof import psscan
from wizard.proof.psscan import (
    BLOCK_COMMENT,
    CODE,
    DOUBLE_HERE,
    DOUBLE_QUOTED,
    DOUBLE_QUOTES,
    LINE_COMMENT,
    PARAMETER,
    SINGLE_HERE,
    SINGLE_QUOTED,
    SINGLE_QUOTES,
    VARIABLE,
    is_one_single_quoted,
    quote_single,
    scan,
    scan_coarse,
)
from wizard.scripts.psquote import ps_str

SINGLE = SINGLE_QUOTES
DOUBLE = DOUBLE_QUOTES
# Pieces that matter to the tokenizer, mixed with any other character.
NASTY = [*SINGLE, *DOUBLE, "$(", ")", "$", "`", "\r", "\n", "\r\n", "\u2028", "\u2029", "\u0085", "\x00",
         "'@", "\"@", "@'", "#>", "<#", "#", ";", " ", "{", "}", "-", "\u2013", "a", "Z"]
texts = st.lists(st.one_of(st.sampled_from(NASTY), st.characters()), max_size=25).map("".join)


def test_the_quote_characters_are_powershells() -> None:
    # CharExtensions.IsSingleQuote / IsDoubleQuote, by Unicode name (the characters have one definition).
    assert sorted(unicodedata.name(c) for c in SINGLE_QUOTES) == sorted([
        "APOSTROPHE", "LEFT SINGLE QUOTATION MARK", "RIGHT SINGLE QUOTATION MARK", "SINGLE LOW-9 QUOTATION MARK",
        "SINGLE HIGH-REVERSED-9 QUOTATION MARK"])
    assert sorted(unicodedata.name(c) for c in DOUBLE_QUOTES) == sorted([
        "QUOTATION MARK", "LEFT DOUBLE QUOTATION MARK", "RIGHT DOUBLE QUOTATION MARK", "DOUBLE LOW-9 QUOTATION MARK"])


def test_ps_str_quotes_with_the_scanners_rule() -> None:
    for text in ("", "a", "O'Brien", "".join(SINGLE_QUOTES), "x\u2019; rm; \u2018"):
        assert ps_str(text) == quote_single(text)


def kinds(script: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in scan(script)]


# --- single-quoted strings -------------------------------------------------------------------

@pytest.mark.parametrize("opening", list(SINGLE))
@pytest.mark.parametrize("closing", list(SINGLE))
def test_any_single_quote_opens_and_closes_a_string(opening, closing):
    tokens = scan(f"Write-Host {opening}abc{closing} x")
    assert [(t.kind, t.value) for t in tokens if t.kind == SINGLE_QUOTED] == [(SINGLE_QUOTED, "abc")]


@pytest.mark.parametrize("first", list(SINGLE))
@pytest.mark.parametrize("second", list(SINGLE))
def test_any_two_single_quotes_are_one_escaped_quote_keeping_the_second(first, second):
    token, = scan(f"'a{first}{second}b'")
    assert token.kind == SINGLE_QUOTED and token.value == f"a{second}b" and token.error is None


def test_an_unescaped_right_quote_ends_the_string_and_the_rest_runs():
    # tree-sitter reads this as one string; PowerShell closes it at U+2019.
    script = "Set-X -Name 'x\u2019; Remove-Item C:\\ -Recurse; \u2019'"
    assert (("bareword", "Remove-Item") in kinds(script))
    assert scan(script)[2].text == "'x\u2019"


def test_unterminated_single_quoted_string_is_an_error_token():
    token, = scan("'abc''")
    assert token.kind == SINGLE_QUOTED and token.error and token.end == 6


def test_single_quoted_strings_span_lines_and_keep_backticks_and_dollars():
    token, = scan("'a\r\nb `n $(x) \"q\"'")
    assert token.value == "a\r\nb `n $(x) \"q\""


# --- double-quoted strings -------------------------------------------------------------------

@pytest.mark.parametrize("quote", list(DOUBLE))
def test_any_double_quote_delimits_an_expandable_string(quote):
    assert kinds(f"{quote}a b{quote} c") == [(DOUBLE_QUOTED, f"{quote}a b{quote}"), ("bareword", "c")]


def test_double_quoted_escapes_doubled_quotes_and_backticks():
    assert kinds('"a""b`"c" d')[0] == (DOUBLE_QUOTED, '"a""b`"c"')


def test_quotes_inside_a_subexpression_do_not_end_the_string():
    assert kinds('"x $("y") z" w')[0] == (DOUBLE_QUOTED, '"x $("y") z"')


def test_subexpression_end_is_found_by_counting_parentheses_like_powershell():
    # PowerShell's ScanSubExpression counts parentheses only, so ")" in a nested string closes it.
    assert kinds('"a $(")") b"')[:2] == [(DOUBLE_QUOTED, '"a $(")"'), ("operator", ")")]


def test_braced_variable_names_may_hold_quotes():
    assert kinds('"${a"b}" x') == [(DOUBLE_QUOTED, '"${a"b}"'), ("bareword", "x")]
    assert kinds("${it's} 'a'") == [(VARIABLE, "${it's}"), (SINGLE_QUOTED, "'a'")]


# --- here-strings ----------------------------------------------------------------------------

def test_here_string_ends_only_at_a_quote_at_line_start():
    script = "@'\nab\n '@ still inside\n'@\nWrite-Host x"
    token = scan(script)[0]
    assert token.kind == SINGLE_HERE and token.value == "ab\n '@ still inside"


@pytest.mark.parametrize("quote", list(SINGLE))
def test_any_single_quote_terminates_a_verbatim_here_string(quote):
    token = scan(f"@'\nvalue\n{quote}@\nRemove-Item x")[0]
    assert token.kind == SINGLE_HERE and token.value == "value" and token.error is None


def test_here_string_header_needs_a_line_break():
    token = scan("@'abc'@")[0]
    assert token.error == "here-string header not followed by a line break"


def test_here_string_with_crlf_and_unterminated():
    assert scan("@\"\r\nx $(\n\"@\n)\r\n\"@")[0].kind == DOUBLE_HERE
    assert scan("@'\nnever closed")[0].error == "unterminated here-string"


def test_line_separator_is_not_a_line_break_for_here_strings():
    token = scan("@'\nx\u2028'@\n'@")[0]
    assert token.value == "x\u2028'@"


# --- comments ---------------------------------------------------------------------------------

def test_line_comment_ends_at_cr_or_lf_only():
    assert kinds("# a\u2028b\u0085c\rd") == [(LINE_COMMENT, "# a\u2028b\u0085c"), ("newline", "\r"), ("bareword", "d")]


def test_hash_inside_a_word_is_not_a_comment():
    assert kinds("Write-Host a#b 'c'") == [("bareword", "Write-Host"), ("bareword", "a#b"), (SINGLE_QUOTED, "'c'")]


def test_block_comments():
    assert kinds("<# it's #> 'a'") == [(BLOCK_COMMENT, "<# it's #>"), (SINGLE_QUOTED, "'a'")]
    assert scan("<# never closed")[0].error == "unterminated block comment"


def test_backtick_escapes_quotes_and_hashes_outside_strings():
    assert [t.kind for t in scan("a `' `# b")] == ["bareword", "bareword", "bareword", "bareword"]


def test_parameters_and_unicode_dashes():
    assert [t for t in kinds("Set-X -Name:'a' \u2013Path b") if t[0] == PARAMETER] == [
        (PARAMETER, "-Name:"), (PARAMETER, "\u2013Path")]


def test_comment_text_check():
    assert psscan.is_safe_line_comment_text("Pool lyncpool01.contoso.com")
    for bad in ("a\nb", "a\rb", "a\u2028b", "a\u0085b"):
        assert not psscan.is_safe_line_comment_text(bad)


def test_single_string_at_finds_exact_tokens():
    script = "Set-X -A 'one' -B 'tw''o'"
    tokens = scan(script)
    start = script.index("'tw")
    assert psscan.single_string_at(tokens, start, len(script)).value == "tw'o"
    assert psscan.single_string_at(tokens, start + 1, len(script)) is None


# --- properties --------------------------------------------------------------------------------

def reference_quote(text: str) -> str:
    """The reference quoting: double each of the five single-quote characters."""
    return "'" + "".join(ch * 2 if ch in SINGLE else ch for ch in text) + "'"


def naive_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@settings(max_examples=700, deadline=None)
@given(texts)
def test_fully_doubled_text_is_exactly_one_string_with_the_same_value(text):
    literal = reference_quote(text)
    assert quote_single(text) == literal
    tokens = scan_coarse(literal)
    assert len(tokens) == 1
    token = tokens[0]
    assert (token.kind, token.start, token.end, token.error) == (SINGLE_QUOTED, 0, len(literal), None)
    assert token.value == text


@settings(max_examples=500, deadline=None)
# ps_str refuses NUL and lone surrogates by design (tests/test_psquote.py): the reference does not.
@given(texts.filter(lambda t: "\x00" not in t and not any("\ud800" <= c <= "\udfff" for c in t)))
def test_ps_str_from_psquote_agrees_with_the_reference(text):
    assert ps_str(text) == reference_quote(text)
    assert is_one_single_quoted(ps_str(text))


@settings(max_examples=600, deadline=None)
@given(texts, st.sampled_from(SINGLE[1:]), texts)
def test_naive_quoting_of_a_unicode_quote_is_detected(prefix, quote, suffix):
    text = prefix + quote + "; Remove-Item x" + suffix
    literal = naive_quote(text)
    tokens = scan_coarse(literal)
    round_trips = len(tokens) == 1 and tokens[0].kind == SINGLE_QUOTED and tokens[0].error is None \
        and tokens[0].value == text
    assert not round_trips


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abc =.-", max_size=10), st.sampled_from(SINGLE[1:]))
def test_naive_quoting_really_lets_the_command_run(prefix, quote):
    literal = naive_quote(prefix + quote + "; Remove-Item x")
    assert ("bareword", "Remove-Item") in kinds(f"Set-X -Name {literal}")


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_coarse_tokens_tile_the_text_and_fine_tokens_leave_only_whitespace(text):
    coarse = scan_coarse(text)
    assert "".join(t.text for t in coarse) == text
    assert all(a.end == b.start for a, b in itertools.pairwise(coarse))
    assert all(t.kind != CODE or t.text for t in coarse)
    fine = scan(text)
    position = 0
    for token in fine:
        assert token.start >= position and token.end > token.start
        assert all(ch in psscan.WHITESPACE for ch in text[position:token.start])
        position = token.end
    assert all(ch in psscan.WHITESPACE for ch in text[position:])


@settings(max_examples=400, deadline=None)
@given(texts.filter(lambda t: not any(q in t for q in DOUBLE) and "`" not in t and "$" not in t))
def test_double_quoted_text_without_specials_is_one_expandable_string(text):
    token, = scan_coarse('"' + text + '"')
    assert token.kind == DOUBLE_QUOTED and token.value == text


def test_after_an_equals_sign_a_here_string_or_comment_starts():
    assert kinds("$x=@'\na'b\n'@") == [(VARIABLE, "$x"), ("operator", "="), (SINGLE_HERE, "@'\na'b\n'@")]
    assert kinds("$y=#c'") == [(VARIABLE, "$y"), ("operator", "="), (LINE_COMMENT, "#c'")]


# ---------------------------------------------------------------------------
# follow_coarse: the harmless-twin comparison without scanning the twin


def _twin_of(text: str, replacements: list[str], comments: list[str]) -> str:
    """Return `text` with each single-quoted string's content and each comment's text replaced."""
    out, strings, notes = [], iter(replacements), iter(comments)
    for tok in scan_coarse(text):
        if tok.kind == SINGLE_QUOTED and tok.error is None:
            out.append(psscan.quote_single(next(strings, "")))
        elif tok.kind == LINE_COMMENT:
            out.append("#" + next(notes, "").replace("\r", " ").replace("\n", " "))
        else:
            out.append(tok.text)
    return "".join(out)


def _assert_follow_is_sound(text: str, other: str) -> int | None:
    tokens = scan_coarse(text)
    differing = psscan.follow_coarse(tokens, other)
    if differing is not None:
        # Whatever it accepts, the full scan of the other text agrees with: same kinds, in order, the
        # same CODE, and the same count of differing tokens.
        others = scan_coarse(other)
        assert [t.kind for t in others] == [t.kind for t in tokens]
        assert all(t.error is None for t in others)
        assert [t.text for t in others if t.kind == CODE] == [t.text for t in tokens if t.kind == CODE]
        assert differing == sum(a.text != b.text for a, b in zip(tokens, others, strict=True))
    return differing


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.lists(texts, max_size=6), st.lists(texts, max_size=4))
def test_follow_coarse_accepts_only_what_a_full_scan_agrees_with(text, replacements, comments):
    _assert_follow_is_sound(text, _twin_of(text, replacements, comments))


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, texts)
def test_follow_coarse_on_unrelated_texts_is_sound(text, other):
    _assert_follow_is_sound(text, other)
    _assert_follow_is_sound(text, text + other)
    _assert_follow_is_sound(text + other, text)


def test_follow_coarse_follows_a_twin_of_the_same_shape_and_refuses_other_code():
    text = "Set-X -Name 'a''b' # note\r\n<# block #>Get-Y 'c'"
    assert psscan.follow_coarse(scan_coarse(text), "Set-X -Name 'zz' # other\r\n<# b #>Get-Y 'c'") == 3
    assert psscan.follow_coarse(scan_coarse(text), text) == 0
    # Code that differs, a string that became code, a string left open: the twin must be scanned.
    assert psscan.follow_coarse(scan_coarse(text), text.replace("Get-Y", "Get-Z")) is None
    assert psscan.follow_coarse(scan_coarse(text), "Set-X -Name 'a' ; Evil 'b' # note\r\n<# block #>Get-Y 'c'") is None
    assert psscan.follow_coarse(scan_coarse(text), "Set-X -Name 'a # note\r\n<# block #>Get-Y 'c'") is None
    assert psscan.follow_coarse(scan_coarse(text), text + " ") is None
    # Double-quoted strings are never followed (user data must not be there at all).
    assert psscan.follow_coarse(scan_coarse('Write-Host "x"'), 'Write-Host "x"') is None


# Where scan_coarse looks next, as first written: one character class, then the longer openers.
_PLAIN_SPECIAL_RE = re.compile(rf"[{re.escape(psscan.SINGLE_QUOTES + psscan.DOUBLE_QUOTES)}`#]|<\#"
                               rf"|@[{re.escape(psscan.SINGLE_QUOTES + psscan.DOUBLE_QUOTES)}]|\$\{{")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=psscan.SINGLE_QUOTES + psscan.DOUBLE_QUOTES + "`#<@${} a\n\u2028", max_size=40))
def test_the_special_character_search_finds_what_the_plain_definition_finds(text: str) -> None:
    for start in range(len(text) + 1):
        fast, plain = psscan._SPECIAL_RE.search(text, start), _PLAIN_SPECIAL_RE.search(text, start)
        assert (fast and fast.span()) == (plain and plain.span())


def test_every_alternative_of_the_special_character_search_starts_with_one_literal_character() -> None:
    # Then the regular expression engine skips ahead to the next candidate character instead of trying
    # every alternative at every position of the script (half the time of the search over a 100-pool
    # script). This is how CPython's engine decides it (re._compiler._get_charset_prefix).
    parsed = re._parser.parse(psscan._SPECIAL_RE.pattern)   # type: ignore[attr-defined]
    [(op, (_, branches))] = parsed.data
    assert op is re._constants.BRANCH   # type: ignore[attr-defined]
    assert all(branch.data[0][0] is re._constants.LITERAL for branch in branches)   # type: ignore[attr-defined]


@settings(max_examples=300)
@given(st.text(alphabet="ab\r\n\u2028\x85#", max_size=30), st.integers(min_value=0, max_value=31))
def test_a_line_ends_at_its_first_cr_or_lf(text: str, start: int) -> None:
    start = min(start, len(text))
    m = re.compile(r"[\r\n]").search(text, start)
    assert psscan._line_end(text, start) == (m.start() if m else len(text))
