"""Breaching and escalation in process (the Celery-worker tests drive the same code through Redis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.utils import timezone

from core import events
from core.models import Activity
from sla import escalations
from sla.models import Escalation, Timer
from sla.tasks import sweep


def timer_of(incident) -> Timer:
    return Timer.objects.select_related("definition").get(
        content_type=ContentType.objects.get_for_model(incident), object_id=incident.pk
    )


@pytest.fixture
def published():
    seen = []
    listener = events.on_change(lambda event: seen.append(event) if event.kind == "sla" else None)
    yield seen
    events._on_change.remove(listener)


@pytest.mark.django_db
def test_breach_runs_its_escalation_exactly_once(
    make_definition,
    open_incident,
    make_group,
    make_user,
    agent,
    service_desk,
    published,
    django_capture_on_commit_callbacks,
):
    manager = make_user("boss", email="boss@example.com")
    service_desk.manager = manager
    service_desk.save()
    tier2 = make_group("tier2")
    make_definition(
        "Fast",
        duration=60,
        escalations=[
            {"at": 100, "action": "reassign", "group": "tier2"},
            {"at": 100, "action": "notify_manager"},
        ],
    )
    incident = open_incident(assignment_group=service_desk)
    timer = timer_of(incident)
    later = timer.due_at + timedelta(seconds=1)

    assert escalations.breach_due_timers(later) == [timer.pk]
    assert escalations.breach_due_timers(later) == []  # already breached
    with django_capture_on_commit_callbacks(execute=True):
        assert escalations.fire_stage(timer.pk, 100, now=later) is True
        assert escalations.fire_stage(timer.pk, 100, now=later) is False

    incident.refresh_from_db()
    assert incident.assignment_group == tier2
    assert Escalation.objects.filter(timer=timer, stage=100).count() == 1
    assert [m.to for m in mail.outbox if m.subject.startswith("[SLA breached]")] == [["boss@example.com"]]
    assert [e.name for e in published] == ["sla.breached"]
    assert published[0].data["definition"] == "Fast"
    body = Activity.objects.filter(object_id=incident.pk, kind="sla", data__event="breach").get().body
    assert "breached" in body and "reassigned to tier2" in body


@pytest.mark.django_db
def test_warnings_fire_at_thresholds_and_raise_incident_priority_via_urgency(
    make_definition, open_incident, agent, published
):
    make_definition("Eight hours", duration=8 * 3600, escalations=[{"at": 75, "action": "raise_priority"}])
    incident = open_incident(impact=3, urgency=3)  # priority 5
    timer = timer_of(incident)
    escalations.process_timer(timer.pk, now=timer.started_at + timedelta(hours=6, seconds=1))
    assert sorted(Escalation.objects.filter(timer=timer).values_list("stage", flat=True)) == [50, 75]
    assert [e.data["stage"] for e in published] == [50, 75]
    incident.refresh_from_db()
    assert (incident.urgency, incident.impact, incident.priority) == (2, 3, 4)
    timer.refresh_from_db()
    assert timer.next_check_at is not None  # the 90% warning is still ahead
    escalations.process_timer(timer.pk, now=timer.started_at + timedelta(hours=6, seconds=2))
    assert Escalation.objects.filter(timer=timer).count() == 2


@pytest.mark.django_db
def test_sweep_breaches_in_bulk_and_runs_every_owed_stage_itself(
    make_definition, open_incident, django_capture_on_commit_callbacks
):
    make_definition("Instant", duration=1)
    incidents = [open_incident() for _ in range(3)]
    Timer.objects.update(due_at=incidents[0].opened_at - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        result = sweep()
    assert result["breached"] == 3 and result["processed"] == 3
    assert Timer.objects.filter(state="breached").count() == 3
    # Every warning the timers skipped, then the breach: 3 x (50, 75, 90, 100), each once.
    assert (
        sorted(Escalation.objects.values_list("stage", flat=True))
        == [50] * 3 + [75] * 3 + [90] * 3 + [100] * 3
    )
    assert not Timer.objects.filter(next_check_at__isnull=False).exists()  # nothing left to do
    assert sweep() == {"breached": 0, "processed": 0, "batches": 0}


@pytest.mark.django_db
def test_a_claimed_timer_is_not_handed_out_again_until_its_lease_expires(make_definition, open_incident):
    make_definition("Instant", duration=1)
    incident = open_incident()
    timer = timer_of(incident)
    now = timer.due_at + timedelta(seconds=10)
    assert escalations.breach_due_timers(now) == [timer.pk]  # breached, its stages not yet run
    assert timer_of(incident).next_check_at == timer.due_at
    assert escalations.claim_due(now) == [timer.pk]
    assert escalations.claim_due(now) == []  # a second sweep skips it
    assert escalations.claim_due(now + timedelta(seconds=escalations.CLAIM_SECONDS + 1)) == [timer.pk]
    escalations.process_timer(timer.pk, now=now, breach_others=False)
    timer = timer_of(incident)
    assert (timer.next_check_at, timer.claimed_until) == (None, None)
    assert escalations.claim_due(now + timedelta(hours=1)) == []


@pytest.mark.django_db
def test_one_failing_timer_does_not_starve_the_rest_of_the_sweep(make_definition, open_incident, monkeypatch):
    make_definition("Instant", duration=1, warning_thresholds=[])
    incidents = [open_incident() for _ in range(3)]
    Timer.objects.update(due_at=incidents[0].opened_at - timedelta(minutes=1))
    broken = timer_of(incidents[1]).pk
    real = escalations.fire_stage

    def fire_stage(timer_id, stage, **kwargs):
        if timer_id == broken:
            raise RuntimeError("an action blew up")
        return real(timer_id, stage, **kwargs)

    monkeypatch.setattr(escalations, "fire_stage", fire_stage)
    assert sweep()["processed"] == 3
    assert sorted(Escalation.objects.values_list("timer_id", flat=True)) == sorted(
        timer_of(i).pk for i in (incidents[0], incidents[2])
    )
    monkeypatch.undo()  # fixed; once its claim has run out, a later sweep runs its stage
    later = timezone.now() + timedelta(seconds=escalations.CLAIM_SECONDS + 1)
    assert escalations.run_due(later)["processed"] == 1
    assert Escalation.objects.filter(timer_id=broken, stage=100).exists()


@pytest.mark.django_db
def test_warnings_missed_before_the_breach_run_late_in_order_and_say_so(
    make_definition, open_incident, published, django_capture_on_commit_callbacks
):
    """A worker was dead while the 50% and 75% instants passed and the timer breached: the check that
    finally runs fires 50%, 75% and the breach, in that order, each once, each stating its lateness; an
    action marked unless_breached is skipped (and the skip logged)."""
    make_definition(
        "Minute",
        duration=60,
        warning_thresholds=[50, 75],
        escalations=[
            {"at": 50, "action": "raise_priority"},
            {"at": 75, "action": "raise_priority", "unless_breached": True},
        ],
    )
    incident = open_incident(impact=3, urgency=3)
    timer = timer_of(incident)
    now = timer.started_at + timedelta(seconds=90)
    with django_capture_on_commit_callbacks(execute=True):
        escalations.process_timer(timer.pk, now=now)
        escalations.process_timer(timer.pk, now=now + timedelta(seconds=5))  # again: nothing new
    assert [e.data["stage"] for e in published] == [50, 75, 100]
    rows = {
        a.data["stage"]: a
        for a in Activity.objects.filter(object_id=incident.pk, kind="sla", data__has_key="stage")
    }
    assert sorted(rows) == [50, 75, 100]
    assert [rows[s].data["late_seconds"] for s in (50, 75, 100)] == [60.0, 45.0, 30.0]
    assert "Ran 60 s late" in rows[50].body and "raised priority" in rows[50].body
    assert "skipped, the SLA has already breached" in rows[75].body
    incident.refresh_from_db()
    assert incident.priority == 4  # raised once (50%), not by the skipped 75% action
    assert Escalation.objects.filter(timer=timer).count() == 3


@pytest.mark.django_db
def test_unless_breached_is_only_for_warnings(make_definition):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        make_definition("Bad", escalations=[{"at": 100, "action": "notify_group", "unless_breached": True}])
    assert "escalations[0].unless_breached" in caught.value.message_dict


@pytest.mark.django_db
def test_stopping_after_due_but_before_the_sweep_is_a_breach(make_definition, open_incident, agent):
    make_definition("Tiny", duration=1)
    incident = open_incident()
    Timer.objects.update(due_at=incident.opened_at)  # due already; Celery has not looked yet
    from incidents.services import incident_transition

    incident_transition(
        incident, to="resolved", actor=agent, fields={"resolution_code": "solved", "resolution_notes": "x"}
    )
    timer = timer_of(incident)
    assert timer.state == "breached"
    assert list(timer.events.values_list("kind", flat=True)) == ["start", "breach", "stop"]
