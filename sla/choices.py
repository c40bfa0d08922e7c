"""Choices of SLA escalations, kept apart from the models so validation can use them without a cycle."""

from django.db import models


class EscalationAction(models.TextChoices):
    NOTIFY_ASSIGNEE = "notify_assignee", "Notify the assignee"
    NOTIFY_GROUP = "notify_group", "Notify the assignment group"
    NOTIFY_MANAGER = "notify_manager", "Notify the group's manager"
    REASSIGN = "reassign", "Reassign to a group"  # needs "group"
    RAISE_PRIORITY = "raise_priority", "Raise the priority by one step"


BREACH_STAGE = 100  # the stage number of the breach itself; warnings use their threshold percent
