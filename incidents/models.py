"""Incidents: an unplanned interruption or degradation of a service (SPEC §3)."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q

from core.limits import TEXT_MAX_LENGTH
from core.models import TicketBase
from core.numbering import number_field

from .choices import HoldReason, Impact, IncidentState, ResolutionCode, Urgency, priority_for
from .workflow import INCIDENT_WORKFLOW


class Category(models.Model):
    """The managed list of incident categories (admins edit it)."""

    name = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=120)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["label"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.label


class Incident(TicketBase):
    NUMBER_PREFIX = "INC"
    number = number_field(NUMBER_PREFIX)
    KIND = "incident"
    workflow = INCIDENT_WORKFLOW
    EDITABLE_FIELDS = (
        *TicketBase.EDITABLE_FIELDS,
        "impact",
        "urgency",
        "caller",
        "category",
        "parent",
        "problem",
        "major",
    )

    impact = models.PositiveSmallIntegerField(choices=Impact.choices, default=Impact.LOW)
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices, default=Urgency.LOW)
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    problem = models.ForeignKey(
        "problems.Problem", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    major = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=32, choices=HoldReason.choices, blank=True)
    resolution_code = models.CharField(max_length=32, choices=ResolutionCode.choices, blank=True)
    resolution_notes = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Fields an integration sent that we have no column for (ServiceNow `u_*` fields from Zabbix and
    # other monitoring tools): kept and shown on the incident, never dropped.
    external_fields = models.JSONField(default=dict, db_default={}, blank=True)
    # Correlation (SPEC §7, incidents.correlation): on a parent the CI whose failure explains its children
    # and whether an agent confirmed it; on a child why it was grouped, and whether an agent took it out
    # of its group by hand (then it is never grouped again).
    suspected_cause = models.ForeignKey(
        "cmdb.ConfigurationItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Database defaults too: the load generator COPYs rows without naming these columns.
    cause_confirmed = models.BooleanField(default=False, db_default=False)
    correlation_reason = models.TextField(blank=True, default="", db_default="")
    correlation_detached = models.BooleanField(default=False, db_default=False)

    class Meta(TicketBase.Meta):
        indexes = [
            *TicketBase.Meta.indexes,
            models.Index(fields=["caller", "state"], name="incident_caller_idx"),
            models.Index(fields=["category", "state"], name="incident_category_idx"),
            models.Index(fields=["state", "resolved_at"], name="incident_resolved_idx"),
            models.Index(fields=["major", "state"], name="incident_major_idx", condition=Q(major=True)),
            # The agents' most common list (a group's queue in one state, newest first): with the `-id`
            # tie-breaker of the default ordering in the index, a page is an ordered index range read of
            # page-size rows instead of a bitmap scan and a sort of the whole queue.
            models.Index(
                fields=["assignment_group", "state", "-opened_at", "-id"], name="incident_queue_idx"
            ),
            # "Unassigned in my groups": counted on every list page view; index-only on this small index.
            models.Index(
                fields=["assignment_group", "state"],
                name="incident_unassigned_idx",
                condition=Q(assigned_to__isnull=True),
            ),
        ]

    @classmethod
    def requester_scope(cls, user) -> Q:
        return super().requester_scope(user) | Q(caller=user)

    @classmethod
    def lock_annotations(cls) -> dict:
        # Resolving a parent resolves its open children (incidents.services): most incidents have none.
        children = cls._base_manager.filter(parent=OuterRef("pk"), state__in=cls.workflow.open_states)
        return {"has_open_children": Exists(children)}

    def refresh_derived_fields(self) -> None:
        """Priority is computed from impact and urgency (SPEC §3 matrix) and never written directly."""
        self.priority = priority_for(self.impact, self.urgency)
        if self.state != IncidentState.ON_HOLD:
            self.hold_reason = ""


class IncidentUpstream(models.Model):
    """One CI whose failure would impact an incident's CIs (the CI itself at distance 0), written when the
    incident is correlated. Finding the incidents that share an upstream CI with a new one is then one
    index lookup by CI instead of a graph walk per open incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="upstream_cis")
    ci = models.ForeignKey(
        "cmdb.ConfigurationItem", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    distance = models.PositiveSmallIntegerField()
    path = models.JSONField(default=list)  # CI ids from the incident's CI to `ci`
    opened_at = models.DateTimeField()  # the incident's, copied so the window is in the index

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "ci"], name="incident_upstream_unique"),
        ]
        indexes = [models.Index(fields=["ci", "opened_at"], name="incident_upstream_ci_idx")]
