"""psscan: PowerShell's own string, comment and here-string rules, including the Unicode quotes."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.proof import psscan
from wizard.proof.psscan import (
    BLOCK_COMMENT,
    CODE,
    DOUBLE_HERE,
    DOUBLE_QUOTED,
    LINE_COMMENT,
    PARAMETER,
    SINGLE_HERE,
    SINGLE_QUOTED,
    VARIABLE,
    is_one_single_quoted,
    quote_single,
    scan,
    scan_coarse,
)
from wizard.scripts.psquote import ps_str

SINGLE = "'\u2018\u2019\u201a\u201b"
DOUBLE = '"\u201c\u201d\u201e'
# Pieces that matter to the tokenizer, mixed with any other character.
NASTY = [*SINGLE, *DOUBLE, "$(", ")", "$", "`", "\r", "\n", "\r\n", "\u2028", "\u2029", "\u0085", "\x00",
         "'@", "\"@", "@'", "#>", "<#", "#", ";", " ", "{", "}", "-", "\u2013", "a", "Z"]
texts = st.lists(st.one_of(st.sampled_from(NASTY), st.characters()), max_size=25).map("".join)


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
@given(texts.filter(lambda t: "\x00" not in t))
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


# --- the fast scanner agrees with the plain one -------------------------------------------------
# scan_coarse is written for speed; this is the same loop as first written, plainly. Both must
# give the same tokens for anything: random text full of quotes, comments and here-strings, and
# every script of the golden bundles.

def reference_scan_coarse(script: str) -> list[psscan.Token]:
    """Return strings, comments, braced variables and the psscan.CODE between them, in order."""
    tokens: list[psscan.Token] = []
    append = tokens.append
    search = psscan._SPECIAL_RE.search
    n = len(script)
    pos = 0          # start of the pending psscan.CODE run
    i = 0            # where to look for the next special character
    boundary = 0     # end of the last string/comment: a token starts right there
    while True:
        m = search(script, i)
        if m is None:
            break
        i = m.start()
        c = script[i]
        if c == "`":
            i += 3 if script.startswith("\r\n", i + 1) else 2   # an escaped character is code
            continue
        at_token_start = i == boundary or script[i - 1] in psscan._TOKEN_START_AFTER
        if c in "#<@" and not at_token_start:
            i += 1
            continue
        if pos < i:
            append(psscan.Token(psscan.CODE, pos, i, script[pos:i]))
        if c == "#":
            end = psscan._line_end(script, i)
            tok = psscan.Token(psscan.LINE_COMMENT, i, end, script[i:end])
        elif c == "<":
            close = script.find("#>", i + 2)
            end = n if close < 0 else close + 2
            tok = psscan.Token(psscan.BLOCK_COMMENT, i, end, script[i:end], None,
                        "unterminated block comment" if close < 0 else None)
        elif c == "@":
            tok = psscan._scan_here(script, i)
        elif c == "$":
            end, error = psscan._scan_braced_variable(script, i + 2, in_string=False)
            tok = psscan.Token(psscan.VARIABLE, i, end, script[i:end], None, error)
        elif c in psscan.SINGLE_QUOTES:
            sm = psscan.SINGLE_QUOTED_RE.match(script, i)
            if sm is None:
                tok = psscan.Token(psscan.SINGLE_QUOTED, i, n, script[i:], psscan.decode_single_quoted(script[i + 1:]),
                            "unterminated single-quoted string")
            else:
                end = sm.end()
                tok = psscan.Token(psscan.SINGLE_QUOTED, i, end, script[i:end], psscan.decode_single_quoted(script[i + 1:end - 1]))
        else:
            end, error = psscan._scan_expandable(script, i + 1)
            tok = psscan.Token(psscan.DOUBLE_QUOTED, i, end, script[i:end],
                        script[i + 1:end - 1] if error is None else script[i + 1:end], error)
        append(tok)
        pos = i = boundary = tok.end
    if pos < n:
        append(psscan.Token(psscan.CODE, pos, n, script[pos:]))
    return tokens


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(NASTY), st.characters()), max_size=60).map("".join))
def test_the_fast_scanner_agrees_with_the_plain_one(text):
    assert scan_coarse(text) == reference_scan_coarse(text)


def test_the_fast_scanner_agrees_with_the_plain_one_on_every_golden_script():
    golden = Path(__file__).resolve().parent / "golden"
    scripts = sorted(golden.rglob("*.ps1"))
    assert scripts
    for path in scripts:
        text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
        assert scan_coarse(text) == reference_scan_coarse(text), path.name


def test_line_numbers_count_every_kind_of_line_break():
    from wizard.proof.psast import _line_starts

    for source in (b"a\nbb\n\nc", b"a\r\nb\rc\nd", b"", b"\n", b"abc"):
        expected = [m.end() for m in __import__("re").finditer(rb"\r\n|\r|\n", source)]
        assert _line_starts(source) == expected, source
