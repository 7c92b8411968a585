"""`manage.py render_plan PLAN.json --out DIR`: write a plan's whole bundle into DIR.

On success DIR holds every script, `runbook.md`, `plan.json`, `verification.json`
and `SHA256SUMS`, and the exit status is 0. When the plan is invalid, has a
blocking (error) finding or fails verification, every error goes to stderr as
`field: message`, nothing is written (DIR is not even created) and the exit
status is 1; 2 when the file is not a readable plan at all. Needs no database.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wizard.plan import validators
from wizard.plan.engine import read_document
from wizard.plan.model import NAME_MAX
from wizard.plan.reader import PlanUnreadable
from wizard.scripts.bundle import PlanRejected, VerificationFailed, render_plan_doc

EXIT_REFUSED = 1
EXIT_UNREADABLE = 2


class Command(BaseCommand):
    help = "Validate a lync-auth-plan/1 file (or - for standard input) and write its bundle into DIR."
    requires_system_checks = ()  # no database and no checks: usable before migrate
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plan_file", metavar="PLAN.json", help="the plan file, or - for standard input")
        parser.add_argument("--out", required=True, metavar="DIR", help="the folder to write the bundle into")
        parser.add_argument("--plan-ref", default=None, help="the plan reference the script headers show")
        parser.add_argument("--revision", type=int, default=None, help="the revision number the headers show")

    def handle(self, *args: Any, **options: Any) -> None:
        plan_ref, revision = self._source_options(options)
        path = options["plan_file"]
        try:
            doc = read_document(path, stdin=options.get("stdin"))
        except PlanUnreadable as exc:
            self.stderr.write(f"{path}: {exc}")
            raise SystemExit(EXIT_UNREADABLE) from None
        try:
            bundle = render_plan_doc(doc, plan_ref=plan_ref, revision=revision)
        except PlanRejected as exc:
            for finding in exc.errors:
                self.stderr.write(f"{finding.field}: {finding.message}")
            raise SystemExit(EXIT_REFUSED) from None
        except VerificationFailed as exc:
            self.stderr.write("the rendered scripts failed verification; nothing was written:")
            for problem in exc.report.problems:
                self.stderr.write(f"  {problem}")
            raise SystemExit(EXIT_REFUSED) from None

        out = Path(options["out"])
        if out.exists() and not out.is_dir():
            self.stderr.write(f"{out}: exists and is not a folder; nothing was written")
            raise SystemExit(EXIT_REFUSED)
        stale = sorted(p.name for p in out.iterdir() if p.name not in bundle.files) if out.is_dir() else []
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, data in bundle.files.items():
                (out / name).write_bytes(data)
        except OSError as exc:
            self.stderr.write(f"{out}: cannot write the bundle: {exc.strerror or exc}")
            raise SystemExit(EXIT_REFUSED) from None
        for finding in bundle.findings:
            if finding.severity == "warning":
                self.stderr.write(f"warning: {finding.field}: {finding.message}")
        if stale:
            self.stderr.write(f"note: {out} also holds files that are not part of this bundle: {', '.join(stale)}")
        for name in bundle.files:
            self.stdout.write(str(out / name))
        self.stdout.write(f"bundle sha256 {bundle.sha256}")

    def _source_options(self, options: dict[str, Any]) -> tuple[str | None, int | None]:
        """Return --plan-ref and --revision, checked as the plan's own text is: both reach every script's
        header (a comment, and a string the run records keep), so a line break, a bidirectional override or
        a lone surrogate (an argument that is not UTF-8) is refused by its option, before anything is read."""
        plan_ref, revision = options["plan_ref"], options["revision"]
        try:
            if plan_ref is not None:
                plan_ref = validators.clean_text(plan_ref, max_length=NAME_MAX)
        except ValueError as exc:
            self.stderr.write(f"--plan-ref: {exc}")
            raise SystemExit(EXIT_UNREADABLE) from None
        if revision is not None and revision < 1:
            self.stderr.write(f"--revision: must be a revision number, 1 or more (got {revision})")
            raise SystemExit(EXIT_UNREADABLE)
        return plan_ref, revision
