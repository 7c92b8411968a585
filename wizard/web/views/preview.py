"""The live preview beside a step: the scripts (or the errors) for the draft with the
step's unsaved values, with the lines that changed since the previous preview marked.
"""
from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from wizard.review.access import get_plan_for_user
from wizard.review.pages import build_output
from wizard.scripts.highlight import changed_lines, line_hashes
from wizard.web.forms import StepForms
from wizard.web.steps import apply
from wizard.web.views.output import file_views, group_findings
from wizard.web.views.steps import step_or_404


def _session_key(code: UUID) -> str:
    return f"wizard-preview-{code}"


@login_required
@require_POST
def step_preview(request: HttpRequest, code: UUID, step: str) -> HttpResponse:
    """Render the preview panel for the posted (unsaved) values of one step; nothing is stored in the plan."""
    current = step_or_404(step)
    if current.is_review:
        raise Http404("The review step has no preview")
    plan, _ = get_plan_for_user(request.user, code)
    doc = apply(current, plan.draft, StepForms(current, plan.draft, data=request.POST).values())
    # The previous preview's line fingerprints per file, kept in the session per plan.
    key = _session_key(plan.code)
    previous: dict[str, list[str]] = request.session.get(key, {})
    out = build_output(plan, doc)
    texts = out.bundle.scripts if out.bundle is not None else {}
    changed = {name: changed_lines(previous.get(name), text) for name, text in texts.items()}
    if texts:
        request.session[key] = {name: line_hashes(text) for name, text in texts.items()}
    return render(request, "wizard/_preview.html", {
        "plan": plan,
        "step": current,
        "out": out,
        "groups": group_findings(out.findings, doc),
        "files": file_views(plan, out.bundle, changed=changed, scripts_only=True),
        "changed_count": sum(len(lines) for lines in changed.values()),
    })
