"""Moving plans in and out of the database as `lync-auth-plan/1` files, and starting a
plan from a `lync-auth-state/1` file.

Import stores a new plan whose draft is the validated, normalised document;
export writes the validated draft (or a revision) back out. An exported file
always imports: a draft that does not read as a plan is refused, not written.
Starting from a state file stores a plan prefilled with the estate's topology
(wizard.plan.prefill) and keeps the state file with it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from wizard.models import AuditEvent, Plan, Revision
from wizard.plan.finding import Finding
from wizard.plan.prefill import plan_from_estate
from wizard.plan.reader import PlanUnreadable, load_plan, read_plan
from wizard.plan.writer import dumps_plan, plan_to_dict
from wizard.review import audit
from wizard.review import estate as estate_store
from wizard.web.drafts import create_plan


class TransferError(Exception):
    """A plan could not be imported or exported; `findings` lists every reason when there are several."""

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []

    def lines(self) -> list[str]:
        """Return one `field: message` line per problem (or the message alone)."""
        if self.findings:
            return [f"{f.field}: {f.message}" for f in self.findings]
        return [str(self)]


@dataclass(frozen=True)
class Imported:
    """A plan created from a file, with the non-error findings of reading it."""

    plan: Plan
    findings: list[Finding]


def import_plan(text: str | bytes, *, owner: Any, ip: str | None = None) -> Imported:
    """Create and return a plan owned by `owner` from plan file text; store nothing when it is invalid.

    Raise TransferError listing every error.
    """
    try:
        plan_data, findings = load_plan(text)
    except PlanUnreadable as exc:
        raise TransferError(f"(plan): {exc}") from None
    errors = [f for f in findings if f.severity == "error"]
    if plan_data is None or errors:
        raise TransferError(f"the plan has {len(errors)} error(s)", errors)
    plan = create_plan(owner=owner, doc=plan_to_dict(plan_data), ip=ip, action=AuditEvent.Action.IMPORTED)
    return Imported(plan=plan, findings=findings)


@dataclass(frozen=True)
class Started:
    """A plan started from a state file, and what the admin must know about its prefill."""

    plan: Plan
    notes: tuple[str, ...]


@transaction.atomic
def start_from_state(text: str | bytes, *, owner: Any, name: str | None = None, ip: str | None = None) -> Started:
    """Create a plan prefilled from a `lync-auth-state/1` file (changing nothing yet) and keep the file with it.

    Raise estate.StateRefused, listing every error by path, when the file is not a readable
    state file; nothing is stored then.
    """
    doc = estate_store.read_upload(text)
    estate, _ = estate_store.read_estate(doc)
    prefilled = plan_from_estate(estate, name=name)
    plan = create_plan(owner=owner, doc=prefilled.doc, ip=ip)
    estate_store.store_state(plan, doc=doc, by=owner, ip=ip, merge=False)
    return Started(plan=plan, notes=prefilled.notes)


def find_plan(ref: str) -> Plan:
    """Return the plan named by its UUID code or its integer id; raise TransferError when there is none."""
    ref = ref.strip()
    try:
        if ref.isdigit():
            return Plan.objects.get(pk=int(ref))
        return Plan.objects.get(code=uuid.UUID(ref))
    except (Plan.DoesNotExist, ValueError):
        raise TransferError(f"no plan with id or code {ref!r}") from None


@transaction.atomic
def export_plan(plan: Plan, *, by: Any = None, ip: str | None = None, revision: int | None = None) -> str:
    """Return the plan's validated draft (or revision `revision`) as `lync-auth-plan/1` text.

    Raise TransferError, listing every error, when the draft does not read as a plan.
    """
    if revision is not None:
        try:
            doc = plan.revisions.get(number=revision).data
        except Revision.DoesNotExist:
            raise TransferError(f"plan {plan.code} has no revision {revision}") from None
    else:
        doc = plan.draft
    plan_data, findings = read_plan(doc)
    errors = [f for f in findings if f.severity == "error"]
    if plan_data is None or errors:
        raise TransferError("the draft is not a valid plan yet, so it would not import again; "
                            "fix it in the wizard first", errors)
    text = dumps_plan(plan_data)
    audit.record(AuditEvent.Action.EXPORTED, plan=plan, actor=by, ip=ip, revision=revision)
    return text
