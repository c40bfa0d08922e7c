"""Incident read benchmarks with a large load (1,000,000 incidents by default, INCIDENT_BENCH_ROWS to lower):

- `GET /api/v1/incidents/?state=in_progress&assignment_group=…&page_size=50` p50/p95 (target p95 < 50 ms);
- the agent list page `/incidents/` (default "All open" view, all saved-view counts) p50/p95 server time
  (target < 150 ms), and the same page filtered by group;
- API creates per second with the rows in place (wrk against gunicorn with 2 workers, as
  bench/incidents_create.py does on an empty table).

Measured in-process with Django's test client (server time: routing, queries, rendering; no network).
Run: `pytest bench/incidents_reads.py -s -p no:xdist`. Appends a JSON line to bench/results/incidents.json.
With `INCIDENT_BENCH_BASELINE=<git ref>` the API list and the list pages are also timed with that ref's
code and this tree's, alternating, on the same rows (bench/list_page_probe.py): before/after figures from
one run.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

sys.path.insert(0, str(Path(__file__).parent))
from gunicorn_server import gunicorn_app  # noqa: E402
from incidents_common import ROWS, load, percentile, record, timed  # noqa: E402
from incidents_create import drop_queued_tasks, wrk_throughput  # noqa: E402

SAMPLES = 100
# Before/after rounds of bench/list_page_probe.py per tree (alternating); more rounds average out a busy machine.
BASELINE_ROUNDS = int(os.environ.get("INCIDENT_BENCH_ROUNDS", "2"))


# transaction=True: the load command can then VACUUM (as autovacuum would on a live table), so counts may
# run index-only; the test database is emptied afterwards.
@pytest.mark.django_db(transaction=True)
def test_incident_reads_at_scale():
    load_seconds = load()
    agent = get_user_model().objects.get(username="load-agent-03-01")
    client = Client()
    client.force_login(agent)
    api_url = "/api/v1/incidents/?state=in_progress&assignment_group=load-group-03&page_size=50"
    assert client.get(api_url).status_code == 200  # warm up
    api = timed(lambda: client.get(api_url), SAMPLES)
    page_url = "/incidents/"
    assert client.get(page_url).status_code == 200
    page = timed(lambda: client.get(page_url), SAMPLES)
    filtered_url = "/incidents/?view=open&assignment_group=load-group-03&page_size=50"
    filtered = timed(lambda: client.get(filtered_url), SAMPLES)
    figures = {
        "incidents": ROWS,
        "load_seconds": round(load_seconds, 1),
        "api_list_p50_ms": round(percentile(api, 50), 1),
        "api_list_p95_ms": round(percentile(api, 95), 1),
        "list_page_p50_ms": round(percentile(page, 50), 1),
        "list_page_p95_ms": round(percentile(page, 95), 1),
        "list_page_group_p50_ms": round(percentile(filtered, 50), 1),
        "list_page_group_p95_ms": round(percentile(filtered, 95), 1),
        "samples": SAMPLES,
        # The box is shared: the 1-minute load average when the figures were taken says how busy it was.
        "loadavg_1m": round(os.getloadavg()[0], 2),
        # API creates with the million rows (and their indexes) in place; bench/incidents_create.py
        # measures the same on an empty table.
        "wrk_creates_per_second": creates_per_second_with_wrk(),
    }
    baseline = os.environ.get("INCIDENT_BENCH_BASELINE")
    if baseline:
        figures.update(list_page_before_after(baseline, agent.username))
    record("incidents_reads", **figures)


def list_page_before_after(ref: str, username: str, rounds: int = BASELINE_ROUNDS) -> dict:
    """The API list and the list pages with the code of git `ref` ("before") and of this tree ("after"), on the same rows, in
    the same run: each in a fresh child process (bench/list_page_probe.py), alternating, `rounds` times
    each, 100 requests a time; p50/p95 over all of a tree's requests and the statements per page."""
    root = Path(__file__).resolve().parents[1]
    probe = Path(__file__).with_name("list_page_probe.py")
    settings = connection.settings_dict
    database_url = (
        f"postgres://{settings['USER']}:{settings.get('PASSWORD') or ''}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    times: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    queries: dict[str, dict[str, int]] = {"before": {}, "after": {}}
    with tempfile.TemporaryDirectory(prefix="bench-before-") as before_tree:
        archive = subprocess.run(["git", "-C", str(root), "archive", ref], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", before_tree], input=archive.stdout, check=True)
        trees = {"before": before_tree, "after": str(root)}
        for _ in range(rounds):
            for label in ("before", "after"):
                done = subprocess.run(
                    [sys.executable, str(probe), "--tree", trees[label], "--database-url", database_url,
                     "--username", username, "--samples", str(SAMPLES)],
                    check=True, capture_output=True, text=True, cwd=trees[label],
                )  # fmt: skip
                result = json.loads(done.stdout.strip().splitlines()[-1])
                for key in ("api_list", "list_page", "list_page_group"):
                    times[label].setdefault(key, []).extend(result[f"{key}_ms"])
                    queries[label][key] = result[f"{key}_queries"]
    out: dict = {"baseline_ref": ref}
    for label in ("before", "after"):
        for key, values in times[label].items():
            out[f"{key}_{label}_p50_ms"] = round(percentile(values, 50), 1)
            out[f"{key}_{label}_p95_ms"] = round(percentile(values, 95), 1)
            out[f"{key}_{label}_queries"] = queries[label][key]
    print(json.dumps(out, indent=1))
    return out


def creates_per_second_with_wrk() -> float | None:
    from django.contrib.auth.models import Group

    from accounts.models import AssignmentGroup, User
    from accounts.services import issue_token

    group, _ = AssignmentGroup.objects.get_or_create(name="bench-desk")
    agent = User.objects.create_user("bench-agent", password="pw")
    agent.groups.add(Group.objects.get(name="agent"))
    group.members.add(agent)
    with connection.cursor() as cursor:
        # Write out the bulk load's dirty pages first: the measurement is of steady-state creates, not of
        # the checkpoint that follows loading a million rows.
        cursor.execute("CHECKPOINT")
    try:
        with gunicorn_app(workers=2) as base:
            return wrk_throughput(base, issue_token(user=agent).key)
    finally:
        drop_queued_tasks()
