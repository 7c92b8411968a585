"""Who may see and change a plan: the one place these rules live.

No access gives 404 (a plan's existence is not revealed); read-only access
gives 403 on any change.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from wizard.models import Plan

REVIEW_PERMISSION = "wizard.review_plan"


def plans_visible_to(user: Any) -> QuerySet[Plan]:
    """Return the plans `user` owns or that are shared with one of their groups."""
    if not getattr(user, "is_authenticated", False):
        return Plan.objects.none()
    return Plan.objects.filter(Q(owner=user) | Q(shares__group__in=user.groups.all())).distinct()


def can_edit(user: Any, plan: Plan) -> bool:
    """Return True when `user` owns `plan` or is in a team it is shared with for editing."""
    if plan.owner_id == user.pk:
        return True
    return plan.shares.filter(can_edit=True, group__in=user.groups.all()).exists()


def can_review(user: Any) -> bool:
    """Return True when `user` holds the reviewer permission."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(REVIEW_PERMISSION))


def get_plan_for_user(user: Any, code: Any) -> tuple[Plan, bool]:
    """Return (plan, whether `user` may edit it); raise Http404 when `user` may not see it."""
    try:
        plan = plans_visible_to(user).get(code=code)
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise Http404("No such plan") from None
    except Exception as exc:  # invalid UUID text raises ValidationError
        if exc.__class__.__name__ == "ValidationError":
            raise Http404("No such plan") from None
        raise
    return plan, can_edit(user, plan)


def get_editable_plan(user: Any, code: Any) -> Plan:
    """Return the plan if `user` may change it; 404 when invisible, 403 when read-only."""
    plan, editable = get_plan_for_user(user, code)
    if not editable:
        raise PermissionDenied("You have read-only access to this plan")
    return plan
