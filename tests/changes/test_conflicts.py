"""Conflict detection (SPEC §3): same CI, two hops, blackout windows, open P1–P2 incidents; override."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from changes import services
from changes.conflicts import detect_conflicts
from changes.models import BlackoutWindow
from core.approvals import Approval, decide
from core.models import Activity
from incidents.services import incident_create

pytestmark = pytest.mark.django_db


def scheduled_change(manager, ci, start, end):
    """A scheduled change on `ci`: standard from a template, the shortest way to the calendar."""
    from changes.models import ChangeTemplate

    template, _ = ChangeTemplate.objects.get_or_create(name="t", defaults={"short_description": "Routine"})
    change = services.change_create(
        actor=manager, template=template, planned_start=start, planned_end=end, configuration_items=[ci]
    )
    override = (
        {"override_conflicts": True, "override_reason": "test setup"} if detect_conflicts(change) else {}
    )
    return services.change_transition(change, to="scheduled", actor=manager, fields=override)


def test_same_ci_and_two_hops_and_not_three(manager, make_ci, relate, window):
    server, db, app, svc, far = (make_ci(n) for n in ("srv1", "db1", "app1", "svc1", "far1"))
    relate(db, server)  # db runs_on server: 1 hop
    relate(app, db, "depends_on")  # app → db → server: 2 hops
    relate(svc, app, "depends_on")  # svc: 3 hops from server
    relate(far, svc, "connected_to")
    start, end = window()
    on_server = scheduled_change(manager, server, start, end)
    on_app = scheduled_change(manager, app, start, end)
    on_svc = scheduled_change(manager, svc, start, end)
    mine = services.change_create(
        actor=manager,
        short_description="mine",
        planned_start=start,
        planned_end=end,
        configuration_items=[server],
    )
    found = {c["number"]: c for c in detect_conflicts(mine)}
    assert set(found) == {on_server.number, on_app.number}
    assert found[on_server.number]["kind"] == "change" and found[on_server.number]["ci"] == server.pk
    assert "the same CI" in found[on_server.number]["reason"]
    assert "2 hops" in found[on_app.number]["reason"]
    assert on_svc.number not in found
    # A window that does not overlap has no conflicts.
    later = services.change_create(
        actor=manager,
        short_description="later",
        planned_start=end + timedelta(hours=1),
        planned_end=end + timedelta(hours=3),
        configuration_items=[server],
    )
    assert detect_conflicts(later) == []


def test_blackout_windows(manager, make_ci, window):
    server, other = make_ci("srv1"), make_ci("srv2")
    start, end = window()
    scoped = BlackoutWindow.objects.create(name="Freeze srv2", start=start, end=end)
    scoped.configuration_items.add(other)
    mine = services.change_create(
        actor=manager,
        short_description="m",
        planned_start=start,
        planned_end=end,
        configuration_items=[server],
    )
    assert detect_conflicts(mine) == []
    BlackoutWindow.objects.create(
        name="Quarter close", start=start - timedelta(hours=1), end=start + timedelta(hours=1)
    )
    conflicts = detect_conflicts(mine)
    assert [(c["kind"], c["name"]) for c in conflicts] == [("blackout", "Quarter close")]


def test_open_p1_p2_incidents_on_those_cis(manager, agent, make_ci, relate, window):
    server, db = make_ci("srv1"), make_ci("db1", "database")
    relate(db, server)
    p1 = incident_create(
        actor=agent, short_description="DB down", impact=1, urgency=1, configuration_items=[db]
    )
    incident_create(actor=agent, short_description="minor", impact=3, urgency=3, configuration_items=[db])
    start, end = window()
    mine = services.change_create(
        actor=manager,
        short_description="m",
        planned_start=start,
        planned_end=end,
        configuration_items=[server],
    )
    conflicts = detect_conflicts(mine)
    assert [(c["kind"], c["number"], c["ci"]) for c in conflicts] == [("incident", p1.number, db.pk)]


def test_scheduling_with_conflicts_needs_override_and_is_recorded(
    manager, cab, make_ci, relate, window, api_client
):
    server, db = make_ci("srv1"), make_ci("db1", "database")
    relate(db, server)
    start, end = window()
    first = scheduled_change(manager, server, start, end)
    second = services.change_create(
        actor=manager,
        short_description="DB patch",
        planned_start=start + timedelta(minutes=30),
        planned_end=end + timedelta(hours=1),
        cab_approvers=cab,
        configuration_items=[db],
    )
    client = api_client(manager)
    response = client.get(f"/api/v1/changes/{second.number}/conflicts/")
    assert response.status_code == 200
    assert [(c["kind"], c["number"]) for c in response.json()["conflicts"]] == [("change", first.number)]

    services.change_transition(second, to="assess", actor=manager)
    second = services.change_transition(second, to="authorize", actor=manager)
    for member in cab:
        decide(Approval.objects.get(object_id=second.pk, approver=member), actor=member, approve=True)
    second.refresh_from_db()
    assert second.state == "authorize"  # authorized, but the conflict holds it
    assert Activity.objects.filter(object_id=second.pk, kind="system", body__contains=first.number).exists()

    url = f"/api/v1/changes/{second.number}/transition/"
    response = client.post(url, {"to": "scheduled"}, format="json")
    assert response.status_code == 400 and "override_conflicts" in response.json()
    response = client.post(url, {"to": "scheduled", "override_conflicts": True}, format="json")
    assert response.status_code == 400 and "override_reason" in response.json()
    response = client.post(
        url,
        {"to": "scheduled", "override_conflicts": True, "override_reason": "Same maintenance team"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["state"] == "scheduled"
    row = Activity.objects.filter(object_id=second.pk, kind="system").last()
    assert row.data["override_conflicts"] is True and "Same maintenance team" in row.body


def test_only_change_managers_override(manager, agent, make_ci, window):
    server = make_ci("srv1")
    start, end = window()
    scheduled_change(manager, server, start, end)
    from changes.models import ChangeTemplate

    other = services.change_create(
        actor=agent,
        template=ChangeTemplate.objects.get(name="t"),
        planned_start=start,
        planned_end=end,
        configuration_items=[server],
    )
    with pytest.raises(ValidationError, match="Only change managers"):
        services.change_transition(
            other, to="scheduled", actor=agent, fields={"override_conflicts": True, "override_reason": "x"}
        )
