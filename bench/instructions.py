"""Rendering and checking a plan counted in machine instructions: a yardstick that does not move
with the machine.

Usage: .venv/bin/python bench/instructions.py [--no-cli] [--no-in-process] [--pools 100]

The machines these benchmarks run on change speed by a third from run to run; the time goals of
issue 14 can then be met or missed by the same code. valgrind's callgrind counts the instructions
a process executes instead: the same code, plan and Python give the same count (to about 0.1 %)
whatever else the machine is doing. This benchmark reports, for the same plans as bench/render.py:

- `render_plan` processes (each a fresh `manage.py render_plan`, after one run that fills the
  compiled-template cache): the instructions of each, and the 100-pool process's count against
  the one-pool ones: the reading of the "at most 1.5 x" goal in instructions;
- the in-process render of a plan not rendered before: the instructions of a process that sets up
  and renders the s01 example once, then renders the plan fresh (a new name, every cache emptied),
  less those of the same process without that last render;
- with --without-analysis, each in-process render again with tree-sitter's analysis of the scripts
  taken from memory: what the rest of a render costs, the bound on what any faster verifier that
  keeps the other checks could reach.

Instructions are not milliseconds (how many a machine runs per millisecond depends on the code),
but a change that removes instructions from the render removes time on every machine. Under
valgrind a process runs about 50 times slower: the whole benchmark takes about six minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GOAL_CLI_RATIO = 1.5
_IR_RE = re.compile(r"Collected\s*:\s*(\d+)")

# Run by `python -c` under callgrind: Django set up, the s01 example rendered once (catalog loaded,
# templates compiled), then, when a plan file is given, that plan rendered fresh. With a second
# argument N the plan is rendered fresh N times, every cache emptied before each, while tree-sitter's
# analysis of a script text already analysed is taken from memory: the second render then costs what
# a render would if that analysis were free (--without-analysis).
_DRIVER = """
import json, os, sys
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")
import django
django.setup()
from bench.plans import example_plan
from wizard.caches import clear_all
from wizard.plan.engine import assess
from wizard.proof import verify
from wizard.scripts.bundle import Source, build_bundle

def render(doc):
    plan, findings = assess(doc)
    return build_bundle(plan, source=Source.for_plan(plan), findings=findings)

render(example_plan())
if len(sys.argv) > 2:
    analysed = {{}}
    analyse = verify.analyse
    def remembered(text, wanted=None):
        facts = analysed.get(text)
        if facts is None:
            facts = analysed[text] = analyse(text, wanted)
        return facts
    verify.analyse = remembered
if len(sys.argv) > 1:
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 1):
        clear_all()
        render({{**doc, "name": doc["name"] + " (fresh)"}})
"""


def valgrind() -> str | None:
    """Return the path of valgrind, or None when it is not installed."""
    return shutil.which("valgrind")


def count(argv: list[str], env: dict[str, str], tmp: Path) -> int:
    """Return the instructions callgrind counts for one run of `argv` (the whole process)."""
    out = tmp / "callgrind.out"
    result = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
                            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    out.unlink(missing_ok=True)
    found = _IR_RE.findall(result.stderr)
    if not found:
        raise RuntimeError(f"callgrind printed no count:\n{result.stderr[-2000:]}")
    return int(found[-1])


def environment(tmp: Path) -> dict[str, str]:
    """Return the environment every counted process runs in: the same hash seed, the same caches."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONHASHSEED"] = "0"   # dictionary and set layouts, and so the counts, the same every run
    env["WIZARD_TEMPLATE_CACHE"] = str(tmp / "templates")
    return env


def plans() -> dict[str, dict[str, Any]]:
    from bench.plans import EXAMPLE, example_plan, generated_plan

    return {f"{EXAMPLE} (1 pool, 1 domain)": example_plan(), "generated, 1 pool, 20 domains": generated_plan(1),
            "generated, 100 pools, 20 domains": generated_plan(100)}


def cli_counts(tmp: Path, env: dict[str, str]) -> list[tuple[str, int]]:
    """Return (plan, instructions of one `manage.py render_plan` process) for each plan."""
    rows = []
    for label, doc in plans().items():
        path = tmp / "plan.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        argv = [sys.executable, str(ROOT / "manage.py"), "render_plan", str(path)]
        # The first run fills the compiled-template cache, as bench/render.py's first run does.
        subprocess.run([*argv, "--out", str(tmp / "warm")], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows.append((label, count([*argv, "--out", str(tmp / "out")], env, tmp)))
        shutil.rmtree(tmp / "out", ignore_errors=True)
    return rows


def in_process_counts(tmp: Path, env: dict[str, str], sizes: list[int]) -> tuple[int, list[tuple[str, int]]]:
    """Return (instructions of the driver alone, [(plan, instructions of its fresh render)])."""
    argv = [sys.executable, "-c", _DRIVER.format(root=str(ROOT))]
    subprocess.run(argv, cwd=ROOT, env=env, check=True)   # fills the compiled-template cache
    base = count(argv, env, tmp)
    rows = []
    for label, path in _plan_files(tmp, sizes):
        rows.append((label, count([*argv, str(path)], env, tmp) - base))
    return base, rows


def without_analysis_counts(tmp: Path, env: dict[str, str], sizes: list[int]) -> list[tuple[str, int, int]]:
    """Return [(plan, instructions of its fresh render, the same with tree-sitter's analysis free)].

    The second figure is an upper bound on what any faster verifier that still runs the rest of the
    checks (psscan, the catalog binding, the twin, the errata) and renders the same scripts could
    reach: the other work of a render, counted alone.
    """
    argv = [sys.executable, "-c", _DRIVER.format(root=str(ROOT))]
    subprocess.run(argv, cwd=ROOT, env=env, check=True)
    rows = []
    for label, path in [(f"{EXAMPLE_LABEL}", _example_file(tmp)), *_plan_files(tmp, sizes)]:
        once = count([*argv, str(path), "1"], env, tmp)
        twice = count([*argv, str(path), "2"], env, tmp)
        base = count([*argv, str(path), "0"], env, tmp)
        rows.append((label, once - base, twice - once))
    return rows


EXAMPLE_LABEL = "s01 example (1 pool, 1 domain)"


def _example_file(tmp: Path) -> Path:
    from bench.plans import example_plan

    path = tmp / "plan-s01.json"
    path.write_text(json.dumps(example_plan()), encoding="utf-8")
    return path


def _plan_files(tmp: Path, sizes: list[int]) -> list[tuple[str, Path]]:
    from bench.plans import generated_plan

    out = []
    for size in sizes:
        path = tmp / f"plan-{size}.json"
        path.write_text(json.dumps(generated_plan(size)), encoding="utf-8")
        out.append((f"generated, {size} pool{'s' if size != 1 else ''}, 20 domains", path))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cli", action="store_true", help="skip the render_plan processes")
    parser.add_argument("--no-in-process", action="store_true", help="skip the in-process renders")
    parser.add_argument("--pools", default="1,100", help="plan sizes rendered in process (comma-separated)")
    parser.add_argument("--without-analysis", action="store_true",
                        help="also count each in-process render with tree-sitter's analysis free (an upper "
                             "bound on what a faster verifier could save; about five more minutes per plan)")
    args = parser.parse_args(argv)
    if valgrind() is None:
        print("valgrind is not installed: nothing counted (Debian: apt-get install valgrind)")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="wizard-instructions-"))
    env = environment(tmp)
    modules = "from byte code" if not env.get("PYTHONDONTWRITEBYTECODE") else "compiled from source in every process"
    print(f"Instructions (valgrind callgrind; millions; PYTHONHASHSEED=0; the app's modules {modules})")
    try:
        if not args.no_cli:
            rows = cli_counts(tmp, env)
            print(f"\n`manage.py render_plan`, one process each\n{'plan':<44}{'instructions':>14}")
            for label, ir in rows:
                print(f"{label:<44}{ir / 1e6:>14,.0f}")
            big = rows[-1][1]
            for label, ir in rows[:-1]:
                ratio = big / ir
                print(f"  100-pool process / {label}: {ratio:.2f} x "
                      f"(goal at most {GOAL_CLI_RATIO} x: {'MET' if ratio <= GOAL_CLI_RATIO else 'MISSED'})")
        if not args.no_in_process:
            base, rows = in_process_counts(tmp, env, [int(s) for s in args.pools.split(",")])
            print(f"\nIn process, a plan not rendered before (the process without it: {base / 1e6:,.0f})")
            print(f"{'plan':<44}{'instructions':>14}")
            for label, ir in rows:
                print(f"{label:<44}{ir / 1e6:>14,.0f}")
        if args.without_analysis:
            print("\nIn process, fresh, with and without tree-sitter's analysis of the scripts (millions)")
            print(f"{'plan':<44}{'full':>10}{'analysis free':>16}{'analysis':>10}")
            for label, full, free in without_analysis_counts(tmp, env, [int(s) for s in args.pools.split(",")]):
                print(f"{label:<44}{full / 1e6:>10,.0f}{free / 1e6:>16,.0f}{(full - free) / 1e6:>10,.0f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
