"""Accepting and withdrawing risks on the review page: the broken-promise errors an editor may
accept, with a reason the reviewer reads (the section's content is `wizard.web.risks`).

The list lives in the plan document (`accepted_risks`), so a change to it is a draft save like
any other: optimistic concurrency, an audit row, and a change the reviewer sees in the diff.
A reason refused (empty, on several lines, too long) or a draft changed meanwhile shows the review
page again with the reason as typed and what was wrong, naming the field: the typed reason is not
redirected away.
"""
from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from wizard.models import Plan
from wizard.plan import engine
from wizard.plan.explain import label_for
from wizard.plan.findings import OUTSIDE_PLAN_TITLES, risks_to_offer
from wizard.review.access import get_editable_plan
from wizard.review.audit import client_ip
from wizard.web import drafts
from wizard.web.forms import OUT_OF_DATE, AcceptRiskForm, WithdrawRiskForm, errors_in_words
from wizard.web.posting import form_post
from wizard.web.risks import Typed
from wizard.web.steps import STEPS
from wizard.web.views import output


def _risks_page(code: UUID) -> str:
    return reverse("plan-step", args=[code, STEPS[-1].slug]) + "#risks"


def _back(plan: Plan) -> HttpResponse:
    return redirect(_risks_page(plan.code))


def _refused(request: HttpRequest, plan: Plan, form: AcceptRiskForm, why: str, *, status: int) -> HttpResponse:
    """Show the review page again with the reason as typed in its row, and why it was not accepted."""
    typed = Typed(code=str(form.data.get("code", "")), field=str(form.data.get("field", "")),
                  reason=str(form.data.get("reason", "")), error=why)
    messages.error(request, f"The risk was not accepted: {why}")
    return output.review_page(request, plan.code, typed=typed, status=status)


@login_required
@form_post(_risks_page)
def accept_risk(request: HttpRequest, code: UUID) -> HttpResponse:
    """Record one error of the draft as an accepted risk, with its reason."""
    plan = get_editable_plan(request.user, code)
    assessed, findings = engine.assess(plan.draft)
    acceptable = {(f.code, f.field) for f in risks_to_offer(assessed, findings)}
    form = AcceptRiskForm(request.POST, acceptable=acceptable)
    if not form.is_valid():
        if "draft_version" in form.errors:
            return _refused(request, plan, form, OUT_OF_DATE, status=400)
        if set(form.errors) != {"reason"}:
            # The page's own fields are damaged or out of date (a forged error, a draft version it
            # never had): show the findings as they are now.
            messages.error(request, "The risk was not accepted: " + errors_in_words(form))
            return _back(plan)
        return _refused(request, plan, form, errors_in_words(form), status=400)
    data = form.cleaned_data
    try:
        drafts.accept_risk(plan, code=data["code"], field=data["field"], reason=data["reason"],
                           based_on=data["draft_version"], by=request.user, ip=client_ip(request))
    except drafts.StaleDraft:
        return _refused(request, plan, form, "the draft changed while you were reading it. Look at the findings "
                                             "again; your reason is kept below.", status=409)
    if data["field"] in OUTSIDE_PLAN_TITLES:
        messages.success(request, f"Accepted: {OUTSIDE_PLAN_TITLES[data['field']]} keep their settings. "
                                  f"lync-management-shell.ps1 names them with a warning instead of stopping; the "
                                  f"reviewer reads your reason on the revision.")
    else:
        messages.success(request, f"Accepted: {label_for(data['field'], plan.draft)}. The error is now a warning "
                                  f"with your reason, for the reviewer.")
    return _back(plan)


@login_required
@form_post(_risks_page)
def withdraw_risk(request: HttpRequest, code: UUID) -> HttpResponse:
    """Withdraw one accepted risk: its error blocks the plan again."""
    plan = get_editable_plan(request.user, code)
    form = WithdrawRiskForm(request.POST)
    if "draft_version" in form.errors:
        messages.error(request, f"Nothing was withdrawn: {OUT_OF_DATE}")
        return output.review_page(request, plan.code, status=400)
    if not form.is_valid():
        messages.error(request, "Nothing was withdrawn: " + errors_in_words(form))
        return _back(plan)
    try:
        drafts.withdraw_risk(plan, index=form.cleaned_data["index"], based_on=form.cleaned_data["draft_version"],
                             by=request.user, ip=client_ip(request))
    except drafts.StaleDraft:
        messages.error(request, "The draft changed while you were reading it, so nothing was withdrawn: look "
                                "again.")
        return _back(plan)
    except drafts.RiskRefused as exc:
        messages.error(request, str(exc))
        return _back(plan)
    messages.success(request, "Withdrawn: the error blocks the plan again until it is fixed or accepted.")
    return _back(plan)
