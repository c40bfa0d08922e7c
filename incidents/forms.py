"""Incident create/edit form for the agent workspace; validation beyond shape lives in the services."""

from django import forms

from core.forms import TicketForm, UsernameFormField
from core.pickers import picker
from problems.models import Problem

from .models import Category, Incident


class NumberField(forms.CharField):
    """A record addressed by its number (INC0000042, PRB0000007), with a message naming what is wrong."""

    def __init__(self, *, model, **kwargs):
        self.model = model
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("widget", picker(model.KIND))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, int):
            return self.model.objects.filter(pk=value).values_list("number", flat=True).first()
        return getattr(value, "number", value)

    def clean(self, value):
        value = (super().clean(value) or "").strip().upper()
        if not value:
            return None
        record = self.model.objects.filter(number=value).first()
        if record is None:
            raise forms.ValidationError(f"No {self.model._meta.verbose_name} {value}.")
        return record


class IncidentForm(TicketForm):
    """Fields an agent sets when opening or editing an incident. Priority is shown, never edited: it
    follows impact and urgency (SPEC §3 matrix)."""

    caller = UsernameFormField(required=False, help_text="Defaults to you.")
    category = forms.ModelChoiceField(queryset=Category.objects.filter(active=True), required=False)
    parent = NumberField(
        model=Incident, label="Parent incident", help_text="Its number or words of its title"
    )
    problem = NumberField(model=Problem, label="Problem", help_text="Its number or words of its title")

    class Meta:
        model = Incident
        fields = [
            "short_description",
            "caller",
            "category",
            "impact",
            "urgency",
            "assignment_group",
            "assigned_to",
            "configuration_items",
            "parent",
            "problem",
            "major",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["caller"] = self.instance.caller.username if self.instance.caller_id else ""
            self.initial["parent"] = self.instance.parent.number if self.instance.parent_id else ""
            self.initial["problem"] = self.instance.problem.number if self.instance.problem_id else ""
