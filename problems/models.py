"""Problems: the unknown cause of one or more incidents (SPEC §3)."""

from django import forms
from django.db import models

from core.limits import TEXT_MAX_LENGTH
from core.models import TicketBase
from core.numbering import number_field

from .workflow import PROBLEM_WORKFLOW


class Problem(TicketBase):
    """A problem links the incidents it causes (`incident.problem`) and the changes that fix it
    (`change.problem`). A known error has a documented workaround that can be published as an article;
    `known_error_article` keeps the article's number so the page links to it and it is not published twice."""

    NUMBER_PREFIX = "PRB"
    number = number_field(NUMBER_PREFIX)
    KIND = "problem"
    workflow = PROBLEM_WORKFLOW
    EDITABLE_FIELDS = (*TicketBase.EDITABLE_FIELDS, "priority", "root_cause", "workaround", "known_error")

    root_cause = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    workaround = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    known_error = models.BooleanField(default=False)
    known_error_article = models.CharField(
        max_length=16, blank=True, help_text="Number of the knowledge article the workaround was published as"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TicketBase.Meta):
        indexes = [
            *TicketBase.Meta.indexes,
            models.Index(fields=["known_error", "state"], name="problem_known_error_idx"),
        ]

    @classmethod
    def move_form_field(cls, name: str):
        """Form field for the move option that is not a model field (core.forms.TransitionForm hook)."""
        if name == "resolve_incidents":
            return forms.BooleanField(
                required=False, label="Also resolve the linked open incidents", initial=True
            )
        return None
