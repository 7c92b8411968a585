"""`manage.py check_plan PLAN.json [--state STATE.json] [--json]`: print every finding of a plan file.

With `--state`, the plan is also compared with the estate a `lync-auth-state/1` file
describes: every setting the plan sets is listed with its value today (`estate_change`, or
`estate_no_op` when it already has the value), and the estate facts that make the plan
unsafe or impossible are reported (docs/findings.md, "Findings with a state file"); the
exposure notes (`exposure_*`) then give who can sign in from the Internet today, as the
state file says, beside after the plan.

Exit status: 0 when no finding is an error, 1 when any is, 2 when the file is not a
readable plan at all (unreadable, not JSON, not a JSON object) or the state file is not a
readable state file (every error of it on stderr). Needs no database.
"""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wizard.management.commands.plan_from_state import state_problems
from wizard.plan.drift import estate_report
from wizard.plan.engine import assess, read_document
from wizard.plan.estate import Estate
from wizard.plan.finding import has_errors, sort_findings
from wizard.plan.reader import PlanUnreadable
from wizard.plan.state_reader import StateUnreadable, read_state, read_state_file

EXIT_ERRORS = 1
EXIT_UNREADABLE = 2


class Command(BaseCommand):
    help = "Print every finding of a lync-auth-plan/1 file (or - for standard input), optionally against a state file."
    requires_system_checks = ()  # no database and no checks: usable before migrate
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plan_file", metavar="PLAN.json", help="the plan file, or - for standard input")
        parser.add_argument("--state", metavar="STATE.json", default=None,
                            help="a lync-auth-state/1 file (or -) to compare the plan with the estate it describes")
        parser.add_argument("--json", action="store_true",
                            help="print one JSON array of {severity, code, field, message}")

    def handle(self, *args: Any, **options: Any) -> None:
        path, state_path = options["plan_file"], options["state"]
        if path == "-" and state_path == "-":
            self.stderr.write("only one of PLAN.json and --state can be read from standard input")
            raise SystemExit(EXIT_UNREADABLE)
        unreadable = False
        try:
            doc = read_document(path, stdin=options.get("stdin"))
        except PlanUnreadable as exc:
            self.stderr.write(f"{path}: {exc}")
            unreadable = True
        estate = self._estate(state_path, options) if state_path is not None else None
        if unreadable or (state_path is not None and estate is None):
            raise SystemExit(EXIT_UNREADABLE)
        # With a state file the exposure model knows today's settings: its matrix notes (exposure_*)
        # then say who can sign in from the Internet today and after the plan, and a promise the
        # estate already keeps is no longer "as today (unknown)".
        plan, findings = assess(doc, estate=estate)
        report = estate_report(plan, estate) if plan is not None and estate is not None else None
        if report is not None:
            findings = sort_findings([*findings, *report.findings])
        if options["json"]:
            self.stdout.write(json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False))
        else:
            if estate is not None:
                where = f" on {estate.collected_on}" if estate.collected_on else ""
                self.stdout.write(f"state collected {estate.collected_at}{where}")
            for f in findings:
                self.stdout.write(f"{f.severity}: {f.field}: {f.message} [{f.code}]")
            if report is not None:
                self.stdout.write(f"intended versus actual: {report.changes} setting(s) change, {report.no_ops} "
                                  f"already set (no-op), {report.unknown} not in the state file")
            elif estate is not None:
                self.stdout.write("the plan does not read as a plan, so it was not compared with the state")
            counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
            self.stdout.write(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)")
        if has_errors(findings):
            raise SystemExit(EXIT_ERRORS)

    def _estate(self, state_path: str, options: dict[str, Any]) -> Estate | None:
        """Return the estate of the state file, or None after writing every error to stderr."""
        try:
            estate, findings = read_state(read_state_file(state_path, stdin=options.get("stdin")))
        except StateUnreadable as exc:
            self.stderr.write(f"{state_path}: {exc}")
            return None
        if estate is None:
            for line in state_problems(state_path, findings):
                self.stderr.write(line)
        return estate
