"""Syntax highlighting of generated files with Pygments, line by line, and the lines that
changed between two versions of a file.

A highlighted file is `<div class="ps-code"><pre><code>` holding one line of balanced HTML per
text line, a changed line wrapped in `<span class="hll">`: the live preview's script splits it
into one element per line to replace single lines, and copying the `<pre>`'s text gives the
file's text. Tokens that Pygments' style leaves uncoloured
(punctuation, plain names) carry no `<span>` of their own, which halves the HTML and
changes nothing on screen.

The HTML carries CSS classes only; their colours are in the static file
`wizard/static/wizard/pygments.css`, written from `style_css()` (no inline styles:
the Content-Security-Policy allows none). `python manage.py shell -c "from
wizard.scripts.highlight import write_css; write_css()"` regenerates it; a test keeps it
in step with the installed Pygments.
"""
from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.lexers.special import TextLexer
from pygments.token import Text, _TokenType

from wizard.caches import ByteLRU, MiB, text_size

CSS_CLASS = "ps-code"
CSS_FILE = Path(__file__).resolve().parents[1] / "static" / "wizard" / "pygments.css"
# Pygments lexer per file extension of a bundle file; anything else is plain text.
_LEXERS = {".ps1": "powershell", ".json": "json", ".md": "markdown", ".xml": "xml", ".inf": "ini",
           ".config": "xml"}
CHANGED_CLASS = "hll"


def lexer_name(filename: str) -> str | None:
    """Return the Pygments lexer name for a bundle file name, or None for plain text."""
    suffix = Path(filename).suffix.lower()
    return _LEXERS.get(suffix)


def text_digest(text: str) -> str:
    """Return the SHA-256 of `text` (UTF-8) in hex: what a page says it shows, to ask for a change."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def highlighted_lines(filename: str, text: str) -> tuple[str, ...]:
    """Return `text` highlighted, one balanced HTML fragment per line (no line break in them)."""
    key = (filename, text_digest(text))
    lines = _LINES.get(key)
    if lines is None:
        lines = _highlight_lines(filename, text)
        _LINES.put(key, lines, text_size(lines) + 8 * len(lines))
    return lines


# Highlighting is most of a file view's cost and depends only on its arguments, so each worker
# keeps recent results (a pure cache: nothing is shared between servers), bounded by bytes.
_LINES: ByteLRU[tuple[str, str], tuple[str, ...]] = ByteLRU("highlighted files", 12 * MiB)


def highlight_file(filename: str, text: str, changed: Iterable[int] = ()) -> SafeString:
    """Return `text` as highlighted HTML; lines numbered in `changed` (1-based) get the class `hll`."""
    marks = set(changed)
    lines = highlighted_lines(filename, text)
    body = "".join(line_html(html, number in marks) for number, html in enumerate(lines, start=1))
    # Pygments escapes the source text itself; the result is safe HTML.
    return mark_safe(f'<div class="{CSS_CLASS}"><pre><code>{body}</code></pre></div>')  # nosec B308 B703


def line_html(html: str, changed: bool = False) -> str:
    """Return one highlighted line as the code view holds it (a changed line in its own marked element)."""
    return f'<span class="{CHANGED_CLASS}">{html}\n</span>' if changed else f"{html}\n"


def _highlight_lines(filename: str, text: str) -> tuple[str, ...]:
    name = lexer_name(filename)
    # stripnl off: a copy of the shown text must be the file's text, leading blank lines included.
    lexer: Lexer = get_lexer_by_name(name, stripnl=False, ensurenl=False) if name else \
        TextLexer(stripnl=False, ensurenl=False)
    source = text.replace("\r\n", "\n")
    if not source:
        return ()
    html = highlight(source if source.endswith("\n") else source + "\n", _Plain(lexer), _FORMATTER)
    # HtmlFormatter closes every span at the end of a line, so each line is balanced HTML.
    return tuple(html.split("\n")[:-1])


class _Plain(Lexer):
    """A lexer's tokens with the uncoloured token types turned into plain text (no span)."""

    def __init__(self, inner: Lexer) -> None:
        super().__init__(stripnl=False, ensurenl=False)
        self.inner = inner

    def get_tokens_unprocessed(self, text: str) -> Iterator[tuple[int, _TokenType, str]]:
        uncoloured = _uncoloured()
        for index, token, value in self.inner.get_tokens_unprocessed(text):
            yield index, (Text if token in uncoloured else token), value


@lru_cache(maxsize=1)
def _uncoloured() -> frozenset[_TokenType]:
    return frozenset(token for token, spec in _FORMATTER.style if not any(
        (spec["color"], spec["bgcolor"], spec["bold"], spec["italic"], spec["underline"], spec["border"])))


_FORMATTER = HtmlFormatter(nowrap=True)


def style_css() -> str:
    """Return the stylesheet for the highlighted HTML, every rule scoped to `.ps-code`."""
    rules = HtmlFormatter(cssclass=CSS_CLASS).get_style_defs(f".{CSS_CLASS}").splitlines()
    scoped = [rule for rule in rules if rule.startswith(f".{CSS_CLASS}")]
    return "/* Generated by wizard.highlight.write_css() from Pygments' default style: do not edit. */\n" \
        + "\n".join(scoped) + "\n"


def write_css(path: Path = CSS_FILE) -> None:
    """Write `style_css()` to the static stylesheet."""
    path.write_text(style_css(), encoding="utf-8")


# ---------------------------------------------------------------------------
# What changed between two versions of a file


@dataclass(frozen=True)
class LineEdit:
    """Replace `remove` lines of the old text, from line `at` (0-based), by `insert` (new line numbers, 1-based)."""

    at: int
    remove: int
    insert: tuple[int, ...]


def line_edits(old: str, new: str) -> list[LineEdit]:
    """Return the edits that turn the lines of `old` into those of `new`, first line first."""
    a, b = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [LineEdit(i1, i2 - i1, tuple(range(j1 + 1, j2 + 1)))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def changed_line_numbers(edits: Sequence[LineEdit]) -> list[int]:
    """Return the 1-based numbers of the new lines that `edits` insert or replace."""
    return [number for edit in edits for number in edit.insert]


def line_hashes(text: str) -> list[str]:
    """Return a short fingerprint per line of `text`."""
    return [hashlib.sha256(line.encode("utf-8")).hexdigest()[:12] for line in text.splitlines()]


def changed_lines(previous: Sequence[str] | None, text: str) -> list[int]:
    """Return the 1-based numbers of the lines of `text` that are new or changed since `previous`.

    `previous` is `line_hashes()` of the earlier text; None (no earlier version) marks nothing.
    """
    if previous is None:
        return []
    current = line_hashes(text)
    matcher = difflib.SequenceMatcher(a=list(previous), b=current, autojunk=False)
    changed: list[int] = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            changed.extend(range(j1 + 1, j2 + 1))
    return changed
