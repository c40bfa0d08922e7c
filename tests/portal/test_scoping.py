"""A second requester walks every portal URL and every requests/tasks/approvals API endpoint and finds
nothing of the first requester's: 404 on each record, absent from each list and search."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core import approvals
from incidents.services import incident_create
from requests_app import services
from tests.requests_app.conftest import GOOD_LAPTOP


def _patterns(prefix: str):
    """(name, route with <...> kwargs) of every URL under `prefix` (e.g. "portal:")."""
    namespace = prefix.rstrip(":")
    resolver = get_resolver().namespace_dict[namespace][1]

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield pattern

    yield from walk(resolver.url_patterns)


@pytest.fixture
def first_records(requester, manager, laptop, vpn, agent):
    waiting = services.request_create(actor=requester, catalog_item=laptop, variables=GOOD_LAPTOP)
    done = services.request_create(actor=requester, catalog_item=vpn, variables={})
    for task in done.tasks.all():
        services.task_transition(task, to="done", actor=agent)
    incident = incident_create(actor=requester, short_description="My screen flickers")
    approval = approvals.pending_for(manager).get()
    return {
        "REQ": [waiting.number, done.number],
        "TASK": list(done.tasks.values_list("number", flat=True)),
        "INC": [incident.number],
        "approval": approval.pk,
    }


def _numbers(records):
    return records["REQ"] + records["TASK"] + records["INC"]


@pytest.mark.django_db
def test_portal_urls_hide_other_requesters_records(client, other_requester, first_records):
    client.force_login(other_requester)
    numbers = _numbers(first_records)
    visited = 0
    for pattern in _patterns("portal:"):
        keys = set(pattern.pattern.converters)
        if not keys:
            for url in [reverse(f"portal:{pattern.name}")]:
                for query in ("", "?show=all&q=laptop", "?q=REQ&short_description=screen"):
                    response = client.get(url + query)
                    assert response.status_code in (200, 405), url
                    text = response.content.decode()
                    assert not any(n in text for n in numbers), f"{url} shows another requester's ticket"
                    visited += 1
            continue
        if keys == {"number"}:
            for number in first_records["REQ"] + first_records["INC"]:
                url = reverse(f"portal:{pattern.name}", kwargs={"number": number})
                assert client.get(url).status_code in (404, 405), url
                assert client.post(url, {"body": "hi", "rating": 5}).status_code == 404, url
                visited += 1
        elif pattern.name == "catalog-item":
            continue  # the catalog is the same for everyone
        else:
            # The only other id-addressed portal URL is the approval decision; a new one must be added here.
            assert (pattern.name, keys) == ("approval-decide", {"pk"}), pattern.name
            url = reverse("portal:approval-decide", kwargs={"pk": first_records["approval"]})
            assert client.post(url, {"decision": "approve"}).status_code == 404
            visited += 1
    assert visited >= 10
    assert approvals.pending_for(other_requester).count() == 0
    assert approvals.Approval.objects.get(pk=first_records["approval"]).state == "pending"


@pytest.mark.django_db
def test_api_endpoints_hide_other_requesters_records(api_client, other_requester, first_records):
    client = api_client(other_requester)
    for resource, prefix in (("requests", "REQ"), ("tasks", "TASK")):
        listing = client.get(f"/api/v1/{resource}/", {"page_size": 100})
        assert listing.status_code == 200 and listing.json()["count"] == 0
        for number in first_records[prefix]:
            assert client.get(f"/api/v1/{resource}/", {"search": number}).json()["count"] == 0
            base = f"/api/v1/{resource}/{number}/"
            assert client.get(base).status_code == 404
            assert client.patch(base, {"description": "x"}, format="json").status_code == 404
            assert client.put(base, {"short_description": "x"}, format="json").status_code == 404
            assert client.post(base + "transition/", {"to": "canceled"}, format="json").status_code == 404
            for action in ("comments", "attachments", "timeline"):
                assert client.get(base + action + "/").status_code == 404, base + action
            assert client.post(base + "comments/", {"body": "x"}, format="json").status_code == 404
            assert client.post(base + "attachments/", {}, format="multipart").status_code == 404
            assert client.post(base + "apply_macro/", {"macro": 1}, format="json").status_code == 404
    pk = first_records["approval"]
    assert client.get("/api/v1/approvals/").json()["count"] == 0
    assert client.get(f"/api/v1/approvals/{pk}/").status_code == 404
    for verb in ("approve", "reject"):
        assert (
            client.post(f"/api/v1/approvals/{pk}/{verb}/", {"comment": "x"}, format="json").status_code == 404
        )
    # Every detail route of the resources above was exercised: compare with the router.
    routes = {
        p.name
        for p in _patterns("api:")
        if p.name and re.match(r"^(request|task|approval)-", p.name) and "number" in p.pattern.converters
    }
    assert routes <= {
        "request-detail",
        "request-transition",
        "request-comments",
        "request-attachments",
        "request-timeline",
        "request-apply-macro",
        "task-detail",
        "task-transition",
        "task-comments",
        "task-attachments",
        "task-timeline",
        "task-apply-macro",
    }, routes
