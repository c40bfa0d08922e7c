"""Problem forms for the agent workspace; rules beyond shape live in problems.services."""

import re

from django import forms

from core.forms import ConfigurationItemsField, TicketForm
from core.pickers import picker

from .models import Problem


class ProblemForm(TicketForm):
    configuration_items = ConfigurationItemsField(label="Affected configuration items")

    class Meta:
        model = Problem
        fields = [
            "short_description",
            "priority",
            "assignment_group",
            "assigned_to",
            "configuration_items",
            "description",
            "root_cause",
            "workaround",
            "known_error",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "root_cause": forms.Textarea(attrs={"rows": 3}),
            "workaround": forms.Textarea(attrs={"rows": 3}),
        }


class LinkIncidentsForm(forms.Form):
    """Incident numbers, separated by commas or spaces (INC0000001, INC0000002)."""

    incidents = forms.CharField(
        max_length=5000,
        label="Incidents",
        help_text="Type a number or words of the title and pick; several are separated by commas.",
        widget=picker("incident", multiple=True),
    )

    def clean_incidents(self) -> list[str]:
        tokens = [t.upper() for t in re.split(r"[\s,]+", self.cleaned_data["incidents"]) if t]
        if not tokens:
            raise forms.ValidationError("Give at least one incident number.")
        return list(dict.fromkeys(tokens))
