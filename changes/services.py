"""Every write to a change, a change template or a blackout window.

The type rules and the guards of each move live in changes.workflow (standard changes skip assess and
authorize; normal changes go new → assess → authorize; emergency changes may go new → authorize directly
and are authorized by the first CAB approval). Authorization asks every CAB approver through
core.approvals (one round = one approval stage), and the decision comes back through the handler this app
registers with core.approvals (changes.apps) → approval_decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.roles import AGENT, CAB_MEMBER, CHANGE_MANAGER, has_role
from core import approvals as core_approvals
from core import services as core_services
from core.choices import ActivityKind
from core.ticket_services import register_ticket_services
from core.workflow import move_flag

from . import risk as risk_questionnaire
from . import selectors
from .choices import ChangeState as S
from .choices import ChangeType
from .conflicts import detect_conflicts
from .models import BlackoutWindow, Change, ChangeTemplate
from .workflow import authorization_outcome

PLAN_FIELDS = ("short_description", "description", "implementation_plan", "backout_plan", "test_plan")


def _require_writer(actor) -> None:
    core_services.require_role(
        actor, CHANGE_MANAGER, AGENT, message="Only change managers and agents raise and move changes."
    )


def _require_manager(actor) -> None:
    core_services.require_role(
        actor, CHANGE_MANAGER, message="Only change managers manage blackout windows and templates."
    )


def _check_window(start, end) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationError({"planned_end": "The planned end must be after the planned start."})


def _check_risk(answers, override, reason) -> dict:
    answers = risk_questionnaire.validate_answers(answers)
    if override and not (reason or "").strip():
        raise ValidationError({"risk_override_reason": "Give a reason for overriding the assessed risk."})
    return answers


def _check_approvers(approvers: list) -> None:
    not_cab = sorted(u.username for u in approvers if not has_role(u, CAB_MEMBER))
    if not_cab:
        raise ValidationError({"cab_approvers": f"Not CAB members: {', '.join(not_cab)}."})


@transaction.atomic
def change_create(
    *,
    actor,
    short_description: str = "",
    type: str = ChangeType.NORMAL,
    template: ChangeTemplate | None = None,
    description: str = "",
    priority: int = 4,
    assignment_group=None,
    assigned_to=None,
    planned_start=None,
    planned_end=None,
    implementation_plan: str = "",
    backout_plan: str = "",
    test_plan: str = "",
    risk_answers: dict | None = None,
    risk_override: str = "",
    risk_override_reason: str = "",
    cab_approvers: Iterable = (),
    problem=None,
    configuration_items: Iterable = (),
) -> Change:
    """Raise a change. With `template` it is a standard change whose empty plan fields come from the
    template; a standard change without a template is refused (only templates are pre-approved)."""
    _require_writer(actor)
    if template is not None:
        if not template.active:
            raise ValidationError({"template": f"Template {template.name!r} is retired."})
        type = ChangeType.STANDARD
    elif type == ChangeType.STANDARD:
        raise ValidationError({"template": "A standard change must be created from a pre-approved template."})
    fields: dict[str, Any] = {
        "short_description": short_description,
        "description": description,
        "implementation_plan": implementation_plan,
        "backout_plan": backout_plan,
        "test_plan": test_plan,
    }
    if template is not None:
        for name in PLAN_FIELDS:
            if not (fields[name] or "").strip():
                fields[name] = getattr(template, name)
        if not risk_override and not risk_answers:
            risk_override, risk_override_reason = template.risk, f"Pre-assessed by template {template.name}"
        assignment_group = assignment_group or template.assignment_group
    if not (fields["short_description"] or "").strip():
        raise ValidationError({"short_description": "This field is required."})
    _check_window(planned_start, planned_end)
    answers = _check_risk(risk_answers, risk_override, risk_override_reason)
    approvers = list(cab_approvers)
    _check_approvers(approvers)
    fields.update(
        type=type,
        template=template,
        priority=priority,
        assignment_group=assignment_group,
        assigned_to=assigned_to,
        planned_start=planned_start,
        planned_end=planned_end,
        risk_answers=answers,
        risk_override=risk_override or "",
        risk_override_reason=risk_override_reason or "",
        problem=problem,
    )
    change = core_services.create_ticket(
        Change, actor=actor, fields=fields, configuration_items=configuration_items
    )
    if approvers:
        change.cab_approvers.set(approvers)
    if problem is not None:
        core_services.record_activity(
            problem,
            kind=ActivityKind.LINK,
            actor=actor,
            body=f"Change {change.number} raised for this problem",
            data={"kind": "change", "action": "linked", "number": change.number},
        )
    return change


@transaction.atomic
def change_update(
    change: Change,
    *,
    actor,
    changes: dict[str, Any],
    expected_version: int | None = None,
    configuration_items: Iterable | None = None,
    cab_approvers: Iterable | None = None,
) -> Change:
    """Edit a change's fields, window, risk answers, CIs and CAB approvers (not while authorization is
    under way: send it back to new first, so every approver decides on the same plan)."""
    _require_writer(actor)
    changes = dict(changes)
    if "cab_approvers" in changes:  # the web form sends them with the other fields
        cab_approvers = changes.pop("cab_approvers")
    start = changes.get("planned_start", change.planned_start)
    end = changes.get("planned_end", change.planned_end)
    _check_window(start, end)
    if {"risk_answers", "risk_override", "risk_override_reason"} & set(changes):
        changes["risk_answers"] = _check_risk(
            changes.get("risk_answers", change.risk_answers),
            changes.get("risk_override", change.risk_override),
            changes.get("risk_override_reason", change.risk_override_reason),
        )
    if changes.get("risk_override") == "":
        changes.setdefault("risk_override_reason", "")
    change = core_services.update_ticket(
        change,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        configuration_items=configuration_items,
    )
    if cab_approvers is not None:
        approvers = list(cab_approvers)
        current = set(selectors.cab_approvers(change).values_list("username", flat=True))
        wanted = {u.username for u in approvers}
        if current != wanted:
            if change.state == S.AUTHORIZE:
                raise ValidationError(
                    {
                        "cab_approvers": "Authorization is under way; send the change back to new to change its approvers."
                    }
                )
            _check_approvers(approvers)
            change.cab_approvers.set(approvers)
            core_services.record_activity(
                change,
                kind=ActivityKind.FIELD_CHANGE,
                actor=actor,
                public=False,
                data={
                    "changes": [
                        {
                            "field": "cab_approvers",
                            "old": ", ".join(sorted(current)),
                            "new": ", ".join(sorted(wanted)),
                        }
                    ]
                },
            )
    return change


def change_transition(
    change: Change,
    *,
    to: str,
    actor,
    fields: dict[str, Any] | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Change:
    """Move a change, applying the type rules, the authorization round and the conflict check.

    - to `authorize`: needs CAB approvers and a planned window; asks every approver (a new round).
    - to `scheduled`: needs a planned window, a finished authorization (unless standard), and, when
      conflicts exist, `override_conflicts: true` with an `override_reason` (change managers only);
      the override and the conflicts are recorded on the timeline.
    - back to `new` or to `canceled`: pending approvals are withdrawn.
    """
    _require_writer(actor)
    fields = dict(fields or {})
    override = move_flag(fields.pop("override_conflicts", False))
    override_reason = (fields.pop("override_reason", "") or "").strip()
    if to == S.CLOSED:
        _drop_blank_close_fields(fields)
    conflicts: list = []

    def check_conflicts(locked: Change) -> None:
        """Closing needs a close code (here or from review); scheduling over conflicts needs a change
        manager's recorded override."""
        if to == S.CLOSED:
            _check_close_fields(locked, fields)
        if to != S.SCHEDULED:
            return
        conflicts.extend(detect_conflicts(locked))
        if not conflicts:
            return
        if not override:
            raise ValidationError(
                {
                    "override_conflicts": f"{len(conflicts)} conflict(s): "
                    + " ".join(c["reason"] for c in conflicts[:5])
                    + " Schedule with override_conflicts: true and an override_reason to proceed."
                }
            )
        if not has_role(actor, CHANGE_MANAGER):
            raise ValidationError({"override_conflicts": "Only change managers may override conflicts."})
        if not override_reason:
            raise ValidationError({"override_reason": "Say why the conflicts are acceptable."})

    def follow_up(moved: Change) -> None:
        _after_move(moved, previous=moved.state_before_transition, to=to, actor=actor)
        if conflicts:
            core_services.record_activity(
                moved,
                kind=ActivityKind.SYSTEM,
                actor=actor,
                body=f"Scheduled despite {len(conflicts)} conflict(s): {override_reason}",
                data={"override_conflicts": True, "reason": override_reason, "conflicts": conflicts},
            )

    return core_services.transition(
        change,
        to=to,
        actor=actor,
        fields=fields,
        note=note,
        expected_version=expected_version,
        before_apply=check_conflicts,
        after_apply=follow_up,
    )


def _drop_blank_close_fields(fields: dict[str, Any]) -> None:
    """A blank `close_code` / `close_notes` on the move to `closed` is ignored (a form that shows the field
    empty must not erase what `review` set). Dropped before the move reaches core.services.transition,
    which applies its own copy of the fields, so the before_apply check cannot drop them. In place."""
    for name in ("close_code", "close_notes"):
        if fields.get(name) in (None, ""):
            fields.pop(name, None)


def _check_close_fields(change: Change, fields: dict[str, Any]) -> None:
    """The move to `closed` takes `close_code` / `close_notes` when the move to `review` did not set them
    (ServiceNow and most integrators set the close code when closing); a close code is needed by then.
    A value `review` set stays: the same value again is accepted, a different one refused (blank ones were
    dropped by _drop_blank_close_fields). Run on the locked change, from change_transition's before_apply."""
    for name in ("close_code", "close_notes"):
        given = fields.get(name)
        current = getattr(change, name)
        if given not in (None, "") and current and given != current:
            raise ValidationError({name: f"Already set to {current!r} by the move to review."})
    if not change.close_code and not fields.get("close_code"):
        raise ValidationError(
            {"close_code": "Required to move to 'closed' when the move to review did not set it."}
        )


def _after_move(change: Change, *, previous: str, to: str, actor) -> None:
    """Follow-ups of a move: approval rounds, withdrawals and the implemented/closed stamps."""
    if to == S.AUTHORIZE:
        change.approval_round += 1
        Change.objects.filter(pk=change.pk).update(approval_round=change.approval_round)
        core_approvals.request_approvals(
            change,
            approvers=list(selectors.cab_approvers(change)),
            stage=change.approval_round,
            actor=actor,
        )
    elif to in (S.NEW, S.CANCELED) and previous == S.AUTHORIZE:
        core_approvals.withdraw_pending(change, stage=change.approval_round)


def approval_decided(change: Change, approval, *, actor) -> None:
    """A CAB decision landed (core.approvals.decide already wrote it, with its comment, on the timeline).

    A rejection sends the change back to `new` (pending approvals withdrawn). The approval that completes
    the round schedules the change when it has no conflicts; otherwise it waits in `authorize` with a
    timeline row listing the conflicts until a change manager schedules it with an override.
    """
    if change.state != S.AUTHORIZE or approval.stage != change.approval_round:
        return
    outcome = authorization_outcome(change)
    if outcome == "rejected":
        comment = f": {approval.comment}" if approval.comment else ""
        core_services.transition(
            change, to=S.NEW, actor=actor, note=f"Authorization rejected by {actor.username}{comment}"
        )
        core_approvals.withdraw_pending(change, stage=approval.stage)
        return
    if outcome != "approved":
        return
    core_approvals.withdraw_pending(change, stage=approval.stage)  # emergency: the others are not needed
    conflicts = detect_conflicts(change)
    if conflicts:
        core_services.record_activity(
            change,
            kind=ActivityKind.SYSTEM,
            actor=None,
            body=f"Authorized, but {len(conflicts)} conflict(s) stop automatic scheduling: "
            + " ".join(c["reason"] for c in conflicts[:5])
            + " A change manager must schedule it with an override.",
            data={"conflicts": conflicts},
        )
        return
    core_services.transition(
        change,
        to=S.SCHEDULED,
        actor=actor,
        note="Authorized by the CAB; scheduled automatically (no conflicts).",
    )


# --- blackout windows and templates (change managers) -------------------------------------------------
@transaction.atomic
def blackout_create(*, actor, name: str, start, end, reason: str = "", configuration_items: Iterable = ()):
    _require_manager(actor)
    if start is not None and end is not None and end <= start:
        raise ValidationError({"end": "The end must be after the start."})
    window = BlackoutWindow(name=name, start=start, end=end, reason=reason, created_by=actor)
    window.full_clean()
    window.save()
    window.configuration_items.set(list(configuration_items))
    return window


@transaction.atomic
def blackout_update(window: BlackoutWindow, *, actor, changes: dict[str, Any], configuration_items=None):
    _require_manager(actor)
    for name, value in changes.items():
        if name not in ("name", "start", "end", "reason"):
            raise ValidationError({name: "This field cannot be changed here."})
        setattr(window, name, value)
    if window.end <= window.start:
        raise ValidationError({"end": "The end must be after the start."})
    window.full_clean()
    window.save()
    if configuration_items is not None:
        window.configuration_items.set(list(configuration_items))
    return window


@transaction.atomic
def blackout_delete(window: BlackoutWindow, *, actor) -> None:
    _require_manager(actor)
    window.delete()


@transaction.atomic
def template_save(*, actor, template: ChangeTemplate | None = None, data: dict[str, Any]) -> ChangeTemplate:
    """Create or edit a pre-approved standard change template."""
    _require_manager(actor)
    template = template or ChangeTemplate()
    for name, value in data.items():
        setattr(template, name, value)
    template.full_clean()
    template.save()
    return template


register_ticket_services(Change, create=change_create, update=change_update, transition=change_transition)
