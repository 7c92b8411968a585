"""The live preview beside a step: what travels to the browser after each edit.

The browser shows one file of the draft's bundle (with the step's unsaved values) and tells
the server which bundle and which text it shows (their SHA-256). The server renders the new
bundle and answers with only what changed: the file's changed lines when it still has the
text the browser shows, the whole file when it does not (a first preview, another tab, a
bundle this worker no longer holds), or nothing at all when the file did not change. Nothing
is stored in the session or the database: the previous texts are found in a per-process
cache (bounded by bytes) by the SHA-256 the browser sends back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from wizard.caches import ByteLRU, MiB, text_size
from wizard.models import Plan
from wizard.review.pages import DraftOutput, build_output
from wizard.scripts import bundle
from wizard.scripts.highlight import (
    LineEdit,
    changed_line_numbers,
    highlighted_lines,
    line_edits,
    line_html,
    text_digest,
)
from wizard.web.steps import Step
from wizard.web.views.output import CODE, FileView, file_kind, file_view

# Files the preview offers: what the scripts and tables of the bundle are, not the bundle's
# bookkeeping (plan.json, verification.json and SHA256SUMS are on the review page).
HIDDEN = (bundle.PLAN_FILE, bundle.VERIFICATION_FILE, bundle.SUMS_FILE)
# The file a step opens with, when the bundle has it (the first script otherwise).
STEP_FILES: dict[str, tuple[str, ...]] = {
    "environment": ("lync-management-shell.ps1", "dns-records.md"),
    "authentication": ("lync-management-shell.ps1",),
    "adfs": ("adfs-server.ps1", "adfs-modern-auth.ps1"),
    "mobility": ("lync-management-shell.ps1",),
    "certificates": ("certificates.md", "certificates-edge.ps1"),
}
# Above this share of changed lines the whole file is sent: the edits would weigh as much.
PATCH_LIMIT = 0.5

SAME, PATCH, FULL = "same", "patch", "full"


@dataclass(frozen=True)
class PreviewTab:
    """One file of the previewed bundle, with the lines changed in it since the previous preview."""

    name: str
    changed: int
    selected: bool


@dataclass(frozen=True)
class PatchEdit:
    """Replace `remove` lines of the shown file from line `at` (0-based) by the highlighted `html`."""

    at: int
    remove: int
    html: SafeString


@dataclass(frozen=True)
class Preview:
    """The answer to one preview request."""

    out: DraftOutput
    tabs: list[PreviewTab]
    shown: str                 # the file shown ('' without a bundle)
    digest: str                # SHA-256 of its text
    bundle_sha: str            # the bundle's identity, sent back with the next request
    mode: str                  # SAME, PATCH or FULL
    base: str                  # the digest the edits apply to (PATCH)
    edits: list[PatchEdit]
    file: FileView | None      # the whole file (FULL)
    changed_total: int         # lines changed since the previous preview, over every file
    changed_shown: int         # of which in the file shown


def preview(plan: Plan, step: Step, doc: Any, *, shown: str = "", base: str = "", since: str = "") -> Preview:
    """Return what the browser needs after an edit of `step` giving the draft document `doc`.

    `shown` is the file the browser shows, `base` the SHA-256 of the text it shows, `since`
    the SHA-256 of the bundle of its previous preview (all '' on a first preview).
    """
    out = build_output(plan, doc)
    built = out.bundle
    if built is None:
        return Preview(out, [], "", "", "", SAME, "", [], None, 0, 0)
    texts = {name: text for name, text in built.texts.items() if name not in HIDDEN}
    # Kept per plan: `since` comes from the browser, and another plan's texts (a SHA-256 seen on one of its pages
    # while its member) must never be what this plan's preview is compared with and patched against.
    _SNAPSHOTS.put(f"{plan.code}:{built.sha256}", texts, text_size(texts.values()))
    previous = _SNAPSHOTS.get(f"{plan.code}:{since}") if since and since != built.sha256 else None
    edits_by_file = {name: line_edits(previous[name], text) if previous and name in previous else []
                     for name, text in texts.items() if previous is None or previous.get(name) != text}
    changed = {name: len(changed_line_numbers(edits)) for name, edits in edits_by_file.items()}
    name = shown if shown in texts else _default(step, texts)
    text = texts[name]
    digest = text_digest(text)
    tabs = [PreviewTab(n, changed.get(n, 0), n == name) for n in texts]
    total, here = sum(changed.values()), changed.get(name, 0)

    if base == digest:
        return Preview(out, tabs, name, digest, built.sha256, SAME, base, [], None, total, here)
    old = previous.get(name) if previous else None
    # A picture has no lines to patch: it is sent whole when it changed.
    if old is not None and base and text_digest(old) == base and file_kind(name) == CODE:
        edits = line_edits(old, text)
        new_lines = sum(len(e.insert) for e in edits)
        if new_lines <= PATCH_LIMIT * max(1, text.count("\n")):
            return Preview(out, tabs, name, digest, built.sha256, PATCH, base, _patch(name, text, edits), None,
                           total, here)
    marks = tuple(changed_line_numbers(edits_by_file.get(name, []))) if old is not None else ()
    return Preview(out, tabs, name, digest, built.sha256, FULL, "", [], file_view(plan, built, name, changed=marks),
                   total, here)


def _default(step: Step, texts: dict[str, str]) -> str:
    for name in STEP_FILES.get(step.slug, ()):
        if name in texts:
            return name
    return next((n for n in texts if n.endswith(bundle.SCRIPT_SUFFIXES)), next(iter(texts)))


def _patch(name: str, text: str, edits: list[LineEdit]) -> list[PatchEdit]:
    lines = highlighted_lines(name, text)
    return [PatchEdit(e.at, e.remove, mark_safe("".join(line_html(lines[n - 1], True) for n in e.insert)))  # nosec B308 B703
            for e in edits]


# The texts of recent previews by plan code and bundle SHA-256, to tell what changed since the one a browser shows.
_SNAPSHOTS: ByteLRU[str, dict[str, str]] = ByteLRU("preview texts", 8 * MiB)
