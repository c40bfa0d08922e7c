"""Change forms for the agent workspace; rules beyond shape live in changes.services."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model

from core.forms import ConfigurationItemsField, TicketForm
from core.pickers import PickModelChoiceField, picker
from problems.models import Problem

from . import risk as risk_questionnaire
from .choices import ChangeType, Risk
from .models import Change, ChangeTemplate

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class UsernamesField(forms.CharField):
    """Users picked by name, their usernames separated by commas (CAB approvers)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", picker("user", multiple=True))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if hasattr(value, "all"):
            return ", ".join(u.username for u in value.all())
        if isinstance(value, list | tuple):
            return ", ".join(getattr(u, "username", str(u)) for u in value)
        return value

    def clean(self, value):
        value = super().clean(value)
        names = list(dict.fromkeys(t for t in re.split(r"[\s,]+", value or "") if t))
        users = {u.username: u for u in get_user_model().objects.filter(username__in=names, is_active=True)}
        missing = [n for n in names if n not in users]
        if missing:
            raise forms.ValidationError(f"No such user: {', '.join(missing)}.")
        return [users[n] for n in names]


class ChangeForm(TicketForm):
    """Raise or edit a change. The risk questionnaire is one checkbox per question; the risk follows
    from it unless overridden with a reason."""

    type = forms.ChoiceField(choices=ChangeType.choices, initial=ChangeType.NORMAL)
    template = forms.ModelChoiceField(
        queryset=ChangeTemplate.objects.filter(active=True),
        required=False,
        help_text="A pre-approved template makes this a standard change.",
    )
    cab_approvers = UsernamesField(
        required=False,
        label="CAB approvers",
        help_text="Type a name and pick; several are separated by commas.",
    )
    problem = PickModelChoiceField(
        queryset=Problem.objects.all(),
        source="problem",
        to_field_name="number",
        required=False,
        help_text="Its number or words of its title",
    )
    planned_start = forms.DateTimeField(required=False, widget=DATETIME_WIDGET)
    planned_end = forms.DateTimeField(required=False, widget=DATETIME_WIDGET)
    risk_override = forms.ChoiceField(choices=[("", "No override"), *Risk.choices], required=False)

    class Meta:
        model = Change
        fields = [
            "short_description",
            "type",
            "template",
            "priority",
            "assignment_group",
            "assigned_to",
            "configuration_items",
            "planned_start",
            "planned_end",
            "cab_approvers",
            "problem",
            "description",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "risk_override",
            "risk_override_reason",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in (
                "description",
                "implementation_plan",
                "backout_plan",
                "test_plan",
                "risk_override_reason",
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["short_description"].required = False
        answers = self.instance.risk_answers if self.instance.pk else {}
        for key, question, _weight in risk_questionnaire.QUESTIONS:
            self.fields[f"risk_{key}"] = forms.BooleanField(
                required=False, label=question, initial=bool(answers.get(key))
            )
        if self.instance.pk:
            del self.fields["type"]
            del self.fields["template"]
            self.initial["cab_approvers"] = self.instance.cab_approvers.all()
            self.initial["problem"] = self.instance.problem.number if self.instance.problem_id else ""

    def clean(self):
        cleaned = super().clean()
        cleaned["risk_answers"] = {
            key: bool(cleaned.pop(f"risk_{key}", False)) for key, _q, _w in risk_questionnaire.QUESTIONS
        }
        return cleaned


class BlackoutWindowForm(forms.Form):
    name = forms.CharField(max_length=200)
    start = forms.DateTimeField(widget=DATETIME_WIDGET)
    end = forms.DateTimeField(widget=DATETIME_WIDGET)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    configuration_items = ConfigurationItemsField(label="Configuration items (empty: all)")
