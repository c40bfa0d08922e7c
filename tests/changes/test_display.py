"""Change pages show words, never Python objects (issue 21: the Type and Risk cells showed
`functools.partial(<bound method Model._get_FIELD_display ...>)`)."""

import pytest
from django.urls import reverse

from changes import services as change_services

pytestmark = pytest.mark.django_db


def test_change_list_and_detail_show_type_and_risk_labels(client, manager, cab, window):
    start, end = window()
    change = change_services.change_create(
        actor=manager, short_description="Patch the core switch", planned_start=start, planned_end=end,
        cab_approvers=cab,
    )  # fmt: skip
    client.force_login(manager)
    for url in (reverse("change-list") + "?view=all", change.get_absolute_url()):
        page = client.get(url).content.decode()
        assert "functools.partial" not in page and "bound method" not in page
        assert change.get_type_display() in page and change.get_risk_display() in page
