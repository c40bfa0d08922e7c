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
