"""Automation benchmarks (figures in the README, JSON lines in bench/results/automation.json).

1. API creates with 50 active event rules on incidents (10 of which match every benchmark incident) at
   ≥ 85% of the throughput with none, measured back to back in one run against the same gunicorn (2 sync
   workers), alternating phases none / rules / none / rules so machine drift spreads over both. The 10
   matching rules are routing-style rules whose conditions hold and whose actions set fields the incident
   already has (impact 2, urgency 2): the engine evaluates them and finds nothing to write; the other 40
   test fields the incident does not match. AUTOMATION_BENCH_CREATES (default 300) creates per phase,
   AUTOMATION_BENCH_PAIRS (default 3) pairs of phases; the ratio is total rate with rules / without.
   A second, in-process figure (no HTTP, one thread) times the engine's listener itself per create.
2. N incidents (AUTOMATION_BENCH_TICKETS, default 10,000) whose time rule becomes due at once: a real
   Celery worker (prefork, 2 processes) and beat (every 5 s) must fire all of them within 60 s, none twice
   (counted from the TimeRuleMatch ledger and the timeline).

Run: `pytest bench/automation_rules.py -s -p no:xdist`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gunicorn_server import deployment_env, gunicorn_app  # noqa: E402
from results import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CREATES = int(os.environ.get("AUTOMATION_BENCH_CREATES", "300"))
PAIRS = int(os.environ.get("AUTOMATION_BENCH_PAIRS", "3"))
TICKETS = int(os.environ.get("AUTOMATION_BENCH_TICKETS", "10000"))
THREADS = 8
CELERY = str(Path(sys.executable).with_name("celery"))


def drop_queued_tasks() -> None:
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")


def fifty_rules(admin) -> None:
    from automation.services import rule_save

    for i in range(10):
        rule_save(
            actor=admin,
            data={
                "name": f"bench matching {i}",
                "applies_to": "incident",
                "trigger": "created",
                "order": i,
                "conditions": {
                    "all": [
                        {"field": "impact", "op": "in", "value": [1, 2]},
                        {"field": "short_description", "op": "contains", "value": "bench"},
                    ]
                },
                "actions": [{"type": "set", "field": "urgency" if i % 2 else "impact", "value": 2}],
            },
        )
    for i in range(40):
        rule_save(
            actor=admin,
            data={
                "name": f"bench other {i}",
                "applies_to": "incident",
                "trigger": "created",
                "order": 100 + i,
                "conditions": {
                    "all": [{"field": "priority", "op": "eq", "value": 1}],
                    "any": [{"field": "short_description", "op": "contains", "value": f"outage {i}"}],
                },
                "actions": [{"type": "assign", "group": "bench-desk", "strategy": "round_robin"}],
            },
        )


@pytest.mark.django_db(transaction=True)
def test_api_creates_with_fifty_rules():
    from django.contrib.auth.models import Group

    from accounts.models import AssignmentGroup, User
    from accounts.services import issue_token
    from automation.models import Rule

    group = AssignmentGroup.objects.create(name="bench-desk")
    agent = User.objects.create_user("bench-agent", password="pw")
    agent.groups.add(Group.objects.get_or_create(name="agent")[0])
    admin = User.objects.create_user("bench-admin", password="pw", is_superuser=True)
    group.members.add(agent)
    token = issue_token(user=agent).key
    payload = {
        "short_description": "Bench incident",
        "impact": 2,
        "urgency": 2,
        "assignment_group": "bench-desk",
    }
    headers = {"Authorization": f"Token {token}"}
    rates: dict[str, list[float]] = {"none": [], "rules": []}
    try:
        with gunicorn_app(workers=2) as base:

            def worker(count: int) -> int:
                ok = 0
                with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                    for _ in range(count):
                        ok += client.post("/api/v1/incidents/", json=payload).status_code == 201
                return ok

            def phase() -> float:
                started = time.monotonic()
                with ThreadPoolExecutor(THREADS) as pool:
                    created = sum(pool.map(worker, [CREATES // THREADS] * THREADS))
                assert created == (CREATES // THREADS) * THREADS
                return created / (time.monotonic() - started)

            worker(20)
            for _ in range(PAIRS):
                Rule.objects.filter(name__startswith="bench ").delete()
                rates["none"].append(phase())
                fifty_rules(admin)
                worker(4)  # both workers reload their rule cache
                rates["rules"].append(phase())
            fired = Rule.objects.filter(name__startswith="bench matching").values_list(
                "fire_count", flat=True
            )
            assert min(fired) > 0, "the matching rules never fired"
            assert not Rule.objects.filter(name__startswith="bench other", fire_count__gt=0).exists()
    finally:
        drop_queued_tasks()
    in_process = listener_cost_in_process(admin_exists=True)
    none = sum(rates["none"]) / len(rates["none"])
    with_rules = sum(rates["rules"]) / len(rates["rules"])
    ratio = with_rules / none
    figures = {
        "benchmark": "api_creates_with_50_rules",
        "creates_per_phase": CREATES,
        "per_second_none": [round(r, 1) for r in rates["none"]],
        "per_second_rules": [round(r, 1) for r in rates["rules"]],
        "ratio": round(ratio, 3),
        **in_process,
    }
    write("automation", figures)
    print(figures)
    assert ratio >= 0.85, f"50 rules cost too much: {ratio:.1%} of the throughput without rules"


def listener_cost_in_process(*, admin_exists: bool, creates: int = 100) -> dict:
    """Milliseconds per API create in process (one thread, no HTTP) and the automation listener's share,
    with the 50 rules in place: the engine's own cost, free of the load generator's noise."""
    from rest_framework.test import APIClient

    from accounts.models import User
    from accounts.services import issue_token
    from automation import engine
    from core import events

    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {issue_token(user=User.objects.get(username='bench-agent')).key}"
    )
    payload = {
        "short_description": "Bench incident",
        "impact": 2,
        "urgency": 2,
        "assignment_group": "bench-desk",
    }
    spent = [0.0]

    def timed(event):
        started = time.perf_counter()
        engine.on_event(event)
        spent[0] += time.perf_counter() - started

    position = events._on_change.index(engine.on_event)
    events._on_change[position] = timed
    try:
        for _ in range(10):
            client.post("/api/v1/incidents/", payload, format="json")
        spent[0] = 0.0
        started = time.perf_counter()
        for _ in range(creates):
            client.post("/api/v1/incidents/", payload, format="json")
        total = time.perf_counter() - started
    finally:
        events._on_change[position] = engine.on_event
    return {
        "in_process_ms_per_create": round(1000 * total / creates, 2),
        "in_process_listener_ms_per_create": round(1000 * spent[0] / creates, 3),
    }


@pytest.mark.django_db(transaction=True)
def test_time_rule_due_on_many_tickets_fires_all_once_within_60s():
    from datetime import timedelta

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from automation.models import Rule, TimeRuleMatch
    from automation.services import rule_save
    from core.models import Activity
    from incidents.models import Incident

    admin = User.objects.create_user("bench-admin", password="pw", is_superuser=True)
    caller = User.objects.create_user("bench-caller", password="pw")
    now = timezone.now()
    Incident.objects.bulk_create(
        [
            Incident(
                number=f"INC9{i:07d}",
                short_description=f"Bench stale {i}",
                state="new",
                opened_by=caller,
                caller=caller,
                opened_at=now,
            )
            for i in range(TICKETS)
        ],
        batch_size=2000,
    )
    rule = rule_save(
        actor=admin,
        data={
            "name": "bench stale",
            "applies_to": "incident",
            "trigger": "time",
            "conditions": {"all": [{"field": "opened_at", "op": "older_than", "value": 3600}]},
            "actions": [{"type": "comment", "body": "Stale: {{ number }}", "public": False}],
        },
    )
    drop_queued_tasks()
    env = {
        **deployment_env(),
        "DJANGO_SETTINGS_MODULE": "itsm.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "AUTOMATION_TIME_RULES_INTERVAL": "5",
    }
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / "automation-bench-worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            CELERY,
            "-A",
            "itsm",
            "worker",
            "-B",
            "--concurrency=2",
            "-l",
            "warning",
            "-s",
            str(Path(os.environ.get("TMPDIR", "/tmp")) / "automation-bench-beat"),
            "-n",
            f"automation-bench-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    content_type = ContentType.objects.get_for_model(Incident)
    try:
        time.sleep(8)  # the worker boots
        Incident.objects.filter(short_description__startswith="Bench stale").update(
            opened_at=timezone.now() - timedelta(hours=2)
        )
        due_at = time.monotonic()
        done_in = None
        while time.monotonic() - due_at < 120:
            if TimeRuleMatch.objects.filter(rule=rule).count() >= TICKETS:
                done_in = time.monotonic() - due_at
                break
            time.sleep(1)
        time.sleep(12)  # two more beats: nothing may fire twice
        matches = TimeRuleMatch.objects.filter(rule=rule).count()
        comments = Activity.objects.filter(
            content_type=content_type, kind="comment", body__startswith="Stale"
        ).count()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT object_id FROM core_activity WHERE content_type_id = %s AND kind = 'comment' "
                "AND body LIKE 'Stale%%' GROUP BY object_id HAVING count(*) > 1) AS twice",
                [content_type.pk],
            )
            twice = cursor.fetchone()[0]
    finally:
        os.killpg(worker.pid, 9)
        worker.wait(10)
        drop_queued_tasks()
    figures = {
        "benchmark": "time_rule_due_at_once",
        "tickets": TICKETS,
        "all_fired_seconds": round(done_in, 1) if done_in is not None else None,
        "fired": matches,
        "comments": comments,
        "fired_twice": twice,
    }
    write("automation", figures)
    print(figures)
    assert Rule.objects.get(pk=rule.pk).fire_count == TICKETS
    assert matches == comments == TICKETS and twice == 0
    assert done_in is not None and done_in <= 60, f"not all fired within 60 s ({done_in})"
