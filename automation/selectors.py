"""Reads of the automation app: rule and macro lists, a record's or a rule's audit history."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from core.models import Activity

from .models import Macro, Rule


def rules(applies_to: str | None = None):
    queryset = Rule.objects.all()
    return queryset.filter(applies_to=applies_to) if applies_to else queryset


def macros_for(kind: str):
    return Macro.objects.filter(applies_to=kind, active=True).order_by("name")


def history(obj):
    return Activity.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).order_by("-created_at", "-id")
