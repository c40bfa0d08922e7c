"""Breaching and escalating: what Celery runs at due times and warning thresholds.

- `breach_due_timers` marks every overdue running timer breached in one statement (UPDATE ... RETURNING,
  skipping rows a ticket write holds locked); the breach event is logged later, by the breach stage or
  the timer's next replay (sla.engine.ensure_breach_event).
- `fire_stage` runs one stage (a warning threshold, or 100 for the breach) of one timer exactly once:
  the `Escalation(timer, stage)` row is inserted in the same transaction as the stage's actions, under a
  unique constraint, so a retry, a redelivered task or the sweep finding the same stage does nothing.
  A worker killed mid-stage rolls the whole transaction back, row included, and the stage runs again.
- Every stage whose instant has passed runs, late if it must, even after the timer breached: a check (or
  the sweep) that finds a breached timer runs its missed warnings in order, then the breach stage. The
  timeline row says how late the stage ran. An action marked `"unless_breached": true` in the
  definition is skipped (and the skip logged) when its warning only runs after the breach.
- The sweep (`run_due`) finds due work in the database, not the broker: `next_check_at` is the timer's
  next instant with work (null when none), and `claimed_until` is a short lease taken with
  `FOR UPDATE SKIP LOCKED`, so two sweeps never take the same timer and nothing already taken is handed
  out again. It processes what it claims itself, in bounded batches, instead of queueing a message per
  timer (a dead worker's messages stay invisible in Redis until the visibility timeout; the database
  does not forget).
- Actions go through the same services agents use (`core.services.update_ticket`), so reassignments
  and priority raises are validated, versioned, on the timeline and announced like any other edit.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import NoReverseMatch
from django.utils import timezone

from accounts.models import AssignmentGroup
from core import events as core_events
from core import services as core_services
from core.choices import ActivityKind
from core.models import TicketBase

from .choices import BREACH_STAGE, EscalationAction
from .engine import ensure_breach_event, pending_instants, recompute, schedule_check, stage_instant
from .models import Escalation, Timer, TimerState

logger = logging.getLogger(__name__)

# Test-only hook (tests/sla/test_celery_worker.py): while this file exists, a stage stops after its actions,
# before committing, so the test can SIGKILL the worker mid-escalation.
PAUSE_FILE_ENV = "SLA_TEST_ESCALATION_PAUSE_FILE"

# A stage that runs this many seconds after its instant says so in its timeline row (every row carries
# `late_seconds`); below it, the delay is the normal scheduling jitter of an eta check or the sweep.
LATE_AFTER = 10.0
# The sweep: timers claimed per batch, the claim's lease (a sweep killed mid-batch delays its timers by
# at most this), the time one sweep keeps claiming batches (well under the task time limits, see
# settings), and how long a due instant is left to its own eta check before the sweep takes it.
SWEEP_BATCH = 100
CLAIM_SECONDS = 60
SWEEP_BUDGET = 60.0
SWEEP_GRACE = timedelta(seconds=2)

# The breach event row is written later, by the breach stage (or by the next replay of the timer, see
# sla.engine.recompute): keeping this one statement to a single-table UPDATE halves its cost.
# SKIP LOCKED: rows a ticket write holds (its SLA listener locks the ticket's timers) are left to the next
# check or sweep, so this statement never waits on, or deadlocks with, an agent's edit.
BREACH_SQL = """
UPDATE sla_timer
SET state = 'breached', breached_at = due_at, next_check_at = due_at
WHERE id IN (
    SELECT id FROM sla_timer
    WHERE state = 'running' AND due_at <= %(now)s {extra}
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


def breach_due_timers(now: datetime | None = None, *, timer_ids: list[int] | None = None) -> list[int]:
    """Mark running timers whose due time has passed as breached; returns their ids. Bulk: one statement
    whatever the count (100,000 overdue timers take seconds, not a task each)."""
    now = now or timezone.now()
    extra = "AND id = ANY(%(ids)s)" if timer_ids is not None else ""
    with transaction.atomic(), connection.cursor() as cursor:
        # Losing this commit in a database crash is harmless (the next sweep marks them again), so do
        # not wait for the WAL flush.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(BREACH_SQL.format(extra=extra), {"now": now, "ids": timer_ids or []})
        return [row[0] for row in cursor.fetchall()]


def _lock_record(timer: Timer) -> TicketBase:
    model = timer.content_type.model_class()
    return model.objects.select_for_update().get(pk=timer.object_id)


def fire_stage(timer_id: int, stage: int, *, now: datetime | None = None) -> bool:
    """Run one stage once. Returns False when it already ran or is not due. Lock order is ticket, then
    timer, the same as a ticket write (whose SLA listener locks the timers), so the two never deadlock."""
    now = now or timezone.now()
    with transaction.atomic():
        timer = Timer.objects.select_related("definition", "content_type").filter(pk=timer_id).first()
        if timer is None:
            return False
        record = _lock_record(timer)
        timer = Timer.objects.select_for_update().select_related("definition").get(pk=timer_id)
        breached = timer.state == TimerState.BREACHED
        if stage == BREACH_STAGE:
            if not breached:
                return False
        elif not breached and (timer.state != TimerState.RUNNING or timer.percent(now) < stage):
            return False  # a breached timer has passed every warning instant: those stages are owed
        definition = timer.definition
        if stage == BREACH_STAGE:
            ensure_breach_event(timer)
        actions = definition.actions_for(stage)
        try:
            with transaction.atomic():
                Escalation.objects.create(timer=timer, stage=stage, actions=actions, done_at=now)
        except IntegrityError:
            return False
        done = [
            f"{action.get('action')}: skipped, the SLA has already breached"
            if breached and stage != BREACH_STAGE and action.get("unless_breached")
            else run_action(record, timer, stage, action)
            for action in actions
        ]
        instant = stage_instant(timer, stage)
        late = max(0.0, (now - instant).total_seconds()) if instant else 0.0
        label = "breached" if stage == BREACH_STAGE else f"reached {stage}% (warning)"
        lateness = (
            f" Ran {late:.0f} s late (due {instant:%Y-%m-%d %H:%M:%S} UTC)." if late >= LATE_AFTER else ""
        )
        core_services.record_activity(
            record,
            kind=ActivityKind.SLA,
            public=False,
            body=f"SLA {definition.name!r} ({timer.target}) {label}."
            + lateness
            + (f" Escalation: {'; '.join(done)}." if done else ""),
            data={
                "event": "breach" if stage == BREACH_STAGE else "warning",
                "stage": stage,
                "timer": timer.pk,
                "definition": definition.name,
                "target": timer.target,
                "due_at": timer.due_at.isoformat() if timer.due_at else None,
                "stage_due_at": instant.isoformat() if instant else None,
                "late_seconds": round(late, 1),
                "actions": done,
            },
        )
        core_events.publish(
            "sla.breached" if stage == BREACH_STAGE else "sla.warning",
            record=record,
            data={
                "number": record.number,
                "kind": record.KIND,
                "definition": definition.name,
                "target": timer.target,
                "stage": stage,
                "due_at": timer.due_at.isoformat() if timer.due_at else None,
                "percent": timer.percent(now),
            },
        )
        timer.refresh_from_db()  # an action (raised priority) may have recomputed or canceled it
        advance_next_check(timer)
        _test_pause()
    return True


def _test_pause() -> None:
    path = os.environ.get(PAUSE_FILE_ENV)
    if not path or not Path(path).exists():
        return
    Path(path + ".reached").touch()
    deadline = time.monotonic() + 60
    while Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


# --- actions ------------------------------------------------------------------------------------------
def run_action(record: TicketBase, timer: Timer, stage: int, action: dict) -> str:
    """Perform one escalation action as the system; returns what was done, for the timeline."""
    kind = action.get("action")
    if kind in (
        EscalationAction.NOTIFY_ASSIGNEE,
        EscalationAction.NOTIFY_GROUP,
        EscalationAction.NOTIFY_MANAGER,
    ):
        recipients = _recipients(record, kind)
        if recipients:
            _mail_on_commit(record, timer, stage, recipients)
            return f"notified {', '.join(sorted(recipients))}"
        return f"{kind}: nobody to notify"
    if kind == EscalationAction.REASSIGN:
        group = AssignmentGroup.objects.filter(name=action.get("group")).first()
        if group is None or record.assignment_group_id == group.pk:
            return f"reassign: already with {action.get('group')}" if group else "reassign: group gone"
        core_services.update_ticket(
            record, actor=None, changes={"assignment_group": group, "assigned_to": None}
        )
        return f"reassigned to {group.name}"
    if kind == EscalationAction.RAISE_PRIORITY:
        return _raise_priority(record)
    return f"unknown action {kind}"


def _raise_priority(record: TicketBase) -> str:
    """Raise the priority one step through the agent's update service. Incidents derive priority from
    impact and urgency (SPEC §3), so for them urgency is raised first, then impact, each step raising the
    priority by exactly one; kinds with an editable priority get it directly."""
    editable = set(record.EDITABLE_FIELDS)
    before = record.priority
    for field in ("urgency", "impact", "priority"):
        value = getattr(record, field, None)
        if field in editable and isinstance(value, int) and value > 1:
            updated = core_services.update_ticket(record, actor=None, changes={field: value - 1})
            return f"raised priority {before} → {updated.priority} ({field} {value} → {value - 1})"
    return f"priority already highest ({before})"


def _recipients(record: TicketBase, kind: str) -> set[str]:
    group = record.assignment_group
    if kind == EscalationAction.NOTIFY_ASSIGNEE:
        users = [record.assigned_to] if record.assigned_to_id else []
    elif kind == EscalationAction.NOTIFY_MANAGER:
        users = [group.manager] if group and group.manager_id else []
    else:
        if group and group.email:
            return {group.email}
        users = list(group.members.filter(is_active=True)) if group else []
    return {u.email for u in users if u and u.email}


def _mail_on_commit(record: TicketBase, timer: Timer, stage: int, recipients: set[str]) -> None:
    what = "breached" if stage == BREACH_STAGE else f"at {stage}%"
    subject = f"[SLA {what}] {record.number}: {record.short_description}"
    try:
        url = settings.SITE_URL.rstrip("/") + record.get_absolute_url()
    except NoReverseMatch:
        url = record.number
    due = timer.due_at.isoformat() if timer.due_at else "n/a"
    body = (
        f"The {timer.target} SLA {timer.definition.name!r} of {record.number} is {what}.\n"
        f"Due: {due}\nPriority: {record.priority}\nState: {record.state}\n\n{url}\n"
    )

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, sorted(recipients))
        except Exception:
            logger.exception("SLA notification for %s failed", record.number)

    transaction.on_commit(send)


# --- per-timer check and the sweep --------------------------------------------------------------------
def process_timer(timer_id: int, *, now: datetime | None = None, breach_others: bool = True) -> None:
    """What a scheduled check (or the sweep) does for one timer: breach what is due, run every stage the
    timer owes in order (due warnings; for a breached timer, every missed warning and then the breach),
    store its next instant (scheduling the check at it) and release the sweep's claim on it."""
    now = now or timezone.now()
    if breach_others:
        # Breach every overdue timer, not just this one: when many timers fall due at once the first
        # check to run marks them all in one statement, and hands their stages out in chunks.
        others = [pk for pk in breach_due_timers(now) if pk != timer_id]
        if others:
            from .tasks import enqueue_breach_stages  # cycle: sla.tasks imports this module

            transaction.on_commit(lambda: enqueue_breach_stages(others))
    else:
        breach_due_timers(now, timer_ids=[timer_id])
    timer = Timer.objects.select_related("definition").filter(pk=timer_id).first()
    if timer is None:
        return
    if timer.state in (TimerState.RUNNING, TimerState.BREACHED):
        fired = set(timer.escalations.values_list("stage", flat=True))
        breached = timer.state == TimerState.BREACHED
        percent = 100.0 if breached else timer.percent(now)
        for threshold in sorted(timer.definition.warning_thresholds or []):
            if threshold not in fired and percent >= threshold:
                fire_stage(timer_id, threshold, now=now)
        if breached and BREACH_STAGE not in fired:
            fire_stage(timer_id, BREACH_STAGE, now=now)
    with transaction.atomic():
        locked = Timer.objects.select_for_update().select_related("definition").filter(pk=timer_id).first()
        if locked is not None:
            advance_next_check(locked, release=True)


def advance_next_check(timer: Timer, *, release: bool = False) -> None:
    """Store the timer's next instant with work (sla.engine.pending_instants) and, when a running timer's
    instant moved because a warning fired or the timer changed, schedule the check at it: the chain of
    checks that engine.schedule_checks starts. A check that finds the instant unchanged ran early (a
    recompute scheduled a newer one) and schedules nothing. `release` also clears the sweep's claim.
    `timer.next_check_at` must be the stored value."""
    next_check = min(pending_instants(timer), default=None)
    fields: dict = {}
    if next_check != timer.next_check_at:
        fields["next_check_at"] = next_check
    if release and timer.claimed_until is not None:
        fields["claimed_until"] = None
    if fields:
        Timer.objects.filter(pk=timer.pk).update(**fields)
    if "next_check_at" in fields and next_check is not None and timer.state == TimerState.RUNNING:
        schedule_check(timer.pk, next_check)


CLAIM_SQL = """
UPDATE sla_timer SET claimed_until = %(until)s
WHERE id IN (
    SELECT id FROM sla_timer
    WHERE next_check_at <= %(due)s AND (claimed_until IS NULL OR claimed_until < %(now)s)
    ORDER BY next_check_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


def claim_due(now: datetime, *, limit: int = SWEEP_BATCH) -> list[int]:
    """Take a lease on up to `limit` timers whose next instant has passed and that no other sweep holds.
    Committed at once, so a concurrent sweep sees the claim; rows locked by a ticket write are skipped."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            CLAIM_SQL,
            {
                "now": now,
                "due": now - SWEEP_GRACE,
                "until": now + timedelta(seconds=CLAIM_SECONDS),
                "limit": limit,
            },
        )
        return [row[0] for row in cursor.fetchall()]


def run_due(now: datetime | None = None, *, budget: float = SWEEP_BUDGET) -> dict:
    """Claim and process due timers batch after batch until none is left or `budget` seconds passed
    (the next sweep goes on). `now` is for tests; the real sweep reads the clock for each batch."""
    started = time.monotonic()
    processed = batches = 0
    while time.monotonic() - started < budget:
        ids = claim_due(now or timezone.now())
        if not ids:
            break
        batches += 1
        for timer_id in ids:
            try:
                process_timer(timer_id, now=now, breach_others=False)
            except DatabaseError:
                raise  # the database itself is failing: the task retries (sla.tasks.TASK_OPTIONS)
            except Exception:
                # One timer's failure (a bug in an action) must not starve the rest of the batch; its
                # claim runs out and a later sweep tries it again, CLAIM_SECONDS later, not in a hot loop.
                logger.exception("SLA timer %s failed in the sweep; it is retried later", timer_id)
            processed += 1
    return {"processed": processed, "batches": batches}


def rebuild(timer_id: int) -> None:
    """Replay one timer from its events (used by the admin action). Like every writer of a timer's events
    (a replay may log a missing breach), it holds its ticket's lock first, then the timer's (the order of
    fire_stage and of ticket writes): a move reads its timers' events in the statement that locks them
    (sla.engine.timers_with_history), which is safe only while no one adds one without the ticket lock."""
    with transaction.atomic():
        timer = Timer.objects.select_related("content_type").get(pk=timer_id)
        _lock_record(timer)
        timer = Timer.objects.select_for_update().select_related("definition").get(pk=timer_id)
        recompute(timer)
