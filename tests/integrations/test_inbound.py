"""Inbound mail, fed real-world .eml files through `manage.py ingest_email`."""

import io
import sys

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from accounts.models import User
from core.models import Activity, Attachment
from incidents.models import Incident
from integrations.inbound import ingest
from integrations.models import InboundEmail, InboundStatus

from .conftest import MAILS, comments

pytestmark = pytest.mark.django_db

FIRST = "<5e1c2d0a-8a51-4b7e-9f59-2b1c7e4f0a11@example.com>"


def status_of(message_id):
    return InboundEmail.objects.get(message_id=message_id)


@pytest.fixture
def ingested(requester):
    out = io.StringIO()
    call_command("ingest_email", str(MAILS), stdout=out)
    return out.getvalue()


def test_folder_opens_tickets_threads_replies_and_keeps_the_rest(ingested, requester):
    assert "12 mail(s)" in ingested
    assert Incident.objects.count() == 4

    printer = Incident.objects.get(short_description="Drucker im 2. Stock druckt nicht – Fehler „E-05“")
    assert printer.caller == requester and printer.opened_by == requester
    assert printer.description == (
        "Hallo Service-Desk,\n\nder Drucker im 2. Stock (PRN-0815) druckt seit heute Morgen nicht mehr.\n"
        "Das Display zeigt „E-05“.\n\nGrüße\nRita"
    )
    # Thunderbird reply (threaded by References) and the mailing-list reply, quotes stripped.
    assert comments(printer) == [
        ("requester1", True, "Danke, nach dem Neustart druckt er wieder.\n\nRita"),
        (
            "requester1",
            True,
            "Update for everyone on the list: the printer on floor 2 jams again after 20 pages.",
        ),
    ]
    assert status_of(FIRST).status == InboundStatus.TICKET_CREATED
    assert status_of(FIRST).ticket_number == printer.number

    vpn = Incident.objects.get(short_description="Problème de connexion VPN depuis la mise à jour")
    francois = User.objects.get(email="francois.dupont@example.org")
    assert not francois.has_usable_password()
    assert (francois.first_name, francois.last_name) == ("François", "Dupont")
    assert vpn.caller == francois
    assert "je n'arrive plus à me connecter au VPN.\nLe client affiche « Échec de l'authentification »." in (
        vpn.description
    )
    assert comments(vpn) == [("francoisdupont", True, "Merci, ça marche maintenant.")]

    japanese = Incident.objects.get(short_description="パスワードをリセットしてください")
    assert japanese.description.startswith("お世話になっております。\n経理部の田中です。")
    assert japanese.caller.email == "tanaka@example.jp"
    assert japanese.caller.first_name == "田中"

    expense = Incident.objects.get(short_description="Expense report upload fails")
    assert expense.description == (
        'Hello,\nthe expense report upload fails with "Error 500" & a blank page.\n\n'
        "- Browser: Edge\n- Since: Monday\n\nScreenshot and the PDF are attached."
    )
    files = Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(Incident), object_id=expense.pk
    ).order_by("filename")
    assert [(a.filename, a.size, a.quarantine_reason) for a in files] == [
        ("Spesenabrechnung März.pdf", 69, ""),
        ("screenshot.png", 70, ""),
        ("tool.exe", files.get(filename="tool.exe").size, "type not allowed"),
    ]
    expense_mail = status_of("<AM0PR01MB1234ABCD@eurprd01.prod.outlook.com>")
    assert expense_mail.attachments_refused == []  # a refused type is kept, quarantined
    assert [r.get("quarantined") for r in expense_mail.attachments_added] == [None, None, "type not allowed"]

    ooo = status_of("<ooo-20250303-0001@example.com>")
    assert (ooo.status, ooo.reason) == (
        InboundStatus.IGNORED,
        "automatic mail (Auto-Submitted: auto-replied)",
    )
    bounce = status_of("<20250303091400.ABCDEF1234@mx.example.com>")
    assert bounce.status == InboundStatus.IGNORED and "multipart/report" in bounce.reason
    digest = status_of("<list-digest-0010@lists.example.com>")
    assert digest.status == InboundStatus.IGNORED and "Precedence: bulk" in digest.reason
    stranger = status_of("<stranger-0011@evil.example>")
    assert stranger.status == InboundStatus.REJECTED
    assert stranger.reason.startswith(f"mallory@evil.example is not a participant of {printer.number}")
    assert not User.objects.filter(email="mallory@evil.example").exists()
    broken = status_of("<broken-0012@example.com>")
    assert broken.status == InboundStatus.FAILED
    assert (
        broken.reason
        == "broken MIME structure: MultipartInvariantViolationDefect, NoBoundaryInMultipartDefect"
    )
    assert broken.raw.read() == (MAILS / "12_broken_mime.eml").read_bytes()


def test_ingesting_the_same_folder_twice_creates_nothing(ingested):
    counts = (
        Incident.objects.count(),
        InboundEmail.objects.count(),
        Activity.objects.count(),
        User.objects.count(),
    )
    out = io.StringIO()
    call_command("ingest_email", str(MAILS), stdout=out)
    assert "already ingested=12" in out.getvalue()
    assert counts == (
        Incident.objects.count(),
        InboundEmail.objects.count(),
        Activity.objects.count(),
        User.objects.count(),
    )


def test_stdin_and_the_number_in_the_subject(requester, agent, monkeypatch, mail_bytes):
    incident_row, _ = ingest(mail_bytes("01_new_multipart_alternative.eml"))
    number = incident_row.ticket_number
    reply = (
        f"Message-ID: <subject-only@example.com>\nFrom: Alice <agent1@example.com>\nTo: servicedesk@localhost\n"
        f"Subject: RE: [{number}] printer\nContent-Type: text/plain; charset=utf-8\n\nOn my way with a new toner.\n"
    ).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(reply)))
    call_command("ingest_email", "-", stdout=io.StringIO())
    row = status_of("<subject-only@example.com>")
    assert (row.status, row.source, row.ticket_number) == (InboundStatus.COMMENT_ADDED, "stdin", number)
    assert comments(Incident.objects.get(number=number)) == [("agent1", True, "On my way with a new toner.")]


def test_a_50_mb_mail_is_kept_as_failed_with_the_reason(requester):
    header = (
        b"Message-ID: <huge@example.com>\r\nFrom: requester1@example.com\r\nSubject: big\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n'
        b'--b\r\nContent-Type: application/zip; name="dump.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    )
    raw = header + (b"QUFB" * 19 + b"\r\n") * (50 * 1024 * 1024 // 57 + 1) + b"--b--\r\n"
    row, created = ingest(raw, source="big.eml")
    assert created and row.status == InboundStatus.FAILED
    assert row.message_id == "<huge@example.com>"
    assert row.reason == f"message is {len(raw)} bytes; the limit is 50 MB"
    assert row.raw.size == len(raw)
    assert Incident.objects.count() == 0
    assert ingest(raw, source="big.eml") == (row, False)


def test_mail_without_message_id_is_still_ingested_once(requester):
    raw = b"From: requester1@example.com\nSubject: no id\n\nMy screen flickers.\n"
    first, created = ingest(raw)
    assert created and first.message_id.startswith("<sha256-")
    assert ingest(raw) == (first, False)
    assert Incident.objects.get().description == "My screen flickers."


def test_a_mail_that_breaks_processing_is_kept_and_the_next_one_still_lands(
    requester, settings, tmp_path, mail_bytes
):
    """A storage failure while saving an attachment (here: the attachments folder is a file) rolls the
    ticket back, keeps the mail as failed with the error, and does not stop the mails after it."""
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "attachments").write_text("not a folder")
    broken_raw = mail_bytes("04_html_only_with_attachments.eml")
    broken, created = ingest(broken_raw, source="04.eml")
    assert created and broken.status == InboundStatus.FAILED
    assert broken.reason.startswith("could not be processed: ")
    assert "Error" in broken.reason  # the exception's class names the storage problem
    assert broken.raw.read() == broken_raw
    assert Incident.objects.count() == 0 and Attachment.objects.count() == 0
    assert ingest(broken_raw, source="04.eml") == (broken, False)  # kept once, not retried as new

    fine, created = ingest(mail_bytes("01_new_multipart_alternative.eml"), source="01.eml")
    assert created and fine.status == InboundStatus.TICKET_CREATED
    assert Incident.objects.count() == 1
