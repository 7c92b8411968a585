"""Rendering and checking a plan: `wizard.plan.engine.assess` + `wizard.scripts.bundle.build_bundle`,
in process and as whole `manage.py render_plan` processes.

Usage: .venv/bin/python bench/render.py [--repeat N] [--sizes 1,10,25,50,100] [--profile POOLS]
                                        [--cli-runs N] [--no-cli]

Prints, per plan, the median (and min, max) wall time of: reading and checking the document
(assess), building the verified bundle (build_bundle: render, harmless twin, verification,
runbook, hashes), both together, and their CPU time. Then `render_plan` on the command line,
each run a fresh process, for the one-pool example, a generated one-pool plan with 20 SIP
domains and the generated 100-pool plan. The goals (issue 14): the 100-pool, 20-domain plan
under 250 ms in process (a plan not rendered before), and at most 1.5 times the whole-process
time of a one-pool plan on the command line.
"""
from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")

GOAL_MS = 250.0
GOAL_CLI_RATIO = 1.5
DEFAULT_SIZES = (1, 10, 25, 50, 100)


CPU_MS: list[float] = []


def _timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Return `repeat` wall-clock timings of `fn()` in milliseconds; CPU_MS gets the CPU times.

    On a shared machine the wall time includes waiting for a CPU; the process CPU time does not.
    """
    out = []
    CPU_MS.clear()
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - start) * 1000)
        CPU_MS.append((time.process_time() - cpu) * 1000)
    return out


def measure(doc: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Return timings (ms) for assessing and bundling `doc`.

    `fresh` renders a plan this process has not rendered before (the name changes each time,
    so every script's text differs and the verifier's per-script cache misses, as after any
    edit); `again` renders the very same plan again (the review page reloaded). The first run
    of the process (`cold`: templates compiled, catalog loaded) is reported apart.
    """
    from wizard.caches import clear_all
    from wizard.plan.engine import assess
    from wizard.scripts.bundle import Source, build_bundle

    counter = iter(range(10**9))

    def variant() -> dict[str, Any]:
        # A new name changes every file, and the process's caches are emptied: nothing of it is known.
        clear_all()
        return {**doc, "name": f"{doc['name']} #{next(counter)}"}

    def both(d: dict[str, Any]) -> Any:
        plan, findings = assess(d)
        assert plan is not None, "the benchmark plan must be valid"
        return build_bundle(plan, source=Source.for_plan(plan), findings=findings)

    cold = _timed(lambda: both(variant()), 1)[0]
    bundle = both(doc)
    plans = [assess(variant()) for _ in range(repeat)]
    fresh_assess = _timed(lambda: assess(variant()), repeat)
    builds = iter(plans)

    def build_next() -> Any:
        plan, findings = next(builds)
        return build_bundle(plan, source=Source.for_plan(plan), findings=findings)

    fresh_build = _timed(build_next, repeat)
    fresh_total, fresh_cpu = [], []
    for _ in range(repeat):
        d = variant()   # outside the timing
        fresh_total += _timed(lambda d=d: both(d), 1)
        fresh_cpu += CPU_MS
    again = _timed(lambda: both(doc), repeat)
    # Edited: a plan renamed (a new text for every script, so no bundle or verification result is found), in a
    # process that keeps what it may between renders, as a server worker does after each edit (the verifier
    # re-parses only the changed lines of a script whose last tree it kept, wizard.proof.psast).
    edited = []
    for _ in range(repeat):
        d = {**doc, "name": f"{doc['name']} #{next(counter)}"}
        _timed(lambda d=d: both(d), 1)
        edited += CPU_MS
    return {
        "pools": len(bundle.plan.pools), "sip_domains": len(bundle.plan.sip_domains), "files": len(bundle.files),
        "bytes": sum(len(b) for b in bundle.files.values()), "cold": cold,
        "assess": statistics.median(fresh_assess), "build": statistics.median(fresh_build),
        "total": statistics.median(fresh_total), "total_min": min(fresh_total), "total_max": max(fresh_total),
        "again": statistics.median(again), "cpu": statistics.median(fresh_cpu),
        "edited": statistics.median(edited),
    }


def growth_exponent(rows: list[dict[str, Any]]) -> tuple[float, int, int] | None:
    """Return (slope of log time against log pools, from, to) over the plans of 10 pools or more.

    1.0 is linear; below 1 the fixed cost still dominates.
    """
    big = [r for r in rows if r["pools"] >= 10]
    if len(big) < 2:
        return None
    a, b = big[0], big[-1]
    # CPU time: on a shared machine the wall time also counts waiting for a CPU.
    return math.log(b["cpu"] / a["cpu"]) / math.log(b["pools"] / a["pools"]), a["pools"], b["pools"]


def profile(doc: dict[str, Any], top: int = 25) -> None:
    """Print the functions that cost the most (cumulative) while assessing and bundling `doc`."""
    from wizard.plan.engine import assess
    from wizard.scripts.bundle import Source, build_bundle

    plan, findings = assess(doc)
    build_bundle(plan, source=Source.for_plan(plan), findings=findings)  # templates compiled, catalog loaded
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(5):
        # A new name each time: every script differs, as after an edit (no per-script cache hit).
        plan, findings = assess({**doc, "name": f"{doc['name']} #{i}"})
        build_bundle(plan, source=Source.for_plan(plan), findings=findings)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def cli_runs(runs: int, template_cache: bool = True, compiled: bool = False) -> list[dict[str, Any]]:
    """Return wall and CPU milliseconds of `manage.py render_plan`, each run a fresh process.

    With `compiled`, the processes may write the app's byte code (__pycache__), as a normal install
    has it: without it (PYTHONDONTWRITEBYTECODE=1 in the environment) every process compiles the
    app's modules from source, about 50 ms that weigh the same for every plan.
    """
    import json
    import resource
    import shutil
    import subprocess
    import tempfile

    from bench.plans import EXAMPLE, example_plan, generated_plan

    tmp = Path(tempfile.mkdtemp(prefix="wizard-cli-"))
    plans = {f"{EXAMPLE} (1 pool, 1 domain)": example_plan(), "generated, 1 pool, 20 domains": generated_plan(1),
             "generated, 100 pools, 20 domains": generated_plan(100)}
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env[TEMPLATE_CACHE] = str(tmp / "templates") if template_cache else "off"
    if compiled:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    rows = []
    try:
        for label, doc in plans.items():
            path = tmp / "plan.json"
            path.write_text(json.dumps(doc), encoding="utf-8")
            walls, cpus = [], []
            for run in range(runs + 1):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                subprocess.run([sys.executable, str(ROOT / "manage.py"), "render_plan", str(path),
                                "--out", str(tmp / f"out-{run}")], cwd=ROOT, env=env, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                wall = (time.perf_counter() - start) * 1000
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
                if run:   # the first run fills the compiled-template cache; it is reported apart
                    walls.append(wall)
                    cpus.append(cpu)
                else:
                    first = (wall, cpu)
            rows.append({"label": label, "wall": statistics.median(walls), "cpu": statistics.median(cpus),
                         "min_wall": min(walls), "first": first})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


TEMPLATE_CACHE = "WIZARD_TEMPLATE_CACHE"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--sip-domains", type=int, default=20)
    parser.add_argument("--profile", type=int, metavar="POOLS", help="profile the generated plan of POOLS pools")
    parser.add_argument("--cli-runs", type=int, default=7, help="render_plan processes per plan (median)")
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line runs")
    parser.add_argument("--compiled", action="store_true",
                        help="let render_plan write the app's byte code (a normal install), even with "
                             "PYTHONDONTWRITEBYTECODE set here")
    parser.add_argument("--no-template-cache", action="store_true",
                        help="run render_plan with WIZARD_TEMPLATE_CACHE=off (every process compiles the templates)")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from bench.plans import EXAMPLE, example_plan, generated_plan

    if args.profile:
        profile(generated_plan(args.profile, args.sip_domains))
        return 0

    from bench.machine import describe

    print(describe(), end="\n\n")

    print(f"Rendering and checking in process (median of {args.repeat}; ms). assess, bundle, total, min, max: a plan")
    print("not rendered before (as after an edit); cpu: its process CPU time; again: the same plan once more;")
    print("cold: the first render of the process; edited: CPU of a plan renamed in a process that keeps what it may")
    print("between renders (a server worker after an edit). Wall times include waiting for a CPU on a busy machine.")
    header = (f"{'plan':<34}{'pools':>6}{'files':>6}{'KiB':>7}{'assess':>9}{'bundle':>9}{'total':>9}{'min':>8}"
              f"{'max':>8}{'cpu':>8}{'again':>8}{'cold':>8}{'edited':>8}")
    print(header)
    print("-" * len(header))

    def show(label: str, r: dict[str, Any]) -> None:
        print(f"{label:<34}{r['pools']:>6}{r['files']:>6}{r['bytes'] / 1024:>7.0f}{r['assess']:>9.1f}"
              f"{r['build']:>9.1f}{r['total']:>9.1f}{r['total_min']:>8.1f}{r['total_max']:>8.1f}{r['cpu']:>8.1f}{r['again']:>8.1f}"
              f"{r['cold']:>8.0f}{r['edited']:>8.1f}")

    show(EXAMPLE, measure(example_plan(), args.repeat))
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(generated_plan(size, args.sip_domains), args.repeat)
        rows.append(row)
        show(f"generated, {args.sip_domains} SIP domains", row)
    print()
    for r in rows:
        print(f"  {r['pools']:>4} pools: {r['total'] / r['pools']:6.2f} ms per pool ({r['cpu'] / r['pools']:6.2f} CPU)")
    growth = growth_exponent(rows)
    if growth is not None:
        slope, low, high = growth
        verdict = "linear or better" if slope <= 1.1 else "worse than linear"
        print(f"  growth exponent of the CPU time (log-log, {low}..{high} pools): {slope:.2f} ({verdict})")
    largest = rows[-1] if rows else None
    if largest and largest["pools"] >= 100:
        status = "MET" if largest["cpu"] < GOAL_MS else "MISSED"
        print(f"  goal: {largest['pools']}-pool plan under {GOAL_MS:.0f} ms in process -> {largest['cpu']:.1f} ms CPU "
              f"({largest['total']:.1f} ms wall, which counts waiting for a CPU): {status}")
    if not args.no_cli:
        print(f"\n`manage.py render_plan`, each run a fresh process (median of {args.cli_runs}; ms; the first run, "
              "which compiles the templates into the cache, apart)")
        print(f"{'plan':<44}{'wall':>8}{'cpu':>8}{'min':>8}{'first wall':>12}{'first cpu':>11}")
        cli = cli_runs(args.cli_runs, template_cache=not args.no_template_cache, compiled=args.compiled)
        import importlib.util

        # PYTHONDONTWRITEBYTECODE only stops writing: byte code written before (--compiled) is read.
        cached = Path(importlib.util.cache_from_source(str(ROOT / "wizard" / "scripts" / "bundle.py"))).exists()
        compiled = args.compiled or cached or not os.environ.get("PYTHONDONTWRITEBYTECODE")
        print(f"(the app's modules {'from byte code' if compiled else 'compiled from source in every process'})")
        if args.no_template_cache:
            print("(WIZARD_TEMPLATE_CACHE=off: every process compiles the templates)")
        for r in cli:
            print(f"{r['label']:<44}{r['wall']:>8.0f}{r['cpu']:>8.0f}{r['min_wall']:>8.0f}{r['first'][0]:>12.0f}"
                  f"{r['first'][1]:>11.0f}")
        big = cli[-1]
        for small in cli[:-1]:
            ratio, cpu_ratio = big["wall"] / small["wall"], big["cpu"] / small["cpu"]
            status = "MET" if cpu_ratio <= GOAL_CLI_RATIO else "MISSED"
            print(f"  goal: 100-pool process at most {GOAL_CLI_RATIO} x that of {small['label']} -> "
                  f"{cpu_ratio:.2f} x by CPU time ({ratio:.2f} x by wall time): {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
