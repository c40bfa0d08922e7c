"""The long fuzz run of issue 26: the same run as tests/security/test_api_fuzz.py (Schemathesis CLI against
gunicorn, every phase, every check, as requester, agent and admin), with FUZZ_BENCH_EXAMPLES examples per
operation and phase (default 20) instead of `make test`'s one. Appends the per-role test-case counts and
failures to bench/results/fuzz.json. Run: `pytest bench/api_fuzz.py -s -p no:xdist -o python_files=*.py`.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))

from results import write  # noqa: E402

from tests.security.test_api_fuzz import build_fuzz_world, fuzz_every_role  # noqa: E402

EXAMPLES = int(os.environ.get("FUZZ_BENCH_EXAMPLES", "20"))


def _counts(report: str) -> dict[str, int]:
    """The report's "N generated, N found N unique failures, N skipped" line, as numbers."""
    found = re.search(
        r"(\d+) generated(?:, (\d+) found (\d+) unique failures?)?(?:, \d+ passed)?(?:, (\d+) skipped)?",
        report,
    )
    if found is None:
        return {}
    generated, _found, unique, skipped = (int(value or 0) for value in found.groups())
    return {"generated": generated, "failures": unique, "skipped": skipped}


@pytest.mark.django_db(transaction=True)
def test_long_fuzz_run_finds_nothing(tmp_path):
    tokens, known = build_fuzz_world()
    results = fuzz_every_role(tokens, known, tmp_path, examples=EXAMPLES)
    counts = {role: _counts(report) | {"exit": code} for role, (code, report) in results.items()}
    print(f"fuzz, {EXAMPLES} examples per operation and phase: {counts}")  # noqa: T201
    write("fuzz", {"benchmark": "api_fuzz", "examples": EXAMPLES, "roles": counts})
    failed = {role: report[-6000:] for role, (code, report) in results.items() if code != 0}
    assert not failed, f"Schemathesis found problems (whole reports under {tmp_path}):\n{failed}"
