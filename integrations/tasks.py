"""Celery tasks: send stored mails, deliver webhooks with backoff, sweep the outbox, poll IMAP."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import conf, notifications, webhooks
from .models import DeliveryStatus, OutboundEmail, WebhookDelivery

logger = logging.getLogger(__name__)


def enqueue(task, *args, countdown: int | None = None) -> bool:
    """Queue a task; when the broker is unreachable, log it and leave the row to the beat sweep."""
    try:
        task.apply_async(args=args, countdown=countdown)
    except Exception:
        logger.exception("could not enqueue %s%r; the outbox sweep will retry it", task.name, args)
        return False
    return True


def enqueue_many(jobs: list[tuple]) -> int:
    """Queue (task, *args) jobs over one broker connection; on a broker error, log and leave the rest
    to the beat sweep (their rows stay pending). Returns how many were queued."""
    if not jobs:
        return 0
    from celery import current_app

    sent = 0
    try:
        with current_app.producer_or_acquire() as producer:
            for task, *args in jobs:
                task.apply_async(args=args, producer=producer)
                sent += 1
    except Exception:
        logger.exception(
            "could not enqueue %d outbox task(s); the outbox sweep will retry them", len(jobs) - sent
        )
    return sent


@shared_task(name="integrations.send_email")
def send_email(pk: int) -> str:
    return notifications.send_outbound_email(pk)


@shared_task(name="integrations.deliver_webhook")
def deliver_webhook(delivery_id: str) -> str:
    outcome = webhooks.attempt_delivery(delivery_id)
    if outcome == "retry":
        attempts = WebhookDelivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
        enqueue(deliver_webhook, delivery_id, countdown=webhooks.backoff_seconds(attempts))
    return outcome


@shared_task(name="integrations.sweep_outbox")
def sweep_outbox() -> dict:
    """Safety net: re-enqueue mails and deliveries still pending well after they were due."""
    cutoff = timezone.now() - timedelta(seconds=conf.get("OUTBOX_SWEEP_AFTER_SECONDS"))
    emails = list(
        OutboundEmail.objects.filter(status=DeliveryStatus.PENDING, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    deliveries = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in emails:
        enqueue(send_email, pk)
    for pk in deliveries:
        enqueue(deliver_webhook, str(pk))
    return {"emails": len(emails), "deliveries": len(deliveries)}


IMAP_POLL_LOCK = "itsm:imap-poll-lock"
IMAP_POLL_LOCK_SECONDS = 600  # a killed worker's lock expires by itself


@shared_task(name="integrations.poll_imap")
def poll_imap() -> dict:
    """Beat, every minute. One poll at a time across workers: a slow poll (a big batch, a slow server)
    overlapping the next would fetch the same mails twice (harmless, ingest is idempotent, but wasted)."""
    from django.core.cache import cache

    from .imap import poll_mailbox

    if not conf.get("IMAP_HOST"):
        return {"skipped": "IMAP_HOST is not set"}
    if not cache.add(IMAP_POLL_LOCK, "1", IMAP_POLL_LOCK_SECONDS):
        return {"skipped": "another poll is running"}
    try:
        return poll_mailbox()
    finally:
        cache.delete(IMAP_POLL_LOCK)
