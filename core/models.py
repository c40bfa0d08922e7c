"""What every ticket kind shares: the abstract TicketBase, the one Activity timeline, attachments.

Incidents, requests, tasks, problems and changes each subclass TicketBase; their apps stay thin. The
timeline and attachments use a generic key (content type + id) so one query builds any record's timeline.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from .choices import ActivityKind, Priority
from .limits import TEXT_MAX_LENGTH

if TYPE_CHECKING:
    from .workflow import Workflow


class Activity(models.Model):
    """One row of a record's timeline: comment, work note, state change, assignment, SLA event...

    Written by services (never by signals), so changes made from Celery, the shell or an import are on the
    timeline too. `actor_name` is frozen at write time so the history survives a renamed or deleted user.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    public = models.BooleanField(default=True, help_text="Visible to requesters in the portal")
    body = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "created_at"], name="activity_record_idx")
        ]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor_name or 'system'}"

    @property
    def is_work_note(self) -> bool:
        return self.kind == ActivityKind.COMMENT and not self.public


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is random and extensionless: the user's filename is kept only as metadata, so a
    # crafted name ("../../x.html", "a.php.png") can neither traverse nor be served as something else.
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file on any record; downloaded through a view that checks the record's visibility."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type_name = models.CharField(max_length=120, default="application/octet-stream")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    public = models.BooleanField(default=True)
    # A mail part the upload policy refused (core.services.add_quarantined_attachment): kept so nothing a
    # sender sent is lost, internal, and served to agents only, always as a plain download.
    quarantine_reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="attachment_record_idx")]

    def __str__(self) -> str:
        return self.filename

    @property
    def quarantined(self) -> bool:
        return bool(self.quarantine_reason)


class TicketBase(models.Model):
    """The fields and behaviour SPEC §3 gives every ticket kind.

    Subclasses set NUMBER_PREFIX ("INC"), KIND ("incident"), `workflow` (their allowed moves) and, when
    requesters can see more than what they opened or watch, extend `requester_scope`. State is written
    only by `core.services.transition`, never by a plain save; `version` increments on every write and is
    the ETag that guards concurrent edits.
    """

    NUMBER_PREFIX: ClassVar[str]
    KIND: ClassVar[str]
    workflow: ClassVar[Workflow]
    # Roles that see every record of this kind; everyone else sees only their own (requester_scope).
    SEE_ALL_ROLES: ClassVar[tuple[str, ...]] = ("agent",)
    # Fields an update (PATCH / edit form) may write; state, number and opened_* never.
    EDITABLE_FIELDS: ClassVar[tuple[str, ...]] = (
        "short_description",
        "description",
        "assignment_group",
        "assigned_to",
    )

    # Each concrete kind declares `number = number_field(NUMBER_PREFIX)` (core.numbering).
    number = models.CharField(max_length=16, unique=True, editable=False)
    short_description = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    state = models.CharField(max_length=32)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.LOW)
    assignment_group = models.ForeignKey(
        "accounts.AssignmentGroup", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    configuration_items = models.ManyToManyField(
        "cmdb.ConfigurationItem", blank=True, related_name="%(app_label)s_%(class)s_set"
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="watched_%(app_label)s_%(class)s_set"
    )
    search_vector = models.GeneratedField(
        expression=SearchVector("number", "short_description", "description", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    activities = GenericRelation(Activity)
    attachments = GenericRelation(Attachment)
    # The ticket's SLA timers (sla.Timer); read-only here, written by the SLA engine.
    sla_timers = GenericRelation("sla.Timer")

    class Meta:
        abstract = True
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["assignment_group", "state", "-opened_at"], name="%(class)s_grp_state_idx"),
            models.Index(fields=["state", "-opened_at"], name="%(class)s_state_idx"),
            models.Index(fields=["assigned_to", "state"], name="%(class)s_assignee_idx"),
            models.Index(fields=["priority", "state"], name="%(class)s_priority_idx"),
            models.Index(fields=["-opened_at"], name="%(class)s_opened_idx"),
            GinIndex(fields=["search_vector"], name="%(class)s_search_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"

    def get_absolute_url(self) -> str:
        return reverse(f"{self.KIND}-detail", kwargs={"number": self.number})

    @classmethod
    def requester_scope(cls, user) -> Q:
        """What a user without a see-all role may see: what they opened or watch (subclasses add more)."""
        watchers = cls.watchers.through.objects.filter(
            **{f"{cls._meta.model_name}_id": OuterRef("pk")}, user=user
        )
        return Q(opened_by=user) | Q(Exists(watchers))

    @classmethod
    def lock_annotations(cls) -> dict:
        """Facts about the rows around a ticket that its writes need, read with its row lock
        (core.locking) and found in `lock_facts` (an incident: whether it has open children)."""
        return {}

    def allowed_moves(self) -> list[str]:
        """The workflow's moves from the current state, narrowed by its rules for this record."""
        return self.workflow.allowed_for(self)

    @property
    def is_open(self) -> bool:
        return self.state in self.workflow.open_states

    def refresh_derived_fields(self) -> None:
        """Recompute fields derived from others (an incident's priority); called by services before save."""


class ApprovalState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for the approver
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELED = "canceled", "No longer needed"  # another approver of the group decided, or the record moved on


class Approval(models.Model):
    """One user's decision on one record at one approval stage (core.approvals asks and decides)."""

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


def approver_scope(model, user) -> Q:
    """Q for a ticket model: records on which `user` has (or had) an approval to give."""
    rows = Approval.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id=OuterRef("pk"), approver=user
    )
    return Q(Exists(rows))
