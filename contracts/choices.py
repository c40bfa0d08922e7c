"""Choices of vendors, contracts and licenses (SPEC §8): string values, one line on what each means."""

from django.db import models


class ContractType(models.TextChoices):
    SUPPORT = "support", "Support"  # someone to call when the covered CI fails
    MAINTENANCE = "maintenance", "Maintenance"  # scheduled upkeep and parts
    WARRANTY = "warranty", "Warranty"  # the manufacturer repairs or replaces
    LEASE = "lease", "Lease"  # the CI is rented, returned at the end
    LICENSE = "license", "License"  # the right to use software
    SUBSCRIPTION = "subscription", "Subscription"  # a service paid by the period


class Renewal(models.TextChoices):
    AUTO = "auto", "Automatic"  # renews unless cancelled within the notice period
    MANUAL = "manual", "Manual"  # lapses unless someone renews it


class ContractEventKind(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    RENEWED = "renewed", "Renewed"
    NOTICE = "notice", "Notice period started"
    EXPIRED = "expired", "Ended without renewal"


class NoticeStage(models.TextChoices):
    NOTICE = "notice", "Notice period started"
    EXPIRED = "expired", "Ended without renewal"


class LicenseMetric(models.TextChoices):
    PER_DEVICE = "per_device", "Per device"  # one seat per CI the software is installed on
    PER_USER = "per_user", "Per user"  # one seat per person using it (a CI's owner)
