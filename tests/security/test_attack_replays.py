"""Attack replays: IDOR on derived actions, privilege escalation through the users API, stored XSS in every
ticket text field, upload tricks, state-changing GETs, CORS with credentials, mail header injection."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core import approvals as core_approvals
from core import services as core_services
from core.approvals import Approval
from core.models import Activity, Attachment
from incidents.services import incident_create
from problems.models import Problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def hidden_problem(agent, requester):
    """A known error with a workaround that only agents (and its watcher, the requester) may see."""
    return core_services.create_ticket(
        Problem,
        actor=agent,
        fields={"short_description": "Hidden", "workaround": "Reboot", "known_error": True},
        watchers=[requester],
    )


def test_derived_actions_on_a_hidden_problem_are_404_and_change_nothing(
    api_client, make_user, hidden_problem, requester, other_requester
):
    incident = incident_create(actor=other_requester, short_description="Mine")
    km = make_user("km1", roles=["knowledge_manager"])
    base = f"/api/v1/problems/{hidden_problem.number}/"
    for user in (other_requester, km):
        client = api_client(user)
        body = {"incidents": [incident.number]}
        assert client.post(base + "link_incidents/", body, format="json").status_code == 404
        assert client.post(base + "publish_known_error/", format="json").status_code == 404
        assert client.post(base + "comments/", {"body": "x"}, format="json").status_code == 404
        assert client.post(base + "transition/", {"to": "canceled"}, format="json").status_code == 404
        upload = SimpleUploadedFile("a.txt", b"x", "text/plain")
        assert client.post(base + "attachments/", {"file": upload}, format="multipart").status_code == 404
    incident.refresh_from_db()
    hidden_problem.refresh_from_db()
    assert incident.problem_id is None and hidden_problem.state == "new"
    assert not Activity.objects.filter(object_id=hidden_problem.pk, kind="comment").exists()
    assert not Attachment.objects.exists()
    # The web forms too.
    web = Client()
    web.force_login(km)
    for suffix in ("link-incidents/", "publish-known-error/", "comment/", "watch/", "transition/canceled/"):
        assert (
            web.post(
                f"/problems/{hidden_problem.number}/{suffix}", {"incidents": incident.number}
            ).status_code
            == 404
        )


def test_someone_elses_approval_cannot_be_decided(api_client, make_user, requester, other_requester):
    from changes.models import Change

    cab, outsider = make_user("cab1", roles=["cab_member"]), make_user("cab2", roles=["cab_member"])
    manager = make_user("cm1", roles=["change_manager"])
    change = core_services.create_ticket(Change, actor=manager, fields={"short_description": "Swap disks"})
    change.cab_approvers.set([cab])
    approval = core_approvals.request_approvals(change, approvers=[cab], actor=manager)[0]
    for user in (outsider, other_requester, manager):
        client = api_client(user)
        assert client.post(f"/api/v1/approvals/{approval.pk}/approve/", {}, format="json").status_code == 404
        assert client.post(f"/api/v1/approvals/{approval.pk}/reject/", {}, format="json").status_code == 404
    web = Client()
    web.force_login(outsider)
    assert web.post(f"/requests/approvals/{approval.pk}/decide/", {"decision": "approve"}).status_code == 404
    assert web.post(f"/portal/approvals/{approval.pk}/decide/", {"decision": "approve"}).status_code == 404
    web.post(f"/changes/{change.number}/approve/decide/", {})
    assert Approval.objects.get(pk=approval.pk).state == "pending"


def test_users_api_refuses_self_promotion_and_unknown_roles(api_client, agent, admin_user):
    client = api_client(agent)
    for payload in ({"roles": ["admin"]}, {"is_superuser": True}, {"is_staff": True}):
        assert client.patch(f"/api/v1/users/{agent.username}/", payload, format="json").status_code in (
            403,
            404,
        )
    agent.refresh_from_db()
    assert not agent.is_superuser and not agent.is_staff
    assert set(agent.groups.values_list("name", flat=True)) == {"agent"}
    admin = api_client(admin_user)
    response = admin.patch(f"/api/v1/users/{agent.username}/", {"roles": ["overlord"]}, format="json")
    assert response.status_code == 400 and "roles" in response.json()
    assert set(agent.groups.values_list("name", flat=True)) == {"agent"}


XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "[click](javascript:alert(1))",
    "<a href='javascript:alert(1)'>x</a>",
    "</textarea><script>alert(1)</script>",
]


class _Inspector(HTMLParser):
    """Collects what an injected payload could turn into: script tags, event handlers, js: URLs."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>")
            if name in ("href", "src", "action", "formaction") and value.startswith(
                ("javascript:", "data:text")
            ):
                self.problems.append(f"<{tag} {name}={value}>")
        if tag == "script" and not dict(attrs).get("src"):
            self.problems.append("inline <script>")


def _inert(html: str) -> list[str]:
    inspector = _Inspector()
    inspector.feed(html)
    return inspector.problems


def test_stored_xss_in_ticket_texts_is_inert_in_agent_and_portal_pages(client, agent, requester):
    incidents = []
    for payload in XSS:
        incident = incident_create(actor=requester, short_description=payload[:200], description=payload)
        core_services.add_comment(incident, actor=agent, body=payload, public=True)
        incidents.append(incident)
    client.force_login(agent)
    pages = ["/incidents/?view=all", *[f"/incidents/{i.number}/" for i in incidents]]
    portal = Client()
    portal.force_login(requester)
    checked = 0
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200
        assert _inert(response.content.decode()) == [], page
        checked += 1
    for page in ["/portal/tickets/", *[f"/portal/tickets/{i.number}/" for i in incidents]]:
        response = portal.get(page)
        assert response.status_code == 200
        assert _inert(response.content.decode()) == [], page
        checked += 1
    print(f"\nstored XSS: {len(XSS)} payloads x 3 fields, {checked} pages parsed")


def test_upload_tricks_are_stored_harmlessly(api_client, requester, agent):
    incident = incident_create(actor=requester, short_description="Uploads")
    client = api_client(requester)
    url = f"/api/v1/incidents/{incident.number}/attachments/"
    tricks = [
        ("x.php.png", b"<?php system($_GET['c']); ?>", "image/png"),
        (
            "pic.svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "image/svg+xml",
        ),
        ("report.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
        ("../../../etc/passwd.txt", b"root:x:0:0", "text/plain"),
        ("..\\..\\win.ini.txt", b"[fonts]", "text/plain"),
    ]
    web = Client()
    web.force_login(requester)
    for name, content, content_type in tricks:
        response = client.post(
            url, {"file": SimpleUploadedFile(name, content, content_type)}, format="multipart"
        )
        if response.status_code == 400:
            continue  # refused outright
        assert response.status_code == 201, (name, response.content)
        attachment = Attachment.objects.get(pk=response.json()["id"])
        assert (
            "/" not in attachment.filename
            and "\\" not in attachment.filename
            and ".." not in attachment.file.name
        )
        download = web.get(f"/attachments/{attachment.pk}/download/")
        assert download.status_code == 200
        assert download["Content-Type"] == "application/octet-stream"
        assert download["X-Content-Type-Options"] == "nosniff"
        assert download["Content-Disposition"].startswith("attachment")


def test_gets_on_write_urls_write_nothing(client, agent, requester):
    incident = incident_create(actor=requester, short_description="GET me")
    client.force_login(agent)
    before = Activity.objects.count()
    for suffix in ("comment/", "attachments/", "watch/", "transition/in_progress/"):
        client.get(f"/incidents/{incident.number}/{suffix}?body=x&watching=1")
    assert Activity.objects.count() == before
    incident.refresh_from_db()
    assert incident.state == "new" and not incident.watchers.exists()


def test_cors_never_echoes_an_evil_origin_with_credentials(client, agent):
    client.force_login(agent)
    for url in ("/api/v1/incidents/", "/api/v1/auth/token/", "/incidents/"):
        for method in (client.get, client.options):
            response = method(
                url, HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
            )
            assert response.get("Access-Control-Allow-Origin") in (None, ""), url
            assert response.get("Access-Control-Allow-Credentials") in (None, ""), url


def test_header_injection_through_api_updates_and_comments(
    api_client, agent, requester, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_create(actor=requester, short_description="Quiet")
    client = api_client(agent)
    evil = "Update\r\nBcc: victim@example.com\r\nX-Injected: 1"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(f"/api/v1/incidents/{incident.number}/", {"short_description": evil}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/incidents/{incident.number}/comments/", {"body": evil, "public": True}, format="json"
        )
    assert response.status_code == 201
    assert mail.outbox, "a public comment mails the caller"
    for sent in mail.outbox:
        message = sent.message()
        assert message["Bcc"] is None and message["X-Injected"] is None and sent.bcc == []
        assert "\n" not in sent.subject and "\r" not in sent.subject
