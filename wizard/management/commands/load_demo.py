"""Create the demo accounts and a demo plan, for `make run` on a fresh database.

Idempotent: accounts that exist are left as they are (passwords included), and the
demo plan is only created when the database holds no plan at all.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand
from django.db import transaction

from wizard.models import Plan
from wizard.review.access import REVIEW_PERMISSION
from wizard.web.drafts import create_plan
from wizard.web.presets import preset_doc

REVIEWERS = "Reviewers"
# (username, password, superuser, groups): documented in docs/wizard.md. Demo only.
ACCOUNTS: tuple[tuple[str, str, bool, tuple[str, ...]], ...] = (
    ("admin", "lync-demo-2026", True, ()),
    ("reviewer", "lync-review-2026", False, (REVIEWERS,)),
    ("author2", "lync-author-2026", False, ()),
)
DEMO_PRESET = "passive-adfs-mfa"
DEMO_NAME = "Demo: passive authentication with extranet MFA"


class Command(BaseCommand):
    help = "Create the demo accounts (admin, reviewer, author2) and a demo plan when there is none."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        app_label, codename = REVIEW_PERMISSION.split(".")
        reviewers, _ = Group.objects.get_or_create(name=REVIEWERS)
        reviewers.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        for username, password, superuser, groups in ACCOUNTS:
            user = User.objects.filter(username=username).first()
            if user is None:
                make = User.objects.create_superuser if superuser else User.objects.create_user
                user = make(username, email="", password=password)
                self.stdout.write(f"created user {username}")
            else:
                self.stdout.write(f"user {username} exists: left unchanged")
            for name in groups:
                user.groups.add(Group.objects.get(name=name))
        if Plan.objects.exists():
            self.stdout.write("plans exist: no demo plan created")
            return
        owner = User.objects.get(username="admin")
        plan = create_plan(owner=owner, doc=preset_doc(DEMO_PRESET, name=DEMO_NAME), preset=DEMO_PRESET)
        self.stdout.write(f"created demo plan {plan.name!r} ({plan.code}) owned by admin")
