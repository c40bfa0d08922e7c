"""The integrations app's only hook into the suite: core.events listeners, registered in ready().

In the ticket's transaction (`on_change`) we persist the OutboundEmail and WebhookDelivery rows, so a
rolled-back write leaves none and a committed one always has them; after commit we only enqueue the
Celery tasks. If the broker is down the enqueue fails, is logged, and the beat sweep sends the rows later.
"""

from __future__ import annotations

import logging

from core.events import Event
from core.models import TicketBase

from . import notifications, tasks, webhooks

logger = logging.getLogger(__name__)

_OUTBOX_ATTR = "_integrations_outbox"


def persist_outbox(event: Event) -> None:
    if not isinstance(event.record, TicketBase):
        return
    emails = notifications.queue_for_event(event)
    deliveries = webhooks.queue_for_event(event)
    setattr(event, _OUTBOX_ATTR, ([row.pk for row in emails], [row.pk for row in deliveries]))


def enqueue_outbox(event: Event) -> None:
    email_ids, delivery_ids = getattr(event, _OUTBOX_ATTR, ((), ()))
    if not (email_ids or delivery_ids):
        return
    # One broker connection for all of the event's messages.
    tasks.enqueue_many(
        [(tasks.send_email, pk) for pk in email_ids]
        + [(tasks.deliver_webhook, str(pk)) for pk in delivery_ids]
    )
