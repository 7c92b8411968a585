"""The wizard step pages: show a step of the draft, save it, autosave it.

Every save goes through `wizard.web.drafts.save_step` (optimistic concurrency). After
a save the page redirects (post/redirect/get) and the step is shown again from
the stored draft, with the plan reader's and the rules' errors on the fields; a
refused stale save instead shows the typed values again beside the stored ones.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import BaseFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from wizard.models import Plan
from wizard.plan import engine
from wizard.plan.explain import label_for
from wizard.plan.finding import Finding
from wizard.review.access import get_editable_plan, get_plan_for_user
from wizard.review.audit import client_ip
from wizard.web.drafts import StepSave, refuse_step, save_step
from wizard.web.forms import ADDABLE, OUT_OF_DATE, DraftVersionForm, StepForms, posted_window
from wizard.web.presets import EXAMPLE_NOTE, holds_example_names
from wizard.web.security import plain_page
from wizard.web.steps import (
    PageInfo,
    Step,
    Window,
    encode_window,
    findings_for,
    get_step,
    next_step,
    page_window,
    paging,
    previous_step,
    step_base,
    step_statuses,
)
from wizard.web.views import output

TEMPLATE = "wizard/step.html"


def step_or_404(slug: str) -> Step:
    """Return the step called `slug`; 404 for a slug that is not in wizard.steps.STEPS."""
    try:
        return get_step(slug)
    except KeyError:
        raise Http404("No such step") from None


def _page_number(value: Any) -> int | None:
    """Return a page number typed as 1 to 4 ASCII digits, else None.

    ASCII only: str.isdigit() also holds for '²' or '①', which int() refuses (a 500).
    """
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
        return int(value)
    return None


def _pages(step: Step, query: Any) -> dict[str, int]:
    """Return the page of each of the step's lists a query asks for (`?pools-page=3`)."""
    pages = {}
    for section in paging(step):
        number = _page_number(query.get(f"{section}-page", ""))
        if number is not None:
            pages[section] = number
    return pages


def _page_query(pages: dict[str, int]) -> str:
    return f"?{urlencode({f'{s}-page': n for s, n in pages.items() if n > 1})}" if any(
        n > 1 for n in pages.values()) else ""


def _step_url(plan: Plan, step: Step, *, add: str = "", pages: dict[str, int] | None = None) -> str:
    url = reverse("plan-step", args=[plan.code, step.slug])
    query = {f"{s}-page": n for s, n in (pages or {}).items() if n > 1}
    if add:
        query["add"] = add
    return f"{url}?{urlencode(query)}" if query else url


def _pager(pages: dict[str, int], info: dict[str, PageInfo]) -> dict[str, dict[str, Any]]:
    """Return, per list shown a page at a time, what its pager shows: rows, and a link per page."""
    out = {}
    for section, where in info.items():
        if where.pages < 2:
            continue
        links = [{"number": n, "current": n == where.page, "action": f"page:{section}:{n}",
                  "query": _page_query({**pages, section: n}) or "?"} for n in range(1, where.pages + 1)]
        out[section] = {"info": where, "links": links}
    return out


def _context(plan: Plan, step: Step, forms: StepForms, *, can_edit: bool, version: int, base: str,
             stale: StepSave | None = None, pages: dict[str, int] | None = None,
             info: dict[str, PageInfo] | None = None) -> dict[str, Any]:
    """Return the step page context; the findings come from the stored draft."""
    _, findings = engine.assess(plan.draft)
    mine = findings_for(step, findings)
    unplaced = forms.attach(mine) if stale is None else []
    return {
        "plan": plan,
        "step": step,
        "forms": forms,
        "can_edit": can_edit,
        "meta": DraftVersionForm(initial={"draft_version": version, "step_base": base,
                                          "step_window": encode_window(step, forms.window)}),
        "page_query": _page_query(pages or {}),
        "pager": _pager(pages or {}, info or {}),
        "statuses": step_statuses(findings),
        "unplaced": unplaced,
        **_warnings([f for f in mine if f.severity != "error"], plan.draft),
        "previous": previous_step(step),
        "next": next_step(step),
        "stale": stale,
        # A plan started from a preset that still holds its example names says so on every step.
        "example_note": EXAMPLE_NOTE if plan.preset and holds_example_names(plan.draft) else "",
    }


@login_required
def step_page(request: HttpRequest, code: UUID, step: str) -> HttpResponse:
    """Show one step of the plan's draft (GET) or save it (POST)."""
    current = step_or_404(step)
    if current.is_review:
        if request.method == "POST":
            return redirect("plan-step", code, current.slug)
        return output.review_page(request, code)
    if request.method == "POST":
        return _save(request, get_editable_plan(request.user, code), current)
    plan, can_edit = get_plan_for_user(request.user, code)
    pages = _pages(current, request.GET)
    window, info = page_window(current, plan.draft, pages)
    pages = {section: where.page for section, where in info.items()}
    forms = StepForms(current, plan.draft, add=request.GET.get("add", ""), window=window)
    return render(request, TEMPLATE, _context(plan, current, forms, can_edit=can_edit, version=plan.draft_version,
                                              base=step_base(current, plan.draft, window), pages=pages, info=info))


def _posted(request: HttpRequest, plan: Plan, step: Step) -> tuple[StepForms, list[str]]:
    """Return the posted forms of a step (one page of its lists) and why they cannot be trusted (if so)."""
    try:
        window = posted_window(step, request.POST)
    except ValueError as exc:
        return StepForms(step, plan.draft, data=request.POST), [str(exc)]
    forms = StepForms(step, plan.draft, data=request.POST, window=window)
    return forms, forms.damaged()


def _save(request: HttpRequest, plan: Plan, step: Step) -> HttpResponse:
    meta = DraftVersionForm(request.POST)
    forms, damaged = _posted(request, plan, step)
    pages = _pages(step, request.GET)
    if damaged:
        return plain_page(request, status=400, title="Not saved: the page was damaged",
                          message=f"Nothing was saved: {'; '.join(damaged)}. Reload the step and try again.")
    if not meta.is_valid():
        refusal = refuse_step(plan, step, forms.values(), why=f"Not saved: {OUT_OF_DATE}", window=forms.window)
        context = _context(plan, step, forms, can_edit=True, version=refusal.version, base=refusal.base,
                           stale=refusal, pages=pages, info=page_window(step, plan.draft, pages)[1])
        return render(request, TEMPLATE, context, status=400)
    result = save_step(plan, step, forms.values(), based_on=meta.cleaned_data["draft_version"],
                       base=meta.cleaned_data["step_base"], by=request.user, ip=client_ip(request),
                       window=forms.window)
    if not result.saved:
        context = _context(result.plan, step, forms, can_edit=True, version=result.version, base=result.base,
                           stale=result, pages=pages, info=page_window(step, result.plan.draft, pages)[1])
        return render(request, TEMPLATE, context, status=409)
    if result.merged:
        messages.info(request, "Saved. Other steps of this plan (or other pages of this one) were saved by someone "
                               "else meanwhile; their changes are kept.")
    action = request.POST.get("action", "save")
    if action.startswith("add:") and action[4:] in ADDABLE:
        section = action[4:]
        # The new row goes at the end of its list: its last page.
        _, info = page_window(step, result.plan.draft, {section: _LAST_PAGE})
        last = {section: info[section].page} if section in info else {}
        return redirect(_step_url(result.plan, step, add=section, pages={**pages, **last}))
    if action.startswith("page:"):
        _, section, typed = [*action.split(":"), "", ""][:3]
        number = _page_number(typed)
        if section in paging(step) and number is not None:
            return redirect(_step_url(result.plan, step, pages={**pages, section: number}))
    if action == "back" and previous_step(step):
        return redirect(_step_url(result.plan, previous_step(step)))
    if action == "next" and next_step(step):
        _, findings = engine.assess(result.plan.draft)
        if any(f.severity == "error" for f in findings_for(step, findings)):
            messages.warning(request, "Saved, but this step still has errors (marked below). Fix them, or pick "
                                      "another step from the list when you want to come back later.")
            return redirect(_step_url(result.plan, step, pages=pages))
        return redirect(_step_url(result.plan, next_step(step)))
    messages.success(request, f"Saved (draft version {result.version}).")
    return redirect(_step_url(result.plan, step, pages=pages))


# Asking for a page past the last shows the last one.
_LAST_PAGE = 9999


@login_required
@require_POST
def step_autosave(request: HttpRequest, code: UUID, step: str) -> HttpResponse:
    """Save a step while it is being typed (htmx); answer with a status line and the new version."""
    current = step_or_404(step)
    if current.is_review:
        raise Http404("The review step has nothing to save")
    plan = get_editable_plan(request.user, code)
    meta = DraftVersionForm(request.POST)
    forms, damaged = _posted(request, plan, current)
    if damaged:
        return render(request, "wizard/_autosave.html", {"damaged": damaged, "plan": plan, "step": current},
                      status=400)
    result = None
    live: dict[str, Any] = {}
    if meta.is_valid():
        result = save_step(plan, current, forms.values(keep_deleted=True), based_on=meta.cleaned_data["draft_version"],
                           base=meta.cleaned_data["step_base"], by=request.user, ip=client_ip(request),
                           window=forms.window)
        if result.saved:
            live = {**_live_findings(result.plan, current, result.window), "marked": forms.marked_for_removal()}
    # The status says whether it saved; a refusal answers 409 (or 400 without a version), so the
    # page's script can tell a refusal from a save and never leaves a stale "Saved" on screen.
    status = 400 if result is None else 200 if result.saved else 409
    shown_plan = result.plan if result is not None else plan
    window = encode_window(current, result.window) if result is not None else ""
    return render(request, "wizard/_autosave.html", {"result": result, "plan": shown_plan, "step": current,
                                                     "window": window, **live}, status=status)


def _warnings(warnings: list[Finding], doc: Any) -> dict[str, Any]:
    """Return the step's warnings for the page: one entry per finding code, the first in full and the
    fields of the others listed (a rule that fires for a hundred pools says the same thing a hundred
    times, each naming its pool)."""
    groups: dict[str, dict[str, Any]] = {}
    for finding in warnings:
        group = groups.get(finding.code)
        if group is None:
            groups[finding.code] = {"first": finding, "label": label_for(finding.field, doc), "others": []}
        else:
            group["others"].append(label_for(finding.field, doc))
    return {"warnings": list(groups.values()), "warning_count": len(warnings)}


def _live_findings(plan: Plan, step: Step, window: Window | None = None) -> dict[str, Any]:
    """Return what an autosave answer refreshes on the page: the step list's error and warning counts,
    this step's errors with no field of their own and its warnings, and each field's error (by HTML id)."""
    _, findings = engine.assess(plan.draft)
    mine = findings_for(step, findings)
    shown = StepForms(step, plan.draft, window=window)
    unplaced = shown.attach(mine)
    return {
        "live": True,
        "statuses": step_statuses(findings),
        "unplaced": unplaced,
        **_warnings([f for f in mine if f.severity != "error"], plan.draft),
        "field_errors": json.dumps(shown.field_errors(), ensure_ascii=True),
        # The lists' own errors ("needs at least one entry", a row on another page), refreshed like
        # the fields' ones: `forms` gives the template the same `section_errors` as the page.
        "forms": shown,
        "lists": [(name, section) for name, section in shown.sections.items() if isinstance(section, BaseFormSet)],
    }
