"""Problem choices (SPEC §3): its states, with what each means."""

from django.db import models


class ProblemState(models.TextChoices):
    NEW = "new", "New"  # logged
    ASSESS = "assess", "Assess"  # triage: is it worth root-cause analysis?
    ROOT_CAUSE_ANALYSIS = "root_cause_analysis", "Root cause analysis"  # investigating
    FIX_IN_PROGRESS = "fix_in_progress", "Fix in progress"  # cause known, fix underway (often via a change)
    RESOLVED = "resolved", "Resolved"  # fix delivered
    CLOSED = "closed", "Closed"  # final
    CANCELED = "canceled", "Canceled"  # final
