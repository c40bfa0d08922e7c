"""The ticket kinds automation works on: each kind's model, its write services and its fields.

Rules write through the same services agents use (the app's own update and transition, with their
follow-ups such as stamping resolved_at or resolving child incidents), so a rule's change is validated,
versioned, on the timeline and announced like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import models

from core import services as core_services
from core.models import TicketBase


@dataclass(frozen=True)
class FieldSpec:
    """One field a condition or a `set` action may name: `type` decides the operators and the values."""

    name: str
    label: str
    type: str  # text, choice, number, bool, user, group, ref, datetime
    choices: tuple[tuple[Any, str], ...] = ()
    writable: bool = False
    related: type[models.Model] | None = None  # for `ref`: the target, addressed by its key field
    key: str = ""  # user → username, group → name, ref → name or number

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "choices": [[value, label] for value, label in self.choices],
            "writable": self.writable,
        }


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[TicketBase]
    api_prefix: str

    def update(self, ticket, *, actor, changes):
        return _services(self.name)["update"](ticket, actor=actor, changes=changes)

    def transition(self, ticket, *, actor, to, fields):
        return _services(self.name)["transition"](ticket, to=to, actor=actor, fields=fields)

    def caller_id(self, ticket) -> int | None:
        """The record's caller/requester: whose comments count as `actor_is_caller`."""
        if self.name == "incident":
            return ticket.caller_id or ticket.opened_by_id
        if self.name == "request":
            return ticket.requested_for_id or ticket.opened_by_id
        return ticket.opened_by_id

    @property
    def fields(self) -> dict[str, FieldSpec]:
        return _fields(self.name)


SKIPPED = {"id", "number", "version", "search_vector"}


def _services(kind: str) -> dict:
    if kind == "incident":
        from incidents.services import incident_transition, incident_update

        return {"update": incident_update, "transition": incident_transition}
    if kind == "request":
        from requests_app.services import request_transition, request_update

        return {"update": request_update, "transition": request_transition}
    if kind == "task":
        from requests_app.services import task_transition

        return {"update": core_services.update_ticket, "transition": task_transition}
    if kind == "problem":
        from problems.services import problem_transition, problem_update

        return {"update": problem_update, "transition": problem_transition}
    from changes.services import change_transition, change_update

    return {"update": change_update, "transition": change_transition}


@cache
def _fields(kind: str) -> dict[str, FieldSpec]:
    from accounts.models import AssignmentGroup, User

    model = KINDS[kind].model
    editable = set(model.EDITABLE_FIELDS)
    specs: dict[str, FieldSpec] = {}
    for field in model._meta.concrete_fields:
        if field.name in SKIPPED or isinstance(field, models.GeneratedField):
            continue
        label = str(field.verbose_name).capitalize()
        writable = field.name in editable
        if field.name == "state":
            choices = tuple((state, model.workflow.label(state)) for state in model.workflow.states)
            specs["state"] = FieldSpec("state", "State", "choice", choices, writable=True)
            continue
        if field.many_to_one:
            target = field.related_model
            if target is User:
                spec = FieldSpec(field.name, label, "user", writable=writable, related=User, key="username")
            elif target is AssignmentGroup:
                spec = FieldSpec(field.name, label, "group", writable=writable, related=target, key="name")
            else:
                names = {f.name for f in target._meta.concrete_fields}
                key = "number" if "number" in names else "name" if "name" in names else ""
                if not key:
                    continue
                spec = FieldSpec(field.name, label, "ref", writable=writable, related=target, key=key)
        elif field.choices:
            spec = FieldSpec(field.name, label, "choice", tuple(field.choices), writable=writable)
        elif isinstance(field, models.BooleanField):
            spec = FieldSpec(field.name, label, "bool", writable=writable)
        elif isinstance(field, models.DateTimeField | models.DateField):
            spec = FieldSpec(field.name, label, "datetime", writable=False)
        elif isinstance(field, models.IntegerField | models.FloatField | models.DecimalField):
            spec = FieldSpec(field.name, label, "number", writable=writable)
        elif isinstance(field, models.CharField | models.TextField):
            spec = FieldSpec(field.name, label, "text", writable=writable)
        else:
            continue
        specs[field.name] = spec
    return specs


def _kinds() -> dict[str, Kind]:
    from changes.models import Change
    from incidents.models import Incident
    from problems.models import Problem
    from requests_app.models import Request, Task

    return {
        "incident": Kind("incident", Incident, "incidents"),
        "request": Kind("request", Request, "requests"),
        "task": Kind("task", Task, "tasks"),
        "problem": Kind("problem", Problem, "problems"),
        "change": Kind("change", Change, "changes"),
    }


class _Registry(dict):
    """Filled on first use (the models are imported lazily so this module loads before the apps)."""

    def _load(self) -> None:
        if not dict.__len__(self):
            self.update(_kinds())

    def __getitem__(self, key):
        self._load()
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        self._load()
        return dict.get(self, key, default)

    def __contains__(self, key):
        self._load()
        return dict.__contains__(self, key)

    def values(self):
        self._load()
        return dict.values(self)


KINDS: dict[str, Kind] = _Registry()


def kind_of(ticket: TicketBase) -> Kind:
    return KINDS[ticket.KIND]
