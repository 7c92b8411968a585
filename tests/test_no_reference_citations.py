"""The project stands on its own: nothing in it reads or cites the engineers' private reference notes.

Users see findings, errata reasons, catalog notes and documents that name their real sources
("Microsoft's two-factor procedure", "the cmdlet's own help"); the notes the engineers worked
from are not shipped, so a pointer to them (a path, a "section N") would lead nowhere.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Folders that are not the project's own text.
SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", ".mypy_cache",
                ".ruff_cache", "staticfiles", ".hypothesis"}
TEXT_SUFFIXES = {".py", ".md", ".json", ".html", ".j2", ".ps1", ".txt", ".cfg", ".ini", ".toml", ".js",
                 ".css", ".inf", ".csv", ".yml", ".yaml", ".svg", ""}
# Written in pieces so that this file does not match itself.
CITATION = re.compile("|".join([
    r"domain[- ]notes",
    r"\.\./" + "shared",
    "/work/" + "shared",
    r"modern-auth-" + "notes",
    r"toolchain" + r"\.md",
    r"Modern Authentication " + "notes",
    r"shared/" + "reference",
]), re.IGNORECASE)


def _project_files():
    for path in ROOT.rglob("*"):
        if any(part in SKIPPED_DIRS for part in path.relative_to(ROOT).parts):
            continue
        if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES and path.name != Path(__file__).name:
            yield path


def test_no_file_of_the_project_cites_the_private_reference_notes():
    hits = []
    for path in _project_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if CITATION.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not hits, "\n".join(hits)


def test_the_check_finds_a_citation(tmp_path):
    # The pattern itself must work, or the test above proves nothing.
    assert CITATION.search("see the domain notes, section 2")
    assert CITATION.search("(domain-notes section 4)")
    assert CITATION.search("read " + "../" + "shared/README.md")
    assert not CITATION.search("Microsoft's two-factor procedure")
