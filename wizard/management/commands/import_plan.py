"""`manage.py import_plan PLAN.json --owner USERNAME`: store a plan file as a new plan."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from wizard.plan.engine import read_plan_bytes
from wizard.plan.reader import PlanUnreadable
from wizard.web.transfer import TransferError, import_plan


class Command(BaseCommand):
    help = "Import a lync-auth-plan/1 file (or - for standard input) as a new plan owned by USERNAME."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plan_file", metavar="PLAN.json", help="the plan file, or - for standard input")
        parser.add_argument("--owner", required=True, metavar="USERNAME", help="the user who will own the plan")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            owner = User.objects.get(**{User.USERNAME_FIELD: options["owner"]})
        except (User.DoesNotExist, UnicodeError):  # not UTF-8: an argument of bytes no name has
            raise CommandError(f"no user named {options['owner']!r}") from None
        text = _read(options["plan_file"])
        try:
            result = import_plan(text, owner=owner)
        except TransferError as exc:
            for line in exc.lines():
                self.stderr.write(line)
            raise CommandError(f"{options['plan_file']}: not imported ({exc})") from None
        for finding in result.findings:
            self.stderr.write(f"{finding.severity}: {finding.field}: {finding.message}")
        plan = result.plan
        self.stdout.write(f"{plan.pk} {plan.code}")


def _read(path: str) -> bytes | str:
    # The command line's one bounded read of a plan file (read_plan_bytes): a huge file is refused unread.
    try:
        return read_plan_bytes(path)
    except PlanUnreadable as exc:
        raise CommandError(f"{path}: {exc}") from None
