"""Edits made in the Django admin are validated and land in the CI's history like any other source."""

import pytest

from cmdb.models import CIChange, CIClass, ConfigurationItem


@pytest.mark.django_db
def test_admin_edit_goes_through_the_service_and_is_in_the_history(client, admin_user):
    server = CIClass.objects.get(name="server")
    ci = ConfigurationItem.objects.create(name="srv-01", ci_class=server, attributes={"cpu_count": 4})
    client.force_login(admin_user)
    response = client.post(
        f"/admin/cmdb/configurationitem/{ci.pk}/change/",
        {
            "name": "srv-01",
            "ci_class": server.pk,
            "status": "maintenance",
            "environment": "production",
            "serial_number": "",
            "attributes": '{"cpu_count": 8}',
            "description": "",
        },
    )
    assert response.status_code == 302, response.content[:500]
    ci.refresh_from_db()
    assert ci.status == "maintenance" and ci.attributes == {"cpu_count": 8}
    changes = {
        (c.field, str(c.old_value), str(c.new_value), c.source) for c in CIChange.objects.filter(ci=ci)
    }
    assert ("status", "in_service", "maintenance", "ui") in changes
    assert ("attributes.cpu_count", "4", "8", "ui") in changes
