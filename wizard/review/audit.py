"""The one way to write an audit row. Call it inside the transaction of the change it records."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from wizard.models import AuditEvent, Plan


def record(action: str, *, plan: Plan | None, actor: Any, ip: str | None = None, **detail: Any) -> AuditEvent:
    """Write and return one AuditEvent; must run inside the caller's atomic block."""
    if not transaction.get_connection().in_atomic_block:
        # An audit row outside the change's transaction could survive a rolled-back change.
        raise RuntimeError("audit.record must be called inside transaction.atomic()")
    event = AuditEvent(plan=plan, actor=actor if getattr(actor, "pk", None) else None, action=action,
                       detail=detail, ip_address=ip or None)
    event.full_clean(exclude=["plan", "actor"])
    event.save()
    return event


def client_ip(request: Any) -> str | None:
    """Return the client address of `request` (REMOTE_ADDR; a proxy in front must set it)."""
    return request.META.get("REMOTE_ADDR") or None
