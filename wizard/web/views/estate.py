"""The estate as it is: start a plan from a state file, keep state files with a plan and show
intended versus actual, and the download of collect-state.ps1 on its own.
"""
from __future__ import annotations

import logging
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from wizard.models import Revision
from wizard.proof.verify import VerificationFailed
from wizard.review import estate as estate_store
from wizard.review.access import get_editable_plan, get_plan_for_user
from wizard.review.audit import client_ip
from wizard.scripts.artifacts.estate import COLLECTOR_FILE, collector_download
from wizard.web import transfer
from wizard.web.forms import StartFromStateForm, StateUploadForm
from wizard.web.steps import STEPS

logger = logging.getLogger(__name__)


def _problems(exc: estate_store.StateRefused) -> list[dict[str, str]]:
    """Return the errors of a refused state file as (path, message) rows, or the one reason."""
    return [{"path": f.field, "message": f.message} for f in exc.findings] or [{"path": "", "message": str(exc)}]


@login_required
def plan_from_state(request: HttpRequest) -> HttpResponse:
    """Start a new plan from an uploaded state file: the estate's topology, nothing changed yet."""
    posted = request.method == "POST"
    form = StartFromStateForm(request.POST, request.FILES) if posted else StartFromStateForm()
    problems: list[dict[str, str]] = []
    if posted and form.is_valid():
        try:
            started = transfer.start_from_state(form.cleaned_data["file"], owner=request.user,
                                                name=form.cleaned_data["name"] or None, ip=client_ip(request))
        except estate_store.StateRefused as exc:
            problems = _problems(exc)
        else:
            messages.success(request, f"Started \u201c{started.plan.name}\u201d from the estate: the topology is "
                                      "filled in and nothing changes until you choose settings.")
            for note in started.notes:
                messages.warning(request, note)
            return redirect("plan-step", started.plan.code, STEPS[0].slug)
    return render(request, "wizard/plan_from_state.html", {"form": form, "problems": problems},
                  status=400 if (form.errors or problems) else 200)


@login_required
def plan_estate(request: HttpRequest, code: UUID) -> HttpResponse:
    """Show intended versus actual for the draft (or ?revision=N); POST keeps a new state file with the plan."""
    problems: list[dict[str, str]] = []
    if request.method == "POST":
        plan, can_edit = get_editable_plan(request.user, code), True
        form = StateUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                estate_store.store_state_file(plan, text=form.cleaned_data["file"], by=request.user,
                                              ip=client_ip(request))
            except estate_store.StateRefused as exc:
                problems = _problems(exc)
            else:
                messages.success(request, "The state file is kept with the plan. Intended versus actual below.")
                return redirect("plan-estate", plan.code)
    else:
        plan, can_edit = get_plan_for_user(request.user, code)
        form = StateUploadForm()
    revision = None
    if request.GET.get("revision"):
        try:
            revision = plan.revisions.select_related("state").get(number=int(request.GET["revision"]))
        except (ValueError, Revision.DoesNotExist):
            raise Http404("No such revision") from None
    page = estate_store.estate_page(plan, revision=revision)
    return render(request, "wizard/plan_estate.html", {
        "plan": plan, "can_edit": can_edit, "form": form, "problems": problems, "page": page, "revision": revision,
    }, status=400 if (form.errors or problems) else 200)


@login_required
def collect_state_download(request: HttpRequest) -> HttpResponse:
    """Send collect-state.ps1 on its own: the same bytes every bundle holds."""
    try:
        content = collector_download()
    except VerificationFailed as exc:
        logger.error("collect-state.ps1 fails verification: %s", exc)
        messages.error(request, "The state collector cannot be offered: it failed this tool's own checks.")
        return redirect("plan-list")
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{COLLECTOR_FILE}"'
    return response
