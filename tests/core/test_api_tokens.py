"""Personal access tokens (SPEC §9): named, scoped, expiring, hashed, listed and revoked."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from core.models import Attachment
from incidents.services import incident_create
from tests.api_tokens import token_client

pytestmark = pytest.mark.django_db
TOKENS = "/api/v1/auth/tokens/"


def _sign_in(user, **extra) -> str:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": "pw", **extra}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_signing_in_twice_keeps_both_tokens_working(agent):
    first, second = _sign_in(agent), _sign_in(agent, name="cron", scope="read")
    assert first != second and first.startswith("itsm_pat_")
    for key in (first, second):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get("/api/v1/incidents/").status_code == 200
    assert sorted(ApiToken.objects.values_list("name", "scope")) == [("cron", "read"), ("default", "write")]


def test_create_shows_the_key_once_and_stores_only_a_keyed_hash(agent):
    client = token_client(agent)
    response = client.post(TOKENS, {"name": "Zabbix", "scope": "read"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    key = body["key"]
    assert key.startswith("itsm_pat_") and len(key) == 49
    assert body["name"] == "Zabbix" and body["scope"] == "read" and body["last_used_at"] is None
    assert timezone.now() + timedelta(days=89) < timezone.datetime.fromisoformat(body["expires_at"])
    listed = client.get(TOKENS).json()
    assert {row["name"] for row in listed} == {"Zabbix", "test-write"}
    assert all(row["key"] is None for row in listed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        stored = repr(cursor.fetchall())
    assert key not in stored and key[9:] not in stored
    import hashlib

    assert hashlib.sha256(key.encode()).hexdigest() not in stored  # keyed (HMAC), not a bare hash


def test_bad_token_input_names_the_field(agent):
    client = token_client(agent)
    past = (timezone.now() - timedelta(days=1)).isoformat()
    response = client.post(TOKENS, {"name": "x", "expires_at": past}, format="json")
    assert response.status_code == 400 and "expires_at" in response.json()
    response = client.post(TOKENS, {"name": "x", "scope": "admin"}, format="json")
    assert response.status_code == 400 and "scope" in response.json()
    response = client.post(TOKENS, {"name": "x", "expires_at": None}, format="json")
    assert response.status_code == 201 and response.json()["expires_at"] is None


def test_last_used_at_is_recorded_by_the_authenticating_statement(agent, django_assert_num_queries):
    client = token_client(agent)
    with django_assert_num_queries(1):  # the API root: authentication (and its last-used stamp) only
        assert client.get("/api/v1/").status_code == 200
    token = ApiToken.objects.get(pk=client.token.pk)
    assert token.last_used_at is not None
    assert client.get(TOKENS).json()[0]["last_used_at"] is not None


def test_read_token_is_refused_every_write(agent, admin_user):
    incident = incident_create(actor=agent, short_description="Printer on fire")
    read = token_client(agent, scope="read")
    base = f"/api/v1/incidents/{incident.number}/"
    assert read.get(base).status_code == 200
    assert read.get(base + "comments/").status_code == 200
    writes = [
        ("post", "/api/v1/incidents/", {"short_description": "x"}, "json"),
        ("patch", base, {"short_description": "y"}, "json"),
        ("post", base + "transition/", {"to": "in_progress"}, "json"),
        ("post", base + "comments/", {"body": "hello"}, "json"),
        ("post", base + "attachments/", {"file": SimpleUploadedFile("a.txt", b"a")}, "multipart"),
        ("post", "/api/v1/integrations/alertmanager/", {"version": "4", "alerts": []}, "json"),
        ("post", TOKENS, {"name": "escalate"}, "json"),
    ]
    for method, url, data, fmt in writes:
        response = getattr(read, method)(url, data, format=fmt)
        assert response.status_code == 403, (url, response.status_code)
        assert "read-only" in response.json().get("detail", "") or "read-only" in str(response.json())
    incident.refresh_from_db()
    assert incident.short_description == "Printer on fire" and incident.state == "new"
    assert not Attachment.objects.exists()
    admin_read = token_client(admin_user, scope="read")
    assert admin_read.delete(f"{TOKENS}{read.token.pk}/").status_code == 403


def test_revoke_stops_the_token_at_once_and_only_the_owner_or_an_admin_may(agent, other_agent, admin_user):
    mine, other = token_client(agent), token_client(other_agent)
    assert other.delete(f"{TOKENS}{mine.token.pk}/").status_code == 404
    assert other.get(f"{TOKENS}?user={agent.username}").json()[0]["name"] == "test-write"
    assert {row["user"] for row in other.get(f"{TOKENS}?user={agent.username}").json()} == {"agent2"}
    admin = token_client(admin_user)
    listed = admin.get(f"{TOKENS}?user={agent.username}").json()
    assert [row["id"] for row in listed] == [mine.token.pk]
    spare = token_client(agent)
    assert mine.delete(f"{TOKENS}{spare.token.pk}/").status_code == 204
    assert spare.get("/api/v1/incidents/").status_code == 401
    assert admin.delete(f"{TOKENS}{mine.token.pk}/").status_code == 204
    response = mine.get("/api/v1/incidents/")
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."
    assert other.get("/api/v1/incidents/").status_code == 200


def test_deactivated_users_tokens_stop_at_once(agent, admin_user):
    client = token_client(agent)
    assert client.get("/api/v1/incidents/").status_code == 200
    assert token_client(admin_user).delete(f"/api/v1/users/{agent.username}/").status_code == 204
    assert client.get("/api/v1/incidents/").status_code == 401


def test_profile_page_creates_lists_and_revokes(client, requester):
    client.force_login(requester)
    response = client.post("/accounts/tokens/", {"name": "laptop", "scope": "read", "expires_in_days": "30"})
    assert response.status_code == 200
    key = response.context["created"].key
    assert key in response.content.decode()
    page = client.get("/accounts/tokens/").content.decode()
    assert "laptop" in page and key not in page and "Read only" in page
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/incidents/").status_code == 200
    token = ApiToken.objects.get(name="laptop")
    assert token.expires_at.date() == (timezone.now() + timedelta(days=30)).date()
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert "revoked" in response.content.decode()
    assert api.get("/api/v1/incidents/").status_code == 401


def test_profile_page_cannot_revoke_someone_elses(client, requester, agent):
    victim = token_client(agent)
    client.force_login(requester)
    assert client.post(f"/accounts/tokens/{victim.token.pk}/revoke/").status_code == 404
    assert victim.get("/api/v1/incidents/").status_code == 200
