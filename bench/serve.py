"""Pages under load: the app under gunicorn (gunicorn.conf.py, as `make serve` runs it) on loopback.

Usage: .venv/bin/python bench/serve.py [--clients 16] [--duration 20] [--hold 60]
                                       [--database-url URL] [--workers N] [--json FILE]

Sets up a throw-away database (SQLite in a temporary directory unless --database-url names
a PostgreSQL database made for the purpose: its tables are created there), a bench user with
20 plans, collects the static files, starts gunicorn with `bench.bench_settings` (the real
settings plus /bench/bare/), then, with --clients concurrent clients:

  1. each page alone for --duration seconds: the bare view (the ceiling), the bare view
     behind login, the plan list, the review page, the live preview (POST), and the review
     page of the 100-pool plan;
  2. the everyday pages (all but the 100-pool review page) mixed for --hold seconds: the
     robustness run, which must have zero errors;
  3. the resident size (VmRSS, and its peak VmHWM) of every gunicorn worker afterwards.

gunicorn is stopped at the end (by its process id). Nothing but 127.0.0.1 is contacted.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import Result, Target, format_table, run  # noqa: E402 (after the path set-up)

PY = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PLANS = 20
GOAL_RATIO = 0.5
GOAL_P95_MS = 100.0
GOAL_RSS_MB = 150.0
CSRF_SECRET = "benchcsrf" + "0" * 23  # 32 characters: a valid CSRF cookie secret, sent back as the header


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(tmp: Path, port: int, database_url: str | None, workers: int | None,
              conn_max_age: int | None = None) -> dict[str, str]:
    """Return the environment of the server (and of the set-up done here)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "GUNICORN_")) and k != "DATABASE_URL"}
    env.update({
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # The access log is off so that writing it does not count in the figures.
        "GUNICORN_ACCESS_LOG": "",
        "PYTHONPATH": str(ROOT),
    })
    if conn_max_age is not None:
        env["DJANGO_DB_CONN_MAX_AGE"] = str(conn_max_age)
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    """Run a management command with `env`; stop the benchmark if it fails."""
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def seed() -> dict[str, Any]:
    """Create the bench user, its plans and a logged-in session; return what the clients need.

    Runs in this process with the server's environment (so the same database).
    """
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    from bench.plans import example_plan, generated_plan
    from wizard.web.drafts import create_plan

    user = User.objects.create_user("bench", "bench@example.org", secrets.token_urlsafe(16))
    plans = [create_plan(owner=user, doc={**example_plan(), "name": f"Bench plan {i:02d}"}) for i in range(PLANS - 1)]
    big = create_plan(owner=user, doc=generated_plan(100))
    client = Client()
    client.force_login(user)
    from django.conf import settings

    return {"session": client.cookies[settings.SESSION_COOKIE_NAME].value, "plan": str(plans[0].code),
            "big_plan": str(big.code)}


class FormFields(HTMLParser):
    """Collect the successful controls of the POST forms of a page, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._in_post_form = False
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_post_form = a.get("method", "").lower() == "post"
        elif not self._in_post_form:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file", "image", "reset"):
                self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._select_value = a["name"], None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_post_form = False
        elif tag == "select" and self._select is not None:
            self.fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def get(base: str, path: str, cookies: dict[str, str]) -> tuple[int, str]:
    """Return (status, body) of one GET (redirects not followed)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    request = urllib.request.Request(base + path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Return when the server answers /bench/bare/; stop the benchmark if it does not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {proc.returncode}")
        try:
            if get(base, "/bench/bare/", {})[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within a minute")


def worker_pids(master: int) -> list[int]:
    """Return the process ids of the children of `master` (the gunicorn workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces: the parent pid follows the closing parenthesis.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master:
            pids.append(int(entry.name))
    return sorted(pids)


def memory_kib(pid: int) -> dict[str, int]:
    """Return VmRSS and VmHWM (peak) of `pid` in KiB, from /proc/<pid>/status."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def targets_for(base: str, info: dict[str, Any]) -> dict[str, Target]:
    """Return the benchmark's pages by label, discovered from the running server."""
    from django.urls import reverse

    from wizard.web.steps import STEPS

    cookies = {"sessionid": info["session"], "csrftoken": CSRF_SECRET}
    review_step = next(s for s in STEPS if s.is_review)
    preview_step = next((s for s in STEPS if s.slug == "authentication"), STEPS[0])
    step_path = reverse("plan-step", args=[info["plan"], preview_step.slug])
    status, html = get(base, step_path, cookies)
    if status != 200:
        raise SystemExit(f"GET {step_path} answered {status}: cannot build the preview request")
    parser = FormFields()
    parser.feed(html)
    body = urlencode(parser.fields).encode()
    post_headers = {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": CSRF_SECRET,
                    "HX-Request": "true"}
    return {
        "bare view (ceiling)": Target("/bench/bare/"),
        "bare view, logged in": Target("/bench/bare-auth/"),
        "plan list (20 plans)": Target(reverse("plan-list")),
        "review page (1 pool)": Target(reverse("plan-step", args=[info["plan"], review_step.slug])),
        "live preview (POST)": Target(reverse("plan-step-preview", args=[info["plan"], preview_step.slug]), "POST",
                                      body, post_headers),
        "review page (100 pools)": Target(reverse("plan-step", args=[info["big_plan"], review_step.slug])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per page")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds of the mixed run")
    parser.add_argument("--database-url", help="a PostgreSQL database made for the benchmark (default: SQLite)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--conn-max-age", type=int,
                        help="DJANGO_DB_CONN_MAX_AGE for the server (default: the settings')")
    parser.add_argument("--only", help="comma-separated labels to run (default: all)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="wizard-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = bench_env(tmp, port, args.database_url, args.workers, args.conn_max_age)
    os.environ.update({k: env[k] for k in env if k.startswith(("DJANGO_", "DATABASE_URL"))})
    proc: subprocess.Popen | None = None
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        info = seed()
        proc = subprocess.Popen([GUNICORN, "wizard.wsgi", "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=(tmp / "gunicorn.log").open("w"))
        wait_ready(base, proc)
        workers = worker_pids(proc.pid)
        targets = targets_for(base, info)
        if args.only:
            wanted = [w.strip() for w in args.only.split(",")]
            targets = {k: v for k, v in targets.items() if any(w in k for w in wanted)}
        cookies = {"sessionid": info["session"], "csrftoken": CSRF_SECRET}
        print(f"gunicorn {base}: {len(workers)} workers x {os.environ.get('GUNICORN_THREADS', '4')} threads, "
              f"{os.cpu_count()} CPUs shared with the load generator; database {env['DATABASE_URL'].split(':')[0]}, "
              f"connections kept {env.get('DJANGO_DB_CONN_MAX_AGE', 'per the settings')} s")
        for label, target in targets.items():  # warm-up: templates compiled, connections open
            run(base, [target], clients=4, duration=2.0, max_requests=40, cookies=cookies, label=label)
        results: list[Result] = []
        for label, target in targets.items():
            result = run(base, [target], clients=args.clients, duration=args.duration, cookies=cookies, label=label)
            results.append(result)
            print(format_table([result]).splitlines()[-1], flush=True)
        # The everyday pages, mixed; the 100-pool review page is measured alone above (it is an extreme).
        mix = [t for label, t in targets.items() if "100 pools" not in label]
        hold = run(base, mix, clients=args.clients, duration=args.hold, cookies=cookies,
                   label=f"mixed, {args.hold:.0f} s")
        results.append(hold)
        memory = {pid: memory_kib(pid) for pid in worker_pids(proc.pid)}
        print()
        print(format_table(results))
        for r in results:
            for sample in r.error_samples:
                print(f"  error in {r.label}: {sample}")
        print()
        print("Worker memory after the load (MiB): " + ", ".join(
            f"pid {pid}: RSS {m['VmRSS'] / 1024:.0f} (peak {m['VmHWM'] / 1024:.0f})" for pid, m in memory.items()))
        report_goals(results, memory)
        if args.json:
            args.json.write_text(json.dumps({
                "results": [r.summary() for r in results],
                "memory_kib": {str(k): v for k, v in memory.items()},
                "workers": len(workers), "cpus": os.cpu_count(), "database": env["DATABASE_URL"].split(":")[0],
            }, indent=2) + "\n")
        return 1 if hold.errors else 0
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


def report_goals(results: list[Result], memory: dict[int, dict[str, int]]) -> None:
    """Print where each goal stands."""
    by_label = {r.label: r for r in results}
    bare = by_label.get("bare view (ceiling)")
    review = by_label.get("review page (1 pool)")
    if bare and review and bare.throughput:
        ratio = review.throughput / bare.throughput
        print(f"goal: review page >= {GOAL_RATIO:.0%} of the bare view's throughput -> {ratio:.0%} "
              f"({review.throughput:.0f} vs {bare.throughput:.0f} req/s): {'MET' if ratio >= GOAL_RATIO else 'MISSED'}")
        p95 = review.percentile(95)
        print(f"goal: review page p95 under {GOAL_P95_MS:.0f} ms at {review.clients} clients -> {p95:.0f} ms: "
              f"{'MET' if p95 < GOAL_P95_MS else 'MISSED'}")
    if memory:
        worst = max(m["VmRSS"] for m in memory.values()) / 1024
        print(f"goal: one worker's resident size under {GOAL_RSS_MB:.0f} MiB after the load -> {worst:.0f} MiB: "
              f"{'MET' if worst < GOAL_RSS_MB else 'MISSED'}")
    hold = results[-1]
    print(f"goal: {hold.clients} clients for {hold.elapsed:.0f} s with zero errors -> {hold.errors} errors "
          f"in {hold.requests} requests: {'MET' if hold.errors == 0 else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
