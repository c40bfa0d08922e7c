"""Time rules with a real Celery worker and beat (the SLA tests' machinery): fires once within 60 s, not
again while true, again after false → true; two beats or a killed worker never fire twice."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from automation.models import TimeRuleMatch
from automation.timerules import PAUSE_FILE_ENV
from core.models import Activity
from incidents.models import Incident
from tests.sla.test_celery_worker import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.xdist_group("serial")]

FAST_BEAT = {"AUTOMATION_TIME_RULES_INTERVAL": "2"}


@pytest.fixture
def flagged(transactional_db, make_user):
    from automation import services
    from incidents.services import incident_create

    admin = make_user("boss", roles=["admin"], is_superuser=True)
    rule = services.rule_save(
        actor=admin,
        data={
            "name": "Flag stale",
            "applies_to": "incident",
            "trigger": "time",
            "conditions": {"all": [{"field": "opened_at", "op": "older_than", "value": 60}]},
            "actions": [{"type": "comment", "body": "Stale: {{ number }}", "public": False}],
        },
    )
    incident = incident_create(actor=make_user("caller"), short_description="Old one")
    return rule, incident


def stale_comments(incident) -> int:
    return Activity.objects.filter(
        content_type__model="incident", object_id=incident.pk, kind="comment", body__startswith="Stale"
    ).count()


def make_due(incident) -> float:
    Incident.objects.filter(pk=incident.pk).update(opened_at=timezone.now() - timedelta(minutes=5))
    return time.monotonic()


def test_time_rule_fires_once_within_60s_and_again_after_false_then_true(
    flagged, publish_to, workers, flush_broker
):
    rule, incident = flagged
    publish_to(flush_broker)
    workers(flush_broker, **FAST_BEAT)
    due_at = make_due(incident)
    assert wait_for(lambda: stale_comments(incident) == 1, timeout=60), "time rule never fired"
    assert time.monotonic() - due_at < 60
    time.sleep(8)  # several beats while the condition still holds
    assert stale_comments(incident) == 1
    Incident.objects.filter(pk=incident.pk).update(opened_at=timezone.now())  # false
    assert wait_for(lambda: TimeRuleMatch.objects.filter(ended_at__isnull=False).exists(), timeout=30)
    make_due(incident)  # true again
    assert wait_for(lambda: stale_comments(incident) == 2, timeout=60), "did not fire for the new period"
    time.sleep(6)
    assert stale_comments(incident) == 2


def test_two_beats_and_a_killed_worker_never_fire_twice(flagged, publish_to, workers, flush_broker, tmp_path):
    rule, incident = flagged
    publish_to(flush_broker)
    pause = tmp_path / "pause"
    pause.touch()
    first = workers(flush_broker, **FAST_BEAT, **{PAUSE_FILE_ENV: str(pause)})
    make_due(incident)
    assert wait_for(lambda: Path(str(pause) + ".reached").exists(), timeout=60), "firing never started"
    first.kill()  # SIGKILL with the comment written and the ledger row inserted, uncommitted
    assert stale_comments(incident) == 0
    assert not TimeRuleMatch.objects.exists()
    pause.unlink()
    # Two workers, each with its own beat, evaluating the same rule every 2 s.
    workers(flush_broker, **FAST_BEAT)
    workers(flush_broker, **FAST_BEAT)
    assert wait_for(lambda: stale_comments(incident) == 1, timeout=60), "never fired after the restart"
    time.sleep(8)
    assert stale_comments(incident) == 1
    assert TimeRuleMatch.objects.count() == 1
