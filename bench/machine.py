"""A fixed yardstick for the machine a benchmark runs on: how fast it is today, not the app.

The machines these benchmarks run on differ from day to day (the same code measured 246 ms one day
and 321 ms the next for the same render). Each benchmark prints this reference first, so that two
runs can be compared: a figure that moved with the reference moved with the machine.

Two workloads, each the median CPU time of seven runs after one warm-up:
- `python`: pure Python shaped like the app's checks (dict and string work, small objects);
- `parse`: tree-sitter-powershell parsing a fixed 517 KiB script (what the verifier spends most on).
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable

RUNS = 7


def _cpu_ms(work: Callable[[], object]) -> float:
    work()
    times = []
    for _ in range(RUNS):
        start = time.process_time()
        work()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def _python_work() -> int:
    seen: dict[str, int] = {}
    total = 0
    for i in range(60_000):
        key = f"pool{i % 997:03d}.corp{i % 20:02d}.example.com"
        seen[key] = seen.get(key, 0) + len(key.split("."))
        total += sum(1 for ch in key if ch == "o")
    return total + len(seen)


def _script() -> bytes:
    lines = []
    for i in range(1200):   # 517 KiB
        identity = f"service:WebServer:pool{i:04d}.corp.example.com"
        lines.append(f"# Pool {i}: passive authentication, PIN off.")
        lines.append(f"if (-not (Get-CsWebServiceConfiguration -Identity '{identity}' "
                     "-ErrorAction SilentlyContinue)) {")
        lines.append(f"    New-CsWebServiceConfiguration -Identity '{identity}' -UseWsFedPassiveAuth $true "
                     "-WsFedPassiveMetadataUri 'https://adfs.example.com/FederationMetadata/2007-06/"
                     "FederationMetadata.xml' -UsePinAuth $false -WhatIf:$WhatIfPreference")
        lines.append("}")
    return "\n".join(lines).encode("utf-8")


def reference() -> dict[str, float]:
    """Return the machine's reference CPU times in ms: {"python": ..., "parse": ...}."""
    import tree_sitter
    import tree_sitter_powershell

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    source = _script()
    return {"python": _cpu_ms(_python_work), "parse": _cpu_ms(lambda: parser.parse(source))}


def describe() -> str:
    """Return the reference as the line every benchmark prints first."""
    ref = reference()
    return (f"Machine reference (CPU ms, median of {RUNS}; lower is a faster machine): "
            f"Python {ref['python']:.1f}, tree-sitter parse {ref['parse']:.1f}")


if __name__ == "__main__":
    print(describe())
