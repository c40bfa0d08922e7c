"""The ticket write path stays lean without losing a check: full_clean skips only the existence queries
of foreign keys already read from the database, and a create costs a fixed, small number of queries."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.services import incident_create, incident_transition, incident_update


@pytest.mark.django_db(transaction=True)
def test_a_create_costs_a_fixed_number_of_queries(agent, service_desk):
    # Committed set-up, as in production: a transaction that itself changed configuration (here: created
    # the group) reads configuration from the database, not from the caches (core.config_cache).
    incident_create(actor=agent, short_description="Warm-up", assignment_group=service_desk)
    with CaptureQueriesContext(connection) as captured:
        incident = incident_create(actor=agent, short_description="VPN down", assignment_group=service_desk)
    statements = [query["sql"] for query in captured.captured_queries]
    verbs = [sql.split()[0] for sql in statements]
    # The create's transaction: the incident (its number from the sequence in the same INSERT), its
    # timeline row and the requester's confirmation mail. (After the COMMIT the mail task runs: inline here.)
    transaction = statements[: verbs.index("COMMIT") + 1]
    assert [sql.split()[0] for sql in transaction] == ["BEGIN", "INSERT", "INSERT", "INSERT", "COMMIT"]
    assert [sql.split()[2] for sql in transaction[1:4]] == [
        '"incidents_incident"',
        '"core_activity"',
        '"integrations_outboundemail"',
    ]
    assert incident.number.startswith("INC") and incident.assignment_group == service_desk


def test_a_related_object_not_read_from_the_database_is_still_checked(agent):
    from accounts.models import AssignmentGroup

    incident = incident_create(actor=agent, short_description="Ghost group")
    with pytest.raises(ValidationError) as error:
        incident_update(incident, actor=agent, changes={"assignment_group": AssignmentGroup(pk=999_999)})
    assert "assignment_group" in error.value.message_dict
    incident.refresh_from_db()
    assert incident.assignment_group_id is None and incident.version == 1


def test_bare_ids_set_by_an_update_are_checked(agent):
    incident = incident_create(actor=agent, short_description="Printer")
    incident.assigned_to_id = 999_999  # not through the service: what full_clean must still catch
    from core.services import _full_clean

    with pytest.raises(ValidationError) as error:
        _full_clean(incident, exclude=["number", "search_vector"])
    assert "assigned_to" in error.value.message_dict


def test_reopen_still_clears_the_resolution(agent):
    incident = incident_create(actor=agent, short_description="Disk full")
    incident = incident_transition(
        incident, to="resolved", actor=agent, fields={"resolution_code": "solved", "resolution_notes": "ok"}
    )
    assert incident.resolved_at is not None
    incident = incident_transition(incident, to="in_progress", actor=agent)
    incident.refresh_from_db()
    assert (incident.resolved_at, incident.resolution_code, incident.resolution_notes) == (None, "", "")
