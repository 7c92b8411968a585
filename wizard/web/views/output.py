"""The review page (findings, who is affected, the scripts) and the downloads of
the draft's bundle: each file with its exact bytes, or all of them as a zip.

`build_output` is the one service these views and the live preview call: it
assesses a draft document and renders its bundle when nothing blocks it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString

import wizard
from wizard.models import AuditEvent, Plan
from wizard.plan import engine, network
from wizard.plan.explain import label_for
from wizard.plan.finding import SEVERITIES, Finding, has_errors
from wizard.plan.impact import ImpactMatrix, client_impact
from wizard.plan.model import AUTH_MODES, PlanData
from wizard.review import audit
from wizard.review import services as review
from wizard.review.access import get_plan_for_user
from wizard.scripts import bundle
from wizard.scripts.exposure_view import exposure_context
from wizard.scripts.highlight import highlight_file
from wizard.web.steps import STEPS, step_for_path, step_statuses

logger = logging.getLogger(__name__)
SEVERITY_TITLES = {"error": "Errors", "warning": "Warnings", "info": "Notes"}
IMPACT_TEXT = {"signs_in": "Signs in", "degraded": "Degraded", "breaks": "Breaks"}


@dataclass(frozen=True)
class FindingRow:
    """A finding with the label of its field and the step that edits it."""

    finding: Finding
    label: str
    step_slug: str


@dataclass(frozen=True)
class FindingGroup:
    """The findings of one severity."""

    severity: str
    title: str
    rows: list[FindingRow]


@dataclass(frozen=True)
class ScriptView:
    """One file of the bundle, highlighted, with its download name."""

    name: str
    html: SafeString
    text: str
    download_name: str
    is_script: bool


@dataclass(frozen=True)
class Output:
    """What a draft gives: its findings and, when nothing blocks it, its bundle.

    `problem` says why there is no bundle ('' when there is one).
    """

    data: PlanData | None
    findings: list[Finding]
    groups: list[FindingGroup]
    bundle: bundle.Bundle | None = None
    problem: str = ""


def plan_slug(plan: Plan) -> str:
    """Return the plan name as a file name prefix."""
    return bundle.download_slug(plan.name)


def group_findings(findings: list[Finding], doc: Any) -> list[FindingGroup]:
    """Return the findings grouped by severity (errors first), each labelled for an admin."""
    groups = []
    for severity in SEVERITIES:
        rows = [FindingRow(f, label_for(f.field, doc), (step_for_path(f.field) or STEPS[-1]).slug)
                for f in findings if f.severity == severity]
        if rows:
            groups.append(FindingGroup(severity, SEVERITY_TITLES[severity], rows))
    return groups


def build_output(plan: Plan, doc: Any) -> Output:
    """Return the findings of draft `doc` and its bundle, or why there is none."""
    data, findings = engine.assess(doc)
    groups = group_findings(findings, doc)
    if data is None or has_errors(findings):
        return Output(data, findings, groups, problem=(
            "The plan has errors, so no script is generated: a script built from a plan with errors could "
            "change the wrong pool or lock users out. Fix the errors listed here (each links to its step)."))
    source = bundle.Source(data.name, str(plan.code), None, wizard.__version__)
    try:
        built = bundle.cached_bundle(data, source=source, findings=findings)
    except bundle.PlanRejected as exc:
        return Output(data, exc.findings, group_findings(exc.findings, doc), problem=(
            "The plan has errors, so no script is generated. Fix the errors listed here."))
    except bundle.VerificationFailed as exc:
        return Output(data, findings, groups, problem=(
            "The generated scripts failed the tool's own verification, so they are not shown or offered for "
            f"download. This is a fault in the tool, not in your plan: please report it. ({exc})"))
    except Exception:
        # A rendering fault must not take the review page down with it: the page says so and the
        # traceback goes to the log for whoever maintains the tool.
        logger.exception("rendering the bundle of plan %s failed", plan.code)
        return Output(data, findings, groups, problem=(
            "The tool failed to generate the scripts for this plan (an internal error, now in the server log). "
            "This is a fault in the tool, not in your plan: please report it."))
    return Output(data, findings, groups, bundle=built)


def file_views(plan: Plan, built: bundle.Bundle | None, *, changed: dict[str, list[int]] | None = None,
               scripts_only: bool = False) -> list[ScriptView]:
    """Return the bundle's files highlighted; `changed` maps file names to line numbers to mark."""
    if built is None:
        return []
    slug = plan_slug(plan)
    scripts = built.scripts
    return [ScriptView(name=name, html=highlight_file(name, text, (changed or {}).get(name, ())), text=text,
                       download_name=f"{slug}-{name}", is_script=name in scripts)
            for name, text in built.texts.items() if name in scripts or not scripts_only]


def impact_columns(matrix: ImpactMatrix) -> list[dict[str, str]]:
    """Return the matrix columns (pools) with their authentication mode in words."""
    return [{"fqdn": c.fqdn, "mode": AUTH_MODES.get(c.mode, "unchanged by this plan")} for c in matrix.columns]


def impact_rows(matrix: ImpactMatrix) -> list[dict[str, Any]]:
    """Return the matrix rows with each cell's display text, for the template."""
    return [{"label": row.label, "cells": [{"state": c.state, "text": IMPACT_TEXT[c.state], "reason": c.reason}
                                           for c in row.cells]} for row in matrix.table]


def record_download(plan: Plan, *, by: Any, ip: str | None, name: str, sha256: str) -> None:
    """Write the DOWNLOADED audit row for one draft download."""
    with transaction.atomic():
        audit.record(AuditEvent.Action.DOWNLOADED, plan=plan, actor=by, ip=ip, file=name, bundle_sha256=sha256,
                     revision=None)


@login_required
def review_page(request: HttpRequest, code: UUID) -> HttpResponse:
    """Show the draft's findings, client impact matrix, scripts and downloads."""
    plan, can_edit = get_plan_for_user(request.user, code)
    out = build_output(plan, plan.draft)
    impact = client_impact(out.data) if out.data is not None else None
    status = review.plan_status(plan)
    return render(request, "wizard/review.html", {
        "plan": plan,
        "can_edit": can_edit,
        "step": STEPS[-1],
        "statuses": step_statuses(out.findings),
        "out": out,
        "files": file_views(plan, out.bundle),
        "impact": impact,
        "impact_columns": impact_columns(impact) if impact is not None else [],
        "impact_rows": impact_rows(impact) if impact is not None else [],
        "network": network.network_context(out.data) if out.bundle is not None else None,
        "exposure": exposure_context(out.data) if out.data is not None else None,
        "status": status,
        "status_label": review.status_label(status),
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
    record_download(plan, by=request.user, ip=audit.client_ip(request), name=filename, sha256=out.bundle.sha256)
    return _attachment(content, f"{plan_slug(plan)}-{filename}", "application/octet-stream")


@login_required
def download_zip(request: HttpRequest, code: UUID) -> HttpResponse:
    """Send the draft's whole bundle as one zip."""
    plan, _ = get_plan_for_user(request.user, code)
    out = build_output(plan, plan.draft)
    if out.bundle is None:
        messages.error(request, out.problem)
        return redirect("plan-step", plan.code, STEPS[-1].slug)
    content = bundle.bundle_zip(out.bundle)
    name = f"{plan_slug(plan)}.zip"
    record_download(plan, by=request.user, ip=audit.client_ip(request), name=name, sha256=out.bundle.sha256)
    return _attachment(content, name, "application/zip")
