"""Webhook subscriptions are cached per process, but a subscription saved or disabled applies to the
next event at once."""

from __future__ import annotations

import pytest

from incidents.services import incident_create
from integrations.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_subscribing_and_disabling_apply_to_the_next_event(agent, monkeypatch):
    from integrations import tasks

    queued = []
    monkeypatch.setattr(tasks, "enqueue_many", queued.extend)  # no real delivery attempts here
    incident_create(actor=agent, short_description="Before any subscription")
    assert WebhookDelivery.objects.count() == 0
    hook = Webhook.objects.create(
        name="ops", url="https://hooks.example.com/itsm", events=["incident.created"], secret="s3cret"
    )
    incident_create(actor=agent, short_description="Subscribed")
    assert list(WebhookDelivery.objects.values_list("webhook__name", "event")) == [
        ("ops", "incident.created")
    ]
    hook.active = False
    hook.save()
    incident_create(actor=agent, short_description="Disabled")
    assert WebhookDelivery.objects.count() == 1
    assert [(task.name, args) for task, *args in queued if task.name == "integrations.deliver_webhook"] == [
        ("integrations.deliver_webhook", [str(WebhookDelivery.objects.get().pk)])
    ]
