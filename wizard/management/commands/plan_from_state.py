"""`manage.py plan_from_state STATE.json`: write a plan prefilled from a state file to stdout.

The plan (`lync-auth-plan/1`) holds the estate's topology, SIP domains, simple URLs and AD FS
farm and changes nothing until the admin chooses settings. Notes (a product plans cannot
name yet, a part the state file lacks) go to stderr. Exit status: 0 written; 2 when the file
is not a readable state file, with every error on stderr. Needs no database.
"""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wizard.plan.finding import Finding
from wizard.plan.prefill import plan_from_estate
from wizard.plan.state_reader import StateUnreadable, read_state, read_state_file

EXIT_UNREADABLE = 2


def state_problems(path: str, findings: list[Finding]) -> list[str]:
    """Return one stderr line per error of a state file: `PATH: field: message`."""
    return [f"{path}: {f.field}: {f.message}" for f in findings if f.severity == "error"]


class Command(BaseCommand):
    help = "Write a lync-auth-plan/1 document prefilled from a lync-auth-state/1 file (or - for standard input)."
    requires_system_checks = ()  # no database and no checks: usable before migrate
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("state_file", metavar="STATE.json", help="the state file, or - for standard input")
        parser.add_argument("--name", default=None, help="the plan's name (default: where and when it was collected)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["state_file"]
        try:
            estate, findings = read_state(read_state_file(path, stdin=options.get("stdin")))
        except StateUnreadable as exc:
            self.stderr.write(f"{path}: {exc}")
            raise SystemExit(EXIT_UNREADABLE) from None
        if estate is None:
            for line in state_problems(path, findings):
                self.stderr.write(line)
            raise SystemExit(EXIT_UNREADABLE)
        try:
            prefilled = plan_from_estate(estate, name=options["name"])
        except ValueError as exc:
            self.stderr.write(f"--name: {exc}")
            raise SystemExit(EXIT_UNREADABLE) from None
        for note in prefilled.notes:
            self.stderr.write(f"note: {note}")
        self.stdout.write(json.dumps(prefilled.doc, indent=2, ensure_ascii=False))
