"""Who may see and change a plan, and who may review a revision: the one place
these rules live.

Views ask here and hand booleans to templates; services call the `require_*`
functions inside their transaction. No access gives 404 (a plan's existence is
not revealed); read-only access gives 403 on any change.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from wizard.models import Plan, Review, Revision

REVIEW_PERMISSION = "wizard.review_plan"


class SelfReview(PermissionDenied):
    """A contributor to a revision (its saver, or anyone whose draft saves it holds) may not review it."""


# ---------------------------------------------------------------------------
# The rules


def plans_visible_to(user: Any) -> QuerySet[Plan]:
    """Return the plans `user` owns or that are shared with one of their groups; for a reviewer,
    also every plan with a revision submitted for review (read-only: submitting is what makes a
    revision reachable by the people who can approve it)."""
    if not getattr(user, "is_authenticated", False):
        return Plan.objects.none()
    visible = Q(owner=user) | Q(shares__group__in=user.groups.all())
    if can_review(user):
        visible |= _SUBMITTED_FOR_REVIEW
    return Plan.objects.filter(visible).distinct()


# What makes a plan visible (read-only) to every reviewer, shared or not.
_SUBMITTED_FOR_REVIEW = Q(revisions__reviews__decision=Review.Decision.SUBMITTED)


def seen_by_reviewers(plan: Plan) -> bool:
    """Return True when every reviewer can see `plan` (read-only), shared or not: one of its
    revisions was submitted for review (the rule of `plans_visible_to`)."""
    return Plan.objects.filter(_SUBMITTED_FOR_REVIEW, pk=plan.pk).exists()


def team_reviews(group: Group) -> bool:
    """Return True when `group` holds the reviewer permission (its members may approve)."""
    app_label, codename = REVIEW_PERMISSION.split(".")
    return group.permissions.filter(content_type__app_label=app_label, codename=codename).exists()


def plans_reached_by_team(group: Group, *, reviewing: bool) -> QuerySet[Plan]:
    """Return the plans whose readers, editors or reviewers change when `group`'s members or its reviewer
    permission change: those shared with it and, when it is (or was) a reviewers' team, every plan reviewers see
    because a revision of it was submitted (the rule of `plans_visible_to`)."""
    reach = Q(shares__group=group)
    if reviewing:
        reach |= _SUBMITTED_FOR_REVIEW
    return Plan.objects.filter(reach).distinct().order_by("pk")


def can_see(user: Any, plan: Plan) -> bool:
    """Return True when `user` may see `plan`."""
    return plans_visible_to(user).filter(pk=plan.pk).exists()


def is_owner(user: Any, plan: Plan) -> bool:
    """Return True when `user` owns `plan`."""
    return plan.owner_id == getattr(user, "pk", None)


def can_edit(user: Any, plan: Plan) -> bool:
    """Return True when `user` owns `plan` or is in a team it is shared with for editing."""
    if not getattr(user, "is_authenticated", False):
        return False
    if is_owner(user, plan):
        return True
    return plan.shares.filter(can_edit=True, group__in=user.groups.all()).exists()


def can_review(user: Any) -> bool:
    """Return True when `user` holds the reviewer permission."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(REVIEW_PERMISSION))


def may_comment(user: Any, *, editable: bool) -> bool:
    """Return True when `user` (who can see the plan) may comment: editors and reviewers."""
    return editable or can_review(user)


def may_share(user: Any, plan: Plan) -> bool:
    """Return True when `user` may change who `plan` is shared with: its owner only."""
    return is_owner(user, plan)


def may_administer_plans(user: Any) -> bool:
    """Return True when `user` may see and change plans and their records in the Django admin, and the people
    and teams that decide who may read, edit or approve them: an active superuser only. The admin knows nothing
    of sharing or of the four-eyes rules, so a staff account given Django's model permissions would otherwise
    see and edit every plan, shared with him or not, or give himself a team, the reviewer permission or
    superuser status, and approve his own work."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def may_see_addresses(user: Any, *, editable: bool) -> bool:
    """Return True when the audit page may show `user` the client addresses: editors and reviewers."""
    return editable or can_review(user)


def contributed_to(user: Any, revisions: list[Revision]) -> set[int]:
    """Return the pks of `revisions` that `user` saved or wrote any draft save of (the four-eyes rule's
    "contributor"), in at most one query whatever their number."""
    pk = getattr(user, "pk", None)
    if pk is None:
        return set()
    saved = {r.pk for r in revisions if r.created_by_id == pk}
    others = [r.pk for r in revisions if r.pk not in saved]
    if not others:
        return saved
    return saved | set(Revision.contributors.through.objects.filter(revision_id__in=others, user_id=pk)
                       .values_list("revision_id", flat=True))


def is_contributor(user: Any, revision: Revision) -> bool:
    """Return True when `user` saved `revision` or wrote any of the draft saves it holds."""
    return revision.pk in contributed_to(user, [revision])


def may_review(user: Any, revision: Revision) -> bool:
    """Return True when `user` holds the reviewer role and contributed nothing to `revision`."""
    return can_review(user) and not is_contributor(user, revision)


def may_review_each(user: Any, revisions: list[Revision]) -> set[int]:
    """Return the pks of `revisions` that `user` may review (`may_review` of each), in at most two queries."""
    if getattr(user, "pk", None) is None or not can_review(user):
        return set()
    return {r.pk for r in revisions} - contributed_to(user, revisions)


# ---------------------------------------------------------------------------
# What a page may offer


@dataclass(frozen=True)
class PlanAccess:
    """One user's rights on one plan, computed once per request; templates get these booleans."""

    plan: Plan
    can_edit: bool
    can_comment: bool
    can_share: bool
    can_review: bool
    can_see_addresses: bool  # the audit page shows client addresses to editors and reviewers only


def access_to(user: Any, plan: Plan) -> PlanAccess:
    """Return what `user` (who can see `plan`) may do with it."""
    editable = can_edit(user, plan)
    return PlanAccess(plan=plan, can_edit=editable, can_comment=may_comment(user, editable=editable),
                      can_share=may_share(user, plan), can_review=can_review(user),
                      can_see_addresses=may_see_addresses(user, editable=editable))


@dataclass(frozen=True)
class Actions:
    """What a user may do with a revision right now (the page shows only these buttons)."""

    submit: bool = False
    approve: bool = False
    request_changes: bool = False
    comment: bool = False
    download: bool = False
    withdraw: bool = False
    # A reviewer who contributed to this revision in review: the page says why there is no Approve.
    self_review: bool = False


def revision_actions(user: Any, revision: Revision, *, rights: PlanAccess, status: str) -> Actions:
    """Return the actions `user` may take on `revision` in `status` (a wizard.review.state.Status value)."""
    reviewer = may_review(user, revision)
    return Actions(
        submit=rights.can_edit and status in ("draft", "changes_requested", "withdrawn"),
        approve=reviewer and status == "in_review",
        request_changes=reviewer and status == "in_review",
        comment=rights.can_comment,
        download=status == "approved",
        withdraw=reviewer and status == "approved",
        self_review=not reviewer and can_review(user) and status == "in_review",
    )


# ---------------------------------------------------------------------------
# Loading for a request, and the checks services make


def _as_stored(user: Any) -> Any:
    """Return `user` as the database holds it now: its groups, permissions and active flag.

    Django caches a user's permissions on the user object (`has_perm`), so a check made again
    under a service's lock, after rendering, would read the roles as they were when the request
    began. A deactivated or deleted account has no rights at all.
    """
    pk = getattr(user, "pk", None)
    if pk is None or not getattr(user, "is_authenticated", False):
        return user
    fresh = get_user_model()._default_manager.filter(pk=pk, is_active=True).first()
    return fresh if fresh is not None else AnonymousUser()


def get_plan_for_user(user: Any, code: Any) -> tuple[Plan, bool]:
    """Return (plan, whether `user` may edit it); raise Http404 when `user` may not see it."""
    try:
        plan = plans_visible_to(user).get(code=code)
    except (Plan.DoesNotExist, ValueError, TypeError, ValidationError):
        # A code that is not a UUID raises ValidationError: no such plan either.
        raise Http404("No such plan") from None
    return plan, can_edit(user, plan)


def load(user: Any, code: Any) -> PlanAccess:
    """Return the plan `code` with `user`'s rights on it; raise Http404 when `user` may not see it."""
    plan, _ = get_plan_for_user(user, code)
    return access_to(user, plan)


def get_editable_plan(user: Any, code: Any) -> Plan:
    """Return the plan if `user` may change it; 404 when invisible, 403 when read-only."""
    plan, editable = get_plan_for_user(user, code)
    if not editable:
        raise PermissionDenied("You have read-only access to this plan")
    return plan


def lock_plan(plan: Plan) -> Plan:
    """Return the plan row, locked until the end of the transaction; raise Http404 when it was deleted
    since the request loaded it (in the admin): no such plan, as for one never seen."""
    try:
        return Plan.objects.select_for_update().get(pk=plan.pk)
    except Plan.DoesNotExist:
        raise Http404("No such plan") from None


def require_visible(user: Any, plan: Plan) -> None:
    """Raise PermissionDenied unless `user` may see `plan`."""
    user = _as_stored(user)
    if not can_see(user, plan):
        raise PermissionDenied("You cannot see this plan.")


def require_editor(user: Any, plan: Plan) -> None:
    """Raise PermissionDenied unless `user` may see and change `plan`."""
    user = _as_stored(user)
    if not (can_see(user, plan) and can_edit(user, plan)):
        raise PermissionDenied("You need edit access to this plan.")


def require_commenter(user: Any, plan: Plan) -> None:
    """Raise PermissionDenied unless `user` may comment on `plan`."""
    user = _as_stored(user)
    require_visible(user, plan)
    if not may_comment(user, editable=can_edit(user, plan)):
        raise PermissionDenied("Read-only access: only editors and reviewers may comment.")


def require_reviewer(user: Any, plan: Plan, revision: Revision) -> None:
    """Raise PermissionDenied unless `user` may review `revision`; SelfReview for a contributor to it."""
    user = _as_stored(user)
    if not (can_see(user, plan) and can_review(user)):
        raise PermissionDenied("Only a reviewer may approve or request changes.")
    if is_contributor(user, revision):
        raise SelfReview("You contributed to this revision (you saved it, or it holds your edits of the draft), "
                         "so you cannot review it: another reviewer has to.")


def require_sharer(user: Any, plan: Plan) -> None:
    """Raise PermissionDenied unless `user` may change who `plan` is shared with."""
    user = _as_stored(user)
    if not may_share(user, plan):
        raise PermissionDenied("Only the owner of a plan may change who it is shared with.")
