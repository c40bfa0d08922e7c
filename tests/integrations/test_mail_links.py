"""Mail that reaches the right people with the right link (issue 21)."""

import pytest
from django.core import mail

from incidents.services import incident_comment, incident_create, incident_transition

pytestmark = pytest.mark.django_db


def test_open_it_link_goes_to_the_ticket_in_the_portal(requester, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_create(actor=requester, short_description="Printer jams")
    (sent,) = mail.outbox
    assert f"http://localhost:8000/portal/tickets/{incident.number}/" in sent.body
    assert f"/portal/tickets/{incident.number}/" in sent.alternatives[0][0]


def test_state_change_subject_says_the_state_in_words(
    requester, agent, service_desk, django_capture_on_commit_callbacks
):
    incident = incident_create(
        actor=requester, short_description="Printer jams", assignment_group=service_desk
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        incident_transition(incident, to="in_progress", actor=agent)
    subjects = [m.subject for m in mail.outbox if requester.email in m.to]
    assert subjects == [f"[{incident.number}] Now In progress: Printer jams"]
    body = next(m.body for m in mail.outbox if requester.email in m.to)
    assert "in_progress" not in body and "from New to In progress" in body


def test_comment_on_a_resolved_unassigned_ticket_reaches_the_group(
    requester, agent, service_desk, make_user, django_capture_on_commit_callbacks
):
    service_desk.email = "desk@example.com"
    service_desk.save()
    incident = incident_create(
        actor=requester, short_description="Printer jams", assignment_group=service_desk
    )
    incident_transition(
        incident, to="resolved", actor=agent,
        fields={"resolution_code": "solved", "resolution_notes": "Cleared the jam"},
    )  # fmt: skip
    incident.refresh_from_db()
    assert incident.assigned_to_id is None
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        incident_comment(incident, actor=requester, body="It jams again", public=True)
    assert any("desk@example.com" in m.to and "It jams again" in m.body for m in mail.outbox)
    # Without a group address, the group's manager hears it.
    lead = make_user("lead", email="lead@example.com")
    service_desk.email, service_desk.manager = "", lead
    service_desk.save()
    incident.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        incident_comment(incident, actor=requester, body="Still jamming", public=True)
    assert any(lead.email in m.to for m in mail.outbox)
