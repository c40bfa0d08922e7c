"""One move of a record: the small form (an htmx partial or a page), then the kind's transition service."""

from __future__ import annotations

from typing import ClassVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from ..exceptions import IllegalTransition, StaleVersion
from ..forms import TransitionForm
from .base import STALE_MESSAGE, apply_service_error, is_htmx
from .detail import TicketDetailView, move_verb


class TicketTransitionView(TicketDetailView):
    """GET: the small form for one move (an htmx partial, or a page without htmx). POST: apply it."""

    form_template_name: ClassVar[str] = "core/partials/transition_form.html"
    page_template_name: ClassVar[str] = "core/ticket_transition.html"

    def respond(self, request, record, form, status=200):
        context = {
            **self.base_context(),
            "record": record,
            "form": form,
            "verb": move_verb(record, form.to),
            "action_url": self.url("transition", number=record.number, to=form.to),
        }
        template = self.form_template_name if is_htmx(request) else self.page_template_name
        return render(request, template, context, status=status)

    def check_move(self, record, to: str) -> None:
        if to not in record.allowed_moves():
            raise Http404(f"{record.number} cannot move to {to}")
        refusal = self.move_refusal(record, to)
        if refusal:
            raise PermissionDenied(refusal)

    def get(self, request, number: str, to: str):
        record = self.get_record(number)
        self.check_move(record, to)
        return self.respond(request, record, TransitionForm(record=record, to=to))

    def post(self, request, number: str, to: str):
        record = self.get_record(number)
        form = TransitionForm(request.POST, record=record, to=to)
        if form.is_valid():
            try:
                self.ticket_services.transition(
                    record,
                    to=to,
                    actor=request.user,
                    fields=form.move_fields(),
                    note=form.cleaned_data.get("note") or "",
                    expected_version=form.cleaned_data.get("version"),
                )
            except StaleVersion as error:
                form.add_error(None, STALE_MESSAGE.format(version=error.current_version))
            except IllegalTransition as error:
                form.add_error(None, error.message_dict["to"])
            except ValidationError as error:
                apply_service_error(form, error)
        if form.errors:
            # With htmx the form comes back in place, under the ticket, with the errors next to the fields
            # (itsm.js swaps 400 answers); without it, as a page.
            return self.respond(request, record, form, status=400)
        label = record.workflow.label(to)
        messages.success(request, f"{record.number} moved to {label}.")
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = record.get_absolute_url()
            return response
        return redirect(record.get_absolute_url())
