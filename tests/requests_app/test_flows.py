"""Ordering, approval stages and fulfilment through the services (the API tests cover the HTTP shape)."""

import pytest
from django.core.exceptions import ValidationError

from core import approvals
from core.approvals import Approval
from core.models import Activity
from requests_app import services
from requests_app.models import Request, Task

from .conftest import GOOD_LAPTOP


def order(item, user, **variables):
    return services.request_create(actor=user, catalog_item=item, variables=variables)


def pending(user):
    return list(approvals.pending_for(user))


def finish_tasks(request, agent):
    for task in request.tasks.order_by("order"):
        services.task_transition(task, to="in_progress", actor=agent)
        services.task_transition(task, to="done", actor=agent)


@pytest.mark.django_db
def test_item_without_approval_goes_straight_to_fulfilment(vpn, requester, agent):
    request = order(vpn, requester)
    assert request.number.startswith("REQ") and request.state == "in_fulfillment"
    assert [t.short_description for t in request.tasks.all()] == ["Grant VPN"]
    assert request.tasks.get().number.startswith("TASK")
    finish_tasks(request, agent)
    request.refresh_from_db()
    assert request.state == "fulfilled" and request.fulfilled_at is not None


@pytest.mark.django_db
def test_manager_approval_creates_tasks_in_order_then_fulfils(laptop, requester, manager, agent):
    request = order(laptop, requester, **GOOD_LAPTOP)
    assert request.state == "pending_approval" and not request.tasks.exists()
    assert request.variables == {
        **GOOD_LAPTOP,
        "screens": None,
        "colleague": None,
        "server": None,
        "extras": [],
        "urgent": False,
    }
    [approval] = pending(manager)
    approvals.decide(approval, actor=manager, approve=True, comment="Fine")
    request.refresh_from_db()
    assert request.state == "in_fulfillment" and request.approved_at is not None
    tasks = list(request.tasks.order_by("number"))
    assert [t.short_description for t in tasks] == ["Prepare laptop", "Hand over"]
    services.task_transition(tasks[0], to="done", actor=agent)
    request.refresh_from_db()
    assert request.state == "in_fulfillment"
    services.task_transition(tasks[1], to="done", actor=agent)
    request.refresh_from_db()
    assert request.state == "fulfilled"
    moves = list(
        Activity.objects.filter(
            object_id=request.pk, kind="state_change", content_type__model="request"
        ).values_list("data__to", flat=True)
    )
    assert moves == ["pending_approval", "approved", "in_fulfillment", "fulfilled"]


@pytest.mark.django_db
def test_rejection_rejects_and_withdraws(group_item, requester, approvers):
    request = order(group_item, requester)
    first, second = approvers.members.order_by("username")
    approvals.decide(pending(first)[0], actor=first, approve=False, comment="No budget")
    request.refresh_from_db()
    assert request.state == "rejected" and not request.tasks.exists()
    assert pending(second) == []
    assert Activity.objects.filter(object_id=request.pk, kind="state_change", body="No budget").exists()


@pytest.mark.django_db
def test_group_approval_first_member_decides(group_item, requester, approvers):
    request = order(group_item, requester)
    first, second = approvers.members.order_by("username")
    assert len(pending(first)) == 1 and len(pending(second)) == 1
    approvals.decide(pending(second)[0], actor=second, approve=True)
    request.refresh_from_db()
    assert request.state == "in_fulfillment"
    assert pending(first) == []
    assert Approval.objects.get(approver=first).state == "canceled"


@pytest.mark.django_db
def test_manager_then_group_asks_the_group_only_after_the_manager(
    two_stage_item, requester, manager, approvers
):
    request = order(two_stage_item, requester)
    first = approvers.members.order_by("username").first()
    assert pending(first) == []
    approvals.decide(pending(manager)[0], actor=manager, approve=True)
    request.refresh_from_db()
    assert request.state == "pending_approval" and request.approval_stage == 2
    [group_approval] = pending(first)
    assert group_approval.stage == 2
    approvals.decide(group_approval, actor=first, approve=True)
    request.refresh_from_db()
    assert request.state == "in_fulfillment" and request.tasks.count() == 1


@pytest.mark.django_db
def test_approving_twice_or_as_someone_else_is_refused_and_changes_nothing(laptop, requester, manager):
    request = order(laptop, requester, **GOOD_LAPTOP)
    [approval] = pending(manager)
    with pytest.raises(ValidationError) as error:
        approvals.decide(approval, actor=requester, approve=True)
    assert "approver" in error.value.message_dict
    approval.refresh_from_db()
    request.refresh_from_db()
    assert approval.state == "pending" and request.state == "pending_approval"

    approvals.decide(approval, actor=manager, approve=True)
    with pytest.raises(ValidationError) as error:
        approvals.decide(approval, actor=manager, approve=False)
    assert "already approved" in error.value.message_dict["state"][0]
    request.refresh_from_db()
    assert request.state == "in_fulfillment" and request.tasks.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("variables", "bad"),
    [
        ({"model": "Developer", "needed_by": "2027-01-15"}, {"justification": "required"}),
        ({**GOOD_LAPTOP, "model": "Gaming rig"}, {"model": "not one of the available choices"}),
        ({**GOOD_LAPTOP, "needed_by": "15/01/2027"}, {"needed_by": "YYYY-MM-DD"}),
        ({**GOOD_LAPTOP, "screens": "two"}, {"screens": "Enter a number"}),
        ({**GOOD_LAPTOP, "colleague": "nobody"}, {"colleague": "Unknown user"}),
        ({**GOOD_LAPTOP, "server": 999999}, {"server": "Unknown configuration item"}),
        ({**GOOD_LAPTOP, "extras": ["Bag", "Jetpack"]}, {"extras": "not one of the available choices"}),
        ({**GOOD_LAPTOP, "colour": "red"}, {"colour": "Unknown variable"}),
    ],
)
def test_bad_variables_name_each_field_and_create_nothing(laptop, requester, variables, bad):
    with pytest.raises(services.VariablesInvalid) as error:
        order(laptop, requester, **variables)
    messages = error.value.message_dict
    assert set(messages) == set(bad)
    for name, text in bad.items():
        assert text in " ".join(messages[name])
    assert not Request.objects.exists() and not Approval.objects.exists()


@pytest.mark.django_db
def test_manager_approval_without_a_manager_is_refused(laptop, make_user):
    loner = make_user("loner")
    with pytest.raises(ValidationError) as error:
        order(laptop, loner, **GOOD_LAPTOP)
    assert "manager" in error.value.message_dict["catalog_item"][0]
    assert not Request.objects.exists()


@pytest.mark.django_db
def test_cancel_withdraws_approvals_and_tasks_and_illegal_hand_moves(vpn, laptop, requester, manager, agent):
    waiting = order(laptop, requester, **GOOD_LAPTOP)
    with pytest.raises(ValidationError) as error:
        services.request_transition(waiting, to="approved", actor=agent)
    assert "cannot be set by hand" in error.value.message_dict["to"][0]
    services.request_transition(waiting, to="canceled", actor=requester)
    assert pending(manager) == []

    working = order(vpn, requester)
    with pytest.raises(ValidationError):
        services.request_transition(working, to="fulfilled", actor=agent)
    services.request_transition(working, to="canceled", actor=agent)
    assert set(Task.objects.filter(request=working).values_list("state", flat=True)) == {"canceled"}
