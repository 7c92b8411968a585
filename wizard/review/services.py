"""Change review of saved plans: revisions, the four-eyes review trail, comments,
sharing, re-checks and the approved download.

Every state change is a service function here: one transaction that locks the
plan row, checks the rules, calls `full_clean()` before `save()` and writes its
audit row. A plan's status is never stored: it is derived from the Review rows.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Max, QuerySet

import wizard
from wizard.models import AuditEvent, Comment, Plan, PlanShare, Review, Revision
from wizard.plan import engine
from wizard.plan.finding import Finding
from wizard.plan.writer import plan_to_dict
from wizard.review import access, audit, diffs, estate
from wizard.scripts import bundle
from wizard.scripts.highlight import highlight_file

COMMENT_MAX = 5000
APPROVAL_FILE = "APPROVAL.json"
APPROVAL_FORMAT = "lync-auth-approval/1"
DRAFT = "draft"


class Status(models.TextChoices):
    """The derived review status of a revision (and of a plan: its latest revision's)."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    SUPERSEDED = "superseded", "Superseded"


class ReviewRefused(Exception):
    """The rules refuse the action; the message says why, for the person who tried."""


class DraftInvalid(ReviewRefused):
    """The draft cannot become a revision: it does not read as a plan or has error findings."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = [f for f in findings if f.severity == "error"] or list(findings)
        listed = "; ".join(f"{f.field}: {f.message}" for f in self.findings)
        super().__init__(f"The draft has errors, so it cannot become a revision: {listed}")


class NothingChanged(ReviewRefused):
    """The draft is the same as the latest revision."""


class Superseded(ReviewRefused):
    """A newer revision exists; only the latest revision can move through review."""


class WrongState(ReviewRefused):
    """The revision is not in a state that allows the action."""


class BundleChanged(ReviewRefused):
    """Re-rendering the revision today gives other bytes than the hash on record."""


class NewFindings(ReviewRefused):
    """Today's checks find things the revision did not have when it was saved."""


class NotApproved(ReviewRefused):
    """The revision has no approval, so there is no approved bundle to download."""


class SelfReview(PermissionDenied):
    """The author of a revision may not approve it or request changes on it."""


# ---------------------------------------------------------------------------
# Status, derived from the Review rows


def _derive(decisions: list[str], *, is_latest: bool) -> str:
    """Return the status for a revision's review decisions (oldest first)."""
    if Review.Decision.APPROVED in decisions:
        # An approval covers exact bytes forever; a newer revision does not undo it.
        return Status.APPROVED
    if not is_latest:
        return Status.SUPERSEDED
    if not decisions:
        return Status.DRAFT
    if decisions[-1] == Review.Decision.SUBMITTED:
        return Status.IN_REVIEW
    return Status.CHANGES_REQUESTED


def _decisions(revision: Revision) -> list[str]:
    return list(Review.objects.filter(revision=revision).order_by("created", "id").values_list("decision", flat=True))


def _latest_number(plan: Plan | int) -> int:
    plan_id = plan if isinstance(plan, int) else plan.pk
    return Revision.objects.filter(plan_id=plan_id).aggregate(n=Max("number"))["n"] or 0


def revision_status(revision: Revision) -> str:
    """Return the status of `revision`: draft, in_review, approved, changes_requested or superseded.

    An approved revision stays "approved" when newer revisions follow; any other
    revision that is not the latest is "superseded".
    """
    is_latest = revision.number >= _latest_number(revision.plan_id)
    return _derive(_decisions(revision), is_latest=is_latest)


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
    latest = _latest_number(plan)
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


def approval_of(revision: Revision) -> Review | None:
    """Return the approval of `revision`, or None when it has none."""
    return revision.reviews.filter(decision=Review.Decision.APPROVED).order_by("created", "id").first()


# ---------------------------------------------------------------------------
# Rendering and re-checking stored data


def finding_codes(findings: Iterable[Finding]) -> list[str]:
    """Return the sorted, distinct codes of `findings`."""
    return sorted({f.code for f in findings})


def _source(name: str, plan: Plan, number: int | None) -> bundle.Source:
    # The revision's own plan name, not Plan.name: the draft (and so Plan.name)
    # moves on, and a re-render must reproduce the bytes on record.
    return bundle.Source(name, str(plan.code), number, wizard.__version__)


def _listed(findings: Iterable[Finding]) -> str:
    return "; ".join(f"{f.field}: {f.message}" for f in findings)


def _build(plan_data: Any, plan: Plan, number: int | None, findings: list[Finding]) -> Any:
    """Return the bundle of `plan_data` as revision `number` (None: the draft) of `plan`.

    `findings` are those of the stored (normalised) document: the runbook lists
    them, so saving and re-rendering must pass the same ones to get the same bytes.
    """
    return bundle.build_bundle(plan_data, source=_source(plan_data.name, plan, number), findings=list(findings))


@dataclass(frozen=True)
class RecheckResult:
    """A stored revision run through today's reader, rules and renderer."""

    findings: tuple[Finding, ...]
    new_codes: tuple[str, ...]
    resolved_codes: tuple[str, ...]
    bundle: Any = None  # wizard.bundle.Bundle, or None when it no longer renders
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
        problem = "Today's checks find errors in this revision: " + _listed(errors)
    else:
        try:
            rendered = _build(plan_data, revision.plan, revision.number, findings)
        except bundle.PlanRejected as exc:
            problem = "Today's tool refuses to render this revision: " + _listed(exc.errors)
        except bundle.VerificationFailed as exc:
            problem = f"Today's tool renders scripts for this revision that fail verification: {exc}"
    return RecheckResult(findings=tuple(findings), new_codes=new, resolved_codes=resolved, bundle=rendered,
                         problem=problem.strip(), recorded_sha256=revision.bundle_sha256)


def render_revision(revision: Revision) -> Any:
    """Return today's bundle of `revision`; raise BundleChanged when it no longer renders."""
    result = recheck(revision)
    if result.bundle is None:
        raise BundleChanged(result.problem or "This revision no longer renders.")
    return result.bundle


# ---------------------------------------------------------------------------
# Rules shared by the services


def _lock(plan: Plan) -> Plan:
    """Return the plan row, locked until the end of the transaction."""
    return Plan.objects.select_for_update().get(pk=plan.pk)


def _fresh(revision: Revision, plan: Plan) -> Revision:
    rev = Revision.objects.get(pk=revision.pk)
    rev.plan = plan
    return rev


def _can_see(user: Any, plan: Plan) -> bool:
    return access.plans_visible_to(user).filter(pk=plan.pk).exists()


def _require_editor(user: Any, plan: Plan) -> None:
    if not (_can_see(user, plan) and access.can_edit(user, plan)):
        raise PermissionDenied("You need edit access to this plan.")


def _require_reviewer(user: Any, plan: Plan, revision: Revision) -> None:
    if not (_can_see(user, plan) and access.can_review(user)):
        raise PermissionDenied("Only a reviewer may approve or request changes.")
    if revision.created_by_id == user.pk:
        raise SelfReview("The author of a revision cannot review it: another reviewer has to.")


def _require_latest(plan: Plan, revision: Revision) -> None:
    latest = _latest_number(plan)
    if revision.number < latest:
        raise Superseded(f"Revision {revision.number} has been superseded by revision {latest}: "
                         f"only the latest revision can be reviewed.")


def may_comment(user: Any, plan: Plan, *, can_edit: bool) -> bool:
    """Return True when `user` (who can see `plan`) may comment: editors and reviewers."""
    return can_edit or access.can_review(user)


def may_comment_on(user: Any, plan: Plan) -> bool:
    """Return True when `user` (who can see `plan`) may comment on it."""
    return may_comment(user, plan, can_edit=access.can_edit(user, plan))


def may_review(user: Any, revision: Revision) -> bool:
    """Return True when `user` holds the reviewer role and is not the author of `revision`."""
    return access.can_review(user) and revision.created_by_id != user.pk


def may_share(user: Any, plan: Plan) -> bool:
    """Return True when `user` may change who `plan` is shared with: its owner only."""
    return plan.owner_id == getattr(user, "pk", None)


@dataclass(frozen=True)
class Actions:
    """What a user may do with a revision right now (the page shows only these buttons)."""

    submit: bool = False
    approve: bool = False
    request_changes: bool = False
    comment: bool = False
    download: bool = False


def allowed_actions(revision: Revision, user: Any, *, can_edit: bool, status: str | None = None) -> Actions:
    """Return the actions `user` may take on `revision` (who can see its plan)."""
    status = status or revision_status(revision)
    reviewer = may_review(user, revision)
    return Actions(
        submit=can_edit and status in (Status.DRAFT, Status.CHANGES_REQUESTED),
        approve=reviewer and status == Status.IN_REVIEW,
        request_changes=reviewer and status == Status.IN_REVIEW,
        comment=may_comment(user, revision.plan, can_edit=can_edit),
        download=status == Status.APPROVED,
    )


# ---------------------------------------------------------------------------
# Services


@transaction.atomic
def save_revision(plan: Plan, *, by: Any, message: str, ip: str | None = None) -> Revision:
    """Validate the stored draft again and save it as the next immutable revision.

    Raise DraftInvalid when the draft has error findings, NothingChanged when it
    equals the latest revision, PermissionDenied without edit access.
    """
    locked = _lock(plan)
    _require_editor(by, locked)
    message = (message or "").strip()
    if not message:
        raise ReviewRefused("Say what changed in this revision: a message is required.")
    plan_data, draft_findings = engine.assess(locked.draft)
    if plan_data is None or any(f.severity == "error" for f in draft_findings):
        raise DraftInvalid(draft_findings)
    data = plan_to_dict(plan_data)
    # Findings of the normalised document: exactly what a later re-check computes, so the
    # banner only appears when the rules (not the normalisation notes) changed, and the
    # runbook (which lists them) renders to the same bytes again.
    _, data_findings = engine.assess(data)
    codes = finding_codes(data_findings)
    previous = latest_revision(locked)
    number = (previous.number if previous else 0) + 1
    if previous and previous.data == data and previous.tool_version == wizard.__version__ \
            and list(previous.finding_codes) == codes and recheck(previous).hash_matches:
        raise NothingChanged(f"The draft has not changed since revision {previous.number}.")
    try:
        rendered = _build(plan_data, locked, number, data_findings)
    except bundle.PlanRejected as exc:
        raise DraftInvalid(exc.findings) from None
    except bundle.VerificationFailed as exc:
        raise ReviewRefused(f"The scripts rendered from the draft fail verification, so it cannot become a "
                            f"revision: {exc}") from None
    # --- estate (issue 15): the revision keeps the state file it was judged against ---
    state = estate.latest_state(locked)
    # --- end estate ---
    revision = Revision(plan=locked, number=number, message=message, data=data,
                        bundle_sha256=rendered.sha256, tool_version=wizard.__version__, finding_codes=codes,
                        created_by=by, state=state)
    revision.full_clean()
    revision.save()
    audit.record(AuditEvent.Action.REVISION_SAVED, plan=locked, actor=by, ip=ip, revision=number,
                 bundle_sha256=rendered.sha256, message=revision.message)
    return revision


@transaction.atomic
def submit_for_review(revision: Revision, *, by: Any, ip: str | None = None) -> Review:
    """Ask for review of the latest revision (a draft one, or one with changes requested)."""
    plan = _lock(revision.plan)
    rev = _fresh(revision, plan)
    _require_editor(by, plan)
    _require_latest(plan, rev)
    status = revision_status(rev)
    if status not in (Status.DRAFT, Status.CHANGES_REQUESTED):
        raise WrongState(f"Revision {rev.number} is {status_label(status).lower()}: it cannot be submitted.")
    if render_revision(rev).sha256 != rev.bundle_sha256:
        raise BundleChanged(f"Revision {rev.number} renders differently with this version of the tool: "
                            f"save a new revision and submit that.")
    review = Review(revision=rev, actor=by, decision=Review.Decision.SUBMITTED, comment="",
                    bundle_sha256=rev.bundle_sha256)
    review.full_clean()
    review.save()
    audit.record(AuditEvent.Action.SUBMITTED, plan=plan, actor=by, ip=ip, revision=rev.number,
                 bundle_sha256=rev.bundle_sha256)
    return review


@transaction.atomic
def approve(revision: Revision, *, by: Any, comment: str = "", ip: str | None = None) -> Review:
    """Approve the latest revision, in review, for exactly the bundle hash on record.

    The revision is re-rendered first: when today's bytes differ from the hash
    (the tool or the data changed), or today's checks find new things, the
    approval is refused and a new revision is needed.
    """
    plan = _lock(revision.plan)
    rev = _fresh(revision, plan)
    _require_reviewer(by, plan, rev)
    _require_latest(plan, rev)
    status = revision_status(rev)
    if status == Status.APPROVED:
        raise WrongState(f"Revision {rev.number} is already approved.")
    if status != Status.IN_REVIEW:
        raise WrongState(f"Revision {rev.number} is {status_label(status).lower()}: only a revision submitted "
                         f"for review can be approved.")
    result = recheck(rev)
    # New findings first: they also change the runbook (and so the hash), and this
    # message says what is new.
    if result.new_codes:
        raise NewFindings(f"Today's checks find {', '.join(result.new_codes)} in revision {rev.number}, which it "
                          f"did not have when it was saved. Ask the author to save a new revision.")
    if result.bundle is None:
        raise BundleChanged(result.problem or f"Revision {rev.number} no longer renders.")
    if not result.hash_matches:
        raise BundleChanged(f"Revision {rev.number} now renders to different scripts (SHA-256 "
                            f"{result.bundle_sha256[:12]}..., on record {rev.bundle_sha256[:12]}...): the tool "
                            f"changed since it was saved. Ask the author to save a new revision.")
    review = Review(revision=rev, actor=by, decision=Review.Decision.APPROVED, comment=(comment or "").strip(),
                    bundle_sha256=rev.bundle_sha256)
    review.full_clean()
    review.save()
    audit.record(AuditEvent.Action.APPROVED, plan=plan, actor=by, ip=ip, revision=rev.number,
                 bundle_sha256=rev.bundle_sha256, finding_codes=list(rev.finding_codes))
    return review


@transaction.atomic
def request_changes(revision: Revision, *, by: Any, comment: str, ip: str | None = None) -> Review:
    """Send the latest revision, in review, back to its author with a comment saying what to change."""
    plan = _lock(revision.plan)
    rev = _fresh(revision, plan)
    _require_reviewer(by, plan, rev)
    _require_latest(plan, rev)
    comment = (comment or "").strip()
    if not comment:
        raise ReviewRefused("Say what needs to change: a comment is required.")
    status = revision_status(rev)
    if status != Status.IN_REVIEW:
        raise WrongState(f"Revision {rev.number} is {status_label(status).lower()}: changes can only be requested "
                         f"on a revision in review.")
    review = Review(revision=rev, actor=by, decision=Review.Decision.CHANGES_REQUESTED, comment=comment,
                    bundle_sha256=rev.bundle_sha256)
    review.full_clean()
    review.save()
    audit.record(AuditEvent.Action.CHANGES_REQUESTED, plan=plan, actor=by, ip=ip, revision=rev.number,
                 bundle_sha256=rev.bundle_sha256)
    return review


@transaction.atomic
def add_comment(plan: Plan, *, by: Any, body: str, revision: Revision | None = None,
                ip: str | None = None) -> Comment:
    """Add a comment to `plan`, or to one of its revisions; editors and reviewers may comment."""
    if not _can_see(by, plan):
        raise PermissionDenied("You cannot see this plan.")
    if not may_comment_on(by, plan):
        raise PermissionDenied("Read-only access: only editors and reviewers may comment.")
    if revision is not None and revision.plan_id != plan.pk:
        raise ValueError("the revision belongs to another plan")
    body = (body or "").strip()
    if not body:
        raise ReviewRefused("A comment cannot be empty.")
    if len(body) > COMMENT_MAX:
        raise ReviewRefused(f"A comment can be at most {COMMENT_MAX} characters long.")
    comment = Comment(plan=plan, revision=revision, author=by, body=body)
    comment.full_clean()
    comment.save()
    audit.record(AuditEvent.Action.COMMENTED, plan=plan, actor=by, ip=ip,
                 revision=revision.number if revision else None, comment=comment.pk)
    return comment


@transaction.atomic
def share_plan(plan: Plan, *, by: Any, group: Group, can_edit: bool, ip: str | None = None) -> PlanShare:
    """Share `plan` with a team (read-only or with edit access); only the owner may."""
    locked = _lock(plan)
    if not may_share(by, locked):
        raise PermissionDenied("Only the owner of a plan may change who it is shared with.")
    share = PlanShare.objects.filter(plan=locked, group=group).first() or PlanShare(plan=locked, group=group)
    share.can_edit = bool(can_edit)
    share.full_clean(validate_unique=False)
    share.save()
    audit.record(AuditEvent.Action.SHARED, plan=locked, actor=by, ip=ip, group=group.name,
                 access="edit" if can_edit else "read")
    return share


@transaction.atomic
def unshare_plan(plan: Plan, *, by: Any, group: Group, ip: str | None = None) -> None:
    """Stop sharing `plan` with a team; only the owner may."""
    locked = _lock(plan)
    if not may_share(by, locked):
        raise PermissionDenied("Only the owner of a plan may change who it is shared with.")
    deleted, _ = PlanShare.objects.filter(plan=locked, group=group).delete()
    if deleted:
        audit.record(AuditEvent.Action.SHARED, plan=locked, actor=by, ip=ip, group=group.name, access="none")


# ---------------------------------------------------------------------------
# The approved download


@dataclass(frozen=True)
class Download:
    """A file to send: its name and bytes."""

    filename: str
    content: bytes


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
        "author": revision.created_by.get_username(),
        "saved_at": revision.created.isoformat(),
        "submitted_by": submitted.actor.get_username() if submitted else None,
        "submitted_at": submitted.created.isoformat() if submitted else None,
        "approved_by": approval.actor.get_username(),
        "approved_by_name": approval.actor.get_full_name(),
        "approved_at": approval.created.isoformat(),
        "comment": approval.comment,
        "bundle_sha256": approval.bundle_sha256,
        "tool_version": revision.tool_version,
        "finding_codes": list(revision.finding_codes),
    }


@transaction.atomic
def download_approved(revision: Revision, *, by: Any, ip: str | None = None) -> Download:
    """Return the approved bundle as a zip with APPROVAL.json, re-rendered and checked against the hash.

    Raise NotApproved without an approval and BundleChanged when today's bytes
    are not the approved ones.
    """
    plan = revision.plan
    if not _can_see(by, plan):
        raise PermissionDenied("You cannot see this plan.")
    approval = approval_of(revision)
    if approval is None:
        raise NotApproved(f"Revision {revision.number} is not approved: there is no approved bundle to download.")
    rendered = render_revision(revision)
    if rendered.sha256 != approval.bundle_sha256:
        raise BundleChanged(f"Revision {revision.number} now renders to different scripts than the ones approved "
                            f"(SHA-256 {rendered.sha256[:12]}..., approved {approval.bundle_sha256[:12]}...). "
                            f"The approved bundle cannot be reproduced: save a new revision and have it approved.")
    record = approval_record(revision, approval)
    extra = {APPROVAL_FILE: (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")}
    content = bundle.bundle_zip(rendered, extra=extra)
    audit.record(AuditEvent.Action.DOWNLOADED, plan=plan, actor=by, ip=ip, revision=revision.number,
                 bundle_sha256=approval.bundle_sha256, file="approved-zip")
    return Download(filename=f"{bundle.download_slug(record['plan'])}-r{revision.number}-approved.zip", content=content)


# ---------------------------------------------------------------------------
# Read-side helpers for the pages


def _label(path: str, doc: Any = None) -> str:
    return diffs.label_for_path(path, doc)


@dataclass(frozen=True)
class Setting:
    """One setting of a stored plan, for the summary table."""

    path: str
    label: str
    value: str


def settings_summary(data: dict[str, Any]) -> list[Setting]:
    """Return every leaf setting of a plan document with its label, in document order."""
    return [Setting(path, _label(path, data), diffs.show_value(value)) for path, value in diffs.flatten(data).items()
            if path != "format"]


@dataclass(frozen=True)
class ScriptText:
    """One rendered file of a revision: its text and its highlighted HTML."""

    name: str
    text: str
    html: str


@dataclass(frozen=True)
class RevisionPage:
    """Everything the revision page shows."""

    revision: Revision
    status: str
    status_label: str
    is_latest: bool
    latest_number: int
    settings: list[Setting]
    check: RecheckResult
    reviews: list[Review]
    comments: list[Comment]
    actions: Actions
    approval: Review | None
    scripts: list[ScriptText] = field(default_factory=list)


def revision_page(revision: Revision, *, user: Any, can_edit: bool) -> RevisionPage:
    """Return the revision page's content for `user` (who can see the plan)."""
    status = revision_status(revision)
    check = recheck(revision)
    latest = _latest_number(revision.plan_id)
    return RevisionPage(
        revision=revision, status=status, status_label=status_label(status), is_latest=revision.number >= latest,
        latest_number=latest, settings=settings_summary(revision.data), check=check,
        reviews=list(revision.reviews.select_related("actor").order_by("created", "id")),
        comments=list(revision.comments.select_related("author").order_by("created", "id")),
        actions=allowed_actions(revision, user, can_edit=can_edit, status=status), approval=approval_of(revision),
        scripts=[ScriptText(name, text, highlight_file(name, text)) for name, text in check.bundle.texts.items()]
        if check.bundle is not None else [],
    )


@dataclass(frozen=True)
class RevisionRow:
    """One line of the revisions list."""

    revision: Revision
    status: str
    status_label: str


def revision_rows(plan: Plan) -> list[RevisionRow]:
    """Return the plan's revisions, newest first, with their statuses."""
    statuses = revision_statuses(plan)
    rows = []
    for revision in plan.revisions.select_related("created_by").order_by("-number"):
        revision.plan = plan  # get_absolute_url needs the plan's code: no query per row
        rows.append(RevisionRow(revision, statuses[revision.number], status_label(statuses[revision.number])))
    return rows


def plan_comments(plan: Plan) -> QuerySet[Comment]:
    """Return the comments on the plan itself (not on a revision), oldest first."""
    return plan.comments.filter(revision__isnull=True).select_related("author").order_by("created", "id")


def audit_trail(plan: Plan) -> QuerySet[AuditEvent]:
    """Return the plan's audit rows, newest first."""
    return plan.audit_events.select_related("actor").order_by("-created", "-id")


@dataclass(frozen=True)
class DraftCheck:
    """The stored draft, re-validated: what a revision saved now would hold."""

    findings: list[Finding]
    errors: list[Finding]
    data: dict[str, Any] | None
    changes: list[diffs.FieldChange]
    latest: Revision | None


def draft_changed(plan: Plan) -> bool:
    """Return True when the draft holds settings its latest revision does not (or there is no revision)."""
    latest = latest_revision(plan)
    if latest is None:
        return True
    plan_data, _ = engine.assess(plan.draft)
    current = plan_to_dict(plan_data) if plan_data is not None else plan.draft
    return current != latest.data


def check_draft(plan: Plan) -> DraftCheck:
    """Return the draft's findings and its settings diff against the latest revision."""
    plan_data, findings = engine.assess(plan.draft)
    errors = [f for f in findings if f.severity == "error"]
    data = plan_to_dict(plan_data) if plan_data is not None else None
    latest = latest_revision(plan)
    changes = diffs.diff_data(latest.data if latest else None, data if data is not None else plan.draft,
                              labeller=_label)
    return DraftCheck(findings=list(findings), errors=errors, data=data, changes=changes, latest=latest)


# ---------------------------------------------------------------------------
# Comparing two versions of a plan


def _side(plan: Plan, ref: int | str) -> tuple[str, dict[str, Any] | None, dict[str, str] | None, str]:
    """Return (label, document, script texts, note) for a revision number or "draft"."""
    if ref == DRAFT:
        plan_data, findings = engine.assess(plan.draft)
        if plan_data is None or any(f.severity == "error" for f in findings):
            return "draft", dict(plan.draft), None, "The draft has errors, so its scripts cannot be rendered."
        data = plan_to_dict(plan_data)
        try:
            rendered = _build(plan_data, plan, None, engine.assess(data)[1])
        except (bundle.PlanRejected, bundle.VerificationFailed):
            return "draft", data, None, "The draft's scripts cannot be rendered."
        return "draft", data, dict(rendered.texts), ""
    revision = plan.revisions.get(number=int(ref))
    result = recheck(revision)
    texts = dict(result.bundle.texts) if result.bundle is not None else None
    note = "" if texts is not None else f"Revision {revision.number}: {result.problem}"
    return f"r{revision.number}", dict(revision.data), texts, note


@dataclass(frozen=True)
class Comparison:
    """A plan diff plus what could not be compared."""

    diff: diffs.PlanDiff
    notes: list[str]


def compare(plan: Plan, old: int | str, new: int | str) -> Comparison:
    """Return the settings and script differences between two revisions, or a revision and the draft.

    Raise Revision.DoesNotExist for a revision number the plan does not have.
    """
    old_label, old_data, old_texts, old_note = _side(plan, old)
    new_label, new_data, new_texts, new_note = _side(plan, new)
    settings = diffs.diff_data(old_data, new_data, labeller=_label)
    scripts = diffs.diff_scripts(old_texts, new_texts, old_label=old_label, new_label=new_label) \
        if old_texts is not None and new_texts is not None else []
    return Comparison(diff=diffs.PlanDiff(old_label=old_label, new_label=new_label, settings=settings,
                                          scripts=scripts),
                      notes=[n for n in (old_note, new_note) if n])


def default_comparison(plan: Plan) -> tuple[int | str, int | str] | None:
    """Return the pair the diff page shows first: the latest revision against the draft."""
    latest = latest_revision(plan)
    return (latest.number, DRAFT) if latest else None

