"""The live preview beside a step: one file of the bundle for the draft with the step's
unsaved values; after each edit only what changed in it travels (see wizard.web.previews).
"""
from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST

from wizard.review.access import get_plan_for_user
from wizard.web import previews
from wizard.web.forms import StepForms, posted_window
from wizard.web.steps import apply
from wizard.web.views.output import group_findings
from wizard.web.views.steps import step_or_404

# What the browser says it shows: short fields, never stored (a file name, two SHA-256 digests).
_STATE_FIELDS = ("preview_file", "preview_base", "preview_since")
_STATE_MAX = 200


@login_required
@require_POST
# Compressed (a highlighted file is mostly markup): the fragment holds no secret, no CSRF token, for a
# compression side channel to guess at, and Django pads compressed answers at random anyway.
@gzip_page
def step_preview(request: HttpRequest, code: UUID, step: str) -> HttpResponse:
    """Answer a preview request with what changed in the file shown; nothing is stored anywhere."""
    current = step_or_404(step)
    if current.is_review:
        raise Http404("The review step has no preview")
    plan, _ = get_plan_for_user(request.user, code)
    try:
        window = posted_window(current, request.POST)
    except ValueError:
        window = None   # a damaged page: the preview shows the draft with what it could read of it
    forms = StepForms(current, plan.draft, data=request.POST, window=window)
    doc = apply(current, plan.draft, forms.values(), forms.window if not forms.damaged() else None)
    shown, base, since = (request.POST.get(field, "")[:_STATE_MAX] for field in _STATE_FIELDS)
    answer = previews.preview(plan, current, doc, shown=shown, base=base, since=since)
    return render(request, "wizard/_preview.html", {"plan": plan, "step": current, "p": answer, "out": answer.out,
                                                    "groups": group_findings(answer.out.findings, doc, plan)})
