"""Writes of the automation app: saving rules and macros (validated, audited), preview, applying macros.

Every rule or macro change writes a timeline row on the rule or macro itself (who changed which field,
from what to what), so the audit history covers the API, the editor, the shell and migrations alike.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import services as core_services
from core.choices import ActivityKind
from core.models import TicketBase

from . import conditions
from .actions import describe_error, run_action
from .kinds import KINDS
from .models import Macro, Rule
from .validation import validate_conditions, validate_macro, validate_rule

RULE_FIELDS = (
    "name",
    "description",
    "applies_to",
    "trigger",
    "conditions",
    "actions",
    "order",
    "active",
    "stop_processing",
)
MACRO_FIELDS = ("name", "description", "applies_to", "actions", "active")
PREVIEW_LIMIT = 100


def _audit(record, *, actor, before: dict, after: dict, created: bool) -> None:
    changes = [
        {"field": name, "old": before.get(name), "new": value}
        for name, value in after.items()
        if created or before.get(name) != value
    ]
    if not changes and not created:
        return
    core_services.record_activity(
        record,
        kind=ActivityKind.CREATED if created else ActivityKind.FIELD_CHANGE,
        actor=actor,
        public=False,
        body=record.name,
        data={"changes": changes},
    )


def _save(model, fields: tuple[str, ...], validator, *, actor, data: dict, instance=None):
    current = {name: getattr(instance, name) for name in fields} if instance else {}
    merged = {**current, **{k: v for k, v in data.items() if k in fields}}
    merged.update(validator(merged))
    obj = instance or model()
    for name in fields:
        if name in merged:
            setattr(obj, name, merged[name])
    obj.full_clean()
    obj.save()
    _audit(
        obj, actor=actor, before=current, after={n: getattr(obj, n) for n in fields}, created=instance is None
    )
    return obj


@transaction.atomic
def rule_save(*, actor, data: dict[str, Any], rule: Rule | None = None) -> Rule:
    """Create or update a rule after validating its conditions and actions (ValidationError naming the
    condition or action index and field); nothing is saved on any error."""
    return _save(Rule, RULE_FIELDS, validate_rule, actor=actor, data=data, instance=rule)


@transaction.atomic
def rule_delete(rule: Rule, *, actor) -> None:
    core_services.record_activity(rule, kind=ActivityKind.SYSTEM, actor=actor, public=False, body="deleted")
    rule.delete()


@transaction.atomic
def macro_save(*, actor, data: dict[str, Any], macro: Macro | None = None) -> Macro:
    return _save(Macro, MACRO_FIELDS, validate_macro, actor=actor, data=data, instance=macro)


@transaction.atomic
def macro_delete(macro: Macro, *, actor) -> None:
    core_services.record_activity(macro, kind=ActivityKind.SYSTEM, actor=actor, public=False, body="deleted")
    macro.delete()


def preview(*, applies_to: str, trigger: str, conditions_data: dict) -> dict:
    """Which records that are not closed or canceled the conditions match now; reads only. Conditions
    about an event (changed*, actor_is_caller) cannot be judged without one and are left out."""
    if applies_to not in KINDS:
        raise ValidationError({"applies_to": f"Unknown kind {applies_to!r}."})
    tree = conditions.compile_tree(applies_to, validate_conditions(applies_to, trigger, conditions_data))
    model = KINDS[applies_to].model
    queryset = (
        model.objects.exclude(state__in=model.workflow.final_states)
        .filter(conditions.to_q(tree, timezone.now()))
        .order_by("-opened_at", "-id")
    )
    return {
        "count": queryset.count(),
        "results": list(queryset.values_list("number", flat=True)[:PREVIEW_LIMIT]),
    }


@transaction.atomic
def apply_macro(macro: Macro, records: list[TicketBase], *, actor) -> list[TicketBase]:
    """Apply a macro's actions to each record, as `actor`, all in one transaction: if any action fails on
    any record, nothing is changed and the ValidationError names the record and the action."""
    done = []
    annotation = {"macro": {"id": macro.pk, "name": macro.name}}
    token = core_services.activity_annotation.set(annotation)
    try:
        for record in records:
            if macro.applies_to != record.KIND:
                raise ValidationError(
                    {"macro": f"{macro.name} applies to {macro.applies_to}, not {record.KIND}."}
                )
            current = record
            for index, action in enumerate(macro.actions):
                try:
                    current = run_action(current, action, actor=actor, extra={"macro": macro.name})
                except Exception as exc:
                    raise ValidationError(
                        {
                            f"actions[{index}]": f"{record.number}: {action['type']} failed: {describe_error(exc)}"
                        }
                    ) from exc
            done.append(current)
    finally:
        core_services.activity_annotation.reset(token)
    return done
