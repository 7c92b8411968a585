"""Authorization lives in one module, `wizard.review.access`: views and templates get booleans.

These tests read the source: a view or a template that compares owners, asks for a
permission or raises PermissionDenied itself decides on its own, and fails here.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ACCESS = ROOT / "wizard" / "review" / "access.py"
VIEWS = sorted((ROOT / "wizard" / "web").rglob("*.py"))
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
OTHER_REVIEW = [p for p in sorted((ROOT / "wizard" / "review").glob("*.py")) if p != ACCESS]

# What deciding about access looks like in Python source.
PY_DECISIONS = re.compile(r"owner_id|owner\s*==|==\s*\S*owner\b|has_perm|REVIEW_PERMISSION|user\.pk\b"
                          r"|\.created_by_id\b|PermissionDenied\(|\.shares\.filter")
# ... and in a template.
TEMPLATE_DECISIONS = re.compile(r"owner_id|owner\s*==|==\s*\S*owner|has_perm|perms\.|user\.pk|user\.id\b"
                                r"|created_by_id|is_superuser|is_staff")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", VIEWS, ids=_rel)
def test_no_web_module_decides_access_itself(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = sorted(set(PY_DECISIONS.findall(text)))
    assert found == [], f"{_rel(path)} decides access itself ({found}): ask wizard.review.access"


@pytest.mark.parametrize("path", TEMPLATES, ids=_rel)
def test_no_template_decides_access_itself(path: Path) -> None:
    found = TEMPLATE_DECISIONS.findall(path.read_text(encoding="utf-8"))
    assert found == [], f"{_rel(path)} decides access itself ({found}): pass a boolean from the view"


@pytest.mark.parametrize("path", OTHER_REVIEW, ids=_rel)
def test_no_other_review_module_holds_an_access_rule(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rules = [node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
             and re.match(r"_?(may|can|require)_", node.name)]
    assert rules == [], f"{_rel(path)} defines access rules {rules}: they belong in wizard.review.access"
    text = path.read_text(encoding="utf-8")
    assert not PY_DECISIONS.findall(text), f"{_rel(path)} decides access itself"
