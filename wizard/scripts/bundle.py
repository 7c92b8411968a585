"""The bundle: every file an admin downloads for one plan, as exact bytes.

Scripts are UTF-8 with a BOM and CRLF line endings (Windows PowerShell 5.1 reads
a BOM-less file in the ANSI code page, where byte 0x94 turns into a curly quote
the tokenizer treats as a string delimiter). Windows tool input (`.inf`,
`.config`, `.xml`, `.cmd`) is UTF-8 without BOM, CRLF. Everything else
(`runbook.md`, `plan.json`, `verification.json`, `SHA256SUMS`) is UTF-8 without
BOM, LF, so `sha256sum -c SHA256SUMS` works as is.

The same plan and `Source` always give the same bytes: no timestamps in any
file, and the zip uses fixed dates and sorted names. Every render is verified
(`wizard.verify.verify_scripts`) and a bundle that fails is never returned.
"""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from wizard import __version__
from wizard.caches import ByteLRU, MiB, text_size
from wizard.plan.engine import assess
from wizard.plan.exposure import Exposure, exposure, internet_checks
from wizard.plan.finding import Finding, has_errors, sort_findings
from wizard.plan.findings import EXPOSURE_CODES, check_plan
from wizard.plan.impact import desktop_client_preparation
from wizard.plan.model import PlanData
from wizard.plan.writer import dumps_json, dumps_plan
from wizard.proof.verify import VerificationFailed, VerifyReport, verify_scripts
from wizard.scripts import exposure_view
from wizard.scripts.artifacts import Artifact
from wizard.scripts.artifacts.core import runbook_steps_after
from wizard.scripts.artifacts.network import NO_EXTERNAL_VERIFICATION, verify_external_applies
from wizard.scripts.exposure_view import SVG_FILE, exposure_rows
from wizard.scripts.rendering import harmless_twin, render_artifact, render_artifacts, render_template

RUNBOOK = "runbook.md"
EXPOSURE_FILE = SVG_FILE
PLAN_FILE = "plan.json"
VERIFICATION_FILE = "verification.json"
SUMS_FILE = "SHA256SUMS"
RESERVED_NAMES = (RUNBOOK, EXPOSURE_FILE, PLAN_FILE, VERIFICATION_FILE, SUMS_FILE)

SCRIPT_SUFFIXES = (".ps1", ".psm1", ".psd1")
WINDOWS_TEXT_SUFFIXES = (".inf", ".config", ".xml", ".cmd", ".bat")
# Artifacts from this run order on are kept for when they are needed (rollback), not run in sequence.
LATER_RUN_ORDER = 90
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

__all__ = [
    "Bundle", "PlanRejected", "Source", "VerificationFailed", "build_bundle", "bundle_zip", "encode_file",
    "render_plan_doc",
]


class PlanRejected(Exception):
    """The plan has error findings, so nothing is rendered; `findings` holds every finding."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = list(findings)
        super().__init__("; ".join(f"{f.field}: {f.message}" for f in self.errors) or "the plan was rejected")

    @property
    def errors(self) -> list[Finding]:
        """Return the error findings (the ones that block rendering)."""
        return [f for f in self.findings if f.severity == "error"]


# What the headers say for a bundle that is not a saved revision: nobody reviewed it, and an
# admin holding the files must not mistake it for an approved bundle.
UNAPPROVED_DRAFT = "UNAPPROVED DRAFT (not a reviewed revision)"


@dataclass(frozen=True)
class Source:
    """Where a rendered plan comes from, as the script headers and the runbook state it."""

    plan_name: str
    plan_ref: str | None
    revision: int | None
    tool_version: str

    @classmethod
    def for_plan(cls, plan: PlanData, *, plan_ref: str | None = None, revision: int | None = None) -> Source:
        """Return the source of a plan rendered by this version of the tool."""
        return cls(plan_name=plan.name, plan_ref=plan_ref, revision=revision, tool_version=__version__)

    def header(self) -> dict[str, str]:
        """Return the values the headers show ("not stored" and UNAPPROVED_DRAFT stand in for None)."""
        return {
            "plan_name": self.plan_name,
            "plan_ref": self.plan_ref if self.plan_ref else "not stored",
            "revision": str(self.revision) if self.revision is not None else UNAPPROVED_DRAFT,
            "tool_version": self.tool_version,
        }

    def harmless(self, plan_name: str) -> Source:
        """Return this source with its free text replaced, for rendering the harmless twin."""
        return Source(plan_name=plan_name, plan_ref="plan-reference" if self.plan_ref else None,
                      revision=self.revision, tool_version=self.tool_version)


@dataclass(frozen=True)
class Bundle:
    """A rendered, verified bundle.

    `files` holds the exact download bytes in bundle order (scripts in run
    order, then the runbook, plan.json, verification.json and SHA256SUMS);
    `texts` the same files as text with `\\n` line endings, for display;
    `sha256` is the SHA-256 of the SHA256SUMS bytes, the bundle's identity.
    """

    plan: PlanData
    source: Source
    files: dict[str, bytes]
    texts: dict[str, str]
    sha256: str
    report: VerifyReport
    findings: tuple[Finding, ...]

    @property
    def scripts(self) -> dict[str, str]:
        """Return {name: text} of the PowerShell scripts only."""
        return {name: text for name, text in self.texts.items() if name.endswith(SCRIPT_SUFFIXES)}


def encode_file(name: str, text: str) -> bytes:
    """Return the download bytes of file `name` (see the module docstring for the rules)."""
    text = text.replace("\r\n", "\n")
    if name.endswith(SCRIPT_SUFFIXES):
        return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")
    if name.endswith(WINDOWS_TEXT_SUFFIXES):
        return text.replace("\n", "\r\n").encode("utf-8")
    return text.encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_bundle(plan: PlanData, *, source: Source, findings: list[Finding] | None = None) -> Bundle:
    """Return the verified bundle for `plan`.

    `findings` are the plan's findings when the caller already has them (they
    appear in the runbook); without them the rules run here. Raises
    PlanRejected when any finding is an error and VerificationFailed when a
    rendered script fails verification. The result must be treated as read-only:
    identical inputs return the same cached Bundle.
    """
    found = sort_findings(list(findings) if findings is not None else check_plan(plan))
    if has_errors(found):
        raise PlanRejected(found)
    return _build(plan, source, found)


def download_slug(name: str) -> str:
    """Return `name` as a file-name prefix for downloads (lowercase ASCII letters, digits and dashes)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "plan"


def cached_bundle(plan: PlanData, *, source: Source, findings: list[Finding] | None = None) -> Bundle:
    """Return `build_bundle(...)`, reusing a recent identical render in this process.

    The bytes depend only on the canonical plan, the source and the findings, so a
    review page reloaded, a download after a preview, or a second tab reuse one
    render. The Bundle must be treated as read-only.
    """
    found = sort_findings(list(findings) if findings is not None else check_plan(plan))
    key = (dumps_plan(plan), source, tuple(found))
    cached = _BUNDLE_CACHE.get(key)
    if cached is not None:
        return cached
    bundle = build_bundle(plan, source=source, findings=found)
    _BUNDLE_CACHE.put(key, bundle, bundle_size(bundle) + len(key[0]))
    return bundle


def bundle_size(bundle: Bundle) -> int:
    """Return about how many bytes of memory a bundle holds (its files as bytes and as text)."""
    return sum(len(data) for data in bundle.files.values()) + text_size(bundle.texts.values()) \
        + text_size((*bundle.report.checked, *bundle.report.problems, *bundle.report.notes))


# A per-process cache of pure results (nothing here is state shared between app servers),
# bounded by bytes: a 100-pool bundle holds about 2.8 MB, a one-pool bundle about 0.2 MB.
_BUNDLE_CACHE: ByteLRU[tuple[str, Source, tuple[Finding, ...]], Bundle] = ByteLRU("bundles", 24 * MiB)


def _build(plan: PlanData, source: Source, found: list[Finding]) -> Bundle:

    rendered = render_artifacts(plan, header=source.header())
    twin = harmless_twin(plan)
    twin_header = source.harmless(twin.name).header()
    scripts = {name: text for _, name, text in rendered if name.endswith(SCRIPT_SUFFIXES)}
    # Only the scripts are compared with their twin, so only they are rendered from it. A script
    # whose artifact does not apply to the twin gets no twin: the verifier reports that.
    twin_scripts = {
        name: render_artifact(artifact, twin, header=twin_header)
        for artifact, name, _ in rendered if name.endswith(SCRIPT_SUFFIXES) and artifact.applies(twin)
    }
    report = verify_scripts(
        scripts, product=plan.product, adfs_version=plan.adfs.version if plan.adfs else None,
        twin_scripts=twin_scripts, portable={name for artifact, name, _ in rendered if artifact.portable},
    )
    if not report.ok:
        raise VerificationFailed(report)

    texts: dict[str, str] = {}
    for _, name, text in rendered:
        if name in RESERVED_NAMES:
            raise ValueError(f"an artifact may not be called {name!r}: the bundle writes that file itself")
        texts[name] = text
    model = exposure(plan)
    texts[RUNBOOK] = render_template("runbook.md.j2", _runbook_context(plan, source, rendered, found, model))
    texts[EXPOSURE_FILE] = exposure_view.picture(model, source.plan_name)
    texts[PLAN_FILE] = dumps_plan(plan)
    texts[VERIFICATION_FILE] = dumps_json(report.to_dict(), sort_keys=True)

    files = {name: encode_file(name, text) for name, text in texts.items()}
    sums = "".join(f"{_sha256(data)}  {name}\n" for name, data in files.items())
    texts[SUMS_FILE] = sums
    files[SUMS_FILE] = encode_file(SUMS_FILE, sums)
    return Bundle(plan=plan, source=source, files=files, texts=texts, sha256=_sha256(files[SUMS_FILE]),
                  report=report, findings=tuple(found))


def _runbook_context(plan: PlanData, source: Source, rendered: list[tuple[Artifact, str, str]],
                     findings: list[Finding], model: Exposure) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    for artifact, name, _ in rendered:
        entry = {**artifact.describe(plan), "is_script": name.endswith(SCRIPT_SUFFIXES)}
        (later if artifact.run_order >= LATER_RUN_ORDER else steps).append(entry)
        if artifact.run_order < LATER_RUN_ORDER:
            steps.extend(runbook_steps_after(plan, artifact.key))
    for number, step in enumerate(steps, start=1):
        step["number"] = number
    warnings = [f for f in findings if f.severity == "warning"]
    return {
        "header": source.header(),
        "product_label": plan.product_label,
        "steps": steps,
        "later": later,
        "warnings": warnings,
        "warning_count": len(warnings),
        # The exposure notes are the matrix below: listed once, as a table.
        "notes": [f for f in findings if f.severity == "info" and f.code not in EXPOSURE_CODES],
        "exposure_file": EXPOSURE_FILE,
        "exposure_rows": exposure_rows(model, internet_checks(plan, model)),
        "accepted_risks": [{"code": a.code, "field": a.field, "reason": a.reason} for a in plan.accepted_risks],
        "tag_grants": [p.identity.partition(":")[2] for p in plan.mobility_policies if p.scope == "tag"],
        "client_preparation": desktop_client_preparation(plan),
        # Why there is no verify-external.ps1, when there is none.
        "no_external_verification": None if verify_external_applies(plan) else NO_EXTERNAL_VERIFICATION,
    }


def render_plan_doc(doc: Any, *, source: Source | None = None, plan_ref: str | None = None,
                    revision: int | None = None) -> Bundle:
    """Return the bundle for a parsed plan document; raise PlanRejected when it is invalid or blocked.

    Without `source`, the source is this tool version with `plan_ref` and `revision`.
    """
    plan, findings = assess(doc)
    if plan is None or has_errors(findings):
        raise PlanRejected(findings)
    src = source if source is not None else Source.for_plan(plan, plan_ref=plan_ref, revision=revision)
    return build_bundle(plan, source=src, findings=findings)


def bundle_zip(bundle: Bundle, extra: dict[str, bytes] | None = None) -> bytes:
    """Return the bundle as a deterministic zip: sorted names, fixed dates and permissions.

    `extra` files (an approval record, say) are added beside the bundle files and
    are not covered by SHA256SUMS; they may not reuse a bundle file's name.
    """
    entries = dict(bundle.files)
    for name, data in (extra or {}).items():
        if name in entries:
            raise ValueError(f"extra file {name!r} would replace a bundle file")
        entries[name] = data
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name], compresslevel=9)
    return buffer.getvalue()
