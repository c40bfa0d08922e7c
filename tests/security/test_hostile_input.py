"""Input that used to answer 500, lock everyone out or bloat every list (issue 26), sent to every endpoint.

The endpoints come from the OpenAPI schema itself, so a new list or a new integer field is covered without
editing this file.
"""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator

from core.api.parsers import nesting_depth
from core.limits import TEXT_MAX_LENGTH
from incidents.models import Incident
from incidents.services import incident_create

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
UNICODE_DIGITS = ["¹", "٣", "²³", "9" * 40]


def list_operations() -> list[tuple[str, list[dict]]]:
    """(path, query parameters) of every GET list without path parameters."""
    found = []
    for path, item in SCHEMA["paths"].items():
        get = item.get("get")
        if get is None or "{" in path:
            continue
        found.append((path, get.get("parameters", [])))
    return found


def integer_body_fields() -> list[tuple[str, str, str]]:
    """(path, method, field) for every writable integer field of every request body."""
    components = SCHEMA["components"]["schemas"]
    found = []
    for path, item in SCHEMA["paths"].items():
        if "{" in path:
            continue
        for method in ("post",):
            operation = item.get(method)
            if operation is None:
                continue
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = content.get("schema", {}).get("$ref", "")
            body = components.get(ref.rsplit("/", 1)[-1], {})
            for name, prop in (body.get("properties") or {}).items():
                if prop.get("type") == "integer" and not prop.get("readOnly"):
                    found.append((path, method, name))
    return found


@pytest.fixture
def admin_client(api_client, admin_user):
    return api_client(admin_user)


@pytest.mark.django_db
class TestNoServerErrors:
    @pytest.mark.parametrize(
        "path,parameters", list_operations(), ids=lambda v: v if isinstance(v, str) else ""
    )
    def test_unicode_digits_in_search_and_every_filter(self, admin_client, path, parameters):
        names = {p["name"] for p in parameters if p.get("in") == "query"} | {"search"}
        for name in sorted(names):
            for value in UNICODE_DIGITS:
                response = admin_client.get(path, {name: value})
                assert response.status_code < 500, (path, name, value, response.status_code)

    @pytest.mark.parametrize("path,method,field", integer_body_fields())
    def test_integer_overflow_is_a_400_not_a_500(self, admin_client, path, method, field):
        for value in (2**31, 2**63, -(2**63) - 1):
            response = getattr(admin_client, method)(path, {field: value}, format="json")
            assert response.status_code < 500, (path, field, value, response.status_code)

    def test_sla_duration_is_bounded_in_the_schema_and_the_api(self, admin_client):
        definition = SCHEMA["components"]["schemas"]["DefinitionRequest"]["properties"]["duration"]
        assert definition["maximum"] < 2**31
        response = admin_client.post(
            "/api/v1/sla/definitions/",
            {"name": "Too long", "applies_to": "incident", "target": "resolution", "duration": 2**31},
            format="json",
        )
        assert response.status_code == 400
        assert "duration" in response.json()


@pytest.mark.django_db
class TestJSONBodies:
    deep = "[" * 1000 + "]" * 1000

    def test_deeply_nested_body_is_a_400_everywhere_even_unauthenticated(self, api_client, agent):
        anonymous = api_client(None).post(
            "/api/v1/auth/token/", data=self.deep, content_type="application/json"
        )
        assert anonymous.status_code == 400
        assert "nested deeper" in anonymous.json()["detail"]
        signed_in = api_client(agent).post(
            "/api/v1/incidents/", data=self.deep, content_type="application/json"
        )
        assert signed_in.status_code == 400

    def test_brackets_inside_strings_do_not_count(self, api_client, agent):
        text = "[[[[{{{{" * 50
        assert nesting_depth(json.dumps({"short_description": "x", "description": text}).encode()) == 1
        response = api_client(agent).post(
            "/api/v1/incidents/", {"short_description": "Brackets", "description": text}, format="json"
        )
        assert response.status_code == 201, response.json()

    @override_settings(API_JSON_MAX_BYTES=1000)
    def test_body_over_the_limit_is_a_413(self, api_client, agent):
        body = json.dumps({"short_description": "big", "description": "x" * 2000})
        response = api_client(agent).post("/api/v1/incidents/", data=body, content_type="application/json")
        assert response.status_code == 413
        assert "larger than 1000 bytes" in response.json()["detail"]
        assert not Incident.objects.filter(short_description="big").exists()


@pytest.mark.django_db
class TestTextLimits:
    def test_description_over_the_limit_is_refused_by_name_in_api_and_schema(self, api_client, requester):
        schema_field = SCHEMA["components"]["schemas"]["IncidentRequest"]["properties"]["description"]
        assert schema_field["maxLength"] == TEXT_MAX_LENGTH
        response = api_client(requester).post(
            "/api/v1/incidents/",
            {"short_description": "Long", "description": "x" * (TEXT_MAX_LENGTH + 1)},
            format="json",
        )
        assert response.status_code == 400
        assert "description" in response.json()

    def test_comment_over_the_limit_is_refused(self, api_client, requester):
        incident = incident_create(actor=requester, short_description="Comment target")
        response = api_client(requester).post(
            f"/api/v1/incidents/{incident.number}/comments/",
            {"body": "y" * (TEXT_MAX_LENGTH + 1), "public": True},
            format="json",
        )
        assert response.status_code == 400
        assert "body" in response.json()

    def test_portal_form_refuses_an_over_long_description(self, client, requester):
        client.force_login(requester)
        response = client.post(
            "/portal/report/",
            {"short_description": "Too long", "description": "z" * (TEXT_MAX_LENGTH + 1), "urgency": 3},
        )
        assert response.status_code == 200  # the form again, with the error
        assert not Incident.objects.filter(short_description="Too long").exists()

    def test_a_list_of_fifty_long_descriptions_stays_small(self, api_client, agent):
        for index in range(50):
            incident_create(actor=agent, short_description=f"Long {index}", description="word " * 4000)
        response = api_client(agent).get("/api/v1/incidents/?page_size=50")
        assert response.status_code == 200
        assert len(response.json()["results"]) == 50
        assert len(response.content) < 100_000
        first = response.json()["results"][0]
        assert first["description"].endswith("…") and len(first["description"]) <= 281
        detail = api_client(agent).get(f"/api/v1/incidents/{first['number']}/").json()
        assert len(detail["description"]) == len("word " * 4000)


@pytest.mark.django_db
class TestAdminSelfProtection:
    def test_admin_cannot_delete_deactivate_or_demote_themselves(self, api_client, admin_user, make_user):
        make_user("admin2", roles=["admin"])  # not the last admin: the refusal is about acting on oneself
        client = api_client(admin_user)
        url = f"/api/v1/users/{admin_user.username}/"
        assert client.delete(url).status_code == 409
        assert client.patch(url, {"is_active": False}, format="json").status_code == 409
        admin_user.is_superuser = False
        admin_user.save()
        response = client.patch(url, {"roles": ["agent"]}, format="json")
        assert response.status_code == 409
        assert "your own" in response.json()["detail"]
        admin_user.refresh_from_db()
        assert admin_user.is_active
        assert admin_user.groups.filter(name="admin").exists()

    def test_another_admin_can_be_deactivated_but_not_the_last_one(self, api_client, admin_user, make_user):
        from accounts.services import user_save

        second = make_user("admin2", roles=["admin"])
        assert api_client(admin_user).delete(f"/api/v1/users/{second.username}/").status_code == 204
        second.refresh_from_db()
        assert not second.is_active
        from core.exceptions import Conflict

        with pytest.raises(Conflict, match="last active admin"):
            user_save(actor=None, instance=admin_user, data={"is_active": False})

    def test_admin_page_refuses_self_deactivation(self, client, admin_user):
        client.force_login(admin_user)
        url = f"/admin/accounts/user/{admin_user.pk}/change/"
        form = client.get(url).context["adminform"].form
        data = {name: value for name, value in form.initial.items() if value is not None}
        data.update(
            {
                "username": admin_user.username,
                "is_superuser": "",
                "is_active": "",
                "date_joined_0": "2026-01-01",
                "date_joined_1": "00:00:00",
                "time_zone": "UTC",
            }
        )
        data.pop("groups", None)
        data.pop("user_permissions", None)
        data.pop("password", None)
        data.pop("last_login", None)
        data.pop("date_joined", None)
        response = client.post(url, data)
        assert response.status_code == 200
        assert "your own" in response.content.decode()
        admin_user.refresh_from_db()
        assert admin_user.is_active and admin_user.is_superuser
        assert client.get(f"/admin/accounts/user/{admin_user.pk}/delete/").status_code == 403


@pytest.mark.django_db
class TestRequesterPriority:
    def test_requester_sets_urgency_but_not_impact(self, api_client, requester):
        incident = incident_create(actor=requester, short_description="My laptop")
        client = api_client(requester)
        url = f"/api/v1/incidents/{incident.number}/"
        refused = client.patch(url, {"impact": 1, "urgency": 1}, format="json")
        assert refused.status_code == 400
        assert "impact" in refused.json()
        incident.refresh_from_db()
        assert incident.impact == 3 and incident.urgency == 3
        accepted = client.patch(url, {"urgency": 1}, format="json")
        assert accepted.status_code == 200, accepted.json()
        incident.refresh_from_db()
        assert incident.urgency == 1 and incident.impact == 3
        assert incident.priority > 1  # impact 3 with urgency 1 is not a priority 1

    def test_agent_sets_impact(self, api_client, requester, agent):
        incident = incident_create(actor=requester, short_description="Outage")
        response = api_client(agent).patch(
            f"/api/v1/incidents/{incident.number}/", {"impact": 1, "urgency": 1}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["priority"] == 1


@pytest.mark.django_db
class TestNothingSilentlyIgnored:
    @pytest.mark.parametrize("value", ["abc", "0", "-3", "¹", "2.5"])
    def test_bad_page_size_is_a_400_naming_it(self, api_client, agent, value):
        response = api_client(agent).get("/api/v1/incidents/", {"page_size": value})
        assert response.status_code == 400
        assert "page_size" in response.json()

    def test_page_size_over_the_cap_is_served_at_the_cap(self, api_client, agent):
        response = api_client(agent).get("/api/v1/incidents/", {"page_size": "100000"})
        assert response.status_code == 200

    @pytest.mark.parametrize(
        "path,name",
        [
            ("/api/v1/users/", "is_active"),
            ("/api/v1/incidents/", "major"),
            ("/api/v1/problems/", "known_error"),
        ],
    )
    def test_bad_boolean_filter_is_a_400_and_good_ones_filter(
        self, api_client, admin_user, make_user, path, name
    ):
        client = api_client(admin_user)
        bad = client.get(path, {name: "maybe"})
        assert bad.status_code == 400
        assert name in bad.json()
        for value in ("true", "false", "1", "0"):
            assert client.get(path, {name: value}).status_code == 200

    def test_boolean_filters_filter(self, api_client, admin_user, make_user):
        make_user("gone", is_active=False)
        client = api_client(admin_user)
        inactive = [
            row["username"] for row in client.get("/api/v1/users/", {"is_active": "false"}).json()["results"]
        ]
        assert inactive == ["gone"]

    def test_patching_read_only_fields_is_a_400_naming_them(self, api_client, agent):
        incident = incident_create(actor=agent, short_description="Read-only target")
        client = api_client(agent)
        url = f"/api/v1/incidents/{incident.number}/"
        response = client.patch(
            url, {"number": "INC9999999", "state": "closed", "priority": 1}, format="json"
        )
        assert response.status_code == 400
        assert set(response.json()) == {"number", "state", "priority"}
        assert "transition" in response.json()["state"][0]
        incident.refresh_from_db()
        assert incident.state == "new"

    def test_sending_back_what_was_read_is_accepted(self, api_client, agent):
        incident = incident_create(actor=agent, short_description="Round trip")
        client = api_client(agent)
        url = f"/api/v1/incidents/{incident.number}/"
        body = client.get(url).json()
        body["short_description"] = "Round trip, edited"
        body.pop("configuration_items")
        response = client.put(url, body, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["short_description"] == "Round trip, edited"


@pytest.mark.django_db
def test_calendar_patch_with_incomplete_rows_is_a_400(api_client, admin_user):
    client = api_client(admin_user)
    created = client.post(
        "/api/v1/sla/calendars/",
        {"name": "Office", "time_zone": "UTC", "hours": [{"weekday": 0, "start": "09:00", "end": "17:00"}]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    url = f"/api/v1/sla/calendars/{created.json()['id']}/"
    for body in ({"hours": [{"weekday": 1}]}, {"holidays": [{"name": "x", "end_date": "2027-01-02"}]}):
        response = client.patch(url, body, format="json")
        assert response.status_code == 400, response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path,body,field",
    [
        ("comments/", {"body": "fine", "public": 0}, "public"),
        ("comments/", {"body": 7, "public": True}, "body"),
        ("transition/", {"to": "canceled", "note": 0}, "note"),
        ("", {"short_description": 12}, "short_description"),
    ],
)
def test_json_values_keep_their_types(api_client, agent, path, body, field):
    incident = incident_create(actor=agent, short_description="Typed")
    client = api_client(agent)
    url = f"/api/v1/incidents/{incident.number}/{path}"
    response = client.patch(url, body, format="json") if not path else client.post(url, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
