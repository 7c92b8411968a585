"""`manage.py update_goldens`: regenerate tests/golden/<plan>/<file> from tests/fixtures/plans/*.json.

Run it (`make goldens`) after an intended change in the rendered output, and
review the diff: it shows exactly how the scripts changed. Needs no database.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wizard.plan.finding import has_errors
from wizard.plan.model import PlanData
from wizard.plan.reader import load_plan
from wizard.scripts.bundle import Bundle, Source, build_bundle


def fixtures_dir() -> Path:
    """Return the folder of the sample plans."""
    return Path(settings.BASE_DIR) / "tests" / "fixtures" / "plans"


def goldens_dir() -> Path:
    """Return the folder of the golden bundles."""
    return Path(settings.BASE_DIR) / "tests" / "golden"


def golden_source(plan: PlanData) -> Source:
    """Return the fixed source goldens are rendered with (so a version bump does not change them)."""
    return Source(plan_name=plan.name, plan_ref=None, revision=None, tool_version="golden")


def golden_bundle(path: Path) -> Bundle:
    """Return the bundle of the fixture at `path`; raise ValueError when it does not render."""
    plan, findings = load_plan(path.read_bytes())
    if plan is None or has_errors(findings):
        errors = "; ".join(f"{f.field}: {f.message}" for f in findings if f.severity == "error")
        raise ValueError(f"{path.name}: the fixture is not a renderable plan ({errors})")
    return build_bundle(plan, source=golden_source(plan))


class Command(BaseCommand):
    help = "Regenerate tests/golden/<plan>/<file> for every tests/fixtures/plans/*.json."
    requires_system_checks = ()  # no database and no checks: usable before migrate

    def handle(self, *args: Any, **options: Any) -> None:
        fixtures = sorted(fixtures_dir().glob("*.json"))
        if not fixtures:
            raise CommandError(f"no fixtures in {fixtures_dir()}")
        root = goldens_dir()
        root.mkdir(parents=True, exist_ok=True)
        wanted = {p.stem for p in fixtures}
        for stale in sorted(root.iterdir()):
            if stale.is_dir() and stale.name not in wanted:
                shutil.rmtree(stale)
                self.stdout.write(f"removed {stale}")
        for path in fixtures:
            try:
                bundle = golden_bundle(path)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            folder = root / path.stem
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            for name, data in bundle.files.items():
                (folder / name).write_bytes(data)
            self.stdout.write(f"{folder}: {len(bundle.files)} files")
