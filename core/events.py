"""Record events: the one place services announce what happened, and other apps listen.

Two kinds of listener:
- `on_change` listeners run inside the service's transaction (the SLA engine starts and pauses timers
  there, so a timer never disagrees with the state that caused it);
- `after_commit` listeners run once the transaction commits (webhooks, email, Celery tasks), so a rolled-
  back write sends nothing.

Event names follow SPEC §5: `<kind>.created`, `<kind>.updated`, `<kind>.state_changed`, `<kind>.commented`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass
class Event:
    name: str  # "incident.state_changed"
    record: Any
    actor: Any = None
    data: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.name.split(".", 1)[1]


Listener = Callable[[Event], None]
_on_change: list[Listener] = []
_after_commit: list[Listener] = []


def on_change(listener: Listener) -> Listener:
    """Decorator: call `listener(event)` inside the writing transaction."""
    if listener not in _on_change:
        _on_change.append(listener)
    return listener


def after_commit(listener: Listener) -> Listener:
    """Decorator: call `listener(event)` after the writing transaction commits."""
    if listener not in _after_commit:
        _after_commit.append(listener)
    return listener


def publish(name: str, *, record: Any, actor: Any = None, data: dict | None = None) -> Event:
    event = Event(name=name, record=record, actor=actor, data=data or {})
    for listener in list(_on_change):
        listener(event)
    for listener in list(_after_commit):
        transaction.on_commit(lambda listener=listener: _safely(listener, event))
    return event


def _safely(listener: Listener, event: Event) -> None:
    # After commit the write has landed; a failing notifier must not turn it into an error for the user.
    try:
        listener(event)
    except Exception:
        logger.exception("after-commit listener %s failed for %s", listener.__name__, event.name)
