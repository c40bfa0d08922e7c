"""The problem pages: thin subclasses of the generic ticket views, plus link and publish actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from changes import selectors as change_selectors
from core.ticket_views import (
    DEFAULT_COLUMNS,
    URGENT_FIRST,
    Column,
    SavedView,
    TicketCreateView,
    TicketDetailView,
    TicketEditView,
    TicketListView,
    yes_no_control,
)
from incidents import selectors as incident_selectors

from . import selectors, services
from .filtersets import ProblemFilterSet
from .forms import LinkIncidentsForm, ProblemForm
from .models import Problem


class ProblemListView(TicketListView):
    model = Problem
    filterset_class = ProblemFilterSet
    columns = [*DEFAULT_COLUMNS, Column("known_error", "Known error", render="bool")]

    def extra_saved_views(self):
        return [
            SavedView(
                "known_errors",
                "Known errors",
                lambda qs, user: selectors.open_known_errors(qs),
                ordering=URGENT_FIRST,
            )
        ]

    def extra_filter_controls(self):
        return [yes_no_control("known_error", "Known error")]


class ProblemDetailView(TicketDetailView):
    model = Problem
    detail_extra_template = "problems/_detail_extra.html"
    detail_fields = [
        ("Known error", "known_error"),
        ("Assignment group", "assignment_group"),
        ("Assigned to", "assigned_to"),
        ("Opened by", "opened_by"),
        ("Opened", "opened_at"),
        ("Resolved", "resolved_at"),
        ("Closed", "closed_at"),
    ]

    def get_extra_context(self, record: Problem, link_form=None) -> dict[str, Any]:
        user = self.request.user
        return {
            "linked_incidents": list(incident_selectors.linked_to_problem(record, user)[:100]),
            "linked_changes": list(change_selectors.linked_to_problem(record, user)[:50]),
            "link_form": link_form or LinkIncidentsForm(),
            "can_publish": record.known_error
            and bool(record.workaround.strip())
            and not record.known_error_article,
        }


class ProblemLinkIncidentsView(ProblemDetailView):
    """POST incident numbers to link them to the problem."""

    def post(self, request, number: str):
        record = self.get_record(number)
        form = LinkIncidentsForm(request.POST)
        if form.is_valid():
            found, missing = incident_selectors.by_numbers(request.user, form.cleaned_data["incidents"])
            if missing:
                form.add_error("incidents", f"No such incident: {', '.join(missing)}.")
            else:
                try:
                    linked = services.link_incidents(record, found, actor=request.user)
                except ValidationError as error:
                    form.add_error("incidents", error.messages)
                else:
                    messages.success(
                        request, f"Linked {len(linked)} incident{'s' if len(linked) != 1 else ''}."
                    )
                    return redirect(record.get_absolute_url())
        context = self.detail_context(record, **self.get_extra_context(record, link_form=form))
        return render(request, self.template_name, context, status=400)

    def get(self, request, number: str):
        return redirect("problem-detail", number=number.upper())


class ProblemPublishView(ProblemDetailView):
    """POST: publish the known error's workaround as a knowledge article."""

    def post(self, request, number: str):
        record = self.get_record(number)
        try:
            article = services.publish_known_error(record, actor=request.user)
        except (ValidationError, PermissionDenied) as error:
            text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            messages.error(request, f"Not published: {text}")
        else:
            messages.success(request, f"Workaround published as knowledge article {article.number}.")
        return redirect(record.get_absolute_url())

    def get(self, request, number: str):
        return redirect("problem-detail", number=number.upper())


class ProblemCreateView(TicketCreateView):
    model = Problem
    form_class = ProblemForm


class ProblemEditView(TicketEditView):
    model = Problem
    form_class = ProblemForm
