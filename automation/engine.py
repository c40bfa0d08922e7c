"""The rules engine: event rules run inside the write that triggered them, time rules from Celery beat.

Semantics (README "Automation"):
- An event listener (core.events.on_change, registered last) runs the active rules of the record's kind
  and trigger in `order`, after the service has done its work and inside its transaction: a rule sees the
  new state, and its effects commit or roll back with the write.
- A rule's own writes publish events like any other write, and those run rules again, but only one level
  deep: writes made by a rule that was itself triggered by a rule trigger nothing. A rule never triggers
  itself along one chain. So no loops, whatever the rules say.
- Each matching rule runs in a savepoint. If an action fails, the rule's writes are undone, the failure is
  a timeline row naming the rule and the action, later rules still run, and the user's write succeeds.
- Every effect is written by the system user "automation" with the rule's name in the row's data.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.roles import AGENT, CHANGE_MANAGER, remember_role_names
from core import services as core_services
from core.choices import ActivityKind
from core.config_cache import ConfigCache
from core.events import Event
from core.models import TicketBase

from . import conditions
from .actions import describe_error, run_action
from .kinds import KINDS, kind_of
from .models import Rule, Trigger

logger = logging.getLogger(__name__)

AUTOMATION_USERNAME = "automation"
# Rule levels: 1 = triggered by a person's (or an integration's) write, 2 = triggered by a level-1 rule.
MAX_LEVEL = 2

# The triggers an event fires (every one but the time trigger), as a set: every ticket write asks, and
# `Trigger.values` builds its list anew on each call.
EVENT_TRIGGERS = frozenset(Trigger.values) - {Trigger.TIME}

_level: ContextVar[int] = ContextVar("automation_level", default=0)
_chain: ContextVar[tuple[int, ...]] = ContextVar("automation_chain", default=())


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    tree: conditions.Tree

    @property
    def pk(self) -> int:
        return self.rule.pk


def _load_rules(key) -> list[CompiledRule]:
    kind, trigger = key
    rules = Rule.objects.filter(applies_to=kind, trigger=trigger, active=True).order_by("order", "id")
    return [CompiledRule(rule, conditions.compile_tree(kind, rule.conditions)) for rule in rules]


# Active rules per (kind, trigger), per process; any committed rule or group change reloads them.
_rules = ConfigCache(_load_rules, models=(Rule,))


def rules_for(kind: str, trigger: str) -> list[CompiledRule]:
    return _rules.get((kind, trigger))


def automation_user():
    """The system actor of every rule's writes: an inactive user (it cannot sign in) acting as an agent."""
    user, _ = User.objects.get_or_create(
        username=AUTOMATION_USERNAME,
        defaults={"first_name": "Automation", "is_active": False, "password": "!"},
    )
    remember_role_names(user, [AGENT, CHANGE_MANAGER])
    return user


def _trigger_of(event: Event) -> str:
    return event.name if event.kind == "sla" else event.action


def _context(event: Event, record) -> conditions.Context:
    changes: dict = {}
    for diff in event.data.get("changes", []) or []:
        changes[diff["field"]] = (diff.get("old"), diff.get("new"))
    if "from" in event.data and "to" in event.data:
        changes["state"] = (event.data["from"], event.data["to"])
    actor = event.actor
    return conditions.Context(
        actor_id=getattr(actor, "pk", None),
        caller_id=kind_of(record).caller_id(record),
        changes=changes,
    )


def on_event(event: Event) -> None:
    """core.events listener: run the matching event rules of this write."""
    record = event.record
    if not isinstance(record, TicketBase) or record.KIND not in KINDS:
        return
    trigger = _trigger_of(event)
    if trigger not in EVENT_TRIGGERS:
        return
    level = _level.get() + 1
    if level > MAX_LEVEL:
        return
    rules = [r for r in rules_for(record.KIND, trigger) if r.pk not in _chain.get()]
    if not rules:
        return
    ctx = _context(event, record)
    wrote = run_rules(record, rules, ctx, level=level)
    if wrote:
        # The caller (a service, then the API's response) holds this instance: show it the rules' effects.
        fresh = type(record).objects.get(pk=record.pk)
        for field in record._meta.concrete_fields:
            if field.name != "search_vector":
                setattr(record, field.attname, getattr(fresh, field.attname))
        for field in record._meta.concrete_fields:
            if field.many_to_one and field.is_cached(record):
                field.delete_cached_value(record)


def run_rules(record, rules: list[CompiledRule], ctx: conditions.Context | None, *, level: int) -> int:
    """Evaluate and run `rules` in order on `record`; returns how many actions wrote something."""
    actor = None
    wrote = 0
    fired: list[int] = []
    errors: dict[int, str] = {}
    now = timezone.now()
    for compiled in rules:
        if not conditions.matches(compiled.tree, record, ctx, now):
            continue
        fired.append(compiled.pk)
        if any(not is_noop(record, action) for action in compiled.rule.actions):
            actor = actor or automation_user()
            current, error = run_rule(record, compiled.rule, actor=actor, level=level, stats=False)
            if error is not None:
                errors[compiled.pk] = error
            elif current is not record:
                record, wrote = current, wrote + 1
        if compiled.rule.stop_processing:
            break
    record_stats(fired, errors)
    return wrote


def is_noop(record, action: dict) -> bool:
    """A `set` of a plain field to the value it already has: nothing to write, no savepoint needed."""
    if action.get("type") != "set" or action.get("field") == "state":
        return False
    spec = kind_of(record).fields.get(action["field"])
    if spec is None or spec.type in ("user", "group", "ref"):
        return False
    return getattr(record, action["field"], object()) == action.get("value")


@contextmanager
def acting_as_rule(rule: Rule, *, level: int):
    annotation = {"rule": {"id": rule.pk, "name": rule.name}}
    tokens = (
        _level.set(level),
        _chain.set((*_chain.get(), rule.pk)),
        core_services.activity_annotation.set(annotation),
    )
    try:
        yield
    finally:
        core_services.activity_annotation.reset(tokens[2])
        _chain.reset(tokens[1])
        _level.reset(tokens[0])


def run_rule(record, rule: Rule, *, actor, level: int, stats: bool = True):
    """Run one rule's actions in a savepoint; on failure undo them, write the failure on the timeline and
    return the record as it was. Returns (record, error message or None)."""
    index = 0
    error = None
    current = record
    try:
        with transaction.atomic(), acting_as_rule(rule, level=level):
            for index, action in enumerate(rule.actions):  # noqa: B007 - read by the except
                current = run_action(current, action, actor=actor, extra={"rule": rule.name})
    except Exception as exc:  # noqa: BLE001 - any failure of a rule must not fail the user's write
        error = f"action {index + 1} ({rule.actions[index]['type']}): {describe_error(exc)}"
        logger.info("automation rule %s failed on %s: %s", rule.pk, record.number, error)
        core_services.record_activity(
            record,
            kind=ActivityKind.SYSTEM,
            actor=actor,
            public=False,
            body=f"Rule {rule.name!r} failed and was skipped: {error}",
            data={"rule": {"id": rule.pk, "name": rule.name}, "error": error, "action": index},
        )
        current = record
    if stats:
        record_stats([rule.pk], {rule.pk: error} if error else {})
    return current, error


def record_stats(fired: list[int], errors: dict[int, str], *, times: int = 1) -> None:
    """Fire count, last fired and last error, after commit: one UPDATE for the rules that fired (one more
    per failure), so concurrent writes firing the same rules never hold their rows during the write."""
    if not fired:
        return
    now = timezone.now()

    def write() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # Losing these counters in a database crash is harmless: do not wait for the WAL flush.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                Rule.objects.filter(pk__in=fired).update(
                    fire_count=F("fire_count") + times, last_fired_at=now
                )
                for rule_id, error in errors.items():
                    Rule.objects.filter(pk=rule_id).update(last_error=error[:2000], last_error_at=now)
        except Exception:
            logger.exception("could not record the statistics of rules %s", fired)

    transaction.on_commit(write)
