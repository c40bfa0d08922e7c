"""Building the catalog through the API alone: categories, items with forms, approvals and tasks."""

import pytest

from requests_app.models import CatalogCategory
from tests.api_tokens import token_client

pytestmark = pytest.mark.django_db
CATEGORIES = "/api/v1/catalog/categories/"


def test_an_admin_builds_a_catalog_that_a_requester_orders(admin_user, requester, service_desk, make_group):
    network = make_group("network", members=[admin_user])
    admin = token_client(admin_user)
    response = admin.post(CATEGORIES, {"name": "Access", "icon": "key", "order": 20}, format="json")
    assert response.status_code == 201, response.content
    category = response.json()
    assert category == {
        "id": category["id"],
        "name": "Access",
        "description": "",
        "icon": "key",
        "order": 20,
        "active": True,
        "items": 0,
    }
    item = {
        "name": "VPN access",
        "category": "Access",
        "description": "Remote access to the office network",
        "approval": "group",
        "approval_group": "network",
        "fulfillment_group": "service-desk",
        "order": 5,
        "variables": [
            {"name": "reason", "label": "Why do you need it?", "type": "text", "required": True},
            {
                "name": "os",
                "label": "Your laptop",
                "type": "choice",
                "choices": ["Windows", "macOS", "Linux"],
            },
        ],
        "tasks": [{"short_description": "Create the VPN profile", "assignment_group": "network"}],
    }
    response = admin.post("/api/v1/catalog/items/", item, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["fulfillment_group"], created["order"]) == ("service-desk", 5)
    assert admin.get(f"{CATEGORIES}{category['id']}/").json()["items"] == 1

    shopper = token_client(requester)
    assert [c["name"] for c in shopper.get(CATEGORIES).json()] == ["Access"]
    response = shopper.post(
        "/api/v1/requests/",
        {"catalog_item": created["id"], "variables": {"reason": "Travel", "os": "Linux"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "pending_approval"
    assert network.pk


def test_category_rules(admin_user, requester, agent):
    admin, reader = token_client(admin_user), token_client(requester)
    assert reader.post(CATEGORIES, {"name": "Sneaky"}, format="json").status_code == 403
    assert token_client(agent).post(CATEGORIES, {"name": "Sneaky"}, format="json").status_code == 403
    assert (
        token_client(admin_user, scope="read").post(CATEGORIES, {"name": "x"}, format="json").status_code
        == 403
    )
    assert admin.post(CATEGORIES, {"name": ""}, format="json").json().keys() == {"name"}
    hardware = admin.post(CATEGORIES, {"name": "Hardware"}, format="json").json()
    assert admin.post(CATEGORIES, {"name": "Hardware"}, format="json").json().keys() == {"name"}
    admin.post(
        "/api/v1/catalog/items/", {"name": "Mouse", "category": "Hardware", "approval": "none"}, format="json"
    )
    # A shelf with items is deactivated, not deleted; an empty one may go.
    response = admin.delete(f"{CATEGORIES}{hardware['id']}/")
    assert response.status_code == 409 and "active" in response.json()["detail"]
    assert admin.patch(f"{CATEGORIES}{hardware['id']}/", {"active": False}, format="json").status_code == 200
    assert reader.get(CATEGORIES).json() == []
    assert reader.get(f"{CATEGORIES}{hardware['id']}/").status_code == 404
    assert reader.get("/api/v1/catalog/items/").json()["count"] == 0
    assert [c["name"] for c in admin.get(f"{CATEGORIES}?active=false").json()] == ["Hardware"]
    empty = admin.post(CATEGORIES, {"name": "Empty"}, format="json").json()
    assert admin.delete(f"{CATEGORIES}{empty['id']}/").status_code == 204
    assert not CatalogCategory.objects.filter(name="Empty").exists()


def test_category_list_has_a_fixed_query_count(admin_user, django_assert_num_queries):
    admin = token_client(admin_user)
    for n in range(5):
        CatalogCategory.objects.create(name=f"Shelf {n}")
    admin.get(CATEGORIES)
    with django_assert_num_queries(2):  # the token (user, roles), the categories with their counts
        assert len(admin.get(CATEGORIES).json()) == 5
