"""Permission-scoped reads of incidents (on top of core.selectors), and the lists the incident pages show.

Reads for a user start from `visible_incidents`, so an incident the user may not see is absent from every
list and page. The reads without a user (`open_children`, `resolved_before`) serve the services and the
Celery tasks, which act on every record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, QuerySet, Subquery

from cmdb import selectors as cmdb_selectors
from cmdb.models import ConfigurationItem
from core import selectors as core_selectors
from sla import selectors as sla_selectors
from sla.models import Timer, TimerState

from .choices import IncidentState as S
from .models import Category, Incident, IncidentUpstream
from .workflow import INCIDENT_WORKFLOW

OPEN_STATES = INCIDENT_WORKFLOW.open_states


def visible_incidents(user) -> QuerySet:
    return core_selectors.visible_tickets(Incident, user)


def by_numbers(user, numbers: Iterable[str]) -> tuple[list[Incident], list[str]]:
    """The incidents the user may see among `numbers`, in the order given, and the numbers that are
    missing (unknown or not visible: the two are not told apart)."""
    numbers = list(numbers)
    found = {i.number: i for i in visible_incidents(user).filter(number__in=numbers)}
    return [found[n] for n in numbers if n in found], [n for n in numbers if n not in found]


def linked_to_problem(problem, user) -> QuerySet:
    """The problem's incidents the user may see, by number."""
    return visible_incidents(user).filter(problem=problem).select_related("assigned_to").order_by("number")


def children(incident: Incident, user) -> QuerySet:
    """The incident's children (the members of its major incident) the user may see, by number."""
    return visible_incidents(user).filter(parent=incident).select_related("assigned_to").order_by("number")


def open_children(incident: Incident) -> QuerySet:
    """Every open child, for the service that resolves them with their parent."""
    return incident.children.filter(state__in=OPEN_STATES).order_by("pk")


def resolved_before(cutoff: datetime) -> QuerySet:
    """Ids of incidents resolved at or before `cutoff`: the auto-close task's work."""
    return Incident.objects.filter(state=S.RESOLVED, resolved_at__lte=cutoff).values_list("pk", flat=True)


def active_categories() -> list[tuple[str, str]]:
    """(name, label) of the categories offered in the list's filter bar."""
    return list(Category.objects.filter(active=True).values_list("name", "label"))


# --- the list's saved views: each narrows the visible queryset ------------------------------------------
def breaching_soon(queryset: QuerySet) -> QuerySet:
    """Open incidents with a running SLA timer due within sla.selectors.BREACHING_SOON (overdue ones
    included), with the earliest due time annotated as `sla_due` so the list can sort on it."""
    due = (
        Timer.objects.filter(
            content_type=ContentType.objects.get_for_model(Incident),
            object_id=OuterRef("pk"),
            state=TimerState.RUNNING,
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )
    soon = sla_selectors.breaching_soon(queryset.filter(state__in=OPEN_STATES))
    return soon.annotate(sla_due=Subquery(due))


def at_risk(queryset: QuerySet) -> QuerySet:
    """Open incidents predicted to breach a running SLA before they are resolved."""
    return sla_selectors.at_risk(queryset.filter(state__in=OPEN_STATES))


def open_major(queryset: QuerySet) -> QuerySet:
    return queryset.filter(major=True, state__in=OPEN_STATES)


# --- the detail page ---------------------------------------------------------------------------------------
def ci_impacts(incident: Incident, user, *, limit: int = 20, max_depth: int = 4) -> list[dict[str, Any]]:
    """The incident's CIs by name, each with how many CIs its failure impacts (as far as the user may see
    them) and the first business services among them."""
    rows = []
    for ci in incident.configuration_items.select_related("ci_class").order_by("name")[:limit]:
        impacted = cmdb_selectors.impact(ci.pk, max_depth=max_depth, user=user)
        rows.append(
            {
                "ci": ci,
                "impact_count": len(impacted),
                "services": [row["ci"] for row in impacted if row["is_business_service"]][:5],
            }
        )
    return rows


def cause_choices(parent: Incident) -> list[tuple[int, str]]:
    """(id, name) of the CIs upstream of every member of `parent`'s group, nearest first: what an agent may
    name as the suspected cause instead of the one correlation found."""
    member_ids = list(parent.children.values_list("pk", flat=True))
    shared = (
        IncidentUpstream.objects.filter(incident_id__in=member_ids)
        .values_list("ci_id", "incident_id", "distance")
        .order_by()
    )
    reach: dict[int, set] = {}
    nearest: dict[int, int] = {}
    for ci_id, incident_id, distance in shared:
        reach.setdefault(ci_id, set()).add(incident_id)
        nearest[ci_id] = max(nearest.get(ci_id, 0), distance)
    common = [pk for pk, found in reach.items() if len(found) == len(member_ids)]
    names = dict(ConfigurationItem.objects.filter(pk__in=common).values_list("pk", "name"))
    return sorted(((pk, names[pk]) for pk in common if pk in names), key=lambda c: (nearest[c[0]], c[1]))


def configuration_item(value) -> ConfigurationItem | None:
    """The CI whose id `value` is (an int or its digits), or None. The page and the API name a group's
    cause by id; correlation.set_cause decides whether that CI may be the cause."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return ConfigurationItem.objects.filter(pk=pk).first()
