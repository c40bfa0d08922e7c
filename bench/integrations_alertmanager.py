"""Alertmanager ingestion throughput: POST /api/v1/integrations/alertmanager/ against gunicorn with 2
workers on a loopback port (target ≥ 200 alerts/s), with deduplication checked under concurrency.

Phase 1 sends every firing batch twice from different client threads at the same time (each fingerprint
must open exactly one incident; the twin becomes a timeline note); phase 2 resolves them all. Batches of
BATCH alerts per request, as Alertmanager groups them. Deployment-like server: DEBUG off, persistent DB
connections, after-commit Celery tasks queued to Redis (dropped afterwards; no worker runs).
Run: `pytest bench/integrations_alertmanager.py -s -p no:xdist`; appends to bench/results/integrations.json.
"""

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gunicorn_server import gunicorn_app  # noqa: E402
from results import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FINGERPRINTS = int(os.environ.get("ALERT_BENCH_FINGERPRINTS", "1000"))
BATCH = int(os.environ.get("ALERT_BENCH_BATCH", "10"))
THREADS = 8


def body(status: str, fingerprints: list[str]) -> dict:
    return {
        "version": "4",
        "status": status,
        "receiver": "itsm",
        "groupKey": "bench",
        "alerts": [
            {
                "status": status,
                "fingerprint": fp,
                "labels": {"alertname": "BenchAlert", "severity": "warning", "instance": f"host-{fp}:9100"},
                "annotations": {"summary": f"Bench alert {fp}"},
                "startsAt": "2025-03-03T10:00:00Z",
                "endsAt": "2025-03-03T11:00:00Z",
            }
            for fp in fingerprints
        ],
    }


@pytest.mark.django_db(transaction=True)
def test_alertmanager_throughput():
    from django.conf import settings
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.services import issue_token
    from incidents.models import Incident
    from integrations.models import AlertLink

    bot = User.objects.create_user("alertbot", password="pw")  # an integration user: no mailbox
    bot.groups.add(Group.objects.get_or_create(name="agent")[0])
    token = issue_token(user=bot).key
    fingerprints = [f"bench{i:06d}" for i in range(FINGERPRINTS)]
    batches = [fingerprints[i : i + BATCH] for i in range(0, FINGERPRINTS, BATCH)]
    try:
        with gunicorn_app(workers=2) as base:
            headers = {"Authorization": f"Token {token}"}

            def send(jobs: list[tuple[str, list[str]]]) -> tuple[int, list[dict]]:
                alerts, answers = 0, []
                with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                    for status, fps in jobs:
                        response = client.post("/api/v1/integrations/alertmanager/", json=body(status, fps))
                        assert response.status_code == 200, response.text
                        answers.append(response.json())
                        alerts += len(fps)
                return alerts, answers

            send([("firing", ["warmup"])])
            # Phase 1: every batch twice, the twins sent by neighbouring threads at about the same moment.
            firing = [("firing", batch) for batch in batches for _ in range(2)]
            resolved = [("resolved", batch) for batch in batches]
            started = time.monotonic()
            with ThreadPoolExecutor(THREADS) as pool:
                phase1 = list(pool.map(lambda i: send(firing[i::THREADS]), range(THREADS)))
            with ThreadPoolExecutor(THREADS) as pool:
                phase2 = list(pool.map(lambda i: send(resolved[i::THREADS]), range(THREADS)))
            elapsed = time.monotonic() - started
    finally:
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")
    alerts = sum(count for count, _ in phase1 + phase2)
    answers = [answer for _, batch in phase1 + phase2 for answer in batch]
    created = sum(len(a["created"]) for a in answers)
    updated = sum(len(a["updated"]) for a in answers)
    resolved_count = sum(len(a["resolved"]) for a in answers)
    bench_incidents = Incident.objects.filter(short_description__startswith="[BenchAlert] Bench alert bench")
    dedup_ok = (
        created == FINGERPRINTS
        and updated == FINGERPRINTS
        and resolved_count == FINGERPRINTS
        and bench_incidents.count() == FINGERPRINTS
        and bench_incidents.filter(state="resolved").count() == FINGERPRINTS
        and AlertLink.objects.filter(fingerprint__startswith="bench").count() == FINGERPRINTS
    )
    rate = alerts / elapsed
    line = {
        "benchmark": "integrations_alertmanager",
        "alerts": alerts,
        "fingerprints": FINGERPRINTS,
        "batch": BATCH,
        "seconds": round(elapsed, 2),
        "alerts_per_second": round(rate, 1),
        "workers": 2,
        "threads": THREADS,
        "dedup_ok": dedup_ok,
    }
    write("integrations", line)
    assert dedup_ok, (created, updated, resolved_count)
    assert rate >= 200, f"{rate:.1f} alerts/s is below the 200/s target"
