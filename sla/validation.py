"""Validation of SLA definitions: what SPEC §4 asks a definition to be.

`validate_definition` is the one place a definition is checked (the model's `clean()`, so the admin and
the services, and the API call it), so an empty calendar, a non-positive duration or a condition naming
an unknown value is refused the same way everywhere, with the field named. It lives beside the models
and imports none of them, so `SLADefinition.clean` can call it without an import cycle.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

from core.choices import Priority
from core.models import TicketBase

from .choices import BREACH_STAGE, EscalationAction

CONDITION_FIELDS = ("priority", "category", "catalog_item", "assignment_group", "ci_class")


def ticket_model_for(kind: str) -> type[TicketBase] | None:
    """The installed ticket model whose KIND is `kind` (None while that app has no model yet)."""
    for model in apps.get_models():
        if issubclass(model, TicketBase) and getattr(model, "KIND", None) == kind:
            return model
    return None


def _names(model_label: str, field: str = "name") -> set[str] | None:
    try:
        model = apps.get_model(model_label)
    except LookupError:
        return None
    return {str(v) for v in model.objects.values_list(field, flat=True)}


def _category_values(ticket_model: type[TicketBase] | None) -> set[str] | None:
    """Accepted category values for a kind: the related model's names, or the field's choices."""
    if ticket_model is None:
        return None
    try:
        field = ticket_model._meta.get_field("category")
    except Exception:
        return set()
    if isinstance(field, models.ForeignKey):
        return {str(v) for v in field.related_model.objects.values_list("name", flat=True)}
    if field.choices:
        return {str(value) for value, _ in field.choices}
    return None  # free text: anything goes


def _catalog_values() -> set[str] | None:
    try:
        model = apps.get_model("requests_app", "CatalogItem")
    except LookupError:
        return None
    values: set[str] = set()
    for pk, name in model.objects.values_list("pk", "name"):
        values.update({str(pk), str(name)})
    return values


def _check_values(errors: dict, key: str, values: Any, allowed: set[str] | None) -> None:
    if not isinstance(values, list) or not values:
        errors[f"conditions.{key}"] = "Give a non-empty list of values."
        return
    if allowed is None:
        return
    unknown = [v for v in values if str(v) not in allowed]
    if unknown:
        errors[f"conditions.{key}"] = f"Unknown value(s): {', '.join(map(str, unknown))}."


def validate_definition(definition) -> None:
    """Raise one ValidationError naming every bad field; touch nothing."""
    errors: dict[str, str] = {}
    if definition.duration is None or int(definition.duration) <= 0:
        errors["duration"] = "The duration must be a positive number of seconds."
    if definition.calendar_id:
        calendar = definition.calendar
        if not calendar.hours.exists():
            errors["calendar"] = f"Calendar {calendar.name!r} has no working hours; add some or use 24x7."
    ticket_model = ticket_model_for(definition.applies_to)

    conditions = definition.conditions
    if not isinstance(conditions, dict):
        errors["conditions"] = "Conditions must be an object of field: [values]."
        conditions = {}
    for key, values in conditions.items():
        if key not in CONDITION_FIELDS:
            errors[f"conditions.{key}"] = f"Unknown condition; use one of {', '.join(CONDITION_FIELDS)}."
        elif key == "priority":
            _check_values(errors, key, values, {str(p) for p in Priority.values})
        elif key == "assignment_group":
            _check_values(errors, key, values, _names("accounts.AssignmentGroup"))
        elif key == "ci_class":
            _check_values(errors, key, values, _names("cmdb.CIClass"))
        elif key == "category":
            _check_values(errors, key, values, _category_values(ticket_model))
        elif key == "catalog_item":
            _check_values(errors, key, values, _catalog_values())

    states = definition.pause_states
    if ticket_model is not None and states == ["on_hold"] and "on_hold" not in ticket_model.workflow.states:
        # The SPEC default pause state; kinds without an on_hold state simply never pause by default.
        states = definition.pause_states = []
    if not isinstance(states, list) or not all(isinstance(s, str) for s in states):
        errors["pause_states"] = "Give a list of state names."
    elif ticket_model is not None:
        unknown = [s for s in states if s not in ticket_model.workflow.states]
        if unknown:
            errors["pause_states"] = (
                f"Unknown {definition.applies_to} state(s): {', '.join(unknown)}; "
                f"states are {', '.join(ticket_model.workflow.states)}."
            )

    thresholds = definition.warning_thresholds
    if not isinstance(thresholds, list) or not all(
        isinstance(t, int) and not isinstance(t, bool) and 0 < t < 100 for t in thresholds
    ):
        errors["warning_thresholds"] = "Give whole percentages between 1 and 99."
        thresholds = []

    _validate_escalations(errors, definition.escalations, thresholds)
    if errors:
        raise ValidationError(errors)


def _validate_escalations(errors: dict, escalations: Any, thresholds: list[int]) -> None:
    if not isinstance(escalations, list):
        errors["escalations"] = "Give a list of {at, action, group?} objects."
        return
    stages = {*thresholds, BREACH_STAGE}
    groups = _names("accounts.AssignmentGroup") or set()
    for index, item in enumerate(escalations):
        where = f"escalations[{index}]"
        if not isinstance(item, dict):
            errors[where] = "Each escalation is an object {at, action, group?}."
            continue
        if item.get("at") not in stages:
            errors[f"{where}.at"] = f"Use a warning threshold or 100 (the breach): {sorted(stages)}."
        if item.get("action") not in EscalationAction.values:
            errors[f"{where}.action"] = f"Unknown action; use one of {', '.join(EscalationAction.values)}."
        if item.get("action") == EscalationAction.REASSIGN and item.get("group") not in groups:
            errors[f"{where}.group"] = f"Unknown assignment group {item.get('group')!r}."
        if "unless_breached" in item and (
            not isinstance(item["unless_breached"], bool) or item.get("at") == BREACH_STAGE
        ):
            errors[f"{where}.unless_breached"] = (
                "true or false, on a warning only: true skips the action when the warning runs late, "
                "after the breach."
            )
