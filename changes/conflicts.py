"""Conflict detection for a change's planned window (SPEC §3).

A change conflicts with:
- other `scheduled` or `implementing` changes whose window overlaps and whose CIs are the change's own CIs
  or within two hops of them in the CMDB graph (any relationship, either direction);
- blackout windows overlapping the window that apply to every CI (no CIs listed) or list one of the
  change's own CIs;
- open priority 1–2 incidents on the change's CIs or those within two hops.

Three queries after the neighbourhood walk, whatever the CMDB's size: the walk is bounded by two hops,
and the other lookups go through the window and link-table indexes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from cmdb.selectors import neighbour_ci_ids
from incidents.models import Incident
from incidents.workflow import INCIDENT_WORKFLOW

from .choices import ChangeState
from .models import BlackoutWindow, Change

ACTIVE_STATES = (ChangeState.SCHEDULED, ChangeState.IMPLEMENT)
MAX_HOPS = 2


class Conflict(TypedDict, total=False):
    kind: str  # "change" | "blackout" | "incident"
    number: str
    name: str
    ci: int | None
    ci_name: str
    reason: str


def _fmt(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def detect_conflicts(
    change, *, ci_ids: list[int] | None = None, start: datetime | None = None, end: datetime | None = None
) -> list[Conflict]:
    """The conflicts of `change` (or of the given CIs and window, to check an edit before saving)."""
    start = start or change.planned_start
    end = end or change.planned_end
    if start is None or end is None:
        return []
    if ci_ids is None:
        ci_ids = list(change.configuration_items.values_list("pk", flat=True)) if change.pk else []
    own = set(ci_ids)
    distances = neighbour_ci_ids(own, max_hops=MAX_HOPS) if own else {}
    conflicts: list[Conflict] = []

    if distances:
        through = Change.configuration_items.through
        rows = (
            through.objects.filter(
                configurationitem_id__in=list(distances),
                change__state__in=ACTIVE_STATES,
                change__planned_start__lt=end,
                change__planned_end__gt=start,
            )
            .exclude(change_id=change.pk)
            .order_by("change__planned_start", "change_id", "configurationitem_id")
            .values_list(
                "change__number",
                "change__state",
                "change__planned_start",
                "change__planned_end",
                "configurationitem_id",
                "configurationitem__name",
            )
        )
        seen: set[str] = set()
        for number, state, other_start, other_end, ci_id, ci_name in rows:
            if number in seen:
                continue
            seen.add(number)
            hops = distances.get(ci_id, 0)
            where = "the same CI" if hops == 0 else f"{hops} hop{'s' if hops > 1 else ''} away"
            conflicts.append(
                {
                    "kind": "change",
                    "number": number,
                    "ci": ci_id,
                    "ci_name": ci_name,
                    "reason": f"{number} is {state} on {ci_name} ({where}) from {_fmt(other_start)} "
                    f"to {_fmt(other_end)}, overlapping this window.",
                }
            )

    windows = BlackoutWindow.objects.filter(start__lt=end, end__gt=start).prefetch_related(
        "configuration_items"
    )
    for window in windows:
        scoped = list(window.configuration_items.all())
        if not scoped:
            conflicts.append(
                {
                    "kind": "blackout",
                    "name": window.name,
                    "ci": None,
                    "reason": f"Blackout window {window.name} ({_fmt(window.start)} to {_fmt(window.end)}) "
                    "covers every CI.",
                }
            )
            continue
        hit = next((ci for ci in scoped if ci.pk in own), None)
        if hit is not None:
            conflicts.append(
                {
                    "kind": "blackout",
                    "name": window.name,
                    "ci": hit.pk,
                    "ci_name": hit.name,
                    "reason": f"Blackout window {window.name} ({_fmt(window.start)} to {_fmt(window.end)}) "
                    f"covers {hit.name}.",
                }
            )

    if distances:
        through = Incident.configuration_items.through
        rows = (
            through.objects.filter(
                configurationitem_id__in=list(distances),
                incident__priority__lte=2,
                incident__state__in=INCIDENT_WORKFLOW.open_states,
            )
            .order_by("incident__priority", "incident_id", "configurationitem_id")
            .values_list(
                "incident__number", "incident__priority", "configurationitem_id", "configurationitem__name"
            )
        )
        seen = set()
        for number, priority, ci_id, ci_name in rows:
            if number in seen:
                continue
            seen.add(number)
            conflicts.append(
                {
                    "kind": "incident",
                    "number": number,
                    "ci": ci_id,
                    "ci_name": ci_name,
                    "reason": f"Open priority {priority} incident {number} on {ci_name}.",
                }
            )
    return conflicts
