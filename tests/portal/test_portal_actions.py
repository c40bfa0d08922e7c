"""What a requester can do on their own ticket (issue 21): read the resolution they are asked to rate,
reopen within the auto-close window, attach files, cancel what they no longer need."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import Attachment
from incidents.models import Incident
from incidents.services import incident_create, incident_transition
from requests_app.services import request_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(requester, agent):
    incident = incident_create(actor=requester, short_description="Printer offline")
    incident_transition(
        incident, to="resolved", actor=agent,
        fields={"resolution_code": "workaround", "resolution_notes": "Printed through the floor 2 queue"},
    )  # fmt: skip
    incident.refresh_from_db()
    return incident


def detail(client, record):
    return client.get(reverse("portal:ticket-detail", kwargs={"number": record.number}))


def test_resolution_is_shown_with_the_survey(client, requester, resolved):
    client.force_login(requester)
    page = detail(client, resolved).content.decode()
    assert "How it was resolved: Workaround" in page and "Printed through the floor 2 queue" in page
    assert 'data-testid="survey-form"' in page
    assert page.index('data-testid="resolution"') < page.index('data-testid="survey-form"')


def test_reopen_with_a_comment_within_the_window_only(client, requester, other_requester, resolved):
    url = reverse("portal:ticket-reopen", kwargs={"number": resolved.number})
    client.force_login(requester)
    assert 'data-testid="reopen"' in detail(client, resolved).content.decode()
    response = client.post(url, {"body": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = client.post(url, {"body": "Still offline after lunch"})
    assert response.status_code == 302
    resolved.refresh_from_db()
    assert resolved.state == "in_progress"
    assert resolved.activities.filter(kind="comment", body="Still offline after lunch").exists()
    # Past the auto-close window: refused, with a reason.
    incident_transition(
        resolved, to="resolved", actor=resolved.opened_by,
        fields={"resolution_code": "solved", "resolution_notes": "Fixed"},
    )  # fmt: skip
    Incident.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    assert 'data-testid="reopen"' not in detail(client, resolved).content.decode()
    response = client.post(url, {"body": "Again"})
    assert response.status_code == 400 and "can no longer be reopened" in response.content.decode()
    # Someone else's ticket: 404.
    client.force_login(other_requester)
    assert client.post(url, {"body": "Me too"}).status_code == 404


def test_attach_files_on_report_and_on_comments(client, requester):
    client.force_login(requester)
    shot = SimpleUploadedFile("error.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png")
    response = client.post(
        reverse("portal:report"),
        {"short_description": "Excel crashes", "description": "", "urgency": 3, "attachment": shot},
    )
    assert response.status_code == 302
    incident = Incident.objects.get(short_description="Excel crashes")
    assert list(Attachment.objects.filter(object_id=incident.pk).values_list("filename", flat=True)) == [
        "error.png"
    ]
    log = SimpleUploadedFile("crash.log", b"Faulting module", content_type="text/plain")
    response = client.post(
        reverse("portal:ticket-comment", kwargs={"number": incident.number}),
        {"body": "Log", "attachment": log},
    )
    assert response.status_code == 302
    page = detail(client, incident).content.decode()
    assert "error.png" in page and "crash.log" in page
    # A refused file type leaves no incident behind and says why next to the field.
    bad = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(
        reverse("portal:report"), {"short_description": "Bad file", "urgency": 3, "attachment": bad}
    )
    assert not Incident.objects.filter(short_description="Bad file").exists()
    assert "attachment" in response.context["form"].errors, response.context["form"].errors.as_data()


def test_cancel_own_open_tickets(client, requester, other_requester, vpn):
    incident = incident_create(actor=requester, short_description="Wrong ticket")
    request = request_create(actor=requester, catalog_item=vpn, variables={})
    client.force_login(other_requester)
    assert client.post(reverse("portal:ticket-cancel", kwargs={"number": incident.number})).status_code == 404
    client.force_login(requester)
    for record in (incident, request):
        assert 'data-testid="cancel-form"' in detail(client, record).content.decode()
        response = client.post(
            reverse("portal:ticket-cancel", kwargs={"number": record.number}), {"reason": "Sorted myself"}
        )
        assert response.status_code == 302
        record.refresh_from_db()
        assert record.state == "canceled"
        assert 'data-testid="cancel-form"' not in detail(client, record).content.decode()
