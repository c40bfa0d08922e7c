"""A transition against a create: POST /api/v1/incidents/{number}/transition/ and POST /api/v1/incidents/
through gunicorn with 2 workers (deployment settings, bench/gunicorn_server.py), from one sequential client,
in the same run, so the two figures share the machine's moment (its speed varies up to 3x between runs).

Without an SLA: create N incidents, then resolve each (p50/p95 of each). With an SLA that applies to
every incident (a resolution timer that pauses on hold): create N more (each starts a timer), put each on
hold (pauses it), resume it (restarts it) and resolve it (stops it). N = INCIDENT_BENCH_TRANSITIONS
(2,000 by default, the issue's figure). In process, the SQL statements of one create and one resolve
without the SLA, and of one create with the SLA and its hold, resume and resolve, tell where the time
goes.

Run: `pytest bench/incidents_transition.py -s -p no:xdist`; appends JSON lines to
bench/results/incidents.json (`incidents_api_transition`, `incidents_transition_statements`).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.db import connection

sys.path.insert(0, str(Path(__file__).parent))
from gunicorn_server import gunicorn_app  # noqa: E402
from incidents_common import percentile, record  # noqa: E402
from incidents_create import add_matching_sla_definition, drop_queued_tasks  # noqa: E402

COUNT = int(os.environ.get("INCIDENT_BENCH_TRANSITIONS", "2000"))
CREATE = {"short_description": "Bench incident", "impact": 2, "urgency": 2, "assignment_group": "bench-desk"}
RESOLVE = {"to": "resolved", "resolution_code": "solved", "resolution_notes": "Fixed by the benchmark."}
HOLD = {"to": "on_hold", "hold_reason": "awaiting_caller"}
RESUME = {"to": "in_progress"}


def _agent():
    from django.contrib.auth.models import Group

    from accounts.models import AssignmentGroup, User
    from accounts.services import issue_token

    group = AssignmentGroup.objects.create(name="bench-desk")
    agent = User.objects.create_user("bench-agent", password="pw")
    agent.groups.add(Group.objects.get_or_create(name="agent")[0])
    group.members.add(agent)
    return agent, issue_token(user=agent).key


def _timed_post(client: httpx.Client, url: str, body: dict, expect: int) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.post(url, json=body)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == expect, response.text[:500]
    return elapsed, response.json()


def _summary(values: list[float]) -> dict:
    return {"p50": round(percentile(values, 50), 2), "p95": round(percentile(values, 95), 2)}


@pytest.mark.django_db(transaction=True)
def test_transition_against_create_latency():
    from sla.models import Timer

    agent, token = _agent()
    figures: dict[str, dict] = {}
    try:
        with (
            gunicorn_app(workers=2) as base,
            httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30) as client,
        ):
            for _ in range(40):  # warm both workers on both paths
                _, row = _timed_post(client, "/api/v1/incidents/", CREATE, 201)
                _timed_post(client, f"/api/v1/incidents/{row['number']}/transition/", RESOLVE, 200)

            def run(label: str, moves: list[tuple[str, dict]]) -> None:
                creates, numbers = [], []
                for _ in range(COUNT):
                    elapsed, row = _timed_post(client, "/api/v1/incidents/", CREATE, 201)
                    creates.append(elapsed)
                    numbers.append(row["number"])
                figures[f"create{label}"] = _summary(creates)
                for name, body in moves:
                    figures[f"{name}{label}"] = _summary(
                        [
                            _timed_post(client, f"/api/v1/incidents/{n}/transition/", body, 200)[0]
                            for n in numbers
                        ]
                    )

            run("", [("resolve", RESOLVE)])
            add_matching_sla_definition(agent)
            timers = Timer.objects.count()
            run("_sla", [("hold", HOLD), ("resume", RESUME), ("resolve", RESOLVE)])
            assert Timer.objects.count() >= timers + COUNT, "the SLA did not apply to the incidents"
            assert not Timer.objects.filter(state="running").exists(), "a resolve left a timer running"
    finally:
        drop_queued_tasks()
    for name, values in figures.items():
        print(f"{name:>12}: p50 {values['p50']:.2f} ms, p95 {values['p95']:.2f} ms")
    record(
        "incidents_api_transition",
        incidents=COUNT,
        workers=2,
        client="sequential",
        **{f"{name}_{stat}_ms": value for name, values in figures.items() for stat, value in values.items()},
    )


@pytest.mark.django_db(transaction=True)
def test_statements_per_transition():
    """The SQL statements of one API create and its moves, in process: without an SLA a resolve; with an SLA
    that applies (a running timer) the latency run's hold, resume and resolve of one incident."""
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    agent, token = _agent()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def statements(url: str, body: dict) -> tuple[list[str], dict]:
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, body, format="json")
            assert response.status_code in (200, 201), response.content[:500]
        return [query["sql"] for query in captured.captured_queries], response.json()

    counts = {}
    for label, moves in (
        ("", [("resolve", RESOLVE)]),
        ("_sla", [("hold", HOLD), ("resume", RESUME), ("resolve", RESOLVE)]),
    ):
        if label:
            add_matching_sla_definition(agent)
        for _ in range(3):  # warm the caches and prepare the statements of every step
            number = client.post("/api/v1/incidents/", CREATE, format="json").json()["number"]
            for _, body in moves:
                client.post(f"/api/v1/incidents/{number}/transition/", body, format="json")
        create, row = statements("/api/v1/incidents/", CREATE)
        counts[f"create{label}"] = len(create)
        for name, body in moves:
            move, _ = statements(f"/api/v1/incidents/{row['number']}/transition/", body)
            counts[f"{name}{label}"] = len(move)
            print(f"\n--- {name}{label}: {len(move)} statements (create{label}: {len(create)})")
            for sql in move:
                print("  ", sql[:160])
    drop_queued_tasks()
    record("incidents_transition_statements", **counts)
