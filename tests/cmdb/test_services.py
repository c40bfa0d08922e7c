"""Services: attribute validation names the attribute, history per field, delete guard."""

import pytest
from django.core.exceptions import ValidationError

from cmdb import services
from cmdb.models import CIChange, CIClass, ConfigurationItem

pytestmark = pytest.mark.django_db


def test_attribute_errors_name_the_attribute(cmdb_manager):
    server = CIClass.objects.get(name="server")
    with pytest.raises(ValidationError) as caught:
        services.create_ci(
            actor=cmdb_manager, fields={"name": "x", "ci_class": server, "attributes": {"cpu_count": "four"}}
        )
    assert set(services.error_detail(caught.value)["attributes"]) == {"cpu_count"}
    assert not ConfigurationItem.objects.exists()


def test_update_logs_each_changed_field_and_attribute(cmdb_manager):
    server = CIClass.objects.get(name="server")
    ci = services.create_ci(
        actor=cmdb_manager,
        fields={"name": "s1", "ci_class": server, "attributes": {"os": "Debian 11"}},
        source="ui",
    )
    services.update_ci(
        ci,
        actor=cmdb_manager,
        changes={"status": "maintenance", "attributes": {"os": "Debian 12"}},
        source="ui",
    )
    services.update_ci(ci, actor=cmdb_manager, changes={"status": "maintenance"}, source="ui")  # no-op
    rows = list(
        CIChange.objects.filter(ci=ci, action="updated").values_list("field", "old_value", "new_value")
    )
    assert sorted(rows) == [
        ("attributes.os", "Debian 11", "Debian 12"),
        ("status", "in_service", "maintenance"),
    ]
    assert set(CIChange.objects.filter(ci=ci).values_list("actor_name", "source")) == {("cora", "ui")}


def test_delete_refused_while_an_open_ticket_references_the_ci(cmdb_manager, agent):
    from incidents.services import incident_create, incident_transition

    ci = services.create_ci(
        actor=cmdb_manager, fields={"name": "db1", "ci_class": CIClass.objects.get(name="database")}
    )
    incident = incident_create(actor=agent, short_description="db1 down", configuration_items=[ci])
    with pytest.raises(services.CIInUse, match=incident.number):
        services.delete_ci(ci, actor=cmdb_manager)
    assert ConfigurationItem.objects.filter(pk=ci.pk).exists()
    incident_transition(incident, to="canceled", actor=agent, fields={})
    services.delete_ci(ci, actor=cmdb_manager)
    assert not ConfigurationItem.objects.filter(pk=ci.pk).exists()
    assert CIChange.objects.filter(ci_name="db1", action="deleted").exists()


def test_relationship_service_refuses_duplicates_and_self_loops(cmdb_manager, make_ci):
    a, b = make_ci("a"), make_ci("b")
    services.add_relationship(actor=cmdb_manager, source=a, target=b, type="depends_on")
    with pytest.raises(ValidationError, match="already"):
        services.add_relationship(actor=cmdb_manager, source=a, target=b, type="depends_on")
    with pytest.raises(ValidationError, match="itself"):
        services.add_relationship(actor=cmdb_manager, source=a, target=a, type="depends_on")
    assert CIChange.objects.filter(action="related", ci__in=[a, b]).count() == 2
