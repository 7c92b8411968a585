"""The state files kept with a plan, and intended versus actual for the web pages.

`store_state` keeps an uploaded `lync-auth-state/1` document with a plan (one transaction,
its audit row); a second upload that brings only the other part (the AD FS run after the
Management Shell run, or the reverse) is merged with the latest one. `latest_state` is
what a revision saved now is judged against (wizard.review.services.save_revision keeps
it on the revision). `estate_page` builds everything the intended-versus-actual page shows.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from wizard.models import AuditEvent, Plan, PlanState, Revision
from wizard.plan import engine
from wizard.plan.drift import DriftRow, EstateReport, estate_report
from wizard.plan.estate import Estate
from wizard.plan.finding import Finding
from wizard.plan.state_reader import StateUnreadable, merge_state_docs, parse_state_text, read_state, state_parts
from wizard.review import access, audit
from wizard.scripts.exposure_view import exposure_context


class StateRefused(Exception):
    """The document is not a readable state file; `findings` lists every error by path."""

    def __init__(self, findings: list[Finding], message: str = "") -> None:
        self.findings = [f for f in findings if f.severity == "error"]
        super().__init__(message or "; ".join(f"{f.field}: {f.message}" for f in self.findings))


def read_upload(text: str | bytes) -> dict[str, Any]:
    """Return the state document in uploaded text; raise StateRefused when it is not a state file at all."""
    try:
        return parse_state_text(text)
    except StateUnreadable as exc:
        raise StateRefused([], str(exc)) from None


def read_estate(doc: Any) -> tuple[Estate, list[Finding]]:
    """Return the estate of a state document and its notes; raise StateRefused listing every error."""
    estate, findings = read_state(doc)
    if estate is None:
        raise StateRefused(findings)
    return estate, findings


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def latest_state(plan: Plan) -> PlanState | None:
    """Return the state file most recently kept with `plan`, or None."""
    return PlanState.objects.filter(plan=plan).order_by("-uploaded", "-id").first()


@transaction.atomic
def store_state(plan: Plan, *, doc: dict[str, Any], by: Any, ip: str | None = None, merge: bool = True) -> PlanState:
    """Keep a state document with `plan` and return it; raise StateRefused when it does not read.

    With `merge`, a document that holds only one part (Management Shell or AD FS) is merged
    with the latest state of the plan, so the two runs of the collector give one state.
    """
    locked = access.lock_plan(plan)
    access.require_editor(by, locked)
    estate, _ = read_estate(doc)
    previous = latest_state(locked) if merge else None
    merged_from = None
    if previous is not None and _one_part(doc) and state_parts(previous.document) != state_parts(doc):
        doc = merge_state_docs(previous.document, doc)
        estate, _ = read_estate(doc)
        merged_from = previous.pk
    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False)
    state = PlanState(
        plan=locked, document=doc, sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        collected_at=_when(estate.collected_at), collected_on=estate.collected_on or "",
        adfs_collected_at=_when(estate.adfs.collected_at) if estate.adfs else None,
        product=estate.product or "", has_management_shell=estate.has_management_shell_data,
        has_adfs=estate.adfs is not None, uploaded_by=by,
    )
    state.full_clean(exclude=["plan", "uploaded_by"])
    state.save()
    audit.record(AuditEvent.Action.STATE_UPLOADED, plan=locked, actor=by, ip=ip, state=state.pk,
                 collected_at=estate.collected_at, collected_on=estate.collected_on, sha256=state.sha256,
                 merged_with=merged_from)
    return state


def store_state_file(plan: Plan, *, text: str | bytes, by: Any, ip: str | None = None) -> PlanState:
    """Read an uploaded state file and keep it with `plan` (see store_state); raise StateRefused when it
    is not a readable state file, listing every error by path."""
    return store_state(plan, doc=read_upload(text), by=by, ip=ip)


def _one_part(doc: dict[str, Any]) -> bool:
    shell, adfs = state_parts(doc)
    return shell != adfs


# ---------------------------------------------------------------------------
# The intended-versus-actual page


@dataclass(frozen=True)
class RowGroup:
    """The rows of one collection (or trust), for one table on the page."""

    kind_label: str
    identity: str
    rows: list[DriftRow]


@dataclass(frozen=True)
class EstatePage:
    """Everything the intended-versus-actual page shows."""

    state: PlanState | None
    estate: Estate | None
    report: EstateReport | None
    groups: list[RowGroup]
    facts: list[Finding]
    problem: str
    source_label: str
    # The sign-in exposure with the estate as "before" and the plan as "after" (the review page's
    # matrix and picture, wizard.scripts.exposure_view.exposure_context); None without a comparison.
    exposure: dict[str, Any] | None = None
    # The plan document compared (the draft or the revision's), for the form's labels on findings.
    doc: Any = None


def _groups(rows: tuple[DriftRow, ...]) -> list[RowGroup]:
    groups: dict[tuple[str, str], RowGroup] = {}
    for row in rows:
        key = (row.kind, row.identity)
        if key not in groups:
            groups[key] = RowGroup(row.kind_label, row.identity, [])
        groups[key].rows.append(row)
    return list(groups.values())


def estate_page(plan: Plan, *, revision: Revision | None = None) -> EstatePage:
    """Return the page for the draft against the plan's latest state, or for `revision` against its own state."""
    state = revision.state if revision is not None else latest_state(plan)
    label = f"revision {revision.number}" if revision is not None else "the draft"
    if state is None:
        return EstatePage(None, None, None, [], [], "", label)
    estate, _ = read_state(state.document)
    if estate is None:
        # Stored states were read without errors; a reader grown stricter since says so here.
        return EstatePage(state, None, None, [], [], "This state file no longer reads with this version of the tool: "
                                                     "upload it again.", label)
    plan_data, _ = engine.assess(revision.data if revision is not None else plan.draft)
    if plan_data is None:
        return EstatePage(state, estate, None, [], [], f"{label.capitalize()} has errors, so it cannot be compared "
                                                       f"with the estate yet: fix them in the wizard first.", label)
    report = estate_report(plan_data, estate)
    facts = [f for f in report.findings if f.code not in ("estate_change", "estate_no_op")]
    return EstatePage(state, estate, report, _groups(report.rows), facts, "", label,
                      exposure=exposure_context(plan_data, estate=estate,
                                                doc=revision.data if revision is not None else plan.draft),
                      doc=revision.data if revision is not None else plan.draft)
