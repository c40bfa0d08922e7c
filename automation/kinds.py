"""The ticket kinds automation works on: each kind's model, its write services and its fields.

Rules write through the same services agents use, the ones each app declares (core.ticket_services: the
app's own update and transition, with their follow-ups such as stamping resolved_at or resolving child
incidents), so a rule's change is validated, versioned, on the timeline and announced like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import models

from accounts.models import AssignmentGroup, User
from changes.models import Change
from core.models import TicketBase
from core.ticket_services import services_for
from incidents.models import Incident
from problems.models import Problem
from requests_app.models import Request, Task


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
        return services_for(self.model).update(ticket, actor=actor, changes=changes)

    def transition(self, ticket, *, actor, to, fields):
        return services_for(self.model).transition(ticket, to=to, actor=actor, fields=fields)

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


@cache
def _fields(kind: str) -> dict[str, FieldSpec]:
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


KINDS: dict[str, Kind] = {
    "incident": Kind("incident", Incident, "incidents"),
    "request": Kind("request", Request, "requests"),
    "task": Kind("task", Task, "tasks"),
    "problem": Kind("problem", Problem, "problems"),
    "change": Kind("change", Change, "changes"),
}


def kind_of(ticket: TicketBase) -> Kind:
    return KINDS[ticket.KIND]
