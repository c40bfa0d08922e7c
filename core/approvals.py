"""Approvals shared by every kind that needs them (service requests, changes).

An Approval row asks one user to decide on one record at one stage. The record's kind decides what a
decision means by implementing `on_approval_decided(approval, actor)` on its model (a request moves to
the next approval stage or to fulfillment; a change is scheduled when every CAB member has approved).
Everything here locks rows, writes the record's timeline, and publishes `<kind>.approval_decided`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from core.numbers import parse_id

from . import events
from .choices import ActivityKind


class ApprovalState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for the approver
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELED = "canceled", "No longer needed"  # another approver of the group decided, or the record moved on


class Approval(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals")
    stage = models.PositiveSmallIntegerField(default=1)
    group = models.ForeignKey(
        "accounts.AssignmentGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set when the approval was asked of a group: the first member to decide decides for it.",
    )
    state = models.CharField(max_length=16, choices=ApprovalState.choices, default=ApprovalState.PENDING)
    comment = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "approver", "stage"],
                name="approval_unique_approver_stage",
            )
        ]
        indexes = [
            models.Index(fields=["approver", "state"], name="approval_inbox_idx"),
            models.Index(fields=["content_type", "object_id", "stage"], name="approval_record_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.approver} on {self.record}: {self.state}"


def approvals_for(record) -> QuerySet:
    return Approval.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("approver", "group")


def approver_scope(model, user) -> Q:
    """Q for a ticket model: records on which `user` has (or had) an approval to give."""
    rows = Approval.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id=OuterRef("pk"), approver=user
    )
    return Q(Exists(rows))


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
    from .services import record_activity

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
    from .services import record_activity

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
    record.on_approval_decided(approval, actor)
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
