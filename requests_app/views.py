"""The request and task pages of the agent workspace: thin subclasses of core.ticket_views. (The approvals
inbox and the satisfaction survey report serve every kind: core.views.)"""

from __future__ import annotations

from typing import Any

from core import approvals as core_approvals
from core.ticket_views import DEFAULT_COLUMNS, Column, TicketDetailView, TicketListView

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
