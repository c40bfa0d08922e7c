"""Automation: rules (event or time triggered), macros, and the ledger that makes time rules fire once.

Conditions and actions are JSON validated by `automation.validation` (the API serializer and the editor
both call it), so a stored rule always names real fields, operators that fit them, values within their
choices and groups that exist.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone

KIND_CHOICES = [
    ("incident", "Incident"),
    ("request", "Service request"),
    ("task", "Fulfillment task"),
    ("problem", "Problem"),
    ("change", "Change"),
]


class Trigger(models.TextChoices):
    CREATED = "created", "Created"  # the record was opened
    UPDATED = "updated", "Updated"  # fields edited (not a state move, not a comment)
    STATE_CHANGED = "state_changed", "State changed"  # a workflow move
    COMMENTED = "commented", "Commented"  # a comment or work note was added
    SLA_WARNING = "sla.warning", "SLA warning"  # a timer passed a warning threshold
    SLA_BREACHED = "sla.breached", "SLA breached"  # a timer breached
    TIME = "time", "Time (checked every minute)"  # evaluated by Celery beat, fires once per period


class Rule(models.Model):
    """One automation rule: when `trigger` happens to a record of kind `applies_to` and `conditions` hold,
    run `actions` in order. `builtin` names the out-of-the-box rules (an admin may still edit them)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    applies_to = models.CharField(max_length=16, choices=KIND_CHOICES)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list)
    order = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)
    stop_processing = models.BooleanField(
        default=False, help_text="When this rule matches, later rules for the same event are skipped."
    )
    builtin = models.SlugField(max_length=64, blank=True, help_text="Key of an out-of-the-box rule")
    # Statistics, written after the firing transaction commits (never holding the rule row meanwhile).
    fire_count = models.PositiveIntegerField(default=0)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["applies_to", "order", "id"]
        indexes = [models.Index(fields=["applies_to", "trigger", "active"], name="rule_lookup_idx")]

    def __str__(self) -> str:
        return self.name


class Macro(models.Model):
    """A named list of actions an agent applies to one record or a selection, all in one transaction."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    applies_to = models.CharField(max_length=16, choices=KIND_CHOICES)
    actions = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["applies_to", "name"]

    def __str__(self) -> str:
        return self.name


class TimeRuleMatch(models.Model):
    """One period during which a time rule's conditions held for one record.

    The row is inserted in the same transaction as the rule's actions, under a unique constraint on the
    open period (ended_at is null): a second beat, a redelivered task or a retry finds the row and does
    nothing; a worker killed mid-way rolls the row back with the actions. When the conditions stop holding
    the beat closes the period, so the rule fires again the next time they become true.
    """

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="matches")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    fired_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "content_type", "object_id"],
                condition=Q(ended_at__isnull=True),
                name="time_rule_one_open_period",
            )
        ]
        indexes = [models.Index(fields=["rule", "ended_at"], name="time_rule_match_idx")]

    def __str__(self) -> str:
        return f"{self.rule} on {self.content_type.model} {self.object_id}"


class RoundRobinCursor(models.Model):
    """Who a group's round robin assigned last; locked while choosing the next member."""

    group = models.OneToOneField("accounts.AssignmentGroup", on_delete=models.CASCADE, primary_key=True)
    last_user_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.group}: {self.last_user_id}"
