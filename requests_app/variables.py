"""An item's answers outside the form: stored JSON-safe (dates as ISO strings, users by username, CIs by
id), JSON API answers turned into form data, and the (label, answer) rows of detail pages. The form that
validates them is requests_app.forms.VariablesForm.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from cmdb.models import ConfigurationItem

from .choices import VariableType as V


def truthy(value: Any) -> bool:
    """A boolean answer as a form, a JSON body or a variable's default gives it."""
    return value in (True, "true", "True", "1", "on", "yes")


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
            prepared[name] = "on" if truthy(value) else ""
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
