"""Service functions for a plan's draft: create, save with optimistic concurrency.

Each is one transaction with its audit row. A stale save (made from a page that
loaded an older draft version) is refused, never merged silently.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from wizard.models import AuditEvent, Plan
from wizard.plan.model import PRODUCTS
from wizard.review import audit


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
    """Replace the draft with `doc` if it is still at version `based_on`; raise StaleDraft otherwise."""
    doc = storable(doc)
    # The conditional UPDATE is the lock: of two saves based on the same version, only one matches.
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
