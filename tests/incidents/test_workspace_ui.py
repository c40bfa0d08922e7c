"""Workspace pages an agent triages from (issue 21): filters the date inputs can show, words not codes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def test_report_date_time_links_are_shown_in_the_filter_and_survive_pressing_filter(
    agent_client, make_incident
):
    old = make_incident("Last week")
    Incident.objects.filter(pk=old.pk).update(opened_at=timezone.now() - timedelta(days=7))
    recent = make_incident("Today")
    since = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    # A report link: an ISO date-time with offset, which a `date` input cannot show.
    response = agent_client.get(reverse("incident-list"), {"view": "all", "opened_after": since.isoformat()})
    page = response.content.decode()
    assert recent.number in page and old.number not in page
    control = next(c for c in response.context["controls"] if c["name"] == "opened_after")
    shown = timezone.localtime(since).strftime("%Y-%m-%dT%H:%M")
    assert control["input_type"] == "datetime-local" and control["value"].startswith(shown)
    assert (
        f'type="datetime-local" step="1" name="opened_after" id="filter-opened_after" value="{control["value"]}"'
        in page
    )
    # Pressing Filter submits what the input shows: the range is kept.
    page = agent_client.get(
        reverse("incident-list"), {"view": "all", "opened_after": control["value"]}
    ).content.decode()
    assert recent.number in page and old.number not in page
    # A midnight link shows as a plain date.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    response = agent_client.get(reverse("incident-list"), {"opened_after": midnight.isoformat()})
    control = next(c for c in response.context["controls"] if c["name"] == "opened_after")
    assert control == {**control, "input_type": "date", "value": midnight.date().isoformat()}


def test_timeline_keeps_the_resolution_through_a_reopen_and_says_who_was_assigned(
    agent_client, agent, make_incident
):
    from incidents.services import incident_transition, incident_update

    incident = make_incident("Disk full")
    incident_update(incident, actor=agent, changes={"assigned_to": agent})
    incident_transition(incident, to="on_hold", actor=agent, fields={"hold_reason": "awaiting_caller"})
    incident_transition(
        incident, to="resolved", actor=agent,
        fields={"resolution_code": "not_reproducible", "resolution_notes": "Could not see it fail"},
    )  # fmt: skip
    incident_transition(incident, to="in_progress", actor=agent)
    page = agent_client.get(incident.get_absolute_url()).content.decode()
    assert "Resolution: <strong>Not reproducible</strong> · Could not see it fail" in page
    assert "Waiting: <strong>Awaiting caller</strong>" in page
    timeline = page.split('<ul class="timeline itsm-timeline">')[1].split("</ul>\n")[0]
    assert "not_reproducible" not in timeline.replace('data-state="', "")
    assert '<span class="fw-medium">Assigned to</span>:' in page
    assert f'<span class="timeline-change-new">{agent.username}</span>' in page
    assert '<span class="timeline-change-old">(nobody)</span>' in page
