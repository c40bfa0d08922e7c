"""Enterprise identity in Chromium: single sign-on through a real OpenID Connect provider (a second
Django process, tests/identity/provider) into the workspace or the portal by role, sign-out at the
provider too; and the admins' "Sign-in and directory" page against a private slapd."""

from __future__ import annotations

import pytest

from accounts.models import IdentitySource, User
from tests.identity.conftest import directory, slapd  # noqa: F401 (fixtures)
from tests.identity.oidc_provider import PASSWORD, OidcProvider

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def provider(live_server):
    callback = f"{live_server.url}/accounts/sso/callback/"
    server = OidcProvider(
        [callback], post_logout_redirect_uris=[f"{live_server.url}/accounts/login/"]
    ).start()
    yield server
    server.stop()


@pytest.fixture
def sso(provider, settings, make_group):
    provider.configure(settings)
    make_group("network")
    return provider


def sign_in_with_provider(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with Example IdP").click()
    page.locator("#idp-username").fill(username)
    page.locator("#idp-password").fill(PASSWORD)
    page.locator("#idp-submit").click()
    page.wait_for_load_state("networkidle")


def test_an_agent_signs_in_through_the_provider_and_lands_in_the_workspace(page, sso, live_server):
    page.goto("/accounts/login/")
    page.screenshot(path="/tmp/i25_login_sso.png", full_page=True)
    sign_in_with_provider(page, "sam")
    assert page.url == f"{live_server.url}/workspace/"
    assert page.get_by_role("link", name="Incidents").count() >= 1
    sam = User.objects.get(username="sam")
    assert sam.identity_source == IdentitySource.OIDC

    # Sign out: our session ends, and so does the provider's: the next SSO sign-in asks for a password.
    page.get_by_label("Open user menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Sign in with Example IdP").click()
    page.locator("#idp-username").wait_for()
    assert page.url.startswith(sso.url)


def test_a_requester_signs_in_through_the_provider_and_lands_in_the_portal(page, sso, live_server):
    sign_in_with_provider(page, "rita")
    assert page.url.startswith(f"{live_server.url}/portal/")


def test_a_refused_sign_in_comes_back_to_the_login_page_with_a_message(page, sso, live_server, settings):
    settings.OIDC_OP_ISSUER = "https://idp.example.com/o"
    sign_in_with_provider(page, "sam")
    assert page.url == f"{live_server.url}/accounts/login/"
    assert "Single sign-on did not complete" in page.get_by_test_id("login-message").inner_text()


def test_the_admin_tests_the_directory_connection_and_a_user(page, login, make_user, directory, settings):  # noqa: F811
    admin = make_user("diradmin", roles=["admin"])
    login(page, admin)
    page.goto("/accounts/identity/")
    assert "Sign-in and directory" in page.title()
    settings_card = page.get_by_test_id("ldap-settings").inner_text()
    assert "reader-secret" not in page.content()  # never the bind password
    assert "Service account password" in settings_card and "set" in settings_card

    page.get_by_role("button", name="Test connection").click()
    assert "4 users and 4 groups found" in page.get_by_test_id("connection-result").inner_text()

    page.fill("input[name=username]", "alice")
    page.get_by_role("button", name="Look up").click()
    result = page.get_by_test_id("lookup-result").inner_text()
    assert "uid=alice,ou=people,dc=example,dc=org" in result and "agent, requester" in result
    page.screenshot(path="/tmp/i25_identity_page.png", full_page=True)

    settings.LDAP_BIND_PASSWORD = "not-the-password"
    page.get_by_role("button", name="Test connection").click()
    failure = page.get_by_test_id("connection-result").inner_text()
    assert "Connection failed" in failure and "wrong bind DN or password" in failure
    assert "not-the-password" not in page.content()
    page.screenshot(path="/tmp/i25_identity_page_error.png", full_page=True)
