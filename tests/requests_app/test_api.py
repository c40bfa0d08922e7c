"""The HTTP contract: catalog item shapes, ordering errors, approvals through /api/v1/approvals/, query
budgets on the list endpoints."""

import pytest

from requests_app import services
from requests_app.models import CatalogItem

from .conftest import GOOD_LAPTOP


@pytest.mark.django_db
def test_catalog_item_shape_and_admin_only_writes(api_client, laptop, requester, admin_user, service_desk):
    body = api_client(requester).get(f"/api/v1/catalog/items/{laptop.pk}/").json()
    assert body["name"] == "Laptop" and body["category"] == "Hardware" and body["approval"] == "manager"
    assert body["variables"][0] == {
        "name": "model",
        "label": "Model",
        "type": "choice",
        "required": True,
        "choices": ["Standard", "Developer"],
        "help_text": "",
        "default": "",
        "order": 1,
    }
    assert body["tasks"] == [
        {"short_description": "Prepare laptop", "assignment_group": "service-desk", "order": 1},
        {"short_description": "Hand over", "assignment_group": "service-desk", "order": 2},
    ]
    new = {
        "name": "Phone",
        "category": "Hardware",
        "description": "A phone",
        "approval": "none",
        "variables": [{"name": "colour", "label": "Colour", "type": "choice", "choices": ["Black"]}],
        "tasks": [{"short_description": "Ship phone", "assignment_group": "service-desk"}],
    }
    assert api_client(requester).post("/api/v1/catalog/items/", new, format="json").status_code == 403
    created = api_client(admin_user).post("/api/v1/catalog/items/", new, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["tasks"][0]["assignment_group"] == "service-desk"
    bad = api_client(admin_user).post(
        "/api/v1/catalog/items/", {**new, "name": "Tablet", "approval": "group"}, format="json"
    )
    assert bad.status_code == 400 and "approval_group" in bad.json()
    assert not CatalogItem.objects.filter(name="Tablet").exists()


@pytest.mark.django_db
def test_order_via_api_names_each_bad_variable(api_client, laptop, requester):
    client = api_client(requester)
    response = client.post(
        "/api/v1/requests/",
        {"catalog_item": laptop.pk, "variables": {"model": "Gaming", "needed_by": "tomorrow"}},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["variables"]
    assert set(errors) == {"model", "needed_by", "justification"}
    assert "YYYY-MM-DD" in errors["needed_by"][0]
    assert client.get("/api/v1/requests/").json()["count"] == 0

    created = client.post(
        "/api/v1/requests/", {"catalog_item": laptop.pk, "variables": GOOD_LAPTOP}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["number"].startswith("REQ") and body["state"] == "pending_approval"
    assert body["short_description"] == "Laptop" and body["variables"]["needed_by"] == "2027-01-15"


@pytest.mark.django_db
def test_an_agent_orders_for_a_group_and_assignee_of_their_choice(api_client, category, agent, make_group):
    """The request serializer takes `assignment_group` and `assigned_to` from agents; the create service
    used to refuse them with a TypeError (a 500, found by the fuzz run)."""
    hardware = make_group("hardware", members=[agent])
    mouse = CatalogItem.objects.create(name="Mouse", category=category)
    created = api_client(agent).post(
        "/api/v1/requests/",
        {
            "catalog_item": mouse.pk,
            "assignment_group": "hardware",
            "assigned_to": agent.username,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["assignment_group"] == hardware.name
    assert created.json()["assigned_to"] == agent.username
    outsider = api_client(agent).post(
        "/api/v1/requests/",
        {"catalog_item": mouse.pk, "assignment_group": "nobody-here"},
        format="json",
    )
    assert outsider.status_code == 400 and "assignment_group" in outsider.json()


@pytest.mark.django_db
def test_approve_through_the_approvals_api(api_client, laptop, requester, manager, agent):
    request = services.request_create(actor=requester, catalog_item=laptop, variables=GOOD_LAPTOP)
    [row] = api_client(manager).get("/api/v1/approvals/").json()["results"]
    assert row["record"]["number"] == request.number
    # The requester is not the approver: the approval does not exist for them.
    assert api_client(requester).post(f"/api/v1/approvals/{row['id']}/approve/").status_code == 404
    ok = api_client(manager).post(f"/api/v1/approvals/{row['id']}/approve/", {"comment": "Go"}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == "approved"
    again = api_client(manager).post(f"/api/v1/approvals/{row['id']}/reject/", format="json")
    assert again.status_code == 400 and "already approved" in again.json()["state"][0]
    # The manager may read the request they approved; the requester follows its tasks.
    assert api_client(manager).get(f"/api/v1/requests/{request.number}/").status_code == 200
    tasks = api_client(requester).get(f"/api/v1/requests/{request.number}/").json()["tasks"]
    assert [t["short_description"] for t in tasks] == ["Prepare laptop", "Hand over"]
    agent_client = api_client(agent)
    for task in tasks:
        moved = agent_client.post(
            f"/api/v1/tasks/{task['number']}/transition/", {"to": "done"}, format="json"
        )
        assert moved.status_code == 200, moved.json()
    assert agent_client.get(f"/api/v1/requests/{request.number}/").json()["state"] == "fulfilled"
    hand = agent_client.post(
        f"/api/v1/requests/{request.number}/transition/", {"to": "approved"}, format="json"
    )
    assert hand.status_code == 400
    assert agent_client.post("/api/v1/tasks/", {"short_description": "x"}, format="json").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", [5, 50])
def test_list_endpoints_have_a_fixed_query_count(
    api_client, vpn, requester, agent, django_assert_max_num_queries, page_size
):
    for _ in range(6):
        services.request_create(actor=requester, catalog_item=vpn, variables={})
    client = api_client(agent)
    for url in ("/api/v1/requests/", "/api/v1/tasks/", "/api/v1/catalog/items/", "/api/v1/approvals/"):
        with django_assert_max_num_queries(10):
            response = client.get(url, {"page_size": page_size})
        assert response.status_code == 200
    assert client.get("/api/v1/requests/", {"page_size": page_size}).json()["count"] == 6
