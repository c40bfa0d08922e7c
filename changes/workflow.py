"""The change state machine of SPEC §3, with the rules each change type adds.

The moves below are every move any change type may make; `change_type_rule` narrows them by type
(Change.allowed_moves shows the narrowed list, and a refused move answers with the rule's sentence):
- standard: new → scheduled directly (pre-approved); never to assess → authorize.
- normal: new → assess → authorize → scheduled; the last CAB approval schedules it.
- emergency: may go new → authorize directly (expedited), and the first CAB approval authorizes it.
A rejected authorization sends the change back to `new`. The guards check what a move needs of the
record: a planned window and CAB approvers to ask for authorization, a finished CAB round to schedule.

Close code and close notes: asked at `review` and accepted at `closed` too (ServiceNow and most integrators
set the close code when closing); the move to `closed` needs a close code unless `review` set one, and
does not change one that `review` set (changes.services.change_transition checks this).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from core import approvals as core_approvals
from core.workflow import Workflow

from .choices import ChangeState as S
from .choices import ChangeType


def change_type_rule(change, to: str) -> str | None:
    """A clear sentence when `to` is a workflow move the change's type does not allow, else None."""
    if change.type == ChangeType.STANDARD and to in (S.ASSESS, S.AUTHORIZE):
        return "A standard change is pre-approved and skips authorization: move it to 'scheduled'."
    if to == S.SCHEDULED and change.type != ChangeType.STANDARD and change.state != S.AUTHORIZE:
        return f"A {change.type} change must be authorized by the CAB first: move it to 'authorize'."
    if to == S.AUTHORIZE and change.type == ChangeType.NORMAL and change.state == S.NEW:
        return "A normal change is assessed first: move it to 'assess'."
    return None


def authorization_outcome(change) -> str:
    """approved / rejected / pending for the current round; an emergency change needs one approval."""
    if change.type == ChangeType.EMERGENCY:
        states = set(
            core_approvals.approvals_for(change)
            .filter(stage=change.approval_round)
            .values_list("state", flat=True)
        )
        if "rejected" in states:
            return "rejected"
        return "approved" if "approved" in states else "pending"
    return core_approvals.stage_outcome(change, change.approval_round)


def planned_window_set(change, to: str, fields: dict) -> None:
    """Authorization and scheduling are decided on a planned window."""
    if to not in (S.AUTHORIZE, S.SCHEDULED):
        return
    missing = {
        name: f"Required to move to {to!r}."
        for name in ("planned_start", "planned_end")
        if not getattr(change, name)
    }
    if missing:
        raise ValidationError(missing)


def cab_named(change, to: str, fields: dict) -> None:
    """Someone must be asked before authorization starts."""
    if to == S.AUTHORIZE and not change.cab_approvers.exists():
        raise ValidationError(
            {"cab_approvers": "Name at least one CAB approver before asking for authorization."}
        )


def cab_approved(change, to: str, fields: dict) -> None:
    """A change under authorization is scheduled only once the CAB round has approved it."""
    if to == S.SCHEDULED and change.state == S.AUTHORIZE and authorization_outcome(change) != "approved":
        raise ValidationError(
            {"to": "The CAB has not approved this change yet: every approver must approve."}
        )


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
    stamps={S.REVIEW: ("implemented_at",), S.CLOSED: ("closed_at",)},
    rules=(change_type_rule,),
    guards=(planned_window_set, cab_named, cab_approved),
)
