"""Script rendering: the one Jinja2 environment over `powershell_templates/` and its
context-escaping filters (the harmless twin of a plan is `wizard.scripts.twin`, re-exported here).

Every value reaches a template through a filter chosen for the target: `ps_*`
(from `wizard.psquote`) in PowerShell, `md_text` in the Markdown runbook,
`inf_str` in certreq INF files and `xml_attr` in XML/config files.
`tests/test_templates_lint.py` enforces which filter may end an expression in
which kind of template. Pure Python: no Django, no database.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from wizard.plan.model import PlanData
from wizard.scripts.psquote import ps_array, ps_bool, ps_comment, ps_int, ps_name, ps_str
from wizard.scripts.twin import harmless_twin

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "powershell_templates"

# C0 and C1 control characters plus the Unicode line and paragraph separators.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Characters XML 1.0 does not allow at all (surrogates and the two non-characters).
_XML_FORBIDDEN_RE = re.compile(r"[\ud800-\udfff\ufffe\uffff]")
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
# Markdown: backslash first, so the escapes added for the others are not doubled.
_MD_ESCAPES = {
    "\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "|": "\\|", "[": "\\[", "]": "\\]",
    "<": "&lt;", ">": "&gt;", "&": "&amp;",
}
# str.translate tables: one pass in C instead of a Python loop per character.
_XML_TABLE = str.maketrans(_XML_ESCAPES)
_MD_TABLE = str.maketrans(_MD_ESCAPES)
_MD_BREAKS_RE = re.compile(r"[\r\n\u0085\u2028\u2029\x00-\x1f\x7f]+")


class FilterRefused(ValueError):
    """A value cannot be written safely into the target format."""


def inf_str(value: object) -> str:
    """Return `value` in double quotes for a certreq INF file.

    Refuses double quotes (the INF format has no escape for them), `%` (INF
    string substitution), line breaks and every other control character.
    """
    if value is None:
        raise FilterRefused("inf_str: refusing to quote None")
    text = str(value)
    if '"' in text or "\u201c" in text or "\u201d" in text:
        raise FilterRefused(f"inf_str: a double quote cannot be written into an INF value: {text!r}")
    if "%" in text:
        raise FilterRefused(f"inf_str: '%' starts an INF string substitution: {text!r}")
    if _CONTROL_RE.search(text):
        raise FilterRefused(f"inf_str: line breaks and control characters are not allowed: {text!r}")
    return '"' + text + '"'


def xml_attr(value: object) -> str:
    """Return `value` escaped for an XML attribute (the template writes the quotes).

    Both quote characters are escaped, so either quoting style is safe; control
    characters (tab and line breaks included, which XML would normalise to
    spaces) and XML-forbidden code points are refused.
    """
    if value is None:
        raise FilterRefused("xml_attr: refusing to escape None")
    text = str(value)
    if _CONTROL_RE.search(text) or _XML_FORBIDDEN_RE.search(text):
        raise FilterRefused(f"xml_attr: control characters are not allowed in an attribute: {text!r}")
    return text.translate(_XML_TABLE)


def md_text(value: object) -> str:
    """Return `value` as inert Markdown text on one line (tables stay intact, no markup, no HTML)."""
    if value is None:
        raise FilterRefused("md_text: refusing to write None")
    text = _MD_BREAKS_RE.sub(" ", str(value)).strip()
    return text.translate(_MD_TABLE)


# The only filters the environment knows. The lint test decides which of them
# may end an expression in which kind of template.
FILTERS: dict[str, Callable[..., str]] = {
    "ps_str": ps_str,
    "ps_bool": ps_bool,
    "ps_int": ps_int,
    "ps_array": ps_array,
    "ps_comment": ps_comment,
    "ps_name": ps_name,
    "inf_str": inf_str,
    "xml_attr": xml_attr,
    "md_text": md_text,
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Return the script environment (built once): strict, no autoescape, only our filters."""
    env = Environment(  # nosec B701 - the output is PowerShell, Markdown, INF and XML text, never HTML; each value is escaped for its target by an explicit filter, which the template lint enforces
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # Jinja2's built-in filters (join, default, ...) would let a raw value through.
    env.filters.clear()
    env.filters.update(FILTERS)
    return env


def render_template(name: str, context: dict[str, Any]) -> str:
    """Return template `name` rendered with `context`, line endings normalised to `\\n`."""
    text = environment().get_template(name).render(**context)
    return text.replace("\r\n", "\n")


def render_artifacts(plan: PlanData, *, header: dict[str, Any] | None = None) -> list[tuple[Any, str, str]]:
    """Return (artifact, file name, text) for every artifact that applies to `plan`, in run order.

    `header` is what the scripts' header comment says about where the plan came
    from (see `wizard.bundle.Source.header`); without it the header says "draft".
    """
    # Imported here: the registry imports the artifact modules, which need nothing from this one.
    from wizard.scripts.artifacts import ARTIFACTS

    head = header if header is not None else default_header(plan)
    out: list[tuple[Any, str, str]] = []
    seen: set[str] = set()
    for artifact in ARTIFACTS:
        if not artifact.applies(plan):
            continue
        name = artifact.output_name(plan)
        if name in seen:
            raise ValueError(f"two artifacts want the file name {name!r}")
        seen.add(name)
        out.append((artifact, name, render_artifact(artifact, plan, header=head)))
    return out


def render_artifact(artifact: Any, plan: PlanData, *, header: dict[str, Any] | None = None) -> str:
    """Return the text of one artifact for `plan` (whether or not it applies)."""
    head = header if header is not None else default_header(plan)
    context = {**artifact.context(plan), "header": head, "artifact": artifact.describe(plan)}
    return render_template(artifact.template, context)


def render_all(plan: PlanData, *, header: dict[str, Any] | None = None) -> dict[str, str]:
    """Return {file name: text} for every artifact that applies to `plan`, in run order."""
    return {name: text for _, name, text in render_artifacts(plan, header=header)}


def render_script(plan: PlanData, name: str, *, header: dict[str, Any] | None = None) -> str:
    """Return the text of the bundle file `name` for `plan`; KeyError when it does not apply."""
    return render_all(plan, header=header)[name]


def default_header(plan: PlanData) -> dict[str, Any]:
    """Return a header for a plan rendered outside a stored revision."""
    from wizard import __version__

    return {"plan_name": plan.name, "plan_ref": "not stored", "revision": "draft", "tool_version": __version__}


__all__ = [
    "FILTERS",
    "TEMPLATE_DIR",
    "FilterRefused",
    "default_header",
    "environment",
    "harmless_twin",
    "inf_str",
    "md_text",
    "render_all",
    "render_artifact",
    "render_artifacts",
    "render_script",
    "render_template",
    "xml_attr",
]
