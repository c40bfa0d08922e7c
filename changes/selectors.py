"""Permission-scoped reads of changes (on top of core.selectors), their CAB rounds, the calendar, templates
and blackout windows.

Reads for a user start from `visible_changes`, so a change the user may not see is absent from every list
and page. Templates and blackout windows are not tickets: who may read them is the API's permission
class and the calendar's role check.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from core import approvals as core_approvals
from core import selectors as core_selectors
from core.approvals import Approval, ApprovalState

from .choices import ChangeState
from .models import BlackoutWindow, Change, ChangeTemplate

# What the calendar shows: the changes whose window is booked or being worked.
CALENDAR_STATES = (ChangeState.SCHEDULED, ChangeState.IMPLEMENT, ChangeState.REVIEW)


def visible_changes(user) -> QuerySet:
    return core_selectors.visible_tickets(Change, user)


def awaiting_cab(queryset: QuerySet) -> QuerySet:
    """Changes whose CAB round is under way."""
    return queryset.filter(state=ChangeState.AUTHORIZE)


def upcoming(queryset: QuerySet) -> QuerySet:
    """Changes booked or being implemented."""
    return queryset.filter(state__in=[ChangeState.SCHEDULED, ChangeState.IMPLEMENT])


def linked_to_problem(problem, user) -> QuerySet:
    """The changes raised for the problem that the user may see, by number."""
    return visible_changes(user).filter(problem=problem).order_by("number")


# --- CAB rounds ----------------------------------------------------------------------------------------
def current_round_approvals(change: Change) -> list[Approval]:
    """The approvals of the change's current CAB round by approver, withdrawn ones left out; none before
    the first round."""
    if not change.approval_round:
        return []
    rows = core_approvals.approvals_for(change).filter(stage=change.approval_round)
    return [a for a in rows.order_by("approver__username") if a.state != ApprovalState.CANCELED]


def pending_approval(change: Change, user) -> Approval | None:
    """The user's own approval still to decide in the change's current round, if any."""
    return (
        core_approvals.approvals_for(change)
        .filter(approver=user, stage=change.approval_round, state=ApprovalState.PENDING)
        .first()
    )


def cab_approvers(change: Change) -> QuerySet:
    """Who is asked in a CAB round, by username."""
    return change.cab_approvers.order_by("username")


# --- the calendar ----------------------------------------------------------------------------------------
def calendar(
    user,
    *,
    start: datetime,
    end: datetime,
    ci_id: int | None = None,
    group: str = "",
    risk: str = "",
) -> tuple[list[Change], list[BlackoutWindow]]:
    """The changes the user may see that are booked in [start, end) and the blackout windows overlapping
    it, each narrowed by a CI (a blackout without CIs covers every CI), an assignment group's name and a
    risk. One query for each list."""
    changes = visible_changes(user).filter(
        state__in=CALENDAR_STATES, planned_start__lt=end, planned_end__gt=start
    )
    blackouts = BlackoutWindow.objects.filter(start__lt=end, end__gt=start)
    if ci_id is not None:
        through = Change.configuration_items.through
        changes = changes.filter(
            pk__in=through.objects.filter(configurationitem_id=ci_id).values("change_id")
        )
        blackouts = blackouts.filter(
            Q(configuration_items=ci_id) | Q(configuration_items__isnull=True)
        ).distinct()
    if group:
        changes = changes.filter(assignment_group__name=group)
    if risk:
        changes = changes.filter(risk=risk)
    return (
        list(changes.select_related("assignment_group").order_by("planned_start", "id")[:500]),
        list(blackouts.order_by("start")[:200]),
    )


# --- templates and blackout windows (the API's lists) -------------------------------------------------
def templates() -> QuerySet:
    return ChangeTemplate.objects.select_related("assignment_group").order_by("name")


def blackout_windows() -> QuerySet:
    return BlackoutWindow.objects.select_related("created_by").prefetch_related("configuration_items")
