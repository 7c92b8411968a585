"""The review page (the summary first: downloads, who is affected, findings; then the files
one at a time, as tabs) and the downloads of the draft's bundle: each file with its exact
bytes, or all of them as a zip.

The draft's findings and bundle come from `wizard.review.pages.build_output` (also called
by the live preview); this module only shapes them for the page. A file of the bundle is
shown (highlighted) only when its tab is opened: `file_panel` answers with it.
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from wizard.models import Plan
from wizard.plan import network
from wizard.plan.explain import label_for
from wizard.plan.finding import SEVERITIES, Finding
from wizard.plan.impact import ImpactMatrix, client_impact
from wizard.plan.model import AUTH_MODES
from wizard.review import audit, pages, services, state
from wizard.review.access import get_plan_for_user
from wizard.review.pages import DraftOutput, build_output
from wizard.scripts import bundle
from wizard.scripts.artifacts import ARTIFACTS
from wizard.scripts.exposure_view import exposure_context
from wizard.scripts.highlight import highlight_file, text_digest
from wizard.web.risks import Typed, risks_context
from wizard.web.steps import STEPS, step_for_path, step_statuses

SEVERITY_TITLES = {"error": "Errors", "warning": "Warnings", "info": "Notes"}
IMPACT_TEXT = {"signs_in": "Signs in", "degraded": "Degraded", "breaks": "Breaks"}


@dataclass(frozen=True)
class FindingRow:
    """A finding with the label of its field and the address of the step that edits it."""

    finding: Finding
    label: str
    url: str


@dataclass(frozen=True)
class FindingGroup:
    """The findings of one severity."""

    severity: str
    title: str
    rows: list[FindingRow]


@dataclass(frozen=True)
class FindingSummary:
    """The findings of one code within a severity: the first in full, the others by their field.

    A rule that fires for every pool says the same thing for each one, naming the pool; a
    100-pool plan would repeat it a hundred times.
    """

    first: FindingRow
    others: list[FindingRow]


@dataclass(frozen=True)
class FindingSummaryGroup:
    """The findings of one severity, one entry per finding code."""

    severity: str
    title: str
    count: int
    entries: list[FindingSummary]


# Bundle files shown as a picture rather than as text (an SVG is markup, never highlighted code).
IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
CODE, IMAGE = "code", "image"


@dataclass(frozen=True)
class FileTab:
    """One file of the bundle as a tab (of the review page or a revision's page): `url` answers the
    tab with its file (htmx), `link` is the page showing it (without JavaScript)."""

    name: str
    kind: str
    is_script: bool
    url: str
    link: str


@dataclass(frozen=True)
class FileView:
    """One file of the bundle as its tab shows it: highlighted code or a picture, with its download."""

    name: str
    kind: str                 # CODE or IMAGE
    html: SafeString          # the highlighted text ('' for a picture)
    image: str                # a data: URL of the picture ('' for code)
    download_name: str
    download_url: str         # '' when the file is not offered alone (a revision's: its zip is the download)
    is_script: bool
    lines: int
    size: int                 # bytes of the download
    purpose: str
    machine: str
    digest: str               # SHA-256 of the text shown (what the live preview patches)


@dataclass(frozen=True)
class ImpactColumn:
    """Pools whose clients fare exactly alike, shown as one column of the client-impact matrix."""

    pools: list[str]
    mode: str

    @property
    def more(self) -> int:
        """Return how many pools the column holds besides the first."""
        return len(self.pools) - 1


def plan_slug(plan: Plan) -> str:
    """Return the plan name as a file name prefix."""
    return bundle.download_slug(plan.name)


def draft_prefix(plan: Plan) -> str:
    """Return the file name prefix of the draft's downloads: they say they are not an approved bundle."""
    return f"{plan_slug(plan)}-unapproved-draft"


def group_findings(findings: list[Finding], doc: Any, plan: Plan) -> list[FindingGroup]:
    """Return the findings grouped by severity (errors first), each labelled for an admin and linked to
    the step of `plan` that edits its field."""
    # A handful of steps and a thousand findings at 100 pools: each step's address is reversed once.
    urls = {step.slug: reverse("plan-step", args=[plan.code, step.slug]) for step in STEPS}
    groups = []
    for severity in SEVERITIES:
        rows = []
        for f in findings:
            if f.severity == severity:
                slug = (step_for_path(f.field) or STEPS[-1]).slug
                rows.append(FindingRow(f, label_for(f.field, doc), urls[slug]))
        if rows:
            groups.append(FindingGroup(severity, SEVERITY_TITLES[severity], rows))
    return groups


def summarise_findings(groups: list[FindingGroup]) -> list[FindingSummaryGroup]:
    """Return each severity's findings with the repeats of one code folded under the first."""
    out = []
    for group in groups:
        by_code: dict[str, list[FindingRow]] = {}
        for row in group.rows:
            by_code.setdefault(row.finding.code, []).append(row)
        out.append(FindingSummaryGroup(group.severity, group.title, len(group.rows),
                                       [FindingSummary(rows[0], rows[1:]) for rows in by_code.values()]))
    return out


def file_kind(name: str) -> str:
    """Return how a bundle file is shown: IMAGE for a picture, CODE for anything else."""
    return IMAGE if PurePosixPath(name).suffix.lower() in IMAGE_TYPES else CODE


def file_tabs(built: bundle.Bundle | None, *, url: Callable[[str], str], anchor: str = "files") -> list[FileTab]:
    """Return the bundle's files in bundle order (scripts in run order first) as tabs; `url(name)` is
    where a tab fetches its file."""
    if built is None:
        return []
    scripts = built.scripts
    return [FileTab(name, file_kind(name), name in scripts, url(name), f"?{urlencode({'file': name})}#{anchor}")
            for name in built.texts]


def draft_file_url(plan: Plan) -> Callable[[str], str]:
    """Return where a tab of the draft's review page fetches its file."""
    return lambda name: reverse("plan-file", args=[plan.code, name])


def file_view(plan: Plan, built: bundle.Bundle, name: str, *, changed: tuple[int, ...] = (),
              draft: bool = True) -> FileView:
    """Return one file of the bundle as its tab shows it; KeyError when the bundle has no such file.

    A draft's file is offered for download alone; a revision's (`draft` False) is not: the
    revision's approved zip is its download.
    """
    text = built.texts[name]
    data = built.files[name]
    kind = file_kind(name)
    about = _describe(built, name)
    image = ""
    html = mark_safe("")  # nosec B308 B703 - an empty string
    if kind == IMAGE:
        # As an <img> source a picture can run no script, whatever it holds.
        encoded = base64.b64encode(data).decode("ascii")
        image = f"data:{IMAGE_TYPES[PurePosixPath(name).suffix.lower()]};base64,{encoded}"
    else:
        html = highlight_file(name, text, changed)
    return FileView(name=name, kind=kind, html=html, image=image, download_name=f"{draft_prefix(plan)}-{name}",
                    download_url=reverse("plan-download-file", args=[plan.code, name]) if draft else "",
                    is_script=name in built.scripts, lines=text.count("\n"), size=len(data),
                    purpose=about.get("purpose", ""), machine=about.get("machine", ""), digest=text_digest(text))


def _describe(built: bundle.Bundle, name: str) -> dict[str, Any]:
    """Return what the artifact behind file `name` is and where it runs ({} for the bundle's own files)."""
    for artifact in ARTIFACTS:
        if artifact.output_name(built.plan) == name:
            return artifact.describe(built.plan)
    return {}


def default_file(built: bundle.Bundle) -> str:
    """Return the file a review page opens with: the first of the bundle (the run order's first)."""
    return next(iter(built.texts))


def impact_columns(matrix: ImpactMatrix) -> list[ImpactColumn]:
    """Return the matrix columns, pools whose cells are all alike merged into one column."""
    return [ImpactColumn(pools, mode) for pools, mode, _ in _impact_groups(matrix)]


def impact_rows(matrix: ImpactMatrix) -> list[dict[str, Any]]:
    """Return the matrix rows (one cell per merged column) with each cell's display text, for the template."""
    groups = _impact_groups(matrix)
    return [{"label": row.label,
             "cells": [{"state": row.cells[first].state, "text": IMPACT_TEXT[row.cells[first].state],
                        "reason": row.cells[first].reason} for _, _, first in groups]}
            for row in matrix.table]


def _impact_groups(matrix: ImpactMatrix) -> list[tuple[list[str], str, int]]:
    """Return (pool FQDNs, mode in words, index of the first) per set of pools whose columns are identical."""
    groups: dict[tuple[Any, ...], tuple[list[str], str, int]] = {}
    for index, column in enumerate(matrix.columns):
        key = (column.mode, *((row.cells[index].state, row.cells[index].reason) for row in matrix.table))
        if key not in groups:
            groups[key] = ([], column.label or AUTH_MODES.get(column.mode, "unchanged by this plan"), index)
        groups[key][0].append(column.fqdn)
    return list(groups.values())


# The review page shows the exposure picture inline up to this size; a bigger one (a plan of many
# pools and Edge pools) is its own tab of the files, so that the summary stays light.
INLINE_PICTURE_MAX = 64 * 1024
# Up to this many rows the exposure matrix lists every path; above, the paths that fare alike (same
# route, credential, before and after, checked alike) share one row listing where they are.
MATRIX_ROWS_MAX = 60


def exposure_summary(exposure: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the exposure context (`exposure_view.exposure_context`) as a page shows it, kept light for
    a big plan: the picture inline only when small (else `picture_tab`), alike paths sharing a row."""
    if exposure is None:
        return None
    out = dict(exposure)
    if len(out["svg"]) > INLINE_PICTURE_MAX:
        out["svg"] = ""
        out["picture_tab"] = f"?{urlencode({'file': bundle.EXPOSURE_FILE})}#files"
    rows = out["rows"]
    if len(rows) > MATRIX_ROWS_MAX:
        groups: dict[tuple[str, ...], dict[str, Any]] = {}
        for row in rows:
            key = (row["via"], row["credential"], row["before"], row["after"], row["state"], row["checked"])
            group = groups.get(key)
            if group is None:
                groups[key] = {**row, "others": []}
            else:
                group["others"].append({"entry": row["entry"], "host": row["host"], "users": row["users"]})
        out["rows"] = list(groups.values())
        out["paths"] = len(rows)
    # A promise broken the same way for many fields (every pool's web services) is said once, the
    # other fields listed, as the findings are.
    broken: dict[str, dict[str, Any]] = {}
    for item in out["broken"]:
        held = broken.get(item["code"])
        if held is None:
            broken[item["code"]] = {**item, "others": []}
        else:
            held["others"].append(item["label"])
    out["broken"] = list(broken.values())
    return out


@dataclass(frozen=True)
class NextAction:
    """What the admin does after the review: save the draft as a revision, or open the saved one."""

    text: str
    label: str
    url: str


def next_action(plan: Plan, out: DraftOutput, *, can_edit: bool) -> NextAction | None:
    """Return the step after the wizard (save a revision, then submit it), or None when there is none."""
    if out.bundle is None or not can_edit:
        return None
    latest = state.latest_revision(plan)
    if latest is None or pages.draft_changed(plan, assessed=out.data):
        number = (latest.number if latest else 0) + 1
        return NextAction(
            f"Save this draft as revision {number}, then submit it for review: a second admin compares it, "
            "approves it, and the approved bundle is the one to run.",
            f"Save as revision {number}", reverse("revision-save", args=[plan.code]))
    return NextAction(f"This draft is saved as revision {latest.number}. Submit it for review there, or see "
                      "where its review stands.", f"Open revision {latest.number}", latest.get_absolute_url())


@login_required
def review_page(request: HttpRequest, code: UUID, *, typed: Typed | None = None, status: int = 200) -> HttpResponse:
    """Show the summary of the draft (downloads, who is affected, findings), then its files one at a time.

    `typed`: a refused acceptance of a risk, shown again in its row with the reason as typed (answered
    with `status`).
    """
    plan, can_edit = get_plan_for_user(request.user, code)
    out = build_output(plan, plan.draft)
    impact = client_impact(out.data) if out.data is not None else None
    review_state = state.review_state(plan)
    groups = group_findings(out.findings, plan.draft, plan)
    shown = None
    if out.bundle is not None:
        wanted = request.GET.get("file", "")
        shown = file_view(plan, out.bundle, wanted if wanted in out.bundle.texts else default_file(out.bundle))
    return render(request, "wizard/review.html", {
        "plan": plan,
        "can_edit": can_edit,
        "step": STEPS[-1],
        "statuses": step_statuses(out.findings),
        "out": out,
        "groups": groups,
        "findings": summarise_findings(groups),
        "tabs": file_tabs(out.bundle, url=draft_file_url(plan)),
        "shown": shown,
        "impact": impact,
        "impact_columns": impact_columns(impact) if impact is not None else [],
        "impact_rows": impact_rows(impact) if impact is not None else [],
        "network": network.network_context(out.data) if out.bundle is not None else None,
        # The bundle drew the same picture already (same plan, same title): it is not drawn again.
        "exposure": exposure_summary(exposure_context(
            out.data, svg=out.bundle.texts.get(bundle.EXPOSURE_FILE) if out.bundle is not None else None,
            doc=plan.draft,
        )) if out.data is not None else None,
        "risks": risks_context(plan, out.data, out.findings, can_edit=can_edit, typed=typed),
        "status": review_state.status,
        "status_label": review_state.label,
        "next_action": next_action(plan, out, can_edit=can_edit),
    }, status=status)


@login_required
@require_GET
# Compressed (a highlighted file is mostly markup): the fragment holds no secret, no CSRF token, for a
# compression side channel to guess at, and Django pads compressed answers at random anyway.
@gzip_page
def file_panel(request: HttpRequest, code: UUID, filename: str) -> HttpResponse:
    """Answer a tab of the review page with its file (htmx); without htmx, the review page showing it."""
    plan, _ = get_plan_for_user(request.user, code)
    if not request.htmx:
        url = reverse("plan-step", args=[plan.code, STEPS[-1].slug])
        return redirect(f"{url}?{urlencode({'file': filename})}#files")
    out = build_output(plan, plan.draft)
    if out.bundle is None:
        return render(request, "wizard/_file_missing.html", {"out": out, "plan": plan})
    if filename not in out.bundle.texts:
        raise Http404("No such file in this plan's bundle")
    return render(request, "wizard/_file_panel.html", {
        "plan": plan, "shown": file_view(plan, out.bundle, filename),
        "tabs": file_tabs(out.bundle, url=draft_file_url(plan)), "oob": True,
    })


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Content-Length"] = str(len(content))
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def download_file(request: HttpRequest, code: UUID, filename: str) -> HttpResponse:
    """Send one file of the draft's bundle with its exact bytes (scripts: UTF-8 BOM + CRLF)."""
    plan, _ = get_plan_for_user(request.user, code)
    out = build_output(plan, plan.draft)
    if out.bundle is None:
        messages.error(request, out.problem)
        return redirect("plan-step", plan.code, STEPS[-1].slug)
    content = out.bundle.files.get(filename)
    if content is None:
        raise Http404("No such file in this plan's bundle")
    services.record_draft_download(plan, by=request.user, ip=audit.client_ip(request), name=filename,
                                   sha256=out.bundle.sha256)
    return _attachment(content, f"{draft_prefix(plan)}-{filename}", "application/octet-stream")


@login_required
def download_zip(request: HttpRequest, code: UUID) -> HttpResponse:
    """Send the draft's whole bundle as one zip."""
    plan, _ = get_plan_for_user(request.user, code)
    out = build_output(plan, plan.draft)
    if out.bundle is None:
        messages.error(request, out.problem)
        return redirect("plan-step", plan.code, STEPS[-1].slug)
    content = bundle.bundle_zip(out.bundle)
    name = f"{draft_prefix(plan)}.zip"
    services.record_draft_download(plan, by=request.user, ip=audit.client_ip(request), name=name,
                                   sha256=out.bundle.sha256)
    return _attachment(content, name, "application/zip")
