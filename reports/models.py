"""Daily rollups behind the manager dashboards.

Counting a million tickets on every page view is too slow, so a Celery beat task (reports.tasks) folds each
day into these tables with one `INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE` per table, and
the dashboards read them for past days and compute today live with the very same SELECT
(reports.rollups). Rows are keyed by local day (settings.TIME_ZONE); `group` is null for unassigned work
(the unique constraints treat nulls as equal, so the upsert key works for them too).
"""

from django.db import models


class DailyTicketStats(models.Model):
    """Per day, kind, assignment group and priority: what was opened, answered and resolved that day.

    `opened`, `responded` and `respond_seconds` count tickets by the day they were opened; `resolved`,
    `resolve_seconds`, `reopened` and `first_contact` count them by the day they were (last) resolved.
    """

    day = models.DateField()
    kind = models.CharField(max_length=16)
    group = models.ForeignKey(
        "accounts.AssignmentGroup", null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    priority = models.PositiveSmallIntegerField()
    opened = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    respond_seconds = models.FloatField(default=0)
    resolved = models.IntegerField(default=0)
    resolve_seconds = models.FloatField(default=0)
    reopened = models.IntegerField(default=0)
    first_contact = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "kind", "group", "priority"],
                name="reports_ticket_day_key",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["kind", "day"], name="reports_ticket_kind_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} g{self.group_id} p{self.priority}"


class DailySLAStats(models.Model):
    """Per day, SLA definition and group: timers that stopped in time (met) or breached that day."""

    day = models.DateField()
    definition = models.ForeignKey("sla.SLADefinition", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    group = models.ForeignKey(
        "accounts.AssignmentGroup", null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    met = models.IntegerField(default=0)
    breached = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "definition", "group"], name="reports_sla_day_key", nulls_distinct=False
            )
        ]
        indexes = [models.Index(fields=["day"], name="reports_sla_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.definition_id} g{self.group_id}"


class DailyCIIncidents(models.Model):
    """Per day, configuration item and group: incidents opened against the CI that day."""

    day = models.DateField()
    ci = models.ForeignKey(
        "cmdb.ConfigurationItem", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    group = models.ForeignKey(
        "accounts.AssignmentGroup", null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    incidents = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "ci", "group"], name="reports_ci_day_key", nulls_distinct=False
            )
        ]
        indexes = [
            models.Index(fields=["day"], name="reports_ci_day_idx"),
            # One CI's days, index-only: the top-CI table sums its few hundred candidates this way.
            models.Index(fields=["ci", "day"], include=["incidents"], name="reports_ci_ci_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} ci{self.ci_id} g{self.group_id}"


class BacklogSnapshot(models.Model):
    """Open tickets per kind and group by age, as of `taken_at` (the dashboard's backlog table).

    Counting every open ticket on each page view grows with the backlog, so a Celery beat task
    (reports.tasks.refresh_backlog) replaces the whole snapshot every minute with one INSERT ... SELECT
    (reports.rollups.refresh_backlog); ages are measured from `taken_at`, which the page shows. Every row
    of one snapshot carries the same `taken_at`.
    """

    taken_at = models.DateTimeField()
    kind = models.CharField(max_length=16)
    group = models.ForeignKey(
        "accounts.AssignmentGroup", null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    age_0 = models.IntegerField(default=0)
    age_1 = models.IntegerField(default=0)
    age_2 = models.IntegerField(default=0)
    age_3 = models.IntegerField(default=0)
    age_4 = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "group"], name="reports_backlog_kind_group_key", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.taken_at:%Y-%m-%d %H:%M} {self.kind} g{self.group_id}"


class RefreshStamp(models.Model):
    """When a precomputed table was last brought up to date (`name` "today": today's rollup rows).

    The dashboard reads only precomputed rows; this stamp tells it how old today's are (shown on the page)
    and when to refresh them itself because no Celery beat did.
    """

    name = models.CharField(max_length=32, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


class CIWindowCounts(models.Model):
    """Per configuration item, incidents opened over the last 30, 90 and 365 past days and all past days
    (up to yesterday, as of the "ci_windows" RefreshStamp), all groups together.

    Not shown anywhere: an upper bound that lets the top-CI table add up only a few hundred CIs instead of
    every CI with an incident in the range (reports.rollups.top_cis). Rebuilt after the rollups.
    """

    ci = models.OneToOneField(
        "cmdb.ConfigurationItem",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    last_30 = models.IntegerField(default=0)
    last_90 = models.IntegerField(default=0)
    last_365 = models.IntegerField(default=0)
    all_days = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["-last_30"], name="reports_ciwin_30_idx"),
            models.Index(fields=["-last_90"], name="reports_ciwin_90_idx"),
            models.Index(fields=["-last_365"], name="reports_ciwin_365_idx"),
            models.Index(fields=["-all_days"], name="reports_ciwin_all_idx"),
        ]

    def __str__(self) -> str:
        return f"ci{self.ci_id} {self.last_30}/{self.last_90}/{self.last_365}/{self.all_days}"
