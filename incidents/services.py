"""Every write to an incident. Views, the API, Celery and imports all call these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import services as core_services
from core.ticket_services import register_ticket_services

from . import selectors
from .choices import IncidentState as S
from .models import Incident


def _check_parent(incident: Incident | None, parent: Incident | None) -> None:
    if parent is None:
        return
    if incident is not None and (parent.pk == incident.pk or parent.parent_id == incident.pk):
        raise ValidationError({"parent": "An incident cannot be its own parent or its child's child."})
    if parent.parent_id:
        raise ValidationError(
            {"parent": f"{parent.number} is itself a child; pick its parent {parent.parent.number}."}
        )


def incident_create(
    *,
    actor,
    short_description: str,
    description: str = "",
    impact: int = 3,
    urgency: int = 3,
    caller=None,
    category=None,
    assignment_group=None,
    assigned_to=None,
    parent: Incident | None = None,
    problem=None,
    major: bool = False,
    configuration_items: Iterable = (),
    opened_at=None,
) -> Incident:
    """Open an incident; the caller defaults to the actor (a requester reporting their own issue)."""
    _check_parent(None, parent)
    fields: dict[str, Any] = {
        "short_description": short_description,
        "description": description,
        "impact": impact,
        "urgency": urgency,
        "caller": caller or actor,
        "category": category,
        "assignment_group": assignment_group,
        "assigned_to": assigned_to,
        "parent": parent,
        "problem": problem,
        "major": major,
    }
    if opened_at is not None:
        fields["opened_at"] = opened_at
    return core_services.create_ticket(
        Incident, actor=actor, fields=fields, configuration_items=configuration_items
    )


def incident_update(
    incident: Incident,
    *,
    actor,
    changes: dict[str, Any],
    expected_version: int | None = None,
    configuration_items: Iterable | None = None,
) -> Incident:
    """Edit fields (priority follows impact and urgency); If-Match via `expected_version`."""
    if "parent" in changes:
        _check_parent(incident, changes["parent"])
    return core_services.update_ticket(
        incident,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        configuration_items=configuration_items,
    )


def incident_transition(
    incident: Incident,
    *,
    to: str,
    actor,
    fields: dict[str, Any] | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Incident:
    """Move an incident (the workflow stamps resolved_at/closed_at and clears the resolution on
    reopen); resolving a parent resolves its open children, in the same transaction (each child gets its
    own timeline row)."""

    def resolve_children(parent: Incident) -> None:
        if not parent.lock_facts.get("has_open_children", True):
            return
        for child in selectors.open_children(parent):
            incident_transition(
                child,
                to=S.RESOLVED,
                actor=actor,
                fields={
                    "resolution_code": parent.resolution_code,
                    "resolution_notes": f"Resolved with parent {parent.number}: {parent.resolution_notes}",
                },
                note=f"Resolved because parent incident {parent.number} was resolved.",
            )

    return core_services.transition(
        incident,
        to=to,
        actor=actor,
        fields=fields,
        note=note,
        expected_version=expected_version,
        after_apply=resolve_children if to == S.RESOLVED else None,
    )


def incident_comment(incident: Incident, *, actor, body: str, public: bool = True):
    return core_services.add_comment(incident, actor=actor, body=body, public=public)


def close_resolved_incidents(*, now=None) -> int:
    """Close incidents resolved more than INCIDENT_AUTO_CLOSE_DAYS ago (run by Celery beat)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
    closed = 0
    for pk in list(selectors.resolved_before(cutoff)[:1000]):
        with transaction.atomic():
            incident = (
                Incident.objects.select_for_update(skip_locked=True).filter(pk=pk, state=S.RESOLVED).first()
            )
            if incident is None:
                continue
            incident_transition(
                incident,
                to=S.CLOSED,
                actor=None,
                note=f"Closed automatically {settings.INCIDENT_AUTO_CLOSE_DAYS} days after resolution.",
            )
            closed += 1
    return closed


register_ticket_services(
    Incident, create=incident_create, update=incident_update, transition=incident_transition
)
