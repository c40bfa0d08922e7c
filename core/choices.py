"""Choices shared by every ticket kind."""

from django.db import models


class Priority(models.IntegerChoices):
    CRITICAL = 1, "1 - Critical"
    HIGH = 2, "2 - High"
    MODERATE = 3, "3 - Moderate"
    LOW = 4, "4 - Low"
    PLANNING = 5, "5 - Planning"


class ActivityKind(models.TextChoices):
    CREATED = "created", "Created"  # the record was opened
    COMMENT = "comment", "Comment"  # a public comment or, with public=False, a work note
    STATE_CHANGE = "state_change", "State change"  # data: {"from", "to", ...fields the move set}
    ASSIGNMENT = "assignment", "Assignment"  # data: {"group": [old, new], "user": [old, new]}
    FIELD_CHANGE = "field_change", "Field change"  # data: {"changes": [{"field", "old", "new"}]}
    CI_LINK = "ci_link", "Configuration items"  # data: {"added": [...], "removed": [...]}
    LINK = "link", "Linked record"  # data: {"kind", "number", "action"}
    ATTACHMENT = "attachment", "Attachment"  # data: {"id", "filename", "size"}
    WATCHER = "watcher", "Watcher"  # data: {"added" | "removed": username}
    APPROVAL = "approval", "Approval"  # an approval decision, with its comment
    SLA = "sla", "SLA"  # an SLA timer event: started, paused, resumed, met, breached, recomputed
    EMAIL = "email", "Email"  # mail received or sent about the record
    SYSTEM = "system", "System"  # anything done by automation (auto-close, escalation)
