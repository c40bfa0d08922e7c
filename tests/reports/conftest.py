"""A small, hand-computed data set for the dashboard metrics (numbers worked out in test_metrics.py).

Everything is inserted directly with fixed timestamps (no services), so no SLA listener or numbering
side effect can move a number. Day D is five local days ago; the last incident and one breach are today,
so each metric is computed from the rollups (past days) and live (today) at once.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from changes.models import Change
from cmdb.models import CIClass, ConfigurationItem
from core.models import Activity
from incidents.models import Incident
from reports import rollups
from sla.models import SLADefinition, Timer


@dataclass
class DataSet:
    day: dt.date
    network: object
    desk: object
    incidents: dict
    definition: object
    cis: dict


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return rollups.day_start(day) + dt.timedelta(hours=hour, minutes=minute)


@pytest.fixture
def dataset(db, make_group, make_user):
    today = rollups.local_today()
    d = today - dt.timedelta(days=5)
    network = make_group("network")
    desk = make_group("service-desk")
    worker = make_user("worker", roles=["agent"], groups=[network, desk])
    caller = make_user("caller")
    now = timezone.now()
    ct = ContentType.objects.get_for_model(Incident)
    server = CIClass.objects.get_or_create(name="server", defaults={"label": "Server"})[0]
    cis = {
        "db01": ConfigurationItem.objects.create(name="db01", ci_class=server),
        "web01": ConfigurationItem.objects.create(name="web01", ci_class=server),
    }

    def incident(n, group, priority, state, opened, resolved=None):
        return Incident.objects.create(
            number=f"INC90000{n:02d}",
            short_description=f"Incident {n}",
            state=state,
            priority=priority,
            assignment_group=group,
            opened_by=caller,
            caller=caller,
            opened_at=opened,
            resolved_at=resolved,
        )

    def activity(ticket, kind, when, actor=worker, public=True, **data):
        Activity.objects.create(
            content_type=ct,
            object_id=ticket.pk,
            kind=kind,
            actor=actor,
            created_at=when,
            public=public,
            data=data,
        )

    i1 = incident(1, network, 1, "resolved", at(d, 8), at(d, 10))
    i2 = incident(2, network, 2, "resolved", at(d, 9), at(d + dt.timedelta(days=1), 9))
    i3 = incident(3, desk, 3, "closed", at(d, 12), at(d + dt.timedelta(days=1), 12))
    i4 = incident(4, desk, 3, "in_progress", at(d + dt.timedelta(days=1), 0))
    i5 = incident(5, network, 4, "new", max(rollups.day_start(today), now - dt.timedelta(seconds=1)))
    for ticket in (i1, i2, i3, i4, i5):
        activity(ticket, "created", ticket.opened_at, actor=caller)
    activity(i1, "comment", at(d, 8, 10), actor=caller)  # the opener's own comment is no response
    activity(i1, "assignment", at(d, 8, 30), changes=[{"field": "assigned_to", "old": None, "new": "worker"}])
    activity(i2, "comment", at(d, 9, 30), public=False)  # a work note is no response either
    activity(i2, "comment", at(d, 10))
    activity(i2, "state_change", at(d, 11), **{"from": "in_progress", "to": "resolved"})
    activity(i2, "state_change", at(d, 12), **{"from": "resolved", "to": "in_progress"})
    activity(
        i3,
        "assignment",
        at(d, 12, 6),
        changes=[{"field": "assignment_group", "old": "network", "new": "service-desk"}],
    )
    activity(i3, "state_change", at(d + dt.timedelta(days=2), 0), **{"from": "resolved", "to": "closed"})
    i1.configuration_items.add(cis["db01"])
    i2.configuration_items.add(cis["db01"])
    i5.configuration_items.add(cis["db01"])
    i3.configuration_items.add(cis["web01"])

    definition = SLADefinition.objects.create(
        name="Incident resolution", applies_to="incident", target="resolution", duration=4 * 3600
    )

    def timer(ticket, state, stopped=None, breached=None):
        Timer.objects.create(
            definition=definition,
            content_type=ct,
            object_id=ticket.pk,
            target="resolution",
            state=state,
            started_at=ticket.opened_at,
            stopped_at=stopped,
            breached_at=breached,
        )

    timer(i1, "met", stopped=at(d, 10))
    timer(i2, "breached", breached=at(d, 13))
    timer(i3, "met", stopped=at(d + dt.timedelta(days=1), 12))
    timer(i4, "running")
    timer(i5, "breached", breached=i5.opened_at)

    def change(n, change_type, state, close_code=""):
        Change.objects.create(
            number=f"CHG90000{n:02d}",
            short_description=f"Change {n}",
            state=state,
            type=change_type,
            close_code=close_code,
            opened_by=worker,
            assignment_group=network,
            opened_at=at(d, 14),
        )

    change(1, "normal", "closed", "successful")
    change(2, "emergency", "closed", "unsuccessful")
    change(3, "normal", "closed", "successful_with_issues")
    change(4, "standard", "new")

    rollups.refresh(d - dt.timedelta(days=1), today)  # past days only: today stays live
    return DataSet(
        day=d,
        network=network,
        desk=desk,
        incidents={1: i1, 2: i2, 3: i3, 4: i4, 5: i5},
        definition=definition,
        cis=cis,
    )


@pytest.fixture
def manager(make_user):
    return make_user("boss", roles=["agent"])
