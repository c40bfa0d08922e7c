"""Incident choices (SPEC §3, Incidents)."""

from django.db import models


class IncidentState(models.TextChoices):
    NEW = "new", "New"  # logged, nobody has started
    IN_PROGRESS = "in_progress", "In progress"  # an agent is working it
    ON_HOLD = "on_hold", "On hold"  # waiting on someone else (see hold_reason); pauses SLAs by default
    RESOLVED = "resolved", "Resolved"  # fixed; the caller may still reopen; auto-closes after N days
    CLOSED = "closed", "Closed"  # final
    CANCELED = "canceled", "Canceled"  # final: raised in error or a duplicate never worked


class Impact(models.IntegerChoices):
    HIGH = 1, "1 - High"
    MEDIUM = 2, "2 - Medium"
    LOW = 3, "3 - Low"


Urgency = Impact


class HoldReason(models.TextChoices):
    AWAITING_CALLER = "awaiting_caller", "Awaiting caller"
    AWAITING_CHANGE = "awaiting_change", "Awaiting change"
    AWAITING_PROBLEM = "awaiting_problem", "Awaiting problem"
    AWAITING_VENDOR = "awaiting_vendor", "Awaiting vendor"


class ResolutionCode(models.TextChoices):
    SOLVED = "solved", "Solved"
    WORKAROUND = "workaround", "Workaround provided"
    DUPLICATE = "duplicate", "Duplicate"
    NOT_REPRODUCIBLE = "not_reproducible", "Not reproducible"
    USER_ERROR = "user_error", "User error"
    RESOLVED_BY_CALLER = "resolved_by_caller", "Resolved by caller"


# SPEC §3 priority matrix: PRIORITY_MATRIX[impact][urgency].
PRIORITY_MATRIX = {
    1: {1: 1, 2: 2, 3: 3},
    2: {1: 2, 2: 3, 3: 4},
    3: {1: 3, 2: 4, 3: 5},
}


def priority_for(impact: int, urgency: int) -> int:
    return PRIORITY_MATRIX[int(impact)][int(urgency)]
