"""Fault tests with the real database: no lost update, only legal paths, unique numbers under load."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.models import Activity
from incidents.models import Incident
from incidents.services import incident_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("serial")]


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_twenty_parallel_conflicting_updates_lose_nothing(agent):
    """All 20 writers read version 1 and send If-Match: exactly one wins, the others get 412, and the
    timeline has exactly one field-change row."""
    incident = incident_create(actor=agent, short_description="contended")
    etag = _client(agent).get(f"/api/v1/incidents/{incident.number}/")["ETag"]

    def write(index: int) -> int:
        try:
            response = _client(agent).patch(
                f"/api/v1/incidents/{incident.number}/",
                {"description": f"writer {index}"},
                format="json",
                HTTP_IF_MATCH=etag,
            )
            return response.status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(write, range(20)))

    assert sorted(statuses) == [200] + [412] * 19
    incident.refresh_from_db()
    assert incident.version == 2
    assert Activity.objects.filter(object_id=incident.pk, kind="field_change").count() == 1


def test_parallel_transitions_only_follow_legal_paths(agent):
    """10 agents race to resolve and 10 to cancel the same new incident: one move wins; the other kind of
    move is then illegal from the final/resolved state, and the timeline shows exactly the moves made."""
    incident = incident_create(actor=agent, short_description="race")

    def move(index: int) -> int:
        body = (
            {"to": "resolved", "resolution_code": "solved", "resolution_notes": "fixed"}
            if index % 2
            else {"to": "canceled"}
        )
        try:
            return (
                _client(agent)
                .post(f"/api/v1/incidents/{incident.number}/transition/", body, format="json")
                .status_code
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(move, range(20)))

    incident.refresh_from_db()
    moves = list(
        Activity.objects.filter(object_id=incident.pk, kind="state_change")
        .order_by("pk")
        .values_list("data", flat=True)
    )
    # Every accepted move starts where the previous one ended: a legal chain from "new".
    state = "new"
    for data in moves:
        assert data["from"] == state
        assert data["to"] in Incident.workflow.allowed(state)
        state = data["to"]
    assert state == incident.state
    assert statuses.count(200) == len(moves)
    assert set(statuses) <= {200, 400}


def test_five_hundred_parallel_creates_get_unique_numbers(agent):
    def create_batch(worker: int) -> list[str]:
        try:
            return [
                incident_create(actor=agent, short_description=f"load {worker}.{i}").number for i in range(25)
            ]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = [n for batch in pool.map(create_batch, range(20)) for n in batch]

    assert len(numbers) == 500
    assert len(set(numbers)) == 500
    assert Incident.objects.count() == 500


def test_the_same_escalation_delivered_ten_times_at_once_runs_once(agent, service_desk, make_group):
    """Two beat processes, a redelivered task, a retried worker: however many copies of a breach stage run
    at the same moment, the escalation happens once (a unique (timer, stage) row in the action's
    transaction)."""
    from datetime import timedelta

    from sla import escalations
    from sla.models import Escalation, SLADefinition, Timer

    tier2 = make_group("tier2")
    definition = SLADefinition(
        name="Race",
        applies_to="incident",
        target="resolution",
        duration=60,
        escalations=[{"at": 100, "action": "reassign", "group": "tier2"}],
    )
    definition.full_clean()
    definition.save()
    incident = incident_create(
        actor=agent, short_description="racing escalation", assignment_group=service_desk
    )
    timer = Timer.objects.get(object_id=incident.pk, definition=definition)
    later = timer.due_at + timedelta(seconds=1)

    def breach_and_fire(_: int) -> bool:
        try:
            escalations.breach_due_timers(later)
            return escalations.fire_stage(timer.pk, 100, now=later)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        fired = list(pool.map(breach_and_fire, range(10)))

    assert fired.count(True) == 1
    assert Escalation.objects.filter(timer=timer, stage=100).count() == 1
    incident.refresh_from_db()
    assert incident.assignment_group == tier2
    reassignments = Activity.objects.filter(object_id=incident.pk, kind="assignment")
    assert reassignments.count() == 1
