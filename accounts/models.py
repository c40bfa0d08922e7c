"""Users and assignment groups.

The custom User exists from the first migration so fields like `manager` (used by request approvals) and
`time_zone` (used to show dates) never need a painful swap later.
"""

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models

from core.limits import TEXT_MAX_LENGTH


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name such as Europe/Paris.")


class User(AbstractUser):
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    phone = models.CharField(max_length=40, blank=True)
    department = models.CharField(max_length=120, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    class Meta:
        ordering = ["username"]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class AssignmentGroup(models.Model):
    """A team that tickets are assigned to ("network", "service-desk"); addressed by `name` in the API."""

    name = models.SlugField(max_length=80, unique=True, help_text="Short name used in the API, e.g. network")
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    email = models.EmailField(blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_groups",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assignment_groups")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "group"

    def __str__(self) -> str:
        return self.name
