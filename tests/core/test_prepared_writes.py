"""core.perf.prepared_writes: several writes as one statement leave the rows and the instances as save() would."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from core.models import Activity
from core.perf.prepared_writes import Insert, Update, save_together
from incidents.models import Incident
from incidents.services import incident_create


def _activity(incident: Incident, **fields) -> Activity:
    return Activity(
        content_type=ContentType.objects.get_for_model(Incident),
        object_id=incident.pk,
        kind="comment",
        actor_name="someone",
        **fields,
    )


@pytest.mark.django_db
def test_an_update_and_an_insert_in_one_statement(agent):
    incident = incident_create(actor=agent, short_description="Disk full")
    stamped = incident.updated_at
    incident.short_description = "Disk full on db-1: 100% (it's \\ quoted)"
    incident.version += 1
    row = _activity(
        incident, body="50% done; 'quotes'", data={"nested": {"n": 1, "text": "a%b"}}, public=False
    )
    with CaptureQueriesContext(connection) as captured:
        save_together([Update(incident, ("short_description", "version", "updated_at")), Insert(row)])
    executed = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("PREPARE")]
    assert len(executed) == 1 and executed[0].startswith("EXECUTE itsm_write_"), executed

    assert incident.updated_at > stamped  # auto_now stamped on the instance, as save() does
    stored = Incident.objects.get(pk=incident.pk)
    assert stored.short_description == incident.short_description
    assert stored.version == incident.version and stored.updated_at == incident.updated_at
    assert row.pk is not None and not row._state.adding and row._state.db == "default"
    assert Activity.objects.filter(pk=row.pk).values_list("body", "data", "public", "created_at").get() == (
        "50% done; 'quotes'",
        {"nested": {"n": 1, "text": "a%b"}},
        False,
        row.created_at,
    )


@pytest.mark.django_db
def test_the_same_shape_is_prepared_once_per_connection(agent):
    first = incident_create(actor=agent, short_description="One")
    second = incident_create(actor=agent, short_description="Two")
    save_together([Update(first, ("short_description",)), Insert(_activity(first))])
    with CaptureQueriesContext(connection) as captured:
        save_together([Update(second, ("short_description",)), Insert(_activity(second))])
    assert [q["sql"].split("(")[0].rsplit("_", 1)[0] for q in captured.captured_queries] == [
        "EXECUTE itsm_write"
    ]


@pytest.mark.django_db
def test_an_update_of_no_row_fails_as_save_does(agent):
    incident = incident_create(actor=agent, short_description="Gone")
    ghost = Incident.objects.get(pk=incident.pk)
    ghost.pk = 999_999_999
    with pytest.raises(DatabaseError, match="did not affect any rows"), transaction.atomic():
        save_together([Update(ghost, ("short_description",))])


@pytest.mark.django_db
def test_a_model_with_save_receivers_goes_through_save(agent):
    incident = incident_create(actor=agent, short_description="Watched")
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.kind)

    post_save.connect(receiver, sender=Activity)
    try:
        row = _activity(incident)
        with CaptureQueriesContext(connection) as captured:
            save_together([Update(incident, ("short_description",)), Insert(row)])
    finally:
        post_save.disconnect(receiver, sender=Activity)
    assert seen == ["comment"] and row.pk is not None
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["UPDATE", "INSERT"]
