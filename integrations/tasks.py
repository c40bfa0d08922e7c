"""Celery tasks: send stored mails, deliver webhooks with backoff, sweep the outbox, poll IMAP."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from celery import current_app, shared_task
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from core.breaker import BROKER

from . import conf, notifications, webhooks
from .imap import poll_mailbox
from .models import DeliveryStatus, OutboundEmail, WebhookDelivery

logger = logging.getLogger(__name__)


def enqueue(task, *args, countdown: int | None = None) -> bool:
    """Queue a task; when the broker is unreachable (or failed moments ago: core.breaker.BROKER), log it
    and leave the row to the outbox sweep, which runs at once when the broker is back."""
    if not BROKER.available():
        return False
    try:
        task.apply_async(args=args, countdown=countdown, retry=False)
    except Exception as exc:
        BROKER.failed(exc)
        logger.warning("could not enqueue %s%r (%s); the outbox sweep will retry it", task.name, args, exc)
        return False
    BROKER.succeeded()
    return True


def enqueue_many(jobs: list[tuple]) -> int:
    """Queue (task, *args) jobs over one broker connection; on a broker error, log and leave the rest
    to the outbox sweep (their rows stay pending). Returns how many were queued."""
    if not jobs or not BROKER.available():
        return 0

    sent = 0
    try:
        with current_app.producer_or_acquire() as producer:
            for task, *args in jobs:
                task.apply_async(args=args, producer=producer, retry=False)
                sent += 1
    except Exception as exc:
        BROKER.failed(exc)
        logger.warning(
            "could not enqueue %d outbox task(s) (%s); the outbox sweep will retry them",
            len(jobs) - sent,
            exc,
        )
        return sent
    BROKER.succeeded()
    return sent


def drain_outbox_soon() -> None:
    """core.breaker.BROKER recovery callback: the broker is back, so queue a sweep of every pending row
    now (those whose publish failed during the outage) instead of waiting for the next beat sweep."""
    enqueue(sweep_outbox, 0)


# A mail whose send failed on the database (a restart) is retried within seconds, not left to the sweep.
@shared_task(
    name="integrations.send_email",
    autoretry_for=(DatabaseError,),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=8,
)
def send_email(pk: int) -> str:
    return notifications.send_outbound_email(pk)


@shared_task(name="integrations.deliver_webhook")
def deliver_webhook(delivery_id: str) -> str:
    outcome = webhooks.attempt_delivery(delivery_id)
    if outcome == "retry":
        attempts = WebhookDelivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
        enqueue(deliver_webhook, delivery_id, countdown=webhooks.backoff_seconds(attempts))
    return outcome


# One outbox sweep hands out at most this many rows of each kind per batch, and stops batching after
# SWEEP_BUDGET seconds (the next beat sweep goes on), so a long outage's backlog drains in one run
# without one message per row piling up faster than the workers send.
SWEEP_BATCH = 500
SWEEP_BUDGET = 30.0


@shared_task(name="integrations.sweep_outbox")
def sweep_outbox(after_seconds: int | None = None) -> dict:
    """Safety net: send mails and re-enqueue deliveries still pending `after_seconds` (default
    OUTBOX_SWEEP_AFTER_SECONDS) after they were due. Mails are sent here, in batches, rather than queued
    one message each; sending is idempotent (send_outbound_email locks the row and checks its state)."""
    if after_seconds is None:
        after_seconds = conf.get("OUTBOX_SWEEP_AFTER_SECONDS")
    cutoff = timezone.now() - timedelta(seconds=after_seconds)
    started = time.monotonic()
    emails, last = 0, 0
    while time.monotonic() - started < SWEEP_BUDGET:
        batch = list(
            OutboundEmail.objects.filter(status=DeliveryStatus.PENDING, created_at__lte=cutoff, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if not batch:
            break
        for pk in batch:
            notifications.send_outbound_email(pk)
        emails, last = emails + len(batch), batch[-1]
    deliveries = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    enqueue_many([(deliver_webhook, str(pk)) for pk in deliveries])
    return {"emails": emails, "deliveries": len(deliveries)}


IMAP_POLL_LOCK = "itsm:imap-poll-lock"
IMAP_POLL_LOCK_SECONDS = 600  # a killed worker's lock expires by itself


@shared_task(name="integrations.poll_imap")
def poll_imap() -> dict:
    """Beat, every minute. One poll at a time across workers: a slow poll (a big batch, a slow server)
    overlapping the next would fetch the same mails twice (harmless, ingest is idempotent, but wasted)."""
    if not conf.get("IMAP_HOST"):
        return {"skipped": "IMAP_HOST is not set"}
    if not cache.add(IMAP_POLL_LOCK, "1", IMAP_POLL_LOCK_SECONDS):
        return {"skipped": "another poll is running"}
    try:
        return poll_mailbox()
    finally:
        cache.delete(IMAP_POLL_LOCK)
