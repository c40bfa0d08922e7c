"""Reads of SLA data for other apps: queryset filters on any ticket kind, and per-ticket timer lists.

Filters are `Exists` subqueries, so they compose with `core.selectors.visible_tickets` (which decides who
sees what) and keep list pages at a fixed query count.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from core import selectors as core_selectors
from core.choices import ActivityKind
from core.models import Activity, TicketBase

from .models import Timer, TimerState

SLA_STATES = [value for value, _ in TimerState.choices]


def _timers_of(queryset: QuerySet) -> QuerySet:
    return Timer.objects.filter(
        content_type=ContentType.objects.get_for_model(queryset.model), object_id=OuterRef("pk")
    )


def filter_by_sla_state(queryset: QuerySet, state: str) -> QuerySet:
    """Tickets having at least one timer in `state` (running, paused, met, breached, canceled)."""
    if state not in SLA_STATES:
        raise ValueError(f"Unknown SLA state {state!r}; use one of {', '.join(SLA_STATES)}.")
    return queryset.filter(Exists(_timers_of(queryset).filter(state=state)))


# "Breaching soon" everywhere (the API filter, the incident list's saved view, the agent home, the SLA
# queue's default): a running timer due within this window. Four hours leaves a shift time to act.
BREACHING_SOON = timedelta(hours=4)


def breaching_soon(queryset: QuerySet, *, within: timedelta = BREACHING_SOON, now=None) -> QuerySet:
    """Tickets with a running timer due within `within` (overdue ones not yet marked included)."""
    now = now or timezone.now()
    return queryset.filter(
        Exists(_timers_of(queryset).filter(state=TimerState.RUNNING, due_at__lte=now + within))
    )


def at_risk(queryset: QuerySet) -> QuerySet:
    """Tickets with a running timer predicted to breach (sla.risk sets the flag every minute)."""
    return queryset.filter(Exists(_timers_of(queryset).filter(state=TimerState.RUNNING, at_risk=True)))


def ticket_timers(record: TicketBase, *, now=None) -> list[dict]:
    """The record's timers as template-friendly dicts (uses `sla_timers` when prefetched)."""
    now = now or timezone.now()
    timers = record.sla_timers.all()
    if "sla_timers" not in getattr(record, "_prefetched_objects_cache", {}):
        timers = timers.select_related("definition", "definition__calendar")
    rows = []
    for timer in timers:
        rows.append(
            {
                "id": timer.pk,
                "name": timer.definition.name,
                "target": timer.target,
                "state": timer.state,
                "due_at": timer.due_at,
                "started_at": timer.started_at,
                "percent": timer.percent(now),
                "elapsed_seconds": int(timer.live_elapsed(now)),
                "paused_seconds": int(timer.live_paused(now)),
                "at_risk": timer.at_risk,
                "predicted_breach_at": timer.predicted_breach_at,
            }
        )
    return sorted(rows, key=lambda r: (r["state"] not in ("running", "breached"), r["due_at"] or now))


def sla_history(record: TicketBase) -> QuerySet:
    """The SLA rows of the ticket's timeline: starts, pauses, recomputations, warnings, breaches."""
    return Activity.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk, kind=ActivityKind.SLA
    ).order_by("created_at", "id")


def breaching_queue(user, *, within: timedelta = timedelta(hours=4), limit: int = 200) -> list[dict]:
    """Running timers due within `within` on tickets the user may see, soonest first: one timer query
    plus one query per ticket kind, whatever the number of rows."""
    now = timezone.now()
    timers = list(
        Timer.objects.filter(state=TimerState.RUNNING, due_at__lte=now + within)
        .select_related("definition", "definition__calendar", "content_type")
        .prefetch_related("definition__calendar__hours", "definition__calendar__holidays")
        .order_by("due_at")[:limit]
    )
    by_type: dict[int, set[int]] = {}
    for timer in timers:
        by_type.setdefault(timer.content_type_id, set()).add(timer.object_id)
    records: dict[tuple[int, int], TicketBase] = {}
    for ct_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        visible = core_selectors.visible_tickets(model, user).filter(pk__in=ids)
        for record in visible.select_related("assignment_group", "assigned_to"):
            records[(ct_id, record.pk)] = record
    rows = []
    for timer in timers:
        record = records.get((timer.content_type_id, timer.object_id))
        if record is not None:
            rows.append(
                {
                    "record": record,
                    "timer": {
                        "name": timer.definition.name,
                        "target": timer.target,
                        "state": timer.state,
                        "due_at": timer.due_at,
                        "percent": timer.percent(now),
                    },
                }
            )
    return rows
