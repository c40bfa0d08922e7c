"""The ServiceNow Table API subset, driven with the exact requests of Zabbix's ServiceNow media type."""

import base64
import json

import pytest
from rest_framework.test import APIClient

from cmdb.models import CIClass, ConfigurationItem
from core.models import Activity
from incidents.models import Incident
from incidents.services import incident_create
from tests.api_tokens import token_client

pytestmark = pytest.mark.django_db
TABLE = "/api/now/table/incident"


def basic(user, password="pw") -> APIClient:
    """What Zabbix's script sends: Basic auth, a JSON body."""
    client = APIClient()
    credentials = base64.b64encode(f"{user.username}:{password}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {credentials}")
    return client


def send(client, method, url, body):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def test_zabbix_problem_then_recovery(agent, service_desk, client):
    zabbix = basic(agent)
    # Problem: the media type POSTs subject, message (as description and comments), the urgency mapped
    # from the trigger severity (a string), and the user's u_ fields.
    problem = {
        "short_description": "Problem: High CPU utilization on web-01",
        "description": "Problem started at 10:00:01 on 2026.12.06\nProblem name: High CPU utilization\nHost: web-01\nSeverity: High",
        "comments": "Problem started at 10:00:01 on 2026.12.06\nProblem name: High CPU utilization\nHost: web-01\nSeverity: High",
        "urgency": "1",
        "u_zabbix_event_id": "4242",
        "u_zabbix_host": "web-01",
    }
    response = send(zabbix, "post", TABLE, problem)
    assert response.status_code == 201, response.content
    result = response.json()["result"]
    sys_id, number = result["sys_id"], result["number"]
    assert len(sys_id) == 32 and number.startswith("INC")
    assert (result["urgency"], result["state"], result["u_zabbix_host"]) == ("1", "1", "web-01")
    incident = Incident.objects.get(number=number)
    assert incident.urgency == 1 and incident.external_fields == {
        "u_zabbix_event_id": "4242",
        "u_zabbix_host": "web-01",
    }
    client.force_login(agent)
    page = client.get(f"/incidents/{number}/").content.decode()
    assert "Fields from integrations" in page and "u_zabbix_host" in page  # shown, not lost
    public = Activity.objects.filter(object_id=incident.pk, kind="comment", public=True)
    assert public.count() == 1 and "High CPU utilization" in public.get().body

    # Looking the incident up by number, as the tools' scripts do.
    found = zabbix.get(f"{TABLE}?sysparm_query=number={number}&sysparm_limit=1").json()["result"]
    assert [row["sys_id"] for row in found] == [sys_id]
    assert zabbix.get(f"{TABLE}/{sys_id}").json()["result"]["number"] == number

    # Recovery: PUT short_description and comments (and the u_ fields) to /incident/{sys_id}.
    recovery = {
        "short_description": "Resolved in 5m 0s: High CPU utilization on web-01",
        "comments": "Problem has been resolved at 10:05:01 on 2026.12.06\nProblem duration: 5m 0s",
        "u_zabbix_event_id": "4243",
    }
    response = send(zabbix, "put", f"{TABLE}/{sys_id}", recovery)
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    assert result["short_description"].startswith("Resolved in 5m")
    assert result["u_zabbix_event_id"] == "4243" and result["u_zabbix_host"] == "web-01"
    assert Activity.objects.filter(object_id=incident.pk, kind="comment", public=True).count() == 2

    # An agent's tool may resolve it the ServiceNow way.
    response = send(
        zabbix,
        "patch",
        f"{TABLE}/{sys_id}",
        {
            "state": "6",
            "close_code": "Solved (Permanently)",
            "close_notes": "CPU back to normal",
            "work_notes": "auto",
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["result"]["state"] == "6"
    incident.refresh_from_db()
    assert (incident.state, incident.resolution_code) == ("resolved", "solved")


def test_field_mapping_and_query(agent, service_desk):
    ConfigurationItem.objects.create(name="web-01", ci_class=CIClass.objects.get(name="server"))
    client = token_client(agent)
    body = {
        "short_description": "Disk full",
        "impact": "2",
        "urgency": "2 - Medium",
        "caller_id": agent.email,
        "assignment_group": "service-desk",
        "cmdb_ci": "web-01",
        "work_notes": "seen by monitoring",
    }
    response = send(client, "post", TABLE, body)
    assert response.status_code == 201, response.content
    result = response.json()["result"]
    assert (result["impact"], result["urgency"], result["priority"]) == ("2", "2", "3")
    assert (result["caller_id"], result["assignment_group"], result["cmdb_ci"]) == (
        "agent1",
        "service-desk",
        "web-01",
    )
    rows = client.get(
        f"{TABLE}?sysparm_query=active=true^assignment_group=service-desk&sysparm_fields=number,state"
    ).json()
    assert rows["result"] == [{"number": result["number"], "state": "1"}]


def test_servicenow_shaped_errors(agent, requester, other_requester):
    client = basic(agent)
    for body, field in (
        ({"description": "no subject"}, "short_description"),
        ({"short_description": "x", "urgency": "high"}, "urgency"),
        ({"short_description": "x", "assignment_group": "nobody"}, "assignment_group"),
        ({"short_description": "x", "colour": "red"}, "colour"),
        ({"short_description": "x", "state": "42"}, "state"),
    ):
        response = send(client, "post", TABLE, body)
        assert response.status_code == 400, (body, response.content)
        error = response.json()
        assert error["status"] == "failure" and error["error"]["detail"].startswith(field), error
    response = basic(agent, password="wrong").get(TABLE)
    assert response.status_code == 401 and response.json()["error"]["message"] == "User Not Authenticated"
    assert APIClient().get(TABLE).status_code == 401
    missing = client.get(f"{TABLE}/{'0' * 32}")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "No Record found"
    # Same scoping as our API: a requester sees their own only, and sets no agent field.
    mine = incident_create(actor=requester, short_description="Mine")
    theirs = incident_create(actor=other_requester, short_description="Theirs")
    requester_client = basic(requester)
    assert [r["number"] for r in requester_client.get(TABLE).json()["result"]] == [mine.number]
    assert requester_client.get(f"{TABLE}/{theirs.pk:032x}").status_code == 404
    assert send(requester_client, "put", f"{TABLE}/{theirs.pk:032x}", {"comments": "hi"}).status_code == 404
    refused = send(requester_client, "put", f"{TABLE}/{mine.pk:032x}", {"state": "6"})
    assert refused.status_code == 403 and refused.json()["error"]["detail"].startswith("state")
    # A read token reads, and is refused every write.
    reader = token_client(agent, scope="read")
    assert reader.get(TABLE).status_code == 200
    response = send(reader, "post", TABLE, {"short_description": "x"})
    assert response.status_code == 403 and "read-only" in response.json()["error"]["detail"]
