"""Validation of rules and macros: every condition and action is checked against the kind's fields before
anything is saved, and each error names where it is (`conditions.all[2].value`, `actions[0].group`).

Values are normalised on the way in (a choice "1" becomes 1, a boolean "true" becomes True), so the
engine compares like with like.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.template import Engine, TemplateSyntaxError

from accounts.models import AssignmentGroup, User
from integrations.models import Webhook

from .kinds import KINDS, FieldSpec
from .models import Trigger

OPS_BY_TYPE = {
    "text": ("eq", "ne", "in", "not_in", "contains", "is_empty", "is_not_empty"),
    "choice": ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty"),
    "number": ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty"),
    "bool": ("eq", "ne"),
    "user": ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty"),
    "group": ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty"),
    "ref": ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty"),
    "datetime": ("older_than", "newer_than", "is_empty", "is_not_empty"),
}
CHANGE_OPS = ("changed", "changed_to", "changed_from")
ALL_OPS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "contains",
    "is_empty",
    "is_not_empty",
    "changed",
    "changed_to",
    "changed_from",
    "older_than",
    "newer_than",
    "actor_is_caller",
)
NO_VALUE_OPS = ("is_empty", "is_not_empty", "changed")
ACTION_TYPES = ("set", "assign", "comment", "notify", "webhook")
STRATEGIES = ("round_robin", "least_loaded", "none")
NOTIFY_TARGETS = ("assignee", "group", "caller")
# Fields a `set` action writes through the workflow together with the state (resolution code, hold reason).
TEMPLATE_ENGINE = Engine(autoescape=False)


class Errors:
    """Collects `{path: [messages]}` and raises them as one ValidationError."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _coerce(spec: FieldSpec, value: Any, path: str, errors: Errors) -> Any:
    """Check one value against the field and return it normalised; records an error and returns None."""
    if spec.type == "choice":
        for choice, _label in spec.choices:
            if value == choice or str(value) == str(choice):
                return choice
        allowed = ", ".join(str(c) for c, _ in spec.choices)
        errors.add(path, f"{value!r} is not a choice of {spec.name}; use one of: {allowed}.")
        return None
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes", "on"):
            return True
        if str(value).lower() in ("false", "0", "no", "off"):
            return False
        errors.add(path, f"{spec.name} is true or false, not {value!r}.")
        return None
    if spec.type == "number":
        try:
            return int(value)
        except (TypeError, ValueError):
            errors.add(path, f"{spec.name} is a whole number, not {value!r}.")
            return None
    if spec.type in ("user", "group", "ref"):
        value = str(value or "").strip()
        model = spec.related
        if not model._default_manager.filter(**{spec.key: value}).exists():
            what = {"user": "user", "group": "group"}.get(spec.type, model._meta.verbose_name)
            errors.add(path, f"There is no {what} {value!r}.")
            return None
        return value
    if spec.type == "text":
        if not isinstance(value, str | int | float):
            errors.add(path, f"{spec.name} takes text, not {value!r}.")
            return None
        return str(value)
    errors.add(path, f"{spec.name} cannot be compared to a value.")
    return None


def _condition(kind: str, trigger: str, raw: Any, path: str, errors: Errors) -> dict | None:
    if not isinstance(raw, dict):
        errors.add(path, 'A condition is an object {"field", "op", "value"}.')
        return None
    op = raw.get("op")
    if op not in ALL_OPS:
        errors.add(f"{path}.op", f"Unknown operator {op!r}; use one of: {', '.join(ALL_OPS)}.")
        return None
    if op == "actor_is_caller":
        if trigger == Trigger.TIME:
            errors.add(f"{path}.op", "actor_is_caller needs an event: a time rule has no actor.")
            return None
        value = raw.get("value", True)
        if not isinstance(value, bool):
            errors.add(f"{path}.value", "actor_is_caller takes true or false.")
            return None
        return {"op": op, "value": value}
    name = raw.get("field")
    spec = KINDS[kind].fields.get(name) if isinstance(name, str) else None
    if spec is None:
        errors.add(f"{path}.field", f"Unknown field {name!r} for {kind}.")
        return None
    if op in CHANGE_OPS:
        if trigger not in (Trigger.UPDATED, Trigger.STATE_CHANGED):
            errors.add(
                f"{path}.op", f"{op} looks at what a write changed: use it on updated or state_changed."
            )
            return None
        if op == "changed":
            return {"field": name, "op": op}
        value = _coerce(spec, raw.get("value"), f"{path}.value", errors)
        return None if value is None else {"field": name, "op": op, "value": value}
    if op not in OPS_BY_TYPE[spec.type]:
        errors.add(
            f"{path}.op",
            f"{op} does not fit {name} ({spec.type}); use one of: {', '.join(OPS_BY_TYPE[spec.type])}.",
        )
        return None
    if op in NO_VALUE_OPS:
        return {"field": name, "op": op}
    value = raw.get("value")
    if op in ("older_than", "newer_than"):
        try:
            seconds = int(value)
        except (TypeError, ValueError):
            seconds = -1
        if seconds < 0:
            errors.add(f"{path}.value", f"{op} takes a number of seconds, not {value!r}.")
            return None
        return {"field": name, "op": op, "value": seconds}
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            errors.add(f"{path}.value", f"{op} takes a non-empty list of values.")
            return None
        values = [_coerce(spec, item, f"{path}.value[{i}]", errors) for i, item in enumerate(value)]
        return None if None in values else {"field": name, "op": op, "value": values}
    if op == "contains" and not str(value or ""):
        errors.add(f"{path}.value", "contains needs some text.")
        return None
    coerced = _coerce(spec, value, f"{path}.value", errors)
    return None if coerced is None else {"field": name, "op": op, "value": coerced}


def validate_conditions(kind: str, trigger: str, raw: Any) -> dict:
    errors = Errors()
    result = _conditions(kind, trigger, raw, errors)
    errors.raise_if_any()
    return result


def _conditions(kind: str, trigger: str, raw: Any, errors: Errors) -> dict:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict) or set(raw) - {"all", "any"}:
        errors.add("conditions", 'Conditions are {"all": [...], "any": [...]}.')
        return {}
    result: dict[str, list] = {}
    for group in ("all", "any"):
        items = raw.get(group, [])
        if not isinstance(items, list):
            errors.add(f"conditions.{group}", "A list of conditions.")
            continue
        checked = [
            _condition(kind, trigger, item, f"conditions.{group}[{index}]", errors)
            for index, item in enumerate(items)
        ]
        if items:
            result[group] = checked
    return result


def check_template(text: str, path: str, errors: Errors) -> str:
    text = str(text or "")
    try:
        TEMPLATE_ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        errors.add(path, f"Template syntax error: {exc}")
    return text


def _action(kind: str, raw: Any, path: str, errors: Errors) -> dict | None:
    if not isinstance(raw, dict):
        errors.add(path, 'An action is an object {"type": ...}.')
        return None
    kind_obj = KINDS[kind]
    action_type = raw.get("type")
    if action_type not in ACTION_TYPES:
        errors.add(f"{path}.type", f"Unknown action {action_type!r}; use one of: {', '.join(ACTION_TYPES)}.")
        return None
    if action_type == "set":
        name = raw.get("field")
        spec = kind_obj.fields.get(name) if isinstance(name, str) else None
        if spec is None:
            errors.add(f"{path}.field", f"Unknown field {name!r} for {kind}.")
            return None
        if not spec.writable:
            errors.add(f"{path}.field", f"{name} cannot be set by a rule.")
            return None
        value = raw.get("value")
        if name != "state" and value in (None, "") and spec.type in ("user", "group", "ref", "text"):
            return {"type": "set", "field": name, "value": None if spec.type != "text" else ""}
        value = _coerce(spec, value, f"{path}.value", errors)
        if value is None:
            return None
        action = {"type": "set", "field": name, "value": value}
        if name == "state":
            workflow = kind_obj.model.workflow
            fields = raw.get("fields") or {}
            if not isinstance(fields, dict):
                errors.add(f"{path}.fields", "The fields the move sets, as an object.")
                return None
            allowed = workflow.fields_for(value)
            for extra in sorted(set(fields) - set(allowed)):
                errors.add(f"{path}.fields.{extra}", f"Not set by a move to {value!r}.")
            for required in workflow.requires.get(value, ()):
                if fields.get(required) in (None, ""):
                    errors.add(f"{path}.fields.{required}", f"Required to move to {value!r}.")
            clean = {}
            for field_name, field_value in fields.items():
                if field_name not in allowed:
                    continue
                field_spec = kind_obj.fields.get(field_name)
                if field_spec is not None and field_spec.type != "text":
                    field_value = _coerce(field_spec, field_value, f"{path}.fields.{field_name}", errors)
                clean[field_name] = field_value
            action["fields"] = clean
        return action
    if action_type == "assign":
        group = raw.get("group")
        if not AssignmentGroup.objects.filter(name=str(group or "")).exists():
            errors.add(f"{path}.group", f"There is no group {group!r}.")
        strategy = raw.get("strategy", "none")
        if strategy not in STRATEGIES:
            errors.add(
                f"{path}.strategy", f"Unknown strategy {strategy!r}; use one of: {', '.join(STRATEGIES)}."
            )
        action = {"type": "assign", "group": group, "strategy": strategy}
        by_category = raw.get("by_category") or {}
        if by_category:
            spec = kind_obj.fields.get("category")
            if spec is None or not isinstance(by_category, dict):
                errors.add(f"{path}.by_category", "A category → group map, for kinds with a category.")
            else:
                for category, mapped in by_category.items():
                    _coerce(spec, category, f"{path}.by_category.{category}", errors)
                    if not AssignmentGroup.objects.filter(name=str(mapped or "")).exists():
                        errors.add(f"{path}.by_category.{category}", f"There is no group {mapped!r}.")
                action["by_category"] = dict(by_category)
        return action
    if action_type == "comment":
        body = check_template(raw.get("body"), f"{path}.body", errors)
        if not body.strip():
            errors.add(f"{path}.body", "A comment needs a body.")
        return {"type": "comment", "body": body, "public": bool(raw.get("public", False))}
    if action_type == "notify":
        to = str(raw.get("to") or "")
        if to not in NOTIFY_TARGETS and not User.objects.filter(username=to).exists():
            errors.add(
                f"{path}.to", f"Notify assignee, group, caller or a username; there is no user {to!r}."
            )
        subject = check_template(raw.get("subject"), f"{path}.subject", errors)
        body = check_template(raw.get("body"), f"{path}.body", errors)
        if not subject.strip():
            errors.add(f"{path}.subject", "A notification needs a subject.")
        return {"type": "notify", "to": to, "subject": subject, "body": body}

    webhook = raw.get("webhook")
    try:
        exists = Webhook.objects.filter(pk=int(webhook)).exists()
    except (TypeError, ValueError):
        exists = False
    if not exists:
        errors.add(f"{path}.webhook", f"There is no webhook {webhook!r}.")
        return None
    return {"type": "webhook", "webhook": int(webhook)}


def validate_actions(kind: str, raw: Any, *, required: bool = True) -> list[dict]:
    errors = Errors()
    result = _actions(kind, raw, errors, required=required)
    errors.raise_if_any()
    return result


def _actions(kind: str, raw: Any, errors: Errors, *, required: bool = True) -> list[dict]:
    if not isinstance(raw, list):
        errors.add("actions", "A list of actions.")
        return []
    if required and not raw:
        errors.add("actions", "At least one action.")
    return [_action(kind, item, f"actions[{index}]", errors) for index, item in enumerate(raw)]


def validate_rule(data: dict) -> dict:
    """Check a whole rule; returns the normalised conditions and actions, or raises one ValidationError
    with every problem."""
    errors = Errors()
    kind = data.get("applies_to")
    trigger = data.get("trigger")
    if kind not in KINDS:
        errors.add("applies_to", f"Unknown kind {kind!r}.")
    if trigger not in Trigger.values:
        errors.add("trigger", f"Unknown trigger {trigger!r}; use one of: {', '.join(Trigger.values)}.")
    errors.raise_if_any()
    conditions = _conditions(kind, trigger, data.get("conditions"), errors)
    actions = _actions(kind, data.get("actions"), errors)
    if trigger == Trigger.TIME and not conditions:
        errors.add("conditions", "A time rule needs conditions (otherwise it fires on every record).")
    errors.raise_if_any()
    return {"conditions": conditions, "actions": actions}


def validate_macro(data: dict) -> dict:
    errors = Errors()
    kind = data.get("applies_to")
    if kind not in KINDS:
        errors.add("applies_to", f"Unknown kind {kind!r}.")
    errors.raise_if_any()
    actions = _actions(kind, data.get("actions"), errors)
    errors.raise_if_any()
    return {"actions": actions}
