"""Incident behaviour beyond the generic workflow: parent/child resolution, auto-close, priority matrix."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.choices import PRIORITY_MATRIX
from incidents.models import Incident
from incidents.services import incident_transition, incident_update
from incidents.tasks import auto_close_resolved

pytestmark = pytest.mark.django_db


def resolve(incident, actor):
    return incident_transition(
        incident,
        to="resolved",
        actor=actor,
        fields={"resolution_code": "solved", "resolution_notes": "Fixed"},
    )


def test_resolving_a_parent_resolves_open_children_with_a_timeline_row_each(agent, make_incident):
    parent = make_incident("Outage")
    children = [make_incident(f"Me too {i}", parent=parent) for i in range(2)]
    done = make_incident("Already canceled", parent=parent)
    incident_transition(done, to="canceled", actor=agent)
    resolve(parent, agent)
    for child in children:
        child.refresh_from_db()
        assert child.state == "resolved" and child.resolution_code == "solved"
        assert child.resolution_notes.startswith(f"Resolved with parent {parent.number}")
        row = child.activities.get(kind="state_change", data__to="resolved")
        assert parent.number in row.body
    assert Incident.objects.get(pk=done.pk).state == "canceled"


def test_child_of_a_child_is_refused(make_incident, agent):
    parent = make_incident("Outage")
    child = make_incident("Child", parent=parent)
    other = make_incident("Other")
    with pytest.raises(Exception, match="is itself a child"):
        incident_update(other, actor=agent, changes={"parent": child})


def test_auto_close_closes_only_incidents_resolved_long_enough_ago(settings, agent, make_incident):
    settings.INCIDENT_AUTO_CLOSE_DAYS = 7
    old, recent = make_incident("Old"), make_incident("Recent")
    resolve(old, agent)
    resolve(recent, agent)
    Incident.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    Incident.objects.filter(pk=recent.pk).update(resolved_at=timezone.now() - timedelta(days=6))
    assert auto_close_resolved.delay().get() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.state == "closed" and old.closed_at is not None
    assert recent.state == "resolved"
    row = old.activities.get(kind="state_change", data__to="closed")
    assert row.actor_name == "system" and "automatically" in row.body


def test_auto_close_is_scheduled_by_beat():
    from itsm.celery import app

    entries = {e["task"] for e in app.conf.beat_schedule.values()}
    assert "incidents.auto_close_resolved" in entries


def test_priority_follows_the_matrix_on_create_and_update(make_incident, agent):
    incident = make_incident(impact=3, urgency=3)
    for impact, row in PRIORITY_MATRIX.items():
        for urgency, priority in row.items():
            incident = incident_update(incident, actor=agent, changes={"impact": impact, "urgency": urgency})
            assert incident.priority == priority
