"""The record page and the small POST pages on it: comment, attach, watch, assign to me."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from .. import selectors, services
from ..forms import AttachmentForm, CommentForm
from ..models import TicketBase
from .base import TicketViewMixin, apply_service_error, is_htmx

# A move button says what the person does ("Resolve"), not where the record lands ("Resolved").
MOVE_VERBS = {
    "in_progress": "Start work",
    "on_hold": "Put on hold",
    "resolved": "Resolve",
    "closed": "Close",
    "canceled": "Cancel",
    "new": "Send back to new",
    "assess": "Start assessment",
    "root_cause_analysis": "Start root cause analysis",
    "fix_in_progress": "Start the fix",
    "authorize": "Ask the CAB to authorize",
    "scheduled": "Schedule",
    "implement": "Start implementation",
    "review": "Start the review",
    "pending_approval": "Ask for approval",
    "approved": "Approve",
    "rejected": "Reject",
    "in_fulfillment": "Start fulfillment",
    "fulfilled": "Mark fulfilled",
    "done": "Mark done",
    "open": "Reopen",
}


def move_verb(record: TicketBase, to: str) -> str:
    """The button text of the move from the record's state to `to`: back out of a finished state is
    "Reopen", leaving a hold is "Resume work"."""
    workflow = record.workflow
    finished = workflow.done_states | workflow.final_states
    if record.state in finished and to not in finished:
        return "Reopen"
    if record.state == "on_hold" and to == "in_progress":
        return "Resume work"
    return MOVE_VERBS.get(to, f"Move to {workflow.label(to)}")


def display_value(record, name: str) -> Any:
    """A field for a page: a method (`get_risk_display`) is called, a choice field shows its label."""
    value = getattr(record, name, None)
    if callable(value):
        return value()
    try:
        field = record._meta.get_field(name)
    except Exception:
        return value
    if getattr(field, "choices", None) and value not in (None, ""):
        return dict(field.flatchoices).get(value, value)
    return value


class TicketDetailView(TicketViewMixin, View):
    """The record page: fields, allowed moves, timeline with the comment box, attachments, watchers.

    `detail_extra_template` is included in the side column (linked records, CIs); `get_extra_context`
    feeds it.
    """

    template_name: ClassVar[str] = "core/ticket_detail.html"
    detail_extra_template: ClassVar[str | None] = None
    detail_fields: ClassVar[list[tuple[str, str]]] = [
        ("Assignment group", "assignment_group"),
        ("Assigned to", "assigned_to"),
        ("Opened by", "opened_by"),
        ("Opened", "opened_at"),
        ("Updated", "updated_at"),
    ]

    def get_extra_context(self, record: TicketBase) -> dict[str, Any]:
        return {}

    def move_refusal(self, record: TicketBase, to: str) -> str | None:
        """Why the current user cannot make the move `to` now (None: they can). Apps override it with
        their services' guards (a change waiting for its CAB cannot be scheduled), so the page shows only
        the buttons that can succeed."""
        return None

    def available_moves(self, record: TicketBase) -> list[str]:
        return [to for to in record.allowed_moves() if self.move_refusal(record, to) is None]

    def get(self, request, number: str):
        record = self.get_record(number)
        return render(request, self.template_name, self.detail_context(record))

    def detail_context(self, record: TicketBase, **overrides) -> dict[str, Any]:
        user = self.request.user
        staff = selectors.is_staff_viewer(record, user)
        moves = [
            {
                "to": to,
                "label": move_verb(record, to),
                "state_label": record.workflow.label(to),
                "url": self.url("transition", number=record.number, to=to),
                "needs_fields": bool(record.workflow.fields_for(to)),
            }
            for to in self.available_moves(record)
        ]
        fields = [(label, display_value(record, name)) for label, name in self.detail_fields]
        context = {
            **self.base_context(),
            "record": record,
            "state_label": record.workflow.label(record.state),
            "fields": fields,
            "moves": moves,
            "activities": selectors.timeline(record, user),
            "attachments": selectors.attachments(record, user).select_related("uploaded_by"),
            "watchers": list(record.watchers.order_by("username")),
            "is_watching": record.watchers.filter(pk=user.pk).exists(),
            "comment_form": CommentForm(staff=staff),
            "attachment_form": AttachmentForm(),
            "staff": staff,
            "edit_url": self.url("edit", number=record.number) if self.has_url_kw("edit") else None,
            "comment_url": self.url("comment", number=record.number),
            "attach_url": self.url("attach", number=record.number),
            "watch_url": self.url("watch", number=record.number),
            "assign_to_me_url": self.url("assign-to-me", number=record.number),
            "detail_extra_template": self.detail_extra_template,
            **self.get_extra_context(record),
        }
        context.update(overrides)
        return context

    def has_url_kw(self, name: str) -> bool:
        try:
            reverse(f"{self.kind}-{name}", kwargs={"number": "X"})
        except Exception:
            return False
        return True


class TicketCommentView(TicketDetailView):
    """POST a public comment or a work note; with htmx the activity panel is swapped in place."""

    def get(self, request, number: str):
        return redirect(self.url("detail", number=number.upper()))

    def post(self, request, number: str):
        record = self.get_record(number)
        staff = selectors.is_staff_viewer(record, request.user)
        form = CommentForm(request.POST, staff=staff)
        if form.is_valid():
            try:
                services.add_comment(
                    record,
                    actor=request.user,
                    body=form.cleaned_data["body"],
                    public=form.is_public or not staff,
                )
            except ValidationError as error:
                apply_service_error(form, error)
        if form.errors:
            if is_htmx(request):
                context = self.detail_context(record, comment_form=form)
                return render(request, "core/partials/ticket_activity.html", context, status=400)
            return render(
                request, self.template_name, self.detail_context(record, comment_form=form), status=400
            )
        if is_htmx(request):
            record = self.get_record(number)
            return render(request, "core/partials/ticket_activity.html", self.detail_context(record))
        messages.success(request, "Comment added." if form.is_public else "Work note added.")
        return redirect(record.get_absolute_url())


class TicketAttachView(TicketDetailView):
    """POST an attachment (multipart); the list and the timeline show it."""

    def get(self, request, number: str):
        return redirect(self.url("detail", number=number.upper()))

    def post(self, request, number: str):
        record = self.get_record(number)
        staff = selectors.is_staff_viewer(record, request.user)
        form = AttachmentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.add_attachment(
                    record,
                    actor=request.user,
                    uploaded_file=form.cleaned_data["file"],
                    public=form.cleaned_data["public"] or not staff,
                )
            except ValidationError as error:
                apply_service_error(form, error)
        if form.errors:
            return render(
                request, self.template_name, self.detail_context(record, attachment_form=form), status=400
            )
        messages.success(request, f"Attached {form.cleaned_data['file'].name}.")
        return redirect(record.get_absolute_url())


class TicketWatchView(TicketDetailView):
    """POST `watching=1|0`: start or stop watching the record yourself."""

    def get(self, request, number: str):
        return redirect(self.url("detail", number=number.upper()))

    def post(self, request, number: str):
        record = self.get_record(number)
        watching = request.POST.get("watching") == "1"
        services.set_watching(record, actor=request.user, user=request.user, watching=watching)
        messages.success(request, "You are watching this record." if watching else "You stopped watching.")
        return redirect(record.get_absolute_url())


class TicketAssignToMeView(TicketDetailView):
    """POST: the current user takes the record ("Assign to me" on the list, the detail page and the `a`
    key). The group stays; the service refuses an assignee outside it, and the message says so. Goes back
    to `next` (the list the button was on) when it is a local URL."""

    def get(self, request, number: str):
        return redirect(self.url("detail", number=number.upper()))

    def post(self, request, number: str):
        record = self.get_record(number)
        target = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            target = record.get_absolute_url()
        if record.assigned_to_id == request.user.pk:
            messages.info(request, f"{record.number} is already assigned to you.")
            return redirect(target)
        try:
            self.ticket_services.update(record, actor=request.user, changes={"assigned_to": request.user})
        except ValidationError as error:
            messages.error(request, f"{record.number} was not assigned: {' '.join(error.messages)}")
        else:
            messages.success(request, f"{record.number} is now assigned to you.")
        return redirect(target)
