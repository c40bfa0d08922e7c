"""The service catalog, service requests (REQ…) and their fulfillment tasks (TASK…), SPEC §3.

A catalog item is configuration (edited by catalog managers in the admin form builder); ordering one
creates one Request whose `variables` hold the answers to the item's typed form. Approvals are the shared
core.approvals rows; a request reacts to each decision through the handler requests_app.apps registers.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.limits import TEXT_MAX_LENGTH
from core.models import TicketBase, approver_scope
from core.numbering import number_field

from .choices import ApprovalRule, VariableType
from .workflow import REQUEST_WORKFLOW, TASK_WORKFLOW


class CatalogCategory(models.Model):
    """A shelf of the catalog ("Hardware", "Access")."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    icon = models.CharField(
        max_length=60, default="folder", help_text="A Tabler icon name, e.g. device-laptop"
    )
    order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "catalog categories"

    def __str__(self) -> str:
        return self.name


class CatalogItem(models.Model):
    """Something users can order: its form (variables), who approves it, and the tasks that fulfil it."""

    name = models.CharField(max_length=150, unique=True)
    category = models.ForeignKey(CatalogCategory, on_delete=models.PROTECT, related_name="items")
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    icon = models.CharField(
        max_length=60, default="package", help_text="A Tabler icon name, e.g. device-laptop"
    )
    approval = models.CharField(max_length=32, choices=ApprovalRule.choices, default=ApprovalRule.NONE)
    approval_group = models.ForeignKey(
        "accounts.AssignmentGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Required for group approval: the first member to decide decides for the group.",
    )
    fulfillment_group = models.ForeignKey(
        "accounts.AssignmentGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The group that owns the request itself (its tasks carry their own groups).",
    )
    active = models.BooleanField(default=True, help_text="Inactive items are hidden from the portal")
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            self.approval in (ApprovalRule.GROUP, ApprovalRule.MANAGER_THEN_GROUP)
            and not self.approval_group_id
        ):
            raise ValidationError({"approval_group": "Group approval needs an approval group."})


class CatalogVariable(models.Model):
    """One typed question of an item's order form (SPEC §3 variable shape)."""

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="variables")
    name = models.SlugField(max_length=64, help_text="Key in the request's variables, e.g. needed_by")
    label = models.CharField(max_length=150)
    type = models.CharField(max_length=16, choices=VariableType.choices, default=VariableType.TEXT)
    required = models.BooleanField(default=False)
    choices = models.JSONField(
        default=list, blank=True, help_text='For choice and multi_choice: a list, e.g. ["Standard", "Power"]'
    )
    help_text = models.CharField(max_length=300, blank=True)
    default = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "name"], name="catalog_variable_unique_name")]

    def __str__(self) -> str:
        return f"{self.item}: {self.label}"

    def clean(self) -> None:
        is_choice = self.type in (VariableType.CHOICE, VariableType.MULTI_CHOICE)
        if not isinstance(self.choices, list) or not all(isinstance(c, str) and c for c in self.choices):
            raise ValidationError({"choices": "Give the choices as a list of non-empty strings."})
        if is_choice and not self.choices:
            raise ValidationError({"choices": "A choice variable needs at least one choice."})
        if not is_choice and self.choices:
            raise ValidationError({"choices": "Only choice variables have choices."})


class CatalogTaskTemplate(models.Model):
    """A fulfillment task created, in `order`, when a request of the item is approved."""

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="task_templates")
    short_description = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    assignment_group = models.ForeignKey(
        "accounts.AssignmentGroup", on_delete=models.PROTECT, related_name="+"
    )
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.short_description


class Request(TicketBase):
    """One ordered catalog item. State moves follow approvals and tasks (requests_app.services)."""

    NUMBER_PREFIX = "REQ"
    number = number_field(NUMBER_PREFIX)
    KIND = "request"
    workflow = REQUEST_WORKFLOW
    EDITABLE_FIELDS = (*TicketBase.EDITABLE_FIELDS, "requested_for")

    catalog_item = models.ForeignKey(CatalogItem, on_delete=models.PROTECT, related_name="requests")
    requested_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    variables = models.JSONField(default=dict, blank=True)
    approval_stage = models.PositiveSmallIntegerField(default=0, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TicketBase.Meta):
        indexes = [
            *TicketBase.Meta.indexes,
            models.Index(fields=["requested_for", "state"], name="request_requested_for_idx"),
            models.Index(fields=["catalog_item", "state"], name="request_item_idx"),
        ]

    @classmethod
    def requester_scope(cls, user) -> Q:
        """Opened, watched, requested for them, or theirs to approve."""
        return super().requester_scope(user) | Q(requested_for=user) | approver_scope(cls, user)

    @property
    def beneficiary(self):
        return self.requested_for or self.opened_by


class Task(TicketBase):
    """A fulfillment task of a request, worked by its assignment group like an incident."""

    NUMBER_PREFIX = "TASK"
    number = number_field(NUMBER_PREFIX)
    KIND = "task"
    workflow = TASK_WORKFLOW

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="tasks")
    order = models.PositiveSmallIntegerField(default=100)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TicketBase.Meta):
        ordering = ["request_id", "order", "id"]
        indexes = [
            *TicketBase.Meta.indexes,
            models.Index(fields=["request", "state"], name="task_request_idx"),
        ]

    @classmethod
    def requester_scope(cls, user) -> Q:
        """A requester may follow the tasks of a request they opened or that is for them."""
        return super().requester_scope(user) | Q(request__opened_by=user) | Q(request__requested_for=user)


# The portal's "my open requests"; the workflow decides which states are open.
OPEN_REQUEST_STATES = REQUEST_WORKFLOW.open_states
