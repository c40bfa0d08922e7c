"""Serializer fields built once per class (core.perf.field_cache): every serializer instance still gets
fields of its own, bound to itself, so two serializers alive at once never see each other's state."""

from __future__ import annotations

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.perf.field_cache import copy_field
from incidents.api.serializers import IncidentSerializer
from incidents.models import Incident

pytestmark = pytest.mark.django_db


def prototypes(serializer_class) -> dict:
    serializer_class().fields  # the first instance of a class builds its prototypes
    return serializer_class._prebuilt_fields


def api_request() -> Request:
    return Request(APIRequestFactory().get("/"))


def test_each_serializer_gets_its_own_bound_copies_of_the_prototypes():
    built = prototypes(IncidentSerializer)
    first, second = IncidentSerializer(), IncidentSerializer()
    assert set(first.fields) == set(second.fields) == set(built)
    for name in built:
        assert first.fields[name] is not second.fields[name] is not built[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert first.fields[name].field_name == name
    # The prototypes themselves are never bound to a serializer.
    assert all(getattr(field, "parent", None) is None for field in built.values())


def test_a_copy_does_not_share_attribute_changes_with_its_prototype():
    prototype = prototypes(IncidentSerializer)["short_description"]
    clone = copy_field(prototype)
    assert type(clone) is type(prototype) and clone.max_length == prototype.max_length
    clone.read_only = not prototype.read_only
    assert clone.read_only != prototype.read_only


def test_nested_fields_are_deep_copied_so_their_children_point_at_their_own_parent():
    serializer = IncidentSerializer()
    cis = serializer.fields["configuration_items"]
    assert cis is not prototypes(IncidentSerializer)["configuration_items"]
    assert cis.child_relation.parent is cis


def test_read_only_choice_fields_keep_the_blank_choice_on_every_instance():
    # adjust_prototypes runs once per class; every later instance still carries its result.
    for _ in range(2):
        hold_reason = IncidentSerializer().fields["hold_reason"]
        assert hold_reason.read_only and hold_reason.allow_blank


def test_per_instance_adjustments_stay_on_that_instance():
    # ?brief=1 drops fields from that one serializer; the next one and the prototypes keep them all.
    brief = IncidentSerializer(context={"request": Request(APIRequestFactory().get("/?brief=1"))})
    full = IncidentSerializer(context={"request": api_request()})
    assert "description" not in brief.fields
    assert "description" in full.fields and "description" in prototypes(IncidentSerializer)


def test_the_serialized_output_is_unchanged_by_the_field_cache(agent):
    incident = Incident.objects.create(short_description="Printer jam", opened_by=agent)
    request = api_request()
    data = IncidentSerializer(incident, context={"request": request}).data
    assert data["number"] == incident.number and data["short_description"] == "Printer jam"
    assert data["hold_reason"] == "" and data["configuration_items"] == []
