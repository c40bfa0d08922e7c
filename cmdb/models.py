"""Configuration items and their classes (SPEC §3, CMDB)."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Collate, Upper
from django.urls import reverse
from django.utils import timezone

from core.limits import TEXT_MAX_LENGTH


class CIStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_SERVICE = "in_service", "In service"
    MAINTENANCE = "maintenance", "Maintenance"
    RETIRED = "retired", "Retired"


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    STAGING = "staging", "Staging"
    TEST = "test", "Test"
    DEVELOPMENT = "development", "Development"


class CIClass(models.Model):
    """A kind of CI (server, database...) with the JSON Schema its `attributes` must satisfy."""

    name = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    attribute_schema = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "CI class"
        verbose_name_plural = "CI classes"

    def __str__(self) -> str:
        return self.label or self.name


class ConfigurationItem(models.Model):
    """A configuration item (SPEC §3). Written only through cmdb.services, which log every change."""

    name = models.CharField(max_length=200)
    ci_class = models.ForeignKey(CIClass, on_delete=models.PROTECT, related_name="items")
    status = models.CharField(max_length=20, choices=CIStatus.choices, default=CIStatus.IN_SERVICE)
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.PRODUCTION)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_cis"
    )
    support_group = models.ForeignKey(
        "accounts.AssignmentGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supported_cis",
    )
    serial_number = models.CharField(max_length=120, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "configuration item"
        constraints = [
            models.UniqueConstraint(fields=["ci_class", "name"], name="ci_unique_class_name"),
            models.UniqueConstraint(
                fields=["ci_class", "serial_number"],
                condition=~models.Q(serial_number=""),
                name="ci_unique_class_serial",
            ),
        ]
        indexes = [
            models.Index(fields=["ci_class", "status"], name="ci_class_status_idx"),
            models.Index(fields=["environment"], name="ci_environment_idx"),
            # Autocomplete's first try, a case-insensitive prefix: `upper(name) COLLATE "C" LIKE 'Q%'` is a range
            # scan of this index, already in the order the results are shown, so `LIMIT 20` stops early.
            models.Index(Collate(Upper("name"), "C"), "id", name="ci_name_prefix_idx"),
            # An exact serial number typed into a search box (the unique constraint's index leads by class).
            models.Index(
                fields=["serial_number"], condition=~models.Q(serial_number=""), name="ci_serial_idx"
            ),
            # The name trigram index (for icontains, `upper(name) LIKE '%Q%'`) is in migration 0004 only, created
            # where pg_trgm exists (core.pg.RunSQLIfExtension); declaring it here would fail without pg_trgm.
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("ci-detail", kwargs={"pk": self.pk})

    @property
    def is_business_service(self) -> bool:
        return self.ci_class.name == "business_service"


class RelationshipType(models.TextChoices):
    """How two CIs relate; the comment says which way a failure travels (SPEC §3)."""

    DEPENDS_ON = "depends_on", "Depends on"  # A depends_on B: B failing impacts A
    RUNS_ON = "runs_on", "Runs on"  # A runs_on B: B failing impacts A
    CONNECTED_TO = "connected_to", "Connected to"  # symmetric, carries no impact
    CONTAINS = "contains", "Contains"  # A contains B: B (the part) failing impacts A (the whole)


# The relationship types along which a failure of the target impacts the source.
IMPACT_TYPES = (RelationshipType.DEPENDS_ON, RelationshipType.RUNS_ON, RelationshipType.CONTAINS)


class Relationship(models.Model):
    """A directed edge of the CMDB graph. Cycles are allowed in the data; every traversal is cycle-safe."""

    # No single-column FK indexes: the composite indexes below lead with each end and serve every lookup
    # by one end (and the cascade on delete) as well, with one index less to write per edge.
    source = models.ForeignKey(
        ConfigurationItem, on_delete=models.CASCADE, related_name="outgoing", db_index=False
    )
    target = models.ForeignKey(
        ConfigurationItem, on_delete=models.CASCADE, related_name="incoming", db_index=False
    )
    type = models.CharField(max_length=20, choices=RelationshipType.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source_id", "type", "target_id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "type"], name="rel_unique_edge"),
            models.CheckConstraint(condition=~models.Q(source=models.F("target")), name="rel_no_self_loop"),
        ]
        indexes = [
            # One hop of the recursive walks (cmdb.selectors) is `this end = ? AND type = ANY(...)` returning
            # the other end: impact walks by target, dependencies and the parent pick by source. With
            # (end, type, other end) each hop is one index range, index-only once the table is vacuumed.
            models.Index(fields=["target", "type", "source"], name="rel_target_type_idx"),
            models.Index(fields=["source", "type", "target"], name="rel_source_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.type} {self.target_id}"


class ChangeSource(models.TextChoices):
    UI = "ui", "Web UI"
    API = "api", "API"
    IMPORT = "import", "Import"
    SHELL = "shell", "Shell"


class CIChange(models.Model):
    """One field or attribute change of a CI (or a created/deleted/relationship event).

    Written explicitly by cmdb.services, never by signals, so imports and shell changes are logged too.
    `actor_name` and `ci_name` are frozen so the history survives renames and deletions.
    """

    ci = models.ForeignKey(
        ConfigurationItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    ci_name = models.CharField(max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(
        max_length=20, default="updated"
    )  # created, updated, deleted, related, unrelated
    field = models.CharField(max_length=120, blank=True)  # "status", "attributes.cpu_count", "relationship"
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=ChangeSource.choices, default=ChangeSource.SHELL)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["ci", "-changed_at"], name="cichange_ci_idx")]

    def __str__(self) -> str:
        return f"{self.ci_name}: {self.action} {self.field}"
