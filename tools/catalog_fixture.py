"""Write the small reference fixture the catalog-build tests run on in CI.

Usage (from the repository root, with the reference catalog at hand):

    .venv/bin/python tools/catalog_fixture.py PATH/TO/reference/cmdlets.json

The fixture (tests/fixtures/reference/) keeps, of Microsoft's help, only the fields
tools/build_catalog.py reads, for every cmdlet an override names plus a few more of each
module. tests/test_catalog.py builds the catalog from it and checks that each of those
cmdlets comes out exactly as in the committed wizard/proof/catalog/cmdlets.json. Rerun this
tool after adding an override on a cmdlet the fixture does not hold yet.
Only the standard library is used.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
OVERRIDES = REPO_ROOT / "wizard" / "proof" / "catalog" / "overrides.json"
FIXTURE_DIR = REPO_ROOT / "tests" / "fixtures" / "reference"
# Beside the cmdlets the overrides name: the proxy cmdlets every bundle uses, a Get- cmdlet and
# a pki cmdlet, so each kind of entry the builder makes (Skype, ADFS, plain) is covered.
EXTRA = ("New-CsProxyConfiguration", "Set-CsProxyConfiguration", "Get-CsWebServiceConfiguration",
         "Get-AdfsRelyingPartyTrust", "Get-Certificate")
CMDLET_KEYS = ("module", "applicable", "parameters", "supports_whatif", "common_parameters", "docs_file")
PARAM_KEYS = ("type", "position", "aliases", "accepted_values", "applicable", "prose_ranges")


def override_cmdlets(overrides: dict[str, Any]) -> set[str]:
    """Return every cmdlet an override names."""
    names: set[str] = set()
    for ov in overrides["overrides"]:
        names.update(ov.get("cmdlets", ()))
        names.update(ov.get("cmdlets_parameters", {}))
    return names


def _params(params: dict[str, Any]) -> dict[str, Any]:
    return {name: {k: p[k] for k in PARAM_KEYS if k in p} for name, p in params.items()}


def trim(entry: dict[str, Any]) -> dict[str, Any]:
    """Return the parts of one reference entry the catalog builder reads."""
    out = {k: entry[k] for k in CMDLET_KEYS if k in entry}
    out["parameters"] = _params(entry["parameters"])
    if entry.get("variants"):
        out["variants"] = {name: {"docs_file": v["docs_file"], "parameters": _params(v["parameters"])}
                           for name, v in entry["variants"].items()}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="the reference cmdlets.json (Microsoft's cmdlet help, as JSON)")
    args = parser.parse_args(argv)
    reference = json.loads(args.reference.read_text("utf-8"))
    sources = json.loads(args.reference.with_name("sources.json").read_text("utf-8"))
    names = sorted(override_cmdlets(json.loads(OVERRIDES.read_text("utf-8"))) | set(EXTRA), key=str.lower)
    missing = [n for n in names if n not in reference]
    if missing:
        print(f"catalog_fixture: not in the reference: {', '.join(missing)}", file=sys.stderr)
        return 2
    cmdlets = {n: trim(reference[n]) for n in names}
    files = [c["docs_file"].removeprefix("docs/") for c in cmdlets.values()]
    files += [v["docs_file"].removeprefix("docs/") for c in cmdlets.values() for v in c.get("variants", {}).values()]
    fixture_sources = {k: sources[k] for k in ("retrieved", "note", "repositories")}
    fixture_sources["files"] = {f: sources["files"][f] for f in sorted(files)}
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    for name, data in (("cmdlets.json", cmdlets), ("sources.json", fixture_sources)):
        (FIXTURE_DIR / name).write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
    print(f"wrote {FIXTURE_DIR} ({len(cmdlets)} cmdlets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
