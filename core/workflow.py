"""A small workflow engine: the allowed moves of each ticket kind, declared in code.

Each app declares one `Workflow` in its `workflow.py`; `core.services.transition` consults it, locks the
row, applies the move and its fields, and writes the timeline. Keeping the pipeline in code (not in
settings or editable rows) means the code always knows which moves are legal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from .exceptions import IllegalTransition


@dataclass(frozen=True)
class Workflow:
    """`moves` maps a state to the states it may go to; `requires` maps a target state to the fields the
    move must carry; `sets` lists the fields a move may set without requiring them."""

    initial: str
    moves: dict[str, tuple[str, ...]]
    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # final: nothing follows; done: the work is finished (resolved/fulfilled) but the record may reopen.
    final_states: frozenset[str] = frozenset()
    done_states: frozenset[str] = frozenset()
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def states(self) -> list[str]:
        seen: list[str] = []
        for source, targets in self.moves.items():
            for state in (source, *targets):
                if state not in seen:
                    seen.append(state)
        return seen

    def label(self, state: str) -> str:
        return self.labels.get(state, state.replace("_", " ").capitalize())

    def allowed(self, state: str) -> list[str]:
        return list(self.moves.get(state, ()))

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
