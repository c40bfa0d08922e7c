"""A time rule's actions applied to a whole batch of records at once (automation.timerules.fire).

When thousands of records become due together, running the rule record by record (lock, service call,
timeline row, commit) is what made the firing slow. The actions whose effect is the same kind of write for
every record are done here set-based, with the same visible result as the services give one record:

- `comment`: one UPDATE of the batch's version and updated_at, one bulk INSERT of the timeline rows;
- `assign`: the members chosen in Python (round robin from the group's locked cursor, least loaded from one
  count per group), one bulk UPDATE, one bulk INSERT of the assignment rows;
- `set` of a plain field (choice, number, yes/no, text; not `state`): validated per record in Python, one
  bulk UPDATE, one bulk INSERT of the field-change rows.

Each action then publishes the record's event (`<kind>.commented`, `<kind>.updated`) exactly as the service
does, so SLA timers, notifications, webhooks and level-2 event rules react as they would to one write.
State moves, notifications and webhooks go through the services record by record (`supports` says no), and
any failure here (a template that renders empty for one record, a group deleted since the rule was saved)
raises, so the caller undoes the batch's actions and runs the rule record by record, which records each
record's failure on its own timeline.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import F
from django.template import Context
from django.utils import timezone

from accounts.models import AssignmentGroup, User
from core import events
from core.choices import ActivityKind
from core.limits import TEXT_MAX_LENGTH
from core.models import Activity
from core.services import _display

from .actions import (
    ActionError,
    active_members,
    least_loaded,
    locked_cursor,
    next_in_turn,
    open_counts,
    template_context,
)
from .kinds import KINDS, Kind
from .models import Rule
from .validation import TEMPLATE_ENGINE

SET_TYPES = ("choice", "number", "bool", "text")
# Kinds whose update service is core.services.update_ticket with nothing of its own for the fields a
# set-based action writes. Problems (a known error needs a workaround) and changes (window, risk, no edits
# during authorization) check more in their own services, so their time rules run record by record.
KINDS_SET_BASED = ("incident", "request", "task")


def supports(rule: Rule) -> bool:
    """Whether every action of the rule can be applied to a batch at once."""
    if rule.applies_to not in KINDS_SET_BASED:
        return False
    kind = KINDS[rule.applies_to]
    for action in rule.actions:
        if action["type"] in ("comment", "assign"):
            continue
        if action["type"] == "set" and action["field"] != "state":
            spec = kind.fields.get(action["field"])
            if spec is not None and spec.type in SET_TYPES:
                continue
        return False
    return True


def load(kind: Kind, ids: list[int]) -> list:
    """The batch's records with what templates and timeline rows read (already locked by the caller)."""
    # The events' listeners read the people (notifications: caller, opener, watchers) and the timeline
    # rows the groups and assignees: loaded here for the batch, they cost no query per record.
    names = {f.name for f in kind.model._meta.concrete_fields}
    related = [
        name
        for name in ("assignment_group", "assigned_to", "category", "caller", "opened_by", "requested_for")
        if name in names
    ]
    records = kind.model.objects.filter(pk__in=ids).select_related(*related).order_by("pk")
    if any(f.name == "watchers" for f in kind.model._meta.many_to_many):
        records = records.prefetch_related("watchers")
    return list(records)


def apply(rule: Rule, ids: list[int], *, actor) -> int:
    """Run the rule's actions on the records `ids` (locked and claimed by the caller, inside its
    transaction and under automation.engine.acting_as_rule); returns how many records it ran on."""
    kind = KINDS[rule.applies_to]
    records = load(kind, ids)
    for index, action in enumerate(rule.actions):
        if index:
            records = load(kind, ids)  # the previous action's events may have run level-2 rules
        if action["type"] == "comment":
            _comment(kind, rule, action, records, actor=actor)
        elif action["type"] == "assign":
            _assign(kind, rule, action, records, actor=actor)
        else:
            _set(kind, rule, action, records, actor=actor)
    return len(records)


def _annotation(rule: Rule) -> dict:
    return {"rule": {"id": rule.pk, "name": rule.name}}


def _activity(
    content_type, record, *, kind: str, actor, body: str = "", public: bool, data: dict
) -> Activity:
    return Activity(
        content_type=content_type,
        object_id=record.pk,
        kind=kind,
        actor=actor,
        actor_name=actor.username,
        public=public,
        body=body,
        data=data,
    )


def _comment(kind: Kind, rule: Rule, action: dict, records: list, *, actor) -> None:
    template = TEMPLATE_ENGINE.from_string(action["body"])
    caller_ids = {kind.caller_id(r) for r in records} - {None}
    callers = User.objects.in_bulk(caller_ids)
    public = bool(action.get("public"))
    bodies = []
    for record in records:
        context = template_context(record, {"rule": rule.name}, caller=callers.get(kind.caller_id(record)))
        body = template.render(Context(context)).strip()
        if not body:
            raise ActionError(f"The comment template rendered empty on {record.number}.")
        if len(body) > TEXT_MAX_LENGTH:
            raise ActionError(f"The comment on {record.number} is over {TEXT_MAX_LENGTH:,} characters.")
        bodies.append(body)
    now = timezone.now()
    kind.model.objects.filter(pk__in=[r.pk for r in records]).update(version=F("version") + 1, updated_at=now)
    content_type = ContentType.objects.get_for_model(kind.model)
    rows = Activity.objects.bulk_create(
        [
            _activity(
                content_type,
                record,
                kind=ActivityKind.COMMENT,
                actor=actor,
                body=body,
                public=public,
                data=_annotation(rule),
            )
            for record, body in zip(records, bodies, strict=True)
        ]
    )
    for record, body, row in zip(records, bodies, rows, strict=True):
        record.version += 1
        record.updated_at = now
        events.publish(
            f"{record.KIND}.commented",
            record=record,
            actor=actor,
            data={"activity_id": row.pk, "public": public, "body": body},
        )


def _write(kind: Kind, rule: Rule, records: list, diffs: dict[int, list[dict]], fields: set[str], *, actor):
    """Save the changed records in one UPDATE, their timeline rows in one INSERT, then publish their events
    (the shape core.services.update_ticket gives one record)."""
    changed = [r for r in records if diffs.get(r.pk)]
    if not changed:
        return
    now = timezone.now()
    for record in changed:
        record.version += 1
        record.updated_at = now
    kind.model.objects.bulk_update(changed, sorted({*fields, "version", "updated_at"}))
    content_type = ContentType.objects.get_for_model(kind.model)
    rows = []
    for record in changed:
        assignment = [d for d in diffs[record.pk] if d["field"] in ("assignment_group", "assigned_to")]
        others = [d for d in diffs[record.pk] if d not in assignment]
        if assignment:
            data = {"changes": assignment, **_annotation(rule)}
            rows.append(
                _activity(
                    content_type, record, kind=ActivityKind.ASSIGNMENT, actor=actor, public=True, data=data
                )
            )
        if others:
            data = {"changes": others, **_annotation(rule)}
            rows.append(
                _activity(
                    content_type, record, kind=ActivityKind.FIELD_CHANGE, actor=actor, public=False, data=data
                )
            )
    Activity.objects.bulk_create(rows)
    for record in changed:
        assignment_changed = any(d["field"] in ("assignment_group", "assigned_to") for d in diffs[record.pk])
        events.publish(
            f"{record.KIND}.updated",
            record=record,
            actor=actor,
            data={"changes": diffs[record.pk], "assignment_changed": assignment_changed},
        )


def _diffs(record, before: dict) -> list[dict]:
    return [
        {"field": name, "old": _display(old), "new": _display(getattr(record, name))}
        for name, old in before.items()
        if getattr(record, name) != old
    ]


def _set(kind: Kind, rule: Rule, action: dict, records: list, *, actor) -> None:
    name, value = action["field"], action["value"]
    tracked = (*kind.model.EDITABLE_FIELDS, "priority")
    others = [f.name for f in kind.model._meta.concrete_fields if f.name != name]
    diffs: dict[int, list[dict]] = {}
    fields: set[str] = set()
    for record in records:
        before = {field: getattr(record, field) for field in tracked}
        setattr(record, name, value)
        record.refresh_derived_fields()
        record.clean_fields(exclude=others)  # the value's choices and length, as the service's full_clean
        diffs[record.pk] = _diffs(record, before)
        fields.update(d["field"] for d in diffs[record.pk])
    _write(kind, rule, records, diffs, fields, actor=actor)


def _assign(kind: Kind, rule: Rule, action: dict, records: list, *, actor) -> None:
    by_category = action.get("by_category") or {}

    def group_name(record) -> str:
        category = getattr(record, "category", None) if by_category else None
        return by_category.get(category.name, action["group"]) if category is not None else action["group"]

    names = {group_name(r) for r in records}
    groups = {g.name: g for g in AssignmentGroup.objects.filter(name__in=names, active=True)}
    missing = sorted(names - set(groups))
    if missing:
        raise ActionError(f"There is no active group {missing[0]!r}.")
    strategy = action.get("strategy", "none")
    members = {name: active_members(group) for name, group in groups.items()} if strategy != "none" else {}
    cursors = {}
    counts: dict[str, dict[int, int]] = {}
    closed = {*kind.model.workflow.final_states, *kind.model.workflow.done_states}
    diffs: dict[int, list[dict]] = {}
    for record in records:
        name = group_name(record)
        chosen = None
        candidates = members.get(name) or []
        if candidates and strategy == "round_robin":
            if name not in cursors:
                cursors[name] = locked_cursor(groups[name])
            chosen = next_in_turn(candidates, cursors[name].last_user_id)
            cursors[name].last_user_id = chosen.pk
        elif candidates and strategy == "least_loaded":
            if name not in counts:
                counts[name] = open_counts(candidates, kind.model)
            chosen = least_loaded(candidates, counts[name])
            if record.assigned_to_id != chosen.pk and record.state not in closed:
                # What the next record's choice would see had this one been saved first.
                counts[name][chosen.pk] = counts[name].get(chosen.pk, 0) + 1
                if record.assigned_to_id in counts[name]:
                    counts[name][record.assigned_to_id] -= 1
        before = {"assignment_group": record.assignment_group, "assigned_to": record.assigned_to}
        record.assignment_group = groups[name]
        record.assigned_to = chosen
        diffs[record.pk] = _diffs(record, before)
    for cursor in cursors.values():
        cursor.save(update_fields=["last_user_id"])
    _write(kind, rule, records, diffs, {"assignment_group", "assigned_to"}, actor=actor)
