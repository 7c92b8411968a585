"""`manage.py export_plan PLAN_ID`: write a plan's validated draft as a `lync-auth-plan/1` file."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from wizard.web.transfer import TransferError, export_plan, find_plan


class Command(BaseCommand):
    help = "Write a plan (its UUID code or its id) to standard output in the lync-auth-plan/1 format."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plan_id", metavar="PLAN_ID", help="the plan's UUID code or integer id")
        parser.add_argument("--revision", type=int, metavar="N", help="export revision N instead of the draft")
        parser.add_argument("--by", metavar="USERNAME", help="who exports, for the audit trail")

    def handle(self, *args: Any, **options: Any) -> None:
        by = None
        if options["by"]:
            User = get_user_model()
            try:
                by = User.objects.get(**{User.USERNAME_FIELD: options["by"]})
            except (User.DoesNotExist, UnicodeError):  # not UTF-8: an argument of bytes no name has
                raise CommandError(f"no user named {options['by']!r}") from None
        try:
            plan = find_plan(options["plan_id"])
            text = export_plan(plan, by=by, revision=options["revision"])
        except TransferError as exc:
            for line in exc.lines():
                self.stderr.write(line)
            raise CommandError(f"not exported: {exc}") from None
        self.stdout.write(text, ending="")
