"""core.perf.orm's remembered related sets answer as the related manager would, without its query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.perf.orm import known_empty, remember_related
from incidents.models import Incident
from incidents.services import incident_create
from sla.models import SLADefinition, Timer


@pytest.mark.django_db
def test_a_remembered_empty_set_stays_empty_without_a_query(agent):
    incident = incident_create(actor=agent, short_description="No timers")
    record = Incident.objects.get(pk=incident.pk)
    for name in ("sla_timers", "watchers", "configuration_items"):
        remember_related(record, name)
    with CaptureQueriesContext(connection) as captured:
        assert known_empty(record, "sla_timers")
        assert list(record.sla_timers.all()) == []
        assert record.sla_timers.filter(state="running").count() == 0
        assert not record.watchers.exists() and list(record.configuration_items.all()) == []
    assert captured.captured_queries == []


@pytest.mark.django_db
def test_remembered_timers_filter_as_the_manager_does(agent):
    SLADefinition.objects.create(name="Any", applies_to="incident", target="resolution", duration=3600)
    first = incident_create(actor=agent, short_description="One")
    second = incident_create(actor=agent, short_description="Two")
    record = Incident.objects.get(pk=second.pk)
    timers = list(Timer.objects.filter(object_id=second.pk))
    assert timers and Timer.objects.filter(object_id=first.pk).exists()
    expected = str(record.sla_timers.get_queryset().query)
    remember_related(record, "sla_timers", timers)
    with CaptureQueriesContext(connection) as captured:
        assert list(record.sla_timers.all()) == timers
    assert captured.captured_queries == []
    # Anything chained on the remembered set queries with the relation's own filter.
    assert str(record.sla_timers.filter(state="running").query) == str(
        Incident.objects.get(pk=second.pk).sla_timers.filter(state="running").query
    )
    assert str(record.sla_timers.get_queryset().query) == expected
    assert list(record.sla_timers.filter(state="running")) == timers
