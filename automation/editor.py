"""The rule and macro editor's form handling: rows of conditions and actions posted as flat fields, turned
into the JSON the services validate, and back into rows (with each row's errors) for re-rendering.

A condition row posts `cond_row=<key>` plus `cond-<key>-group|field|op|value`; an action row posts
`act_row=<key>` plus `act-<key>-type|field|value|group|strategy|body|public|to|subject|webhook` and, for a
state move, `act-<key>-fields-<name>`. Rows keep the order they have on the page.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from accounts.models import User
from accounts.selectors import active_group_names
from integrations.models import Webhook

from .kinds import KINDS, FieldSpec
from .validation import ACTION_TYPES, ALL_OPS, NOTIFY_TARGETS, OPS_BY_TYPE, STRATEGIES

OP_LABELS = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "changed": "changed",
    "changed_to": "changed to",
    "changed_from": "changed from",
    "older_than": "older than (seconds)",
    "newer_than": "newer than (seconds)",
    "actor_is_caller": "was done by the caller",
}
ACTION_LABELS = {
    "set": "Set a field",
    "assign": "Assign to a group",
    "comment": "Add a comment",
    "notify": "Send a notification",
    "webhook": "Call a webhook",
}
STRATEGY_LABELS = {"round_robin": "Round robin", "least_loaded": "Least loaded", "none": "Group only"}
PICKER_LIMIT = 300


def new_key() -> str:
    return uuid.uuid4().hex[:8]


def options_for(spec: FieldSpec | None) -> list[tuple[Any, str]] | None:
    """A picker's options for a field, or None when the value is typed."""
    if spec is None:
        return None
    if spec.type == "choice":
        return [(value, label) for value, label in spec.choices]
    if spec.type == "bool":
        return [(True, "Yes"), (False, "No")]
    if spec.type == "group":
        return [(name, name) for name in active_group_names()]
    if spec.type == "user":
        users = User.objects.filter(is_active=True).order_by("username").values_list("username", flat=True)
        return [(name, name) for name in users[:PICKER_LIMIT]]
    if spec.type == "ref":
        keys = spec.related._default_manager.order_by(spec.key).values_list(spec.key, flat=True)
        return [(key, key) for key in keys[:PICKER_LIMIT]]
    return None


@dataclass
class Row:
    key: str
    data: dict
    errors: list[str] = field(default_factory=list)


def condition_row(kind: str, data: dict | None = None, key: str | None = None, group: str = "all") -> dict:
    data = dict(data or {})
    fields = KINDS[kind].fields
    spec = fields.get(data.get("field") or "")
    ops = ALL_OPS if spec is None else (*OPS_BY_TYPE[spec.type], "changed", "changed_to", "changed_from")
    value = data.get("value")
    return {
        "key": key or new_key(),
        "group": data.get("group", group),
        "field": data.get("field", ""),
        "op": data.get("op", ""),
        "value": value,
        "values": [str(v) for v in value]
        if isinstance(value, list)
        else [str(value)]
        if value not in (None, "")
        else [],
        "field_choices": [(name, s.label) for name, s in fields.items()],
        "op_choices": [(op, OP_LABELS[op]) for op in ops]
        + ([("actor_is_caller", OP_LABELS["actor_is_caller"])] if spec else []),
        "options": [(str(v), label) for v, label in (options_for(spec) or [])] if spec else None,
        "spec": spec,
        "errors": data.get("errors", []),
    }


def action_row(kind: str, data: dict | None = None, key: str | None = None) -> dict:
    data = dict(data or {})
    kind_obj = KINDS[kind]
    action_type = data.get("type") or "assign"
    spec = kind_obj.fields.get(data.get("field") or "")
    workflow = kind_obj.model.workflow
    move_fields = sorted({name for state in workflow.states for name in workflow.fields_for(state)})

    return {
        "key": key or new_key(),
        "type": action_type,
        "data": data,
        "type_choices": [(t, ACTION_LABELS[t]) for t in ACTION_TYPES],
        "field_choices": [(name, s.label) for name, s in kind_obj.fields.items() if s.writable],
        "options": [(str(v), label) for v, label in (options_for(spec) or [])] if spec else None,
        "value": "" if data.get("value") is None else str(data.get("value")),
        "move_fields": [
            {
                "name": name,
                "label": kind_obj.fields[name].label if name in kind_obj.fields else name,
                "options": [(str(v), label) for v, label in (options_for(kind_obj.fields.get(name)) or [])]
                if kind_obj.fields.get(name) and kind_obj.fields[name].type != "text"
                else None,
                "value": str((data.get("fields") or {}).get(name, "")),
            }
            for name in move_fields
        ],
        "groups": active_group_names(),
        "strategies": [(s, STRATEGY_LABELS[s]) for s in STRATEGIES],
        "targets": [(t, t.capitalize()) for t in NOTIFY_TARGETS]
        + [
            (u, u)
            for u in User.objects.filter(is_active=True).values_list("username", flat=True)[:PICKER_LIMIT]
        ],
        "webhooks": list(Webhook.objects.values_list("pk", "name")),
        "errors": data.get("errors", []),
    }


def _value(raw_values: list[str], op: str):
    if op in ("in", "not_in"):
        items = []
        for raw in raw_values:
            items.extend(v.strip() for v in raw.split(",") if v.strip())
        return items
    return raw_values[0] if raw_values else None


def parse(post) -> tuple[dict, list[dict], dict[str, str], dict[str, str]]:
    """The posted rows as (conditions, actions) JSON, plus which row key each JSON index came from."""
    conditions: dict[str, list] = {}
    cond_paths: dict[str, str] = {}
    for key in post.getlist("cond_row"):
        prefix = f"cond-{key}-"
        op = post.get(prefix + "op", "")
        if not op and not post.get(prefix + "field"):
            continue  # an empty row
        group = "any" if post.get(prefix + "group") == "any" else "all"
        item: dict[str, Any] = {"op": op}
        if op != "actor_is_caller":
            item["field"] = post.get(prefix + "field", "")
        if op not in ("is_empty", "is_not_empty", "changed"):
            value = _value(post.getlist(prefix + "value"), op)
            if op == "actor_is_caller":
                value = value not in ("false", "False", "0")
            item["value"] = value
        cond_paths[f"conditions.{group}[{len(conditions.get(group, []))}]"] = key
        conditions.setdefault(group, []).append(item)
    actions: list[dict] = []
    act_paths: dict[str, str] = {}
    for key in post.getlist("act_row"):
        prefix = f"act-{key}-"
        action_type = post.get(prefix + "type", "")
        item = {"type": action_type}
        if action_type == "set":
            item["field"] = post.get(prefix + "field", "")
            item["value"] = post.get(prefix + "value", "")
            if item["field"] == "state":
                item["fields"] = {
                    name.removeprefix(prefix + "fields-"): value
                    for name, value in post.items()
                    if name.startswith(prefix + "fields-") and value
                }
        elif action_type == "assign":
            item.update(group=post.get(prefix + "group", ""), strategy=post.get(prefix + "strategy", "none"))
        elif action_type == "comment":
            item.update(body=post.get(prefix + "body", ""), public=bool(post.get(prefix + "public")))
        elif action_type == "notify":
            item.update(
                to=post.get(prefix + "to", ""),
                subject=post.get(prefix + "subject", ""),
                body=post.get(prefix + "body", ""),
            )
        elif action_type == "webhook":
            item["webhook"] = post.get(prefix + "webhook", "")
        act_paths[f"actions[{len(actions)}]"] = key
        actions.append(item)
    return conditions, actions, cond_paths, act_paths


_PATH = re.compile(r"^(conditions\.(?:all|any)\[\d+\]|actions\[\d+\])")


def errors_by_row(
    errors: dict[str, list[str]], paths: dict[str, str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Split service errors into those of a row (by row key) and the rest (shown above the form)."""
    rows: dict[str, list[str]] = {}
    rest: list[str] = []
    for path, messages in errors.items():
        match = _PATH.match(path)
        key = paths.get(match.group(1)) if match else None
        text = [f"{path.split('.', 1)[-1] if key else path}: {m}" for m in messages]
        if key:
            rows.setdefault(key, []).extend(text)
        else:
            rest.extend(text)
    return rows, rest
