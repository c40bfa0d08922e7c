"""The workflow engine: illegal moves name the allowed ones, required fields are named, nothing changes."""

import pytest
from django.core.exceptions import ValidationError

from core import services
from core.exceptions import IllegalTransition
from core.models import Activity
from incidents.models import Incident
from incidents.services import incident_create


@pytest.fixture
def incident(agent, service_desk):
    return incident_create(actor=agent, short_description="Mail is down", assignment_group=service_desk)


@pytest.mark.django_db
def test_illegal_move_lists_the_allowed_moves_and_changes_nothing(incident, agent):
    with pytest.raises(IllegalTransition) as caught:
        services.transition(incident, to="closed", actor=agent)
    assert caught.value.allowed == ["in_progress", "on_hold", "resolved", "canceled"]
    assert "Allowed moves: in_progress, on_hold, resolved, canceled" in str(caught.value)
    incident.refresh_from_db()
    assert incident.state == "new" and incident.version == 1


@pytest.mark.django_db
def test_missing_required_fields_are_named(incident, agent):
    with pytest.raises(ValidationError) as caught:
        services.transition(incident, to="resolved", actor=agent, fields={"resolution_code": "solved"})
    assert set(caught.value.message_dict) == {"resolution_notes"}
    assert Incident.objects.get(pk=incident.pk).state == "new"


@pytest.mark.django_db
def test_a_move_writes_one_timeline_row_with_from_and_to(incident, agent):
    services.transition(incident, to="on_hold", actor=agent, fields={"hold_reason": "awaiting_caller"})
    row = Activity.objects.filter(kind="state_change").get()
    assert row.data == {"from": "new", "to": "on_hold", "hold_reason": "awaiting_caller"}
    assert row.actor_name == agent.username


@pytest.mark.django_db
def test_a_field_the_move_does_not_set_is_refused(incident, agent):
    with pytest.raises(ValidationError) as caught:
        services.transition(incident, to="in_progress", actor=agent, fields={"priority": 1})
    assert "priority" in caught.value.message_dict


@pytest.mark.django_db
def test_stale_version_is_refused(incident, agent):
    from core.exceptions import StaleVersion

    services.update_ticket(incident, actor=agent, changes={"description": "first"}, expected_version=1)
    with pytest.raises(StaleVersion):
        services.update_ticket(incident, actor=agent, changes={"description": "second"}, expected_version=1)
    assert Incident.objects.get(pk=incident.pk).description == "first"


@pytest.mark.django_db
def test_rolled_back_write_publishes_nothing_after_commit(agent, django_capture_on_commit_callbacks):
    from django.db import transaction

    from core import events

    seen = []
    listener = events.after_commit(lambda event: seen.append(event.name))
    try:
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            incident_create(actor=agent, short_description="will roll back")
            raise RuntimeError("boom")
        assert seen == []
        assert not Incident.objects.filter(short_description="will roll back").exists()
    finally:
        events._after_commit.remove(listener)
