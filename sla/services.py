"""Writes to SLA configuration: definitions, validated by sla.validation (SPEC §4)."""

from __future__ import annotations

from django.db import transaction

from .models import SLADefinition


@transaction.atomic
def save_definition(definition: SLADefinition, *, actor) -> SLADefinition:
    """Validate and store a definition. Existing timers keep their definition; a changed duration or
    calendar applies the next time their ticket's timers are recomputed."""
    definition.full_clean()
    definition.save()
    return definition
