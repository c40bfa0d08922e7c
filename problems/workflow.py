"""The problem state machine of SPEC §3."""

from django.core.exceptions import ValidationError

from core.workflow import Workflow

from .choices import ProblemState

S = ProblemState


def root_cause_known(problem, to: str, fields: dict) -> None:
    """A problem is resolved only once its root cause is written down (now or before)."""
    if to == S.RESOLVED and not (fields.get("root_cause") or problem.root_cause).strip():
        raise ValidationError({"root_cause": "Record the root cause before resolving the problem."})


PROBLEM_WORKFLOW = Workflow(
    initial=S.NEW,
    moves={
        S.NEW: (S.ASSESS, S.CANCELED),
        S.ASSESS: (S.ROOT_CAUSE_ANALYSIS, S.CANCELED),
        S.ROOT_CAUSE_ANALYSIS: (S.FIX_IN_PROGRESS, S.CANCELED),
        S.FIX_IN_PROGRESS: (S.RESOLVED, S.CANCELED),
        S.RESOLVED: (S.CLOSED,),
        S.CLOSED: (),
        S.CANCELED: (),
    },
    # `resolve_incidents` is not a field: problems.services.problem_transition takes it off the move and
    # resolves the linked open incidents in the same transaction.
    sets={S.RESOLVED: ("root_cause", "resolve_incidents")},
    final_states=frozenset({S.CLOSED, S.CANCELED}),
    done_states=frozenset({S.RESOLVED}),
    labels={value: label for value, label in S.choices},
    stamps={S.RESOLVED: ("resolved_at",), S.CLOSED: ("closed_at",)},
    guards=(root_cause_known,),
)
