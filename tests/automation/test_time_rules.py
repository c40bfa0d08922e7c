"""Time rules in-process: the beat evaluation and the firing, called directly (the real worker and beat
are in test_celery_worker.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from automation import tasks, timerules
from automation.models import TimeRuleMatch
from core.models import Activity
from incidents.models import Incident
from incidents.services import incident_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def reminder(make_rule):
    return make_rule(
        name="Remind",
        trigger="time",
        conditions={
            "all": [
                {"field": "state", "op": "eq", "value": "on_hold"},
                {"field": "updated_at", "op": "older_than", "value": 3600},
            ]
        },
        actions=[{"type": "comment", "body": "Reminder for {{ number }}", "public": True}],
    )


def age(incident, seconds):
    Incident.objects.filter(pk=incident.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def reminders(incident):
    return Activity.objects.filter(
        content_type__model="incident", object_id=incident.pk, kind="comment", body__startswith="Reminder"
    ).count()


def beat(rule):
    return timerules.fire(rule.pk, timerules.evaluate(rule))


def test_fires_once_per_period_and_again_after_false_then_true(reminder, open_incident, agent):
    incident = open_incident()
    incident_transition(incident, to="on_hold", actor=agent, fields={"hold_reason": "awaiting_caller"})
    assert beat(reminder) == 0  # not due yet
    age(incident, 7200)
    assert beat(reminder) == 1
    assert reminders(incident) == 1
    # The reminder is activity (updated_at is fresh): the condition is false, the beat closes the period.
    assert beat(reminder) == 0
    assert TimeRuleMatch.objects.get(rule=reminder).ended_at is not None
    # An hour more of silence: true again, so it fires again.
    age(incident, 7200)
    assert beat(reminder) == 1
    assert reminders(incident) == 2


def test_not_again_while_true(make_rule, open_incident, agent):
    rule = make_rule(
        name="Flag old",
        trigger="time",
        conditions={"all": [{"field": "opened_at", "op": "older_than", "value": 60}]},
        actions=[{"type": "set", "field": "impact", "value": 2}],
    )
    incident = open_incident()
    Incident.objects.filter(pk=incident.pk).update(opened_at=timezone.now() - timedelta(minutes=5))
    assert beat(rule) == 1
    for _ in range(3):
        assert beat(rule) == 0
    assert TimeRuleMatch.objects.filter(rule=rule).count() == 1
    # Condition false (a fresh opened_at), then true again: a new period fires again.
    Incident.objects.filter(pk=incident.pk).update(opened_at=timezone.now())
    assert beat(rule) == 0
    assert TimeRuleMatch.objects.get(rule=rule).ended_at is not None
    Incident.objects.filter(pk=incident.pk).update(opened_at=timezone.now() - timedelta(minutes=5), impact=3)
    assert beat(rule) == 1
    assert TimeRuleMatch.objects.filter(rule=rule).count() == 2
    fields = [
        a
        for a in Activity.objects.filter(
            object_id=incident.pk, content_type__model="incident", kind="field_change"
        )
    ]
    assert len(fields) == 2 and all(a.data["rule"]["name"] == "Flag old" for a in fields)


def test_two_beats_at_once_fire_once(reminder, open_incident, agent):
    incident = open_incident()
    incident_transition(incident, to="on_hold", actor=agent, fields={"hold_reason": "awaiting_caller"})
    age(incident, 7200)
    first, second = timerules.evaluate(reminder), timerules.evaluate(reminder)
    assert first == second == [incident.pk]
    assert timerules.fire(reminder.pk, first) == 1
    assert timerules.fire(reminder.pk, second) == 0
    assert reminders(incident) == 1


def test_beat_task_hands_out_chunks(reminder, open_incident, agent):
    incident = open_incident()
    incident_transition(incident, to="on_hold", actor=agent, fields={"hold_reason": "awaiting_caller"})
    age(incident, 7200)
    result = tasks.evaluate_time_rules()  # eager in the test settings: the chunk runs at once
    assert result["due"] == {reminder.pk: 1}
    assert reminders(incident) == 1
    assert tasks.evaluate_time_rules()["due"] == {reminder.pk: 0}
