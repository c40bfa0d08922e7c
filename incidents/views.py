"""The incident pages of the agent workspace: thin subclasses of the generic ticket views."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse

from core.ticket_views import (
    DEFAULT_COLUMNS,
    Column,
    SavedView,
    TicketCreateView,
    TicketDetailView,
    TicketEditView,
    TicketListView,
    default_saved_views,
    open_states,
)
from problems.models import Problem
from problems.services import link_incidents
from sla import selectors as sla_selectors
from sla.models import Timer, TimerState

from .filtersets import IncidentFilterSet
from .forms import IncidentForm, NumberField
from .models import Category, Incident

OPEN_STATES = open_states(Incident)


def breaching_soon(queryset, user):
    """Open incidents with a running SLA timer due within sla.selectors.BREACHING_SOON (overdue ones
    first), soonest first:
    the earliest due time is annotated so the view can sort on it."""
    due = (
        Timer.objects.filter(
            content_type=ContentType.objects.get_for_model(Incident),
            object_id=OuterRef("pk"),
            state=TimerState.RUNNING,
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )
    soon = sla_selectors.breaching_soon(queryset.filter(state__in=OPEN_STATES))
    return soon.annotate(sla_due=Subquery(due))


def incident_saved_views() -> list[SavedView]:
    views = default_saved_views(Incident)
    all_view = views.pop()  # "All" stays last
    views += [
        SavedView(
            "breaching_soon",
            "Breaching soon",
            breaching_soon,
            ordering=("sla_due", "id"),
            help_text="Open incidents with a running SLA timer due within 4 hours, soonest first.",
        ),
        SavedView(
            "at_risk",
            "At risk",
            lambda qs, user: sla_selectors.at_risk(qs.filter(state__in=OPEN_STATES)),
            ordering=("priority", "-opened_at", "-id"),
            help_text="Open incidents predicted to breach a running SLA before they are resolved.",
        ),
        SavedView(
            "major",
            "Major incidents",
            lambda qs, user: qs.filter(major=True, state__in=OPEN_STATES),
            ordering=("priority", "-opened_at", "-id"),
        ),
        all_view,
    ]
    return views


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

    def get_saved_views(self):
        return incident_saved_views()

    def filter_controls(self, params):
        controls = super().filter_controls(params)
        controls[5:5] = [
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
                "choices": list(Category.objects.filter(active=True).values_list("name", "label")),
            },
            {"name": "ci", "label": "CI", "type": "text", "placeholder": "Type a CI's name", "picker": "ci"},
            {
                "name": "major",
                "label": "Major",
                "type": "select",
                "choices": [("true", "Yes"), ("false", "No")],
            },
        ]
        return controls

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
        from cmdb import selectors as cmdb_selectors

        user = self.request.user
        cis = []
        for ci in record.configuration_items.select_related("ci_class").order_by("name")[:20]:
            impacted = cmdb_selectors.impact(ci.pk, max_depth=4, user=user)
            cis.append(
                {
                    "ci": ci,
                    "url": _ci_url(ci.pk),
                    "impact_count": len(impacted),
                    "services": [row["ci"] for row in impacted if row["is_business_service"]][:5],
                }
            )
        children = record.children.select_related("assigned_to").order_by("number")
        return {
            "problem_url": _url("problem-detail", number=record.problem.number)
            if record.problem_id
            else None,
            "linked_cis": cis,
            "children": list(children[:50]),
            "children_count": children.count(),
            "children_open": children.filter(state__in=OPEN_STATES).count(),
            **_correlation_context(record),
        }


def _correlation_context(record: Incident) -> dict[str, Any]:
    """The correlation panel: the group the incident heads or belongs to, and, on a parent, the CIs an
    agent may pick as the cause instead (the CIs upstream of every member, nearest first)."""
    from cmdb.models import ConfigurationItem

    from .correlation import correlation_of
    from .models import IncidentUpstream

    group = correlation_of(record)
    head = group.pop("head", None)
    if head is None:
        return {"correlation": None}
    choices: list = []
    if head.pk == record.pk and group["members"]:
        member_ids = list(record.children.values_list("pk", flat=True))
        shared = (
            IncidentUpstream.objects.filter(incident_id__in=member_ids)
            .values_list("ci_id", "incident_id", "distance")
            .order_by()
        )
        reach: dict[int, set] = {}
        nearest: dict[int, int] = {}
        for ci_id, incident_id, distance in shared:
            reach.setdefault(ci_id, set()).add(incident_id)
            nearest[ci_id] = max(nearest.get(ci_id, 0), distance)
        common = [pk for pk, found in reach.items() if len(found) == len(member_ids)]
        names = dict(ConfigurationItem.objects.filter(pk__in=common).values_list("pk", "name"))
        choices = sorted(
            ((pk, names[pk]) for pk in common if pk in names), key=lambda c: (nearest[c[0]], c[1])
        )
    return {
        "correlation": group,
        "correlation_head": head,
        "correlation_cause": head.suspected_cause,
        "correlation_is_head": head.pk == record.pk,
        "correlation_choices": choices,
        "correlation_url": reverse("incident-correlation", kwargs={"number": record.number}),
    }


class IncidentCorrelationView(IncidentDetailView):
    """POST `action=detach` (a child leaves its major incident for good) or `action=cause` with `ci`
    (confirm the suspected cause, or replace it with another CI upstream of every member)."""

    def get(self, request, number: str):
        return redirect(reverse("incident-detail", kwargs={"number": number.upper()}))

    def post(self, request, number: str):
        from cmdb.models import ConfigurationItem

        from . import correlation

        record = self.get_record(number)
        try:
            if request.POST.get("action") == "detach":
                correlation.detach(record, actor=request.user)
                messages.success(request, f"{record.number} detached from its major incident.")
            elif request.POST.get("action") == "cause":
                raw = request.POST.get("ci", "")
                ci = ConfigurationItem.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
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


def _ci_url(pk: int) -> str | None:
    return _url("ci-detail", pk=pk)


class IncidentCreateView(TicketCreateView):
    model = Incident
    form_class = IncidentForm


class IncidentEditView(TicketEditView):
    model = Incident
    form_class = IncidentForm
