"""The list page's bulk actions: one action applied to the selected records, all or nothing."""

from __future__ import annotations

from typing import ClassVar

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.utils import flatatt
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join

from ..forms import BulkActionForm
from ..models import TicketBase


class SelectWidget(django_forms.Select):
    """A plain single `<select>` rendered in Python, for the list page's bulk bar.

    Django renders every `<option>` through a template include; the bulk bar's assignee list has one option
    per agent (hundreds), which made rendering it the largest cost of a list page view. The markup is the
    same as Django's (attributes, `selected`), and `widget_type` stays "select" (the class name's "Widget"
    suffix is dropped) so templates style it the same way. Grouped choices fall back to Django's renderer.
    """

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(iter(self.choices))  # list() alone would ask a ModelChoiceIterator for a COUNT
        if any(isinstance(label, list | tuple) for _, label in choices):
            return super().render(name, value, attrs, renderer)
        final_attrs = self.build_attrs(self.attrs, attrs)
        selected = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option, " selected" if str(option) in selected else "", label)
                for option, label in ((("" if v is None else v), label) for v, label in choices)
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final_attrs), options)


class BulkActionsMixin:
    """The bulk bar of TicketListView (its POST): the form, the all-or-nothing run, the two actions every
    kind has. Apps append `(name, label)` to `bulk_actions` and add a `bulk_<name>(record, form)` method.

    A mixin of TicketListView, whose `model`, `ticket_services`, `visible()` and `render_list()` it uses.
    """

    # (name, label); each has a `bulk_<name>(records, form)` method. Apps append their own.
    bulk_actions: ClassVar[list[tuple[str, str]]] = [("assign", "Assign"), ("transition", "Change state")]
    bulk_limit: ClassVar[int] = 500

    def bulk_extra_fields(self) -> dict[str, django_forms.Field]:
        return {}

    def make_bulk_form(self, data) -> BulkActionForm:
        form = BulkActionForm(
            data, model=self.model, actions=self.bulk_actions, extra_fields=self.bulk_extra_fields()
        )
        if data is None and isinstance(form.fields.get("assigned_to"), django_forms.ModelChoiceField):
            # Rendering only needs each agent's id and username (its label): not the whole user row.
            form.fields["assigned_to"].queryset = form.fields["assigned_to"].queryset.only("pk", "username")
        for field in form.fields.values():
            if type(field.widget) is django_forms.Select:
                widget = SelectWidget(attrs=field.widget.attrs)
                widget.choices = field.widget.choices
                widget.is_required = field.widget.is_required
                field.widget = widget
        return form

    def post(self, request, *args, **kwargs):
        """Apply one action to the selected records, all or nothing: a failure on any record rolls back
        every change and names the record and the field."""
        form = self.make_bulk_form(request.POST)
        if not form.is_valid():
            return self.render_list(request, bulk_form=form, status=400)
        numbers = form.cleaned_data["selected"][: self.bulk_limit]
        records = list(self.visible().filter(number__in=numbers).order_by("number"))
        if len(records) != len(set(numbers)):
            form.add_error("selected", "Some selected records do not exist or are not visible to you.")
            return self.render_list(request, bulk_form=form, status=400)
        handler = getattr(self, f"bulk_{form.cleaned_data['action']}")
        try:
            with transaction.atomic():
                for record in records:
                    try:
                        handler(record, form)
                    except ValidationError as error:
                        error.record_number = record.number
                        raise
        except ValidationError as error:
            number = getattr(error, "record_number", "")
            if hasattr(error, "error_dict"):
                for name, msgs in error.message_dict.items():
                    target = name if name in form.fields else None
                    form.add_error(target, [f"{number}: {m}" for m in msgs])
            else:
                form.add_error(None, [f"{number}: {m}" for m in error.messages])
            messages.error(request, f"Nothing was changed: {number} could not be updated.")
            return self.render_list(request, bulk_form=form, status=400)
        label = dict(self.bulk_actions)[form.cleaned_data["action"]]
        messages.success(request, f"{label}: {len(records)} {self.model._meta.verbose_name_plural} updated.")
        return HttpResponseRedirect(request.get_full_path())

    def bulk_assign(self, record: TicketBase, form: BulkActionForm) -> None:
        changes = {}
        if form.cleaned_data.get("assignment_group"):
            changes["assignment_group"] = form.cleaned_data["assignment_group"]
        if form.cleaned_data.get("assigned_to"):
            changes["assigned_to"] = form.cleaned_data["assigned_to"]
        self.ticket_services.update(record, actor=self.request.user, changes=changes)

    def bulk_transition(self, record: TicketBase, form: BulkActionForm) -> None:
        to = form.cleaned_data["to"]
        self.ticket_services.transition(
            record,
            to=to,
            actor=self.request.user,
            fields=form.move_fields(to),
            note=form.cleaned_data.get("note", ""),
        )
