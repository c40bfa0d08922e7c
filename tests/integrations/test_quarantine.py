"""Mail parts the upload policy refuses are kept quarantined: stored, internal, agents only, plain download."""

import pytest
from django.contrib.contenttypes.models import ContentType

from core.models import Activity, Attachment
from incidents.models import Incident
from integrations.inbound import ingest
from tests.api_tokens import token_client

pytestmark = pytest.mark.django_db

# An iPhone-style mail: the photo part has no file name at all ("noname" in most clients), plus an
# Outlook TNEF part (winmail.dat) and a PDF the policy allows.
MAIL = b"""From: Rita Requester <requester1@example.com>
To: servicedesk@example.com
Subject: Scanner shows a red light
Message-ID: <quarantine-0001@example.com>
Date: Sat, 05 Dec 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

The scanner on floor 3 shows a red light, photo attached.

--b1
Content-Type: application/octet-stream
Content-Disposition: attachment
Content-Transfer-Encoding: base64

/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAP//
--b1
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Disposition: attachment; filename="winmail.dat"
Content-Transfer-Encoding: base64

eJ8+IhAAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADoAAEIgAcAGAAAAElQTS5NaWNy
--b1
Content-Type: application/pdf; name="manual.pdf"
Content-Disposition: attachment; filename="manual.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJSVFT0YK
--b1--
"""


def test_refused_types_are_kept_quarantined_for_agents_only(requester, agent, client):
    ingest(MAIL)
    incident = Incident.objects.get(short_description="Scanner shows a red light")
    files = Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(Incident), object_id=incident.pk
    ).order_by("id")
    assert [(a.filename, a.quarantine_reason, a.public) for a in files] == [
        ("attachment", "type not allowed", False),
        ("winmail.dat", "type not allowed", False),
        ("manual.pdf", "", True),
    ]
    assert {a.content_type_name for a in files if a.quarantined} == {"application/octet-stream"}

    # The agent sees every file, the quarantined ones labelled, and downloads them as plain files.
    agent_api = token_client(agent, scope="read")
    listed = agent_api.get(f"/api/v1/incidents/{incident.number}/attachments/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [(r["filename"], r["quarantined"], r["quarantine_reason"]) for r in rows] == [
        ("attachment", True, "type not allowed"),
        ("winmail.dat", True, "type not allowed"),
        ("manual.pdf", False, ""),
    ]
    response = agent_api.get(rows[1]["download_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content).startswith(b"x\x9f>")

    # The sender (a requester) sees the PDF only and cannot fetch the quarantined parts.
    requester_api = token_client(requester)
    listed = requester_api.get(f"/api/v1/incidents/{incident.number}/attachments/").json()
    rows_seen = listed["results"] if isinstance(listed, dict) else listed
    assert [r["filename"] for r in rows_seen] == ["manual.pdf"]
    assert requester_api.get(rows[0]["download_url"]).status_code == 404

    # The timeline says so (internal), and the ticket page labels the files.
    notes = Activity.objects.filter(object_id=incident.pk, data__quarantined="type not allowed")
    assert sorted(notes.values_list("body", flat=True)) == [
        "Attachment “attachment” quarantined: type not allowed. Agents may download it as a plain file.",
        "Attachment “winmail.dat” quarantined: type not allowed. Agents may download it as a plain file.",
    ]
    assert not notes.filter(public=True).exists()
    client.force_login(agent)
    page = client.get(f"/incidents/{incident.number}/").content.decode()
    assert page.count("quarantined: type not allowed") >= 2
    timeline = agent_api.get(f"/api/v1/incidents/{incident.number}/timeline/").content.decode()
    assert "winmail.dat” quarantined" in timeline
