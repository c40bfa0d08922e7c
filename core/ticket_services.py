"""Which services write each ticket kind: declared once per app, read by the web pages and the API alike.

Each ticket app ends its `services.py` with one `register_ticket_services(Model, create=..., update=...,
transition=...)`; `core.ticket_views` and `core.api.viewsets.TicketViewSet` look the services up here, so
no view or viewset names an app's service for plumbing. A kind that registers nothing (or leaves a slot
empty) is written by core's generic `update_ticket` / `transition`; without a create service it cannot be
created through the generic pages or API.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from . import services


@dataclass(frozen=True)
class TicketServices:
    """`create(*, actor, **fields)`, `update(record, *, actor, changes, expected_version,
    configuration_items)` and `transition(record, *, to, actor, fields, note, expected_version)`."""

    create: Callable | None = None
    update: Callable = services.update_ticket
    transition: Callable = services.transition


_registry: dict[type, TicketServices] = {}


def register_ticket_services(model: type, **declared: Callable) -> None:
    """Declare the services of `model` (create, update, transition); the others stay core's."""
    _registry[model] = TicketServices(**declared)


def services_for(model: type) -> TicketServices:
    """The declared services of `model`, importing its app's `services` module (which declares them)
    the first time it is asked for."""
    found = _registry.get(model)
    if found is None:
        with contextlib.suppress(ModuleNotFoundError):
            import_module(f"{model._meta.app_label}.services")
        found = _registry.setdefault(model, TicketServices())
    return found
