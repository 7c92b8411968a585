"""`make bench`: every benchmark in turn, with the figures printed (see docs/performance.md).

Usage: .venv/bin/python bench/run_all.py [--quick]

Each benchmark runs in its own interpreter (each configures Django its own way: the
in-process one with the default settings, the load one with a throw-away database).
--quick shortens the load runs (5 s per page, 15 s mixed) to smoke-test the harness;
the figures in docs/performance.md come from the full run.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    print("== 1. Rendering and checking a plan, in process and on the command line\n", flush=True)
    status = subprocess.run([sys.executable, str(BENCH / "render.py")], check=False).returncode
    print("\n== 2. Pages and the live preview, in process\n", flush=True)
    status |= subprocess.run([sys.executable, str(BENCH / "pages.py")], check=False).returncode
    print("\n== 3. One worker's memory over 100 previews of a 100-pool plan (gunicorn)\n", flush=True)
    previews = ["--previews", "30"] if args.quick else []
    status |= subprocess.run([sys.executable, str(BENCH / "memory.py"), *previews], check=False).returncode
    print("\n== 4. Pages under load (gunicorn on 127.0.0.1), then worker memory\n", flush=True)
    serve_args = ["--duration", "5", "--hold", "15"] if args.quick else []
    status |= subprocess.run([sys.executable, str(BENCH / "serve.py"), *serve_args], check=False).returncode
    print("\n== 5. Rendering and checking counted in instructions (valgrind), the figures that do not move "
          "with the machine\n", flush=True)
    status |= subprocess.run([sys.executable, str(BENCH / "instructions.py")], check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
