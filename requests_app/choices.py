"""Service request choices (SPEC §3, Service requests)."""

from django.db import models


class RequestState(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"  # just ordered; moves on by itself in the same transaction
    PENDING_APPROVAL = (
        "pending_approval",
        "Pending approval",
    )  # waiting for the approvers of the current stage
    APPROVED = "approved", "Approved"  # every stage approved; fulfillment tasks are being created
    IN_FULFILLMENT = "in_fulfillment", "In fulfillment"  # fulfillment tasks are being worked
    FULFILLED = "fulfilled", "Fulfilled"  # every task done; the requester may rate it
    CLOSED = "closed", "Closed"  # final
    REJECTED = "rejected", "Rejected"  # final: an approver said no
    CANCELED = "canceled", "Canceled"  # final: withdrawn by the requester or the service desk


class TaskState(models.TextChoices):
    OPEN = "open", "Open"  # created on approval, waiting for its group
    IN_PROGRESS = "in_progress", "In progress"  # an agent is working it
    DONE = "done", "Done"  # final: the work is finished
    CANCELED = "canceled", "Canceled"  # final: not needed any more


class ApprovalRule(models.TextChoices):
    NONE = "none", "No approval"
    MANAGER = "manager", "Requester's manager"
    GROUP = "group", "A group (first member to decide)"
    MANAGER_THEN_GROUP = "manager_then_group", "Manager, then a group"


class VariableType(models.TextChoices):
    TEXT = "text", "Single line text"
    TEXTAREA = "textarea", "Multi-line text"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Yes / no"
    CHOICE = "choice", "Choice (one)"
    MULTI_CHOICE = "multi_choice", "Choice (several)"
    DATE = "date", "Date"
    USER = "user", "User"
    CI = "ci", "Configuration item"
