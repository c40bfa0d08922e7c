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


def test_only_moves_that_can_succeed_are_offered(client, manager, cab, window):
    start, end = window()
    change = change_services.change_create(
        actor=manager, short_description="Patch", planned_start=start, planned_end=end, cab_approvers=cab
    )
    change_services.change_transition(change, to="assess", actor=manager)
    change_services.change_transition(change, to="authorize", actor=manager)
    client.force_login(manager)
    page = client.get(change.get_absolute_url()).content.decode()
    assert 'data-move="scheduled"' not in page  # the CAB has not approved yet
    assert 'data-move="canceled"' in page
    # A CAB member reads the change but moves nothing: no button, and a friendly 403 if they try.
    client.force_login(cab[0])
    page = client.get(change.get_absolute_url()).content.decode()
    assert "data-move=" not in page
    response = client.get(reverse("change-transition", kwargs={"number": change.number, "to": "canceled"}))
    assert response.status_code == 403 and 'data-error-code="403"' in response.content.decode()
