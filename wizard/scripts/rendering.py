"""Script rendering: the one Jinja2 environment over `powershell_templates/` and its
context-escaping filters (the harmless twin of a plan is `wizard.scripts.twin`, re-exported here).

Every value reaches a template through a filter chosen for the target: `ps_*`
(from `wizard.psquote`) in PowerShell, `md_text` in the Markdown runbook,
`inf_str` in certreq INF files and `xml_attr` in XML/config files.
`tests/test_templates_lint.py` enforces which filter may end an expression in
which kind of template. Pure Python: no Django, no database.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket

from wizard.plan.model import PlanData
from wizard.scripts.psquote import ps_array, ps_bool, ps_comment, ps_int, ps_name, ps_str
from wizard.scripts.twin import harmless_twin

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "powershell_templates"

# C0 and C1 control characters plus the Unicode line and paragraph separators.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Characters XML 1.0 does not allow at all (surrogates and the two non-characters).
_XML_FORBIDDEN_RE = re.compile(r"[\ud800-\udfff\ufffe\uffff]")
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
# Markdown: backslash first, so the escapes added for the others are not doubled. "#": a heading's
# text ending in " #" or " ##" loses them (a closing sequence); "~": GFM strikes `~~text~~` through.
_MD_ESCAPES = {
    "\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "|": "\\|", "[": "\\[", "]": "\\]",
    "#": "\\#", "~": "\\~", "<": "&lt;", ">": "&gt;", "&": "&amp;",
}
# str.translate tables: one pass in C instead of a Python loop per character.
_XML_TABLE = str.maketrans(_XML_ESCAPES)
_MD_TABLE = str.maketrans(_MD_ESCAPES)
_MD_BREAKS_RE = re.compile(r"[\r\n\u0085\u2028\u2029\x00-\x1f\x7f]+")
_MD_SPECIAL_RE = re.compile("[" + re.escape("".join(_MD_ESCAPES)) + "]")


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
    text = str(value)
    # Printable text holds no line break or control character (they are Unicode "Other" or
    # "Separator", which isprintable refuses): only the regular expression's work is skipped.
    if not text.isprintable():
        text = _MD_BREAKS_RE.sub(" ", text)
    text = text.strip()
    # translate() looks every character up: a text without any character to escape is left as it is.
    return text.translate(_MD_TABLE) if _MD_SPECIAL_RE.search(text) else text


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


# The environment's options: they shape the compiled code, so they are part of the cache's file names.
_OPTIONS: dict[str, Any] = {
    "undefined": StrictUndefined,
    "autoescape": False,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}
# A folder for the compiled templates, or "off"; by default a folder of this user's own in the
# system's temporary folder. Never the install: the app must run from a read-only one.
TEMPLATE_CACHE_ENV = "WIZARD_TEMPLATE_CACHE"
_OFF = ("off", "none", "false", "0")
logger = logging.getLogger(__name__)


class _TemplateBytecodeCache(FileSystemBytecodeCache):
    """Jinja2's file cache of compiled templates, which never fails a render.

    Compiling the templates costs about 150 ms per process (each gunicorn worker, each
    `render_plan`); loading them compiled costs about 3 ms. A template whose text changed gets
    a new checksum, a new Python or Jinja2 version a new magic header, other options a new file
    name: a stale entry is never used. A cache folder that cannot be read or written (a
    read-only file system, a full disk) only means compiling again.
    """

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _cache_folder() -> Path | None:
    """Return the folder for compiled templates, made private to this user; None to compile every time.

    The cache holds Python code objects, so a folder anyone else could write to would let them run
    code here: the folder must be a real folder, owned by this user, writable by nobody else.
    """
    setting = os.environ.get(TEMPLATE_CACHE_ENV, "").strip()
    if setting.lower() in _OFF:
        return None
    getuid = getattr(os, "getuid", None)
    if setting:
        folder = Path(setting)
    elif getuid is not None:
        folder = Path(tempfile.gettempdir()) / f"lync-auth-planner-templates-{getuid()}"
    else:
        return None
    try:
        folder.mkdir(mode=0o700, parents=bool(setting), exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        logger.info("compiled templates are not cached: %s: %s", folder, exc.strerror or exc)
        return None
    if not stat.S_ISDIR(info.st_mode) or (getuid is not None and info.st_uid != getuid()) \
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        logger.warning("compiled templates are not cached: %s is not a folder of this user's only", folder)
        return None
    return folder


def _bytecode_cache() -> BytecodeCache | None:
    folder = _cache_folder()
    if folder is None:
        return None
    fingerprint = hashlib.sha256(repr((jinja2.__version__, sorted((k, repr(v)) for k, v in _OPTIONS.items()),
                                       str(TEMPLATE_DIR))).encode()).hexdigest()[:16]
    return _TemplateBytecodeCache(str(folder), f"wizard-{fingerprint}-%s.cache")


# Names a dict has as attributes: `d.items` must stay the method, as Jinja2 resolves it.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _ScriptEnvironment(Environment):
    """Jinja2's environment, with `value.key` on a plain dict looked up as an item first.

    The contexts are plain dicts, and Jinja2 tries an attribute first: for a dict that raises
    and catches an AttributeError on every `row.name` of every line of a 100-pool script.
    For a plain dict and a name that is not one of dict's own attributes the attribute lookup
    can only fail, so asking for the item first gives exactly the same result, sooner.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Return the script environment (built once): strict, no autoescape, only our filters."""
    env = _ScriptEnvironment(  # nosec B701 - the output is PowerShell, Markdown, INF and XML text, never HTML; each value is escaped for its target by an explicit filter, which the template lint enforces
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        bytecode_cache=_bytecode_cache(),
        **_OPTIONS,
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
