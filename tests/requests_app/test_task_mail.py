"""Fulfillment tasks are internal: their requester hears about the request, never about each task."""

import pytest
from django.core import mail

from requests_app.models import Task
from requests_app.services import request_create

pytestmark = pytest.mark.django_db


def test_requester_gets_one_received_mail_for_the_request_and_none_for_its_tasks(
    requester, vpn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = request_create(actor=requester, catalog_item=vpn, variables={})
    task = Task.objects.get(request=request)
    to_requester = [m for m in mail.outbox if requester.email in m.to]
    assert [m.subject for m in to_requester] == [f"[{request.number}] Received: {request.short_description}"]
    assert not any(task.number in m.subject for m in to_requester)
    # The request's mail links to its portal page, not to the portal home.
    assert f"/portal/tickets/{request.number}/" in to_requester[0].body
