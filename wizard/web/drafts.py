"""Service functions for a plan's draft: create, save with optimistic concurrency,
and save one wizard step's values into it.

Each is one transaction with its audit row. A stale save (made from a page that
loaded an older draft version) is refused, never merged silently.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from wizard.models import AuditEvent, Plan
from wizard.plan.model import PRODUCTS
from wizard.review import access, audit
from wizard.review.diffs import FieldChange
from wizard.web import steps


class StaleDraft(Exception):
    """The draft changed since the editor loaded it."""

    def __init__(self, plan: Plan, based_on: int) -> None:
        super().__init__(f"draft is at version {plan.draft_version}, the edit was based on {based_on}")
        self.plan = plan
        self.based_on = based_on


@dataclass(frozen=True)
class SavedDraft:
    """The outcome of a successful draft save."""

    plan: Plan
    version: int


def storable(value: Any) -> Any:
    """Return `value` (a JSON document) with every NUL character replaced by U+FFFD.

    PostgreSQL can store NUL neither in text nor in jsonb. Replacing it, rather than
    refusing the save, keeps everything else the admin typed; the plan reader refuses
    U+FFFD in names and host names, so the field still shows its error.
    """
    text = json.dumps(value)
    if "\\u0000" not in text:
        return value
    # Work on the JSON text, not by walking the document: a hostile draft can be nested
    # deeper than Python's recursion limit. Only a real escape is replaced (an even
    # number of backslashes before it), never an escaped backslash followed by "u0000".
    return json.loads(_NUL_ESCAPE_RE.sub(r"\1\\ufffd", text))


_NUL_ESCAPE_RE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _summary_fields(doc: dict[str, Any]) -> dict[str, str]:
    name = doc.get("name") if isinstance(doc.get("name"), str) else ""
    product = doc.get("product") if doc.get("product") in PRODUCTS else ""
    return {"name": (name or "Untitled plan")[:200], "product": product}


@transaction.atomic
def create_plan(*, owner: Any, doc: dict[str, Any], preset: str = "", ip: str | None = None,
                action: str = AuditEvent.Action.CREATED) -> Plan:
    """Create and return a plan whose draft is `doc`."""
    doc = storable(doc)
    plan = Plan(owner=owner, draft=doc, preset=preset, **_summary_fields(doc))
    plan.full_clean(exclude=["owner"])
    plan.save()
    audit.record(action, plan=plan, actor=owner, ip=ip, preset=preset or None)
    return plan


@transaction.atomic
def save_draft(plan: Plan, *, doc: dict[str, Any], based_on: int, by: Any, ip: str | None = None,
               step: str = "") -> SavedDraft:
    """Replace the draft with `doc` if it is still at version `based_on`; raise StaleDraft otherwise.

    Raise PermissionDenied (from wizard.review.access) when `by` may not edit the plan, checked with
    the plan row locked: a member removed while the save was being prepared saves nothing.
    """
    doc = storable(doc)
    locked = access.lock_plan(plan)
    access.require_editor(by, locked)
    # The conditional UPDATE decides: of two saves based on the same version, only one matches.
    fields = _summary_fields(doc)
    updated = Plan.objects.filter(pk=plan.pk, draft_version=based_on).update(
        draft=doc, draft_version=based_on + 1, updated=timezone.now(), **fields
    )
    fresh = Plan.objects.get(pk=plan.pk)
    if not updated:
        raise StaleDraft(fresh, based_on)
    audit.record(AuditEvent.Action.DRAFT_SAVED, plan=fresh, actor=by, ip=ip, step=step or None,
                 version=fresh.draft_version)
    return SavedDraft(plan=fresh, version=fresh.draft_version)


# ---------------------------------------------------------------------------
# Accepted risks (the plan's `accepted_risks` list; docs/plan-format.md)


class RiskRefused(Exception):
    """The accepted-risk change cannot be made; the message says why."""


def _with_risks(plan: Plan, change: Any) -> dict[str, Any]:
    """Return a copy of the draft with `change` applied to its list of accepted risks."""
    doc = copy.deepcopy(plan.draft) if isinstance(plan.draft, dict) else {}
    risks = doc.get("accepted_risks")
    doc["accepted_risks"] = change(list(risks) if isinstance(risks, list) else [])
    if not doc["accepted_risks"]:
        del doc["accepted_risks"]
    return doc


@transaction.atomic
def accept_risk(plan: Plan, *, code: str, field: str, reason: str, based_on: int, by: Any,
                ip: str | None = None) -> SavedDraft:
    """Record error `code` on `field` as an accepted risk with `reason` in the draft at version `based_on`.

    The caller checks that the draft has that error and that the reason is valid text
    (wizard.web.forms.AcceptRiskForm); the plan reader checks the stored list again.
    Raise StaleDraft when the draft moved on.
    """
    doc = _with_risks(plan, lambda risks: [*risks, {"code": code, "field": field, "reason": reason}])
    return save_draft(plan, doc=doc, based_on=based_on, by=by, ip=ip, step="accepted_risks")


@transaction.atomic
def withdraw_risk(plan: Plan, *, index: int, based_on: int, by: Any, ip: str | None = None) -> SavedDraft:
    """Remove accepted risk number `index` from the draft at version `based_on`.

    Raise RiskRefused when there is no such entry, StaleDraft when the draft moved on.
    """
    risks = plan.draft.get("accepted_risks") if isinstance(plan.draft, dict) else None
    if not isinstance(risks, list) or not 0 <= index < len(risks):
        raise RiskRefused("That accepted risk is no longer in the draft.")
    doc = _with_risks(plan, lambda items: items[:index] + items[index + 1:])
    return save_draft(plan, doc=doc, based_on=based_on, by=by, ip=ip, step="accepted_risks")


# ---------------------------------------------------------------------------
# Saving a step (the step mapping is wizard.web.steps)


@dataclass(frozen=True)
class StepSave:
    """The outcome of saving a step.

    `saved` is False only for a refused stale save; `changes` then lists the stored
    values that differ from what was typed and `others` the saves made meanwhile.
    `version` and `base` are what the page must send with its next save.
    """

    saved: bool
    plan: Plan
    version: int
    base: str
    changes: tuple[FieldChange, ...] = ()
    others: tuple[AuditEvent, ...] = ()
    merged: bool = False
    # Rows whose pool was renamed or removed meanwhile: they cannot be saved over, only typed again.
    lost: tuple[FieldChange, ...] = ()
    # The page of the step's lists the page shows from now on (a save adding a row makes its span longer).
    window: steps.Window | None = None
    # Why a refusal that is not a stale save was refused (the page's draft version was missing or damaged).
    why: str = ""


def saves_since(plan: Plan, version: int) -> QuerySet[AuditEvent]:
    """Return the draft saves of `plan` that made versions after `version`, oldest first."""
    return (AuditEvent.objects.filter(plan=plan, action=AuditEvent.Action.DRAFT_SAVED, detail__version__gt=version)
            .select_related("actor").order_by("created", "id"))


def save_step(plan: Plan, step: steps.Step, values: steps.Values, *, based_on: int, base: str, by: Any,
              ip: str | None = None, window: steps.Window | None = None) -> StepSave:
    """Save `step`'s values into the draft of `plan`, loaded at version `based_on`.

    A stale save is refused, except when it cannot overwrite anything: when the stored
    values of this step already equal the typed ones, or when the other saves only
    touched other steps (this step's stored values still match `base`, the fingerprint
    the page was loaded with); then the typed values are applied to the current draft.
    With `window` the values are one page of the step's lists (`wizard.web.steps.apply`), and
    the fingerprint is of that page: saves to other pages of the list merge like saves to
    other steps.
    """
    lost = steps.moved_rows(step, plan.draft, window) + steps.lost_rows(step, plan.draft, values)
    if lost:
        return _refused(plan, step, values, based_on=based_on, lost=lost, window=window)
    doc = steps.apply(step, plan.draft, values, window)
    after = steps.after_save(step, window, plan.draft, doc)
    if based_on == plan.draft_version and doc == plan.draft:
        return StepSave(saved=True, plan=plan, version=plan.draft_version, base=steps.step_base(step, doc, after),
                        window=after)
    try:
        saved = save_draft(plan, doc=doc, based_on=based_on, by=by, ip=ip, step=step.slug)
        return StepSave(saved=True, plan=saved.plan, version=saved.version,
                        base=steps.step_base(step, saved.plan.draft, after), window=after)
    except StaleDraft as exc:
        fresh = exc.plan
    lost = steps.moved_rows(step, fresh.draft, window) + steps.lost_rows(step, fresh.draft, values)
    if lost:
        return _refused(fresh, step, values, based_on=based_on, lost=lost, window=window)
    mine = steps.apply(step, fresh.draft, values, window)
    after = steps.after_save(step, window, fresh.draft, mine)
    stored_base = steps.step_base(step, fresh.draft, window)
    if steps.step_base(step, mine, after) == stored_base and after == window:
        return StepSave(saved=True, plan=fresh, version=fresh.draft_version, base=stored_base,
                        others=tuple(saves_since(fresh, based_on)), window=window)
    if stored_base == base:
        try:
            saved = save_draft(fresh, doc=mine, based_on=fresh.draft_version, by=by, ip=ip, step=step.slug)
            return StepSave(saved=True, plan=saved.plan, version=saved.version,
                            base=steps.step_base(step, saved.plan.draft, after),
                            others=tuple(saves_since(fresh, based_on)), merged=True, window=after)
        except StaleDraft as again:
            fresh = again.plan
    return _refused(fresh, step, values, based_on=based_on,
                    lost=(*steps.moved_rows(step, fresh.draft, window), *steps.lost_rows(step, fresh.draft, values)),
                    window=window)


def refuse_step(plan: Plan, step: steps.Step, values: steps.Values, *, why: str,
                window: steps.Window | None = None) -> StepSave:
    """Return the refusal of a save from a page that did not say which draft version it showed.

    Nothing is stored and no audit row written: without the version there is no telling whether the
    typed values would overwrite someone else's. The refusal compares them with the stored draft, like a
    stale save, and carries the current version, so saving again from it is a choice made having looked.
    """
    return replace(_refused(plan, step, values, based_on=plan.draft_version, window=window), why=why)


def _refused(plan: Plan, step: steps.Step, values: steps.Values, *, based_on: int,
             lost: Any = (), window: steps.Window | None = None) -> StepSave:
    """Return the refusal of a save: what is stored now against what was typed, and who saved meanwhile."""
    lost = tuple(lost)
    changes = lost or tuple(steps.changes_between(step, plan.draft, steps.apply(step, plan.draft, values, window)))
    return StepSave(saved=False, plan=plan, version=plan.draft_version,
                    base=steps.step_base(step, plan.draft, window), changes=changes,
                    others=tuple(saves_since(plan, based_on)), lost=lost, window=window)
