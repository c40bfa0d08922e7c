"""The change pages: list, detail (conflicts and CAB panels, approve/reject), forms, calendar, blackouts."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import AGENT, CAB_MEMBER, CHANGE_MANAGER, has_role, is_workspace_user
from accounts.selectors import active_group_names
from core import approvals as core_approvals
from core import selectors as core_selectors
from core.approvals import ApprovalState
from core.forms import resolve_cis, split_names
from core.numbers import parse_id
from core.ticket_views import (
    DEFAULT_COLUMNS,
    Column,
    SavedView,
    TicketCreateView,
    TicketDetailView,
    TicketEditView,
    TicketListView,
    ci_control,
)

from . import selectors, services
from .choices import ChangeState, ChangeType, Risk
from .conflicts import detect_conflicts
from .filtersets import ChangeFilterSet
from .forms import BlackoutWindowForm, ChangeForm
from .models import Change


class ChangeListView(TicketListView):
    model = Change
    filterset_class = ChangeFilterSet
    columns = [
        *DEFAULT_COLUMNS[:2],
        Column("type", "Type", accessor="get_type_display"),
        Column("risk", "Risk", accessor="get_risk_display"),
        Column("planned_start", "Planned start", render="datetime"),
        *DEFAULT_COLUMNS[2:],
    ]
    # Risk and the planned start say more about a change than priority, SLA and last update; off by default so the
    # list fits 1280 px (all stay in the Columns menu).
    hidden_columns = (*TicketListView.hidden_columns, "priority", "sla", "updated_at")

    def extra_saved_views(self):
        return [
            SavedView(
                "awaiting_cab",
                "Awaiting CAB",
                lambda qs, user: selectors.awaiting_cab(qs),
                ordering=("planned_start", "id"),
            ),
            SavedView(
                "upcoming",
                "Scheduled",
                lambda qs, user: selectors.upcoming(qs),
                ordering=("planned_start", "id"),
            ),
        ]

    def extra_filter_controls(self):
        return [
            {"name": "type", "label": "Type", "type": "select", "choices": list(ChangeType.choices)},
            {"name": "risk", "label": "Risk", "type": "select", "choices": list(Risk.choices)},
            ci_control(),
        ]


class ChangeDetailView(TicketDetailView):
    model = Change
    detail_select_related = ("assignment_group", "assigned_to", "opened_by", "problem", "template")
    detail_extra_template = "changes/_detail_extra.html"
    detail_fields = [
        ("Type", "get_type_display"),
        ("Risk", "get_risk_display"),
        ("Planned start", "planned_start"),
        ("Planned end", "planned_end"),
        ("Assignment group", "assignment_group"),
        ("Assigned to", "assigned_to"),
        ("Problem", "problem"),
        ("Template", "template"),
        ("Close code", "get_close_code_display"),
        ("Opened by", "opened_by"),
        ("Opened", "opened_at"),
    ]

    def move_refusal(self, record: Change, to: str) -> str | None:
        """The checks the move itself makes, asked before a button is drawn: a CAB member reads a change
        but does not move it (changes.services); the workflow's type rules and guards (changes.workflow)
        refuse what the record does not allow now: a standard change skips authorization, a change
        waiting for its CAB cannot be scheduled yet. The change guards read the record, not the move's
        fields; the conflict check and the close code are answered by the move form."""
        if not has_role(self.request.user, CHANGE_MANAGER, AGENT):
            return "Only change managers and agents move changes."
        workflow = record.workflow
        refusal = workflow.refusal(record, to)
        if refusal:
            return refusal
        for guard in workflow.guards:
            try:
                guard(record, to, {})
            except ValidationError as error:
                return " ".join(error.messages)
        return None

    def get_extra_context(self, record: Change) -> dict[str, Any]:
        approvals = selectors.current_round_approvals(record)
        mine = next(
            (
                a
                for a in approvals
                if a.approver_id == self.request.user.pk and a.state == ApprovalState.PENDING
            ),
            None,
        )
        return {
            "conflicts": detect_conflicts(record) if record.is_open else [],
            "approvals": approvals,
            "my_approval": mine if record.state == ChangeState.AUTHORIZE else None,
            "cab_approvers": list(selectors.cab_approvers(record)),
            "risk_answers": [
                (question, bool((record.risk_answers or {}).get(key)))
                for key, question, _w in services.risk_questionnaire.QUESTIONS
            ],
        }


class ChangeCreateView(TicketCreateView):
    model = Change
    form_class = ChangeForm


class ChangeEditView(TicketEditView):
    model = Change
    form_class = ChangeForm


@login_required
@require_POST
def change_decide(request, number: str, decision: str):
    """Approve or reject the signed-in CAB member's pending approval on this change, with a comment."""
    change = core_selectors.get_visible_ticket(Change, request.user, number)
    if decision not in ("approve", "reject"):
        raise Http404
    approval = selectors.pending_approval(change, request.user)
    if approval is None:
        messages.error(request, "You have no pending approval on this change.")
        return redirect(change.get_absolute_url())
    try:
        core_approvals.decide(
            approval,
            actor=request.user,
            approve=decision == "approve",
            comment=request.POST.get("comment", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"You {'approved' if decision == 'approve' else 'rejected'} {change.number}."
        )
    return redirect(change.get_absolute_url())


# ------------------------------------------------------------------------------------------ calendar
def _parse_day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return timezone.localdate()


@login_required
def change_calendar(request):
    """Week or month grid of scheduled/implementing changes and blackout windows, filterable by CI, group
    and risk. Server-rendered: one query for the changes, one for the blackouts."""
    user = request.user
    if not is_workspace_user(user):
        return redirect("portal:home")
    if not has_role(user, AGENT, CHANGE_MANAGER, CAB_MEMBER):
        raise Http404
    mode = "week" if request.GET.get("view") == "week" else "month"
    anchor = _parse_day(request.GET.get("date"))
    if mode == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        prev_anchor, next_anchor = first - timedelta(days=7), first + timedelta(days=7)
    else:
        first_of_month = anchor.replace(day=1)
        days_in_month = pycalendar.monthrange(anchor.year, anchor.month)[1]
        first = first_of_month - timedelta(days=first_of_month.weekday())
        month_end = first_of_month.replace(day=days_in_month)
        last = month_end + timedelta(days=6 - month_end.weekday())
        prev_anchor = (first_of_month - timedelta(days=1)).replace(day=1)
        next_anchor = month_end + timedelta(days=1)
    tz = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)

    filters = {
        "ci": request.GET.get("ci", "").strip(),
        "group": request.GET.get("group", "").strip(),
        "risk": request.GET.get("risk", "").strip(),
    }
    ci_id = parse_id(filters["ci"])
    if ci_id is None and filters["ci"]:
        # The CI picker gives "name (Class)"; an unknown name shows nothing rather than everything.
        found, _problems = resolve_cis(split_names(filters["ci"])[:1])
        ci_id = found[0].pk if found else 0
    changes, blackouts = selectors.calendar(
        user,
        start=start,
        end=end,
        ci_id=ci_id,
        group=filters["group"],
        risk=filters["risk"] if filters["risk"] in Risk.values else "",
    )

    weeks = []
    day = first
    while day <= last:
        week = []
        for _ in range(7):
            day_start = datetime.combine(day, time.min, tzinfo=tz)
            day_end = day_start + timedelta(days=1)
            week.append(
                {
                    "date": day,
                    "in_month": mode == "week" or day.month == anchor.month,
                    "today": day == timezone.localdate(),
                    "changes": [
                        c for c in changes if c.planned_start < day_end and c.planned_end > day_start
                    ],
                    "blackouts": [b for b in blackouts if b.start < day_end and b.end > day_start],
                }
            )
            day += timedelta(days=1)
        weeks.append(week)
    context = {
        "mode": mode,
        "anchor": anchor,
        "title": f"Week of {first:%d %b %Y}" if mode == "week" else f"{anchor:%B %Y}",
        "prev_date": prev_anchor.isoformat(),
        "next_date": next_anchor.isoformat(),
        "weeks": weeks,
        "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        "filters": filters,
        "groups": active_group_names(),
        "risks": Risk.choices,
        "blackout_form": BlackoutWindowForm() if has_role(user, CHANGE_MANAGER) else None,
        "can_manage_blackouts": has_role(user, CHANGE_MANAGER),
        "all_blackouts": blackouts,
    }
    return render(request, "changes/calendar.html", context)


@login_required
@require_POST
def blackout_create(request):
    """Change managers add a blackout window from the calendar page."""
    form = BlackoutWindowForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        cis = data.pop("configuration_items") or []
        try:
            window = services.blackout_create(actor=request.user, configuration_items=cis, **data)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            messages.error(request, "Blackout not saved: " + " ".join(error.messages))
        else:
            messages.success(request, f"Blackout window {window.name} added.")
    else:
        messages.error(
            request, "Blackout not saved: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        )
    return redirect("change-calendar")
