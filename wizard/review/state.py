"""The read side of review, part one: a revision's status and a stored revision
re-run through today's checks and renderer.

Nothing here writes: a status is never stored, it is derived from the Review rows;
a re-check renders from stored data and compares with what was recorded.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Max

import wizard
from wizard.models import Plan, Review, Revision
from wizard.plan import engine
from wizard.plan.finding import Finding
from wizard.plan.writer import dumps_json, plan_to_dict
from wizard.scripts import bundle

APPROVAL_FILE = "APPROVAL.json"
APPROVAL_FORMAT = "lync-auth-approval/1"


class Status(models.TextChoices):
    """The derived review status of a revision (and of a plan: its latest revision's)."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    WITHDRAWN = "withdrawn", "Approval withdrawn"
    SUPERSEDED = "superseded", "Superseded"


# ---------------------------------------------------------------------------
# Status, derived from the Review rows


def _approved(decisions: list[str]) -> bool:
    """Return True when the decisions hold an approval that was not withdrawn after it."""
    approved = False
    for decision in decisions:
        if decision == Review.Decision.APPROVED:
            approved = True
        elif decision == Review.Decision.WITHDRAWN:
            approved = False
    return approved


def _derive(decisions: list[str], *, is_latest: bool) -> str:
    """Return the status for a revision's review decisions (oldest first)."""
    if _approved(decisions):
        # An approval covers exact bytes until it is withdrawn; a newer revision does not undo it.
        return Status.APPROVED
    if not is_latest:
        return Status.SUPERSEDED
    if not decisions:
        return Status.DRAFT
    if decisions[-1] == Review.Decision.SUBMITTED:
        return Status.IN_REVIEW
    if decisions[-1] == Review.Decision.WITHDRAWN:
        return Status.WITHDRAWN
    return Status.CHANGES_REQUESTED


def _decisions(revision: Revision) -> list[str]:
    return list(Review.objects.filter(revision=revision).order_by("created", "id").values_list("decision", flat=True))


def latest_number(plan: Plan | int) -> int:
    """Return the number of the plan's newest revision, 0 when it has none."""
    plan_id = plan if isinstance(plan, int) else plan.pk
    return Revision.objects.filter(plan_id=plan_id).aggregate(n=Max("number"))["n"] or 0


def revision_status(revision: Revision) -> str:
    """Return the status of `revision`: draft, in_review, approved, changes_requested or superseded.

    An approved revision stays "approved" when newer revisions follow; any other
    revision that is not the latest is "superseded".
    """
    is_latest = revision.number >= latest_number(revision.plan_id)
    return _derive(_decisions(revision), is_latest=is_latest)


def status_from_reviews(revision: Revision, reviews: list[Review], *, latest: int) -> str:
    """Return `revision_status(revision)` from what a page has read already: the revision's reviews (oldest
    first) and the number of the plan's latest revision."""
    return _derive([r.decision for r in reviews], is_latest=revision.number >= latest)


def in_review_among_latest(revisions: Iterable[Revision]) -> dict[int, Review]:
    """Of `revisions`, each the latest of its plan, return {revision pk: its latest "submitted" review (with its
    actor)} for those in review, in one query whatever their number."""
    by_revision: dict[int, list[Review]] = {r.pk: [] for r in revisions}
    for row in (Review.objects.filter(revision_id__in=list(by_revision)).select_related("actor")
                .order_by("created", "id")):
        by_revision[row.revision_id].append(row)
    return {pk: [r for r in rows if r.decision == Review.Decision.SUBMITTED][-1]
            for pk, rows in by_revision.items()
            if _derive([r.decision for r in rows], is_latest=True) == Status.IN_REVIEW}


def plan_status(plan: Plan) -> str:
    """Return the status of the plan's latest revision, or "draft" when it has none."""
    latest = latest_revision(plan)
    return revision_status(latest) if latest else Status.DRAFT


def plan_statuses(plans: Iterable[Plan]) -> dict[int, str]:
    """Return {plan pk: status} for a page of plans in two queries."""
    ids = [p.pk for p in plans]
    latest: dict[int, int] = {}
    rows = (Revision.objects.filter(plan_id__in=ids)
            .values("plan_id").annotate(n=Max("number")).values_list("plan_id", "n"))
    for plan_id, number in rows:
        latest[plan_id] = number
    decisions: dict[int, list[str]] = {pid: [] for pid in latest}
    reviews = (Review.objects.filter(revision__plan_id__in=list(latest))
               .order_by("created", "id").values_list("revision__plan_id", "revision__number", "decision"))
    for plan_id, number, decision in reviews:
        if latest.get(plan_id) == number:
            decisions[plan_id].append(decision)
    return {pid: (_derive(decisions[pid], is_latest=True) if pid in latest else Status.DRAFT) for pid in ids}


def revision_statuses(plan: Plan) -> dict[int, str]:
    """Return {revision number: status} for every revision of `plan` in two queries."""
    latest = latest_number(plan)
    decisions: dict[int, list[str]] = {n: [] for n in plan.revisions.values_list("number", flat=True)}
    for number, decision in (Review.objects.filter(revision__plan=plan).order_by("created", "id")
                             .values_list("revision__number", "decision")):
        decisions[number].append(decision)
    return {n: _derive(d, is_latest=n == latest) for n, d in decisions.items()}


def status_label(status: str) -> str:
    """Return the display label of a status value."""
    return Status(status).label


def latest_revision(plan: Plan) -> Revision | None:
    """Return the plan's newest revision, or None."""
    return Revision.objects.filter(plan=plan).order_by("-number").first()


# The decisions that set or lift a revision's approval: the latest of them says whether one is in force.
_APPROVAL_DECISIONS = (Review.Decision.APPROVED, Review.Decision.WITHDRAWN)


def approval_of(revision: Revision) -> Review | None:
    """Return the approval in force of `revision`, or None when it has none (or it was withdrawn)."""
    last = (revision.reviews.filter(decision__in=_APPROVAL_DECISIONS).order_by("-created", "-id").first())
    return last if last is not None and last.decision == Review.Decision.APPROVED else None


def approval_among(reviews: list[Review]) -> Review | None:
    """Return `approval_of(revision)` from the revision's reviews read already, oldest first."""
    last = next((r for r in reversed(reviews) if r.decision in _APPROVAL_DECISIONS), None)
    return last if last is not None and last.decision == Review.Decision.APPROVED else None


def latest_approved(plan: Plan, *, below: int | None = None) -> Revision | None:
    """Return the plan's newest revision whose approval is in force (numbered below `below`, if given), or None."""
    revisions = Revision.objects.filter(plan=plan, reviews__decision=Review.Decision.APPROVED)
    if below is not None:
        revisions = revisions.filter(number__lt=below)
    for revision in revisions.distinct().order_by("-number"):
        if approval_of(revision) is not None:
            return revision
    return None


# ---------------------------------------------------------------------------
# The plan's review state, as every page shows it

# The state of a plan whose latest revision is approved but whose draft has moved on since.
CHANGED_SINCE_APPROVAL = "changed"


@dataclass(frozen=True)
class ReviewState:
    """What a plan's pages say about its review: a status value (or CHANGED_SINCE_APPROVAL) and its words."""

    status: str
    label: str
    approved_number: int | None = None


def draft_matches(plan: Plan, revision: Revision) -> bool:
    """Return True when the plan's draft holds exactly the settings of `revision`."""
    if revision.draft_version and revision.draft_version == plan.draft_version:
        return True
    plan_data, _ = engine.assess(plan.draft)
    return plan_data is not None and plan_to_dict(plan_data) == revision.data


def _state(plan: Plan, status: str, latest: Revision | None) -> ReviewState:
    if status == Status.APPROVED and latest is not None and not draft_matches(plan, latest):
        return ReviewState(CHANGED_SINCE_APPROVAL, f"Changed since approved revision {latest.number}",
                           approved_number=latest.number)
    return ReviewState(status, status_label(status),
                       approved_number=latest.number if status == Status.APPROVED and latest else None)


def review_state(plan: Plan) -> ReviewState:
    """Return the plan's review state: its latest revision's status, except that an approved one
    whose draft has changed since reads "Changed since approved revision N"."""
    latest = latest_revision(plan)
    status = revision_status(latest) if latest else Status.DRAFT
    return _state(plan, status, latest)


def review_states(plans: Iterable[Plan]) -> dict[int, ReviewState]:
    """Return {plan pk: review state} for a page of plans (one more query per approved plan)."""
    plans = list(plans)
    statuses = plan_statuses(plans)
    return {p.pk: _state(p, statuses[p.pk], latest_revision(p) if statuses[p.pk] == Status.APPROVED else None)
            for p in plans}


# ---------------------------------------------------------------------------
# Rendering and re-checking stored data


def finding_codes(findings: Iterable[Finding]) -> list[str]:
    """Return the sorted, distinct codes of `findings`."""
    return sorted({f.code for f in findings})


def listed(findings: Iterable[Finding]) -> str:
    """Return findings as one `field: message; ...` line."""
    return "; ".join(f"{f.field}: {f.message}" for f in findings)


def source_for(name: str, plan: Plan, number: int | None) -> bundle.Source:
    """Return the bundle Source of revision `number` (None: the draft) of `plan`, called `name`."""
    # The revision's own plan name, not Plan.name: the draft (and so Plan.name)
    # moves on, and a re-render must reproduce the bytes on record.
    return bundle.Source(name, str(plan.code), number, wizard.__version__)


def build_revision_bundle(plan_data: Any, plan: Plan, number: int | None, findings: list[Finding]) -> Any:
    """Return the bundle of `plan_data` as revision `number` (None: the draft) of `plan`.

    `findings` are those of the stored (normalised) document: the runbook lists
    them, so saving and re-rendering must pass the same ones to get the same bytes.
    """
    # The same bytes whether rendered now or a moment ago: the revision page, each of its file tabs
    # and the approved download of one revision share one render (the cache holds read-only bundles).
    return bundle.cached_bundle(plan_data, source=source_for(plan_data.name, plan, number), findings=list(findings))


@dataclass(frozen=True)
class RecheckResult:
    """A stored revision run through today's reader, rules and renderer."""

    findings: tuple[Finding, ...]
    new_codes: tuple[str, ...]
    resolved_codes: tuple[str, ...]
    bundle: Any = None  # wizard.scripts.bundle.Bundle, or None when it no longer renders
    problem: str = ""  # why it no longer renders; "" when it does
    recorded_sha256: str = ""

    @property
    def bundle_sha256(self) -> str | None:
        """Return the hash of today's rendering, or None."""
        return self.bundle.sha256 if self.bundle is not None else None

    @property
    def hash_matches(self) -> bool:
        """Return True when today's rendering is byte-identical to the one on record."""
        return self.bundle_sha256 == self.recorded_sha256

    @property
    def new_findings(self) -> list[Finding]:
        """Return today's findings whose codes were not there when the revision was saved."""
        return [f for f in self.findings if f.code in self.new_codes]

    @property
    def banner(self) -> bool:
        """Return True when the page should warn that today's checks see something new."""
        return bool(self.new_codes) or not self.hash_matches


def recheck(revision: Revision) -> RecheckResult:
    """Return `revision` re-run through today's checks and renderer, compared with its record."""
    plan_data, findings = engine.assess(revision.data)
    codes = finding_codes(findings)
    recorded = set(revision.finding_codes or [])
    new = tuple(c for c in codes if c not in recorded)
    resolved = tuple(sorted(recorded - set(codes)))
    rendered = None
    problem = ""
    errors = [f for f in findings if f.severity == "error"]
    if plan_data is None or errors:
        problem = "Today's checks find errors in this revision: " + listed(errors)
    else:
        try:
            rendered = build_revision_bundle(plan_data, revision.plan, revision.number, findings)
        except bundle.PlanRejected as exc:
            problem = "Today's tool refuses to render this revision: " + listed(exc.errors)
        except bundle.VerificationFailed as exc:
            problem = f"Today's tool renders scripts for this revision that fail verification: {exc}"
    return RecheckResult(findings=tuple(findings), new_codes=new, resolved_codes=resolved, bundle=rendered,
                         problem=problem.strip(), recorded_sha256=revision.bundle_sha256)


def approval_record(revision: Revision, approval: Review) -> dict[str, Any]:
    """Return the APPROVAL.json document for an approved revision."""
    submitted = (revision.reviews.filter(decision=Review.Decision.SUBMITTED, created__lte=approval.created)
                 .order_by("-created", "-id").select_related("actor").first())
    return {
        "format": APPROVAL_FORMAT,
        "plan": revision.data.get("name", revision.plan.name),
        "plan_code": str(revision.plan.code),
        "revision": revision.number,
        "revision_message": revision.message,
        # Names as recorded when each step was taken: an account renamed since must not change the record
        # (the bundle check compares APPROVAL.json byte for byte with the one downloaded).
        "author": revision.created_by_username or revision.created_by.get_username(),
        "saved_at": revision.created.isoformat(),
        "submitted_by": (submitted.actor_username or submitted.actor.get_username()) if submitted else None,
        "submitted_at": submitted.created.isoformat() if submitted else None,
        "approved_by": approval.actor_username or approval.actor.get_username(),
        "approved_by_name": approval.actor_name if approval.actor_username else approval.actor.get_full_name(),
        "approved_at": approval.created.isoformat(),
        "comment": approval.comment,
        "bundle_sha256": approval.bundle_sha256,
        "tool_version": revision.tool_version,
        "finding_codes": list(revision.finding_codes),
    }


def approval_file(record: dict[str, Any]) -> bytes:
    """Return APPROVAL.json's bytes for `record` (approval_record): as the approved download holds them
    and as the bundle check expects them."""
    return dumps_json(record).encode("utf-8")
