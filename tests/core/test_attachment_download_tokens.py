"""SPEC §5/§9: an attachment's `download_url` answers the file to the token that listed it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from incidents.services import incident_create
from tests.api_tokens import token_client

pytestmark = pytest.mark.django_db


def _download(client, url):
    response = client.get(url)
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return response, body


def test_token_lists_then_downloads_with_the_hardening_headers(agent, requester, other_requester):
    incident = incident_create(actor=requester, short_description="Broken screen")
    uploader = token_client(requester)
    response = uploader.post(
        f"/api/v1/incidents/{incident.number}/attachments/",
        {"file": SimpleUploadedFile("screen.png", b"\x89PNG\r\n\x1a\nimage", "image/png")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    reader = token_client(agent, scope="read")
    listed = reader.get(f"/api/v1/incidents/{incident.number}/attachments/").json()
    url = (listed["results"] if isinstance(listed, dict) else listed)[0]["download_url"]
    response, body = _download(reader, url)
    assert response.status_code == 200 and body == b"\x89PNG\r\n\x1a\nimage"
    assert response["Content-Type"] == "application/octet-stream"
    assert (
        response["Content-Disposition"].startswith("attachment;")
        and "screen.png" in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert _download(uploader, url)[0].status_code == 200
    # Someone who may not see the ticket: 404, as for the ticket itself.
    assert _download(token_client(other_requester), url)[0].status_code == 404
    # No credentials: the sign-in page (a browser); a bad token: a JSON 401 (a script).
    anonymous = APIClient().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token itsm_pat_nope")
    response = bad.get(url)
    assert response.status_code == 401 and response.json() == {"detail": "Invalid token."}
    # A revoked token stops at once.
    assert reader.delete(f"/api/v1/auth/tokens/{reader.token.pk}/").status_code == 403  # read-only
    assert uploader.delete(f"/api/v1/auth/tokens/{uploader.token.pk}/").status_code == 204
    assert _download(uploader, url)[0].status_code == 401


def test_session_download_still_works(client, requester):
    incident = incident_create(actor=requester, short_description="Broken screen")
    client.force_login(requester)
    from core import services

    attachment = services.add_attachment(
        incident, actor=requester, uploaded_file=SimpleUploadedFile("a.txt", b"hello", "text/plain")
    )
    response, body = _download(client, f"/attachments/{attachment.pk}/download/")
    assert response.status_code == 200 and body == b"hello"
