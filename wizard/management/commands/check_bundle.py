"""manage.py check_bundle PATH: is this bundle (a zip or an unpacked folder) byte for byte an approved revision?"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wizard.review.bundlecheck import NotABundle, check_files, files_from_folder, files_from_zip


class Command(BaseCommand):
    help = ("Say whether a bundle (zip or unpacked folder) is byte for byte the approved bundle of a revision, "
            "and by whom and when it was approved, or list what differs. Exit status 0 only when it is.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the bundle zip, or the folder it was unpacked into")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            files = files_from_folder(path) if path.is_dir() else files_from_zip(path.read_bytes())
        except (NotABundle, OSError) as exc:
            raise CommandError(f"not a bundle: {exc}") from None
        verdict = check_files(files)
        self.stdout.write(verdict.summary)
        if verdict.bundle_sha256:
            self.stdout.write(f"approved bundle SHA-256: {verdict.bundle_sha256}")
        for difference in verdict.differences:
            self.stdout.write(f"  {difference}")
        if not verdict.genuine:
            raise CommandError("the bundle is not the approved one: do not run its scripts")
