"""Worker memory under gunicorn while an admin types into a 100-pool plan: 100 live previews.

Usage: .venv/bin/python bench/memory.py [--previews 100] [--pools 100] [--database-url URL]

Sets up a throw-away database as bench/serve.py does, starts gunicorn (gunicorn.conf.py) with
ONE worker so that every request lands in the same process, then sends --previews preview
requests of the AD FS step of the generated --pools plan, each a fresh edit (a relying-party
name changed) carrying the state of the previous answer, as the browser does. Prints the
worker's resident size (VmRSS) every tenth preview and its peak (VmHWM) at the end, with the
answer sizes and times. The goal: under 150 MiB after 100 previews of a 100-pool plan.
gunicorn is stopped at the end (by its process id). Nothing but 127.0.0.1 is contacted.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.serve import (  # noqa: E402 (after the path set-up)
    CSRF_SECRET,
    GUNICORN,
    FormFields,
    bench_env,
    free_port,
    get,
    manage,
    memory_kib,
    wait_ready,
    worker_pids,
)

GOAL_MIB = 150.0
STATE_RE = {name: re.compile(rf'name="{name}"[^>]*value="([^"]*)"') for name in
            ("preview_file", "preview_base", "preview_since")}


def seed(pools: int) -> dict[str, str]:
    """Create the bench user and the plan; return the session cookie and the plan's code."""
    import secrets

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    from bench.plans import generated_plan
    from wizard.web.drafts import create_plan

    user = User.objects.create_user("bench", "bench@example.org", secrets.token_urlsafe(16))
    plan = create_plan(owner=user, doc=generated_plan(pools))
    client = Client()
    client.force_login(user)
    return {"session": client.cookies[settings.SESSION_COOKIE_NAME].value, "plan": str(plan.code)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previews", type=int, default=100)
    parser.add_argument("--pools", type=int, default=100)
    parser.add_argument("--database-url", help="a PostgreSQL database made for the benchmark (default: SQLite)")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="wizard-memory-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = bench_env(tmp, port, args.database_url, workers=1)
    os.environ.update({k: env[k] for k in env if k.startswith(("DJANGO_", "DATABASE_URL"))})
    proc: subprocess.Popen[bytes] | None = None
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        info = seed(args.pools)
        proc = subprocess.Popen([GUNICORN, "wizard.wsgi", "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=(tmp / "gunicorn.log").open("w"))
        wait_ready(base, proc)
        [worker] = worker_pids(proc.pid)
        cookies = {"sessionid": info["session"], "csrftoken": CSRF_SECRET}
        step = f"/plans/{info['plan']}/steps/adfs/"
        status, html = get(base, step, cookies)
        if status != 200:
            raise SystemExit(f"GET {step} answered {status}")
        form = FormFields()
        form.feed(html)
        fields = dict(form.fields)
        fields["relying_parties-0-internal"] = fields.get("relying_parties-0-internal") or "Lync-Int"
        start_kib = memory_kib(worker)
        print(f"gunicorn {base}, one worker (pid {worker}): {start_kib['VmRSS'] / 1024:.0f} MiB after one page; "
              f"{args.previews} previews of the AD FS step of a {args.pools}-pool plan, each a fresh edit")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": CSRF_SECRET,
                   "HX-Request": "true", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        state: dict[str, str] = {}
        sizes, walls = [], []
        for i in range(1, args.previews + 1):
            body = urlencode({**fields, "relying_parties-0-external": f"Lync-Ext-{i:03d}", **state}).encode()
            started = time.perf_counter()
            connection.request("POST", f"{step}preview/", body, headers)
            response = connection.getresponse()
            answer = response.read().decode("utf-8")
            walls.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise SystemExit(f"preview {i} answered {response.status}")
            sizes.append(len(answer.encode("utf-8")))
            state = {name: m.group(1) for name, pattern in STATE_RE.items() if (m := pattern.search(answer))}
            if i % 10 == 0:
                now = memory_kib(worker)
                print(f"  after {i:>3} previews: RSS {now['VmRSS'] / 1024:6.1f} MiB (peak {now['VmHWM'] / 1024:6.1f}); "
                      f"answers {statistics.median(sizes[-10:]) / 1024:.1f} KiB, "
                      f"{statistics.median(walls[-10:]):.0f} ms wall (median of the last ten)")
        connection.close()
        end = memory_kib(worker)
        rss = end["VmRSS"] / 1024
        print(f"goal: the worker under {GOAL_MIB:.0f} MiB after {args.previews} previews of a {args.pools}-pool plan "
              f"-> {rss:.0f} MiB (peak {end['VmHWM'] / 1024:.0f} MiB): {'MET' if rss < GOAL_MIB else 'MISSED'}")
        return 0 if rss < GOAL_MIB else 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log = tmp / "gunicorn.log"
        if log.exists() and re.search(r"Traceback|ERROR", log.read_text()):
            print(f"gunicorn logged errors: see {log}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
