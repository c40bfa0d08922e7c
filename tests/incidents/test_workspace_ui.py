"""Workspace pages an agent triages from (issue 21): filters the date inputs can show, words not codes."""

import re
from datetime import timedelta

import pytest
from django.test import Client
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


def test_move_buttons_are_verbs_and_reopen_says_reopen(agent_client, agent, make_incident):
    from incidents.services import incident_transition

    incident = make_incident("Mouse broken")
    page = agent_client.get(incident.get_absolute_url()).content.decode()
    for verb in ("Start work", "Put on hold", "Resolve", "Cancel"):
        assert f">{verb}</a>" in page
    assert ">In progress</a>" not in page and ">Resolved</a>" not in page
    incident_transition(
        incident,
        to="resolved",
        actor=agent,
        fields={"resolution_code": "solved", "resolution_notes": "New mouse"},
    )
    page = agent_client.get(incident.get_absolute_url()).content.decode()
    assert 'data-move="in_progress"' in page and ">Reopen</a>" in page and ">Close</a>" in page


def test_a_move_with_errors_comes_back_in_place_with_the_errors_next_to_the_fields(
    agent_client, make_incident
):
    incident = make_incident("Mouse broken")
    url = reverse("incident-transition", kwargs={"number": incident.number, "to": "resolved"})
    response = agent_client.post(url, {"resolution_notes": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    page = response.content.decode()
    assert "<html" not in page and 'hx-post="' + url + '"' in page
    assert 'id="id_resolution_code_errors"' in page or "is-invalid" in page
    assert ">Resolve</button>" in page


def test_assign_to_me_from_the_list_and_the_detail_page(agent_client, agent, make_incident):
    first, second = make_incident("One"), make_incident("Two")
    list_url = reverse("incident-list") + "?view=open"
    page = agent_client.get(list_url).content.decode()
    assert page.count("data-assign-to-me") == 2
    assign = reverse("incident-assign-to-me", kwargs={"number": first.number})
    response = agent_client.post(assign, {"next": list_url})
    assert response.status_code == 302 and response.url == list_url
    first.refresh_from_db()
    assert first.assigned_to == agent
    assert agent_client.get(list_url).content.decode().count("data-assign-to-me") == 1
    # From the detail page; an outside `next` is ignored.
    page = agent_client.get(second.get_absolute_url()).content.decode()
    assert "data-assign-to-me" in page
    response = agent_client.post(
        reverse("incident-assign-to-me", kwargs={"number": second.number}), {"next": "https://evil.example/"}
    )
    assert response.url == second.get_absolute_url()
    second.refresh_from_db()
    assert second.assigned_to == agent
    assert "data-assign-to-me" not in agent_client.get(second.get_absolute_url()).content.decode()


def test_assign_to_me_outside_the_group_says_why(client, make_user, make_incident):
    outsider = make_user("olga", roles=["agent"])
    incident = make_incident("Not my group")
    client.force_login(outsider)
    response = client.post(reverse("incident-assign-to-me", kwargs={"number": incident.number}), follow=True)
    incident.refresh_from_db()
    assert incident.assigned_to is None
    assert "was not assigned" in response.content.decode()


def test_friendly_error_pages_in_the_product_layout(client, agent, requester):
    client.force_login(agent)
    response = client.get("/incidents/INC9999999/")
    page = response.content.decode()
    assert response.status_code == 404 and 'data-error-code="404"' in page and "Nothing here" in page
    assert "Main navigation" in page  # the workspace layout
    client.force_login(requester)
    page = client.get("/portal/tickets/INC9999999/").content.decode()
    assert 'data-error-code="404"' in page and "portal-topbar" in page


@pytest.mark.parametrize("page_size", [5, 50])
def test_chosen_columns_persist_and_cost_a_fixed_number_of_queries(
    agent_client,
    agent,
    make_incident,
    ci,
    page_size,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    for i in range(page_size + 1):
        make_incident(f"Incident {i}", assigned_to=agent, configuration_items=[ci])
    list_url = reverse("incident-list")
    default = agent_client.get(list_url, {"view": "all", "page_size": page_size})
    headers = [h["name"] for h in default.context["headers"]]
    assert headers[:2] == ["number", "sla"] and "ci" not in headers and "updated_at" in headers
    # Choose: CI and Updated on, Category off; stored for the user's session, parameters dropped.
    chosen = ["sla", "priority", "short_description", "state", "caller", "assignment_group", "assigned_to",
              "updated_at", "ci"]  # fmt: skip
    response = agent_client.get(list_url, {"view": "all", "columns": chosen, "save_columns": "1"})
    assert response.status_code == 302 and response.url == f"{list_url}?view=all"
    # The default page's budget is 14 (test_web); the CI column adds one prefetch for every row at once.
    with django_assert_max_num_queries(15):
        response = agent_client.get(list_url, {"view": "all", "page_size": page_size})
    headers = [h["name"] for h in response.context["headers"]]
    assert headers[:2] == ["number", "sla"] and set(headers) == {"number", *chosen}
    page = response.content.decode()
    assert ci.name in page
    # Relative time, with the absolute time and its zone on hover.
    assert re.search(r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d UTC">just now</time>', page)
    # Kept on the user, not the session: a new sign-in (another browser) shows the same columns, and the
    # other lists keep their own defaults.
    agent.refresh_from_db()
    assert agent.list_columns == {"incident": chosen}
    other_browser = Client()
    other_browser.force_login(agent)
    headers = [h["name"] for h in other_browser.get(list_url, {"view": "all"}).context["headers"]]
    assert set(headers) == {"number", *chosen}
    problem_headers = [h["name"] for h in other_browser.get(reverse("problem-list")).context["headers"]]
    assert "ci" not in problem_headers
    # Choosing nothing goes back to the default set, for this list only.
    other_browser.get(list_url, {"save_columns": "1"})
    agent.refresh_from_db()
    assert agent.list_columns == {}
