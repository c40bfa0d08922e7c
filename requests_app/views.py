"""The request and task pages of the agent workspace (thin subclasses of core.ticket_views), the approvals
inbox shared by agents, managers and CAB members, and the satisfaction survey report."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Avg, Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from accounts.roles import AGENT, CHANGE_MANAGER, has_role
from core import approvals as core_approvals
from core.ticket_views import DEFAULT_COLUMNS, Column, TicketDetailView, TicketListView

from . import inbox
from .filtersets import RequestFilterSet, TaskFilterSet
from .models import Request, Task
from .variables import display_rows
from .workflow import REQUEST_MANUAL_MOVES


class RequestListView(TicketListView):
    model = Request
    filterset_class = RequestFilterSet
    columns = [
        *DEFAULT_COLUMNS[:2],
        Column("catalog_item", "Item", accessor="catalog_item.name"),
        Column("opened_by", "Requested by", accessor="opened_by.username"),
        *DEFAULT_COLUMNS[2:],
    ]
    list_select_related = ("assignment_group", "assigned_to", "catalog_item", "opened_by")


class RequestDetailView(TicketDetailView):
    model = Request
    detail_select_related = (*TicketDetailView.detail_select_related, "catalog_item", "requested_for")
    detail_extra_template = "requests_app/_request_extra.html"

    def detail_context(self, record, **overrides) -> dict[str, Any]:
        context = super().detail_context(record, **overrides)
        # Approval and fulfilment moves follow from decisions and tasks; only the manual ones are offered.
        context["moves"] = [m for m in context["moves"] if m["to"] in REQUEST_MANUAL_MOVES]
        return context

    def get_extra_context(self, record) -> dict[str, Any]:
        return {
            "variables": display_rows(record.catalog_item, record.variables),
            "tasks": record.tasks.select_related("assignment_group", "assigned_to").order_by("order", "id"),
            "approvals": core_approvals.approvals_for(record).order_by("stage", "id"),
        }


class TaskListView(TicketListView):
    model = Task
    filterset_class = TaskFilterSet
    columns = [
        *DEFAULT_COLUMNS[:2],
        Column("request", "Request", accessor="request.number"),
        *DEFAULT_COLUMNS[2:],
    ]
    list_select_related = ("assignment_group", "assigned_to", "request")


class TaskDetailView(TicketDetailView):
    model = Task
    detail_select_related = (*TicketDetailView.detail_select_related, "request", "request__catalog_item")
    detail_extra_template = "requests_app/_task_extra.html"

    def get_extra_context(self, record) -> dict[str, Any]:
        request = record.request
        return {
            "parent_request": request,
            "variables": display_rows(request.catalog_item, request.variables),
            "siblings": request.tasks.exclude(pk=record.pk).order_by("order", "id"),
        }


def _record_url(approval) -> str:
    try:
        return approval.record.get_absolute_url()
    except (AttributeError, NoReverseMatch):
        return ""


@login_required
def approval_list(request):
    """Everything waiting for the user's decision, across requests and changes."""
    rows = [
        {"approval": a, "record_url": _record_url(a), "decide_url": reverse("approval-decide", args=[a.pk])}
        for a in inbox.inbox(request.user)
    ]
    return render(request, "requests_app/approval_list.html", {"rows": rows})


@login_required
@require_POST
def approval_decide(request, pk: int):
    approval, error = inbox.decide_from_post(request.user, pk, request.POST)
    if request.headers.get("HX-Request") == "true":
        return render(
            request,
            "requests_app/partials/approval_item.html",
            {
                "approval": approval,
                "record_url": _record_url(approval),
                "decide_url": reverse("approval-decide", args=[approval.pk]),
                "error": error,
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"You {approval.get_state_display().lower()} {approval.record.number}.")
    return redirect("approval-list")


@login_required
def survey_report(request):
    """Satisfaction results for managers and agents: average, distribution, latest comments, by kind."""
    from portal.models import SatisfactionSurvey

    if not has_role(request.user, AGENT, CHANGE_MANAGER):
        raise Http404("No such page")  # SPEC §2: what a user may not see is a 404
    surveys = SatisfactionSurvey.objects.all()
    summary = surveys.aggregate(count=Count("id"), average=Avg("rating"))
    distribution = {
        row["rating"]: row["n"] for row in surveys.values("rating").annotate(n=Count("id")).order_by("rating")
    }
    bars = [
        {
            "rating": r,
            "count": distribution.get(r, 0),
            "percent": round(100 * distribution.get(r, 0) / (summary["count"] or 1)),
        }
        for r in range(5, 0, -1)
    ]
    by_kind = (
        surveys.values("content_type__model")
        .annotate(n=Count("id"), average=Avg("rating"), low=Count("id", filter=Q(rating__lte=2)))
        .order_by("content_type__model")
    )
    latest = surveys.select_related("respondent").exclude(comment="")[:20]
    return render(
        request,
        "requests_app/survey_report.html",
        {"summary": summary, "bars": bars, "by_kind": by_kind, "latest": latest},
    )
