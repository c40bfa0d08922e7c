"""The incident state machine of SPEC §3."""

from core.workflow import Workflow

from .choices import IncidentState as S

INCIDENT_WORKFLOW = Workflow(
    initial=S.NEW,
    moves={
        S.NEW: (S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CANCELED),
        S.IN_PROGRESS: (S.ON_HOLD, S.RESOLVED, S.CANCELED),
        S.ON_HOLD: (S.IN_PROGRESS, S.RESOLVED, S.CANCELED),
        S.RESOLVED: (S.IN_PROGRESS, S.CLOSED),
        S.CLOSED: (),
        S.CANCELED: (),
    },
    requires={
        S.ON_HOLD: ("hold_reason",),
        S.RESOLVED: ("resolution_code", "resolution_notes"),
    },
    final_states=frozenset({S.CLOSED, S.CANCELED}),
    done_states=frozenset({S.RESOLVED}),
    labels={value: label for value, label in S.choices},
    stamps={S.RESOLVED: ("resolved_at",), S.CLOSED: ("closed_at",)},
    # A reopened incident is worked again: its old resolution no longer describes it.
    clears={(S.RESOLVED, S.IN_PROGRESS): ("resolved_at", "resolution_code", "resolution_notes")},
)
