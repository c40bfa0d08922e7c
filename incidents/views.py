"""The incident pages of the agent workspace: thin subclasses of the generic ticket views."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse

from core.ticket_views import (
    DEFAULT_COLUMNS,
    URGENT_FIRST,
    Column,
    SavedView,
    TicketCreateView,
    TicketDetailView,
    TicketEditView,
    TicketListView,
    ci_control,
    yes_no_control,
)
from problems.models import Problem
from problems.services import link_incidents

from . import correlation, selectors
from .filtersets import IncidentFilterSet
from .forms import IncidentForm, NumberField
from .models import Incident


class IncidentListView(TicketListView):
    model = Incident
    filterset_class = IncidentFilterSet
    columns = [
        *DEFAULT_COLUMNS[:2],
        Column("caller", "Caller", accessor="caller.username"),
        Column("category", "Category", accessor="category.label"),
        *DEFAULT_COLUMNS[2:],
        Column("major", "Major", render="bool"),
    ]
    list_select_related = ("assignment_group", "assigned_to", "caller", "category")
    bulk_actions = [*TicketListView.bulk_actions, ("add_to_problem", "Add to problem")]

    def extra_saved_views(self):
        return [
            SavedView(
                "breaching_soon",
                "Breaching soon",
                lambda qs, user: selectors.breaching_soon(qs),
                ordering=("sla_due", "id"),
                help_text="Open incidents with a running SLA timer due within 4 hours, soonest first.",
            ),
            SavedView(
                "at_risk",
                "At risk",
                lambda qs, user: selectors.at_risk(qs),
                ordering=URGENT_FIRST,
                help_text="Open incidents predicted to breach a running SLA before they are resolved.",
            ),
            SavedView(
                "major", "Major incidents", lambda qs, user: selectors.open_major(qs), ordering=URGENT_FIRST
            ),
        ]

    def extra_filter_controls(self):
        return [
            {
                "name": "caller",
                "label": "Caller",
                "type": "text",
                "placeholder": "Type a name",
                "picker": "user",
            },
            {
                "name": "category",
                "label": "Category",
                "type": "select",
                "choices": selectors.active_categories(),
            },
            ci_control(),
            yes_no_control("major", "Major"),
        ]

    def bulk_extra_fields(self):
        return {
            "problem": NumberField(
                model=Problem,
                label="Problem",
                help_text="For “Add to problem”: its number or words of its title",
            )
        }

    def bulk_add_to_problem(self, record: Incident, form) -> None:
        problem = form.cleaned_data.get("problem")
        if problem is None:
            raise ValidationError({"problem": "Give the problem number to add the incidents to."})
        # Through the problem's service, so the problem's timeline records the link too (and a closed
        # problem refuses new incidents).
        link_incidents(problem, [record], actor=self.request.user)


class IncidentDetailView(TicketDetailView):
    model = Incident
    detail_select_related = (
        "assignment_group",
        "assigned_to",
        "opened_by",
        "caller",
        "category",
        "parent",
        "problem",
    )
    detail_extra_template = "incidents/_detail_extra.html"
    # The live SLA timers panel comes from the sla app (templates/sla/ticket_timers.html).
    detail_fields = [
        ("Caller", "caller"),
        ("Category", "category"),
        ("Impact", "get_impact_display"),
        ("Urgency", "get_urgency_display"),
        ("Major incident", "major"),
        ("Assignment group", "assignment_group"),
        ("Assigned to", "assigned_to"),
        ("Hold reason", "get_hold_reason_display"),
        ("Resolution code", "get_resolution_code_display"),
        ("Resolution notes", "resolution_notes"),
        ("Opened by", "opened_by"),
        ("Opened", "opened_at"),
        ("Resolved", "resolved_at"),
        ("Closed", "closed_at"),
    ]

    def detail_context(self, record, **overrides):
        context = super().detail_context(record, **overrides)
        context["fields"] = [
            (label, value() if callable(value) else value) for label, value in context["fields"]
        ]
        return context

    def get_extra_context(self, record: Incident) -> dict[str, Any]:
        user = self.request.user
        children = selectors.children(record, user)
        return {
            "problem_url": _url("problem-detail", number=record.problem.number)
            if record.problem_id
            else None,
            "linked_cis": [
                {**row, "url": _url("ci-detail", pk=row["ci"].pk)}
                for row in selectors.ci_impacts(record, user)
            ],
            "children": list(children[:50]),
            "children_count": children.count(),
            "children_open": children.filter(state__in=selectors.OPEN_STATES).count(),
            **_correlation_context(record),
        }


def _correlation_context(record: Incident) -> dict[str, Any]:
    """The correlation panel: the group the incident heads or belongs to, and, on a parent, the CIs an
    agent may pick as the cause instead (the CIs upstream of every member, nearest first)."""
    group = correlation.correlation_of(record)
    head = group.pop("head", None)
    if head is None:
        return {"correlation": None}
    is_head = head.pk == record.pk
    return {
        "correlation": group,
        "correlation_head": head,
        "correlation_cause": head.suspected_cause,
        "correlation_is_head": is_head,
        "correlation_choices": selectors.cause_choices(record) if is_head and group["members"] else [],
        "correlation_url": reverse("incident-correlation", kwargs={"number": record.number}),
    }


class IncidentCorrelationView(IncidentDetailView):
    """POST `action=detach` (a child leaves its major incident for good) or `action=cause` with `ci`
    (confirm the suspected cause, or replace it with another CI upstream of every member)."""

    def get(self, request, number: str):
        return redirect(reverse("incident-detail", kwargs={"number": number.upper()}))

    def post(self, request, number: str):
        record = self.get_record(number)
        try:
            if request.POST.get("action") == "detach":
                correlation.detach(record, actor=request.user)
                messages.success(request, f"{record.number} detached from its major incident.")
            elif request.POST.get("action") == "cause":
                raw = request.POST.get("ci", "")
                ci = selectors.configuration_item(raw) if raw else None
                if raw and ci is None:
                    raise ValidationError({"ci": "Pick a CI from the list."})
                correlation.set_cause(record, actor=request.user, ci=ci)
                messages.success(request, "Suspected cause saved.")
            else:
                raise ValidationError({"action": "Unknown action."})
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect(record.get_absolute_url())


def _url(name: str, **kwargs) -> str | None:
    """A link to another app's page, or None while that app has no such page yet."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


class IncidentCreateView(TicketCreateView):
    model = Incident
    form_class = IncidentForm


class IncidentEditView(TicketEditView):
    model = Incident
    form_class = IncidentForm
