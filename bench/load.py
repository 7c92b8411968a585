"""A small HTTP load generator for loopback only: N concurrent clients for a bounded time.

Usage (against a server started by bench/serve.py or `make serve`):

    .venv/bin/python bench/load.py http://127.0.0.1:8000/path [--clients 16] [--duration 60]
        [--max-requests 200000] [--cookie NAME=VALUE ...] [--post FIELD=VALUE ...]

Each client is a thread with its own keep-alive connection that sends the next request as
soon as the previous answer is read. Any status other than the expected one (200 by default),
any connection error and any timeout is an error. The run stops at --duration seconds or
--max-requests requests, whichever comes first; only 127.0.0.1 is accepted as a target.
"""
from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

ALLOWED_HOST = "127.0.0.1"
HARD_MAX_DURATION = 600.0
HARD_MAX_REQUESTS = 2_000_000


@dataclass
class Target:
    """One kind of request the clients send, in turn."""

    path: str
    method: str = "GET"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    expect: int = 200


@dataclass
class Result:
    """What one load run measured."""

    label: str
    clients: int
    elapsed: float
    latencies_ms: list[float]
    errors: int
    error_samples: list[str]
    statuses: dict[int, int]

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """Return the p-th percentile latency in ms (nearest rank) of the successful requests."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank]

    def summary(self) -> dict[str, float | int | str]:
        """Return the figures as a flat dict (for tables and JSON)."""
        return {
            "label": self.label, "clients": self.clients, "seconds": round(self.elapsed, 1),
            "requests": self.requests, "errors": self.errors, "req_per_s": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 1), "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "max_ms": round(max(self.latencies_ms), 1) if self.latencies_ms else float("nan"),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 1) if self.latencies_ms else float("nan"),
        }


def check_loopback(base_url: str) -> tuple[str, int]:
    """Return (host, port) of `base_url`; refuse anything but http://127.0.0.1."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or parts.hostname != ALLOWED_HOST:
        raise SystemExit(f"load.py only targets http://{ALLOWED_HOST}, not {base_url!r}")
    return ALLOWED_HOST, parts.port or 80


def run(base_url: str, targets: list[Target], *, clients: int = 16, duration: float = 60.0,
        max_requests: int = 200_000, cookies: dict[str, str] | None = None, label: str = "",
        timeout: float = 30.0) -> Result:
    """Return the result of `clients` threads sending `targets` in turn for `duration` seconds."""
    host, port = check_loopback(base_url)
    duration = min(duration, HARD_MAX_DURATION)
    max_requests = min(max_requests, HARD_MAX_REQUESTS)
    cookie_header = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    statuses: dict[int, int] = {}
    sent = 0
    start = time.perf_counter()
    deadline = start + duration

    def take_ticket() -> bool:
        nonlocal sent
        with lock:
            if sent >= max_requests:
                return False
            sent += 1
            return True

    def client(index: int) -> None:
        conn: http.client.HTTPConnection | None = None
        mine: list[float] = []
        turn = index
        while time.perf_counter() < deadline and take_ticket():
            target = targets[turn % len(targets)]
            turn += 1
            headers = {"Host": f"{host}:{port}", "User-Agent": "wizard-bench/1", **target.headers}
            if cookie_header:
                headers["Cookie"] = cookie_header
            began = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=timeout)
                conn.request(target.method, target.path, body=target.body or None, headers=headers)
                response = conn.getresponse()
                response.read()
                took = (time.perf_counter() - began) * 1000
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status != target.expect:
                    with lock:
                        errors.append(f"{target.method} {target.path}: HTTP {response.status}")
                else:
                    mine.append(took)
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{target.method} {target.path}: {exc.__class__.__name__}: {exc}")
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + timeout + 5)
    elapsed = time.perf_counter() - start
    return Result(label=label or targets[0].path, clients=clients, elapsed=elapsed, latencies_ms=latencies,
                  errors=len(errors), error_samples=errors[:5], statuses=statuses)


def format_table(results: list[Result]) -> str:
    """Return the results as an aligned text table."""
    cols = ("label", "clients", "seconds", "requests", "errors", "req_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms")
    rows = [[str(r.summary()[c]) for c in cols] for r in results]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cols))]
    lines.append("-" * len(lines[0]))
    for row in rows:
        lines.append("  ".join(v.ljust(widths[0]) if i == 0 else v.rjust(widths[i]) for i, v in enumerate(row)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="http://127.0.0.1:PORT/path")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--cookie", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--post", action="append", default=None, metavar="FIELD=VALUE",
                        help="send a form POST with these fields instead of a GET")
    parser.add_argument("--expect", type=int, default=200)
    args = parser.parse_args(argv)

    parts = urlsplit(args.url)
    base = f"{parts.scheme}://{parts.netloc}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    cookies = dict(c.split("=", 1) for c in args.cookie)
    if args.post is not None:
        body = urlencode([tuple(f.split("=", 1)) for f in args.post]).encode()
        target = Target(path, "POST", body, {"Content-Type": "application/x-www-form-urlencoded",
                                             "X-CSRFToken": cookies.get("csrftoken", "")}, args.expect)
    else:
        target = Target(path, expect=args.expect)
    result = run(base, [target], clients=args.clients, duration=args.duration, max_requests=args.max_requests,
                 cookies=cookies)
    print(format_table([result]))
    for sample in result.error_samples:
        print("  error:", sample)
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
