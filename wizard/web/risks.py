"""What the review page's "Accepted risks" section shows: the broken-promise errors an editor may
accept, with a reason the reviewer reads, and the ones already accepted.

A refused acceptance shows the page again with the reason as it was typed, in its own row, and
what was wrong with it (`Typed`): the reason is never lost to a redirect.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.models import Plan
from wizard.plan.finding import Finding
from wizard.plan.findings import risk_field_label, risks_to_offer
from wizard.plan.model import PlanData


@dataclass(frozen=True)
class Typed:
    """A refused acceptance: the error it was for, the reason as typed and why it was refused."""

    code: str
    field: str
    reason: str
    error: str


@dataclass(frozen=True)
class AcceptableRow:
    """One error the draft may record as an accepted risk (`reason`, `error`: a refused attempt at it).

    `outside_plan`: not an error of the plan but the topology's pools (or Edge pools) it does not list, on which
    lync-management-shell.ps1 stops unless this is accepted (wizard.plan.findings.risks_to_offer)."""

    finding: Finding
    label: str
    outside_plan: bool = False
    reason: str = ""
    error: str = ""


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


def risks_context(plan: Plan, data: PlanData | None, findings: list[Finding], *, can_edit: bool,
                  typed: Typed | None = None) -> Risks | None:
    """Return the section's content for the draft (`data`: the draft as read, None when it does not read as a plan),
    or None when there is nothing to show."""
    doc = plan.draft if isinstance(plan.draft, dict) else {}
    stored = doc.get("accepted_risks")
    accepted = [AcceptedRow(i, str(r.get("code", "")), str(r.get("field", "")),
                            risk_field_label(str(r.get("field", "")), doc),
                            str(r.get("reason", "")))
                for i, r in enumerate(stored if isinstance(stored, list) else []) if isinstance(r, dict)]
    acceptable = [_row(f, doc, typed) for f in risks_to_offer(data, findings)]
    if not accepted and not acceptable:
        return None
    return Risks(acceptable, accepted, plan.draft_version, can_edit)


def _row(finding: Finding, doc: Any, typed: Typed | None) -> AcceptableRow:
    label = risk_field_label(finding.field, doc)
    outside = finding.severity != "error"
    if typed is not None and (typed.code, typed.field) == (finding.code, finding.field):
        return AcceptableRow(finding, label, outside, reason=typed.reason, error=typed.error)
    return AcceptableRow(finding, label, outside)
