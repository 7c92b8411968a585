"""Check a bundle: is this set of files, byte for byte, the bundle of an approved revision?

`APPROVAL.json` is not signed: whoever holds the zip can change the scripts, SHA256SUMS and
APPROVAL.json together. The server can tell, because it re-renders the revision from its
stored data and knows who approved it: a bundle is genuine when every file equals what the
approved download of that revision holds (the bundle files and APPROVAL.json), and nothing
else is there. Read side: nothing here writes.
"""
from __future__ import annotations

import hashlib
import io
import json
import lzma
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.models import Plan, Revision
from wizard.review import access
from wizard.review.state import (
    APPROVAL_FILE,
    approval_file,
    approval_of,
    approval_record,
    latest_approved,
    recheck,
)
from wizard.scripts.bundle import SUMS_FILE

# A bundle is a few dozen small files; anything much larger is not one.
MAX_FILES = 200
MAX_BYTES = 50 * 1024 * 1024


class NotABundle(Exception):
    """The upload or folder cannot be read as a set of bundle files; the message says why."""


@dataclass(frozen=True)
class BundleCheck:
    """The verdict on a set of files."""

    genuine: bool
    summary: str
    revision: Revision | None = None
    plan_name: str = ""
    approved_by: str = ""
    approved_at: str = ""
    bundle_sha256: str = ""
    differences: list[str] = field(default_factory=list)
    # A genuine bundle of an older revision: the plan's newest approved revision, which these files are not.
    newer_approved: Revision | None = None


# What reading a damaged zip raises. Its directory: BadZipFile, and also NotImplementedError (a RuntimeError: "zip file
# version 10.9"), IndexError (a cut extra field) and UnicodeDecodeError (a ValueError: a name flagged UTF-8 that is
# not). A member: zipfile's own errors and each decompressor's (a corrupt deflate stream raises zlib.error, a corrupt
# LZMA one LZMAError, a truncated one EOFError), which derive from none of them.
_UNREADABLE = (zipfile.BadZipFile, OSError, RuntimeError, ValueError, IndexError, EOFError, zlib.error,
               lzma.LZMAError)


def files_from_zip(data: bytes) -> dict[str, bytes]:
    """Return {file name: bytes} of a zip (a single top folder, if any, is dropped)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _UNREADABLE:
        raise NotABundle("the file is not a zip archive") from None
    # Not ZipInfo.is_dir(): it reads the name's last character, and a member's name may be empty (IndexError).
    members = [m for m in archive.infolist() if not m.filename.endswith("/")]
    if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_BYTES:
        raise NotABundle("the zip holds far more than a bundle does")
    names = [m.filename for m in members]
    tops = {n.split("/", 1)[0] for n in names}
    strip = len(tops) == 1 and all("/" in n for n in names)
    files: dict[str, bytes] = {}
    for member in members:
        name = member.filename.split("/", 1)[1] if strip else member.filename
        if name in files:
            # Which of the two an unzip leaves on disk depends on the tool (Expand-Archive keeps the
            # first, others the last): no verdict can speak for both.
            raise NotABundle(f"the zip holds {name} twice")
        try:
            files[name] = archive.read(member)
        except _UNREADABLE as exc:
            raise NotABundle(f"the zip cannot be read ({exc})") from None
    return files


def files_from_folder(folder: Path) -> dict[str, bytes]:
    """Return {file name: bytes} of the files in `folder` (and its subfolders, by relative path)."""
    if not folder.is_dir():
        raise NotABundle(f"{folder} is not a folder")
    paths = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    if len(paths) > MAX_FILES:
        raise NotABundle("the folder holds far more than a bundle does")
    # The same bound as a zip's: a file of gigabytes (a sparse one takes no disk space) was read whole into
    # memory. Each read is bounded too, in case a file grows between its size and its read.
    left = MAX_BYTES
    files: dict[str, bytes] = {}
    for path in paths:
        if path.stat().st_size > left:
            raise NotABundle("the folder holds far more than a bundle does")
        with path.open("rb") as handle:
            data = handle.read(left + 1)
        if len(data) > left:
            raise NotABundle("the folder holds far more than a bundle does")
        left -= len(data)
        files[path.relative_to(folder).as_posix()] = data
    return files


NO_MATCH = "No revision on this server matches these files (neither APPROVAL.json nor SHA256SUMS does)."
# For a user, one answer whether the claimed revision does not exist or belongs to a plan they cannot see.
NO_VISIBLE_MATCH = "No revision you can see matches these files (neither APPROVAL.json nor SHA256SUMS does)."


def _find_revision(files: dict[str, bytes], user: Any = None) -> tuple[Revision | None, str]:
    """Return the revision the files claim to be (by APPROVAL.json, else by the bundle hash) and how.

    With `user`, only revisions of plans that user can see are looked at: a revision of another plan
    reads exactly like one that does not exist (the answer reveals no plan's existence).
    """
    revisions = Revision.objects.select_related("plan", "created_by")
    if user is not None:
        revisions = revisions.filter(plan__in=access.plans_visible_to(user))
    record = files.get(APPROVAL_FILE)
    if record is not None:
        try:
            claim = json.loads(record.decode("utf-8"))
            # Checked here, not by the query: a plan code that is no UUID ("x", NUL, a list) made the
            # UUID field raise ValidationError, and a revision of Infinity int() an OverflowError.
            code, number = uuid.UUID(str(claim["plan_code"])), int(claim["revision"])
            return revisions.get(plan__code=code, number=number), ""
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError, UnicodeDecodeError,
                Revision.DoesNotExist):
            pass  # a damaged or invented record (or one nested too deeply to read): fall back to the hash
    sums = files.get(SUMS_FILE)
    if sums is not None:
        digest = hashlib.sha256(sums).hexdigest()
        found = revisions.filter(bundle_sha256=digest).order_by("-number").first()
        if found is not None:
            return found, ""
    return None, NO_MATCH if user is None else NO_VISIBLE_MATCH


def check_files(files: dict[str, bytes], *, user: Any = None) -> BundleCheck:
    """Return whether `files` are byte for byte the approved download of a revision, or what differs.

    With `user`, only revisions of plans that user can see are considered (a stranger learns
    nothing about other plans); without one (the command line), every revision is.
    """
    revision, reason = _find_revision(files, user)
    if revision is None:
        return BundleCheck(genuine=False, summary=reason)
    plan: Plan = revision.plan
    name = revision.data.get("name", plan.name)
    approval = approval_of(revision)
    if approval is None:
        return BundleCheck(genuine=False, revision=revision, plan_name=name,
                           summary=f"These files claim to be revision {revision.number} of \u201c{name}\u201d, "
                                   f"which is not approved (or its approval was withdrawn): do not run them.")
    result = recheck(revision)
    if result.bundle is None or result.bundle_sha256 != approval.bundle_sha256:
        return BundleCheck(genuine=False, revision=revision, plan_name=name,
                           summary=f"Revision {revision.number} of \u201c{name}\u201d can no longer be reproduced by "
                                   f"this server, so these files cannot be checked against it.")
    record = approval_record(revision, approval)
    expected = dict(result.bundle.files)
    expected[APPROVAL_FILE] = approval_file(record)
    differences = []
    for file_name, content in expected.items():
        if file_name not in files:
            differences.append(f"{file_name}: missing")
        elif files[file_name] != content:
            differences.append(f"{file_name}: differs from the approved file")
    differences += [f"{file_name}: not part of the approved bundle" for file_name in sorted(files)
                    if file_name not in expected]
    who = record["approved_by_name"] or record["approved_by"]
    common = dict(revision=revision, plan_name=name, approved_by=who, approved_at=record["approved_at"],
                  bundle_sha256=approval.bundle_sha256, differences=differences)
    if differences:
        return BundleCheck(genuine=False, summary=f"These files are NOT the approved bundle of revision "
                                                  f"{revision.number} of \u201c{name}\u201d: "
                                                  f"{len(differences)} difference(s). Do not run them.", **common)
    summary = (f"These files are, byte for byte, the bundle of revision {revision.number} of \u201c{name}\u201d, "
               f"approved by {who} at {record['approved_at']}.")
    newer = latest_approved(plan)
    if newer is not None and newer.number <= revision.number:
        newer = None
    if newer is not None:
        newer_approval = approval_of(newer)
        assert newer_approval is not None  # latest_approved returns a revision whose approval is in force
        newer_record = approval_record(newer, newer_approval)
        summary += (f" But they are not the plan's latest approved change: revision {newer.number} of "
                    f"\u201c{newer.data.get('name', plan.name)}\u201d was approved after it, by "
                    f"{newer_record['approved_by_name'] or newer_record['approved_by']} at "
                    f"{newer_record['approved_at']}. Run these files only if you mean to apply the older revision "
                    f"{revision.number}; otherwise download the approved bundle of revision {newer.number}.")
    return BundleCheck(genuine=True, summary=summary, newer_approved=newer, **common)
