"""The Finding type: one thing the tool has to say about a plan."""
from __future__ import annotations

from dataclasses import asdict, dataclass

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One error, warning or note about a plan, tied to a field path.

    `code` is stable (tests, the review banner and the JSON output key on it);
    `message` is for the admin and may be reworded.
    """

    severity: str
    code: str
    field: str
    message: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_dict(self) -> dict[str, str]:
        """Return the `check_plan --json` shape."""
        return asdict(self)


def error(code: str, field: str, message: str) -> Finding:
    """Return an error finding."""
    return Finding("error", code, field, message)


def warning(code: str, field: str, message: str) -> Finding:
    """Return a warning finding."""
    return Finding("warning", code, field, message)


def info(code: str, field: str, message: str) -> Finding:
    """Return an info finding."""
    return Finding("info", code, field, message)


def has_errors(findings: list[Finding]) -> bool:
    """Return True when any finding is an error."""
    return any(f.severity == "error" for f in findings)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Return findings ordered by severity, then field, then code (stable, deterministic output)."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (rank[f.severity], f.field, f.code, f.message))
