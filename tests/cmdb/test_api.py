"""API and pages: permissions (agents read, cmdb managers write, requesters see services/apps only),
attribute errors naming the attribute, import endpoint, history, query budgets."""

import json

import pytest
from django.urls import reverse

from cmdb.models import CIChange, ConfigurationItem

pytestmark = pytest.mark.django_db


def test_agent_reads_but_cannot_write(agent, api_client, shop):
    client = api_client(agent)
    assert client.get("/api/v1/cmdb/cis/").json()["count"] == 7
    assert client.get(f"/api/v1/cmdb/cis/{shop['db'].pk}/").status_code == 200
    assert client.post("/api/v1/cmdb/cis/", {"name": "x", "ci_class": "server"}).status_code == 403
    assert client.patch(f"/api/v1/cmdb/cis/{shop['db'].pk}/", {"status": "retired"}).status_code == 403
    response = client.post("/api/v1/cmdb/import/", data="name,ci_class\nx,server\n", content_type="text/csv")
    assert response.status_code == 403
    assert not ConfigurationItem.objects.filter(name="x").exists()


def test_requester_sees_business_services_and_applications_only(requester, api_client, shop):
    client = api_client(requester)
    names = {ci["name"] for ci in client.get("/api/v1/cmdb/cis/").json()["results"]}
    assert names == {"Online shop", "Shop app"}
    assert client.get(f"/api/v1/cmdb/cis/{shop['db'].pk}/").status_code == 404
    assert client.patch(f"/api/v1/cmdb/cis/{shop['db'].pk}/", {"status": "retired"}).status_code == 404
    assert client.get(f"/api/v1/cmdb/cis/{shop['db'].pk}/impact/").status_code == 404
    # impact of a visible CI leaves the hidden ones out
    deps = client.get(f"/api/v1/cmdb/cis/{shop['shop'].pk}/dependencies/").json()["results"]
    assert [row["ci"]["name"] for row in deps] == ["Shop app"]


def test_manager_creates_updates_and_history_lists_it(cmdb_manager, api_client, service_desk):
    client = api_client(cmdb_manager)
    response = client.post(
        "/api/v1/cmdb/cis/",
        {
            "name": "srv9",
            "ci_class": "server",
            "support_group": service_desk.name,
            "attributes": {"cpu_count": 2},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    ci_id = response.json()["id"]
    bad = client.patch(f"/api/v1/cmdb/cis/{ci_id}/", {"attributes": {"cpu_count": "two"}}, format="json")
    assert bad.status_code == 400 and list(bad.json()["attributes"]) == ["cpu_count"]
    ok = client.patch(f"/api/v1/cmdb/cis/{ci_id}/", {"attributes": {"cpu_count": 8}}, format="json")
    assert ok.status_code == 200
    history = client.get(f"/api/v1/cmdb/cis/{ci_id}/history/").json()["results"]
    assert [(h["action"], h["field"], h["source"]) for h in history] == [
        ("updated", "attributes.cpu_count", "api"),
        ("created", "", "api"),
    ]
    assert history[0]["old_value"] == 2 and history[0]["new_value"] == 8 and history[0]["actor"] == "cora"


def test_relationships_api(cmdb_manager, agent, api_client, make_ci):
    a, b = make_ci("a"), make_ci("b")
    client = api_client(cmdb_manager)
    created = client.post("/api/v1/cmdb/relationships/", {"source": a.pk, "target": b.pk, "type": "runs_on"})
    assert created.status_code == 201
    dup = client.post("/api/v1/cmdb/relationships/", {"source": a.pk, "target": b.pk, "type": "runs_on"})
    assert dup.status_code == 400 and "target" in dup.json()
    assert api_client(agent).delete(f"/api/v1/cmdb/relationships/{created.json()['id']}/").status_code == 403
    assert client.delete(f"/api/v1/cmdb/relationships/{created.json()['id']}/").status_code == 204


def test_delete_with_open_ticket_is_a_conflict(cmdb_manager, agent, api_client, shop):
    from incidents.services import incident_create

    incident_create(actor=agent, short_description="db down", configuration_items=[shop["db"]])
    response = api_client(cmdb_manager).delete(f"/api/v1/cmdb/cis/{shop['db'].pk}/")
    assert response.status_code == 409 and "open tickets" in response.json()["detail"]


def test_import_endpoint_raw_multipart_and_dry_run(cmdb_manager, api_client):
    client = api_client(cmdb_manager)
    csv_body = "name,ci_class,attributes.cpu_count\ns1,server,2\ns2,nope,1\n"
    dry = client.post("/api/v1/cmdb/import/?dry_run=1", data=csv_body, content_type="text/csv").json()
    assert (dry["created"], dry["dry_run"]) == (1, True) and dry["failed"][0]["row"] == 3
    assert not ConfigurationItem.objects.exists()
    real = client.post("/api/v1/cmdb/import/", data=csv_body, content_type="text/csv").json()
    assert real["created"] == 1 and CIChange.objects.filter(source="import").count() == 1
    payload = json.dumps({"cis": [{"name": "s1", "ci_class": "server", "attributes": {"cpu_count": 2}}]})
    again = client.post("/api/v1/cmdb/import/", data=payload, content_type="application/json").json()
    assert again["unchanged"] == 1
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("cis.csv", b"name,ci_class\ns3,server\n", content_type="text/csv")
    multi = client.post("/api/v1/cmdb/import/", {"file": upload}, format="multipart").json()
    assert multi["created"] == 1
    bad = client.post("/api/v1/cmdb/import/", data="{oops", content_type="application/json")
    assert bad.status_code == 400 and "file" in bad.json()


def test_classes_api_admin_only_writes(admin_user, cmdb_manager, api_client):
    classes = api_client(cmdb_manager).get("/api/v1/cmdb/classes/").json()
    assert {"server", "database", "business_service"} <= {c["name"] for c in classes}
    schema = {"type": "object", "properties": {"rack_units": {"type": "integer"}}}
    assert (
        api_client(cmdb_manager).post("/api/v1/cmdb/classes/", {"name": "rack", "label": "Rack"}).status_code
        == 403
    )
    created = api_client(admin_user).post(
        "/api/v1/cmdb/classes/", {"name": "rack", "label": "Rack", "attribute_schema": schema}, format="json"
    )
    assert created.status_code == 201
    bad = api_client(admin_user).post(
        "/api/v1/cmdb/classes/",
        {"name": "rack2", "label": "R", "attribute_schema": {"type": 7}},
        format="json",
    )
    assert bad.status_code == 400 and "attribute_schema" in bad.json()


def _many_cis(count):
    from accounts.models import AssignmentGroup
    from cmdb.models import CIClass

    group = AssignmentGroup.objects.create(name="ops")
    server = CIClass.objects.get(name="server")
    ConfigurationItem.objects.bulk_create(
        [ConfigurationItem(name=f"srv{i:03}", ci_class=server, support_group=group) for i in range(count)]
    )


@pytest.mark.parametrize("page_size", [5, 50])
def test_list_endpoint_and_page_query_budget(
    agent, api_client, client, page_size, django_assert_max_num_queries
):
    _many_cis(60)
    api = api_client(agent)
    with django_assert_max_num_queries(8):
        response = api.get(f"/api/v1/cmdb/cis/?page_size={page_size}&ci_class=server")
    assert len(response.json()["results"]) == page_size
    client.force_login(agent)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("ci-list"), {"page_size": page_size, "ci_class": "server", "q": "srv"})
    assert page.status_code == 200 and page.content.count(b'href="/cmdb/cis/') == page_size


def test_pages_detail_graph_autocomplete(agent, requester, client, shop, cmdb_manager):
    client.force_login(agent)
    detail = client.get(reverse("ci-detail", kwargs={"pk": shop["db"].pk}))
    assert detail.status_code == 200
    assert b"Online shop" in detail.content  # the impacted business service
    graph = client.get(reverse("ci-graph", kwargs={"pk": shop["db"].pk}) + "?hops=2").json()
    assert {n["data"]["label"] for n in graph["nodes"]} >= {"shopdb", "Shop app", "srv-db", "sw-core"}
    found = client.get(reverse("ci-autocomplete"), {"q": "shop"}).json()["results"]
    assert {r["name"] for r in found} == {"Online shop", "Shop app", "shopdb", "vm-shop"}
    partial = client.get(reverse("ci-autocomplete"), {"q": "shop"}, headers={"HX-Request": "true"})
    assert b"<option" in partial.content
    assert client.get(reverse("ci-import")).status_code == 403
    client.force_login(requester)
    assert client.get(reverse("ci-detail", kwargs={"pk": shop["db"].pk})).status_code == 404
    assert {r["name"] for r in client.get(reverse("ci-autocomplete"), {"q": "shop"}).json()["results"]} == {
        "Online shop",
        "Shop app",
    }
    client.force_login(cmdb_manager)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("cis.csv", b"name,ci_class\nnew-one,server\n", content_type="text/csv")
    response = client.post(reverse("ci-import"), {"file": upload, "encoding": "utf-8"})
    assert response.status_code == 200 and ConfigurationItem.objects.filter(name="new-one").exists()
