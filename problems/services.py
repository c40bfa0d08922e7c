"""Every write to a problem. Views, the API and the incident list's bulk action all call these."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.roles import AGENT
from core import services as core_services
from core.choices import ActivityKind
from core.ticket_services import register_ticket_services
from core.workflow import move_flag
from incidents.services import incident_transition
from incidents.workflow import INCIDENT_WORKFLOW
from knowledge import services as kb_services

from .choices import ProblemState as S
from .models import Problem


def _require_agent(actor) -> None:
    core_services.require_role(actor, AGENT, message="Only agents work problems.")


def problem_create(
    *,
    actor,
    short_description: str,
    description: str = "",
    priority: int = 4,
    assignment_group=None,
    assigned_to=None,
    root_cause: str = "",
    workaround: str = "",
    known_error: bool = False,
    configuration_items: Iterable = (),
    incidents: Iterable = (),
) -> Problem:
    """Open a problem; `incidents` are linked in the same transaction (one timeline row each side)."""
    _require_agent(actor)
    with transaction.atomic():
        problem = core_services.create_ticket(
            Problem,
            actor=actor,
            fields={
                "short_description": short_description,
                "description": description,
                "priority": priority,
                "assignment_group": assignment_group,
                "assigned_to": assigned_to,
                "root_cause": root_cause,
                "workaround": workaround,
                "known_error": known_error,
            },
            configuration_items=configuration_items,
        )
        incidents = list(incidents)
        if incidents:
            link_incidents(problem, incidents, actor=actor)
    return problem


def problem_update(
    problem: Problem,
    *,
    actor,
    changes: dict[str, Any],
    expected_version: int | None = None,
    configuration_items: Iterable | None = None,
) -> Problem:
    """Edit fields; marking a known error requires a workaround to be known (now or already)."""
    _require_agent(actor)
    if changes.get("known_error"):
        workaround = changes.get("workaround", problem.workaround)
        if not (workaround or "").strip():
            raise ValidationError({"workaround": "A known error needs a workaround; describe it first."})
    return core_services.update_ticket(
        problem,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        configuration_items=configuration_items,
    )


def problem_transition(
    problem: Problem,
    *,
    to: str,
    actor,
    fields: dict[str, Any] | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Problem:
    """Move a problem (the workflow checks the root cause and stamps resolved_at/closed_at). Resolving
    with `resolve_incidents: true` resolves every linked open incident through incidents.services (each
    gets its own timeline row and SLA stop)."""
    _require_agent(actor)
    fields = dict(fields or {})
    resolve_incidents = move_flag(fields.pop("resolve_incidents", False))
    follow_up = None
    if to == S.RESOLVED and resolve_incidents:

        def follow_up(moved: Problem) -> None:
            resolve_linked_incidents(moved, actor=actor)

    return core_services.transition(
        problem,
        to=to,
        actor=actor,
        fields=fields,
        note=note,
        expected_version=expected_version,
        after_apply=follow_up,
    )


def resolve_linked_incidents(problem: Problem, *, actor) -> list:
    """Resolve the problem's open incidents with code `solved` (or `workaround` for a known error whose
    fix is the workaround) and a note naming the problem."""
    resolved = []
    code = "solved"
    notes = f"Resolved with problem {problem.number}. Root cause: {problem.root_cause}".strip()
    for incident in problem.incidents.filter(state__in=INCIDENT_WORKFLOW.open_states).order_by("pk"):
        resolved.append(
            incident_transition(
                incident,
                to="resolved",
                actor=actor,
                fields={"resolution_code": code, "resolution_notes": notes},
                note=f"Resolved because problem {problem.number} was resolved.",
            )
        )
    return resolved


@transaction.atomic
def link_incidents(problem: Problem, incidents: Iterable, *, actor) -> list:
    """Link incidents to the problem (bulk-safe): each incident's `problem` is set through the incident
    update service (its own timeline row), and the problem gets one LINK row naming them all.

    Refused for a closed or canceled problem; incidents already linked to it are skipped.
    """
    _require_agent(actor)
    problem = Problem.objects.get(pk=problem.pk)
    if problem.state in (S.CLOSED, S.CANCELED):
        raise ValidationError(
            {"incidents": f"{problem.number} is {problem.state}; incidents cannot be linked to it."}
        )
    linked = []
    for incident in incidents:
        if incident.problem_id == problem.pk:
            continue
        core_services.update_ticket(incident, actor=actor, changes={"problem": problem})
        linked.append(incident)
    _record_links(problem, linked, action="linked", actor=actor)
    return linked


@transaction.atomic
def unlink_incidents(problem: Problem, incidents: Iterable, *, actor) -> list:
    """Detach incidents from the problem; the counterpart of link_incidents."""
    _require_agent(actor)
    unlinked = []
    for incident in incidents:
        if incident.problem_id != problem.pk:
            continue
        core_services.update_ticket(incident, actor=actor, changes={"problem": None})
        unlinked.append(incident)
    _record_links(problem, unlinked, action="unlinked", actor=actor)
    return unlinked


def _record_links(problem: Problem, incidents: list, *, action: str, actor) -> None:
    """One LINK row on the problem's timeline naming every incident (un)linked at once; none for none."""
    if not incidents:
        return
    numbers = [i.number for i in incidents]
    core_services.record_activity(
        problem,
        kind=ActivityKind.LINK,
        actor=actor,
        body=f"{action.capitalize()} incidents " + ", ".join(numbers),
        data={"kind": "incident", "action": action, "numbers": numbers},
    )


@transaction.atomic
def publish_known_error(problem: Problem, *, actor):
    """Publish the problem's workaround as a knowledge article in one action and answer with it.

    Only for a known error with a workaround; an already published one is refused (edit the article
    instead). The article names the problem as its source record; the problem keeps its number.
    """
    _require_agent(actor)
    problem = core_services.lock(problem)
    if not problem.known_error:
        raise ValidationError({"known_error": "Only a known error can be published; mark it as one first."})
    if not problem.workaround.strip():
        raise ValidationError({"workaround": "The known error has no workaround to publish."})
    if problem.known_error_article:
        raise ValidationError(
            {"known_error_article": f"Already published as {problem.known_error_article}; edit that article."}
        )
    body = f"## Symptoms\n\n{problem.description or problem.short_description}\n\n"
    if problem.root_cause.strip():
        body += f"## Cause\n\n{problem.root_cause}\n\n"
    body += f"## Workaround\n\n{problem.workaround}\n"
    article = kb_services.article_create(
        actor=actor,
        title=f"Known error: {problem.short_description}"[:200],
        body=body,
        source_record=problem,
    )
    article = kb_services.article_publish_now(article, actor=actor)
    problem.known_error_article = article.number
    problem.version += 1
    problem.save(update_fields=["known_error_article", "version", "updated_at"])
    core_services.record_activity(
        problem,
        kind=ActivityKind.LINK,
        actor=actor,
        body=f"Workaround published as knowledge article {article.number}",
        data={"kind": "article", "action": "published", "number": article.number},
    )
    return article


register_ticket_services(Problem, create=problem_create, update=problem_update, transition=problem_transition)
