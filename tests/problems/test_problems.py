"""Problems: state machine, linking incidents, resolving with incidents, known errors (SPEC §3 Problems)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cmdb.models import CIClass, ConfigurationItem
from core.models import Activity
from incidents.models import Incident
from incidents.services import incident_create
from problems import selectors, services
from problems.models import Problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def incidents(agent):
    return [incident_create(actor=agent, short_description=f"Mail slow {i}") for i in range(3)]


def walk_to_fix(problem, actor):
    for to in ("assess", "root_cause_analysis", "fix_in_progress"):
        problem = services.problem_transition(problem, to=to, actor=actor)
    return problem


def test_state_machine_and_stamps(agent):
    problem = services.problem_create(actor=agent, short_description="Mail outages")
    assert problem.number.startswith("PRB") and problem.state == "new"
    with pytest.raises(ValidationError, match="Allowed moves: assess, canceled"):
        services.problem_transition(problem, to="resolved", actor=agent)
    problem = walk_to_fix(problem, agent)
    with pytest.raises(ValidationError) as err:
        services.problem_transition(problem, to="resolved", actor=agent)
    assert "root_cause" in err.value.message_dict
    problem = services.problem_transition(
        problem, to="resolved", actor=agent, fields={"root_cause": "Full disk"}
    )
    assert problem.resolved_at and problem.root_cause == "Full disk"
    problem = services.problem_transition(problem, to="closed", actor=agent)
    assert problem.closed_at
    with pytest.raises(ValidationError):
        services.problem_transition(problem, to="assess", actor=agent)


def test_link_incidents_and_resolve_them_with_the_problem(agent, incidents, api_client):
    problem = services.problem_create(actor=agent, short_description="Mail outages")
    client = api_client(agent)
    response = client.post(
        f"/api/v1/problems/{problem.number}/link_incidents/",
        {"incidents": [i.number for i in incidents]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert sorted(response.json()["incidents"]) == sorted(i.number for i in incidents)
    assert Incident.objects.filter(problem=problem).count() == 3
    # One incident is already resolved on its own: it is left alone.
    from incidents.services import incident_transition

    incident_transition(
        incidents[0],
        to="resolved",
        actor=agent,
        fields={"resolution_code": "user_error", "resolution_notes": "x"},
    )
    walk_to_fix(problem, agent)
    response = client.post(
        f"/api/v1/problems/{problem.number}/transition/",
        {"to": "resolved", "root_cause": "Queue misconfigured", "resolve_incidents": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    states = dict(Incident.objects.filter(problem=problem).values_list("number", "resolution_code"))
    assert states[incidents[0].number] == "user_error"
    assert states[incidents[1].number] == "solved" and states[incidents[2].number] == "solved"
    for incident in incidents[1:]:
        row = Activity.objects.filter(
            object_id=incident.pk, kind="state_change", content_type__model="incident"
        ).last()
        assert problem.number in row.body


def test_link_refusals(agent, incidents, api_client):
    problem = services.problem_create(actor=agent, short_description="p")
    response = api_client(agent).post(
        f"/api/v1/problems/{problem.number}/link_incidents/", {"incidents": ["INC9999999"]}, format="json"
    )
    assert response.status_code == 400 and "INC9999999" in response.json()["incidents"][0]
    services.problem_transition(problem, to="canceled", actor=agent)
    with pytest.raises(ValidationError) as err:
        services.link_incidents(problem, incidents, actor=agent)
    assert "incidents" in err.value.message_dict


def test_known_error_needs_workaround_and_publishes_article(agent, make_user, api_client):
    problem = services.problem_create(actor=agent, short_description="VPN drops")
    client = api_client(agent)
    url = f"/api/v1/problems/{problem.number}/publish_known_error/"
    response = client.post(url)
    assert response.status_code == 400 and "known_error" in response.json()
    with pytest.raises(ValidationError) as err:
        services.problem_update(problem, actor=agent, changes={"known_error": True})
    assert "workaround" in err.value.message_dict
    response = client.patch(
        f"/api/v1/problems/{problem.number}/",
        {"known_error": True, "workaround": "Reconnect with split tunnel"},
        format="json",
    )
    assert response.status_code == 200, response.content
    response = client.post(url)
    assert response.status_code == 201, response.content
    article = response.json()
    assert article["state"] == "published" and "split tunnel" in article["body"]
    problem.refresh_from_db()
    assert problem.known_error_article == article["number"]
    again = client.post(url)
    assert again.status_code == 400 and "known_error_article" in again.json()


def test_known_errors_for_cis_and_include(agent):
    ci_class = CIClass.objects.get(name="server")
    ci, other = (ConfigurationItem.objects.create(name=n, ci_class=ci_class) for n in ("mx1", "mx2"))
    known = services.problem_create(
        actor=agent,
        short_description="Mail queue",
        workaround="Flush queue",
        known_error=True,
        configuration_items=[ci],
    )
    services.problem_create(actor=agent, short_description="Not known", configuration_items=[ci])
    assert list(selectors.known_errors_for_cis([ci.pk])) == [known]
    assert list(selectors.known_errors_for_cis([other.pk])) == []
    from django.template.loader import render_to_string

    html = render_to_string("problems/known_errors.html", {"cis": [ci]})
    assert known.number in html and "Flush queue" in html


def test_requesters_cannot_work_problems(requester):
    with pytest.raises(PermissionDenied):
        services.problem_create(actor=requester, short_description="x")


@pytest.mark.parametrize("page_size", [5, 50])
def test_problem_list_query_count(agent, incidents, api_client, django_assert_max_num_queries, page_size):
    for i in range(8):
        problem = services.problem_create(actor=agent, short_description=f"p{i}")
        if i < 3:
            services.link_incidents(problem, [incidents[i]], actor=agent)
    with django_assert_max_num_queries(12):
        response = api_client(agent).get(f"/api/v1/problems/?page_size={page_size}")
    assert response.status_code == 200 and len(response.json()["results"]) == min(page_size, 8)
    assert Problem.objects.count() == 8
