"""Request forms: the order form, an item's variables as a real Django form.

The portal's order page renders it (errors next to each field) and requests_app.services validates every
order with it, from the page or from `POST /api/v1/requests/` (400 naming each bad variable), so there is
one definition of a valid answer: required, a choice from the list, an ISO date, a number, a known user or
CI picked by name. Rules beyond the answers' shape (who approves, which tasks) live in the services. The
workspace's request and task pages use core's generic forms (transition, comment, attachment, bulk).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from cmdb.models import ConfigurationItem
from core.forms import resolve_cis, split_names
from core.pickers import ci_value, picker

from .choices import VariableType as V
from .variables import to_stored, truthy

DATE_FORMAT_ERROR = "Enter a date as YYYY-MM-DD."


class UsernameChoiceField(forms.ModelChoiceField):
    default_error_messages = {"invalid_choice": "Unknown user: give an existing username."}


class CIChoiceField(forms.ModelChoiceField):
    """One CI, picked by name as the ticket forms' CI fields are (core.forms.resolve_cis); an id still works."""

    default_error_messages = {
        "invalid_choice": "Unknown configuration item: pick one from the list as you type."
    }

    def prepare_value(self, value):
        if isinstance(value, ConfigurationItem):
            return ci_value(value)
        return super().prepare_value(value)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        found, problems = resolve_cis(split_names(str(value))[:1])
        if problems or not found or not self.queryset.filter(pk=found[0].pk).exists():
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return found[0]


def form_field(variable) -> forms.Field:
    """The Django form field for one CatalogVariable."""
    common: dict[str, Any] = {
        "label": variable.label,
        "required": variable.required and variable.type != V.BOOLEAN,
        "help_text": variable.help_text,
    }
    kind = variable.type
    if kind == V.TEXT:
        field: forms.Field = forms.CharField(max_length=500, **common)
    elif kind == V.TEXTAREA:
        field = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}), **common)
    elif kind == V.NUMBER:
        field = forms.DecimalField(
            max_digits=18, decimal_places=6, error_messages={"invalid": "Enter a number."}, **common
        )
    elif kind == V.BOOLEAN:
        field = forms.BooleanField(**common)
    elif kind == V.CHOICE:
        choices = [(c, c) for c in variable.choices]
        if not variable.required:
            choices = [("", "—"), *choices]
        field = forms.ChoiceField(choices=choices, **common)
    elif kind == V.MULTI_CHOICE:
        field = forms.MultipleChoiceField(
            choices=[(c, c) for c in variable.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    elif kind == V.DATE:
        field = forms.DateField(
            input_formats=["%Y-%m-%d"],
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": DATE_FORMAT_ERROR},
            **common,
        )
    elif kind == V.USER:
        field = UsernameChoiceField(
            queryset=get_user_model().objects.filter(is_active=True),
            to_field_name="username",
            widget=picker("user"),
            **common,
        )
    elif kind == V.CI:
        field = CIChoiceField(
            queryset=ConfigurationItem.objects.all(),
            widget=picker("ci"),
            **common,
        )
    else:  # pragma: no cover - the model's choices make this unreachable
        raise ValueError(f"Unknown variable type {kind!r}")
    if variable.default:
        field.initial = _initial(variable)
    return field


def _initial(variable) -> Any:
    if variable.type == V.BOOLEAN:
        return truthy(variable.default)
    if variable.type == V.MULTI_CHOICE:
        return [c.strip() for c in variable.default.split(",") if c.strip()]
    return variable.default


class VariablesForm(forms.Form):
    """Built per item: `VariablesForm(item.variables.all(), data=...)`."""

    def __init__(self, variables, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.variables = list(variables)
        for variable in self.variables:
            self.fields[variable.name] = form_field(variable)

    def stored_values(self) -> dict[str, Any]:
        """The cleaned answers in their JSON-safe stored form."""
        return {v.name: to_stored(self.cleaned_data.get(v.name)) for v in self.variables}
