"""Approvals shared by every kind that needs them (service requests, changes).

An Approval row (core.models) asks one user to decide on one record at one stage. The record's kind
decides what a decision means by registering a handler from its AppConfig.ready() (a request moves to
the next approval stage or to fulfillment; a change is scheduled when every CAB member has approved).
Everything here locks rows, writes the record's timeline, and publishes `<kind>.approval_decided`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from core.numbers import parse_id

from . import events
from .choices import ActivityKind
from .models import Approval, ApprovalState, approver_scope
from .services import record_activity

__all__ = ["Approval", "ApprovalState", "approver_scope", "register_decision_handler"]


# Each kind that asks for approvals registers what a decision means for it, from its AppConfig.ready()
# (a request moves to its next stage or to fulfilment; a change is scheduled once the CAB approves).
DecisionHandler = Callable[..., None]
_decision_handlers: dict[type, DecisionHandler] = {}


def register_decision_handler(model: type, handler: DecisionHandler) -> None:
    """`handler(record, approval, *, actor)` runs inside decide()'s transaction after each decision."""
    _decision_handlers[model] = handler


def approvals_for(record) -> QuerySet:
    return Approval.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("approver", "group")


def pending_for(user) -> QuerySet:
    """The user's approvals inbox."""
    return Approval.objects.filter(approver=user, state=ApprovalState.PENDING).select_related("content_type")


def get_for_approver(user, pk: int) -> Approval:
    """One of the user's own approvals, else 404 (someone else's approval is not theirs to see)."""
    approval_id = parse_id(str(pk))
    if approval_id is None:
        raise Http404("No such approval")
    approval = Approval.objects.filter(pk=approval_id, approver=user).first()
    if approval is None:
        raise Http404("No such approval")
    return approval


@transaction.atomic
def request_approvals(
    record, *, approvers: Iterable, stage: int = 1, group=None, actor=None
) -> list[Approval]:
    """Ask each approver to decide on `record` at `stage`; already-asked approvers are not asked twice."""
    content_type = ContentType.objects.get_for_model(record)
    created = []
    for approver in approvers:
        approval, was_created = Approval.objects.get_or_create(
            content_type=content_type,
            object_id=record.pk,
            approver=approver,
            stage=stage,
            defaults={"group": group},
        )
        if was_created:
            created.append(approval)
    if created:
        record_activity(
            record,
            kind=ActivityKind.APPROVAL,
            actor=actor,
            body="Approval requested from " + ", ".join(a.approver.username for a in created),
            data={"requested": [a.approver.username for a in created], "stage": stage},
        )
        events.publish(
            f"{record.KIND}.approval_requested",
            record=record,
            actor=actor,
            data={
                "approvers": [a.approver.username for a in created],
                "stage": stage,
                "approval_ids": [a.pk for a in created],
            },
        )
    return created


@transaction.atomic
def decide(approval: Approval, *, actor, approve: bool, comment: str = "") -> Approval:
    """Record the approver's decision; refuses non-approvers and second decisions with a clear error."""
    approval = Approval.objects.select_for_update().get(pk=approval.pk)
    if approval.approver_id != actor.pk:
        raise ValidationError({"approver": "Only the approver named on this approval can decide it."})
    if approval.state != ApprovalState.PENDING:
        raise ValidationError(
            {
                "state": f"This approval is already {approval.get_state_display().lower()}; it cannot be decided again."
            }
        )
    record_model = approval.content_type.model_class()
    record = record_model.objects.select_for_update().get(pk=approval.object_id)
    approval.state = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
    approval.comment = (comment or "").strip()[:5000]
    approval.decided_at = timezone.now()
    approval.save(update_fields=["state", "comment", "decided_at"])
    if approval.group_id:
        # A group approval is decided by its first member; the other members' rows are withdrawn.
        Approval.objects.filter(
            content_type=approval.content_type,
            object_id=approval.object_id,
            stage=approval.stage,
            group=approval.group,
            state=ApprovalState.PENDING,
        ).update(state=ApprovalState.CANCELED, decided_at=approval.decided_at)
    record_activity(
        record,
        kind=ActivityKind.APPROVAL,
        actor=actor,
        body=approval.comment,
        data={"decision": approval.state, "stage": approval.stage, "approval_id": approval.pk},
    )
    events.publish(
        f"{record.KIND}.approval_decided",
        record=record,
        actor=actor,
        data={"decision": approval.state, "stage": approval.stage, "comment": approval.comment},
    )
    handler = _decision_handlers.get(record_model)
    if handler is None:
        raise LookupError(f"No approval decision handler registered for {record_model.__name__}.")
    handler(record, approval, actor=actor)
    return approval


@transaction.atomic
def withdraw_pending(record, *, stage: int | None = None) -> int:
    """Cancel the record's pending approvals (the record was canceled or rejected by someone else)."""
    rows = approvals_for(record).filter(state=ApprovalState.PENDING)
    if stage is not None:
        rows = rows.filter(stage=stage)
    return rows.update(state=ApprovalState.CANCELED, decided_at=timezone.now())


def stage_outcome(record, stage: int) -> str:
    """ "approved" when every non-withdrawn approval of the stage approved, "rejected" when any rejected,
    else "pending"."""
    states = set(
        approvals_for(record)
        .filter(stage=stage)
        .exclude(state=ApprovalState.CANCELED)
        .values_list("state", flat=True)
    )
    if ApprovalState.REJECTED in states:
        return "rejected"
    if not states or ApprovalState.PENDING in states:
        return "pending"
    return "approved"
