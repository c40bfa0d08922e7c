"""Shared helpers of the incident benchmarks: the load, percentiles, the results file."""

from __future__ import annotations

import os
import statistics
import time

from django.core.management import call_command
from results import write

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
    write("incidents", {"benchmark": name, **figures})
