"""The agent home: own work with SLA state, the groups' queue, SLAs due soon, approvals, watched records."""

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from core.approvals import Approval
from incidents.models import Incident
from sla.models import SLADefinition, Timer


def make_incident(n, user, **fields):
    return Incident.objects.create(
        number=f"INC80000{n:02d}",
        short_description=f"Home {n}",
        state="in_progress",
        opened_by=user,
        **fields,
    )


def test_agent_home_lists(client, agent, other_agent, service_desk, requester, django_assert_max_num_queries):
    mine = make_incident(1, requester, assigned_to=agent, assignment_group=service_desk, priority=2)
    queued = make_incident(2, requester, assignment_group=service_desk, priority=1)
    make_incident(3, requester, assigned_to=other_agent, assignment_group=service_desk)  # someone else's
    watched = make_incident(4, requester)
    watched.watchers.add(agent)
    definition = SLADefinition.objects.create(
        name="P2", applies_to="incident", target="resolution", duration=3600
    )
    Timer.objects.create(
        definition=definition,
        content_type=ContentType.objects.get_for_model(Incident),
        object_id=queued.pk,
        target="resolution",
        started_at=timezone.now(),
        due_at=timezone.now() + dt.timedelta(minutes=30),
        running_since=timezone.now(),
    )
    change_ct = ContentType.objects.get_for_model(Incident)
    Approval.objects.create(content_type=change_ct, object_id=watched.pk, approver=agent)
    client.force_login(agent)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("agent-home"))
    ctx = response.context
    assert [t.number for t in ctx["my_work"]] == [mine.number]
    assert [t.number for t in ctx["unassigned"]] == [queued.number]
    assert ctx["unassigned"][0].sla.definition == definition
    assert [t.number for t in ctx["breaching"]] == [queued.number]
    assert [a.record.number for a in ctx["approvals"]] == [watched.number]
    assert [t.number for t in ctx["watched"]] == [watched.number]
    assert b'data-testid="my-work"' in response.content
    assert b"sla-countdown" in response.content


def test_requester_is_sent_to_the_portal(client, requester):
    client.force_login(requester)
    assert client.get(reverse("agent-home"))["Location"].endswith("/portal/")
