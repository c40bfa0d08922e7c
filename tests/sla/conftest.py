"""SLA fixtures: definitions for incidents and a helper to open incidents through the real service."""

from __future__ import annotations

import pytest

from sla.models import SLADefinition


@pytest.fixture
def make_definition(db):
    def _make(name: str, **fields) -> SLADefinition:
        fields.setdefault("applies_to", "incident")
        fields.setdefault("target", "resolution")
        fields.setdefault("duration", 3600)
        definition = SLADefinition(name=name, **fields)
        definition.full_clean()
        definition.save()
        return definition

    return _make


@pytest.fixture
def open_incident(agent):
    from incidents.services import incident_create

    def _open(**fields):
        fields.setdefault("short_description", "Mail is down")
        return incident_create(actor=fields.pop("actor", agent), **fields)

    return _open
