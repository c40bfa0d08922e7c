"""Reads for the agent home: the user's own work, their groups' queue, SLAs about to breach, approvals
waiting on them and what they watch. Every ticket read starts from core.selectors.visible_tickets, and
each list costs a fixed number of queries (one per ticket kind plus its timer prefetch)."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q
from django.utils import timezone

from core.approvals import pending_for
from core.models import TicketBase
from core.selectors import visible_tickets
from incidents.models import Incident
from problems.models import Problem
from requests_app.models import Request, Task
from sla.models import Timer, TimerState
from sla.selectors import BREACHING_SOON

HOME_KINDS: tuple[type[TicketBase], ...] = (Incident, Request, Task, Problem)
LIMIT = 25
BREACH_SOON = BREACHING_SOON


def _with_timers(queryset):
    timers = Timer.objects.select_related("definition").exclude(state=TimerState.CANCELED)
    return queryset.select_related("assignment_group", "assigned_to").prefetch_related(
        Prefetch("sla_timers", queryset=timers)
    )


def _attach_sla(tickets: list[TicketBase]) -> list[TicketBase]:
    """Give each ticket `sla`: its most urgent timer (breached first, then the closest to its due time)."""
    order = {TimerState.BREACHED: 0, TimerState.RUNNING: 1, TimerState.PAUSED: 2, TimerState.MET: 3}
    for ticket in tickets:
        timers = sorted(
            ticket.sla_timers.all(),
            key=lambda t: (order.get(t.state, 9), t.due_at or timezone.now() + dt.timedelta(days=3650)),
        )
        ticket.sla = timers[0] if timers else None
    return tickets


def _merge(querysets, key, limit=LIMIT) -> list[TicketBase]:
    tickets = [t for qs in querysets for t in qs[:limit]]
    return sorted(tickets, key=key)[:limit]


def my_open_work(user) -> list[TicketBase]:
    """Open tickets assigned to the user, most urgent priority first."""
    querysets = [
        _with_timers(
            visible_tickets(m, user).filter(assigned_to=user, state__in=m.workflow.open_states)
        ).order_by("priority", "opened_at")
        for m in HOME_KINDS
    ]
    return _attach_sla(_merge(querysets, key=lambda t: (t.priority, t.opened_at)))


def group_queue(user) -> list[TicketBase]:
    """Open, unassigned tickets of the user's assignment groups."""
    groups = list(user.assignment_groups.values_list("pk", flat=True))
    if not groups:
        return []
    querysets = [
        _with_timers(
            visible_tickets(m, user).filter(
                assigned_to__isnull=True, assignment_group_id__in=groups, state__in=m.workflow.open_states
            )
        ).order_by("priority", "opened_at")
        for m in HOME_KINDS
    ]
    return _attach_sla(_merge(querysets, key=lambda t: (t.priority, t.opened_at)))


def breaching_soon(user, within: dt.timedelta = BREACH_SOON) -> list[TicketBase]:
    """Tickets of the user or their groups' unassigned queue whose running SLA falls due within `within`."""
    groups = list(user.assignment_groups.values_list("pk", flat=True))
    horizon = timezone.now() + within
    result = []
    for model in HOME_KINDS:
        # Due soon, or predicted to breach (sla.risk) however far away the due time is.
        due = (
            Timer.objects.filter(
                content_type=ContentType.objects.get_for_model(model), state=TimerState.RUNNING
            )
            .filter(Q(due_at__lte=horizon) | Q(at_risk=True))
            .values("object_id")
        )
        mine = visible_tickets(model, user).filter(pk__in=due, state__in=model.workflow.open_states)
        mine = mine.filter(assigned_to=user) | mine.filter(
            assigned_to__isnull=True, assignment_group_id__in=groups
        )
        result.extend(_attach_sla(list(_with_timers(mine).order_by("priority")[:LIMIT])))
    far = timezone.now() + dt.timedelta(days=3650)
    return sorted(result, key=lambda t: t.sla.due_at if t.sla and t.sla.due_at else far)[:LIMIT]


def my_approvals(user) -> list:
    """The user's pending approvals, with their records (one query per record kind)."""
    return list(pending_for(user).prefetch_related("record").order_by("requested_at")[:LIMIT])


def watched_recently(user) -> list[TicketBase]:
    """Records the user watches, most recently updated first."""
    querysets = [
        visible_tickets(m, user)
        .filter(watchers=user)
        .select_related("assignment_group")
        .order_by("-updated_at")
        for m in HOME_KINDS
    ]
    tickets = [t for qs in querysets for t in qs[:LIMIT]]
    return sorted(tickets, key=lambda t: t.updated_at, reverse=True)[:LIMIT]
