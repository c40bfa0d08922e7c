"""What keeps the incident list fast at scale, checked for behaviour: capped saved-view badges and page
total (the page's count reused for its tab), the bulk bar's assignee picker, and the API's group
filter."""

import re

import pytest
from django.urls import reverse

from incidents.views import IncidentListView

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(client, agent, make_incident, monkeypatch):
    monkeypatch.setattr(IncidentListView, "count_cap", 2)
    for i in range(3):
        make_incident(f"Open {i}")
    make_incident("Mine", assigned_to=agent)
    client.force_login(agent)
    return client


def test_badges_past_the_cap_say_cap_plus_but_the_current_view_is_exact(listed, agent):
    response = listed.get(reverse("incident-list"), {"view": "my_work"})
    tabs = {tab["slug"]: tab for tab in response.context["saved_views"]}
    assert (tabs["open"]["count"], tabs["open"]["capped"]) == (2, True)
    assert (tabs["my_work"]["count"], tabs["my_work"]["capped"]) == (1, False)
    assert "data-count>2+</span>" in response.content.decode()
    # The current, unfiltered view's badge is the page's own (capped) total: counted once.
    response = listed.get(reverse("incident-list"), {"page_size": 1, "page": 9})
    tabs = {tab["slug"]: tab for tab in response.context["saved_views"]}
    assert (tabs["open"]["count"], tabs["open"]["capped"]) == (2, True)
    page_obj = response.context["page_obj"]
    assert (page_obj.paginator.count, page_obj.paginator.capped, page_obj.number) == (2, True, 2)
    assert "counting stops at 2: filter to narrow" in response.content.decode()
    # With a filter the current tab is counted on its own (not the filtered page's count).
    response = listed.get(reverse("incident-list"), {"search": "Mine"})
    tabs = {tab["slug"]: tab for tab in response.context["saved_views"]}
    assert response.context["page_obj"].paginator.count == 1
    assert (tabs["open"]["count"], tabs["open"]["capped"]) == (2, True)


def test_bulk_bar_picks_the_assignee_by_name_and_keeps_the_posted_choice(listed, agent, other_agent):
    """The bulk bar's assignee is a picker (core.pickers): the page no longer lists every agent."""
    html = listed.get(reverse("incident-list")).content.decode()
    field = re.search(r'<input[^>]*name="assigned_to"[^>]*id="id_assigned_to"[^>]*>', html).group(0)
    assert 'data-picker="/pick/agent/"' in field
    assert f">{other_agent.username}</option>" not in html
    # A refused bulk action re-renders the bar with the user's choices still filled in.
    response = listed.post(reverse("incident-list"), {"action": "assign", "assigned_to": agent.username})
    assert response.status_code == 400
    html = response.content.decode()
    field = re.search(r'<input[^>]*name="assigned_to"[^>]*id="id_assigned_to"[^>]*>', html).group(0)
    assert f'value="{agent.username}"' in field
    assert '<option value="assign" selected>' in html


def test_api_group_filter_takes_several_names_and_unknown_names_match_nothing(
    api_client, agent, make_incident, service_desk, make_group
):
    network = make_group("network")
    ours = make_incident("Ours")
    theirs = make_incident("Theirs", assignment_group=network)
    client = api_client(agent)
    url = reverse("api:incident-list")

    def numbers(**params):
        return sorted(r["number"] for r in client.get(url, params).json()["results"])

    assert numbers(assignment_group=service_desk.name) == [ours.number]
    assert numbers(assignment_group=f"{service_desk.name},network") == sorted([ours.number, theirs.number])
    assert numbers(assignment_group="nobody") == []
    detail = client.get(url, {"assignment_group": "network"}).json()["results"][0]
    assert detail["url"].endswith(reverse("api:incident-detail", kwargs={"number": theirs.number}))
    assert detail["url"].startswith("http")
