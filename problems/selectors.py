"""Permission-scoped reads of problems, and the known-error list shown on incidents."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from core import selectors as core_selectors

from .choices import ProblemState as S
from .models import Problem


def visible_problems(user) -> QuerySet:
    return core_selectors.visible_tickets(Problem, user)


def open_known_errors(queryset: QuerySet) -> QuerySet:
    """The known errors still being worked (the list's "Known errors" view)."""
    return queryset.filter(known_error=True, state__in=Problem.workflow.open_states)


def known_errors_for_cis(ci_ids: Iterable[int], *, user=None) -> QuerySet:
    """Open known errors (not closed or canceled) on any of `ci_ids`, newest first.

    The incident page includes `problems/known_errors.html` with this list, so an agent opening an
    incident on an affected CI sees the workaround at once. A subquery on the link table keeps it to one
    query without duplicate rows.
    """
    ids = [int(pk) for pk in ci_ids if pk is not None]
    base = visible_problems(user) if user is not None else Problem.objects.all()
    if not ids:
        return base.none()
    through = Problem.configuration_items.through
    problem_ids = through.objects.filter(configurationitem_id__in=ids).values("problem_id")
    return (
        base.filter(pk__in=problem_ids, known_error=True)
        .exclude(state__in=[S.CLOSED, S.CANCELED])
        .order_by("-opened_at", "-id")
    )
