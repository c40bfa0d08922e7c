"""SLA definitions are cached per process (core.config_cache), yet a ticket always sees what the database
holds: a definition added, edited or deactivated applies to the very next ticket, in this process and in
others, and a rolled-back definition never leaks into the cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction

from core import config_cache
from sla import engine
from sla.models import SLADefinition, Timer

pytestmark = pytest.mark.django_db(transaction=True)


def definition(name: str, **fields) -> SLADefinition:
    fields.setdefault("applies_to", "incident")
    fields.setdefault("target", "resolution")
    fields.setdefault("duration", 3600)
    return SLADefinition.objects.create(name=name, **fields)


def timer_names(incident) -> list[str]:
    return sorted(Timer.objects.filter(object_id=incident.pk).values_list("definition__name", flat=True))


def test_changes_apply_to_the_next_ticket(open_incident):
    assert timer_names(open_incident()) == []
    first = definition("P4 resolution", conditions={"priority": [5]})
    assert timer_names(open_incident()) == ["P4 resolution"]
    first.duration = 60
    first.save()
    incident = open_incident()
    assert Timer.objects.get(object_id=incident.pk).definition.duration == 60
    first.active = False
    first.save()
    assert timer_names(open_incident()) == []


def test_a_change_committed_by_another_process_is_seen(open_incident):
    definition("All incidents")
    assert timer_names(open_incident()) == ["All incidents"]
    # Another process deactivates it: no signal here (a queryset update), only the stamp it publishes.
    SLADefinition.objects.update(active=False)
    cache.set(config_cache.STAMP_KEY, "another-process", None)
    assert timer_names(open_incident()) == []


def test_a_rolled_back_definition_never_reaches_the_cache(open_incident):
    assert timer_names(open_incident()) == []

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        definition("Uncommitted")
        incident = open_incident()  # this transaction sees its own definition...
        assert timer_names(incident) == ["Uncommitted"]
        raise Abort
    assert timer_names(open_incident()) == []  # ...nobody does after the rollback


def test_without_redis_the_database_answers(open_incident, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(config_cache.cache, "get", unreachable)
    definition("All incidents")
    assert timer_names(open_incident()) == ["All incidents"]
    assert engine._definitions.get("incident")  # still answers, from the database
