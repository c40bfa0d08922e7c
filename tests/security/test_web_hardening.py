"""Attack replays against the web layer: headers, CSRF, open redirects, brute force, enumeration,
mass assignment, template injection."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from incidents.models import Incident
from incidents.services import incident_create

pytestmark = pytest.mark.django_db


def test_security_headers_on_pages_and_api(client, agent):
    client.force_login(agent)
    for url in ("/accounts/login/", "/workspace/", "/api/v1/incidents/"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"


def test_session_writes_need_csrf(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post(
        "/api/v1/incidents/", {"short_description": "csrf"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_login_rotates_the_session_key(client, agent):
    client.get("/accounts/login/")
    client.cookies["sessionid"] = "attacker-chosen"
    client.post("/accounts/login/", {"username": agent.username, "password": "pw"})
    assert client.cookies["sessionid"].value != "attacker-chosen"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_never_redirects_off_site(client, agent, target):
    response = client.post(f"/accounts/login/?next={target}", {"username": agent.username, "password": "pw"})
    assert response.status_code == 302
    assert response["Location"].startswith("/") and not response["Location"].startswith("//")
    assert "evil" not in response["Location"] and "javascript" not in response["Location"]


def test_login_failures_do_not_reveal_whether_the_account_exists(client, agent):
    known = client.post("/accounts/login/", {"username": agent.username, "password": "wrong"})
    unknown = client.post("/accounts/login/", {"username": "no-such-user", "password": "wrong"})
    assert known.status_code == unknown.status_code == 200
    assert known.context["form"].errors == unknown.context["form"].errors


def test_password_reset_does_not_reveal_accounts(client, agent):
    known = client.post("/accounts/password/reset/", {"email": agent.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1


ATTACKER = "203.0.113.50"


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("serial")
def test_fifty_parallel_wrong_passwords_lock_the_account_then_refuse_even_the_right_one(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 10
    from accounts import throttling

    throttling.clear("victim", ATTACKER)  # only this test's counters: other workers share the Redis
    user = make_user("victim")

    def attempt(index: int) -> bool:
        try:
            # The attacker's own address: other tests' sign-ins from 127.0.0.1 never touch its counter.
            response = Client(REMOTE_ADDR=ATTACKER).post(
                "/api/v1/auth/token/", {"username": "victim", "password": f"guess{index}"}
            )
            return response.status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, range(50)))
    assert set(statuses) <= {401, 429}
    # Attempts are counted atomically before the password is checked: at most LOGIN_MAX_FAILURES guesses
    # reach the password check, however many run in parallel. (The username and address counters are each
    # atomic but not as a pair, so under contention one guess fewer may get through; never one more.)
    assert 1 <= statuses.count(401) <= 10
    assert statuses.count(429) == 50 - statuses.count(401)
    # The locked account refuses even the right password, from any address.
    right = Client().post("/api/v1/auth/token/", {"username": user.username, "password": "pw"})
    assert right.status_code == 429
    throttling.clear("victim", ATTACKER)


def test_mass_assignment_on_create_and_update_is_ignored_or_refused(api_client, requester, agent):
    client = api_client(requester)
    response = client.post(
        "/api/v1/incidents/",
        {
            "short_description": "mine",
            "state": "closed",
            "priority": 1,
            "opened_by": agent.username,
            "number": "INC9999999",
            "version": 99,
        },
        format="json",
    )
    assert response.status_code == 400  # read-only fields are refused by name, not dropped (issue 26)
    assert set(response.json()) == {"state", "priority", "opened_by", "number", "version"}
    response = client.post("/api/v1/incidents/", {"short_description": "mine"}, format="json")
    body = response.json()
    assert body["state"] == "new" and body["priority"] == 5
    assert body["opened_by"] == requester.username and body["version"] == 1


def test_requester_cannot_link_an_incident_they_cannot_see_as_parent(api_client, requester, other_requester):
    hidden = incident_create(actor=other_requester, short_description="not yours")
    response = api_client(requester).post(
        "/api/v1/incidents/", {"short_description": "mine", "parent": hidden.number}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()


def test_template_syntax_in_user_text_stays_literal(client, agent):
    incident = incident_create(
        actor=agent, short_description="{{7*7}} {% debug %}", description="{{ request.user }}"
    )
    client.force_login(agent)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "{{7*7}}" in page and "49" not in page.split("{{7*7}}")[0][-5:]
    assert "{% debug %}" in page
