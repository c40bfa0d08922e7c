"""A small workflow engine: the allowed moves of each ticket kind, declared in code.

Each app declares one `Workflow` in its `workflow.py`; `core.services.transition` consults it, locks the
row, checks the move (moves, rules, required fields, guards), applies the move with its fields and stamps,
and writes the timeline. Keeping the pipeline in code (not in settings or editable rows) means the code
always knows which moves are legal, and every kind's after-move bookkeeping (resolved_at, closed_at...)
is declared here once instead of being written by each app's service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from .exceptions import IllegalTransition

# A rule narrows the moves a record may make (a standard change never goes to assess): it returns a
# sentence saying why `to` is refused for this record, or None. Refused moves are not offered.
Rule = Callable[[Any, str], "str | None"]
# A guard checks a move the workflow allows against the record's data (a CAB approval still pending):
# it raises ValidationError naming the field. Guards run under the row lock, just before the move applies.
Guard = Callable[[Any, str, dict], None]


@dataclass(frozen=True)
class Workflow:
    """`moves` maps a state to the states it may go to; `requires` maps a target state to the fields the
    move must carry; `sets` lists the fields a move may set without requiring them.

    `stamps` maps a target state to the datetime fields the move sets to now; `clears` maps a
    (from, to) pair to the fields the move empties (a reopened incident loses its resolution)."""

    initial: str
    moves: dict[str, tuple[str, ...]]
    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # final: nothing follows; done: the work is finished (resolved/fulfilled) but the record may reopen.
    final_states: frozenset[str] = frozenset()
    done_states: frozenset[str] = frozenset()
    labels: dict[str, str] = field(default_factory=dict)
    stamps: dict[str, tuple[str, ...]] = field(default_factory=dict)
    clears: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    guards: tuple[Guard, ...] = ()

    @property
    def states(self) -> list[str]:
        seen: list[str] = []
        for source, targets in self.moves.items():
            for state in (source, *targets):
                if state not in seen:
                    seen.append(state)
        return seen

    @property
    def open_states(self) -> list[str]:
        """States in which work is still to do: neither done nor final (the "open" of lists and reports)."""
        return [s for s in self.states if s not in self.final_states and s not in self.done_states]

    def label(self, state: str) -> str:
        return self.labels.get(state, state.replace("_", " ").capitalize())

    def allowed(self, state: str) -> list[str]:
        return list(self.moves.get(state, ()))

    def refusal(self, record, to: str) -> str | None:
        """The first rule's reason for refusing `to` on this record, or None."""
        for rule in self.rules:
            reason = rule(record, to)
            if reason:
                return reason
        return None

    def allowed_for(self, record) -> list[str]:
        """The moves from the record's state that its rules let it make."""
        moves = self.allowed(record.state)
        if not self.rules:
            return moves
        return [to for to in moves if self.refusal(record, to) is None]

    def fields_for(self, to: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.requires.get(to, ()) + self.sets.get(to, ())))

    def check(self, current: str, to: str, fields: dict) -> None:
        """Raise IllegalTransition or a ValidationError naming each missing field."""
        if to not in self.allowed(current):
            raise IllegalTransition(current, to, self.allowed(current))
        missing = {
            name: f"Required to move to {to!r}."
            for name in self.requires.get(to, ())
            if fields.get(name) in (None, "", [])
        }
        if missing:
            raise ValidationError(missing)

    def check_record(self, record, to: str, fields: dict) -> None:
        """Everything a move must pass on this record: its rules, the move itself, then the guards."""
        reason = self.refusal(record, to)
        if reason:
            raise ValidationError({"to": reason})
        self.check(record.state, to, fields)
        for guard in self.guards:
            guard(record, to, fields)

    def after_move(self, previous: str, to: str, now) -> dict[str, Any]:
        """The fields a move from `previous` to `to` stamps or clears, as name → value."""
        changes: dict[str, Any] = dict.fromkeys(self.stamps.get(to, ()), now)
        for name in self.clears.get((previous, to), ()):
            changes[name] = None if name.endswith("_at") else ""
        return changes


def move_flag(value: Any) -> bool:
    """A yes/no a move carries for its service rather than for a field (`override_conflicts`,
    `resolve_incidents`): a JSON boolean from the API, "true"/"on"/"1"/"yes" from a form."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
