"""API create throughput: POST /api/v1/incidents/ against gunicorn with 2 workers on a loopback port
(target ≥ 300 incidents/s). The server runs deployment-like settings: DEBUG off, persistent database
connections, after-commit Celery tasks queued to Redis (dropped after the run, no worker consumes them). 16 client threads, token authentication, 2,000 creates by default
(INCIDENT_BENCH_CREATES); then wrk for 10 s, without and with an SLA definition that applies to every
created incident. Run: `pytest bench/incidents_create.py -s -p no:xdist`; appends a JSON line to
bench/results/incidents.json.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.db import connection

sys.path.insert(0, str(Path(__file__).parent))
from gunicorn_server import gunicorn_app  # noqa: E402
from incidents_common import record  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CREATES = int(os.environ.get("INCIDENT_BENCH_CREATES", "2000"))
THREADS = 16


def drop_queued_tasks() -> None:
    """No worker runs during the bench: drop the follow-up tasks (mail, webhooks) the creates queued."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")


def wrk_throughput(base: str, token: str, seconds: int = 10) -> float | None:
    """Creates per second measured by wrk (a native load generator: the Python client threads above share
    the two cores with the server and cap what they can measure). None when wrk is not installed."""
    if shutil.which("wrk") is None:
        print("wrk not installed (apt-get install wrk): native load figure skipped")
        return None
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c16",
            f"-d{seconds}s",
            "-s",
            str(ROOT / "bench" / "wrk_post_incident.lua"),
            f"{base}/api/v1/incidents/",
        ],
        env={**os.environ, "TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    print(output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    assert errors is None, f"wrk saw failed creates: {errors.group(1)}"
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def add_matching_sla_definition(actor) -> None:
    """A 4-hour resolution SLA for priority 3, the priority of every benchmark incident (impact 2, urgency 2)."""
    from sla.models import SLADefinition
    from sla.services import save_definition

    definition = SLADefinition(
        name="Bench P3 resolution",
        applies_to="incident",
        conditions={"priority": [3]},
        target="resolution",
        duration=4 * 3600,
    )
    save_definition(definition, actor=actor)


@pytest.mark.django_db(transaction=True)
def test_api_create_throughput():
    from django.contrib.auth.models import Group

    from accounts.models import AssignmentGroup, User
    from accounts.services import issue_token
    from sla.models import Timer

    group = AssignmentGroup.objects.create(name="bench-desk")
    agent = User.objects.create_user("bench-agent", password="pw")
    agent.groups.add(Group.objects.get_or_create(name="agent")[0])
    group.members.add(agent)
    token = issue_token(user=agent).key
    try:
        with gunicorn_app(workers=2) as base:
            headers = {"Authorization": f"Token {token}"}
            payload = {
                "short_description": "Bench incident",
                "impact": 2,
                "urgency": 2,
                "assignment_group": "bench-desk",
            }

            def worker(count: int) -> int:
                ok = 0
                with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                    for _ in range(count):
                        ok += client.post("/api/v1/incidents/", json=payload).status_code == 201
                return ok

            worker(20)  # warm both workers
            started = time.monotonic()
            with ThreadPoolExecutor(THREADS) as pool:
                created = sum(pool.map(worker, [CREATES // THREADS] * THREADS))
            elapsed = time.monotonic() - started
            wrk_rate = wrk_throughput(base, token)
            # The same creates when an SLA applies to them, as in a real service desk: each also starts a
            # timer (rows for the timer, its start event and the timeline) and schedules its Celery check.
            add_matching_sla_definition(agent)
            timers_before = Timer.objects.count()
            wrk_rate_with_sla = wrk_throughput(base, token)
            assert Timer.objects.count() > timers_before, "the SLA did not apply to the created incidents"
    finally:
        drop_queued_tasks()
    rate = created / elapsed
    record(
        "incidents_api_create",
        creates=created,
        seconds=round(elapsed, 2),
        per_second=round(rate, 1),
        workers=2,
        threads=THREADS,
        wrk_per_second=wrk_rate,
        wrk_per_second_with_sla=wrk_rate_with_sla,
    )
    assert created == (CREATES // THREADS) * THREADS


IN_PROCESS_CREATES = int(os.environ.get("INCIDENT_BENCH_IN_PROCESS_CREATES", "200"))


@pytest.mark.django_db(transaction=True)
def test_create_cost_in_process():
    """The same POST, in process (no HTTP, no gunicorn): SQL statements per create, split into the
    create transaction and the rest of the request, and milliseconds per create. Tells the write path's
    own cost apart from the server's."""
    from django.contrib.auth.models import Group
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from accounts.models import AssignmentGroup, User
    from accounts.services import issue_token

    group = AssignmentGroup.objects.create(name="bench-desk")
    agent = User.objects.create_user("bench-agent", password="pw")
    agent.groups.add(Group.objects.get_or_create(name="agent")[0])
    group.members.add(agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=agent).key}")
    payload = {
        "short_description": "Bench incident",
        "impact": 2,
        "urgency": 2,
        "assignment_group": "bench-desk",
    }
    for _ in range(20):
        assert client.post("/api/v1/incidents/", payload, format="json").status_code == 201
    with CaptureQueriesContext(connection) as captured:
        assert client.post("/api/v1/incidents/", payload, format="json").status_code == 201
    statements = [query["sql"] for query in captured.captured_queries]
    begin, commit = statements.index("BEGIN"), statements.index("COMMIT")
    started = time.perf_counter()
    for _ in range(IN_PROCESS_CREATES):
        client.post("/api/v1/incidents/", payload, format="json")
    elapsed = time.perf_counter() - started
    record(
        "incidents_create_in_process",
        creates=IN_PROCESS_CREATES,
        ms_per_create=round(1000 * elapsed / IN_PROCESS_CREATES, 1),
        queries_per_request=len(statements),
        queries_in_create_transaction=commit - begin + 1,
    )
