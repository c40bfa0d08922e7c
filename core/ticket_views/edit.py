"""The create and edit pages: a form whose cleaned data goes to the kind's create or update service."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views import View

from ..exceptions import StaleVersion
from .base import STALE_MESSAGE, TicketViewMixin, apply_service_error


class TicketFormViewBase(TicketViewMixin, View):
    form_class: ClassVar[type[django_forms.Form]]
    template_name: ClassVar[str] = "core/ticket_form.html"

    def form_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments for the form (subclasses pass e.g. the user)."""
        return {}

    def render_form(self, form, record=None, status=200):
        context = {**self.base_context(), "form": form, "record": record}
        return render(self.request, self.template_name, context, status=status)


class TicketCreateView(TicketFormViewBase):
    """Open a record through the kind's create service (`create(actor=..., **form.cleaned_data)`)."""

    def get(self, request):
        return self.render_form(self.form_class(**self.form_kwargs()))

    def post(self, request):
        form = self.form_class(request.POST, **self.form_kwargs())
        if form.is_valid():
            try:
                record = self.ticket_services.create(actor=request.user, **self.service_data(form))
            except ValidationError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, f"{record.number} created.")
                return redirect(record.get_absolute_url())
        return self.render_form(form, status=400)

    def service_data(self, form) -> dict[str, Any]:
        return {k: v for k, v in form.cleaned_data.items() if k != "version"}


class TicketEditView(TicketFormViewBase):
    """Edit through the kind's update service (record, actor, changes, expected_version, CIs); the
    form's hidden `version` makes a concurrent edit fail loudly instead of overwriting."""

    def get(self, request, number: str):
        record = self.get_record(number)
        form = self.form_class(instance=record, initial={"version": record.version}, **self.form_kwargs())
        return self.render_form(form, record)

    def post(self, request, number: str):
        record = self.get_record(number)
        # Bind to a throw-away copy: ModelForm validation writes into its instance.
        form = self.form_class(request.POST, instance=self.get_record(number), **self.form_kwargs())
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            cis = data.pop("configuration_items", None)
            try:
                self.ticket_services.update(
                    record,
                    actor=request.user,
                    changes=data,
                    expected_version=form.cleaned_data.get("version"),
                    configuration_items=cis,
                )
            except StaleVersion as error:
                form.add_error(None, STALE_MESSAGE.format(version=error.current_version))
            except ValidationError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, f"{record.number} saved.")
                return redirect(record.get_absolute_url())
        return self.render_form(form, record, status=400)
