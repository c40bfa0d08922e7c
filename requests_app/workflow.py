"""The request and fulfillment task state machines of SPEC §3."""

from django.core.exceptions import ValidationError

from core.workflow import Workflow

from .choices import RequestState as R
from .choices import TaskState as T


def tasks_finished(request, to: str, fields: dict) -> None:
    """A request is fulfilled only when none of its fulfillment tasks is still open."""
    if to == R.FULFILLED and request.tasks.exclude(state__in=[T.DONE, T.CANCELED]).exists():
        raise ValidationError({"to": "Some fulfillment tasks are still open; finish or cancel them first."})


REQUEST_WORKFLOW = Workflow(
    initial=R.SUBMITTED,
    moves={
        R.SUBMITTED: (R.PENDING_APPROVAL, R.IN_FULFILLMENT, R.CANCELED),
        R.PENDING_APPROVAL: (R.APPROVED, R.REJECTED, R.CANCELED),
        R.APPROVED: (R.IN_FULFILLMENT, R.CANCELED),
        R.IN_FULFILLMENT: (R.FULFILLED, R.CANCELED),
        R.FULFILLED: (R.CLOSED,),
        R.CLOSED: (),
        R.REJECTED: (),
        R.CANCELED: (),
    },
    final_states=frozenset({R.CLOSED, R.REJECTED, R.CANCELED}),
    done_states=frozenset({R.FULFILLED}),
    labels={value: label for value, label in R.choices},
    stamps={R.APPROVED: ("approved_at",), R.FULFILLED: ("fulfilled_at",), R.CLOSED: ("closed_at",)},
    guards=(tasks_finished,),
)

# Moves a person may ask for through the transition action. The others follow from approvals and tasks
# (requests_app.services), so nobody can skip an approval by "transitioning" a request to approved.
REQUEST_MANUAL_MOVES = frozenset({R.FULFILLED, R.CLOSED, R.CANCELED})

TASK_WORKFLOW = Workflow(
    initial=T.OPEN,
    moves={
        T.OPEN: (T.IN_PROGRESS, T.DONE, T.CANCELED),
        T.IN_PROGRESS: (T.OPEN, T.DONE, T.CANCELED),
        T.DONE: (),
        T.CANCELED: (),
    },
    final_states=frozenset({T.DONE, T.CANCELED}),
    labels={value: label for value, label in T.choices},
    stamps={T.DONE: ("closed_at",), T.CANCELED: ("closed_at",)},
)
