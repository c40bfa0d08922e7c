"""An item's variables as a real Django form: the portal renders it, the API and services validate with it.

One definition of what a valid answer is (required, a choice from the list, an ISO date, a number, a known
user or CI, picked by name) serves the order page (errors next to each field) and `POST /api/v1/requests/` (400 naming
each bad variable). Answers are stored JSON-safe: dates as ISO strings, users by username, CIs by id.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from cmdb.models import ConfigurationItem
from core.forms import resolve_cis, split_names
from core.pickers import ci_value, picker

from .choices import VariableType as V

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


def _truthy(value: Any) -> bool:
    return value in (True, "true", "True", "1", "on", "yes")


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
        return _truthy(variable.default)
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


def to_stored(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, ConfigurationItem):
        return value.pk
    if hasattr(value, "username"):
        return value.username
    return value


def api_data(variables, data: dict) -> dict:
    """JSON API answers → form data: booleans, numbers and ids as strings, lists kept as lists."""
    prepared: dict[str, Any] = {}
    kinds = {v.name: v.type for v in variables}
    for name, value in data.items():
        kind = kinds.get(name)
        if kind == V.BOOLEAN:
            prepared[name] = "on" if _truthy(value) else ""
        elif kind == V.MULTI_CHOICE:
            prepared[name] = value if isinstance(value, list) else [value]
        elif value is None:
            prepared[name] = ""
        elif isinstance(value, bool | int | float | str):
            prepared[name] = str(value) if not isinstance(value, str) else value
        else:
            prepared[name] = value
    return prepared


def display_rows(item, values: dict) -> list[tuple[str, str]]:
    """(label, answer) pairs in the item's order, for detail pages; answers are plain text."""
    rows = []
    for variable in item.variables.all():
        value = values.get(variable.name)
        if value in (None, "", []):
            continue
        if isinstance(value, bool):
            text = "Yes" if value else "No"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        rows.append((variable.label, text))
    return rows
