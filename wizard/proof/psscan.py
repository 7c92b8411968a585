"""A small PowerShell-aware lexical scanner, written to PowerShell's own tokenizer rules.

tree-sitter-powershell does not know several things the real tokenizer does (the
look-alike quote and dash characters, which characters end a comment line), and those
are exactly the ones an attacker would use to break out of a quoted value. This scanner
follows PowerShell's Tokenizer.cs and CharTraits.cs (PowerShell/PowerShell,
src/System.Management.Automation/engine/parser/):

* Single quotes are ' U+2018 U+2019 U+201A U+201B (CharExtensions.IsSingleQuote). Inside a
  single-quoted string any quote character followed by any quote character is an escaped
  quote; the decoded text keeps the second one (ScanStringLiteral).
* Double quotes are " U+201C U+201D U+201E (IsDoubleQuote). In double-quoted strings a
  doubled quote or a backtick escapes, and `$( ... )` is skipped by counting parentheses,
  so a quote inside it does not end the string (ScanSubExpression).
* Here-strings (@' '@, @" "@, any quote variant) need a line break right after the header
  and end only at a quote + '@' at the very start of a line (ScanHereStringLiteral).
* Line breaks are CR and LF only: in CharTraits only 0x0A and 0x0D carry Newline. NEL
  (U+0085), U+2028 and U+2029 are whitespace (IsWhitespace uses char.IsSeparator), so they
  neither end a `#` comment nor a here-string line. Because editors may draw them as line
  breaks, VISUAL_LINE_BREAKS lets callers refuse them where a reader could be misled.
* `#`, `<#` and `@'` only start a comment or here-string at the start of a token. The scanner
  has no command/expression modes, so "start of a token" means: at the start of the text,
  after a string or comment, after a character that always starts a new token
  (CharExtensions.ForceStartNewToken: whitespace, line breaks, & ( ) , ; { | }), or after
  "=", where an assignment puts PowerShell in expression mode. Where this approximation
  and PowerShell could differ (`$x#c`, `1#c`), the verifier fails closed: tree-sitter then
  disagrees on a string boundary, or the twin comparison does.

`scan_coarse` returns only what decides where strings and comments are (strings, comments,
braced variables, and the code between them); it is the fast path the verifier uses.
`scan` also splits the code into parameters, variables, numbers, operators and barewords;
those finer kinds are approximations that never move a string or comment boundary.
"""
from __future__ import annotations

import re
from typing import NamedTuple

# The one definition of PowerShell's quote characters and of its single-quote escaping rule
# (quote_single): wizard.scripts.psquote quotes every value through them, the tests attack with them.
SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
DOUBLE_QUOTES = '"\u201c\u201d\u201e'
DASHES = "-\u2013\u2014\u2015"
# ASCII blank, tab, VT, FF, NBSP, NEL and every Unicode separator (Zs, Zl, Zp).
WHITESPACE = (" \t\v\f\u00a0\u0085\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
NEWLINES = "\r\n"
# Not line breaks to PowerShell, but editors may show them as one.
VISUAL_LINE_BREAKS = "\u0085\u2028\u2029\v\f"
# ForceStartNewToken characters, plus "=" so that `$x=@'` and `$x=#...` scan as in expression mode.
_TOKEN_START_AFTER = frozenset(WHITESPACE + NEWLINES + "\0&(),;{|}=")

CODE = "code"
LINE_COMMENT = "line_comment"
BLOCK_COMMENT = "block_comment"
SINGLE_QUOTED = "single_quoted"
DOUBLE_QUOTED = "double_quoted"
SINGLE_HERE = "single_here"
DOUBLE_HERE = "double_here"
VARIABLE = "variable"
PARAMETER = "parameter"
NUMBER = "number"
BAREWORD = "bareword"
OPERATOR = "operator"
NEWLINE = "newline"
CONTINUATION = "continuation"

STRING_KINDS = frozenset({SINGLE_QUOTED, DOUBLE_QUOTED, SINGLE_HERE, DOUBLE_HERE})
EXPANDABLE_KINDS = frozenset({DOUBLE_QUOTED, DOUBLE_HERE})
COMMENT_KINDS = frozenset({LINE_COMMENT, BLOCK_COMMENT})

_Q = re.escape(SINGLE_QUOTES)
_D = re.escape(DOUBLE_QUOTES)
_W = re.escape(WHITESPACE)
# Where a string, comment, here-string, braced variable or escape may start: a quote, ` or #, <#, @ and a
# quote, ${. Every alternative starts with one literal character, so that the regular expression engine
# can skip ahead to the next such character (a leading character class would make it try each
# alternative at every position: twice the time over a 100-pool script).
_SPECIAL_RE = re.compile("|".join([*(re.escape(c) for c in SINGLE_QUOTES + DOUBLE_QUOTES + "`#"),
                                   r"<\#", rf"@[{_Q}{_D}]", r"\$\{"]))
# Unrolled `Q (non-quote | QQ)* Q`, possessive so an odd quote at the end never backtracks.
SINGLE_QUOTED_RE = re.compile(rf"[{_Q}][^{_Q}]*+(?:[{_Q}][{_Q}][^{_Q}]*+)*+[{_Q}]")
_SINGLE_QUOTE_CHAR_RE = re.compile(f"([{_Q}])")
_QUOTE_PAIR_RE = re.compile(f"[{_Q}]([{_Q}])")
_QUOTE_CHAR_RE = re.compile(f"[{_Q}]")
_STOP = rf"{_W}\r\n(){{}};,|&`"
_CODE_TOKEN_RE = re.compile(
    rf"""
    (?P<newline>\r\n|\r|\n)
  | (?P<ws>[{_W}]+)
  | (?P<continuation>`(?:\r\n|\r|\n))
  | (?P<variable>\$(?:[\w?:]+|[$?^])|@\w+)
  | (?P<parameter>[{re.escape(DASHES)}][^\W\d][^{_STOP}.\[:]*:?)
  | (?P<number>\d+(?=[{_STOP}]|\Z))
  | (?P<operator>\$\(|@\(|@\{{|::|\.\.|&&|\|\||[(){{}}\[\];,|&=+*/%!<>.:$@{re.escape(DASHES)}])
  | (?P<bareword>(?:[^{_STOP}]|`.|`\Z)+)
    """,
    re.VERBOSE | re.DOTALL,
)


class Token(NamedTuple):
    """One token: `text` is script[start:end]; `value` is the decoded content of a string."""

    kind: str
    start: int
    end: int
    text: str
    value: str | None = None
    error: str | None = None


def decode_single_quoted(body: str) -> str:
    """Return the value of single-quoted string content (the text between the delimiters)."""
    if not _QUOTE_CHAR_RE.search(body):
        return body
    # Any quote followed by any quote: the first escapes, the second is kept (left to right).
    return _QUOTE_PAIR_RE.sub(_keep_second, body)


def _keep_second(m: re.Match[str]) -> str:
    return m.group(1)


def quote_single(text: str) -> str:
    """Return `text` as a single-quoted literal with every single-quote character doubled.

    This is PowerShell's own rule (CodeGeneration.EscapeSingleQuotedStringContent): inside a
    single-quoted string each of the five quote characters is escaped by itself.
    """
    return "'" + _SINGLE_QUOTE_CHAR_RE.sub(r"\1\1", text) + "'"


def scan_coarse(script: str) -> list[Token]:
    """Return strings, comments, braced variables and the CODE between them, in order."""
    # The verifier scans every script and its twin on every render: the loop is written for
    # speed (tuples built directly, the commonest token first), with the rules stated above.
    # tests/test_psscan.py keeps the plain version of this loop and checks both agree.
    tokens: list[Token] = []
    append = tokens.append
    search = _SPECIAL_RE.search
    match_single = SINGLE_QUOTED_RE.match
    has_quote = _QUOTE_CHAR_RE.search
    n = len(script)
    pos = 0          # start of the pending CODE run
    i = 0            # where to look for the next special character
    boundary = 0     # end of the last string/comment: a token starts right there
    while True:
        m = search(script, i)
        if m is None:
            break
        i = m.start()
        c = script[i]
        if c in SINGLE_QUOTES:
            # A quote starts a string wherever it is (the token-start rule is for # <# @').
            if pos < i:
                append(_new(Token, (CODE, pos, i, script[pos:i], None, None)))
            sm = match_single(script, i)
            if sm is None:
                tok = Token(SINGLE_QUOTED, i, n, script[i:], decode_single_quoted(script[i + 1:]),
                            "unterminated single-quoted string")
                append(tok)
                pos = i = boundary = n
                continue
            end = sm.end()
            body = script[i + 1:end - 1]
            append(_new(Token, (SINGLE_QUOTED, i, end, script[i:end],
                                _QUOTE_PAIR_RE.sub(_keep_second, body) if has_quote(body) else body, None)))
            pos = i = boundary = end
            continue
        if c == "`":
            i += 3 if script.startswith("\r\n", i + 1) else 2   # an escaped character is code
            continue
        if c in "#<@" and not (i == boundary or script[i - 1] in _TOKEN_START_AFTER):
            i += 1
            continue
        if pos < i:
            append(_new(Token, (CODE, pos, i, script[pos:i], None, None)))
        if c == "#":
            end = _line_end(script, i)
            tok = _new(Token, (LINE_COMMENT, i, end, script[i:end], None, None))
        elif c == "<":
            close = script.find("#>", i + 2)
            end = n if close < 0 else close + 2
            tok = Token(BLOCK_COMMENT, i, end, script[i:end], None,
                        "unterminated block comment" if close < 0 else None)
        elif c == "@":
            tok = _scan_here(script, i)
        elif c == "$":
            end, error = _scan_braced_variable(script, i + 2, in_string=False)
            tok = Token(VARIABLE, i, end, script[i:end], None, error)
        else:
            end, error = _scan_expandable(script, i + 1)
            tok = Token(DOUBLE_QUOTED, i, end, script[i:end],
                        script[i + 1:end - 1] if error is None else script[i + 1:end], error)
        append(tok)
        pos = i = boundary = tok.end
    if pos < n:
        append(_new(Token, (CODE, pos, n, script[pos:], None, None)))
    return tokens


_new = tuple.__new__


def follow_coarse(tokens: list[Token], other: str) -> int | None:
    """Return how many of `tokens` read differently in `other`, when `other` scans (scan_coarse) to
    tokens of the same kinds in the same order, differing only inside single-quoted strings and
    comments; None when that cannot be shown this way (then scan `other` and compare the two lists).

    `tokens` is scan_coarse's list for some text. Where a token is CODE, `other` must hold exactly
    its text; where it is a single-quoted string or a comment, `other` must hold one there (its own
    end found by the same rules as scan_coarse's); any other kind, or an error token, gives None.
    Why that is scan_coarse(other): at the start of each token both scanners stand at a token
    boundary, and every decision scan_coarse takes inside a CODE run (where a string, comment or
    here-string starts, what a backtick escapes) depends only on the characters of the run and on
    the class of the character that follows it, which `other` shares (a quote, `#` or `<#`
    where the text has one). The verifier's harmless-twin comparison uses it to skip scanning the
    twin; whenever it answers None the twin is scanned as before.
    """
    n = len(other)
    at = 0
    differing = 0
    startswith = other.startswith
    match_single = SINGLE_QUOTED_RE.match
    for kind, _start, _end, text, _value, error in tokens:
        if error is not None:
            return None
        if kind == CODE:
            if not startswith(text, at):
                return None
            at += len(text)
            continue
        if kind == SINGLE_QUOTED:
            if at >= n or other[at] not in SINGLE_QUOTES:
                return None
            m = match_single(other, at)
            if m is None:
                return None
            end = m.end()
        elif kind == LINE_COMMENT:
            if not startswith("#", at):
                return None
            end = _line_end(other, at)
        elif kind == BLOCK_COMMENT:
            if not startswith("<#", at):
                return None
            close = other.find("#>", at + 2)
            if close < 0:
                return None
            end = close + 2
        else:
            return None
        if end - at != len(text) or not startswith(text, at):
            differing += 1
        at = end
    return differing if at == n else None


def scan(script: str) -> list[Token]:
    """Return every token of `script` (whitespace dropped); errors are tokens with `error` set."""
    tokens: list[Token] = []
    for tok in scan_coarse(script):
        if tok.kind != CODE:
            tokens.append(tok)
            continue
        base = tok.start
        for m in _CODE_TOKEN_RE.finditer(tok.text):
            kind = m.lastgroup
            if kind != "ws":
                tokens.append(Token(kind or BAREWORD, base + m.start(), base + m.end(), m.group()))
    return tokens


def _line_end(script: str, i: int) -> int:
    """Return where the line holding position `i` ends: at its CR or LF, else at the end of `script`."""
    # Two searches for one character (memchr in C) cost less than one search for either.
    end = script.find("\n", i)
    if end < 0:
        end = len(script)
    cr = script.find("\r", i, end)
    return end if cr < 0 else cr


def _scan_expandable(script: str, i: int) -> tuple[int, str | None]:
    """Scan a double-quoted string body from `i`; return (end after the closing quote, error)."""
    n = len(script)
    while i < n:
        c = script[i]
        if c in DOUBLE_QUOTES:
            if i + 1 < n and script[i + 1] in DOUBLE_QUOTES:
                i += 2
                continue
            return i + 1, None
        if c == "$" and i + 1 < n and script[i + 1] == "(":
            i, error = _scan_subexpression(script, i + 2, here=False)
            if error:
                return i, error
            continue
        if c == "$" and i + 1 < n and script[i + 1] == "{":
            i, error = _scan_braced_variable(script, i + 2, in_string=True)
            if error:
                return i, error
            continue
        if c == "`" and i + 1 < n and script[i + 1] != "\0":
            i += 2
            continue
        i += 1
    return n, "unterminated double-quoted string"


def _scan_subexpression(script: str, i: int, *, here: bool) -> tuple[int, str | None]:
    """Skip a `$(` ... `)` inside an expandable string by counting parentheses, as PowerShell does."""
    n, depth = len(script), 1
    while i < n:
        c = script[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1, None
        elif (c == "`" or c in DOUBLE_QUOTES) and not here and i + 1 < n and script[i + 1] in DOUBLE_QUOTES:
            i += 2
            continue
        i += 1
    return n, "unterminated $( ) in a string"


def _scan_braced_variable(script: str, i: int, *, in_string: bool) -> tuple[int, str | None]:
    """Skip the name of `${...}` from `i` (just after the brace); return (end after `}`, error)."""
    n = len(script)
    while i < n:
        c = script[i]
        if c == "}":
            return i + 1, None
        if c == "`":
            i += 2
            continue
        if c in DOUBLE_QUOTES and in_string and i + 1 < n and script[i + 1] in DOUBLE_QUOTES:
            i += 2
            continue
        i += 1
    return n, "unterminated ${ } variable"


def _scan_here(script: str, start: int) -> Token:
    """Scan a here-string whose `@` is at `start`."""
    expandable = script[start + 1] in DOUBLE_QUOTES
    kind = DOUBLE_HERE if expandable else SINGLE_HERE
    quotes = DOUBLE_QUOTES if expandable else SINGLE_QUOTES
    n = len(script)
    i = start + 2
    while i < n and script[i] in WHITESPACE:
        i += 1
    if i >= n or script[i] not in NEWLINES:
        # PowerShell reports UnexpectedCharactersAfterHereStringHeader and resumes at the line end.
        end = _line_end(script, i)
        return Token(kind, start, end, script[start:end], None, "here-string header not followed by a line break")
    i += 2 if script.startswith("\r\n", i) else 1
    body_start = i
    at_line_start = True
    while i < n:
        c = script[i]
        if at_line_start and c in quotes and i + 1 < n and script[i + 1] == "@":
            body_end = _before_last_newline(script, body_start, i)
            return Token(kind, start, i + 2, script[start:i + 2], script[body_start:body_end])
        at_line_start = False
        if c in NEWLINES:
            i += 2 if script.startswith("\r\n", i) else 1
            at_line_start = True
            continue
        if expandable and c == "$" and i + 1 < n and script[i + 1] == "(":
            i, _ = _scan_subexpression(script, i + 2, here=True)
            continue
        if expandable and c == "$" and i + 1 < n and script[i + 1] == "{":
            i, _ = _scan_braced_variable(script, i + 2, in_string=True)
            continue
        if expandable and c == "`" and i + 1 < n and script[i + 1] != "\0":
            # The escaped character is taken as is: after `LF the next line cannot end the
            # string, while after `CR the LF that follows still counts (as in PowerShell).
            i += 2
            continue
        i += 1
    return Token(kind, start, n, script[start:], script[body_start:], "unterminated here-string")


def _before_last_newline(script: str, body_start: int, footer: int) -> int:
    if footer - 2 >= body_start and script.startswith("\r\n", footer - 2):
        return footer - 2
    return max(body_start, footer - 1)


def single_string_at(tokens: list[Token], start: int, end: int) -> Token | None:
    """Return the error-free single-quoted token spanning exactly [start, end) of the script, or None."""
    lo, hi = 0, len(tokens)
    while lo < hi:
        mid = (lo + hi) // 2
        if tokens[mid].start < start:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(tokens):
        tok = tokens[lo]
        if tok.start == start and tok.end == end and tok.kind == SINGLE_QUOTED and tok.error is None:
            return tok
    return None


def is_one_single_quoted(literal: str) -> bool:
    """Return True when `literal` scans as exactly one complete single-quoted string."""
    tokens = scan_coarse(literal)
    return (len(tokens) == 1 and tokens[0].kind == SINGLE_QUOTED and tokens[0].error is None
            and tokens[0].end == len(literal))


def is_safe_line_comment_text(text: str) -> bool:
    """Return True when `text` can neither end a `#` comment nor look like a line break."""
    return not any(ch in NEWLINES or ch in VISUAL_LINE_BREAKS for ch in text)
