"""Every value in every template under powershell_templates/ goes through the filter for its target.

The rule, per kind of template (decided by the file name):

* `*.md.j2`: the last filter of every `{{ ... }}` is `md_text`;
* `*.inf.j2`: `inf_str`;
* `*.config.j2` and `*.xml.j2`: `xml_attr`;
* every other template (PowerShell): a `ps_*` filter. In PowerShell templates a
  `ps_comment` value must also sit inside a comment, and every other value in
  code: never inside a string the template opened itself (a value in a
  double-quoted string or a here-string could expand `$(...)`).

`{{ macro(...) }}` calls are allowed: the macro's own body is checked like the rest.
"""
from __future__ import annotations

import re
import unittest
from dataclasses import dataclass
from pathlib import Path

from jinja2 import nodes

from wizard.proof import psscan
from wizard.scripts.rendering import TEMPLATE_DIR, environment

PS_FILTERS = frozenset({"ps_str", "ps_bool", "ps_int", "ps_array", "ps_comment", "ps_name"})
SUFFIX_FILTERS = (
    (".md.j2", frozenset({"md_text"})),
    (".inf.j2", frozenset({"inf_str"})),
    (".config.j2", frozenset({"xml_attr"})),
    (".xml.j2", frozenset({"xml_attr"})),
)

# ---------------------------------------------------------------------------
# A small PowerShell scanner, written from PowerShell's tokenizer rules (not the
# product's own scanner, so the two check each other): where strings and comments
# start and end.

# PowerShell's quote characters, from their one definition (checked by name in tests/test_psscan.py).
SINGLE_QUOTES = psscan.SINGLE_QUOTES
DOUBLE_QUOTES = psscan.DOUBLE_QUOTES
TOKEN_BREAK = " \t\r\n;(){}|&,"


@dataclass(frozen=True)
class Span:
    """A stretch of script text: `code`, `single` (single-quoted string), `double`, `here` or `comment`."""

    kind: str
    start: int
    end: int
    text: str


def scan_powershell(text: str) -> list[Span]:
    """Return the script cut into code, strings and comments (spans cover the whole text)."""
    spans: list[Span] = []
    i = 0
    code_start = 0
    n = len(text)

    def flush(end: int) -> None:
        if end > code_start:
            spans.append(Span("code", code_start, end, text[code_start:end]))

    while i < n:
        ch = text[i]
        at_token_start = i == 0 or text[i - 1] in TOKEN_BREAK
        if ch == "@" and i + 1 < n and (text[i + 1] in SINGLE_QUOTES or text[i + 1] in DOUBLE_QUOTES) \
                and text[i + 2:i + 4].startswith(("\n", "\r")):
            flush(i)
            end = _here_end(text, i)
            spans.append(Span("here", i, end, text[i:end]))
            i = code_start = end
        elif ch in SINGLE_QUOTES:
            flush(i)
            j = i + 1
            while j < n:
                if text[j] in SINGLE_QUOTES:
                    if j + 1 < n and text[j + 1] in SINGLE_QUOTES:
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                raise ValueError(f"unterminated single-quoted string at {i}")
            spans.append(Span("single", i, j + 1, text[i:j + 1]))
            i = code_start = j + 1
        elif ch in DOUBLE_QUOTES:
            flush(i)
            j = i + 1
            while j < n and text[j] not in DOUBLE_QUOTES:
                j += 2 if text[j] == "`" else 1
            if j >= n:
                raise ValueError(f"unterminated double-quoted string at {i}")
            spans.append(Span("double", i, j + 1, text[i:j + 1]))
            i = code_start = j + 1
        elif ch == "<" and text.startswith("<#", i):
            flush(i)
            end = text.find("#>", i + 2)
            if end < 0:
                raise ValueError(f"unterminated block comment at {i}")
            spans.append(Span("comment", i, end + 2, text[i:end + 2]))
            i = code_start = end + 2
        elif ch == "#" and at_token_start:
            flush(i)
            end = i
            while end < n and text[end] not in "\r\n":
                end += 1
            spans.append(Span("comment", i, end, text[i:end]))
            i = code_start = end
        else:
            i += 1
    flush(n)
    return spans


def _here_end(text: str, start: int) -> int:
    quote = text[start + 1]
    closers = SINGLE_QUOTES if quote in SINGLE_QUOTES else DOUBLE_QUOTES
    for match in re.finditer(r"[\r\n]([" + re.escape(closers) + r"])@", text[start:]):
        return start + match.end()
    raise ValueError(f"unterminated here-string at {start}")


def decode_single(literal: str) -> str:
    """Return the value of a single-quoted PowerShell literal."""
    body = literal[1:-1]
    return re.sub(f"([{SINGLE_QUOTES}])([{SINGLE_QUOTES}])", r"\2", body)


def kind_at(spans: list[Span], offset: int) -> str:
    """Return the kind of span that holds `offset`."""
    for span in spans:
        if span.start <= offset < span.end:
            return span.kind
    raise IndexError(offset)


# ---------------------------------------------------------------------------
# The lint


def allowed_filters(name: str) -> frozenset[str]:
    """Return the filters that may end an expression in template `name`."""
    for suffix, allowed in SUFFIX_FILTERS:
        if name.endswith(suffix):
            return allowed
    return PS_FILTERS


def _macro_names(tree: nodes.Template) -> tuple[set[str], set[str]]:
    macros = {m.name for m in tree.find_all(nodes.Macro)} | {"caller"}
    namespaces = {i.target for i in tree.find_all(nodes.Import)}
    for imported in tree.find_all(nodes.FromImport):
        for name in imported.names:
            macros.add(name[1] if isinstance(name, tuple) else name)
    return macros, namespaces


def _is_macro_call(expr: nodes.Node, macros: set[str], namespaces: set[str]) -> bool:
    if not isinstance(expr, nodes.Call):
        return False
    callee = expr.node
    if isinstance(callee, nodes.Name):
        return callee.name in macros
    return isinstance(callee, nodes.Getattr) and isinstance(callee.node, nodes.Name) and callee.node.name in namespaces


def lint_expressions(name: str, source: str) -> list[str]:
    """Return one problem per `{{ ... }}` of `source` that does not end in an allowed filter."""
    tree = environment().parse(source, name=name)
    allowed = allowed_filters(name)
    macros, namespaces = _macro_names(tree)
    problems = []
    for output in tree.find_all(nodes.Output):
        for expr in output.nodes:
            if isinstance(expr, nodes.TemplateData) or _is_macro_call(expr, macros, namespaces):
                continue
            if isinstance(expr, nodes.Filter) and expr.name in allowed:
                continue
            last = expr.name if isinstance(expr, nodes.Filter) else type(expr).__name__
            problems.append(f"{name}:{expr.lineno}: {{{{ ... }}}} ends in {last!r}, not one of {sorted(allowed)}")
    return problems


_FILTER_AT_END_RE = re.compile(r"\|\s*(\w+)\s*(?:\([^)]*\))?\s*-?$")
_MARK = "\ue000{}\ue001"


def lint_powershell_contexts(name: str, source: str) -> list[str]:
    """Return a problem for each value of a PowerShell template placed in the wrong lexical context.

    The template text is rebuilt with a marker for each `{{ ... }}` and scanned as
    PowerShell: a ps_comment value must be inside a comment, every other value in code.
    """
    if allowed_filters(name) is not PS_FILTERS:
        return []
    parts: list[str] = []
    wanted: list[tuple[str, int]] = []
    expression: list[str] = []
    inside = False
    for lineno, token, value in environment().lex(source, name=name):
        if token == "variable_begin":
            inside, expression = True, []
        elif token == "variable_end":
            inside = False
            match = _FILTER_AT_END_RE.search("".join(expression).strip())
            filt = match.group(1) if match else ""
            marker = _MARK.format(len(wanted))
            wanted.append(("comment" if filt == "ps_comment" else "code", lineno))
            parts.append(marker)
        elif inside:
            expression.append(value)
        elif token == "data":
            parts.append(value)
    text = "".join(parts)
    try:
        spans = scan_powershell(text)
    except ValueError as exc:
        return [f"{name}: the template text does not scan as PowerShell ({exc})"]
    problems = []
    for index, (context, lineno) in enumerate(wanted):
        offset = text.index(_MARK.format(index))
        found = kind_at(spans, offset)
        if found != context:
            problems.append(f"{name}:{lineno}: a value lands in {found}, it belongs in {context}")
    return problems


def template_files() -> list[Path]:
    """Return every template file under powershell_templates/, including ones added later."""
    return sorted(p for p in TEMPLATE_DIR.rglob("*") if p.is_file())


class TemplateLintTests(unittest.TestCase):
    def test_there_are_templates_to_check(self) -> None:
        names = {p.name for p in template_files()}
        self.assertTrue({"adfs-server.ps1.j2", "lync-management-shell.ps1.j2", "runbook.md.j2"} <= names)

    def test_every_expression_ends_in_the_filter_for_its_target(self) -> None:
        problems = []
        for path in template_files():
            name = str(path.relative_to(TEMPLATE_DIR))
            problems += lint_expressions(name, path.read_text(encoding="utf-8"))
        self.assertEqual(problems, [])

    def test_every_powershell_value_sits_in_code_or_in_a_comment(self) -> None:
        problems = []
        for path in template_files():
            name = str(path.relative_to(TEMPLATE_DIR))
            problems += lint_powershell_contexts(name, path.read_text(encoding="utf-8"))
        self.assertEqual(problems, [])


class LintSelfTests(unittest.TestCase):
    """The lint itself catches what it is meant to catch."""

    def test_a_raw_value_is_caught(self) -> None:
        self.assertEqual(len(lint_expressions("x.ps1.j2", "Set-X -Name {{ name }}\n")), 1)

    def test_a_builtin_filter_last_is_caught(self) -> None:
        self.assertEqual(len(lint_expressions("x.ps1.j2", "{{ name | ps_str | upper }}\n")), 1)

    def test_a_filtered_value_concatenated_with_a_raw_one_is_caught(self) -> None:
        self.assertEqual(len(lint_expressions("x.ps1.j2", "{{ a | ps_str ~ b }}\n")), 1)

    def test_a_conditional_expression_is_caught(self) -> None:
        self.assertEqual(len(lint_expressions("x.ps1.j2", "{{ a | ps_str if c else b }}\n")), 1)

    def test_filters_are_bound_to_their_file_kind(self) -> None:
        self.assertEqual(lint_expressions("x.ps1.j2", "{{ a | ps_str }} {{ b | ps_comment }}\n"), [])
        self.assertEqual(len(lint_expressions("x.ps1.j2", "{{ a | md_text }}\n")), 1)
        self.assertEqual(len(lint_expressions("x.ps1.j2", "{{ a | inf_str }}\n")), 1)
        self.assertEqual(len(lint_expressions("x.md.j2", "{{ a | ps_str }}\n")), 1)
        self.assertEqual(lint_expressions("x.md.j2", "{{ a | md_text }}\n"), [])
        self.assertEqual(lint_expressions("x.inf.j2", "{{ a | inf_str }}\n"), [])
        self.assertEqual(len(lint_expressions("x.inf.j2", "{{ a | xml_attr }}\n")), 1)
        self.assertEqual(lint_expressions("x.config.j2", "{{ a | xml_attr }}\n"), [])
        self.assertEqual(lint_expressions("x.xml.j2", "{{ a | xml_attr }}\n"), [])
        self.assertEqual(len(lint_expressions("x.xml.j2", "{{ a | md_text }}\n")), 1)

    def test_macro_calls_are_allowed_and_other_calls_are_not(self) -> None:
        source = "{% macro m(x) %} -A {{ x | ps_str }}{% endmacro %}\nSet-X{{ m(v) }}\n"
        self.assertEqual(lint_expressions("x.ps1.j2", source), [])
        self.assertEqual(len(lint_expressions("x.ps1.j2", "{{ range(3) }}\n")), 1)

    def test_a_value_inside_a_double_quoted_string_is_caught(self) -> None:
        problems = lint_powershell_contexts("x.ps1.j2", 'Write-Host "Hello {{ name | ps_str }}"\n')
        self.assertEqual(len(problems), 1)
        self.assertIn("double", problems[0])

    def test_a_value_inside_a_here_string_is_caught(self) -> None:
        problems = lint_powershell_contexts("x.ps1.j2", "$x = @'\n{{ name | ps_str }}\n'@\n")
        self.assertEqual(len(problems), 1)

    def test_a_value_inside_a_template_single_quoted_string_is_caught(self) -> None:
        self.assertEqual(len(lint_powershell_contexts("x.ps1.j2", "$x = 'a{{ name | ps_str }}'\n")), 1)

    def test_a_comment_value_outside_a_comment_is_caught(self) -> None:
        self.assertEqual(len(lint_powershell_contexts("x.ps1.j2", "Write-Host {{ name | ps_comment }}\n")), 1)
        self.assertEqual(lint_powershell_contexts("x.ps1.j2", "# {{ name | ps_comment }}\n"), [])
        self.assertEqual(lint_powershell_contexts("x.ps1.j2", "<#\n {{ name | ps_comment }}\n#>\n"), [])

    def test_a_quoted_value_in_code_is_fine(self) -> None:
        self.assertEqual(lint_powershell_contexts("x.ps1.j2", "Set-X -Name {{ name | ps_str }} # done\n"), [])


class ScannerTests(unittest.TestCase):
    def test_all_five_single_quotes_open_and_close_a_string(self) -> None:
        for quote in SINGLE_QUOTES:
            spans = scan_powershell(f"a {quote}x; Remove-Item{quote} b")
            self.assertEqual([s.kind for s in spans], ["code", "single", "code"])

    def test_doubled_quotes_of_any_kind_stay_inside(self) -> None:
        spans = scan_powershell("X '\u2019\u2019; rm; \u2018\u2018' Y")
        self.assertEqual([s.kind for s in spans], ["code", "single", "code"])
        self.assertEqual(decode_single(spans[1].text), "\u2019; rm; \u2018")

    def test_hash_inside_a_word_is_not_a_comment(self) -> None:
        self.assertEqual([s.kind for s in scan_powershell("a#b")], ["code"])
        self.assertEqual([s.kind for s in scan_powershell("a #b")], ["code", "comment"])
