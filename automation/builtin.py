"""The out-of-the-box rules (SPEC §6): ordinary rows an admin may edit, created by a data migration.

- route-unassigned: a ticket opened without an assignment group gets one, by its category (the map in the
  action) or else the service desk group;
- caller-replied-on-hold: a caller's comment on an incident on hold awaiting the caller moves it back to
  in progress;
- caller-replied-resolved: a caller's comment on a resolved incident reopens it;
- remind-on-hold / resolve-on-hold (inactive): three days on hold awaiting the caller (no activity) send
  a reminder; seven resolve it as resolved_by_caller.
"""

from __future__ import annotations

from .models import Rule

SERVICE_DESK = "service-desk"
DAY = 86400

BUILTIN_RULES: list[dict] = [
    {
        "builtin": "route-unassigned",
        "name": "Route new incidents without a group",
        "description": "A ticket opened without an assignment group (portal, mail, API) gets one: by category, "
        "else the service desk.",
        "applies_to": "incident",
        "trigger": "created",
        "order": 10,
        "active": True,
        "conditions": {"all": [{"field": "assignment_group", "op": "is_empty"}]},
        "actions": [{"type": "assign", "group": SERVICE_DESK, "strategy": "none", "by_category": {}}],
    },
    {
        "builtin": "caller-replied-on-hold",
        "name": "Caller replied: back to in progress",
        "description": "A caller's comment on an incident on hold awaiting the caller resumes it.",
        "applies_to": "incident",
        "trigger": "commented",
        "order": 20,
        "active": True,
        "conditions": {
            "all": [
                {"field": "state", "op": "eq", "value": "on_hold"},
                {"field": "hold_reason", "op": "eq", "value": "awaiting_caller"},
                {"op": "actor_is_caller", "value": True},
            ]
        },
        "actions": [{"type": "set", "field": "state", "value": "in_progress", "fields": {}}],
    },
    {
        "builtin": "caller-replied-resolved",
        "name": "Caller replied: reopen resolved incident",
        "description": "A caller's comment on a resolved incident reopens it.",
        "applies_to": "incident",
        "trigger": "commented",
        "order": 30,
        "active": True,
        "conditions": {
            "all": [
                {"field": "state", "op": "eq", "value": "resolved"},
                {"op": "actor_is_caller", "value": True},
            ]
        },
        "actions": [{"type": "set", "field": "state", "value": "in_progress", "fields": {}}],
    },
    {
        "builtin": "remind-on-hold",
        "name": "Remind the caller after 3 days on hold",
        "description": "An incident on hold awaiting the caller with no activity for 3 days gets a public "
        "reminder (the reminder counts as activity).",
        "applies_to": "incident",
        "trigger": "time",
        "order": 40,
        "active": False,
        "conditions": {
            "all": [
                {"field": "state", "op": "eq", "value": "on_hold"},
                {"field": "hold_reason", "op": "eq", "value": "awaiting_caller"},
                {"field": "updated_at", "op": "older_than", "value": 3 * DAY},
            ]
        },
        "actions": [
            {
                "type": "comment",
                "public": True,
                "body": "Hello {{ caller_name }}, we are waiting for your answer on {{ number }} "
                "({{ short_description }}). Please reply to this message so we can continue.",
            }
        ],
    },
    {
        "builtin": "resolve-on-hold",
        "name": "Resolve after 7 days awaiting the caller",
        "description": "An incident on hold awaiting the caller with no activity for 7 days is resolved "
        "as resolved_by_caller.",
        "applies_to": "incident",
        "trigger": "time",
        "order": 50,
        "active": False,
        "conditions": {
            "all": [
                {"field": "state", "op": "eq", "value": "on_hold"},
                {"field": "hold_reason", "op": "eq", "value": "awaiting_caller"},
                {"field": "updated_at", "op": "older_than", "value": 7 * DAY},
            ]
        },
        "actions": [
            {
                "type": "set",
                "field": "state",
                "value": "resolved",
                "fields": {
                    "resolution_code": "resolved_by_caller",
                    "resolution_notes": "Resolved automatically: no answer from the caller for 7 days.",
                },
            }
        ],
    },
]


def ensure_builtin_rules(rule_model=None, *, active: bool | None = None) -> None:
    """Create any missing out-of-the-box rule (by its `builtin` key); existing ones are left as the admin
    made them. `rule_model` is the historical model inside a migration."""
    rule_model = rule_model or Rule
    existing = set(rule_model.objects.exclude(builtin="").values_list("builtin", flat=True))
    for spec in BUILTIN_RULES:
        if spec["builtin"] in existing:
            continue
        fields = dict(spec)
        if active is not None:
            fields["active"] = active
        if rule_model.objects.filter(name=fields["name"]).exists():
            continue
        rule_model.objects.create(**fields)
