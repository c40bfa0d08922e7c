"""Celery tasks of the SLA engine: a check at each warning instant and due time, and a beat sweep.

Every task is idempotent (the escalation ledger's unique constraint makes each stage run once), acks late
(a killed worker's task is redelivered) and retries on database errors. The sweep is the safety net for
everything a lost message would have done: it breaches overdue timers in bulk, fires due warnings and
runs breach stages that never ran.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.db import DatabaseError, transaction
from django.utils import timezone

from . import escalations

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
def fire_stages(timer_ids: list[int], stage: int) -> int:
    """Run one stage for a chunk of timers (one transaction per timer, so one failure spoils nothing)."""
    done = 0
    for timer_id in timer_ids:
        done += escalations.fire_stage(timer_id, stage)
    return done


@shared_task(name="sla.process_timers", **TASK_OPTIONS)
def process_timers(timer_ids: list[int]) -> None:
    for timer_id in timer_ids:
        escalations.process_timer(timer_id)


# After a failed publish, skip publishing for a while: a broker outage then costs one connection timeout
# per process every BROKER_BACKOFF seconds instead of one per ticket write. The beat sweep catches up.
BROKER_BACKOFF = 10.0
_broker_down_until = 0.0


def enqueue(task, args: tuple, **options) -> bool:
    """Publish without retrying; never raises. Returns whether the message reached the broker."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return False
    try:
        task.apply_async(args, retry=False, **options)
    except Exception as exc:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF
        logger.warning("SLA task %s not enqueued (%s); the sweep will catch up", task.name, exc)
        return False
    return True


def enqueue_many(jobs: list[tuple[str, tuple, dict]]) -> int:
    """Publish (task name in this module, args, options) jobs over one broker connection, in order;
    stops at the first failure (the sweep catches up) and never raises. Returns how many were sent."""
    global _broker_down_until
    if not jobs or time.monotonic() < _broker_down_until:
        return 0
    from celery import current_app

    sent = 0
    try:
        with current_app.producer_or_acquire() as producer:
            for name, args, options in jobs:
                globals()[name].apply_async(args, retry=False, producer=producer, **options)
                sent += 1
    except Exception as exc:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF
        logger.warning("SLA tasks not enqueued (%s); the sweep will catch up", exc)
    return sent


def _enqueue_chunks(task, ids: list[int], *args) -> None:
    for start in range(0, len(ids), CHUNK):
        if not enqueue(task, (ids[start : start + CHUNK], *args)):
            return


def enqueue_breach_stages(timer_ids: list[int]) -> None:
    _enqueue_chunks(fire_stages, timer_ids, escalations.BREACH_STAGE)


@shared_task(name="sla.sweep", **TASK_OPTIONS)
def sweep() -> dict:
    """Beat, every few seconds: bulk-breach overdue timers, then hand out their breach stages, due
    warnings and stages a lost task never ran, in chunks."""
    now = timezone.now()
    breached = escalations.breach_due_timers(now)
    missed = escalations.unescalated_breaches(now)
    checks = escalations.due_checks(now)

    def enqueue() -> None:
        _enqueue_chunks(fire_stages, breached, escalations.BREACH_STAGE)
        _enqueue_chunks(fire_stages, missed, escalations.BREACH_STAGE)
        _enqueue_chunks(process_timers, checks)

    transaction.on_commit(enqueue)
    return {"breached": len(breached), "missed": len(missed), "checks": len(checks)}


@shared_task(name="sla.refresh_duration_stats", **TASK_OPTIONS)
def refresh_duration_stats() -> int:
    """Hourly: rebuild how long similar tickets took to reach each timer's stop (sla.risk)."""
    from . import risk

    return risk.refresh_duration_stats()


@shared_task(name="sla.refresh_at_risk", **TASK_OPTIONS)
def refresh_at_risk() -> int:
    """Every minute: mark the running timers predicted to breach (sla.risk)."""
    from . import risk

    return risk.refresh_at_risk()
