"""Timer math and the engine's reaction to ticket changes, through the same services agents use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from core.models import Activity
from incidents.services import incident_comment, incident_transition, incident_update
from sla.calendar import Calendar
from sla.engine import replay
from sla.models import Timer, TimerEvent

T0 = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)  # a Monday


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class TestReplay:
    def test_pause_and_resume_push_the_due_time_by_the_paused_time(self):
        clock = replay(
            [("start", at(0)), ("pause", at(10)), ("resume", at(40))], Calendar.always(), duration=3600
        )
        assert clock.state == "running"
        assert (clock.elapsed, clock.paused) == (600, 1800)
        assert clock.due_at == at(90)

    def test_paused_timer_has_no_due_time(self):
        clock = replay([("start", at(0)), ("pause", at(10))], Calendar.always(), duration=3600)
        assert (clock.state, clock.due_at, clock.paused_since) == ("paused", None, at(10))

    def test_stop_before_due_is_met(self):
        clock = replay([("start", at(0)), ("stop", at(30))], Calendar.always(), duration=3600)
        assert (clock.state, clock.elapsed, clock.stopped_at) == ("met", 1800, at(30))

    def test_breach_is_final_but_the_clock_keeps_counting(self):
        clock = replay(
            [("start", at(0)), ("breach", at(60)), ("pause", at(70)), ("resume", at(80)), ("stop", at(90))],
            Calendar.always(),
            duration=3600,
        )
        assert (clock.state, clock.elapsed, clock.paused, clock.due_at) == ("breached", 80 * 60, 600, at(60))

    def test_reopened_timer_counts_the_resolved_stretch_as_paused(self):
        clock = replay(
            [("start", at(0)), ("stop", at(20)), ("resume", at(50))], Calendar.always(), duration=3600
        )
        assert (clock.state, clock.elapsed, clock.paused, clock.due_at) == ("running", 1200, 1800, at(90))

    def test_business_calendar_due_time(self):
        cal = Calendar.build(time_zone="UTC", hours=[(d, 9 * 3600, 17 * 3600) for d in range(5)])
        clock = replay([("start", datetime(2024, 6, 7, 16, 0, tzinfo=UTC))], cal, duration=2 * 3600)
        assert clock.due_at == datetime(2024, 6, 10, 10, 0, tzinfo=UTC)  # Friday 16:00 + 2h → Monday 10:00


def timers_of(incident):
    return Timer.objects.filter(
        content_type=ContentType.objects.get_for_model(incident), object_id=incident.pk
    ).select_related("definition")


def sla_rows(incident):
    return list(
        Activity.objects.filter(
            content_type=ContentType.objects.get_for_model(incident), object_id=incident.pk, kind="sla"
        ).values_list("data__event", flat=True)
    )


@pytest.mark.django_db
class TestEngine:
    def test_matching_definitions_start_on_create_and_show_on_timeline(self, make_definition, open_incident):
        p1 = make_definition("P1 resolution", conditions={"priority": [1]})
        make_definition("P5 resolution", conditions={"priority": [5]}, duration=8 * 3600)
        incident = open_incident(impact=1, urgency=1)
        (timer,) = timers_of(incident)
        assert (timer.definition, timer.state, timer.started_at) == (p1, "running", incident.opened_at)
        assert timer.due_at == incident.opened_at + timedelta(hours=1)
        assert sla_rows(incident) == ["start"]

    def test_on_hold_pauses_and_resume_restarts(self, make_definition, open_incident, agent):
        make_definition("Any incident")
        incident = open_incident()
        incident_transition(incident, to="on_hold", actor=agent, fields={"hold_reason": "awaiting_caller"})
        (timer,) = timers_of(incident)
        assert (timer.state, timer.due_at) == ("paused", None)
        incident_transition(incident, to="in_progress", actor=agent)
        timer.refresh_from_db()
        assert timer.state == "running"
        assert timer.due_at > incident.opened_at + timedelta(hours=1)
        assert sla_rows(incident) == ["start", "pause", "resume"]

    def test_resolution_met_and_canceled(self, make_definition, open_incident, agent):
        make_definition("Any incident")
        resolved = open_incident()
        incident_transition(
            resolved,
            to="resolved",
            actor=agent,
            fields={"resolution_code": "solved", "resolution_notes": "ok"},
        )
        canceled = open_incident()
        incident_transition(canceled, to="canceled", actor=agent)
        assert timers_of(resolved).get().state == "met"
        assert timers_of(canceled).get().state == "canceled"

    def test_response_met_by_assignment_or_agent_comment_not_requester(
        self, make_definition, open_incident, agent, requester, service_desk
    ):
        make_definition("Response", target="response", duration=600)
        by_comment = open_incident(actor=requester)
        incident_comment(by_comment, actor=requester, body="any news?")
        assert timers_of(by_comment).get().state == "running"
        incident_comment(by_comment, actor=agent, body="looking")
        assert timers_of(by_comment).get().state == "met"
        by_assignment = open_incident(actor=requester)
        incident_update(
            by_assignment, actor=agent, changes={"assignment_group": service_desk, "assigned_to": agent}
        )
        assert timers_of(by_assignment).get().state == "met"

    def test_priority_change_recomputes_from_original_start_less_paused_time(
        self, make_definition, open_incident, agent
    ):
        """A P5 incident opened 3 h ago spent 1 h on hold; raised to P1 its new 4 h SLA has 2 h used."""
        make_definition("P5", conditions={"priority": [5]}, duration=8 * 3600)
        p1 = make_definition("P1", conditions={"priority": [1]}, duration=4 * 3600)
        now = timezone.now()
        incident = open_incident(opened_at=now - timedelta(hours=3))
        incident_transition(incident, to="on_hold", actor=agent, fields={"hold_reason": "awaiting_vendor"})
        incident_transition(incident, to="in_progress", actor=agent)
        # Put the hold two hours ago, for one hour, in the ticket's history and the P5 timer's events.
        ct = ContentType.objects.get_for_model(incident)
        changes = Activity.objects.filter(content_type=ct, object_id=incident.pk, kind="state_change")
        changes.filter(data__to="on_hold").update(created_at=now - timedelta(hours=2))
        changes.filter(data__to="in_progress").update(created_at=now - timedelta(hours=1))
        old = timers_of(incident).get()
        TimerEvent.objects.filter(timer=old, kind="pause").update(at=now - timedelta(hours=2))
        TimerEvent.objects.filter(timer=old, kind="resume").update(at=now - timedelta(hours=1))

        incident_update(incident, actor=agent, changes={"impact": 1, "urgency": 1})

        old.refresh_from_db()
        assert old.state == "canceled"
        new = timers_of(incident).get(definition=p1)
        assert new.state == "running"
        assert new.started_at == incident.opened_at
        assert new.paused_seconds == pytest.approx(3600, abs=2)
        assert new.live_elapsed() == pytest.approx(2 * 3600, abs=5)
        assert new.due_at == pytest.approx(now + timedelta(hours=2), abs=timedelta(seconds=5))
        assert [e.kind for e in new.events.all()] == ["start", "pause", "resume", "recompute"]
        assert sla_rows(incident)[-2:] == ["cancel", "recompute"]

    def test_lowering_then_raising_priority_again_keeps_history(self, make_definition, open_incident, agent):
        p1 = make_definition("P1", conditions={"priority": [1]})
        incident = open_incident(impact=1, urgency=1)
        incident = incident_update(incident, actor=agent, changes={"urgency": 3})
        assert timers_of(incident).get(definition=p1).state == "canceled"
        incident_update(incident, actor=agent, changes={"urgency": 1})
        timer = timers_of(incident).get(definition=p1)
        assert (timer.state, timer.started_at) == ("running", incident.opened_at)

    def test_a_move_replays_the_events_it_read_with_its_timers(self, make_definition, open_incident, agent):
        """A move reads its timers with their events and fired stages in the statement that locks them,
        replays that history with the new event and writes event, timer and timeline row together
        (sla.engine.timers_with_history): the columns are what replaying the stored events gives, on a
        business calendar, through a reopen into a pause and a stop after the due time."""
        from datetime import time

        from sla.engine import REPLAYED_COLUMNS, recompute
        from sla.models import BusinessCalendar, WorkingHours

        office = BusinessCalendar.objects.create(name="Office", time_zone="Europe/Paris")
        for day in range(7):
            WorkingHours.objects.create(calendar=office, weekday=day, start=time(0, 1), end=time(23, 59))
        response = make_definition("Response", target="response", duration=600, calendar=office)
        resolution = make_definition("Resolution", calendar=office)
        incident = open_incident()
        resolve = {"resolution_code": "solved", "resolution_notes": "ok"}
        moves = [
            ("on_hold", {"hold_reason": "awaiting_caller"}),
            ("in_progress", {}),
            ("resolved", resolve),
            ("in_progress", {}),  # reopened: the resolution timer resumes, the met response one stays met
            ("on_hold", {"hold_reason": "awaiting_vendor"}),
            ("in_progress", {}),
        ]
        for to, fields in moves:
            incident = incident_transition(incident, to=to, actor=agent, fields=fields)
            for timer in timers_of(incident):
                stored = {name: getattr(timer, name) for name in REPLAYED_COLUMNS}
                recompute(timer)
                assert {name: getattr(timer, name) for name in REPLAYED_COLUMNS} == stored, (to, timer)
        kinds = {t.definition: [e.kind for e in t.events.order_by("at", "id")] for t in timers_of(incident)}
        assert kinds == {
            response: ["start", "pause", "resume", "stop"],
            resolution: ["start", "pause", "resume", "stop", "resume", "pause", "resume"],
        }
        # Overdue before anyone noticed: the stop logs the breach at the due time first.
        timer = timers_of(incident).get(definition=resolution)
        TimerEvent.objects.filter(timer=timer, kind="start").update(at=timer.started_at - timedelta(days=2))
        recompute(timer)
        assert timer.state == "running" and timer.due_at < timezone.now()
        incident_transition(incident, to="resolved", actor=agent, fields=resolve)
        timer = timers_of(incident).get(definition=resolution)
        assert timer.state == "breached" and timer.breached_at == timer.due_at
        assert [e.kind for e in timer.events.order_by("at", "id")][-2:] == ["breach", "stop"]
        stored = {name: getattr(timer, name) for name in REPLAYED_COLUMNS}
        recompute(timer)
        assert {name: getattr(timer, name) for name in REPLAYED_COLUMNS} == stored
        assert sla_rows(incident)[-1] == "stop"

    def test_applies_to_other_kinds_only_when_named(self, make_definition, open_incident):
        make_definition("Problems only", applies_to="problem")
        incident = open_incident()
        assert not timers_of(incident).exists()
