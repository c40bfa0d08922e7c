"""Configuration items and their classes (SPEC §3, CMDB)."""

from django.conf import settings
from django.db import models


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
    description = models.TextField(blank=True)
    attribute_schema = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "CI class"
        verbose_name_plural = "CI classes"

    def __str__(self) -> str:
        return self.label or self.name


class ConfigurationItem(models.Model):
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
    description = models.TextField(blank=True)
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
        ]

    def __str__(self) -> str:
        return self.name
