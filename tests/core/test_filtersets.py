"""FilterSets built once per class (core.filtersets.PrebuiltFiltersMixin): each instance still filters
with its own data, its own bound filters and its own form, even while another instance is alive."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from cmdb.filtersets import CIFilterSet
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_each_filterset_gets_its_own_filters_bound_to_itself():
    first, second = IncidentFilterSet(QueryDict("")), IncidentFilterSet(QueryDict(""))
    prototypes, _ = IncidentFilterSet._prebuilt()
    assert set(first.filters) == set(prototypes)
    for name in prototypes:
        assert first.filters[name] is not second.filters[name] is not prototypes[name]
        assert first.filters[name].parent is first and second.filters[name].parent is second
    # A `method=` filter calls the method of the FilterSet it belongs to, not of the prototype's.
    assert first.filters["assignment_group"].filter.f is first.filters["assignment_group"]


def test_the_form_class_is_shared_but_each_form_and_its_errors_are_the_instance_own():
    good = IncidentFilterSet(QueryDict("priority=1"))
    bad = IncidentFilterSet(QueryDict("priority=high&opened_after=yesterday"))
    assert type(good.form) is type(bad.form) and good.form is not bad.form
    assert good.is_valid() and not bad.is_valid()
    assert set(bad.errors) == {"priority", "opened_after"} and not good.errors


def test_two_filtersets_alive_at_once_filter_with_their_own_values(agent, service_desk, make_group):
    network = make_group("network")
    desk = Incident.objects.create(short_description="Desk", opened_by=agent, assignment_group=service_desk)
    net = Incident.objects.create(short_description="Net", opened_by=agent, assignment_group=network)
    by_desk = IncidentFilterSet(QueryDict("assignment_group=service-desk"))
    by_network = IncidentFilterSet(QueryDict("assignment_group=network"))
    assert list(by_network.qs) == [net] and list(by_desk.qs) == [desk]


def test_each_filterset_class_builds_its_own_prototypes():
    incident_filters, incident_form = IncidentFilterSet._prebuilt()
    ci_filters, ci_form = CIFilterSet._prebuilt()
    assert incident_form is not ci_form and "ci_class" in ci_filters and "ci_class" not in incident_filters
    assert "ci_class" in ci_form.base_fields and "caller" in incident_form.base_fields
