"""The SLA timer engine: which definitions apply to a ticket, and what each ticket change does to its timers.

Every timer change appends a `TimerEvent` and then recomputes the timer's columns by replaying all its
events (`replay`), so the numbers can always be explained, and a recomputation (priority changed, a
definition newly applies) never loses paused time. Each event also lands on the ticket's timeline
(kind "sla"). Runs inside the ticket service's transaction (a `core.events.on_change` listener), so a
timer never disagrees with the ticket state that caused it; the Celery checks are enqueued on commit.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.expressions import ArraySubquery
from django.db import transaction
from django.db.models import OuterRef
from django.utils import timezone

from accounts.roles import AGENT, has_role
from core import events as core_events
from core.choices import ActivityKind
from core.config_cache import ConfigCache
from core.models import Activity, TicketBase
from core.perf.orm import known_empty
from core.perf.prepared_get import prepared_filter
from core.perf.prepared_writes import Insert, Update, save_together
from core.services import activity_row, record_activities, record_activity, remember_related

from .calendar import Calendar
from .models import (
    BREACH_STAGE,
    BusinessCalendar,
    Escalation,
    Holiday,
    SLADefinition,
    Target,
    Timer,
    TimerEvent,
    TimerState,
    WorkingHours,
)

CANCEL_STATES = frozenset({"canceled", "cancelled", "rejected"})
OPEN_STATES = (TimerState.RUNNING, TimerState.PAUSED)
# Ticket fields whose change can make a different set of definitions apply.
CONDITION_TRIGGERS = frozenset(
    {"priority", "assignment_group", "category", "catalog_item", "urgency", "impact"}
)


# --- pure replay --------------------------------------------------------------------------------------
@dataclass
class Clock:
    """A timer's state after replaying its events."""

    state: str = TimerState.RUNNING
    started_at: datetime | None = None
    running_since: datetime | None = None
    paused_since: datetime | None = None
    elapsed: float = 0.0
    paused: float = 0.0
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    due_at: datetime | None = None


def replay(events: Iterable[tuple[str, datetime]], calendar: Calendar, duration: int) -> Clock:
    """Fold (kind, at) events into a Clock. A breach is final for `state` but the clock keeps counting
    (and pausing), so an overdue ticket still reports how overdue it is. A met timer that is resumed
    (the ticket reopened) counts the stopped stretch as paused time."""
    clock = Clock()
    breached = False

    def close_running(at: datetime) -> None:
        if clock.running_since is not None:
            clock.elapsed += calendar.working_seconds_between(clock.running_since, at)
            clock.running_since = None

    def close_paused(at: datetime) -> None:
        if clock.paused_since is not None:
            clock.paused += max(0.0, (at - clock.paused_since).total_seconds())
            clock.paused_since = None

    for kind, at in events:
        if kind == TimerEvent.Kind.START:
            clock.started_at, clock.running_since = at, at
            clock.state = TimerState.RUNNING
        elif kind == TimerEvent.Kind.PAUSE and clock.running_since is not None:
            close_running(at)
            clock.paused_since = at
            clock.state = TimerState.BREACHED if breached else TimerState.PAUSED
        elif kind == TimerEvent.Kind.RESUME:
            if clock.stopped_at is not None:
                clock.paused += max(0.0, (at - clock.stopped_at).total_seconds())
                clock.stopped_at = None
            close_paused(at)
            if clock.running_since is None:
                clock.running_since = at
            clock.state = TimerState.BREACHED if breached else TimerState.RUNNING
        elif kind in (TimerEvent.Kind.STOP, TimerEvent.Kind.CANCEL):
            close_running(at)
            close_paused(at)
            clock.stopped_at = at
            if not breached:
                clock.state = TimerState.MET if kind == TimerEvent.Kind.STOP else TimerState.CANCELED
        elif kind == TimerEvent.Kind.BREACH:
            breached = True
            clock.breached_at = clock.breached_at or at
            clock.state = TimerState.BREACHED
        if clock.running_since is not None and not breached:
            clock.due_at = calendar.add_working_seconds(
                clock.running_since, max(0.0, duration - clock.elapsed)
            )
        elif clock.state == TimerState.PAUSED:
            clock.due_at = None
    return clock


# --- which definitions apply --------------------------------------------------------------------------
def matches(definition: SLADefinition, record: TicketBase) -> bool:
    """Every condition must hold; a condition on a field the ticket kind lacks never holds."""
    for key, values in (definition.conditions or {}).items():
        accepted = {str(v) for v in values}
        if key == "priority":
            ok = str(record.priority) in accepted
        elif key == "assignment_group":
            ok = record.assignment_group_id is not None and record.assignment_group.name in accepted
        elif key == "ci_class":
            ok = (
                record.pk is not None
                and record.configuration_items.filter(ci_class__name__in=accepted).exists()
            )
        else:  # category, catalog_item: a related object (by name or id) or a plain value
            value = getattr(record, key, None)
            if value is None:
                ok = False
            elif hasattr(value, "pk"):
                ok = bool({str(value.pk), str(getattr(value, "name", ""))} & accepted)
            else:
                ok = str(value) in accepted
        if not ok:
            return False
    return True


def _load_definitions(kind: str) -> list[SLADefinition]:
    return list(
        SLADefinition.objects.filter(applies_to=kind, active=True)
        .select_related("calendar")
        .prefetch_related("calendar__hours", "calendar__holidays")
    )


# The active definitions of each ticket kind, per process: every ticket write reads them, admins change
# them rarely. Any committed change to a definition or calendar invalidates every process's copy.
_definitions = ConfigCache(_load_definitions, models=(SLADefinition, BusinessCalendar, WorkingHours, Holiday))


def applicable_definitions(record: TicketBase) -> list[SLADefinition]:
    return [d for d in _definitions.get(record.KIND) if matches(d, record)]


# --- writing events -----------------------------------------------------------------------------------
def _calendar(definition: SLADefinition) -> Calendar:
    return definition.get_calendar()


def _describe(timer: Timer, kind: str, clock: Clock, note: str) -> str:
    name = timer.definition.name
    verb = dict(TimerEvent.Kind.choices)[kind].lower()
    text = f"SLA {name!r} ({timer.target}) {verb}"
    if clock.due_at is not None and clock.state == TimerState.RUNNING:
        text += f"; due {clock.due_at.astimezone(timezone.get_current_timezone()):%Y-%m-%d %H:%M:%S %Z}"
    if note:
        text += f". {note}"
    return text


def store(timer: Timer, clock: Clock) -> None:
    """Write the replayed numbers onto the timer row and compute its next check instant."""
    _set_columns(timer, clock)
    timer.save()


def _set_columns(timer: Timer, clock: Clock, *, fired: set[int] | None = None) -> None:
    timer.state = clock.state
    timer.started_at = clock.started_at or timer.started_at
    timer.running_since = clock.running_since
    timer.paused_since = clock.paused_since
    timer.elapsed_seconds = clock.elapsed
    timer.paused_seconds = clock.paused
    timer.stopped_at = clock.stopped_at
    timer.breached_at = clock.breached_at
    timer.due_at = clock.due_at
    timer.next_check_at = min(pending_instants(timer, fired=fired), default=None)


def pending_instants(timer: Timer, *, fired: set[int] | None = None) -> list[datetime]:
    """The instants at which a running timer crosses a not-yet-fired warning threshold, and its due time;
    for a breached timer whose breach stage has not run, its breach time (the stage, and every warning
    it skipped, are still owed: sla.escalations.process_timer). `fired` (the stages already run) is read
    from the ledger unless the caller knows it."""
    if fired is None and timer.state in (TimerState.RUNNING, TimerState.BREACHED):
        fired = set(timer.escalations.values_list("stage", flat=True)) if timer.pk else set()
    if timer.state == TimerState.BREACHED:
        owed = BREACH_STAGE not in fired and (timer.breached_at or timer.due_at)
        return [timer.breached_at or timer.due_at] if owed else []
    if timer.state != TimerState.RUNNING or timer.running_since is None or timer.due_at is None:
        return []
    definition = timer.definition
    calendar = _calendar(definition)
    instants = [timer.due_at]
    for threshold in definition.warning_thresholds or []:
        if threshold in fired:
            continue
        needed = definition.duration * threshold / 100 - timer.elapsed_seconds
        instants.append(calendar.add_working_seconds(timer.running_since, max(0.0, needed)))
    return sorted(instants)


def apply_event(
    timer: Timer,
    kind: str,
    at: datetime,
    *,
    actor=None,
    record: TicketBase | None = None,
    note: str = "",
    data: dict | None = None,
) -> Timer:
    """Append one event, replay, store, write the timeline row, and schedule the checks on commit.

    A timer stopped after its due time but before Celery noticed is breached, not met: the breach is
    recorded at the due time first, and its escalation stage enqueued.

    A timer read with its history (`timers_with_history`) is replayed from that history and the new
    event, and its event, its columns and its timeline row are written in one statement; any other
    timer reads its events back after writing the new one.
    """
    record = record if record is not None else timer.record
    if (
        kind in (TimerEvent.Kind.STOP, TimerEvent.Kind.PAUSE, TimerEvent.Kind.CANCEL)
        and timer.state == TimerState.RUNNING
        and timer.due_at is not None
        and timer.due_at <= at
    ):
        # The replay below leaves the timer breached with next_check_at at its breach time, and
        # schedule_checks publishes the check that runs the breach stage (the sweep, if that is lost).
        # (Written on its own, before the event: two events in one statement get their ids, which
        # order events of the same instant, in no promised order.)
        TimerEvent.objects.create(timer=timer, kind=TimerEvent.Kind.BREACH, at=timer.due_at)
        if getattr(timer, "history", None) is not None:
            timer.history.append((TimerEvent.Kind.BREACH, timer.due_at))
    if getattr(timer, "history", None) is None:
        TimerEvent.objects.create(timer=timer, kind=kind, at=at, data=data or {})
        recompute(timer)
        _timeline(record, timer, kind, actor=actor, note=note)
        schedule_checks(timer)
        return timer
    ensure_breach_event(timer)
    # Stable: an event of the same instant as a stored one stays after it, as its higher id orders it.
    timer.history = sorted([*timer.history, (kind, at)], key=lambda event: event[1])
    definition = timer.definition
    _set_columns(timer, replay(timer.history, _calendar(definition), definition.duration), fired=timer.fired)
    save_together(
        [
            Insert(TimerEvent(timer=timer, kind=kind, at=at, data=data or {})),
            Update(timer, REPLAYED_COLUMNS),
            Insert(activity_row(record, **_timeline_entry(timer, kind, actor=actor, note=note))),
        ]
    )
    schedule_checks(timer, fired=timer.fired)
    return timer


# The columns `_set_columns` writes: all a replay changes (the timer row is locked, so the others stay as
# read).
REPLAYED_COLUMNS = (
    "state",
    "started_at",
    "running_since",
    "paused_since",
    "elapsed_seconds",
    "paused_seconds",
    "stopped_at",
    "breached_at",
    "due_at",
    "next_check_at",
)


def recompute(timer: Timer) -> Clock:
    """Replay every stored event with the definition's current duration and calendar."""
    definition = timer.definition
    ensure_breach_event(timer)
    events = list(timer.events.order_by("at", "id").values_list("kind", "at"))
    clock = replay(events, _calendar(definition), definition.duration)
    store(timer, clock)
    return clock


def ensure_breach_event(timer: Timer) -> None:
    """The bulk breach only sets `breached_at`; log the matching event before anything replays it."""
    if timer.breached_at is None:
        return
    history = getattr(timer, "history", None)
    if history is not None:
        if all(kind != TimerEvent.Kind.BREACH for kind, _ in history):
            TimerEvent.objects.create(timer=timer, kind=TimerEvent.Kind.BREACH, at=timer.breached_at)
            history.append((TimerEvent.Kind.BREACH, timer.breached_at))
    elif not timer.events.filter(kind=TimerEvent.Kind.BREACH).exists():
        TimerEvent.objects.create(timer=timer, kind=TimerEvent.Kind.BREACH, at=timer.breached_at)


def _timeline(record: TicketBase, timer: Timer, kind: str, *, actor=None, note: str = "") -> None:
    record_activity(record, **_timeline_entry(timer, kind, actor=actor, note=note))


def _timeline_entry(timer: Timer, kind: str, *, actor=None, note: str = "") -> dict:
    clock = Clock(state=timer.state, due_at=timer.due_at)
    return dict(
        kind=ActivityKind.SLA,
        actor=actor,
        public=False,
        body=_describe(timer, kind, clock, note),
        data={
            "event": kind,
            "timer": timer.pk,
            "definition": timer.definition.name,
            "target": timer.target,
            "state": timer.state,
            "due_at": timer.due_at.isoformat() if timer.due_at else None,
            "elapsed_seconds": round(timer.elapsed_seconds, 1),
            "paused_seconds": round(timer.paused_seconds, 1),
        },
    )


# While a ticket event is handled, the Celery messages it causes are collected here and published
# after commit in one batch over one broker connection (see on_ticket_change).
_pending_jobs: contextvars.ContextVar[list | None] = contextvars.ContextVar("sla_pending_jobs", default=None)


def _after_commit(jobs: list[tuple[str, tuple, dict]]) -> None:
    """Publish (task name, args, options) jobs once the transaction commits."""
    collected = _pending_jobs.get()
    if collected is not None:
        collected.extend(jobs)
        return

    def publish() -> None:
        from .tasks import enqueue_many  # cycle: sla.tasks imports sla.escalations, which imports this module

        enqueue_many(jobs)

    transaction.on_commit(publish)


def schedule_checks(timer: Timer, *, fired: set[int] | None = None) -> None:
    """After commit, enqueue one check at the timer's next instant: its first warning not yet fired, or
    its due time. That check schedules the next one (escalations.process_timer), so a timer has one
    pending message at a time instead of one per threshold (a ticket create then publishes one message,
    not four). A broker outage must not fail the ticket write: errors are logged, and the beat sweep
    runs every check whose `next_check_at` has passed, whether or not its message arrived."""
    instants = pending_instants(timer, fired=fired)
    if instants:
        schedule_check(timer.pk, instants[0])


def schedule_check(timer_id: int, at: datetime) -> None:
    """After commit, enqueue the Celery check of one timer at `at`, if `at` is within
    settings.SLA_ETA_HORIZON: a worker holds an eta message unacknowledged until it runs, and one held
    longer than the broker's visibility timeout is redelivered (a duplicate per timeout period). Later
    instants are left to the sweep, which finds them by `next_check_at` once they pass."""
    if at <= timezone.now() + timedelta(seconds=settings.SLA_ETA_HORIZON):
        _after_commit([("check_timer", (timer_id,), {"eta": at})])


def stage_instant(timer: Timer, stage: int) -> datetime | None:
    """When the timer's working time reached `stage` percent of its duration, replaying its running
    stretches (so pauses are skipped); None if it has not yet. Used to record how late a stage ran."""
    if stage == BREACH_STAGE and timer.breached_at is not None:
        return timer.breached_at
    calendar = _calendar(timer.definition)
    target = timer.definition.duration * stage / 100
    elapsed, since = 0.0, None
    for kind, at in timer.events.order_by("at", "id").values_list("kind", "at"):
        if kind == TimerEvent.Kind.START:
            elapsed, since = 0.0, at
        elif kind == TimerEvent.Kind.RESUME and since is None:
            since = at
        elif kind in (TimerEvent.Kind.PAUSE, TimerEvent.Kind.STOP, TimerEvent.Kind.CANCEL) and since:
            span = calendar.working_seconds_between(since, at)
            if elapsed + span >= target:
                return calendar.add_working_seconds(since, max(0.0, target - elapsed))
            elapsed, since = elapsed + span, None
    if since is None:
        return None
    return calendar.add_working_seconds(since, max(0.0, target - elapsed))


# --- starting timers, from the ticket's own history ---------------------------------------------------
def _is_agent_response(activity: Activity, record: TicketBase) -> bool:
    if activity.kind == ActivityKind.ASSIGNMENT:
        return any(
            c.get("field") == "assigned_to" and c.get("new") for c in (activity.data or {}).get("changes", [])
        )
    if activity.kind == ActivityKind.COMMENT and activity.public and activity.actor_id:
        return activity.actor_id != record.opened_by_id and has_role(activity.actor, AGENT)
    return False


def history_events(
    record: TicketBase, definition: SLADefinition, *, rows: list[Activity] | None = None
) -> list[tuple[str, datetime]]:
    """The events a timer of `definition` would have recorded had it run since the ticket opened: the
    start at `opened_at`, then pauses/resumes/stops from the ticket's state changes (with this
    definition's pause states) and, for a response target, the first agent response. `rows` are the
    ticket's state-change, assignment and comment timeline rows when the caller already has them."""
    workflow = record.workflow
    pause_states = set(definition.pause_states or [])
    out: list[tuple[str, datetime]] = [(TimerEvent.Kind.START, record.opened_at)]
    state = workflow.initial
    status = "running"
    if state in pause_states:
        out.append((TimerEvent.Kind.PAUSE, record.opened_at))
        status = "paused"
    if rows is None:
        rows = list(
            Activity.objects.filter(
                content_type=ContentType.objects.get_for_model(record),
                object_id=record.pk,
                kind__in=[ActivityKind.STATE_CHANGE, ActivityKind.ASSIGNMENT, ActivityKind.COMMENT],
            )
            .select_related("actor")
            .order_by("created_at", "id")
        )
    responded = False
    # Assigned, with no assignment on the timeline: it was opened already assigned.
    if (
        definition.target == Target.RESPONSE
        and record.assigned_to_id
        and not any(_is_agent_response(r, record) for r in rows if r.kind == ActivityKind.ASSIGNMENT)
    ):
        out.append((TimerEvent.Kind.STOP, record.opened_at))
        status, responded = "stopped", True
    for row in rows:
        if definition.target == Target.RESPONSE and not responded and _is_agent_response(row, record):
            responded = True
            if status in ("running", "paused"):
                out.append((TimerEvent.Kind.STOP, row.created_at))
                status = "stopped"
        if row.kind != ActivityKind.STATE_CHANGE:
            continue
        frm, to = row.data.get("from", state), row.data.get("to", state)
        for kind in state_change_kinds(definition, workflow, frm, to, status):
            out.append((kind, row.created_at))
            status = {"pause": "paused", "resume": "running", "stop": "stopped", "cancel": "canceled"}[kind]
        state = to
    return out


def state_change_kinds(definition, workflow, frm: str, to: str, status: str) -> list[str]:
    """What a state change means for a timer in `status` (running/paused/stopped/canceled)."""
    if status == "canceled":
        return []
    if to in CANCEL_STATES:
        return [TimerEvent.Kind.CANCEL] if status in ("running", "paused") else []
    if to in workflow.done_states or to in workflow.final_states:
        return [TimerEvent.Kind.STOP] if status in ("running", "paused") else []
    if status == "stopped":
        reopened = frm in workflow.done_states and definition.target == Target.RESOLUTION
        if not reopened:
            return []
        return [TimerEvent.Kind.RESUME, *([TimerEvent.Kind.PAUSE] if to in definition.pause_states else [])]
    pause_states = set(definition.pause_states or [])
    if to in pause_states and status == "running":
        return [TimerEvent.Kind.PAUSE]
    if to not in pause_states and status == "paused":
        return [TimerEvent.Kind.RESUME]
    return []


def _status(timer: Timer) -> str:
    if timer.state == TimerState.CANCELED:
        return "canceled"
    if timer.stopped_at is not None or timer.state == TimerState.MET:
        return "stopped"
    if timer.running_since is None:
        return "paused"
    return "running"


def start_from_history(
    record: TicketBase, definition: SLADefinition, *, actor=None, note: str = "", opening: bool = False
) -> Timer:
    """Create (or rebuild a canceled) timer whose events replay the ticket's history since it opened."""
    timer, created = Timer.objects.get_or_create(
        definition=definition,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        defaults={"target": definition.target, "started_at": record.opened_at},
    )
    if not created:
        timer.events.all().delete()  # the canceled run is superseded; its timeline rows remain
    timer.definition = definition
    TimerEvent.objects.bulk_create(
        [
            TimerEvent(timer=timer, kind=kind, at=at, data={"from_history": True})
            for kind, at in history_events(record, definition)
        ]
    )
    kind = TimerEvent.Kind.START if opening else TimerEvent.Kind.RECOMPUTE
    if kind == TimerEvent.Kind.RECOMPUTE:
        TimerEvent.objects.create(
            timer=timer, kind=kind, at=timezone.now(), data={"reason": note or "definition applies"}
        )
    recompute(timer)
    _timeline(record, timer, kind, actor=actor, note=note)
    schedule_checks(timer)
    return timer


def open_timers(record: TicketBase, definitions: list[SLADefinition], *, actor=None) -> list[Timer]:
    """Start the timers of a ticket being opened: the same rows `start_from_history` writes, in one
    INSERT per table. The ticket was inserted by this transaction, so it has no timers, no escalations
    and no state-change, assignment or comment rows yet: its history is computed without reading."""
    if not definitions:
        return []
    content_type = ContentType.objects.get_for_model(record)
    plans = []
    for definition in definitions:
        events = sorted(history_events(record, definition, rows=[]), key=lambda event: event[1])
        timer = Timer(
            definition=definition,
            content_type=content_type,
            object_id=record.pk,
            target=definition.target,
            started_at=record.opened_at,
        )
        _set_columns(timer, replay(events, _calendar(definition), definition.duration), fired=set())
        plans.append((timer, events))
    timers = Timer.objects.bulk_create([timer for timer, _ in plans])
    TimerEvent.objects.bulk_create(
        [
            TimerEvent(timer=timer, kind=kind, at=at, data={"from_history": True})
            for timer, events in plans
            for kind, at in events
        ]
    )
    record_activities(
        record, [_timeline_entry(timer, TimerEvent.Kind.START, actor=actor) for timer in timers]
    )
    for timer in timers:
        schedule_checks(timer, fired=set())
    return timers


# --- reacting to ticket events ------------------------------------------------------------------------
def timers_for(record: TicketBase, *, lock: bool = True):
    qs = Timer.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("definition", "definition__calendar")
    return qs.select_for_update(of=("self",)) if lock else qs


def evaluate(record: TicketBase, *, actor=None, reason: str = "", opening: bool = False) -> None:
    """Bring the ticket's timers in line with the definitions that apply now: cancel those that no longer
    apply, recompute those that still do, start those that newly apply (counted from the ticket's
    original start, less the time it spent paused)."""
    wanted = {d.pk: d for d in applicable_definitions(record)}
    # A ticket being opened was inserted by this very transaction: it has no timers to look up.
    existing = {} if opening else {t.definition_id: t for t in timers_for(record)}
    now = timezone.now()
    for definition_id, timer in existing.items():
        if definition_id not in wanted and timer.state in OPEN_STATES:
            apply_event(timer, TimerEvent.Kind.CANCEL, now, actor=actor, record=record, note=reason)
    if not record.is_open:
        return
    if opening:
        # The new ticket's timers are exactly these: the API's answer to the create lists them unread.
        remember_related(record, "sla_timers", open_timers(record, list(wanted.values()), actor=actor))
        return
    for definition_id, definition in wanted.items():
        timer = existing.get(definition_id)
        if timer is None or timer.state == TimerState.CANCELED:
            start_from_history(record, definition, actor=actor, note=reason, opening=opening)
        elif timer.state in OPEN_STATES:
            before = timer.due_at
            recompute(timer)
            if timer.due_at != before:
                apply_event(timer, TimerEvent.Kind.RECOMPUTE, now, actor=actor, record=record, note=reason)


def stop_response_timers(record: TicketBase, *, actor=None, note: str) -> None:
    now = timezone.now()
    for timer in timers_for(record).filter(target=Target.RESPONSE):
        if _status(timer) in ("running", "paused"):
            apply_event(timer, TimerEvent.Kind.STOP, now, actor=actor, record=record, note=note)


def timers_with_history(record: TicketBase) -> list[Timer]:
    """The ticket's timers under lock as `timers_for` reads them, each with its events' (kind, at) in
    replay order (`history`) and the stages it has run (`fired`), in the same statement, and with the
    active definition of the per-process cache (its calendar already built).

    The ticket's row must be locked already: every writer of a timer's events or escalations holds
    that lock (the ticket services, sla.escalations' fire_stage and rebuild), so none can commit one
    between this statement's snapshot, which its subqueries read, and the timer locks it takes.
    """
    content_type = ContentType.objects.get_for_model(record)
    timers = prepared_filter(
        ("sla_timers_with_history", content_type.pk),
        lambda: _timers_with_history(content_type),
        "object_id",
        record.pk,
    )
    if not timers:
        return timers
    active = {definition.pk: definition for definition in _definitions.get(record.KIND)}
    for timer in timers:
        timer.history = list(zip(timer.history_kinds, timer.history_ats, strict=True))
        timer.fired = set(timer.fired_stages)
        if timer.definition_id in active:
            timer.definition = active[timer.definition_id]
    return timers


def _timers_with_history(content_type: ContentType):
    """The statement of `timers_with_history` (the same every time but the ticket's id, so it is compiled
    once per process and prepared: core.perf.prepared_get)."""
    events = TimerEvent.objects.filter(timer=OuterRef("pk")).order_by("at", "id")
    return (
        Timer.objects.filter(content_type=content_type)
        .select_for_update()
        .annotate(
            history_kinds=ArraySubquery(events.values("kind")),
            history_ats=ArraySubquery(events.values("at")),
            fired_stages=ArraySubquery(Escalation.objects.filter(timer=OuterRef("pk")).values("stage")),
        )
    )


def on_state_changed(record: TicketBase, *, frm: str, to: str, actor=None) -> None:
    # The ticket's locked read tells when it has no timers at all (core.locking): nothing to read, and
    # the answer already knows the set is empty.
    if known_empty(record, "sla_timers"):
        return
    now = timezone.now()
    timers = timers_with_history(record)
    for timer in timers:
        for kind in state_change_kinds(timer.definition, record.workflow, frm, to, _status(timer)):
            apply_event(timer, kind, now, actor=actor, record=record, note=f"State {frm} → {to}.")
    # These are all of the ticket's timers, as the move left them: the API's answer lists them unread.
    remember_related(record, "sla_timers", timers)


def on_ticket_change(event: core_events.Event) -> None:
    """The core.events listener (registered in SlaConfig.ready) for every ticket kind. The Celery
    checks its timer changes need are published in one batch after commit."""
    record = event.record
    if not isinstance(record, TicketBase) or event.kind != getattr(record, "KIND", None):
        return
    jobs: list = []
    token = _pending_jobs.set(jobs)
    try:
        _handle(event, record)
    finally:
        _pending_jobs.reset(token)
    if jobs:
        _after_commit(jobs)


def _handle(event: core_events.Event, record: TicketBase) -> None:
    action = event.action
    if action == "created":
        evaluate(record, actor=event.actor, reason="", opening=True)
    elif action == "updated":
        changes = event.data.get("changes", [])
        fields = {c["field"] for c in changes}
        if fields & CONDITION_TRIGGERS or "cis" in event.data:
            changed = ", ".join(f"{c['field']} {c['old']} → {c['new']}" for c in changes)
            evaluate(record, actor=event.actor, reason=f"Re-evaluated after {changed or 'CI change'}.")
        if any(c["field"] == "assigned_to" and c["new"] for c in changes):
            stop_response_timers(record, actor=event.actor, note="Assigned.")
    elif action == "state_changed":
        on_state_changed(record, frm=event.data.get("from"), to=event.data.get("to"), actor=event.actor)
    elif action == "commented":
        actor = event.actor
        if (
            event.data.get("public")
            and actor is not None
            and actor.pk != record.opened_by_id
            and has_role(actor, AGENT)
        ):
            stop_response_timers(record, actor=actor, note="First agent response.")


__all__ = ["BREACH_STAGE", "on_ticket_change", "evaluate", "replay", "recompute"]
