"""SLA calendars, definitions, timers, their event log and the escalation ledger (SPEC §4).

A timer's numbers are always derivable from its events (start, pause, resume, stop, cancel, breach,
recompute): the columns on `Timer` are a cache the engine rewrites after every event, so a recomputation
never loses paused time. `Escalation` is the exactly-once ledger: one row per (timer, stage), inserted in
the same transaction as the stage's actions.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.limits import TEXT_MAX_LENGTH

from .calendar import DAY, Calendar
from .choices import BREACH_STAGE, EscalationAction  # noqa: F401  (also importable from here)
from .validation import validate_definition


def default_pause_states() -> list[str]:
    return ["on_hold"]


def default_thresholds() -> list[int]:
    return [50, 75, 90]


class AppliesTo(models.TextChoices):
    INCIDENT = "incident", "Incident"
    REQUEST = "request", "Service request"
    TASK = "task", "Fulfillment task"
    PROBLEM = "problem", "Problem"
    CHANGE = "change", "Change"


class Target(models.TextChoices):
    RESPONSE = "response", "Response"  # stops at the first agent response or assignment
    RESOLUTION = "resolution", "Resolution"  # stops when the ticket is resolved (its workflow's done state)


class TimerState(models.TextChoices):
    RUNNING = "running", "Running"  # counting working time towards due_at
    PAUSED = "paused", "Paused"  # the ticket is in one of the definition's pause states
    MET = "met", "Met"  # stopped before its due time
    BREACHED = "breached", "Breached"  # its due time passed while running (final)
    CANCELED = "canceled", "Canceled"  # the ticket was canceled, or the definition stopped applying


class BusinessCalendar(models.Model):
    """Weekly working hours in a time zone, minus holidays. A definition without one runs 24x7."""

    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError(
                {"time_zone": f"Unknown time zone {self.time_zone!r}; use an IANA name such as Europe/Paris."}
            )

    def to_calendar(self) -> Calendar:
        """The pure-Python calendar (built once per instance); uses prefetched `hours` / `holidays`."""
        cached = getattr(self, "_calendar_cache", None)
        if cached is None:
            cached = self._calendar_cache = Calendar.build(
                time_zone=self.time_zone,
                hours=[h.as_range() for h in self.hours.all()],
                holidays=[(h.date, h.end_date) for h in self.holidays.all()],
            )
        return cached


class WorkingHours(models.Model):
    """One working range of a weekday; several rows make a split day (09:00-12:00, 13:00-17:00)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day")

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "working hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def as_range(self) -> tuple[int, int, int]:
        start = self.start.hour * 3600 + self.start.minute * 60 + self.start.second
        end = self.end.hour * 3600 + self.end.minute * 60 + self.end.second
        return self.weekday, start, end or DAY

    def clean(self) -> None:
        _, start, end = self.as_range()
        if end <= start:
            raise ValidationError({"end": "The range must end after it starts (00:00 = end of day)."})


class Holiday(models.Model):
    """A day off (or, with `end_date`, every day from `date` to `end_date` inclusive), in local dates."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    name = models.CharField(max_length=120)
    date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.name} ({self.date}{f' – {self.end_date}' if self.end_date else ''})"

    def clean(self) -> None:
        if self.end_date and self.end_date < self.date:
            raise ValidationError({"end_date": "The last day cannot be before the first."})


class SLADefinition(models.Model):
    """What a ticket must achieve and by when, for the tickets its conditions match (SPEC §4).

    `conditions` maps a field (priority, category, catalog_item, assignment_group, ci_class) to the
    accepted values; every named field must match. `escalations` is a list of
    `{"at": <threshold or 100>, "action": EscalationAction, "group": name (reassign only),
    "unless_breached": true (optional, warnings only: skip the action if the warning only runs after the
    breach, e.g. after a worker outage; by default a late warning still acts)}`.
    Validation lives in `sla.validation.validate_definition` (shared by the admin and the API).
    """

    name = models.CharField(max_length=120, unique=True)
    applies_to = models.CharField(max_length=16, choices=AppliesTo.choices)
    conditions = models.JSONField(default=dict, blank=True)
    target = models.CharField(max_length=16, choices=Target.choices)
    duration = models.IntegerField(help_text="Seconds of working time")
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="definitions"
    )
    pause_states = models.JSONField(default=default_pause_states, blank=True)
    warning_thresholds = models.JSONField(default=default_thresholds, blank=True)
    escalations = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["applies_to", "target", "duration", "name"]
        verbose_name = "SLA definition"
        indexes = [models.Index(fields=["applies_to", "active"], name="sla_def_kind_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        validate_definition(self)

    def get_calendar(self) -> Calendar:
        return self.calendar.to_calendar() if self.calendar_id else Calendar.always()

    def actions_for(self, stage: int) -> list[dict]:
        return [e for e in self.escalations if int(e.get("at", 0)) == stage]


class Timer(models.Model):
    """One SLA clock on one ticket. Columns are the replay of `events` (see sla.engine.replay)."""

    # No FK indexes: the unique (content_type, object_id, definition) covers lookups by ticket; listing a
    # definition's timers is an admin-only, rare read.
    definition = models.ForeignKey(
        SLADefinition, on_delete=models.PROTECT, related_name="timers", db_index=False
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+", db_index=False)
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    target = models.CharField(max_length=16, choices=Target.choices)
    state = models.CharField(max_length=16, choices=TimerState.choices, default=TimerState.RUNNING)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)  # null while paused
    running_since = models.DateTimeField(null=True, blank=True)  # null unless the clock counts now
    paused_since = models.DateTimeField(null=True, blank=True)
    elapsed_seconds = models.FloatField(default=0)  # working seconds counted up to running_since
    paused_seconds = models.FloatField(default=0)  # wall-clock seconds spent paused (closed pauses)
    stopped_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    # The next instant this timer has work: its next unfired warning or due time while running, its breach
    # time while breached and the breach stage has not run; null when nothing is left. The sweep finds due
    # work by this column alone (sla.escalations.claim_due).
    next_check_at = models.DateTimeField(null=True, blank=True)
    # Set while a sweep is processing the timer, so a second sweep skips it; a lease, not a lock: a sweep
    # killed mid-batch leaves it to expire (sla.escalations.CLAIM_SECONDS).
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # At-risk prediction (sla.risk, refreshed by beat every minute): a running timer predicted to breach
    # before its ticket reaches the timer's stop, and when (its due time); False/None otherwise.
    at_risk = models.BooleanField(default=False, db_default=False)
    predicted_breach_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        # Few indexes on purpose: each one is another write per row in the bulk breach UPDATE. The
        # unique (content_type, object_id, definition) also serves "the timers of this ticket".
        indexes = [
            models.Index(fields=["due_at"], name="sla_timer_running_due_idx", condition=Q(state="running")),
            models.Index(
                fields=["next_check_at"],
                name="sla_timer_next_check_idx",
                condition=Q(next_check_at__isnull=False),
            ),
            # `?at_risk=true`: an Exists probe per listed ticket on this small partial index.
            models.Index(
                fields=["content_type", "object_id"],
                name="sla_timer_at_risk_idx",
                condition=Q(state="running", at_risk=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "definition"], name="sla_timer_one_per_record_def"
            )
        ]

    def __str__(self) -> str:
        return f"{self.definition} on {self.content_type_id}:{self.object_id} ({self.state})"

    @property
    def duration(self) -> int:
        return self.definition.duration

    def live_elapsed(self, now: datetime | None = None) -> float:
        """Working seconds used so far, including the running stretch up to `now`."""
        if self.running_since is None:
            return self.elapsed_seconds
        end = self.stopped_at or now or timezone.now()
        # The API asks for elapsed and percent at the same instant: walk the calendar once per instant.
        memo = self.__dict__.setdefault("_live_elapsed_memo", {})
        key = (self.running_since, end, self.elapsed_seconds)
        if key not in memo:
            memo.clear()
            memo[key] = self.elapsed_seconds + self.definition.get_calendar().working_seconds_between(
                self.running_since, end
            )
        return memo[key]

    def live_paused(self, now: datetime | None = None) -> float:
        if self.paused_since is None:
            return self.paused_seconds
        return self.paused_seconds + max(0.0, ((now or timezone.now()) - self.paused_since).total_seconds())

    def percent(self, now: datetime | None = None) -> float:
        return round(100.0 * self.live_elapsed(now) / max(1, self.definition.duration), 1)


class TimerEvent(models.Model):
    """The append-only log a timer is computed from."""

    class Kind(models.TextChoices):
        START = "start", "Started"
        PAUSE = "pause", "Paused"
        RESUME = "resume", "Resumed"
        STOP = "stop", "Stopped (met)"
        CANCEL = "cancel", "Canceled"
        BREACH = "breach", "Breached"
        RECOMPUTE = "recompute", "Recomputed"

    timer = models.ForeignKey(Timer, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["timer", "at"], name="sla_event_timer_idx")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"


class Escalation(models.Model):
    """Proof that a stage (a warning threshold, or 100 for the breach) of a timer has run: the unique
    constraint is what makes escalation actions happen exactly once, whoever retries."""

    timer = models.ForeignKey(Timer, on_delete=models.CASCADE, related_name="escalations")
    stage = models.PositiveSmallIntegerField()
    actions = models.JSONField(default=list, blank=True)
    done_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["done_at", "id"]
        constraints = [models.UniqueConstraint(fields=["timer", "stage"], name="sla_escalation_once")]

    def __str__(self) -> str:
        return f"stage {self.stage} of timer {self.timer_id}"


class DurationStat(models.Model):
    """How long similar tickets took to reach a timer's stop: the working seconds at the stop of the timers
    of one (ticket kind, target, priority, assignment group) that stopped in the last 90 days, as 21
    quantiles (0%, 5%, ... 100%). Rebuilt by beat (sla.risk.refresh_duration_stats) so the at-risk
    prediction reads one small table instead of each ticket's history. `group_id` 0 is every group."""

    kind = models.CharField(max_length=16)
    target = models.CharField(max_length=16, choices=Target.choices)
    priority = models.PositiveSmallIntegerField()
    group_id = models.BigIntegerField(default=0)
    samples = models.PositiveIntegerField()
    quantiles = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target", "priority", "group_id"], name="sla_duration_stat_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target} P{self.priority} group {self.group_id}: {self.samples} samples"
