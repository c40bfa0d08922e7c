"""The change state machine of SPEC §3.

The moves below are every move any change type may make; changes.services.change_transition narrows them
by type (Change.allowed_moves shows the narrowed list):
- standard: new → scheduled directly (pre-approved); never to assess → authorize.
- normal: new → assess → authorize → scheduled; the last CAB approval schedules it.
- emergency: may go new → authorize directly (expedited), and the first CAB approval authorizes it.
A rejected authorization sends the change back to `new`.

Close code and close notes: asked at `review` and accepted at `closed` too (ServiceNow and most integrators
set the close code when closing); the move to `closed` needs a close code unless `review` set one, and
does not change one that `review` set (changes.services.change_transition checks this).
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
        S.CLOSED: ("review_notes",),
    },
    # override_conflicts / override_reason are taken off the move by the service and recorded.
    sets={
        S.SCHEDULED: ("override_conflicts", "override_reason"),
        S.REVIEW: ("close_code", "close_notes"),
        S.CLOSED: ("close_code", "close_notes"),
    },
    final_states=frozenset({S.CLOSED, S.CANCELED}),
    done_states=frozenset(),
    labels={value: label for value, label in S.choices},
)
