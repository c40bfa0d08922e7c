"""Changes, their pre-approved templates, and blackout windows (SPEC §3, Changes)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from accounts.roles import AGENT, CAB_MEMBER, CHANGE_MANAGER
from core.limits import TEXT_MAX_LENGTH
from core.models import Approval, TicketBase
from core.numbering import number_field

from . import risk as risk_questionnaire
from .choices import ChangeType, CloseCode, Risk
from .workflow import CHANGE_WORKFLOW


class ChangeTemplate(models.Model):
    """A pre-approved standard change: a change created from it is `standard`, gets its plan fields and
    skips authorization."""

    name = models.CharField(max_length=200, unique=True)
    short_description = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    implementation_plan = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    backout_plan = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    test_plan = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    risk = models.CharField(max_length=16, choices=Risk.choices, default=Risk.LOW)
    assignment_group = models.ForeignKey(
        "accounts.AssignmentGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BlackoutWindow(models.Model):
    """A period in which no change may be scheduled without an override (quarter close, peak sales).

    With no CIs it applies to every change; with CIs, to changes on those CIs. Managed by change managers.
    """

    name = models.CharField(max_length=200)
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    configuration_items = models.ManyToManyField("cmdb.ConfigurationItem", blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["start", "end"], name="blackout_window_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="blackout_end_after_start")
        ]

    def __str__(self) -> str:
        return self.name


class Change(TicketBase):
    NUMBER_PREFIX = "CHG"
    number = number_field(NUMBER_PREFIX)
    KIND = "change"
    workflow = CHANGE_WORKFLOW
    SEE_ALL_ROLES = (AGENT, CHANGE_MANAGER, CAB_MEMBER)
    EDITABLE_FIELDS = (
        *TicketBase.EDITABLE_FIELDS,
        "priority",
        "planned_start",
        "planned_end",
        "implementation_plan",
        "backout_plan",
        "test_plan",
        "risk_answers",
        "risk_override",
        "risk_override_reason",
        "problem",
    )

    type = models.CharField(max_length=16, choices=ChangeType.choices, default=ChangeType.NORMAL)
    template = models.ForeignKey(
        ChangeTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    risk = models.CharField(max_length=16, choices=Risk.choices, default=Risk.LOW, editable=False)
    risk_answers = models.JSONField(default=dict, blank=True)
    risk_override = models.CharField(max_length=16, choices=Risk.choices, blank=True)
    risk_override_reason = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    implementation_plan = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    backout_plan = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    test_plan = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    cab_approvers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    approval_round = models.PositiveSmallIntegerField(default=0, editable=False)
    close_code = models.CharField(max_length=32, choices=CloseCode.choices, blank=True)
    close_notes = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    review_notes = models.TextField(
        blank=True, help_text="Post-implementation review", max_length=TEXT_MAX_LENGTH
    )
    problem = models.ForeignKey(
        "problems.Problem", null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    implemented_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    approvals = GenericRelation(Approval)

    class Meta(TicketBase.Meta):
        indexes = [
            *TicketBase.Meta.indexes,
            # The conflict detector and the calendar look for changes by state and window.
            models.Index(fields=["state", "planned_start", "planned_end"], name="change_window_idx"),
            models.Index(fields=["risk", "state"], name="change_risk_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True)
                | Q(planned_end__isnull=True)
                | Q(planned_end__gt=models.F("planned_start")),
                name="change_end_after_start",
            )
        ]

    def refresh_derived_fields(self) -> None:
        """Risk is the override when one is given, else the questionnaire's result."""
        self.risk = self.risk_override or risk_questionnaire.risk_for(self.risk_answers or {})

    @classmethod
    def move_form_field(cls, name: str):
        """Form fields for the scheduling override (core.forms.TransitionForm hook): not model fields,
        the service records them on the timeline."""
        if name == "override_conflicts":
            return forms.BooleanField(required=False, label="Schedule despite the conflicts")
        if name == "override_reason":
            return forms.CharField(
                required=False,
                max_length=2000,
                label="Why the conflicts are acceptable",
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        return None
