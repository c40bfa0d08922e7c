"""CPU instructions the web process spends per API create, per API move and per 50-row API list page, counted by
valgrind's callgrind: a figure that does not move with the machine's speed, unlike the HTTP benchmarks'
(this machine's speed has varied by up to 3x from one session to the next; see bench/results.py).

The requests go through Django's whole stack in process (middleware, DRF, the services, the ORM, psycopg
and redis-py), with deployment settings (DEBUG off, Celery tasks queued, not run); PostgreSQL's and
Redis's own work is not counted. Each figure is (instructions for warm-up + N requests) minus
(instructions for the warm-up alone), divided by N, so start-up and first-request costs cancel out. The
list reads a group's in-progress queue like bench/incidents_reads.py, from 60 rows (the per-row cost
does not depend on the table's size); the resolve moves pre-made new incidents to resolved, one each
(each run moves its own range, so the warm-up-only and the full run never touch the same row).

The SLA figures use a resolution SLA (pausing on hold) that applies to the group `bench-sla` only, so the
plain figures above never meet it: `create_sla` opens an incident in that group (one timer starts),
`hold` moves a new one with a running timer to on hold (pauses it), `resume` moves an on-hold one back to
in progress (restarts it) and `resolve_sla` resolves an in-progress one whose timer runs again after a
hold (stops it): the moves of bench/incidents_transition.py. Their incidents are opened and moved
through the services beforehand, so each carries the timer, events and timeline of a real one.

`INSTRUCTION_BENCH_KINDS` (default create,resolve,list) picks the figures (also create_sla, hold,
resume, resolve_sla). `INSTRUCTION_BENCH_CALLGRIND_DIR` keeps each run's callgrind output there
(`<kind>-<requests>.out`, for callgrind_annotate). Run: `pytest bench/python_instructions.py -s -p
no:xdist` (about 4 minutes here for the three default kinds); appends a JSON line to
bench/results/incidents.json. Skipped without valgrind.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("INSTRUCTION_BENCH_REQUESTS", "40"))
KINDS = os.environ.get("INSTRUCTION_BENCH_KINDS", "create,resolve,list").split(",")
CALLGRIND_DIR = os.environ.get("INSTRUCTION_BENCH_CALLGRIND_DIR")
RESOLVE_BODY = (
    '{"to": "resolved", "resolution_code": "solved", "resolution_notes": "Fixed by the benchmark."}'
)
HOLD_BODY = '{"to": "on_hold", "hold_reason": "awaiting_caller"}'
RESUME_BODY = '{"to": "in_progress"}'
RESOLVE_RANGES = {0: 0, REQUESTS: 1000}  # first pre-made incident of each run, by its request count
LIST_URL = "/api/v1/incidents/?state=in_progress&assignment_group=bench-queue&page_size=50"
CREATE_BODY = (
    '{"short_description": "Bench incident", "impact": 2, "urgency": 2, "assignment_group": "bench-desk"}'
)
CREATE_SLA_BODY = CREATE_BODY.replace("bench-desk", "bench-sla")
# The moves: the number prefix of the pre-made incidents each one takes, and its body.
MOVES = {
    "resolve": ("INC8", RESOLVE_BODY),
    "hold": ("INC7", HOLD_BODY),
    "resume": ("INC6", RESUME_BODY),
    "resolve_sla": ("INC5", RESOLVE_BODY),
}
# The moves an SLA incident goes through beforehand, for each SLA move's starting point.
SLA_SETUP = {
    "hold": (),
    "resume": (("on_hold", {"hold_reason": "awaiting_caller"}),),
    "resolve_sla": (("on_hold", {"hold_reason": "awaiting_caller"}), ("in_progress", {})),
}
NAMES = {
    "create": "create_minstr",
    "resolve": "resolve_minstr",
    "list": "list_50_rows_minstr",
    "create_sla": "create_sla_minstr",
    "hold": "hold_sla_minstr",
    "resume": "resume_sla_minstr",
    "resolve_sla": "resolve_sla_minstr",
}


def request_maker(kind: str, token: str, count: int) -> Callable[[], None]:
    """One request of `kind` per call; `count` picks the range of pre-made incidents a move takes."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    moving = iter(range(RESOLVE_RANGES.get(count, 2000), 10**6))

    def one() -> None:
        if kind in MOVES:
            prefix, body = MOVES[kind]
            number = f"{prefix}{next(moving):06d}"
            response = client.post(
                f"/api/v1/incidents/{number}/transition/", body, content_type="application/json"
            )
            assert response.status_code == 200, response.content
        elif kind in ("create", "create_sla"):
            body = CREATE_BODY if kind == "create" else CREATE_SLA_BODY
            response = client.post("/api/v1/incidents/", body, content_type="application/json")
            assert response.status_code == 201, response.content
        else:
            response = client.get(LIST_URL)
            assert response.status_code == 200 and len(response.json()["results"]) == 50, response.content

    return one


def request_loop(kind: str, token: str, count: int) -> None:
    """Run by callgrind in a child process: 5 warm-up requests, then `count` more."""
    import django

    django.setup()
    one = request_maker(kind, token, count)
    for _ in range(5 + count):
        one()


def instructions(kind: str, token: str, count: int, env: dict[str, str]) -> int:
    out = f"{CALLGRIND_DIR}/{kind}-{count}.out" if CALLGRIND_DIR else "/dev/null"
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable]
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


def prepare(kinds: list[str]) -> str:
    """The groups, the agent, the listed and the pre-made incidents (and, for the SLA kinds, the SLA and
    its incidents); returns the agent's API token."""
    from django.contrib.auth.models import Group

    from accounts.models import AssignmentGroup, User
    from accounts.services import issue_token
    from incidents.models import Incident

    desk = AssignmentGroup.objects.create(name="bench-desk")
    queue = AssignmentGroup.objects.create(name="bench-queue")
    sla_desk = AssignmentGroup.objects.create(name="bench-sla")
    agent = User.objects.create_user("bench-agent", password="pw")
    agent.groups.add(Group.objects.get_or_create(name="agent")[0])
    desk.members.add(agent)
    sla_desk.members.add(agent)
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
    sla_moves = [kind for kind in kinds if kind in SLA_SETUP]
    if sla_moves or "create_sla" in kinds:
        prepare_sla(agent, sla_desk, sla_moves)
    return issue_token(user=agent).key


def prepare_sla(agent, group, moves: list[str]) -> None:
    """The SLA of the `bench-sla` group, and for each SLA move its incidents, opened and moved through the
    services (so each has its timer, its events and its timeline), then numbered as the move expects."""
    from incidents.models import Incident
    from incidents.services import incident_create, incident_transition
    from sla.models import SLADefinition
    from sla.services import save_definition

    save_definition(
        SLADefinition(
            name="Bench SLA group resolution",
            applies_to="incident",
            conditions={"assignment_group": ["bench-sla"]},
            target="resolution",
            duration=4 * 3600,
            pause_states=["on_hold"],
        ),
        actor=agent,
    )
    for kind in moves:
        prefix = MOVES[kind][0]
        for start in RESOLVE_RANGES.values():
            for n in range(5 + REQUESTS):
                incident = incident_create(
                    actor=agent,
                    short_description=f"SLA {kind} {n}",
                    impact=2,
                    urgency=2,
                    assignment_group=group,
                )
                for to, fields in SLA_SETUP[kind]:
                    incident = incident_transition(incident, to=to, actor=agent, fields=fields)
                Incident.objects.filter(pk=incident.pk).update(number=f"{prefix}{start + n:06d}")


@pytest.mark.django_db(transaction=True)
def test_python_instructions_per_request():
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind not installed (apt-get install valgrind)")
    sys.path.insert(0, str(Path(__file__).parent))
    from gunicorn_server import deployment_env
    from incidents_common import record

    token = prepare(KINDS)
    env = {**deployment_env(), "PYTHONHASHSEED": "0"}
    figures = {}
    try:
        for kind in KINDS:
            figures[kind] = per_request(kind, token, env)
    finally:
        from incidents_create import drop_queued_tasks

        drop_queued_tasks()
    print("\n" + ", ".join(f"{value} M instructions per API {kind}" for kind, value in figures.items()))
    record(
        "python_instructions", requests=REQUESTS, **{NAMES[kind]: value for kind, value in figures.items()}
    )


if __name__ == "__main__":
    request_loop(sys.argv[1], sys.argv[2], int(sys.argv[3]))
