"""Every write to service requests and fulfillment tasks: ordering, approval follow-ups, task progress.

The request's state is never written directly by a person except for the manual moves (fulfil a request
without tasks, close, cancel): submission, approval stages, task creation and automatic fulfilment follow
from the order, the approvers' decisions (core.approvals.decide → request_approval_decided, registered in requests_app.apps) and the
tasks' own moves. Each write is atomic, goes through core.services (timeline + events) and takes `actor`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core import approvals as core_approvals
from core import events
from core import services as core_services
from core.ticket_services import register_ticket_services

from .choices import ApprovalRule, RequestState, TaskState
from .forms import VariablesForm
from .models import CatalogItem, Request, Task
from .variables import api_data
from .workflow import REQUEST_MANUAL_MOVES


class VariablesInvalid(ValidationError):
    """The answers do not fit the item's form; `message_dict` maps each bad variable to its errors."""


def validate_variables(item: CatalogItem, data: dict[str, Any] | None, *, from_api: bool = True) -> dict:
    """The item's answers, cleaned and JSON-safe, or VariablesInvalid naming each bad variable."""
    data = data or {}
    if not isinstance(data, dict):
        raise VariablesInvalid({"variables": "Give the variables as an object of name: value."})
    variables = list(item.variables.all())
    known = {v.name for v in variables}
    # A web form posts other keys too (the CSRF token); only API answers are checked for unknown names.
    unknown = sorted(set(data) - known) if from_api else []
    errors: dict[str, list[str]] = {
        name: [f"Unknown variable; {item.name} asks for: {', '.join(sorted(known)) or 'nothing'}."]
        for name in unknown
    }
    form = VariablesForm(variables, data=api_data(variables, data) if from_api else data)
    if not form.is_valid():
        for name, messages in form.errors.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise VariablesInvalid(errors)
    return form.stored_values()


def _approvers(item: CatalogItem, beneficiary, stage_rule: str) -> list:
    """Who approves a stage; refuses (before anything is written) when there is nobody to ask."""
    if stage_rule == ApprovalRule.MANAGER:
        manager = beneficiary.manager
        if manager is None or not manager.is_active:
            raise ValidationError(
                {
                    "catalog_item": f"{item.name} needs approval by {beneficiary.username}'s manager, "
                    "and none is set; ask the service desk to record your manager."
                }
            )
        return [manager]
    members = list(item.approval_group.members.filter(is_active=True)) if item.approval_group_id else []
    if not members:
        raise ValidationError(
            {
                "catalog_item": f"{item.name} needs approval by a group that has no members; contact the service desk."
            }
        )
    return members


def _stage_rules(item: CatalogItem) -> list[str]:
    return {
        ApprovalRule.NONE: [],
        ApprovalRule.MANAGER: [ApprovalRule.MANAGER],
        ApprovalRule.GROUP: [ApprovalRule.GROUP],
        ApprovalRule.MANAGER_THEN_GROUP: [ApprovalRule.MANAGER, ApprovalRule.GROUP],
    }[item.approval]


@transaction.atomic
def request_create(
    *,
    actor,
    catalog_item: CatalogItem,
    variables: dict[str, Any] | None = None,
    requested_for=None,
    short_description: str = "",
    description: str = "",
    configuration_items: Iterable = (),
    variables_from_api: bool = True,
    assignment_group=None,
    assigned_to=None,
) -> Request:
    """Order one catalog item: validate the answers, open the request, then ask for approval or start
    fulfilment (an item without approval goes straight to in_fulfillment with its tasks). The item's
    fulfilment group takes it unless an agent names a group (or an assignee) when ordering."""
    if not catalog_item.active:
        raise ValidationError({"catalog_item": f"{catalog_item.name} can no longer be ordered."})
    stored = validate_variables(catalog_item, variables, from_api=variables_from_api)
    beneficiary = requested_for or actor
    rules = _stage_rules(catalog_item)
    first_approvers = _approvers(catalog_item, beneficiary, rules[0]) if rules else []
    request = core_services.create_ticket(
        Request,
        actor=actor,
        fields={
            "short_description": (short_description or catalog_item.name)[:200],
            "description": description,
            "catalog_item": catalog_item,
            "requested_for": requested_for,
            "variables": stored,
            "assignment_group": assignment_group or catalog_item.fulfillment_group,
            "assigned_to": assigned_to,
        },
        configuration_items=configuration_items,
    )
    if rules:
        request = core_services.transition(request, to=RequestState.PENDING_APPROVAL, actor=actor)
        _ask_stage(request, stage=1, rule=rules[0], approvers=first_approvers, actor=actor)
    else:
        request = _start_fulfilment(request, actor=actor, note="No approval needed.")
    return request


def _ask_stage(request: Request, *, stage: int, rule: str, approvers: list, actor) -> None:
    group = request.catalog_item.approval_group if rule == ApprovalRule.GROUP else None
    Request.objects.filter(pk=request.pk).update(approval_stage=stage)
    request.approval_stage = stage
    core_approvals.request_approvals(request, approvers=approvers, stage=stage, group=group, actor=actor)


def _start_fulfilment(request: Request, *, actor, note: str = "") -> Request:
    """Create the item's tasks in order and move the request to in_fulfillment."""
    request = core_services.transition(request, to=RequestState.IN_FULFILLMENT, actor=actor, note=note)
    for template in request.catalog_item.task_templates.select_related("assignment_group").order_by(
        "order", "id"
    ):
        core_services.create_ticket(
            Task,
            actor=actor,
            fields={
                "short_description": template.short_description,
                "description": template.description or request.description,
                "assignment_group": template.assignment_group,
                "request": request,
                "order": template.order,
                "opened_by": request.opened_by,
                "priority": request.priority,
            },
        )
    return request


def request_approval_decided(request: Request, approval, *, actor) -> None:
    """React to one decision (runs inside core.approvals.decide's transaction).

    A rejection rejects the request and withdraws the other pending approvals; the last approval of a
    stage asks the next stage, or approves the request and starts fulfilment.
    """
    request = Request.objects.select_for_update().get(pk=request.pk)
    if request.state != RequestState.PENDING_APPROVAL or approval.stage != request.approval_stage:
        return
    outcome = core_approvals.stage_outcome(request, approval.stage)
    if outcome == "rejected":
        core_approvals.withdraw_pending(request)
        core_services.transition(
            request,
            to=RequestState.REJECTED,
            actor=actor,
            note=approval.comment or f"Rejected by {actor.username}.",
        )
        events.publish("request.rejected", record=request, actor=actor, data={"comment": approval.comment})
        return
    if outcome != "approved":
        return
    rules = _stage_rules(request.catalog_item)
    if approval.stage < len(rules):
        next_stage = approval.stage + 1
        rule = rules[next_stage - 1]
        _ask_stage(
            request,
            stage=next_stage,
            rule=rule,
            approvers=_approvers(request.catalog_item, request.beneficiary, rule),
            actor=actor,
        )
        return
    request = core_services.transition(request, to=RequestState.APPROVED, actor=actor, note=approval.comment)
    _start_fulfilment(request, actor=actor)


def request_transition(
    request: Request,
    *,
    to: str,
    actor,
    fields: dict[str, Any] | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Request:
    """A person's move on a request: fulfil (only when no task is still open), close or cancel.

    Canceling withdraws pending approvals and cancels open tasks, each with its own timeline row.
    """
    if to not in REQUEST_MANUAL_MOVES and to in request.allowed_moves():
        raise ValidationError(
            {
                "to": f"{to!r} follows from approvals and tasks; it cannot be set by hand. "
                f"Allowed by hand here: {sorted(set(request.allowed_moves()) & REQUEST_MANUAL_MOVES)}."
            }
        )

    def cancel_the_rest(moved: Request) -> None:
        core_approvals.withdraw_pending(moved)
        for task in moved.tasks.exclude(state__in=[TaskState.DONE, TaskState.CANCELED]).order_by(
            "order", "id"
        ):
            core_services.transition(
                task, to=TaskState.CANCELED, actor=actor, note=f"Request {moved.number} was canceled."
            )

    return core_services.transition(
        request,
        to=to,
        actor=actor,
        fields=fields,
        note=note,
        expected_version=expected_version,
        after_apply=cancel_the_rest if to == RequestState.CANCELED else None,
    )


def task_transition(
    task: Task,
    *,
    to: str,
    actor,
    fields: dict[str, Any] | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Task:
    """Move a task (the workflow stamps closed_at); when the last open task of a request is done, the
    request becomes fulfilled."""

    def fulfil_when_done(moved: Task) -> None:
        _maybe_fulfil(moved.request_id, actor=actor)

    return core_services.transition(
        task,
        to=to,
        actor=actor,
        fields=fields,
        note=note,
        expected_version=expected_version,
        after_apply=fulfil_when_done if to in (TaskState.DONE, TaskState.CANCELED) else None,
    )


def _maybe_fulfil(request_id: int, *, actor) -> None:
    request = Request.objects.select_for_update().get(pk=request_id)
    if request.state != RequestState.IN_FULFILLMENT:
        return
    states = set(request.tasks.values_list("state", flat=True))
    if states and states <= {TaskState.DONE, TaskState.CANCELED} and TaskState.DONE in states:
        core_services.transition(
            request, to=RequestState.FULFILLED, actor=actor, note="Every fulfillment task is done."
        )


def request_update(
    request: Request, *, actor, changes: dict, expected_version=None, configuration_items=None
):
    return core_services.update_ticket(
        request,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        configuration_items=configuration_items,
    )


register_ticket_services(Request, create=request_create, update=request_update, transition=request_transition)
register_ticket_services(Task, transition=task_transition)
