"""Change review's state changes: saving revisions, the four-eyes review trail,
comments, sharing and the approved download.

Every state change is one function here, with keyword-only arguments: one
transaction that locks the plan row, checks the rules (`wizard.review.access`),
calls `full_clean()` before `save()` and writes its audit row. The services that
render a bundle (save_revision, submit_for_review, approve, download_approved)
render first, with no lock held, and open their transaction only to re-check and
write: rendering takes about a second for a large plan, and SQLite's write lock
would make every autosave wait for it. The others are `@transaction.atomic`.
What the pages read (status, re-checks, page content) is in `wizard.review.state`
and `wizard.review.pages`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction

import wizard
from wizard.models import AuditEvent, Comment, Plan, PlanShare, PlanState, Review, Revision
from wizard.plan import engine
from wizard.plan.finding import Finding
from wizard.plan.writer import plan_to_dict
from wizard.review import access, audit, diffs, estate
from wizard.review.state import (
    APPROVAL_FILE,
    Status,
    approval_file,
    approval_of,
    approval_record,
    build_revision_bundle,
    finding_codes,
    latest_approved,
    latest_number,
    latest_revision,
    recheck,
    revision_status,
    status_label,
)
from wizard.scripts import bundle

COMMENT_MAX = 5000

# Raised by access.require_reviewer for the author of a revision; callers catch it from here too.
SelfReview = access.SelfReview


class ReviewRefused(Exception):
    """The rules refuse the action; the message says why, for the person who tried."""


class DraftInvalid(ReviewRefused):
    """The draft cannot become a revision: it does not read as a plan or has error findings."""

    def __init__(self, findings: list[Finding], doc: Any = None) -> None:
        self.findings = [f for f in findings if f.severity == "error"] or list(findings)
        # The form's labels ("Pool lyncpool01 › Site"), not plan paths: this is read by an admin.
        listed = "; ".join(f"{diffs.label_for_path(f.field, doc)}: {f.message}" for f in self.findings)
        super().__init__(f"The draft has errors, so it cannot become a revision: {listed}")


class DraftChanged(ReviewRefused):
    """The draft moved on since the version the saver looked at."""


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


# ---------------------------------------------------------------------------
# Rules shared by the services


def _lock(plan: Plan) -> Plan:
    """Return the plan row, locked until the end of the transaction (404 when it is gone)."""
    return access.lock_plan(plan)


def _fresh(revision: Revision, plan: Plan) -> Revision:
    rev = Revision.objects.get(pk=revision.pk)
    rev.plan = plan
    return rev


def _refuse_unless_latest(plan: Plan, revision: Revision) -> None:
    latest = latest_number(plan)
    if revision.number < latest:
        raise Superseded(f"Revision {revision.number} has been superseded by revision {latest}: "
                         f"only the latest revision can be reviewed.")


def _names(user: Any) -> dict[str, str]:
    """Return a Review row's record of who wrote it, as APPROVAL.json states it (never changed by a later rename)."""
    return {"actor_username": user.get_username(), "actor_name": user.get_full_name()}


def render_revision(revision: Revision) -> Any:
    """Return today's bundle of `revision`; raise BundleChanged when it no longer renders."""
    result = recheck(revision)
    if result.bundle is None:
        raise BundleChanged(result.problem or "This revision no longer renders.")
    return result.bundle


# ---------------------------------------------------------------------------
# Services


@dataclass(frozen=True)
class _Prepared:
    """A draft rendered as the next revision, before the plan is locked."""

    number: int
    previous_pk: int | None
    data: dict[str, Any]
    codes: list[str]
    sha256: str


def _prepare_revision(plan: Plan, *, draft_version: int) -> _Prepared:
    """Validate and render the stored draft at `draft_version` as the next revision (no lock held).

    Raise DraftChanged when the draft is no longer at that version, DraftInvalid or
    ReviewRefused when it cannot become a revision, NothingChanged when it equals the
    latest revision.
    """
    fresh = Plan.objects.get(pk=plan.pk)
    if fresh.draft_version != draft_version:
        raise DraftChanged(f"The draft changed since you looked at it (you saw version {draft_version}, it is now "
                           f"at version {fresh.draft_version}): look at the changes again, then save.")
    plan_data, draft_findings = engine.assess(fresh.draft)
    if plan_data is None or any(f.severity == "error" for f in draft_findings):
        raise DraftInvalid(draft_findings, fresh.draft)
    data = plan_to_dict(plan_data)
    # Findings of the normalised document: exactly what a later re-check computes, so the
    # banner only appears when the rules (not the normalisation notes) changed, and the
    # runbook (which lists them) renders to the same bytes again.
    _, data_findings = engine.assess(data)
    codes = finding_codes(data_findings)
    previous = latest_revision(fresh)
    number = (previous.number if previous else 0) + 1
    if previous and previous.data == data and previous.tool_version == wizard.__version__ \
            and list(previous.finding_codes) == codes and recheck(previous).hash_matches:
        raise NothingChanged(f"The draft has not changed since revision {previous.number}.")
    try:
        rendered = build_revision_bundle(plan_data, fresh, number, data_findings)
    except bundle.PlanRejected as exc:
        raise DraftInvalid(exc.findings, fresh.draft) from None
    except bundle.VerificationFailed as exc:
        raise ReviewRefused(f"The scripts rendered from the draft fail verification, so it cannot become a "
                            f"revision: {exc}") from None
    return _Prepared(number=number, previous_pk=previous.pk if previous else None, data=data, codes=codes,
                     sha256=rendered.sha256)


_DRAFT_ACTIONS = (AuditEvent.Action.CREATED, AuditEvent.Action.IMPORTED, AuditEvent.Action.DRAFT_SAVED)


def _contributors(plan: Plan, *, upto_version: int, saver: Any, state: PlanState | None = None,
                  below: int | None = None) -> set[int]:
    """Return the ids of everyone whose content a revision of `plan` at `upto_version` holds: the authors
    of its draft saves, and the uploaders of the state file it is judged against (`state`).

    Counted from the latest revision whose approval is in force (numbered below `below`, when
    counting for an existing revision): what it held was reviewed by someone else. With none,
    from the plan's creation; a plan's creation or import counts as version 1. The saver is
    always one of them.
    """
    approved = _covering_approval(plan, below=below)
    since = approved.draft_version if approved is not None else 0
    ids = {saver.pk}
    rows = AuditEvent.objects.filter(plan=plan, action__in=_DRAFT_ACTIONS, actor__isnull=False)
    for actor_id, action, detail in rows.values_list("actor_id", "action", "detail"):
        version = detail.get("version") if isinstance(detail, dict) else None
        if not isinstance(version, int):
            if action != AuditEvent.Action.DRAFT_SAVED:
                version = 1  # the plan's creation or import made its first draft version
            else:
                ids.add(actor_id)  # a draft save of unknown version: count it, to be safe
                continue
        if since < version <= upto_version:
            ids.add(actor_id)
    ids |= _state_uploaders(plan, state, reviewed=approved.state_id if approved is not None else None)
    return ids


def _covering_approval(plan: Plan, *, below: int | None = None) -> Revision | None:
    """Return the newest revision (numbered below `below`, if given) whose approval in force was given by
    someone who contributed nothing to it: what it held was reviewed by someone else. An approval by a
    contributor (possible once an approval it relied on was withdrawn) covers nothing."""
    approved = latest_approved(plan, below=below)
    while approved is not None:
        approval = approval_of(approved)
        if approval is not None and not access.is_contributor(approval.actor, approved):
            return approved
        approved = latest_approved(plan, below=approved.number)
    return None


def unreviewed_import(revision: Revision) -> AuditEvent | None:
    """Return the audit row of the import that made `revision`'s plan when the revision still holds the
    imported file unreviewed (no approval in force below it covers the plan's first version), else None.

    The tool counts the importer as the author of an imported plan: who wrote or edited the file
    outside the tool is not known to it, so the revision page says so to whoever reviews it.
    """
    row = (AuditEvent.objects.filter(plan=revision.plan, action=AuditEvent.Action.IMPORTED)
           .select_related("actor").order_by("created", "id").first())
    if row is None or _covering_approval(revision.plan, below=revision.number) is not None:
        return None
    return row


def _state_uploaders(plan: Plan, state: PlanState | None, *, reviewed: int | None) -> set[int]:
    """Return who uploaded `state` and, for a merged state, the states it was merged from; a state an
    approved revision already held (`reviewed`) was reviewed with it and is not counted again."""
    ids: set[int] = set()
    seen: set[int] = set()
    pk = state.pk if state is not None else None
    while pk is not None and pk != reviewed and pk not in seen:
        seen.add(pk)
        row = (AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.STATE_UPLOADED, detail__state=pk)
               .values_list("actor_id", "detail").first())
        uploader = PlanState.objects.filter(pk=pk).values_list("uploaded_by_id", flat=True).first()
        if uploader is not None:
            ids.add(uploader)
        if row is None:
            break
        actor_id, detail = row
        if actor_id is not None:
            ids.add(actor_id)
        merged = detail.get("merged_with") if isinstance(detail, dict) else None
        pk = merged if isinstance(merged, int) else None
    return ids


def save_revision(plan: Plan, *, by: Any, message: str, draft_version: int, ip: str | None = None) -> Revision:
    """Validate the stored draft at `draft_version` (the one the saver looked at) and save it as the next
    immutable revision, recording everyone whose draft saves it holds.

    The draft is validated and rendered first, with no lock held; then one transaction
    locks the plan, checks again that the draft and the latest revision are still the
    ones rendered, and writes the revision with its audit row.

    Raise DraftChanged when the draft moved on since `draft_version`, DraftInvalid when
    it has error findings, NothingChanged when it equals the latest revision, a 403
    (from wizard.review.access) without edit access.
    """
    access.require_editor(by, plan)
    message = (message or "").strip()
    if not message:
        raise ReviewRefused("Say what changed in this revision: a message is required.")
    prepared = _prepare_revision(plan, draft_version=draft_version)
    with transaction.atomic():
        locked = _lock(plan)
        access.require_editor(by, locked)
        if locked.draft_version != draft_version:
            raise DraftChanged(f"The draft changed while the revision was being prepared (it is now at version "
                               f"{locked.draft_version}): look at the changes again, then save.")
        previous = latest_revision(locked)
        if (previous.pk if previous else None) != prepared.previous_pk:
            if previous is not None and previous.data == prepared.data:
                raise NothingChanged(f"The draft has not changed since revision {previous.number}.")
            raise ReviewRefused(f"Revision {previous.number if previous else 0} was saved meanwhile: look at the "
                                f"revisions again, then save.")
        # The revision keeps the state file it was judged against (issue 15); its uploaders count too.
        state = estate.latest_state(locked)
        contributors = _contributors(locked, upto_version=draft_version, saver=by, state=state)
        revision = Revision(plan=locked, number=prepared.number, message=message, data=prepared.data,
                            bundle_sha256=prepared.sha256, tool_version=wizard.__version__,
                            finding_codes=prepared.codes, created_by=by, created_by_username=by.get_username(),
                            draft_version=draft_version,
                            state=state)
        revision.full_clean()
        revision.save()
        revision.contributors.set(contributors)
        audit.record(AuditEvent.Action.REVISION_SAVED, plan=locked, actor=by, ip=ip, revision=prepared.number,
                     bundle_sha256=prepared.sha256, message=revision.message, draft_version=draft_version,
                     contributors=sorted(contributors))
    return revision


def submit_for_review(revision: Revision, *, by: Any, ip: str | None = None) -> Review:
    """Ask for review of the latest revision (a draft one, or one with changes requested).

    The revision is re-rendered first, with no lock held; the state is checked under the lock.
    """
    access.require_editor(by, revision.plan)
    rendered = recheck(revision)
    with transaction.atomic():
        plan = _lock(revision.plan)
        rev = _fresh(revision, plan)
        access.require_editor(by, plan)
        _refuse_unless_latest(plan, rev)
        status = revision_status(rev)
        if status not in (Status.DRAFT, Status.CHANGES_REQUESTED, Status.WITHDRAWN):
            raise WrongState(f"Revision {rev.number} is {status_label(status).lower()}: it cannot be submitted.")
        if rendered.bundle is None:
            raise BundleChanged(rendered.problem or f"Revision {rev.number} no longer renders.")
        if rendered.bundle_sha256 != rev.bundle_sha256:
            raise BundleChanged(f"Revision {rev.number} renders differently with this version of the tool: "
                                f"save a new revision and submit that.")
        review = Review(revision=rev, actor=by, **_names(by), decision=Review.Decision.SUBMITTED, comment="",
                        bundle_sha256=rev.bundle_sha256)
        review.full_clean()
        review.save()
        audit.record(AuditEvent.Action.SUBMITTED, plan=plan, actor=by, ip=ip, revision=rev.number,
                     bundle_sha256=rev.bundle_sha256)
    return review


def approve(revision: Revision, *, by: Any, comment: str = "", ip: str | None = None) -> Review:
    """Approve the latest revision, in review, for exactly the bundle hash on record.

    The revision is re-rendered first, with no lock held (its data is immutable): when
    today's bytes differ from the hash (the tool or the data changed), or today's checks
    find new things, the approval is refused and a new revision is needed. Then one
    transaction locks the plan, checks the roles and the state again and writes.
    """
    access.require_reviewer(by, revision.plan, revision)
    result = recheck(revision)
    with transaction.atomic():
        plan = _lock(revision.plan)
        rev = _fresh(revision, plan)
        access.require_reviewer(by, plan, rev)
        _refuse_unless_latest(plan, rev)
        status = revision_status(rev)
        if status == Status.APPROVED:
            raise WrongState(f"Revision {rev.number} is already approved.")
        if status != Status.IN_REVIEW:
            raise WrongState(f"Revision {rev.number} is {status_label(status).lower()}: only a revision submitted "
                             f"for review can be approved.")
        # New findings first: they also change the runbook (and so the hash), and this
        # message says what is new.
        if result.new_codes:
            raise NewFindings(f"Today's checks find {', '.join(result.new_codes)} in revision {rev.number}, which "
                              f"it did not have when it was saved. Ask the author to save a new revision.")
        if result.bundle is None:
            raise BundleChanged(result.problem or f"Revision {rev.number} no longer renders.")
        if not result.hash_matches:
            raise BundleChanged(f"Revision {rev.number} now renders to different scripts (SHA-256 "
                                f"{result.bundle_sha256[:12]}..., on record {rev.bundle_sha256[:12]}...): the "
                                f"tool changed since it was saved. Ask the author to save a new revision.")
        review = Review(revision=rev, actor=by, **_names(by), decision=Review.Decision.APPROVED,
                        comment=(comment or "").strip(), bundle_sha256=rev.bundle_sha256)
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
    access.require_reviewer(by, plan, rev)
    _refuse_unless_latest(plan, rev)
    comment = (comment or "").strip()
    if not comment:
        raise ReviewRefused("Say what needs to change: a comment is required.")
    status = revision_status(rev)
    if status != Status.IN_REVIEW:
        raise WrongState(f"Revision {rev.number} is {status_label(status).lower()}: changes can only be requested "
                         f"on a revision in review.")
    review = Review(revision=rev, actor=by, **_names(by), decision=Review.Decision.CHANGES_REQUESTED,
                    comment=comment, bundle_sha256=rev.bundle_sha256)
    review.full_clean()
    review.save()
    audit.record(AuditEvent.Action.CHANGES_REQUESTED, plan=plan, actor=by, ip=ip, revision=rev.number,
                 bundle_sha256=rev.bundle_sha256)
    return review


@transaction.atomic
def withdraw_approval(revision: Revision, *, by: Any, comment: str, ip: str | None = None,
                      approval_id: int | None = None) -> Review:
    """Withdraw the approval in force of `revision`, saying why; its approved bundle can no longer be
    downloaded. Any reviewer who may review the revision may withdraw it (the approver included).

    `approval_id` is the approval the person read (the web page always names it): when the one in force is
    another (that one was withdrawn and the revision approved again since), nothing is withdrawn, so a
    comment written about one approval never withdraws a later one unread."""
    plan = _lock(revision.plan)
    rev = _fresh(revision, plan)
    access.require_reviewer(by, plan, rev)
    comment = (comment or "").strip()
    if not comment:
        raise ReviewRefused("Say why the approval is withdrawn: a comment is required.")
    approval = approval_of(rev)
    if approval is None:
        raise WrongState(f"Revision {rev.number} has no approval in force to withdraw.")
    if approval_id is not None and approval.pk != approval_id:
        raise WrongState(f"The approval you read was withdrawn meanwhile, and revision {rev.number} was approved "
                         f"again by {approval.actor_name or approval.actor_username}: read that approval before "
                         f"withdrawing it. Nothing was withdrawn.")
    review = Review(revision=rev, actor=by, **_names(by), decision=Review.Decision.WITHDRAWN, comment=comment,
                    bundle_sha256=approval.bundle_sha256)
    review.full_clean()
    review.save()
    added = _recount_contributors_after(plan, rev)
    also = _withdraw_approvals_by_contributors_after(plan, rev, by=by, comment=comment, ip=ip)
    audit.record(AuditEvent.Action.APPROVAL_WITHDRAWN, plan=plan, actor=by, ip=ip, revision=rev.number,
                 bundle_sha256=approval.bundle_sha256, contributors_added=added, approvals_withdrawn=also)
    return review


def _withdraw_approvals_by_contributors_after(plan: Plan, withdrawn: Revision, *, by: Any, comment: str,
                                              ip: str | None) -> list[int]:
    """Withdraw the approvals in force of the revisions saved after `withdrawn` that were given by someone the
    recount just made a contributor to them: such an approval was of the approver's own edits, which only the
    withdrawn approval had reviewed, and it must not stay in force (nor download as approved). Each gets its
    own withdrawal row and audit row; return the numbers of those revisions."""
    numbers: list[int] = []
    later_ones = Revision.objects.filter(plan=plan, number__gt=withdrawn.number).order_by("number")
    for later in later_ones:
        approval = approval_of(later)
        if approval is None or not access.is_contributor(approval.actor, later):
            continue
        row = Review(revision=later, actor=by, **_names(by), decision=Review.Decision.WITHDRAWN,
                     comment=f"Withdrawn with the approval of revision {withdrawn.number}: "
                             f"{approval.actor.get_username()} approved edits of their own that only that "
                             f"approval had reviewed. {comment}",
                     bundle_sha256=approval.bundle_sha256)
        row.full_clean()
        row.save()
        audit.record(AuditEvent.Action.APPROVAL_WITHDRAWN, plan=plan, actor=by, ip=ip, revision=later.number,
                     bundle_sha256=approval.bundle_sha256, with_revision=withdrawn.number)
        numbers.append(later.number)
    return numbers


def _recount_contributors_after(plan: Plan, withdrawn: Revision) -> dict[str, list[int]]:
    """Count again the contributors of the revisions saved after `withdrawn`, whose approval was just
    withdrawn: the edits that approval covered were left out of them, and nobody's review of those
    edits stands any more. Contributors are only ever added. Return {revision number: ids added}."""
    added: dict[str, list[int]] = {}
    # Oldest first: a later revision's count depends on whether the ones before it still cover anything.
    later_ones = (Revision.objects.filter(plan=plan, number__gt=withdrawn.number).select_related("created_by", "state")
                  .order_by("number"))
    for later in later_ones:
        counted = _contributors(plan, upto_version=later.draft_version, saver=later.created_by, state=later.state,
                                below=later.number)
        new = counted - set(later.contributors.values_list("pk", flat=True))
        if new:
            later.contributors.add(*new)
            added[str(later.number)] = sorted(new)
    return added


@transaction.atomic
def add_comment(plan: Plan, *, by: Any, body: str, revision: Revision | None = None,
                ip: str | None = None, seen: int | None = None) -> Comment:
    """Add a comment to `plan`, or to one of its revisions; editors and reviewers may comment.

    The commenter is checked with the plan row locked, as every other change is: a member the owner
    is removing at that moment comments before the removal or not at all. `seen` is the plan's latest
    comment when the form was shown (`pages.last_comment_seen`): the same text by the same person in the
    same place stored after it is this very comment sent again (a double click, a form sent twice), so it
    is returned and nothing is stored; the same words written again after the page showed them are stored.
    """
    plan = _lock(plan)
    access.require_commenter(by, plan)
    if revision is not None and revision.plan_id != plan.pk:
        raise ValueError("the revision belongs to another plan")
    body = (body or "").strip()
    if not body:
        raise ReviewRefused("A comment cannot be empty.")
    if len(body) > COMMENT_MAX:
        raise ReviewRefused(f"A comment can be at most {COMMENT_MAX} characters long.")
    if seen is not None:
        sent_twice = Comment.objects.filter(plan=plan, revision=revision, author=by, body=body, pk__gt=seen).first()
        if sent_twice is not None:
            return sent_twice
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
    access.require_sharer(by, locked)
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
    access.require_sharer(by, locked)
    deleted, _ = PlanShare.objects.filter(plan=locked, group=group).delete()
    if deleted:
        audit.record(AuditEvent.Action.SHARED, plan=locked, actor=by, ip=ip, group=group.name, access="none")


@transaction.atomic
def record_team_membership(member: Any, *, joined: Iterable[Group], left: Iterable[Group], by: Any,
                           ip: str | None = None) -> list[AuditEvent]:
    """Write a `team_changed` row on the trail of every plan whose access changes because `member` joined or
    left a team: each plan shared with the team and, for a team holding the reviewer permission, each plan
    reviewers see. Who may read, edit or approve a plan changed; its trail says so (the Django admin's own log
    is not where a plan's reviewer looks)."""
    rows = []
    for change, groups in (("joined", joined), ("left", left)):
        for group in sorted(groups, key=lambda g: g.name):
            reviewing = access.team_reviews(group)
            rows += _record_team_rows(group, reviewing=reviewing, by=by, ip=ip, member=member.get_username(),
                                      change=change, reviewers="yes" if reviewing else None)
    return rows


@transaction.atomic
def record_team_review_permission(group: Group, *, granted: bool, by: Any, ip: str | None = None) -> list[AuditEvent]:
    """Write a `team_changed` row on the trail of every plan shared with `group` or seen by reviewers, when the
    team is given the reviewer permission or loses it: its members may now approve, or no longer may."""
    members = sorted(group.user_set.values_list("username", flat=True))
    if not members:
        # Nobody's rights changed; whoever joins later is recorded then, as joining a reviewers' team.
        return []
    return _record_team_rows(group, reviewing=True, by=by, ip=ip, change="review granted" if granted
                             else "review revoked", members=members)


def _record_team_rows(group: Group, *, reviewing: bool, by: Any, ip: str | None, **detail: Any) -> list[AuditEvent]:
    shares = dict(PlanShare.objects.filter(group=group).values_list("plan_id", "can_edit"))
    return [audit.record(AuditEvent.Action.TEAM_CHANGED, plan=plan, actor=by, ip=ip, team=group.name,
                         shared=("edit" if shares[plan.pk] else "read") if plan.pk in shares else "no", **detail)
            for plan in access.plans_reached_by_team(group, reviewing=reviewing)]


# ---------------------------------------------------------------------------
# The approved download


@dataclass(frozen=True)
class Download:
    """A file to send: its name and bytes."""

    filename: str
    content: bytes


def download_approved(revision: Revision, *, by: Any, ip: str | None = None) -> Download:
    """Return the approved bundle as a zip with APPROVAL.json, re-rendered and checked against the hash.

    Rendering happens with no lock held; then one transaction locks the plan row, checks
    again that the user may see the plan and which approval is in force (a withdrawal or
    an unsharing made while rendering wins), and writes the audit row. Raise NotApproved
    without an approval and BundleChanged when today's bytes are not the approved ones.
    """
    access.require_visible(by, revision.plan)
    if approval_of(revision) is None:
        raise NotApproved(f"Revision {revision.number} is not approved: there is no approved bundle to download.")
    rendered = render_revision(revision)
    with transaction.atomic():
        plan = _lock(revision.plan)
        rev = _fresh(revision, plan)
        access.require_visible(by, plan)
        approval = approval_of(rev)
        if approval is None:
            raise NotApproved(f"Revision {rev.number} is not approved: there is no approved bundle to download.")
        if rendered.sha256 != approval.bundle_sha256:
            raise BundleChanged(f"Revision {rev.number} now renders to different scripts than the ones approved "
                                f"(SHA-256 {rendered.sha256[:12]}..., approved {approval.bundle_sha256[:12]}...). "
                                f"The approved bundle cannot be reproduced: save a new revision and have it "
                                f"approved.")
        record = approval_record(rev, approval)
        extra = {APPROVAL_FILE: approval_file(record)}
        content = bundle.bundle_zip(rendered, extra=extra)
        audit.record(AuditEvent.Action.DOWNLOADED, plan=plan, actor=by, ip=ip, revision=rev.number,
                     bundle_sha256=approval.bundle_sha256, file="approved-zip")
    return Download(filename=f"{bundle.download_slug(record['plan'])}-r{rev.number}-approved.zip", content=content)


@transaction.atomic
def record_draft_download(plan: Plan, *, by: Any, name: str, sha256: str, ip: str | None = None) -> AuditEvent:
    """Write the DOWNLOADED audit row for one download of the draft's bundle (a file or the zip)."""
    return audit.record(AuditEvent.Action.DOWNLOADED, plan=plan, actor=by, ip=ip, file=name, bundle_sha256=sha256,
                        revision=None)
