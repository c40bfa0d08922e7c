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


# ------------------------------------------------------------------ set-based firing (automation.bulk)
def aged_incidents(open_incident, count, **fields):
    incidents = [open_incident(short_description=f"Old {i}", **fields) for i in range(count)]
    Incident.objects.filter(pk__in=[i.pk for i in incidents]).update(
        opened_at=timezone.now() - timedelta(minutes=5)
    )
    return incidents


def test_a_batch_fires_set_based_with_what_one_record_would_get(
    trio, make_rule, open_incident, requester, django_capture_on_commit_callbacks, caplog
):
    from integrations.models import OutboundEmail

    group, members = trio
    rule = make_rule(
        name="Chase old",
        trigger="time",
        conditions={"all": [{"field": "opened_at", "op": "older_than", "value": 60}]},
        actions=[
            {"type": "assign", "group": "network", "strategy": "round_robin"},
            {
                "type": "comment",
                "body": "{{ number }} for {{ caller }}, with {{ assigned_to }}",
                "public": True,
            },
            {"type": "set", "field": "impact", "value": 1},
        ],
    )
    # A level-2 event rule: the time rule's comments must publish their events like any comment.
    make_rule(
        name="Seen",
        trigger="commented",
        actions=[{"type": "comment", "body": "seen {{ number }}", "public": False}],
    )
    incidents = aged_incidents(open_incident, 6, impact=3, urgency=1)
    versions = {i.pk: Incident.objects.get(pk=i.pk).version for i in incidents}
    with (
        caplog.at_level("INFO", logger="automation.timerules"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert beat(rule) == 6
    assert "record by record" not in caplog.text  # the set-based path did it all
    assert beat(rule) == 0
    fresh = Incident.objects.filter(pk__in=versions).select_related("assigned_to").order_by("pk")
    assert [i.assigned_to.username for i in fresh] == ["net1", "net2", "net3"] * 2
    for incident in fresh:
        assert (incident.assignment_group, incident.impact, incident.priority) == (group, 1, 1)
        rows = Activity.objects.filter(content_type__model="incident", object_id=incident.pk).order_by("id")
        mine = [r for r in rows if r.data.get("rule", {}).get("name") == "Chase old"]
        assert [r.kind for r in mine] == ["assignment", "comment", "field_change"]
        assert all(r.actor_name == "automation" for r in mine)
        assert mine[1].public and mine[1].body == (
            f"{incident.number} for requester1, with {incident.assigned_to.username}"
        )
        changes = {c["field"]: (c["old"], c["new"]) for c in mine[2].data["changes"]}
        assert changes["impact"] == (3, 1) and changes["priority"][1] == 1
        # One level deep: "Seen" ran on the time rule's comment, and its own work note triggered nothing.
        assert [r.body for r in rows if r.data.get("rule", {}).get("name") == "Seen"] == [
            f"seen {incident.number}"
        ]
        assert incident.version == versions[incident.pk] + 4  # three actions and the level-2 note
        assert OutboundEmail.objects.filter(
            ticket_number=incident.number, recipient=requester.email, event="incident.commented"
        ).exists()
    rule.refresh_from_db()
    assert rule.fire_count == 6 and TimeRuleMatch.objects.filter(rule=rule).count() == 6


def test_least_loaded_in_a_batch_counts_each_assignment_made(trio, make_rule, open_incident):
    group, (a, b, c) = trio
    for user, count in ((a, 2), (c, 1)):
        for _ in range(count):
            open_incident(short_description="busy", assignment_group=group, assigned_to=user)
    rule = make_rule(
        trigger="time",
        conditions={
            "all": [
                {"field": "opened_at", "op": "older_than", "value": 60},
                {"field": "assignment_group", "op": "is_empty"},
            ]
        },
        actions=[{"type": "assign", "group": "network", "strategy": "least_loaded"}],
    )
    incidents = aged_incidents(open_incident, 3)
    assert beat(rule) == 3
    # b (0) → b (1, ties with c, by username) → c (1, while a has 2 and b 2).
    assignees = Incident.objects.filter(pk__in=[i.pk for i in incidents]).order_by("pk")
    assert [i.assigned_to for i in assignees] == [b, b, c]


def test_a_record_the_set_based_firing_cannot_handle_fails_alone(
    make_rule, open_incident, django_capture_on_commit_callbacks, caplog
):
    rule = make_rule(
        name="Quote the description",
        trigger="time",
        conditions={"all": [{"field": "opened_at", "op": "older_than", "value": 60}]},
        actions=[{"type": "comment", "body": "{{ description }}", "public": False}],
    )
    said, silent = open_incident(description="It smokes"), open_incident(description="")
    Incident.objects.update(opened_at=timezone.now() - timedelta(minutes=5))
    with (
        caplog.at_level("INFO", logger="automation.timerules"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert beat(rule) == 2  # both periods are claimed: neither is retried every beat
    assert "record by record" in caplog.text
    assert Activity.objects.filter(object_id=said.pk, kind="comment", body="It smokes").exists()
    failure = Activity.objects.get(object_id=silent.pk, content_type__model="incident", kind="system")
    assert "Quote the description" in failure.body and "rendered empty" in failure.body
    assert not Activity.objects.filter(object_id=silent.pk, kind="comment").exists()
    rule.refresh_from_db()
    assert rule.last_error and rule.fire_count == 2


def test_a_record_that_stopped_matching_or_is_held_by_a_write_is_not_fired(reminder, open_incident, agent):
    due, moved = open_incident(), open_incident()
    for incident in (due, moved):
        incident_transition(incident, to="on_hold", actor=agent, fields={"hold_reason": "awaiting_caller"})
        age(incident, 7200)
    ids = timerules.evaluate(reminder)
    assert ids == [due.pk, moved.pk]
    incident_transition(moved, to="in_progress", actor=agent)  # between the beat and the firing
    assert timerules.fire(reminder.pk, ids) == 1
    assert reminders(due) == 1 and reminders(moved) == 0
    assert list(TimeRuleMatch.objects.values_list("object_id", flat=True)) == [due.pk]


def test_which_rules_fire_set_based(make_rule, service_desk):
    from automation import bulk

    def rule(applies_to="incident", **action):
        return make_rule(
            applies_to=applies_to,
            trigger="time",
            conditions={"all": [{"field": "opened_at", "op": "older_than", "value": 60}]},
            actions=[{"type": "comment", "body": "x", "public": False}, action],
        )

    assert bulk.supports(rule(type="set", field="impact", value=2))
    assert bulk.supports(rule(type="assign", group="service-desk", strategy="none"))
    # Moves go through the workflow, notifications and webhooks through their services, one by one.
    assert not bulk.supports(rule(type="set", field="state", value="in_progress", fields={}))
    assert not bulk.supports(rule(type="notify", to="caller", subject="x"))
    # Problems' and changes' own update services check more than the shared one.
    assert not bulk.supports(rule("problem", type="comment", body="y", public=False))
