"""Evaluating a rule's condition tree: in Python against one record (events, and the re-check of a time
rule under the row lock) and as a queryset filter (preview, and finding the records a time rule is due on).

Semantics: every condition of `all` must hold, and at least one of `any` when `any` is not empty. Values
naming users, groups or other records are resolved to ids once, when the rule is compiled.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from .kinds import KINDS, FieldSpec


@dataclass
class Condition:
    op: str
    field: str = ""
    value: Any = None
    spec: FieldSpec | None = None
    ids: list = dc_field(default_factory=list)  # resolved ids for user/group/ref values

    @property
    def attname(self) -> str:
        return f"{self.field}_id" if self.spec and self.spec.type in ("user", "group", "ref") else self.field


@dataclass
class Tree:
    all: list[Condition]
    any: list[Condition]


def _resolve(spec: FieldSpec, values: list) -> list:
    rows = dict(
        spec.related._default_manager.filter(**{f"{spec.key}__in": values}).values_list(spec.key, "pk")
    )
    return [rows.get(v) for v in values]


def compile_tree(kind: str, conditions: dict) -> Tree:
    fields = KINDS[kind].fields

    def build(raw: dict) -> Condition:
        spec = fields.get(raw.get("field", ""))
        cond = Condition(op=raw["op"], field=raw.get("field", ""), value=raw.get("value"), spec=spec)
        if spec is not None and spec.type in ("user", "group", "ref") and "value" in raw:
            values = raw["value"] if isinstance(raw["value"], list) else [raw["value"]]
            cond.ids = _resolve(spec, values)
        return cond

    conditions = conditions or {}
    return Tree(
        all=[build(c) for c in conditions.get("all", []) if c],
        any=[build(c) for c in conditions.get("any", []) if c],
    )


# ----------------------------------------------------------------------------------------- in Python
@dataclass
class Context:
    """What an event adds to the record: the actor and, for updates and moves, what changed."""

    actor_id: int | None = None
    caller_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = dc_field(default_factory=dict)  # field → (old display, new)


def _current(cond: Condition, record) -> Any:
    return getattr(record, cond.attname)


def _expected(cond: Condition) -> Any:
    if cond.ids:
        return cond.ids if isinstance(cond.value, list) else cond.ids[0]
    return cond.value


def _check(cond: Condition, record, ctx: Context | None, now) -> bool:
    op = cond.op
    if op == "actor_is_caller":
        is_caller = bool(ctx and ctx.actor_id and ctx.actor_id == ctx.caller_id)
        return is_caller == bool(cond.value)
    if op in ("changed", "changed_to", "changed_from"):
        if ctx is None or cond.field not in ctx.changes:
            return False
        if op == "changed":
            return True
        if op == "changed_to":
            return _current(cond, record) == _expected(cond)
        old = ctx.changes[cond.field][0]
        return old == cond.value or str(old) == str(cond.value)
    current = _current(cond, record)
    if op == "is_empty":
        return current in (None, "")
    if op == "is_not_empty":
        return current not in (None, "")
    if op in ("older_than", "newer_than"):
        if current is None:
            return False
        age = (now - current).total_seconds()
        return age > cond.value if op == "older_than" else age <= cond.value
    expected = _expected(cond)
    if op == "eq":
        return current == expected
    if op == "ne":
        return current != expected
    if op == "in":
        return current in expected
    if op == "not_in":
        return current not in expected
    if op == "contains":
        return str(cond.value).lower() in str(current or "").lower()
    return False


def matches(tree: Tree, record, ctx: Context | None = None, now=None) -> bool:
    now = now or timezone.now()
    if not all(_check(c, record, ctx, now) for c in tree.all):
        return False
    return not tree.any or any(_check(c, record, ctx, now) for c in tree.any)


# ------------------------------------------------------------------------------------------ as SQL
def _q(cond: Condition, now) -> Q:
    op = cond.op
    if op in ("actor_is_caller", "changed", "changed_to", "changed_from"):
        return Q()  # about an event: no record matches or fails it on its own (documented for preview)
    name = cond.attname
    if op == "is_empty":
        q = Q(**{f"{name}__isnull": True})
        return q | Q(**{name: ""}) if cond.spec and cond.spec.type == "text" else q
    if op == "is_not_empty":
        q = Q(**{f"{name}__isnull": False})
        return q & ~Q(**{name: ""}) if cond.spec and cond.spec.type == "text" else q
    if op == "older_than":
        return Q(**{f"{name}__lt": now - timedelta(seconds=cond.value)})
    if op == "newer_than":
        return Q(**{f"{name}__gte": now - timedelta(seconds=cond.value)})
    expected = _expected(cond)
    if op == "eq":
        return Q(**{f"{name}__isnull": True}) if expected is None else Q(**{name: expected})
    if op == "ne":
        return ~Q(**{name: expected})
    if op == "in":
        return Q(**{f"{name}__in": expected})
    if op == "not_in":
        return ~Q(**{f"{name}__in": expected})
    if op == "contains":
        return Q(**{f"{name}__icontains": cond.value})
    return Q()


def to_q(tree: Tree, now=None) -> Q:
    now = now or timezone.now()
    q = Q()
    for cond in tree.all:
        q &= _q(cond, now)
    if tree.any:
        any_q = Q()
        for cond in tree.any:
            any_q |= _q(cond, now)
        q &= any_q
    return q
