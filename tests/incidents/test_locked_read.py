"""The one locked read a move starts from (core.locking): what it may skip, and when it must not trust that."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from core import selectors
from core.perf import prepared_writes
from core.perf.orm import known_empty
from incidents.models import Incident
from incidents.services import incident_update

RESOLVE = {"to": "resolved", "resolution_code": "solved", "resolution_notes": "Fixed."}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["agent", "requester"])
def test_the_locked_read_marks_only_the_empty_sets(who, request, make_incident, ci, requester, agent):
    user = request.getfixturevalue(who)
    bare = make_incident(caller=requester)
    full = make_incident(caller=requester, configuration_items=[ci])
    full.watchers.add(agent)
    make_incident(parent=full, caller=requester)
    with transaction.atomic():
        bare = selectors.get_visible_ticket(Incident, user, bare.number, lock=True)
        full = selectors.get_visible_ticket(Incident, user, full.number, lock=True)
        assert [known_empty(bare, name) for name in ("watchers", "configuration_items", "sla_timers")] == [
            True,
            True,
            True,
        ]
        assert not known_empty(full, "watchers") and not known_empty(full, "configuration_items")
        assert bare.lock_facts == {"has_open_children": False}
        assert full.lock_facts == {"has_open_children": True}


@pytest.mark.django_db(transaction=True)
def test_an_api_move_reads_its_ticket_once(api_client, agent, make_incident):
    incident = make_incident()
    client = api_client(agent)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/api/v1/incidents/{incident.number}/transition/", RESOLVE, format="json")
    assert response.status_code == 200, response.content
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("PREPARE ")]
    # The locked read (prepared, core.perf.prepared_get) and one write (core.perf.prepared_writes: the
    # UPDATE with the timeline row); no unlocked read first, no re-read for the answer, no query for
    # children, watchers, CIs or SLA timers it does not have.
    assert len([sql for sql in statements if sql.startswith("EXECUTE itsm_get_")]) == 1, statements
    writes = [sql.split()[1].split("(")[0] for sql in statements if sql.startswith("EXECUTE itsm_write_")]
    assert len(writes) == 1, statements
    write = dict(prepared_writes._statements.values())[writes[0]]
    assert 'UPDATE "incidents_incident"' in write and 'INSERT INTO "core_activity"' in write, write
    assert not any("incidents_incident" in sql for sql in statements), statements
    assert not any(sql.startswith("SAVEPOINT") for sql in statements)
    assert response.json()["state"] == "resolved"


@pytest.mark.django_db(transaction=True)
def test_a_lock_that_waited_trusts_none_of_its_facts(make_incident, agent, ci):
    """Another write links a CI while we wait for the row lock: our statement's subqueries saw the older
    snapshot, so the set is read again instead of being taken as empty."""
    incident = make_incident()
    locked_by_other = threading.Event()
    release = threading.Event()

    def other_write():
        try:
            with transaction.atomic():
                incident_update(incident, actor=agent, changes={}, configuration_items=[ci])
                locked_by_other.set()
                release.wait(10)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_write)
    other.start()
    assert locked_by_other.wait(10)
    timer = threading.Timer(2, release.set)
    timer.start()
    try:
        with transaction.atomic():
            record = selectors.get_visible_ticket(Incident, agent, incident.number, lock=True)
            assert record.version == incident.version + 1
            assert not known_empty(record, "configuration_items")
            assert list(record.configuration_items.all()) == [ci]
    finally:
        other.join()
        timer.cancel()
