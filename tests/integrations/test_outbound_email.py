"""Outbound mail: recipients, threading headers, no leaks, no header injection, survives a broker outage."""

import pytest
from django.core import mail
from django.test import override_settings
from kombu.exceptions import OperationalError

from incidents.services import incident_comment, incident_create, incident_update
from integrations import tasks
from integrations.inbound import ingest
from integrations.models import DeliveryStatus, InboundStatus, OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(requester, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return incident_create(actor=requester, short_description="VPN drops every hour")


def headers(message):
    return message.message()


def test_created_mails_the_requester_a_threadable_confirmation(incident, requester):
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [requester.email]
    assert sent.subject == f"[{incident.number}] Received: VPN drops every hour"
    row = OutboundEmail.objects.get()
    assert row.status == DeliveryStatus.SENT and row.attempts == 1
    message = headers(sent)
    assert message["Message-ID"] == row.message_id
    assert message["References"] == message["In-Reply-To"] == f"<{incident.number}@localhost>"
    assert message["Auto-Submitted"] == "auto-generated"
    html = sent.alternatives[0]
    assert html[1] == "text/html" and incident.number in html[0]
    assert "We have received your request and recorded it as" in sent.body


def test_work_notes_reach_agents_only_and_public_comments_thread(
    incident, requester, agent, service_desk, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        incident_update(
            incident, actor=requester, changes={"assignment_group": service_desk, "assigned_to": agent}
        )
        incident_comment(
            incident, actor=agent, body="Internal: the VPN concentrator is flapping", public=False
        )
        incident_comment(incident, actor=agent, body="We are replacing the VPN gateway tonight.")
    by_recipient = {}
    for sent in mail.outbox:
        by_recipient.setdefault(sent.to[0], []).append(sent)
    assert [m.subject for m in by_recipient[agent.email]] == [
        f"[{incident.number}] Assigned to you: VPN drops every hour"
    ]
    requester_mails = by_recipient[requester.email]
    assert [m.subject for m in requester_mails] == [f"[{incident.number}] New comment: VPN drops every hour"]
    assert "We are replacing the VPN gateway tonight." in requester_mails[0].body
    assert all("flapping" not in m.body and "flapping" not in m.alternatives[0][0] for m in requester_mails)
    # The comment answers the confirmation the requester already has: one conversation in their client.
    confirmation = (
        OutboundEmail.objects.filter(recipient=requester.email).order_by("created_at", "id").first()
    )
    message = headers(requester_mails[0])
    assert message["In-Reply-To"] == confirmation.message_id
    assert message["References"] == f"<{incident.number}@localhost> {confirmation.message_id}"


def test_a_reply_to_our_mail_becomes_a_comment(incident, requester):
    ours = OutboundEmail.objects.get()
    raw = (
        f"Message-ID: <reply-1@example.com>\nFrom: {requester.email}\nTo: servicedesk@localhost\n"
        f"Subject: Re: whatever\nIn-Reply-To: {ours.message_id}\nReferences: {ours.references} {ours.message_id}\n"
        f"Content-Type: text/plain\n\nIt dropped again at 10:00.\n\nOn Mon, 3 Mar 2025, Service Desk wrote:\n> old\n"
    ).encode()
    row, created = ingest(raw)
    assert created and row.status == InboundStatus.COMMENT_ADDED and row.ticket_number == incident.number
    assert incident.activities.filter(kind="comment").get().body == "It dropped again at 10:00."


def test_titles_cannot_inject_headers_or_template_code(requester, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_create(
            actor=requester, short_description="Broken {{7*7}} <b>x</b>\r\nBcc: victim@example.com"
        )
    sent = mail.outbox[0]
    assert (
        sent.subject == f"[{incident.number}] Received: Broken {{{{7*7}}}} <b>x</b> Bcc: victim@example.com"
    )
    message = headers(sent)
    assert message["Bcc"] is None and sent.bcc == []
    assert "{{7*7}}" in sent.body and "49" not in sent.body
    assert "Broken {{7*7}} &lt;b&gt;x&lt;/b&gt;" in sent.alternatives[0][0]


@override_settings(OUTBOX_SWEEP_AFTER_SECONDS=0)
def test_broker_down_leaves_the_mail_pending_for_the_sweep(
    requester, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_email, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        incident_create(actor=requester, short_description="Printer offline")
    row = OutboundEmail.objects.get()
    assert row.status == DeliveryStatus.PENDING and mail.outbox == []
    monkeypatch.undo()
    assert tasks.sweep_outbox() == {"emails": 1, "deliveries": 0}
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and len(mail.outbox) == 1
    assert tasks.sweep_outbox() == {"emails": 0, "deliveries": 0}
