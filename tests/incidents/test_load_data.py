"""generate_load_data: adds numbered incidents and CIs in bulk, additively, with a realistic spread."""

import pytest
from django.core.management import call_command

from incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_generate_load_data_is_additive_and_consistent():
    call_command("generate_load_data", incidents=300, cis=20, groups=3, agents_per_group=2, callers=5, seed=7)
    call_command("generate_load_data", incidents=200, groups=3, agents_per_group=2, callers=5, seed=8)
    incidents = Incident.objects.select_related("assignment_group", "assigned_to")
    assert incidents.count() == 500
    assert len(set(incidents.values_list("number", flat=True))) == 500
    assert {"closed", "new", "in_progress"} <= set(incidents.values_list("state", flat=True))
    for incident in incidents.exclude(assigned_to=None)[:50]:
        assert incident.assignment_group.members.filter(pk=incident.assigned_to_id).exists()
    for incident in incidents[:50]:
        from incidents.choices import priority_for

        assert incident.priority == priority_for(incident.impact, incident.urgency)
    assert incidents.filter(state="resolved", resolved_at=None).count() == 0
    assert Incident.configuration_items.through.objects.exists()
