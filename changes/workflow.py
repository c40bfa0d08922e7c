"""The change state machine of SPEC §3.

The moves below are every move any change type may make; changes.services.change_transition narrows them
by type (Change.allowed_moves shows the narrowed list):
- standard: new → scheduled directly (pre-approved); never to assess → authorize.
- normal: new → assess → authorize → scheduled; the last CAB approval schedules it.
- emergency: may go new → authorize directly (expedited), and the first CAB approval authorizes it.
A rejected authorization sends the change back to `new`.
"""

from core.workflow import Workflow

from .choices import ChangeState as S

CHANGE_WORKFLOW = Workflow(
    initial=S.NEW,
    moves={
        S.NEW: (S.ASSESS, S.AUTHORIZE, S.SCHEDULED, S.CANCELED),
        S.ASSESS: (S.AUTHORIZE, S.SCHEDULED, S.NEW, S.CANCELED),
        S.AUTHORIZE: (S.SCHEDULED, S.NEW, S.CANCELED),
        S.SCHEDULED: (S.IMPLEMENT, S.NEW, S.CANCELED),
        S.IMPLEMENT: (S.REVIEW,),
        S.REVIEW: (S.CLOSED,),
        S.CLOSED: (),
        S.CANCELED: (),
    },
    requires={
        S.REVIEW: ("close_code",),
        S.CLOSED: ("review_notes",),
    },
    # override_conflicts / override_reason are taken off the move by the service and recorded.
    sets={S.SCHEDULED: ("override_conflicts", "override_reason"), S.REVIEW: ("close_notes",)},
    final_states=frozenset({S.CLOSED, S.CANCELED}),
    done_states=frozenset(),
    labels={value: label for value, label in S.choices},
)
