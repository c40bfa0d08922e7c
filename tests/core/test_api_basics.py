"""API plumbing: tokens, JSON errors, pagination, attachments, health; bad input changes nothing."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import issue_token
from core.models import Attachment
from incidents.models import Incident
from incidents.services import incident_create

pytestmark = pytest.mark.django_db


def test_token_endpoint_issues_a_working_token(agent):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": agent.username, "password": "pw"}, format="json"
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/incidents/").status_code == 200


def test_wrong_password_is_a_clear_401_and_issues_nothing(agent):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": agent.username, "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid username or password."}
    assert not ApiToken.objects.exists()


def test_expired_token_says_it_expired(agent, settings):
    token = issue_token(user=agent)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=user).key}")
    return client


def test_token_authentication_reads_user_and_roles_in_one_query(agent, requester, django_assert_num_queries):
    """The token, its user and the user's roles come from one statement (accounts.authentication), and
    the roles are the user's real ones: an agent sees every incident, a requester only their own."""
    incident_create(actor=agent, short_description="Agent's own")
    incident_create(actor=requester, short_description="Requester's own")
    agent_client, requester_client = _token_client(agent), _token_client(requester)
    with django_assert_num_queries(1):  # the API root: authentication is its only query
        assert agent_client.get("/api/v1/").status_code == 200
    assert agent_client.get("/api/v1/incidents/").json()["count"] == 2
    assert requester_client.get("/api/v1/incidents/").json()["count"] == 1


def test_the_user_read_with_the_token_equals_the_orm_user(make_user, service_desk):
    """accounts.authentication reads the user by raw SQL: every field must come out as the ORM gives it."""
    from accounts.authentication import user_for_token
    from accounts.models import User

    boss = make_user("boss")
    user = make_user(
        "filled",
        roles=["agent", "cab_member"],
        groups=[service_desk],
        manager=boss,
        phone="+33 1 23",
        department="IT",
        time_zone="Europe/Paris",
        first_name="Ann",
    )
    user.last_login = timezone.now()
    user.save()
    token = issue_token(user=user)
    found, found_token, roles = user_for_token(token.key)
    expected = User.objects.get(pk=user.pk)
    for field in User._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert (found_token.pk, found_token.scope, found_token.expires_at) == (
        token.pk,
        "write",
        token.expires_at,
    )
    assert sorted(roles) == ["agent", "cab_member"]
    assert not found._state.adding and user_for_token("no-such-key") is None


def test_token_of_an_inactive_or_unknown_user_is_refused(agent):
    client = _token_client(agent)
    agent.is_active = False
    agent.save()
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."
    client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


def test_role_changes_apply_to_the_next_token_request(agent, requester):
    """Roles are read with the token on every request, never cached across requests."""
    from django.contrib.auth.models import Group

    incident_create(actor=agent, short_description="Agent's own")
    client = _token_client(requester)
    assert client.get("/api/v1/incidents/").json()["count"] == 0
    requester.groups.add(Group.objects.get(name="agent"))
    assert client.get("/api/v1/incidents/").json()["count"] == 1
    requester.groups.clear()
    assert client.get("/api/v1/incidents/").json()["count"] == 0


def test_malformed_json_is_a_400_and_creates_nothing(api_client, agent):
    response = api_client(agent).post(
        "/api/v1/incidents/", data='{"short_description": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert Incident.objects.count() == 0


def test_validation_errors_name_the_field(api_client, agent):
    response = api_client(agent).post("/api/v1/incidents/", {"impact": 9}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"short_description", "impact"}


def test_state_and_priority_cannot_be_written_directly(api_client, agent):
    """Read-only fields are refused by name (issue 26), not silently dropped."""
    response = api_client(agent).post(
        "/api/v1/incidents/", {"short_description": "x", "state": "closed", "priority": 1}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"state", "priority"}
    assert not Incident.objects.filter(short_description="x").exists()


def test_page_size_is_capped_at_500(api_client, agent):
    incident_create(actor=agent, short_description="one")
    response = api_client(agent).get("/api/v1/incidents/?page_size=100000")
    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}


@override_settings(ATTACHMENT_MAX_BYTES=1024)
def test_oversized_attachment_is_refused(api_client, agent):
    incident = incident_create(actor=agent, short_description="logs")
    upload = SimpleUploadedFile("big.log", b"x" * 2048, content_type="text/plain")
    response = api_client(agent).post(
        f"/api/v1/incidents/{incident.number}/attachments/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "too large" in response.json()["file"][0]
    assert not Attachment.objects.exists()


def test_disallowed_attachment_type_is_refused(api_client, agent):
    incident = incident_create(actor=agent, short_description="logs")
    upload = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    response = api_client(agent).post(
        f"/api/v1/incidents/{incident.number}/attachments/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "not allowed" in response.json()["file"][0]
    assert not Attachment.objects.exists()


def test_attachment_downloads_as_attachment_with_nosniff_and_only_for_viewers(
    api_client, agent, requester, other_requester, client
):
    incident = incident_create(actor=requester, short_description="screenshot")
    upload = SimpleUploadedFile("../../evil.html.txt", b"<script>alert(1)</script>", content_type="text/html")
    response = api_client(requester).post(
        f"/api/v1/incidents/{incident.number}/attachments/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["filename"] == "evil.html.txt"
    assert body["content_type"] == "text/plain"
    client.force_login(requester)
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    client.force_login(other_requester)
    assert client.get(body["download_url"]).status_code == 404


def test_requester_gets_404_for_someone_elses_incident(api_client, requester, other_requester):
    incident = incident_create(actor=requester, short_description="mine")
    client = api_client(other_requester)
    assert client.get(f"/api/v1/incidents/{incident.number}/").status_code == 404
    assert client.get(f"/api/v1/incidents/{incident.number}/timeline/").status_code == 404
    assert (
        client.post(
            f"/api/v1/incidents/{incident.number}/comments/", {"body": "hi"}, format="json"
        ).status_code
        == 404
    )
    assert client.get("/api/v1/incidents/").json()["count"] == 0


def test_requester_cannot_write_work_notes_or_see_them(api_client, agent, requester):
    incident = incident_create(actor=requester, short_description="mine")
    assert (
        api_client(agent)
        .post(
            f"/api/v1/incidents/{incident.number}/comments/",
            {"body": "internal", "public": False},
            format="json",
        )
        .status_code
        == 201
    )
    client = api_client(requester)
    assert client.get(f"/api/v1/incidents/{incident.number}/comments/").json() == []
    response = client.post(
        f"/api/v1/incidents/{incident.number}/comments/", {"body": "x", "public": False}, format="json"
    )
    assert response.status_code == 400 and "public" in response.json()


def test_users_api_is_admin_only_and_never_shows_passwords(api_client, agent, admin_user):
    assert api_client(agent).get("/api/v1/users/").status_code == 403
    response = api_client(admin_user).get("/api/v1/users/")
    assert response.status_code == 200
    assert all("password" not in row for row in response.json()["results"])


def test_admin_sets_roles_through_the_users_api(api_client, admin_user):
    response = api_client(admin_user).post(
        "/api/v1/users/",
        {"username": "newbie", "password": "A-long-passphrase-42", "roles": ["agent"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "agent" in response.json()["roles"]


def test_health_reports_database_and_redis(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok" and body["redis"] == "ok" and body["worker"] in {"ok", "stale"}
    name, duration = response["Server-Timing"].split(";dur=")
    assert name == "health" and 0 <= float(duration) < 1000


def test_openapi_schema_renders(api_client, agent):
    response = api_client(agent).get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/incidents/" in response.content


def test_a_server_error_under_the_api_is_json_and_elsewhere_the_styled_page(rf):
    from core.api.views import server_error

    api = server_error(rf.get("/api/v1/incidents/"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
    assert "logged" in json.loads(api.content)["detail"]
    page = server_error(rf.get("/incidents/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
