"""CPU instructions the web process spends per API create, per API resolve and per 50-row API list page, counted by
valgrind's callgrind: a figure that does not move with the machine's speed, unlike the HTTP benchmarks'
(this machine's speed has varied by up to 3x from one session to the next; see bench/results.py).

The requests go through Django's whole stack in process (middleware, DRF, the services, the ORM, psycopg
and redis-py), with deployment settings (DEBUG off, Celery tasks queued, not run); PostgreSQL's and
Redis's own work is not counted. Each figure is (instructions for warm-up + N requests) minus
(instructions for the warm-up alone), divided by N, so start-up and first-request costs cancel out. The
list reads a group's in-progress queue like bench/incidents_reads.py, from 60 rows (the per-row cost
does not depend on the table's size); the resolve moves pre-made new incidents to resolved, one each
(each run resolves its own range, so the warm-up-only and the full run never touch the same row).
`INSTRUCTION_BENCH_KINDS` (default create,resolve,list) picks the figures. Run: `pytest bench/python_instructions.py -s -p no:xdist` (about
4 minutes here); appends a JSON line to bench/results/incidents.json. Skipped without valgrind.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("INSTRUCTION_BENCH_REQUESTS", "40"))
KINDS = os.environ.get("INSTRUCTION_BENCH_KINDS", "create,resolve,list").split(",")
RESOLVE_BODY = (
    '{"to": "resolved", "resolution_code": "solved", "resolution_notes": "Fixed by the benchmark."}'
)
RESOLVE_RANGES = {0: 0, REQUESTS: 1000}  # first pre-made incident of each run, by its request count
LIST_URL = "/api/v1/incidents/?state=in_progress&assignment_group=bench-queue&page_size=50"
CREATE_BODY = (
    '{"short_description": "Bench incident", "impact": 2, "urgency": 2, "assignment_group": "bench-desk"}'
)


def request_loop(kind: str, token: str, count: int) -> None:
    """Run by callgrind in a child process: 5 warm-up requests, then `count` more."""
    import django

    django.setup()
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    resolving = iter(range(RESOLVE_RANGES.get(count, 2000), 10**6))

    def one() -> None:
        if kind == "resolve":
            number = f"INC8{next(resolving):06d}"
            response = client.post(
                f"/api/v1/incidents/{number}/transition/", RESOLVE_BODY, content_type="application/json"
            )
            assert response.status_code == 200, response.content
        elif kind == "create":
            response = client.post("/api/v1/incidents/", CREATE_BODY, content_type="application/json")
            assert response.status_code == 201, response.content
        else:
            response = client.get(LIST_URL)
            assert response.status_code == 200 and len(response.json()["results"]) == 50, response.content

    for _ in range(5 + count):
        one()


def instructions(kind: str, token: str, count: int, env: dict[str, str]) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    command += [__file__, kind, token, str(count)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return int(re.search(r"Collected : ([\d,]+)", done.stderr).group(1).replace(",", ""))


def per_request(kind: str, token: str, env: dict[str, str]) -> float:
    """Millions of instructions per request: the warm-up-only run subtracted (the two run side by side)."""
    with ThreadPoolExecutor(2) as pool:
        warm_up, warm_up_and_requests = pool.map(
            lambda count: instructions(kind, token, count, env), [0, REQUESTS]
        )
    return round((warm_up_and_requests - warm_up) / REQUESTS / 1e6, 2)


@pytest.mark.django_db(transaction=True)
def test_python_instructions_per_request():
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind not installed (apt-get install valgrind)")
    from django.contrib.auth.models import Group

    from accounts.models import AssignmentGroup, User
    from accounts.services import issue_token
    from incidents.models import Incident

    sys.path.insert(0, str(Path(__file__).parent))
    from gunicorn_server import deployment_env
    from incidents_common import record

    desk = AssignmentGroup.objects.create(name="bench-desk")
    queue = AssignmentGroup.objects.create(name="bench-queue")
    agent = User.objects.create_user("bench-agent", password="pw")
    agent.groups.add(Group.objects.get_or_create(name="agent")[0])
    desk.members.add(agent)
    Incident.objects.bulk_create(
        Incident(
            number=f"INC9{n:06d}",
            short_description=f"Queued incident {n}",
            state="in_progress",
            assignment_group=queue,
            assigned_to=agent,
            opened_by=agent,
        )
        for n in range(60)
    )
    # To resolve: each run of `per_request` resolves its own range (RESOLVE_RANGES), 5 warm-ups first.
    Incident.objects.bulk_create(
        Incident(
            number=f"INC8{start + n:06d}",
            short_description=f"To resolve {n}",
            state="new",
            impact=2,
            urgency=2,
            priority=3,
            assignment_group=desk,
            opened_by=agent,
        )
        for start in RESOLVE_RANGES.values()
        for n in range(5 + REQUESTS)
    )
    token = issue_token(user=agent).key
    env = {**deployment_env(), "PYTHONHASHSEED": "0"}
    figures = {}
    try:
        for kind in KINDS:
            figures[kind] = per_request(kind, token, env)
    finally:
        from incidents_create import drop_queued_tasks

        drop_queued_tasks()
    print("\n" + ", ".join(f"{value} M instructions per API {kind}" for kind, value in figures.items()))
    names = {"create": "create_minstr", "resolve": "resolve_minstr", "list": "list_50_rows_minstr"}
    record(
        "python_instructions", requests=REQUESTS, **{names[kind]: value for kind, value in figures.items()}
    )


if __name__ == "__main__":
    request_loop(sys.argv[1], sys.argv[2], int(sys.argv[3]))
