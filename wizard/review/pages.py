"""The read side of review, part two: what the pages show. The draft's output
(findings and bundle), the revision page, the revisions list, the draft check
before a revision is saved, and comparisons between versions of a plan.

Nothing here writes; every function takes what it needs and returns plain data.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import jinja2
from django.db.models import OuterRef, QuerySet, Subquery

import wizard
from wizard.models import AuditEvent, Comment, Plan, Review, Revision
from wizard.plan import engine
from wizard.plan.finding import Finding, has_errors
from wizard.plan.model import PlanData
from wizard.plan.writer import plan_to_dict, with_written_defaults
from wizard.review import access, diffs, services
from wizard.review.state import (
    RecheckResult,
    approval_among,
    build_revision_bundle,
    in_review_among_latest,
    latest_number,
    latest_revision,
    recheck,
    revision_statuses,
    status_from_reviews,
    status_label,
)
from wizard.scripts import bundle

logger = logging.getLogger(__name__)
DRAFT = "draft"

# What rendering a plan the reader accepted can raise besides PlanRejected and VerificationFailed:
# a quoting filter or an artifact refusing a value (ValueError, TypeError) and a template naming
# something the context lacks (StrictUndefined -> jinja2.TemplateError). These are faults of the
# tool that a page reports instead of failing; anything else is a programming error and goes to
# the server's error handling like any other.
RENDER_FAULTS: tuple[type[BaseException], ...] = (ValueError, TypeError, jinja2.TemplateError)


# ---------------------------------------------------------------------------
# The draft's output (review page, live preview, downloads)


@dataclass(frozen=True)
class DraftOutput:
    """What a draft gives: its findings and, when nothing blocks it, its bundle.

    `problem` says why there is no bundle ('' when there is one).
    """

    data: PlanData | None
    findings: list[Finding]
    bundle: bundle.Bundle | None = None
    problem: str = ""


def build_output(plan: Plan, doc: Any) -> DraftOutput:
    """Return the findings of draft `doc` (of `plan`) and its bundle, or why there is none."""
    data, findings = engine.assess(doc)
    if data is None or has_errors(findings):
        return DraftOutput(data, findings, problem=(
            "The plan has errors, so no script is generated: a script built from a plan with errors could "
            "change the wrong pool or lock users out. Fix the errors listed here (each links to its step)."))
    source = bundle.Source(data.name, str(plan.code), None, wizard.__version__)
    try:
        built = bundle.cached_bundle(data, source=source, findings=findings)
    except bundle.PlanRejected as exc:
        return DraftOutput(data, exc.findings, problem=(
            "The plan has errors, so no script is generated. Fix the errors listed here."))
    except bundle.VerificationFailed as exc:
        return DraftOutput(data, findings, problem=(
            "The generated scripts failed the tool's own verification, so they are not shown or offered for "
            f"download. This is a fault in the tool, not in your plan: please report it. ({exc})"))
    except RENDER_FAULTS:
        # A rendering fault must not take the review page down with it: the page says so and the
        # traceback goes to the log for whoever maintains the tool.
        logger.exception("rendering the bundle of plan %s failed", plan.code)
        return DraftOutput(data, findings, problem=(
            "The tool failed to generate the scripts for this plan (an internal error, now in the server log). "
            "This is a fault in the tool, not in your plan: please report it."))
    return DraftOutput(data, findings, bundle=built)


# ---------------------------------------------------------------------------
# Revision pages


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
class RevisionPage:
    """Everything the revision page shows."""

    revision: Revision
    name: str  # the revision's own plan name (the draft's may have changed since)
    status: str
    status_label: str
    is_latest: bool
    latest_number: int
    settings: list[Setting]
    check: RecheckResult
    reviews: list[Review]
    comments: list[Comment]
    actions: access.Actions
    approval: Review | None
    imported: AuditEvent | None = None   # the import whose file the revision holds unreviewed


def revision_name(revision: Revision) -> str:
    """Return the plan name `revision` holds: what it is reviewed and approved as (Plan.name follows the draft,
    which may have been renamed since, to anything, the reader's refusals included)."""
    name = revision.data.get("name") if isinstance(revision.data, dict) else None
    return name if isinstance(name, str) else revision.plan.name


def revision_page(revision: Revision, *, user: Any, rights: access.PlanAccess) -> RevisionPage:
    """Return the revision page's content for `user` (who can see the plan, with `rights`)."""
    # The reviews and the latest number are read once: the status and the approval follow from them.
    latest = latest_number(revision.plan_id)
    reviews = list(revision.reviews.select_related("actor").order_by("created", "id"))
    status = status_from_reviews(revision, reviews, latest=latest)
    check = recheck(revision)
    return RevisionPage(
        revision=revision, name=revision_name(revision), status=status, status_label=status_label(status),
        is_latest=revision.number >= latest,
        latest_number=latest, settings=settings_summary(revision.data), check=check,
        reviews=reviews,
        comments=list(revision.comments.select_related("author").order_by("created", "id")),
        actions=access.revision_actions(user, revision, rights=rights, status=status),
        approval=approval_among(reviews),
        imported=services.unreviewed_import(revision),
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


def last_comment_seen(plan: Plan) -> int:
    """Return the number of the plan's latest comment (on it or on any revision), 0 when it has none: the comment
    forms carry it, so that a comment sent twice before its page showed the first is stored once."""
    return plan.comments.order_by("-id").values_list("id", flat=True).first() or 0


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


def draft_changed(plan: Plan, *, assessed: PlanData | None = None) -> bool:
    """Return True when the draft holds settings its latest revision does not (or there is no revision).

    `assessed` is the draft as the reader accepted it, when the caller has read it already (the
    review page has): a 100-pool draft is then not read and checked a second time.
    """
    latest = latest_revision(plan)
    if latest is None:
        return True
    plan_data = assessed if assessed is not None else engine.assess(plan.draft)[0]
    current = plan_to_dict(plan_data) if plan_data is not None else plan.draft
    return current != latest.data


def check_draft(plan: Plan) -> DraftCheck:
    """Return the draft's findings and its settings diff against the latest revision."""
    plan_data, findings = engine.assess(plan.draft)
    errors = [f for f in findings if f.severity == "error"]
    data = plan_to_dict(plan_data) if plan_data is not None else None
    latest = latest_revision(plan)
    # A draft the reader refuses is compared as typed, with the defaults a revision writes out filled in.
    changes = diffs.diff_data(latest.data if latest else None,
                              data if data is not None else with_written_defaults(plan.draft), labeller=_label)
    return DraftCheck(findings=list(findings), errors=errors, data=data, changes=changes, latest=latest)


# ---------------------------------------------------------------------------
# The reviewer's queue


@dataclass(frozen=True)
class QueueRow:
    """A revision waiting for review: its plan, who submitted it and when."""

    revision: Revision
    submitted: Review
    can_review: bool  # False: the user contributed to it, so another reviewer has to
    name: str = ""  # the plan name the revision holds (revision_name), never the draft's name now


def review_queue(user: Any) -> list[QueueRow]:
    """Return the latest revisions in review that `user` can see, oldest submission first.

    Empty for a user without the reviewer role. Rows the user contributed to are kept,
    marked, so that a reviewer sees why they cannot take them.
    """
    if not access.can_review(user):
        return []
    # Only a plan's latest revision can be in review: the others are superseded or approved. A bounded number of
    # queries whatever the number of revisions ever submitted (each was checked one at a time before).
    newest = Revision.objects.filter(plan=OuterRef("plan")).order_by("-number").values("number")[:1]
    candidates = list(Revision.objects.filter(plan__in=access.plans_visible_to(user), number=Subquery(newest),
                                              reviews__decision=Review.Decision.SUBMITTED)
                      .select_related("plan", "created_by").distinct())
    in_review = in_review_among_latest(candidates)
    reviewable = access.may_review_each(user, [r for r in candidates if r.pk in in_review])
    rows = [QueueRow(revision=revision, submitted=in_review[revision.pk], can_review=revision.pk in reviewable,
                     name=revision_name(revision)) for revision in candidates if revision.pk in in_review]
    return sorted(rows, key=lambda r: (not r.can_review, r.submitted.created))


# ---------------------------------------------------------------------------
# Comparing two versions of a plan


def _side(plan: Plan, ref: int | str) -> tuple[str, dict[str, Any] | None, dict[str, str] | None, str]:
    """Return (label, document, script texts, note) for a revision number or "draft"."""
    if ref == DRAFT:
        plan_data, findings = engine.assess(plan.draft)
        if plan_data is None or any(f.severity == "error" for f in findings):
            # Compared as typed, with the defaults a revision writes out filled in (not shown as removed).
            doc = with_written_defaults(plan.draft) if plan_data is None else plan_to_dict(plan_data)
            return "draft", doc, None, "The draft has errors, so its scripts cannot be rendered."
        data = plan_to_dict(plan_data)
        try:
            rendered = build_revision_bundle(plan_data, plan, None, engine.assess(data)[1])
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

