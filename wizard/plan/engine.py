"""One entry point for judging a plan document: read it, then run the rules."""
from __future__ import annotations

import sys
from typing import IO, Any

from wizard.plan.estate import Estate
from wizard.plan.finding import Finding, sort_findings
from wizard.plan.findings import check_plan
from wizard.plan.model import PlanData
from wizard.plan.reader import PLAN_MAX_BYTES, PlanUnreadable, parse_plan_text, read_plan


def assess(doc: Any, *, estate: Estate | None = None) -> tuple[PlanData | None, list[Finding]]:
    """Return (the plan or None, every finding sorted) for a parsed plan document.

    The rules only run on a plan that was read without errors: the reader's
    errors already say what to fix first. With `estate` (a state file), the
    exposure model reads today's settings from it instead of "as today (unknown)".
    """
    plan, found = read_plan(doc)
    if plan is not None:
        found = [*found, *check_plan(plan, estate=estate)]
    return plan, sort_findings(found)


def read_document(path: str, *, stdin: IO[Any] | None = None) -> Any:
    """Return the parsed plan document in file `path` (`-` for standard input).

    Raises PlanUnreadable when the file cannot be read, is too large or is not a JSON object.
    """
    return parse_plan_text(read_plan_bytes(path, stdin=stdin))


def read_plan_bytes(path: str, *, stdin: IO[Any] | None = None) -> bytes | str:
    """Return the contents of plan file `path` (`-` for standard input), unparsed.

    Reads at most one byte more than PLAN_MAX_BYTES, so a huge file is refused (by parse_plan_text)
    without reading it whole. Raises PlanUnreadable when the file cannot be read.
    """
    limit = PLAN_MAX_BYTES + 1
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        data: bytes | str = stream.buffer.read(limit) if hasattr(stream, "buffer") else stream.read(limit)
        return data
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError as exc:
        raise PlanUnreadable(f"cannot read the file: {exc.strerror or exc}") from None
