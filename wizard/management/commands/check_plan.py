"""`manage.py check_plan PLAN.json [--json]`: print every finding of a plan file.

Exit status: 0 when no finding is an error, 1 when any is, 2 when the file is
not a readable plan at all (unreadable, not JSON, not a JSON object).
Needs no database.
"""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wizard.plan.engine import assess, read_document
from wizard.plan.finding import has_errors
from wizard.plan.reader import PlanUnreadable

EXIT_ERRORS = 1
EXIT_UNREADABLE = 2


class Command(BaseCommand):
    help = "Print every finding of a lync-auth-plan/1 file (or - for standard input)."
    requires_system_checks = ()  # no database and no checks: usable before migrate
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plan_file", metavar="PLAN.json", help="the plan file, or - for standard input")
        parser.add_argument("--json", action="store_true",
                            help="print one JSON array of {severity, code, field, message}")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["plan_file"]
        try:
            doc = read_document(path, stdin=options.get("stdin"))
        except PlanUnreadable as exc:
            self.stderr.write(f"{path}: {exc}")
            raise SystemExit(EXIT_UNREADABLE) from None
        _, findings = assess(doc)
        if options["json"]:
            self.stdout.write(json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False))
        else:
            for f in findings:
                self.stdout.write(f"{f.severity}: {f.field}: {f.message} [{f.code}]")
            counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
            self.stdout.write(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)")
        if has_errors(findings):
            raise SystemExit(EXIT_ERRORS)
