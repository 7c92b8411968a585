"""Accepted risks on the review page: the broken-promise errors an editor may accept, with a
reason the reviewer reads, and the ones already accepted, each of which can be withdrawn.

The list lives in the plan document (`accepted_risks`), so a change to it is a draft save like
any other: optimistic concurrency, an audit row, and a change the reviewer sees in the diff.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from wizard.models import Plan
from wizard.plan import engine
from wizard.plan.explain import label_for
from wizard.plan.finding import Finding
from wizard.plan.findings import acceptable_errors
from wizard.review.access import get_editable_plan
from wizard.review.audit import client_ip
from wizard.web import drafts
from wizard.web.forms import AcceptRiskForm, WithdrawRiskForm
from wizard.web.steps import STEPS


@dataclass(frozen=True)
class AcceptableRow:
    """One error the draft may record as an accepted risk."""

    finding: Finding
    label: str


@dataclass(frozen=True)
class AcceptedRow:
    """One accepted risk of the draft, as stored."""

    index: int
    code: str
    field: str
    label: str
    reason: str


@dataclass(frozen=True)
class Risks:
    """What the review page's "Accepted risks" section shows."""

    acceptable: list[AcceptableRow]
    accepted: list[AcceptedRow]
    version: int
    can_edit: bool


def risks_context(plan: Plan, findings: list[Finding], *, can_edit: bool) -> Risks | None:
    """Return the section's content for the draft, or None when there is nothing to show."""
    doc = plan.draft if isinstance(plan.draft, dict) else {}
    stored = doc.get("accepted_risks")
    accepted = [AcceptedRow(i, str(r.get("code", "")), str(r.get("field", "")), label_for(str(r.get("field", "")), doc),
                            str(r.get("reason", "")))
                for i, r in enumerate(stored if isinstance(stored, list) else []) if isinstance(r, dict)]
    acceptable = [AcceptableRow(f, label_for(f.field, doc)) for f in acceptable_errors(findings)]
    if not accepted and not acceptable:
        return None
    return Risks(acceptable, accepted, plan.draft_version, can_edit)


def _back(plan: Plan) -> HttpResponse:
    return redirect(reverse("plan-step", args=[plan.code, STEPS[-1].slug]) + "#risks")


@login_required
@require_POST
def accept_risk(request: HttpRequest, code: UUID) -> HttpResponse:
    """Record one error of the draft as an accepted risk, with its reason."""
    plan = get_editable_plan(request.user, code)
    _, findings = engine.assess(plan.draft)
    acceptable = {(f.code, f.field) for f in acceptable_errors(findings)}
    form = AcceptRiskForm(request.POST, acceptable=acceptable)
    if not form.is_valid():
        messages.error(request, "The risk was not accepted: " + _errors(form))
        return _back(plan)
    data = form.cleaned_data
    try:
        drafts.accept_risk(plan, code=data["code"], field=data["field"], reason=data["reason"],
                           based_on=data["draft_version"], by=request.user, ip=client_ip(request))
    except drafts.StaleDraft:
        messages.error(request, "The draft changed while you were reading it, so the risk was not accepted: "
                                "look at the findings again.")
        return _back(plan)
    messages.success(request, f"Accepted: {label_for(data['field'], plan.draft)}. The error is now a warning "
                              f"with your reason, for the reviewer.")
    return _back(plan)


@login_required
@require_POST
def withdraw_risk(request: HttpRequest, code: UUID) -> HttpResponse:
    """Withdraw one accepted risk: its error blocks the plan again."""
    plan = get_editable_plan(request.user, code)
    form = WithdrawRiskForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was withdrawn: " + _errors(form))
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


def _errors(form: Any) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)
