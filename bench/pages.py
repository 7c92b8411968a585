"""Where a page's time goes: each benchmark page rendered in process, timed and profiled.

Usage: .venv/bin/python bench/pages.py [--repeat 5] [--profile LABEL] [--top 30]

Sets up a throw-away SQLite database with the same data as bench/serve.py, then requests
each page with Django's test client (no server, no network): wall and CPU time per request,
response size, and with --profile the functions that cost the most for that page.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def setup() -> tuple[Any, dict[str, tuple[str, str, dict[str, str]]], Path]:
    """Return (logged-in client, {label: (method, path, data)}, temporary directory)."""
    import secrets

    tmp = Path(tempfile.mkdtemp(prefix="wizard-pages-"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{tmp / 'pages.sqlite3'}", "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_ALLOWED_HOSTS": "testserver",
    })
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from bench.plans import example_plan, generated_plan
    from bench.serve import FormFields
    from wizard.web.drafts import create_plan
    from wizard.web.steps import STEPS

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench", password=secrets.token_urlsafe(16))
    plans = [create_plan(owner=user, doc={**example_plan(), "name": f"Bench plan {i:02d}"}) for i in range(19)]
    big = create_plan(owner=user, doc=generated_plan(100))
    client = Client()
    client.force_login(user)
    review = next(s for s in STEPS if s.is_review).slug
    parser = FormFields()
    parser.feed(client.get(reverse("plan-step", args=[plans[0].code, "authentication"])).content.decode())
    pages = {
        "bare view": ("get", "/bench/bare/", {}),
        "bare view, logged in": ("get", "/bench/bare-auth/", {}),
        "plan list": ("get", reverse("plan-list"), {}),
        "review page (1 pool)": ("get", reverse("plan-step", args=[plans[0].code, review]), {}),
        "live preview": ("post", reverse("plan-step-preview", args=[plans[0].code, "authentication"]),
                         dict(parser.fields)),
        "review page (100 pools)": ("get", reverse("plan-step", args=[big.code, review]), {}),
    }
    return client, pages, tmp


def memoise_highlighting() -> None:
    """Replace the review pages' highlighter, in this process only, by a memoised one."""
    from functools import lru_cache

    from wizard.web.views import output

    original = output.highlight_file
    memo = lru_cache(maxsize=256)(lambda name, text, changed: original(name, text, changed))
    output.highlight_file = lambda name, text, changed=(): memo(name, text, tuple(changed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", help="profile the page whose label contains this text")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--memo-highlight", action="store_true",
                        help="experiment: memoise wizard.highlight.highlight_file by its arguments (measures what "
                             "a per-process cache of highlighted files would save; the app is not changed)")
    args = parser.parse_args(argv)

    client, pages, tmp = setup()
    if args.memo_highlight:
        memoise_highlighting()
    try:
        print(f"{'page':<26}{'status':>7}{'KiB':>8}{'wall ms':>10}{'cpu ms':>9}{'first':>9}")
        for label, (method, path, data) in pages.items():
            start = time.perf_counter()
            response = getattr(client, method)(path, data)
            first = (time.perf_counter() - start) * 1000
            walls, cpus = [], []
            for _ in range(args.repeat):
                start, cpu = time.perf_counter(), time.process_time()
                response = getattr(client, method)(path, data)
                walls.append((time.perf_counter() - start) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
            print(f"{label:<26}{response.status_code:>7}{len(response.content) / 1024:>8.0f}"
                  f"{statistics.median(walls):>10.1f}{statistics.median(cpus):>9.1f}{first:>9.0f}")
        if args.profile:
            label, (method, path, data) = next((k, v) for k, v in pages.items() if args.profile in k)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.repeat):
                getattr(client, method)(path, data)
            profiler.disable()
            print(f"\nProfile of {label} ({args.repeat} requests)")
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(args.top)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
