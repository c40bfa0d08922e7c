"""Change choices (SPEC §3, Changes)."""

from django.db import models


class ChangeState(models.TextChoices):
    NEW = "new", "New"  # drafted; a rejected authorization comes back here
    ASSESS = "assess", "Assess"  # plans, window and risk are reviewed
    AUTHORIZE = "authorize", "Authorize"  # waiting for the CAB approvers
    SCHEDULED = "scheduled", "Scheduled"  # authorized (or pre-approved) and on the calendar
    IMPLEMENT = "implement", "Implement"  # the work is being carried out
    REVIEW = "review", "Review"  # done; post-implementation review
    CLOSED = "closed", "Closed"  # final
    CANCELED = "canceled", "Canceled"  # final


class ChangeType(models.TextChoices):
    STANDARD = "standard", "Standard"  # from a pre-approved template: skips authorization
    NORMAL = "normal", "Normal"  # assessed, then authorized by every CAB approver
    EMERGENCY = "emergency", "Emergency"  # expedited: may skip assess; one CAB approval authorizes it


class Risk(models.TextChoices):
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


class CloseCode(models.TextChoices):
    SUCCESSFUL = "successful", "Successful"
    SUCCESSFUL_WITH_ISSUES = "successful_with_issues", "Successful with issues"
    UNSUCCESSFUL = "unsuccessful", "Unsuccessful"
