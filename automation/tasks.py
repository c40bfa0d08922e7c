"""Celery tasks of the automation engine: the beat evaluation of time rules and the firing chunks.

Both are idempotent (the TimeRuleMatch unique constraint), ack late (a killed worker's chunk is
redelivered) and retry on database errors, like the SLA tasks.
"""

from __future__ import annotations

import logging

from celery import current_app, shared_task
from django.db import DatabaseError, transaction

from . import timerules
from .models import Rule, Trigger

logger = logging.getLogger(__name__)

CHUNK = 500  # ids per firing task: one set-based batch (timerules.BULK_BATCH)
TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "max_retries": 8,
    "ignore_result": True,
}


@shared_task(name="automation.fire_time_rule", **TASK_OPTIONS)
def fire_time_rule(rule_id: int, ids: list[int]) -> int:
    return timerules.fire(rule_id, ids)


@shared_task(name="automation.evaluate_time_rules", **TASK_OPTIONS)
def evaluate_time_rules() -> dict:
    """Beat: for every active time rule, close ended periods and hand out the due records in chunks."""
    due: dict[int, int] = {}
    jobs: list[tuple[int, list[int]]] = []
    for rule in Rule.objects.filter(trigger=Trigger.TIME, active=True).order_by("order", "id"):
        with transaction.atomic():
            ids = timerules.evaluate(rule)
        due[rule.pk] = len(ids)
        jobs.extend((rule.pk, ids[start : start + CHUNK]) for start in range(0, len(ids), CHUNK))
    sent = 0
    if jobs:
        try:
            with current_app.producer_or_acquire() as producer:
                for rule_id, chunk in jobs:
                    fire_time_rule.apply_async((rule_id, chunk), producer=producer, retry=False)
                    sent += 1
        except Exception:
            logger.warning(
                "time rule chunks not enqueued (%d of %d sent); the next beat retries", sent, len(jobs)
            )
    return {"due": due, "chunks": sent}
