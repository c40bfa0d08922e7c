"""Celery tasks of the SLA engine: a check at each warning instant and due time, and a beat sweep.

Every task is idempotent (the escalation ledger's unique constraint makes each stage run once), acks late
(a killed worker's task is redelivered) and retries on database errors (the Celery settings and the reason
for each are in itsm/settings/base.py). The sweep is the safety net for everything a lost or held message
would have done: it breaches overdue timers in bulk, then claims timers whose next instant has passed and
runs their stages itself, in bounded batches (sla.escalations.run_due).
"""

from __future__ import annotations

import logging

from celery import current_app, shared_task
from django.db import DatabaseError
from django.utils import timezone

from core.breaker import BROKER

from . import escalations, risk

logger = logging.getLogger(__name__)

CHUNK = 500
TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "max_retries": 8,
    "ignore_result": True,
}


@shared_task(name="sla.check_timer", **TASK_OPTIONS)
def check_timer(timer_id: int) -> None:
    """Scheduled (eta) at a timer's warning instants and due time; does nothing when run early."""
    escalations.process_timer(timer_id)


@shared_task(name="sla.fire_stage", **TASK_OPTIONS)
def fire_stage_task(timer_id: int, stage: int) -> None:
    escalations.fire_stage(timer_id, stage)


@shared_task(name="sla.fire_stages", **TASK_OPTIONS)
def fire_stages(timer_ids: list[int], stage: int) -> None:
    """Run the owed stages (for a breach: missed warnings first, then `stage`) of a chunk of timers, one
    transaction per stage, so one failure spoils nothing."""
    for timer_id in timer_ids:
        escalations.process_timer(timer_id, breach_others=False)


@shared_task(name="sla.process_timers", **TASK_OPTIONS)
def process_timers(timer_ids: list[int]) -> None:
    for timer_id in timer_ids:
        escalations.process_timer(timer_id)


def enqueue(task, args: tuple, **options) -> bool:
    """Publish without retrying; never raises. Returns whether the message reached the broker. After a
    failure, core.breaker.BROKER skips publishing for a while: a broker outage then costs one short
    socket timeout per process per back-off period instead of one per ticket write. The sweep catches up."""
    if not BROKER.available():
        return False
    try:
        task.apply_async(args, retry=False, **options)
    except Exception as exc:
        BROKER.failed(exc)
        logger.warning("SLA task %s not enqueued (%s); the sweep will catch up", task.name, exc)
        return False
    BROKER.succeeded()
    return True


def enqueue_many(jobs: list[tuple[str, tuple, dict]]) -> int:
    """Publish (task name in this module, args, options) jobs over one broker connection, in order;
    stops at the first failure (the sweep catches up) and never raises. Returns how many were sent."""
    if not jobs or not BROKER.available():
        return 0
    sent = 0
    try:
        with current_app.producer_or_acquire() as producer:
            for name, args, options in jobs:
                globals()[name].apply_async(args, retry=False, producer=producer, **options)
                sent += 1
    except Exception as exc:
        BROKER.failed(exc)
        logger.warning("SLA tasks not enqueued (%s); the sweep will catch up", exc)
        return sent
    BROKER.succeeded()
    return sent


def _enqueue_chunks(task, ids: list[int], *args) -> None:
    for start in range(0, len(ids), CHUNK):
        if not enqueue(task, (ids[start : start + CHUNK], *args)):
            return


def enqueue_breach_stages(timer_ids: list[int]) -> None:
    _enqueue_chunks(fire_stages, timer_ids, escalations.BREACH_STAGE)


@shared_task(name="sla.sweep", **TASK_OPTIONS)
def sweep() -> dict:
    """Beat, every few seconds: bulk-breach overdue timers, then claim and process every timer whose next
    instant has passed (a lost, late or held check, a breach stage, missed warnings), in batches, here."""
    breached = escalations.breach_due_timers(timezone.now())
    return {"breached": len(breached), **escalations.run_due()}


@shared_task(name="sla.refresh_duration_stats", **TASK_OPTIONS)
def refresh_duration_stats() -> int:
    """Hourly: rebuild how long similar tickets took to reach each timer's stop (sla.risk)."""
    return risk.refresh_duration_stats()


@shared_task(name="sla.refresh_at_risk", **TASK_OPTIONS)
def refresh_at_risk() -> int:
    """Every minute: mark the running timers predicted to breach (sla.risk)."""
    return risk.refresh_at_risk()
