"""Directory sign-in against a real OpenLDAP (a private slapd, tests/identity/slapd.py): first sign-in,
attribute and group refresh, disabled and removed accounts, the nightly sync, bad credentials and bad
input. Nothing is mocked; where a test must prove that no directory query happened, it counts the
connections python-ldap opens (a spy around the real `ldap.initialize`)."""

from __future__ import annotations

import ldap
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.identity import directory as identity_directory
from accounts.identity.sync import sync_directory
from accounts.models import ApiToken, IdentitySource, User
from accounts.roles import role_names
from accounts.services import issue_token
from accounts.tasks import sync_directory as sync_task

from .conftest import dn, group_dn

pytestmark = pytest.mark.django_db


def sign_in(username: str, password: str, client: Client | None = None):
    client = client or Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return client, response


def signed_in(response) -> bool:
    return response.status_code == 302 and "/accounts/login/" not in response["Location"]


@pytest.fixture
def connections(monkeypatch):
    """How many LDAP connections the code under test opened (the real ldap.initialize, counted)."""
    opened: list[str] = []
    real = ldap.initialize

    def counting(uri, *args, **kwargs):
        opened.append(uri)
        return real(uri, *args, **kwargs)

    monkeypatch.setattr(ldap, "initialize", counting)
    return opened


def test_first_sign_in_creates_the_user_with_profile_manager_roles_and_groups(directory):
    client, response = sign_in("alice", "alice-password")
    assert signed_in(response)
    alice = User.objects.get(username="alice")
    assert (alice.first_name, alice.last_name, alice.email) == ("Alice", "Archer", "alice@example.org")
    assert (alice.phone, alice.department) == ("+33 1 00 00 00 02", "Service Desk")
    assert alice.identity_source == IdentitySource.LDAP
    assert alice.external_id == dn("alice")
    assert not alice.has_usable_password()
    # Her manager never signed in: brought in from the directory, with his own profile.
    assert alice.manager.username == "bob"
    assert alice.manager.email == "bob@example.org"
    assert role_names(alice) == {"requester", "agent"}
    assert list(alice.assignment_groups.values_list("name", flat=True)) == ["network"]
    # An agent lands in the workspace, like any local agent.
    assert client.get("/", follow=True).redirect_chain[-1][0] == "/workspace/"


def test_a_requester_from_the_directory_lands_in_the_portal_with_the_manager_chain(directory):
    client, response = sign_in("carol", "carol-password")
    assert signed_in(response)
    carol = User.objects.get(username="carol")
    assert role_names(carol) == {"requester"}
    assert carol.manager.username == "alice"
    assert carol.manager.manager.username == "bob"  # the chain, followed up
    assert client.get("/", follow=True).redirect_chain[-1][0].startswith("/portal/")


def test_a_group_change_in_the_directory_changes_the_role_at_next_sign_in(directory):
    sign_in("alice", "alice-password")
    alice = User.objects.get(username="alice")
    # A role given by hand, outside the mapping, must survive the refresh.
    alice.groups.add(Group.objects.get(name="cab_member"))
    directory.modify(group_dn("itsm-agents"), [(ldap.MOD_DELETE, "member", [dn("alice").encode()])])
    directory.modify(group_dn("itsm-admins"), [(ldap.MOD_ADD, "member", [dn("alice").encode()])])
    directory.modify(group_dn("network-team"), [(ldap.MOD_DELETE, "member", [dn("alice").encode()])])
    directory.modify(dn("alice"), [(ldap.MOD_REPLACE, "departmentNumber", [b"Platform"])])

    _, response = sign_in("alice", "alice-password")
    assert signed_in(response)
    alice = User.objects.get(username="alice")
    assert role_names(alice) == {"requester", "admin", "cab_member"}
    assert not alice.assignment_groups.exists()
    assert alice.department == "Platform"


def test_a_disabled_account_is_refused(directory):
    _, response = sign_in("dave", "dave-password")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert not User.objects.filter(username="dave").exists()


def test_an_account_disabled_after_first_sign_in_cannot_sign_in_again(directory):
    sign_in("carol", "carol-password")
    directory.modify(dn("carol"), [(ldap.MOD_ADD, "employeeType", [b"disabled"])])
    _, response = sign_in("carol", "carol-password")
    assert not signed_in(response)


def test_wrong_password_and_unknown_user_are_refused_the_same_way(directory):
    for username, password in [("alice", "wrong"), ("nobody", "whatever")]:
        _, response = sign_in(username, password)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()


def test_the_sync_deactivates_a_removed_user_and_their_tokens_and_updates_the_rest(directory):
    sign_in("alice", "alice-password")
    sign_in("carol", "carol-password")
    carol = User.objects.get(username="carol")
    token = issue_token(user=carol, name="script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/incidents/").status_code == 200

    directory.delete(dn("carol"))
    directory.modify(group_dn("network-team"), [(ldap.MOD_DELETE, "member", [dn("alice").encode()])])
    directory.modify(dn("alice"), [(ldap.MOD_REPLACE, "telephoneNumber", [b"+33 1 99 99 99 99"])])

    report = sync_directory()
    assert report.error == ""
    assert report.deactivated == ["carol"]
    assert report.tokens_revoked == 1
    assert set(report.updated["alice"]) == {"phone", "assignment_groups"}
    assert "bob" not in report.updated and report.unchanged == 1
    carol.refresh_from_db()
    assert not carol.is_active
    assert not ApiToken.objects.filter(user=carol).exists()
    assert api.get("/api/v1/incidents/").status_code == 401
    assert User.objects.get(username="alice").phone == "+33 1 99 99 99 99"
    # Run again: nothing left to change.
    again = sync_directory()
    assert (again.updated, again.deactivated, again.unchanged) == ({}, [], 2)


def test_a_deactivated_users_token_stops_at_once(directory):
    sign_in("carol", "carol-password")
    carol = User.objects.get(username="carol")
    token = issue_token(user=carol, name="script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/incidents/").status_code == 200
    directory.modify(dn("carol"), [(ldap.MOD_ADD, "employeeType", [b"disabled"])])
    sync_directory()
    assert api.get("/api/v1/incidents/").status_code == 401


def test_the_command_and_the_celery_task_report_what_changed(directory, capsys):
    sign_in("carol", "carol-password")
    directory.delete(dn("carol"))
    call_command("sync_directory")
    out = capsys.readouterr().out
    assert "1 deactivated (0 API tokens revoked)" in out
    assert "deactivated carol: no longer in the directory" in out
    result = sync_task.delay().get()
    assert result["deactivated"] == [] and result["error"] == ""


def test_a_sync_that_cannot_read_the_directory_deactivates_nobody(directory, settings):
    sign_in("carol", "carol-password")
    settings.LDAP_BIND_PASSWORD = "wrong"
    report = sync_directory()
    assert "refused the service account" in report.error
    assert User.objects.get(username="carol").is_active
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="did not run"):
        call_command("sync_directory")


def test_wrong_bind_credentials_never_give_a_500_on_login(directory, settings):
    settings.LDAP_BIND_PASSWORD = "wrong"
    _, response = sign_in("alice", "alice-password")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    settings.LDAP_SERVER_URI = "ldap://127.0.0.1:1"  # nothing listens there
    _, response = sign_in("alice", "alice-password")
    assert response.status_code == 200


def test_filter_characters_in_the_username_are_escaped(directory, connections):
    # Unescaped, `al*` would match alice and her password would open her account.
    for username in ["al*", "*", "alice)(uid=*", "*)(|(uid=*", "alice\\2a"]:
        _, response = sign_in(username, "alice-password")
        assert not signed_in(response), username
    assert connections, "these names are legal and must reach the directory (escaped)"
    assert not User.objects.exists()
    # A real account whose uid holds filter characters signs in: the escaping is exact, not a refusal.
    _, response = sign_in("pat(ops)*", "pat-password")
    assert signed_in(response)
    assert User.objects.get(username="pat(ops)*").external_id == dn("pat(ops)*")


def test_malformed_or_overlong_names_are_refused_without_a_directory_query(directory, connections):
    from django.contrib.auth import authenticate

    for username in ["a" * 151, "a" * 5000, "alice\x00", "alice\nbob", "alice\tx"]:
        assert authenticate(None, username=username, password="alice-password") is None
        _, response = sign_in(username, "alice-password")
        assert response.status_code == 200
    # The login form trims surrounding spaces (the same name); the backend itself refuses them.
    for username in [" alice", "alice "]:
        assert authenticate(None, username=username, password="alice-password") is None
    assert connections == []


def test_login_throttling_counts_directory_sign_ins(directory, settings):
    from django.core.cache import cache

    settings.LOGIN_MAX_FAILURES = 3
    cache.delete_many(["login-attempts:user:alice", "login-attempts:addr:127.0.0.1"])
    client = Client()
    for _ in range(3):
        _, response = sign_in("alice", "wrong", client)
        assert "Please enter a correct username" in response.content.decode()
    _, response = sign_in("alice", "alice-password", client)
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not User.objects.filter(username="alice").exists()  # refused before the directory was asked
    cache.delete_many(["login-attempts:user:alice", "login-attempts:addr:127.0.0.1"])


def test_directory_users_get_api_tokens_with_their_directory_password(directory):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "alice", "password": "alice-password"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["token"].startswith("itsm_pat_")


def test_look_up_user_and_check_connection(directory, settings):
    check = identity_directory.check_connection()
    assert check.ok, check.message
    assert "4 users and 4 groups found" in check.message  # dave is filtered out as disabled
    lookup = identity_directory.look_up_user("alice")
    assert lookup.ok
    assert lookup.roles == ["agent", "requester"]
    assert lookup.assignment_groups == ["network"]
    assert lookup.manager_dn == dn("bob")
    assert not User.objects.exists()  # a look-up creates nobody
    assert not identity_directory.look_up_user("dave").ok
    settings.LDAP_BIND_PASSWORD = "wrong"
    check = identity_directory.check_connection()
    assert not check.ok and "wrong bind DN or password" in check.message
    assert "wrong" not in check.message.replace("wrong bind", "")


def test_the_manager_from_the_directory_approves_the_request(directory):
    from core.models import Approval
    from requests_app.models import CatalogCategory, CatalogItem

    category = CatalogCategory.objects.create(name="Hardware")
    item = CatalogItem.objects.create(
        name="Monitor", category=category, approval="manager", description="A screen"
    )
    carol, _ = sign_in("carol", "carol-password")
    response = carol.post(
        "/api/v1/requests/", {"catalog_item": item.pk, "variables": {}}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    approval = Approval.objects.get()
    assert approval.approver.username == "alice"  # carol's manager in the directory
    alice, _ = sign_in("alice", "alice-password")
    mine = alice.get("/api/v1/approvals/").json()
    assert mine["count"] == 1
    decided = alice.post(f"/api/v1/approvals/{approval.pk}/approve/", {}, content_type="application/json")
    assert decided.status_code == 200, decided.content


def test_groups_that_cannot_be_read_refuse_the_sign_in_without_a_500(directory, settings):
    settings.LDAP_GROUP_BASE_DN = "ou=missing,dc=example,dc=org"
    _, response = sign_in("alice", "alice-password")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_a_directory_users_session_ends_when_they_are_deactivated(directory):
    client, _ = sign_in("carol", "carol-password")
    assert client.get("/portal/").status_code == 200
    directory.delete(dn("carol"))
    sync_directory()
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")
