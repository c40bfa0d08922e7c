"""The admins' "Sign-in and directory" page (/accounts/identity/) against the private slapd: who may see
it, the actions, and bad input answered with a message (never a 500, never the bind password)."""

from __future__ import annotations

import ldap
import pytest
from django.test import Client

from accounts.models import User

from .conftest import dn
from .slapd import SERVICE_PASSWORD

pytestmark = pytest.mark.django_db
URL = "/accounts/identity/"


@pytest.fixture
def admin_client(make_user):
    client = Client()
    client.force_login(make_user("idadmin", roles=["admin"]))
    return client


def test_only_admins_see_the_page(make_user):
    agent = Client()
    agent.force_login(make_user("someagent", roles=["agent"]))
    assert agent.get(URL).status_code == 404
    assert Client().get(URL).status_code == 302


def test_the_page_shows_the_configuration_without_secrets(directory, admin_client):
    page = admin_client.get(URL).content.decode()
    assert "Company directory (LDAP / Active Directory)" in page
    assert "itsm-agents" in page and "Role <strong>agent</strong>" in page
    assert SERVICE_PASSWORD not in page


def test_test_connection_reports_success_and_a_clear_failure(directory, admin_client, settings):
    page = admin_client.post(URL, {"action": "test_connection"}).content.decode()
    assert "Connection works" in page and "4 users and 4 groups found" in page
    settings.LDAP_BIND_PASSWORD = "definitely-wrong"
    response = admin_client.post(URL, {"action": "test_connection"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Connection failed" in page and "wrong bind DN or password" in page
    assert "definitely-wrong" not in page
    settings.LDAP_SERVER_URI = "ldap://127.0.0.1:1"
    page = admin_client.post(URL, {"action": "test_connection"}).content.decode()
    assert "Cannot reach the directory at ldap://127.0.0.1:1" in page
    settings.LDAP_USER_BASE_DN = "ou=nowhere,dc=example,dc=org"
    settings.LDAP_SERVER_URI = directory.uri
    settings.LDAP_BIND_PASSWORD = SERVICE_PASSWORD
    page = admin_client.post(URL, {"action": "test_connection"}).content.decode()
    assert "The base DN does not exist" in page


def test_test_a_user_shows_what_sign_in_would_give_and_creates_nobody(directory, admin_client):
    page = admin_client.post(URL, {"action": "test_user", "username": "carol"}).content.decode()
    assert dn("carol") in page and "Finance" in page and dn("alice") in page
    assert not User.objects.filter(username="carol").exists()
    page = admin_client.post(URL, {"action": "test_user", "username": "dave"}).content.decode()
    assert "No enabled account named" in page
    page = admin_client.post(URL, {"action": "test_user", "username": "*)(uid=*"}).content.decode()
    assert "No enabled account named" in page


def test_bad_input_is_a_message_not_a_500(directory, admin_client):
    response = admin_client.post(URL, {"action": "test_user", "username": "x" * 5000})
    assert response.status_code == 200
    assert "Ensure this value has at most 150 characters" in response.content.decode()
    response = admin_client.post(URL, {"action": "test_user", "username": "bad\x01name"})
    assert response.status_code == 200 and "control characters" in response.content.decode()
    assert admin_client.post(URL, {"action": "no-such-action"}).status_code == 200


def test_sync_now_shows_the_report(directory, admin_client):
    Client().post("/accounts/login/", {"username": "carol", "password": "carol-password"})
    directory.modify(dn("carol"), [(ldap.MOD_ADD, "employeeType", [b"disabled"])])
    page = admin_client.post(URL, {"action": "sync"}).content.decode()
    assert "deactivated carol: no longer in the directory" in page
    assert not User.objects.get(username="carol").is_active


def test_without_a_directory_the_actions_say_so(admin_client, settings):
    settings.LDAP_SERVER_URI = ""
    page = admin_client.post(URL, {"action": "test_connection"}).content.decode()
    assert "LDAP_SERVER_URI is empty" in page
    page = admin_client.post(URL, {"action": "sync"}).content.decode()
    assert "Directory sync did not run" in page
