"""The SLA API (SPEC §4 shape, admin-only writes, validation naming fields), timers on tickets, pages."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import reverse

from incidents.models import Incident
from sla import selectors
from sla.models import BusinessCalendar, SLADefinition

DEFINITIONS = "/api/v1/sla/definitions/"
CALENDARS = "/api/v1/sla/calendars/"


@pytest.fixture
def office(db):
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="Europe/Paris")
    calendar.hours.create(weekday=0, start="09:00", end="17:00")
    return calendar


@pytest.mark.django_db
class TestDefinitionApi:
    def test_admin_creates_a_definition_in_the_spec_shape(self, api_client, admin_user, office, service_desk):
        payload = {
            "name": "P1 resolution",
            "applies_to": "incident",
            "conditions": {"priority": [1, 2], "assignment_group": ["service-desk"]},
            "target": "resolution",
            "duration": 14400,
            "calendar": office.pk,
            "pause_states": ["on_hold"],
        }
        response = api_client(admin_user).post(DEFINITIONS, payload, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert {k: body[k] for k in payload} == payload
        assert body["warning_thresholds"] == [50, 75, 90]

    def test_agents_read_but_cannot_write(self, api_client, agent, make_definition):
        make_definition("Any")
        client = api_client(agent)
        assert client.get(DEFINITIONS).json()["count"] == 1
        assert client.post(DEFINITIONS, {"name": "x"}, format="json").status_code == 403

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"duration": 0}, "duration"),
            ({"duration": -5}, "duration"),
            ({"conditions": {"priority": [9]}}, "conditions.priority"),
            ({"conditions": {"assignment_group": ["nobody"]}}, "conditions.assignment_group"),
            ({"conditions": {"colour": ["red"]}}, "conditions.colour"),
            ({"pause_states": ["sleeping"]}, "pause_states"),
            ({"escalations": [{"at": 100, "action": "reassign", "group": "ghosts"}]}, "escalations[0].group"),
            ({"calendar": "EMPTY"}, "calendar"),
        ],
    )
    def test_bad_input_is_refused_naming_the_field(self, api_client, admin_user, change, field):
        if change.get("calendar") == "EMPTY":
            change = {"calendar": BusinessCalendar.objects.create(name="Empty").pk}
        payload = {"name": "Bad", "applies_to": "incident", "target": "resolution", "duration": 60, **change}
        response = api_client(admin_user).post(DEFINITIONS, payload, format="json")
        assert response.status_code == 400
        assert field in str(response.json())
        assert not SLADefinition.objects.exists()

    def test_calendar_round_trip(self, api_client, admin_user):
        payload = {
            "name": "Support hours",
            "time_zone": "America/New_York",
            "description": "",
            "hours": [
                {"weekday": 0, "start": "09:00:00", "end": "12:00:00"},
                {"weekday": 0, "start": "13:00:00", "end": "17:00:00"},
            ],
            "holidays": [{"name": "Thanksgiving", "date": "2026-11-26", "end_date": "2026-11-27"}],
        }
        response = api_client(admin_user).post(CALENDARS, payload, format="json")
        assert response.status_code == 201, response.json()
        assert {k: v for k, v in response.json().items() if k != "id"} == payload
        bad = api_client(admin_user).post(CALENDARS, {**payload, "name": "x", "time_zone": "Mars/Olympus"})
        assert bad.status_code == 400 and "time_zone" in bad.json()


@pytest.mark.django_db
class TestTimersOnTickets:
    def test_incident_representation_lists_its_timers(self, api_client, agent, make_definition):
        make_definition("Resolution", duration=7200)
        response = api_client(agent).post(
            "/api/v1/incidents/", {"short_description": "VPN down"}, format="json"
        )
        assert response.status_code == 201
        (timer,) = response.json()["sla_timers"]
        assert timer["definition"] == "Resolution"
        assert timer["target"] == "resolution"
        assert timer["state"] == "running"
        assert {"started_at", "due_at", "elapsed_seconds", "paused_seconds", "percent"} <= set(timer)

    @pytest.mark.parametrize("page_size", [5, 50])
    def test_list_query_count_is_fixed(
        self,
        api_client,
        agent,
        make_definition,
        open_incident,
        office,
        page_size,
        django_assert_max_num_queries,
    ):
        make_definition("Office hours", calendar=office)
        make_definition("Always")
        for _ in range(6):
            open_incident()
        client = api_client(agent)
        with django_assert_max_num_queries(16):
            response = client.get(f"/api/v1/incidents/?page_size={page_size}")
        assert len(response.json()["results"][0]["sla_timers"]) == 2


@pytest.mark.django_db
class TestSelectorsAndPages:
    def test_filters_by_state_and_breaching_soon(self, make_definition, open_incident, agent):
        make_definition("Soon", duration=600, conditions={"priority": [5]})
        make_definition("Later", duration=86400, conditions={"priority": [1]})
        soon = open_incident()
        later = open_incident(impact=1, urgency=1)
        qs = Incident.objects.all()
        assert set(selectors.filter_by_sla_state(qs, "running")) == {soon, later}
        assert not selectors.filter_by_sla_state(qs, "breached").exists()
        assert list(selectors.breaching_soon(qs)) == [soon]
        with pytest.raises(ValueError):
            selectors.filter_by_sla_state(qs, "late")

    def test_ticket_partial_renders_countdowns_from_the_record_alone(self, make_definition, open_incident):
        make_definition("Resolution")
        incident = open_incident()
        html = Template('{% include "sla/ticket_timers.html" with record=object %}').render(
            Context({"object": incident})
        )
        assert 'class="sla-countdown' in html and "data-due=" in html and 'data-state="running"' in html
        assert "Resolution" in html and "started" in html

    def test_definition_page_and_breaching_queue(
        self, client, agent, requester, make_definition, open_incident
    ):
        make_definition("Quick one", duration=600)
        incident = open_incident()
        client.force_login(agent)
        assert "Quick one" in client.get(reverse("sla-definition-list")).content.decode()
        page = client.get(reverse("sla-breaching-soon")).content.decode()
        assert incident.number in page and "sla-countdown" in page
        client.force_login(requester)
        assert client.get(reverse("sla-breaching-soon")).status_code == 404


@pytest.mark.django_db
def test_demo_configuration_is_valid_and_idempotent(make_group):
    from sla import demo

    groups = {"network": make_group("network")}
    demo.load(users={}, groups=groups)
    demo.load(users={}, groups=groups)
    assert SLADefinition.objects.count() == len(demo.DEFINITIONS)
    assert BusinessCalendar.objects.get().hours.count() == 10
