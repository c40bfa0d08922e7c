"""The benchmarks' one results writer: `write(name, line)` appends a stamped JSON line to
bench/results/<name>.json.

Each line is one JSON object: the benchmark's own keys in its order ("benchmark", if present, first), with
"at" (UTC, "%Y-%m-%dT%H:%M:%SZ") placed right after "benchmark" (or first), and "reference_ms" and
"loadavg_1m" (unless the benchmark set it) appended at the end.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"


def _workload() -> int:
    total = 0
    for i in range(2_000_000):
        total += i * i
    words = {}
    for i in range(100_000):
        key = f"w{i % 5_000}"
        words[key] = words.get(key, 0) + len(key)
    return total + sum(words.values())


def reference_ms() -> float:
    """Milliseconds this machine takes, now, for a fixed pure-Python CPU workload (best of 3).

    The machine the benchmarks run on varies in speed from hour to hour (up to ~3x), so their figures
    alone cannot be compared across runs. This figure, measured just before the line is written, gives
    each line a reference: a run with twice the reference_ms ran on a machine twice as slow.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        _workload()
        best = min(best, (time.perf_counter() - started) * 1000)
    return round(best, 1)


def write(name: str, line: dict) -> dict:
    """Stamp `line` with "at", "reference_ms" and "loadavg_1m", append it to bench/results/<name>.json,
    print it and return it (a new dict; `line` is not changed)."""
    # Read the load average before the reference workload, which would raise it.
    loadavg = round(os.getloadavg()[0], 2)
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    figures = {key: value for key, value in line.items() if key not in ("benchmark", "at")}
    stamped = {"benchmark": line["benchmark"], "at": at} if "benchmark" in line else {"at": at}
    stamped.update(figures)
    stamped["reference_ms"] = reference_ms()
    if "loadavg_1m" not in stamped:
        stamped["loadavg_1m"] = loadavg
    path = RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(stamped) + "\n")
    print("\n" + json.dumps(stamped, indent=2))
    return stamped
