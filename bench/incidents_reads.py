"""Incident read benchmarks with a large load (1,000,000 incidents by default, INCIDENT_BENCH_ROWS to lower):

- `GET /api/v1/incidents/?state=in_progress&assignment_group=…&page_size=50` p50/p95 (target p95 < 50 ms);
- the agent list page `/incidents/` (default "All open" view, all saved-view counts) p50/p95 server time
  (target < 150 ms), and the same page filtered by group;
- API creates per second with the rows in place (wrk against gunicorn with 2 workers, as
  bench/incidents_create.py does on an empty table).

Measured in-process with Django's test client (server time: routing, queries, rendering; no network).
Run: `pytest bench/incidents_reads.py -s -p no:xdist`. Appends a JSON line to bench/results/incidents.json.
"""

import os
import sys
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
    record("incidents_reads", **figures)


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
