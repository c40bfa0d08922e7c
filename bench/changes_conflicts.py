"""Benchmark: GET /api/v1/changes/{number}/conflicts/ with 100,000 CIs and 10,000 scheduled changes.

Target (issue 6): under 100 ms. Data is bulk-inserted: 100,000 CIs in chains of 5 (runs_on), 10,000
scheduled changes each on one CI with a 2-hour window spread over a year, 50 blackout windows and 200
open P1/P2 incidents. The measured change sits on a CI whose neighbourhood holds other changes.

Run: pytest bench/changes_conflicts.py -s -p no:xdist
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

sys.path.insert(0, str(Path(__file__).parent))
from results import write  # noqa: E402

CI_COUNT = 100_000
CHANGE_COUNT = 10_000
RUNS = 30


@pytest.mark.django_db
def test_conflicts_endpoint_speed():
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from accounts.models import User
    from changes.models import BlackoutWindow, Change
    from cmdb.models import CIClass, ConfigurationItem, Relationship
    from core.numbering import next_numbers
    from incidents.models import Incident

    manager = User.objects.create_user(username="bench-carol", password="pw")
    manager.groups.add(*Group.objects.filter(name__in=["change_manager", "agent"]))
    server = CIClass.objects.get(name="server")
    started = time.perf_counter()
    ConfigurationItem.objects.bulk_create(
        [ConfigurationItem(name=f"bench-ci-{i:06d}", ci_class=server) for i in range(CI_COUNT)],
        batch_size=5000,
    )
    ids = list(
        ConfigurationItem.objects.filter(name__startswith="bench-ci-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Relationship.objects.bulk_create(
        [
            Relationship(source_id=ids[i], target_id=ids[i + 1], type="runs_on")
            for i in range(len(ids) - 1)
            if (i + 1) % 5
        ],
        batch_size=5000,
    )
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    numbers = next_numbers("CHG", CHANGE_COUNT + 1)
    changes = []
    for n in range(CHANGE_COUNT):
        start = now + timedelta(hours=(n * 7) % (24 * 365))
        changes.append(
            Change(
                number=numbers[n],
                short_description=f"bench change {n}",
                state="scheduled",
                opened_by=manager,
                planned_start=start,
                planned_end=start + timedelta(hours=2),
            )
        )
    Change.objects.bulk_create(changes, batch_size=2000)
    change_ids = list(
        Change.objects.filter(number__in=numbers[:CHANGE_COUNT]).order_by("pk").values_list("pk", flat=True)
    )
    through = Change.configuration_items.through
    through.objects.bulk_create(
        [
            through(change_id=cid, configurationitem_id=ids[(k * 10) % CI_COUNT])
            for k, cid in enumerate(change_ids)
        ],
        batch_size=5000,
    )
    BlackoutWindow.objects.bulk_create(
        [
            BlackoutWindow(
                name=f"bench blackout {k}",
                start=now + timedelta(days=7 * k),
                end=now + timedelta(days=7 * k, hours=4),
            )
            for k in range(50)
        ]
    )
    inc_numbers = next_numbers("INC", 200)
    Incident.objects.bulk_create(
        [
            Incident(
                number=inc_numbers[k],
                short_description="bench p1",
                state="new",
                impact=1,
                urgency=1,
                priority=1,
                opened_by=manager,
            )
            for k in range(200)
        ]
    )
    inc_ids = list(Incident.objects.filter(number__in=inc_numbers).values_list("pk", flat=True))
    Incident.configuration_items.through.objects.bulk_create(
        [
            Incident.configuration_items.through(incident_id=iid, configurationitem_id=ids[k * 500 + 1])
            for k, iid in enumerate(inc_ids)
        ]
    )
    # The measured change: on the middle CI of the first chain (ids[1]), same window as change 0 (on ids[0]).
    target = Change.objects.create(
        number=numbers[-1],
        short_description="measured",
        state="authorize",
        opened_by=manager,
        planned_start=now,
        planned_end=now + timedelta(hours=3),
    )
    target.configuration_items.add(ids[1])
    load_seconds = time.perf_counter() - started
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    client = APIClient()
    client.force_authenticate(manager)
    url = f"/api/v1/changes/{target.number}/conflicts/"
    response = client.get(url)
    assert response.status_code == 200
    conflicts = response.json()["conflicts"]
    assert {c["kind"] for c in conflicts} >= {"change", "incident"}
    timings = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    result = {
        "benchmark": "changes_conflicts",
        "cis": CI_COUNT,
        "scheduled_changes": CHANGE_COUNT,
        "conflicts_found": len(conflicts),
        "runs": RUNS,
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(sorted(timings)[int(RUNS * 0.95) - 1], 2),
        "max_ms": round(max(timings), 2),
        "load_seconds": round(load_seconds, 1),
        "target_ms": 100,
    }
    write("changes", result)
    assert result["median_ms"] < 100
