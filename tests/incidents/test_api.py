"""The incident API of SPEC §5: create, filters, If-Match, transitions and their bad inputs, scoping."""

import pytest

from incidents.models import Incident
from incidents.services import incident_transition

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"


def detail(number, action=""):
    return f"{LIST}{number}/" + (f"{action}/" if action else "")


def test_create_computes_priority_and_numbers(api_client, agent, service_desk, category, ci):
    client = api_client(agent)
    response = client.post(
        LIST,
        {
            "short_description": "Mail down",
            "impact": 1,
            "urgency": 2,
            "assignment_group": "service-desk",
            "assigned_to": agent.username,
            "category": "network",
            "configuration_items": [ci.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["number"].startswith("INC") and body["priority"] == 2 and body["state"] == "new"
    assert body["caller"] == agent.username and body["configuration_items"] == [ci.pk]
    assert response["ETag"] == f'"{body["number"]}-v1"'


def test_filters_share_the_filterset(api_client, agent, make_incident, requester, ci):
    a = make_incident("Alpha", caller=requester, impact=1, urgency=1, configuration_items=[ci])
    b = make_incident("Bravo", assigned_to=agent)
    incident_transition(b, to="in_progress", actor=agent)
    client = api_client(agent)

    def numbers(**params):
        return sorted(r["number"] for r in client.get(LIST, params).json()["results"])

    assert numbers(state="in_progress", assignment_group="service-desk") == [b.number]
    assert numbers(priority="1") == [a.number]
    assert numbers(caller=requester.username) == [a.number]
    assert numbers(ci=ci.pk) == [a.number]
    assert numbers(assigned_to=agent.username) == [b.number]
    assert numbers(category="network") == sorted([a.number, b.number])
    assert numbers(search="Bravo") == [b.number]
    assert numbers(state="new,in_progress") == sorted([a.number, b.number])
    assert numbers(opened_after="2000-01-01T00:00:00Z", opened_before="2000-01-02T00:00:00Z") == []
    ordered = [r["number"] for r in client.get(LIST, {"ordering": "priority"}).json()["results"]]
    assert ordered[0] == a.number


def test_update_with_stale_if_match_is_412_and_changes_nothing(api_client, agent, make_incident):
    incident = make_incident()
    client = api_client(agent)
    etag = client.get(detail(incident.number))["ETag"]
    ok = client.patch(detail(incident.number), {"urgency": 1}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok.json()["priority"] == 3
    stale = client.patch(detail(incident.number), {"urgency": 3}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert "reload" in stale.json()["detail"]
    incident.refresh_from_db()
    assert incident.urgency == 1


@pytest.mark.parametrize(
    "payload, field, text",
    [
        ({"to": "closed"}, "to", "Allowed moves: in_progress, on_hold, resolved, canceled"),
        ({"to": "resolved", "resolution_notes": "done"}, "resolution_code", "Required to move to 'resolved'"),
        ({"to": "on_hold"}, "hold_reason", "Required to move to 'on_hold'"),
        ({"to": "on_hold", "hold_reason": "bored"}, "hold_reason", "not a valid choice"),
    ],
)
def test_bad_transitions_are_400_and_change_nothing(api_client, agent, make_incident, payload, field, text):
    incident = make_incident()
    response = api_client(agent).post(detail(incident.number, "transition"), payload, format="json")
    assert response.status_code == 400
    assert text in str(response.json()[field])
    incident.refresh_from_db()
    assert incident.state == "new" and incident.version == 1


def test_assignee_outside_group_and_unknown_ci_are_400(api_client, agent, other_agent, make_incident):
    incident = make_incident()
    client = api_client(agent)
    response = client.patch(detail(incident.number), {"assigned_to": other_agent.username}, format="json")
    assert response.status_code == 400
    assert "not a member of group service-desk" in response.json()["assigned_to"][0]
    response = client.patch(detail(incident.number), {"configuration_items": [999999]}, format="json")
    assert response.status_code == 400
    assert "999999" in str(response.json()["configuration_items"])
    incident.refresh_from_db()
    assert incident.assigned_to is None and incident.version == 1


def test_transition_with_stale_if_match_is_412(api_client, agent, make_incident):
    incident = make_incident()
    client = api_client(agent)
    etag = client.get(detail(incident.number))["ETag"]
    incident_transition(incident, to="in_progress", actor=agent)
    response = client.post(
        detail(incident.number, "transition"),
        {"to": "on_hold", "hold_reason": "awaiting_caller"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 412
    assert Incident.objects.get(pk=incident.pk).state == "in_progress"


def test_full_lifecycle_comments_and_timeline(api_client, agent, make_incident):
    incident = make_incident()
    client = api_client(agent)
    url = detail(incident.number, "transition")
    assert (
        client.post(url, {"to": "on_hold", "hold_reason": "awaiting_vendor"}, format="json").status_code
        == 200
    )
    resolved = client.post(
        url, {"to": "resolved", "resolution_code": "solved", "resolution_notes": "Rebooted"}, format="json"
    )
    assert resolved.json()["resolved_at"] and resolved.json()["hold_reason"] == ""
    reopened = client.post(url, {"to": "in_progress"}, format="json").json()
    assert reopened["resolution_code"] == "" and reopened["resolved_at"] is None
    client.post(detail(incident.number, "comments"), {"body": "note", "public": False}, format="json")
    kinds = [row["kind"] for row in client.get(detail(incident.number, "timeline")).json()]
    assert kinds == ["created", "state_change", "state_change", "state_change", "comment"]


def test_requester_sees_own_incidents_only(api_client, requester, other_requester, make_incident):
    mine = make_incident("Mine", caller=requester)
    theirs = make_incident("Theirs", caller=other_requester)
    client = api_client(requester)
    assert [r["number"] for r in client.get(LIST).json()["results"]] == [mine.number]
    assert client.get(detail(theirs.number)).status_code == 404
    assert client.post(detail(theirs.number, "comments"), {"body": "hi"}, format="json").status_code == 404
    assert client.get(detail(mine.number)).status_code == 200
    notes = client.post(detail(mine.number, "comments"), {"body": "x", "public": False}, format="json")
    assert notes.status_code == 400


@pytest.mark.parametrize("page_size", [5, 50])
def test_list_endpoint_query_count_is_fixed(
    api_client, agent, make_incident, ci, page_size, django_assert_max_num_queries
):
    for i in range(page_size):
        make_incident(f"Q{i}", assigned_to=agent, caller=agent, configuration_items=[ci])
    client = api_client(agent)
    with django_assert_max_num_queries(6):
        response = client.get(LIST, {"page_size": page_size})
    rows = response.json()["results"]
    assert len(rows) == page_size
    # Each row's CIs and timers come from the list's prefetch (core.api.serializers.LISTED_RELATIONS).
    assert all(row["configuration_items"] == [ci.pk] and row["sla_timers"] == [] for row in rows)
