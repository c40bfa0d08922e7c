"""Change state machine, type rules, CAB authorization, risk and bad inputs (SPEC §3 Changes)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from changes import services
from changes.models import Change, ChangeTemplate
from core.approvals import Approval, decide
from core.models import Activity

pytestmark = pytest.mark.django_db


def raise_normal(manager, cab, window, ci=None, **extra):
    start, end = window()
    return services.change_create(
        actor=manager,
        short_description="Patch kernel",
        planned_start=start,
        planned_end=end,
        cab_approvers=cab,
        configuration_items=[ci] if ci else [],
        **extra,
    )


def approval_of(change, user):
    return Approval.objects.get(
        object_id=change.pk, approver=user, stage=change.approval_round, state="pending"
    )


def test_normal_change_full_lifecycle_with_cab(manager, cab, window):
    change = raise_normal(manager, cab, window)
    assert change.number.startswith("CHG") and change.type == "normal" and change.state == "new"
    change = services.change_transition(change, to="assess", actor=manager)
    change = services.change_transition(change, to="authorize", actor=manager)
    assert Approval.objects.filter(object_id=change.pk, state="pending").count() == 2

    decide(approval_of(change, cab[0]), actor=cab[0], approve=True, comment="fine by me")
    change.refresh_from_db()
    assert change.state == "authorize"  # one approver still pending
    decide(approval_of(change, cab[1]), actor=cab[1], approve=True)
    change.refresh_from_db()
    assert change.state == "scheduled"  # the last approval schedules it (no conflicts)

    change = services.change_transition(change, to="implement", actor=manager)
    change = services.change_transition(
        change, to="review", actor=manager, fields={"close_code": "successful"}
    )
    assert change.implemented_at is not None
    change = services.change_transition(
        change, to="closed", actor=manager, fields={"review_notes": "All good"}
    )
    change.refresh_from_db()
    assert change.state == "closed" and change.closed_at and change.close_code == "successful"
    bodies = list(
        Activity.objects.filter(object_id=change.pk, kind="approval").values_list("body", flat=True)
    )
    assert "fine by me" in bodies


def test_rejection_sends_change_back_to_new_with_comment(manager, cab, window):
    change = raise_normal(manager, cab, window)
    services.change_transition(change, to="assess", actor=manager)
    change = services.change_transition(change, to="authorize", actor=manager)
    decide(approval_of(change, cab[0]), actor=cab[0], approve=False, comment="No backout plan")
    change.refresh_from_db()
    assert change.state == "new"
    assert not Approval.objects.filter(object_id=change.pk, state="pending").exists()
    last = Activity.objects.filter(object_id=change.pk, kind="state_change").last()
    assert "No backout plan" in last.body and last.data["to"] == "new"
    # A second round asks everyone again.
    services.change_transition(change, to="assess", actor=manager)
    change = services.change_transition(change, to="authorize", actor=manager)
    assert change.approval_round == 2
    assert Approval.objects.filter(object_id=change.pk, stage=2, state="pending").count() == 2


def test_approving_as_non_approver_is_refused(manager, cab, window, make_user, api_client):
    change = raise_normal(manager, cab[:1], window)
    services.change_transition(change, to="assess", actor=manager)
    services.change_transition(change, to="authorize", actor=manager)
    approval = Approval.objects.get(object_id=change.pk)
    with pytest.raises(ValidationError) as err:
        decide(approval, actor=cab[1], approve=True)
    assert "approver" in err.value.message_dict
    # Through the API it is not even visible to them: 404.
    response = api_client(cab[1]).post(f"/api/v1/approvals/{approval.pk}/approve/", {}, format="json")
    assert response.status_code == 404
    change.refresh_from_db()
    assert change.state == "authorize"


def test_standard_change_from_template_skips_authorization(manager, window, api_client):
    template = ChangeTemplate.objects.create(
        name="Restart web tier", short_description="Rolling restart", implementation_plan="restart one by one"
    )
    start, end = window()
    client = api_client(manager)
    response = client.post(
        "/api/v1/changes/",
        {"template": template.pk, "planned_start": start.isoformat(), "planned_end": end.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["type"] == "standard" and data["short_description"] == "Rolling restart"
    assert data["implementation_plan"] == "restart one by one"
    number = data["number"]
    response = client.post(f"/api/v1/changes/{number}/transition/", {"to": "authorize"}, format="json")
    assert response.status_code == 400
    assert "skips authorization" in response.json()["to"][0]
    response = client.post(f"/api/v1/changes/{number}/transition/", {"to": "scheduled"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "scheduled"
    assert client.get("/api/v1/changes/templates/").json()["results"][0]["name"] == "Restart web tier"


def test_normal_change_cannot_skip_authorization_or_assess(manager, cab, window):
    change = raise_normal(manager, cab, window)
    with pytest.raises(ValidationError, match="authorized by the CAB"):
        services.change_transition(change, to="scheduled", actor=manager)
    with pytest.raises(ValidationError, match="assessed first"):
        services.change_transition(change, to="authorize", actor=manager)
    with pytest.raises(ValidationError, match="Allowed moves"):
        services.change_transition(change, to="closed", actor=manager)
    with pytest.raises(ValidationError, match="template"):
        services.change_create(actor=manager, short_description="x", type="standard")


def test_emergency_change_expedited_path(manager, cab, window):
    change = raise_normal(manager, cab, window, type="emergency")
    change = services.change_transition(change, to="authorize", actor=manager)  # skips assess
    decide(approval_of(change, cab[1]), actor=cab[1], approve=True)
    change.refresh_from_db()
    assert change.state == "scheduled"  # one CAB approval is enough
    assert Approval.objects.get(object_id=change.pk, approver=cab[0]).state == "canceled"


def test_authorize_needs_approvers_and_window(manager, cab):
    change = services.change_create(actor=manager, short_description="No plan yet")
    services.change_transition(change, to="assess", actor=manager)
    with pytest.raises(ValidationError) as err:
        services.change_transition(change, to="authorize", actor=manager)
    assert set(err.value.message_dict) == {"planned_start", "planned_end"}


def test_risk_questionnaire_and_override(manager):
    change = services.change_create(
        actor=manager, short_description="DB upgrade", risk_answers={"production": True, "downtime": True}
    )
    assert change.risk == "moderate"
    change = services.change_create(
        actor=manager,
        short_description="Big bang",
        risk_answers={"production": True, "downtime": True, "no_backout": True},
    )
    assert change.risk == "high"
    with pytest.raises(ValidationError) as err:
        services.change_create(actor=manager, short_description="x", risk_override="low")
    assert "risk_override_reason" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.change_create(actor=manager, short_description="x", risk_answers={"bogus": True})
    assert "risk_answers" in err.value.message_dict
    change = services.change_update(
        change, actor=manager, changes={"risk_override": "low", "risk_override_reason": "Rehearsed twice"}
    )
    assert change.risk == "low"


def test_planned_end_before_start_is_refused(manager, window, api_client):
    start, end = window()
    response = api_client(manager).post(
        "/api/v1/changes/",
        {
            "short_description": "Backwards",
            "planned_start": end.isoformat(),
            "planned_end": start.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert "planned_end" in response.json()
    assert not Change.objects.exists()
    change = services.change_create(
        actor=manager, short_description="ok", planned_start=start, planned_end=end
    )
    response = api_client(manager).patch(
        f"/api/v1/changes/{change.number}/", {"planned_end": start.isoformat()}, format="json"
    )
    assert response.status_code == 400 and "planned_end" in response.json()


def test_requesters_cannot_raise_changes_and_see_none(requester, manager):
    with pytest.raises(PermissionDenied):
        services.change_create(actor=requester, short_description="sneaky")
    change = services.change_create(actor=manager, short_description="hidden")
    from core.selectors import visible_tickets

    assert not visible_tickets(Change, requester).filter(pk=change.pk).exists()


def test_cab_approvers_must_be_cab_members(manager, agent):
    with pytest.raises(ValidationError) as err:
        services.change_create(actor=manager, short_description="x", cab_approvers=[agent])
    assert "cab_approvers" in err.value.message_dict


def test_blackouts_managed_by_change_managers_only(manager, agent, window, api_client):
    start, end = window()
    payload = {"name": "Quarter close", "start": start.isoformat(), "end": end.isoformat()}
    assert api_client(agent).post("/api/v1/changes/blackouts/", payload, format="json").status_code == 403
    response = api_client(manager).post("/api/v1/changes/blackouts/", payload, format="json")
    assert response.status_code == 201, response.content
    bad = {"name": "Backwards", "start": end.isoformat(), "end": start.isoformat()}
    response = api_client(manager).post("/api/v1/changes/blackouts/", bad, format="json")
    assert response.status_code == 400 and "end" in response.json()
    assert api_client(agent).get("/api/v1/changes/blackouts/").json()["count"] == 1


@pytest.mark.parametrize("page_size", [5, 50])
def test_change_list_query_count(manager, cab, window, api_client, django_assert_max_num_queries, page_size):
    for i in range(12):
        change = raise_normal(manager, cab, window)
        if i % 2:
            services.change_transition(change, to="assess", actor=manager)
            services.change_transition(change, to="authorize", actor=manager)
    client = api_client(manager)
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/changes/?page_size={page_size}")
    assert response.status_code == 200 and len(response.json()["results"]) == min(page_size, 12)
    authorizing = [r for r in response.json()["results"] if r["state"] == "authorize"]
    assert authorizing and len(authorizing[0]["approvals"]) == 2


def test_deleting_a_ci_referenced_by_an_open_change_is_refused(manager, make_user, make_ci):
    from cmdb.models import ConfigurationItem
    from cmdb.services import CIInUse, delete_ci

    ci = make_ci("srv-del")
    change = services.change_create(actor=manager, short_description="Uses srv-del", configuration_items=[ci])
    cmdb_manager = make_user("cmdbm", roles=["cmdb_manager"])
    with pytest.raises(CIInUse, match=change.number):
        delete_ci(ci, actor=cmdb_manager)
    assert ConfigurationItem.objects.filter(pk=ci.pk).exists()
    services.change_transition(change, to="canceled", actor=manager)
    delete_ci(ci, actor=cmdb_manager)
    assert not ConfigurationItem.objects.filter(pk=ci.pk).exists()


def test_an_update_documents_and_enforces_type_and_template_as_read_only(manager, window, api_client):
    """Issue 26's fuzz finding: the update schema listed type and template as writable, the server refused."""
    client = api_client(manager)
    start, end = window()
    created = client.post(
        "/api/v1/changes/",
        {"short_description": "Patch", "planned_start": start.isoformat(), "planned_end": end.isoformat()},
        format="json",
    ).json()
    update = client.get("/api/v1/schema/?format=json").json()["components"]["schemas"]["ChangeUpdate"]
    assert update["properties"]["type"]["readOnly"] and update["properties"]["template"]["readOnly"]
    response = client.patch(f"/api/v1/changes/{created['number']}/", {"type": "emergency"}, format="json")
    assert response.status_code == 400 and "type" in response.json()
    response = client.patch(f"/api/v1/changes/{created['number']}/", {"type": "normal"}, format="json")
    assert response.status_code == 200  # the stored value sent back, as a client that PUTs what it read
