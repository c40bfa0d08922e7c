"""POST /api/v1/integrations/alertmanager/: firing, repeats, resolved, dedup, malformed payloads."""

import threading

import pytest
from django.db import connection

from incidents.models import Incident
from integrations.models import AlertLink

URL = "/api/v1/integrations/alertmanager/"


def payload(status="firing", fingerprint="a1b2c3", severity="critical", **labels):
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "status": status,
        "receiver": "itsm",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "DiskFull", "severity": severity, **labels},
                "annotations": {"summary": "Disk almost full on db1", "description": "/var is 97% full"},
                "startsAt": "2025-03-03T10:00:00Z",
                "endsAt": "2025-03-03T10:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus/graph",
                **({"fingerprint": fingerprint} if fingerprint else {}),
            }
        ],
    }


@pytest.fixture
def client(api_client, agent):
    return api_client(agent)


@pytest.mark.django_db
def test_firing_repeat_resolved(client, agent, make_group):
    dba = make_group("dba")
    response = client.post(URL, payload(team="dba"), format="json")
    assert response.status_code == 200
    number = response.json()["created"][0]
    incident = Incident.objects.get(number=number)
    assert incident.short_description == "[DiskFull] Disk almost full on db1"
    assert (incident.impact, incident.urgency, incident.priority) == (1, 1, 1)
    assert incident.assignment_group == dba
    assert "/var is 97% full" in incident.description

    repeat = client.post(URL, payload(), format="json").json()
    assert repeat == {"created": [], "updated": [number], "resolved": [], "ignored": 0}
    assert incident.activities.filter(kind="system", public=False).count() == 1

    resolved = client.post(URL, payload(status="resolved"), format="json").json()
    assert resolved["resolved"] == [number]
    incident.refresh_from_db()
    assert (incident.state, incident.resolution_code) == ("resolved", "solved")
    assert (
        incident.resolution_notes
        == "Alert DiskFull resolved at 2025-03-03T10:30:00Z. Disk almost full on db1"
    )

    # Firing again reopens the same incident instead of opening a new one.
    again = client.post(URL, payload(), format="json").json()
    assert again["updated"] == [number] and Incident.objects.count() == 1
    incident.refresh_from_db()
    assert incident.state == "in_progress"


@pytest.mark.django_db
def test_fingerprint_from_labels_severity_mapping_and_ci(client):
    from cmdb.models import CIClass, ConfigurationItem

    ci = ConfigurationItem.objects.create(name="db1", ci_class=CIClass.objects.get(name="server"))
    body = payload(fingerprint=None, severity="warning", instance="db1:9100")
    number = client.post(URL, body, format="json").json()["created"][0]
    incident = Incident.objects.get(number=number)
    assert (incident.impact, incident.urgency) == (2, 2)
    assert list(incident.configuration_items.all()) == [ci]
    assert client.post(URL, body, format="json").json()["updated"] == [number]
    other = client.post(URL, payload(fingerprint=None, severity="info"), format="json").json()["created"][0]
    assert (Incident.objects.get(number=other).impact, Incident.objects.get(number=other).urgency) == (3, 3)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"version": "3", "alerts": [{"status": "firing", "labels": {"a": "b"}}]}, "version", 'version "4"'),
        ({"version": "4", "alerts": []}, "alerts", "non-empty list"),
        (
            {"version": "4", "alerts": [{"status": "burning", "labels": {"a": "b"}}]},
            "alerts[0].status",
            "burning",
        ),
        (
            {"version": "4", "alerts": [{"status": "firing", "labels": {"a": 1}}]},
            "alerts[0].labels",
            "string values",
        ),
        ({"version": "4", "alerts": [{"status": "firing"}]}, "alerts[0].labels", "needs labels"),
        (["not", "an", "object"], "non_field_errors", "JSON object"),
    ],
)
def test_malformed_payloads_get_400_naming_the_problem(client, body, field, message):
    response = client.post(URL, body, format="json")
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_only_agents_with_a_token_may_post(api_client, requester):
    assert api_client(None).post(URL, payload(), format="json").status_code in (401, 403)
    assert api_client(requester).post(URL, payload(), format="json").status_code == 403
    assert api_client(None).post(URL, "{not json", content_type="application/json").status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_alerts_open_one_incident(make_user):
    from rest_framework.test import APIClient

    user = make_user("alertbot", roles=["agent"])
    results, barrier = [], threading.Barrier(4)

    def post():
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            results.append(client.post(URL, payload(fingerprint="race"), format="json").json())
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Incident.objects.count() == 1
    assert sum(len(r["created"]) for r in results) == 1 and sum(len(r["updated"]) for r in results) == 3
    assert AlertLink.objects.get(fingerprint="race").notifications == 4
