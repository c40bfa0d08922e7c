"""Problems: the unknown cause of one or more incidents (SPEC §3)."""

from django.db import models

from core.models import TicketBase

from .workflow import PROBLEM_WORKFLOW


class Problem(TicketBase):
    NUMBER_PREFIX = "PRB"
    KIND = "problem"
    workflow = PROBLEM_WORKFLOW
    EDITABLE_FIELDS = (*TicketBase.EDITABLE_FIELDS, "root_cause", "workaround", "known_error")

    root_cause = models.TextField(blank=True)
    workaround = models.TextField(blank=True)
    known_error = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TicketBase.Meta):
        pass
