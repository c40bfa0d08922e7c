"""Shared helpers of the incident benchmarks: the load, percentiles, the results file."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from django.core.management import call_command

RESULTS = Path(__file__).parent / "results" / "incidents.json"
# The scale is 1,000,000 incidents; INCIDENT_BENCH_ROWS lowers it on a busy machine.
ROWS = int(os.environ.get("INCIDENT_BENCH_ROWS", "1000000"))
CIS = int(os.environ.get("INCIDENT_BENCH_CIS", str(max(ROWS // 10, 1000))))


def load(rows: int = ROWS, cis: int = CIS) -> float:
    started = time.monotonic()
    with open(os.devnull, "w") as quiet:
        call_command("generate_load_data", incidents=rows, cis=cis, seed=42, stdout=quiet)
    return time.monotonic() - started


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100)[pct - 1]


def timed(fn, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def record(name: str, **figures) -> None:
    line = {"benchmark": name, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **figures}
    print(json.dumps(line))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as handle:
        handle.write(json.dumps(line) + "\n")
