"""Single sign-on against a real OpenID Connect provider: django-oauth-toolkit in a second Django process
(tests/identity/provider, started by tests/identity/oidc_provider.py). The suite is driven with Django's
test client; the provider's pages with an HTTP client, as a browser would (its login form, its redirects).
The browser version of the happy path is tests/e2e/test_sso_login.py."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.identity.oidc import FAILED_MESSAGE, INACTIVE_MESSAGE
from accounts.models import IdentitySource, User
from accounts.roles import role_names
from accounts.services import issue_token

from .oidc_provider import PASSWORD, OidcProvider

pytestmark = pytest.mark.django_db
CALLBACK = "http://testserver/accounts/sso/callback/"


@pytest.fixture(scope="module")
def provider():
    server = OidcProvider([CALLBACK], post_logout_redirect_uris=["http://testserver/accounts/login/"]).start()
    yield server
    server.stop()


@pytest.fixture
def sso(provider, settings, make_group):
    provider.configure(settings)
    make_group("network")
    return provider


def start(client: Client) -> str:
    """Press "Sign in with …": the provider's authorize URL we are sent to."""
    response = client.get("/accounts/sso/login/")
    assert response.status_code == 302
    return response["Location"]


def through_provider(authorize_url: str, username: str = "sam", password: str = PASSWORD) -> str:
    """Sign in on the provider's own pages; return where it sends the browser back (our callback)."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        response = browser.get(authorize_url)
        assert response.status_code == 302, response.text
        login_url = urljoin(authorize_url, response.headers["location"])
        form = browser.get(login_url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        next_url = parse_qs(urlparse(login_url).query)["next"][0]
        response = browser.post(
            login_url,
            data={"username": username, "password": password, "csrfmiddlewaretoken": token, "next": next_url},
        )
        assert response.status_code == 302, "the provider refused the test user's password"
        response = browser.get(urljoin(login_url, response.headers["location"]))
        assert response.status_code == 302, response.text
        return response.headers["location"]


def come_back(client: Client, callback_url: str):
    assert callback_url.startswith(CALLBACK), callback_url
    parts = urlparse(callback_url)
    return client.get(parts.path, parse_qs(parts.query))


def refused(client: Client, response, message: str = FAILED_MESSAGE) -> bool:
    assert response.status_code == 302 and response["Location"] == "/accounts/login/", response
    page = client.get("/accounts/login/").content.decode()
    assert message in page
    return "_auth_user_id" not in client.session


def test_the_authorization_request_uses_pkce_state_and_nonce(sso):
    url = start(Client())
    query = parse_qs(urlparse(url).query)
    assert url.startswith(sso.discovery()["authorization_endpoint"])
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert query["scope"] == ["openid email profile"]


def test_an_agent_signs_in_and_lands_in_the_workspace_with_mapped_role_and_group(sso):
    client = Client()
    response = come_back(client, through_provider(start(client), "sam"))
    assert response.status_code == 302 and response["Location"] == "/"
    sam = User.objects.get(username="sam")
    assert sam.identity_source == IdentitySource.OIDC and sam.external_id
    assert (sam.email, sam.first_name, sam.last_name) == ("sam@example.org", "Sam", "Sato")
    assert not sam.has_usable_password()
    assert role_names(sam) == {"requester", "agent"}
    assert list(sam.assignment_groups.values_list("name", flat=True)) == ["network"]
    assert client.get("/", follow=True).redirect_chain[-1][0] == "/workspace/"


def test_a_requester_lands_in_the_portal_and_is_matched_by_subject_next_time(sso):
    client = Client()
    come_back(client, through_provider(start(client), "rita"))
    assert client.get("/", follow=True).redirect_chain[-1][0].startswith("/portal/")
    rita = User.objects.get(username="rita")
    rita.email = "changed-locally@example.org"  # the subject still finds her
    rita.save()
    again = Client()
    come_back(again, through_provider(start(again), "rita"))
    assert User.objects.filter(identity_source=IdentitySource.OIDC).count() == 1
    rita.refresh_from_db()
    assert rita.email == "rita@example.org"  # refreshed from the claims


def test_an_existing_local_user_is_matched_by_email(sso, make_user):
    local = make_user("rita.ruiz", email="rita@example.org")
    client = Client()
    come_back(client, through_provider(start(client), "rita"))
    assert int(client.session["_auth_user_id"]) == local.pk
    local.refresh_from_db()
    assert local.identity_source == IdentitySource.OIDC


def test_a_tampered_state_is_refused(sso):
    client = Client()
    callback = through_provider(start(client))
    forged = re.sub(r"state=[^&]+", "state=forged-state", callback)
    assert refused(client, come_back(client, forged))
    assert not User.objects.filter(username="sam").exists()


def test_a_tampered_nonce_is_refused(sso):
    client = Client()
    authorize = start(client)
    state = parse_qs(urlparse(authorize).query)["state"][0]
    session = client.session
    session["oidc_states"][state]["nonce"] = "forged-nonce"
    session.save()
    assert refused(client, come_back(client, through_provider(authorize)))
    assert not User.objects.filter(username="sam").exists()


def test_a_replayed_callback_is_refused(sso):
    client = Client()
    callback = through_provider(start(client))
    come_back(client, callback)
    other = Client()
    assert refused(other, come_back(other, callback))


def test_an_unknown_issuer_is_refused(sso, settings):
    settings.OIDC_OP_ISSUER = "https://idp.example.com/o"  # the token says the test provider issued it
    client = Client()
    assert refused(client, come_back(client, through_provider(start(client))))


def test_a_provider_that_cannot_be_reached_gives_a_message_not_a_500(sso, settings):
    client = Client()
    callback = through_provider(start(client))
    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:1/o/token/"
    assert refused(client, come_back(client, callback))


def test_a_deactivated_user_is_refused(sso):
    client = Client()
    come_back(client, through_provider(start(client), "rita"))
    User.objects.filter(username="rita").update(is_active=False)
    again = Client()
    assert refused(again, come_back(again, through_provider(start(again), "rita")), INACTIVE_MESSAGE)
    # The session opened before the deactivation ends too.
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")


def test_sign_out_ends_the_provider_session_too(sso):
    client = Client()
    come_back(client, through_provider(start(client)))
    id_token = client.session["oidc_id_token"]
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == sso.discovery()["end_session_endpoint"]
    query = parse_qs(location.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    assert "_auth_user_id" not in client.session
    # The provider accepts the end-session request and sends the browser back to our login page.
    answer = httpx.get(response["Location"], follow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["location"] == "http://testserver/accounts/login/"


def test_the_login_page_offers_the_provider(sso):
    page = Client().get("/accounts/login/").content.decode()
    assert "Sign in with Example IdP" in page


def test_without_configuration_the_sso_routes_are_404(settings):
    settings.OIDC_RP_CLIENT_ID = ""
    client = Client()
    assert client.get("/accounts/sso/login/").status_code == 404
    assert client.get("/accounts/sso/callback/?code=x&state=y").status_code == 404
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()


def test_sso_required_leaves_local_passwords_to_break_glass_admins_and_tokens_working(settings, make_user):
    settings.SSO_REQUIRED = True
    settings.SSO_BREAK_GLASS_USERS = ["root-admin"]
    make_user("root-admin", roles=["admin"])
    worker = make_user("worker")
    token = issue_token(user=worker, name="integration")
    client = Client()
    response = client.post("/accounts/login/", {"username": "worker", "password": "pw"})
    assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "root-admin", "password": "pw"})
    assert response.status_code == 302
    api = APIClient()
    assert (
        api.post("/api/v1/auth/token/", {"username": "worker", "password": "pw"}, format="json").status_code
        == 401
    )
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/incidents/").status_code == 200


@pytest.fixture(scope="module")
def short_lived_provider():
    server = OidcProvider([CALLBACK], code_ttl=1).start()
    yield server
    server.stop()


def test_an_expired_code_is_refused(short_lived_provider, settings, make_group):
    short_lived_provider.configure(settings)
    client = Client()
    callback = through_provider(start(client))
    time.sleep(2.5)
    assert refused(client, come_back(client, callback))
    assert not User.objects.filter(username="sam").exists()


def test_the_admin_page_tests_the_provider(sso, settings, make_user):
    admin = Client()
    admin.force_login(make_user("ssoadmin", roles=["admin"]))
    page = admin.post("/accounts/identity/", {"action": "test_provider"}).content.decode()
    assert "Connection works" in page and "publishes 1 signing key(s)" in page
    assert settings.OIDC_RP_CLIENT_SECRET not in page
    settings.OIDC_OP_ISSUER = "http://127.0.0.1:1/o"  # nothing listens there
    page = admin.post("/accounts/identity/", {"action": "test_provider"}).content.decode()
    assert "Connection failed" in page and "could not be read" in page
    settings.OIDC_OP_ISSUER = sso.issuer
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{sso.url}/elsewhere/"
    page = admin.post("/accounts/identity/", {"action": "test_provider"}).content.decode()
    assert "OIDC_OP_TOKEN_ENDPOINT differs" in page
