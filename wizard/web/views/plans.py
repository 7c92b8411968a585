"""Plans: the list, a new plan (from scratch or a preset), import and export of plan
files, the overview of one plan, and applying a preset over an existing draft.
"""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from wizard.models import Plan
from wizard.plan import engine
from wizard.plan.explain import label_for
from wizard.plan.model import PRODUCTS
from wizard.review import state
from wizard.review.access import get_editable_plan, get_plan_for_user, plans_visible_to
from wizard.review.audit import client_ip
from wizard.review.diffs import diff_data
from wizard.web import drafts, transfer
from wizard.web.forms import ImportForm, NewPlanForm, PlanSearchForm, PresetForm
from wizard.web.presets import EXAMPLE_NOTE, PRESETS, get_preset, preset_doc
from wizard.web.steps import STEPS, blank_plan, has_edits, step_statuses
from wizard.web.views.output import plan_slug

PAGE_SIZE = 20


@dataclass(frozen=True)
class PlanRow:
    """A plan in the list, with its review status."""

    plan: Plan
    product: str
    status: str
    status_label: str


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """List the plans the user may see, newest change first, with a name search."""
    form = PlanSearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    plans = plans_visible_to(request.user).select_related("owner").order_by("-updated", "-id")
    if query:
        plans = plans.filter(name__icontains=query)
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    states = state.review_states(page.object_list)
    rows = [PlanRow(plan=p, product=PRODUCTS.get(p.product, "not chosen yet"), status=states[p.pk].status,
                    status_label=states[p.pk].label) for p in page.object_list]
    return render(request, "wizard/plan_list.html", {"form": form, "query": query, "page": page, "rows": rows})


@login_required
def plan_create(request: HttpRequest) -> HttpResponse:
    """Start a new plan from scratch or from a preset, then open its first step."""
    posted = request.method == "POST"
    form = NewPlanForm(request.POST if posted else None, initial={"preset": request.GET.get("preset", "")})
    if posted and form.is_valid():
        name, slug = form.cleaned_data["name"], form.cleaned_data["preset"]
        doc = preset_doc(slug, name=name) if slug else blank_plan(name)
        plan = drafts.create_plan(owner=request.user, doc=doc, preset=slug, ip=client_ip(request))
        return redirect("plan-step", plan.code, STEPS[0].slug)
    return render(request, "wizard/plan_create.html", {"form": form, "presets": PRESETS, "example_note": EXAMPLE_NOTE},
                  status=400 if form.errors else 200)


@login_required
def plan_import(request: HttpRequest) -> HttpResponse:
    """Create a plan from an uploaded `lync-auth-plan/1` file; store nothing when it is not a valid plan."""
    posted = request.method == "POST"
    form = ImportForm(request.POST, request.FILES) if posted else ImportForm()
    problems: list[dict[str, str]] = []
    if posted and form.is_valid():
        try:
            imported = transfer.import_plan(form.cleaned_data["file"], owner=request.user, ip=client_ip(request))
        except transfer.TransferError as exc:
            problems = ([{"label": label_for(f.field), "path": f.field, "message": f.message} for f in exc.findings]
                        or [{"label": "The file", "path": "", "message": str(exc).removeprefix("(plan): ")}])
        except ValueError as exc:
            # The JSON parser's own limits (a 5000-digit number, say) end up here, not as a 500.
            problems = [{"label": "The file", "path": "", "message": f"the file is not a readable plan ({exc})"}]
        else:
            messages.success(request, f"Imported \u201c{imported.plan.name}\u201d. Check each step, then review it.")
            return redirect(imported.plan)
    status = 400 if (form.errors or problems) else 200
    return render(request, "wizard/plan_import.html", {"form": form, "problems": problems}, status=status)


@login_required
def plan_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    """Show a plan: its status, each step with its error and warning counts, and what to do next."""
    plan, can_edit = get_plan_for_user(request.user, code)
    _, findings = engine.assess(plan.draft)
    review_state = state.review_state(plan)
    return render(request, "wizard/plan_detail.html", {
        "plan": plan,
        "can_edit": can_edit,
        "statuses": step_statuses(findings),
        "product": PRODUCTS.get(plan.product, "not chosen yet"),
        "status": review_state.status,
        "status_label": review_state.label,
        "presets": PRESETS,
    })


@login_required
def plan_export(request: HttpRequest, code: UUID) -> HttpResponse:
    """Download the draft as a `lync-auth-plan/1` file, when it reads as a valid plan."""
    plan, _ = get_plan_for_user(request.user, code)
    try:
        text = transfer.export_plan(plan, by=request.user, ip=client_ip(request))
    except transfer.TransferError as exc:
        messages.error(request, "The draft cannot be exported yet: it would not import again. "
                                + "; ".join(f"{label_for(f.field, plan.draft)}: {f.message}" for f in exc.findings))
        return redirect(plan)
    response = HttpResponse(text.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{plan_slug(plan)}.plan.json"'
    return response


@login_required
def plan_preset(request: HttpRequest, code: UUID) -> HttpResponse:
    """Replace the draft with a preset; when the draft has edits, ask first and show what changes."""
    plan = get_editable_plan(request.user, code)
    posted = request.method == "POST"
    form = PresetForm(request.POST if posted else None, initial={"draft_version": plan.draft_version,
                                                                 "preset": request.GET.get("preset", "")})
    if not posted or not form.is_valid():
        return render(request, "wizard/plan_preset.html", {"plan": plan, "form": form, "presets": PRESETS,
                                                           "example_note": EXAMPLE_NOTE},
                      status=400 if form.errors else 200)
    slug = form.cleaned_data["preset"]
    doc = preset_doc(slug, name=plan.name)
    confirmed = form.cleaned_data["confirm"]
    if (has_edits(plan.draft) and not confirmed) or form.cleaned_data["draft_version"] != plan.draft_version:
        confirm = PresetForm(initial={"preset": slug, "confirm": True, "draft_version": plan.draft_version})
        return render(request, "wizard/plan_preset_confirm.html", {
            "plan": plan, "form": confirm, "preset": get_preset(slug), "changes": diff_data(plan.draft, doc),
            "changed_meanwhile": confirmed,
        })
    try:
        drafts.save_draft(plan, doc=doc, based_on=form.cleaned_data["draft_version"], by=request.user,
                          ip=client_ip(request), step="preset")
    except drafts.StaleDraft:
        messages.error(request, "The draft changed while you were choosing: nothing was replaced. Look again.")
        return redirect("plan-preset", plan.code)
    messages.success(request, f"The draft now holds the preset \u201c{get_preset(slug).title}\u201d. {EXAMPLE_NOTE}")
    return redirect("plan-step", plan.code, STEPS[0].slug)
