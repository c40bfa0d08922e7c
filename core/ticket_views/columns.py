"""The list page's columns (how each cell renders) and its saved views (the named, counted slices)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from accounts.models import AssignmentGroup
from core.templatetags.itsm_ui import priority_badge, sla_badge, state_badge

from ..extensions import provided
from ..models import TicketBase

# The SLA column's timers and their calendars, loaded for the page in a fixed number of queries.
LIST_TIMER_PREFETCH = (
    "sla_timers__definition__calendar__hours",
    "sla_timers__definition__calendar__holidays",
)


@dataclass
class Column:
    """One list column. `accessor` is an attribute path ("assigned_to.username") or a callable(record);
    `sort` is the FilterSet ordering key (None: not sortable); `render` picks the cell format."""

    name: str
    label: str
    sort: str | None = None
    accessor: str | Callable[[Any], Any] | None = None
    render: str = "text"  # text | link | state | priority | datetime | reltime | bool | sla
    # A related set the cell reads (prefetched once for the page, only when the column is shown).
    prefetch: str | None = None

    def value(self, record) -> Any:
        if callable(self.accessor):
            return self.accessor(record)
        value: Any = record
        for part in (self.accessor or self.name).split("."):
            value = getattr(value, part, None) if value is not None else None
        # An accessor may name a method (`get_type_display`): show what it returns, never the method.
        return value() if callable(value) else value

    def cell(self, record) -> str:
        value = self.value(record)
        if self.render == "link":
            return format_html('<a href="{}" class="fw-medium">{}</a>', record.get_absolute_url(), value)
        if self.render == "state":
            return state_badge(value, record.workflow.label(value))
        if self.render == "priority":
            return priority_badge(value)
        if self.render == "datetime":
            if value is None:
                return ""
            local = timezone.localtime(value)
            return format_html(
                '<time datetime="{}" title="{}">{}</time>',
                value.isoformat(),
                local.strftime("%Y-%m-%d %H:%M %Z"),
                local.strftime("%a %d %b %H:%M"),
            )
        if self.render == "reltime":
            return relative_time(value)
        if self.render == "sla":
            return sla_badge(value)
        if self.render == "bool":
            return format_html('<i class="ti ti-check text-danger" aria-label="yes"></i>') if value else ""
        return format_html("{}", "" if value is None else value)


class CellHTML(SafeString):
    """A rendered cell that knows its column (the template marks `<td data-column>` for the CSS)."""

    column = ""

    @classmethod
    def of(cls, html: str, column: str) -> CellHTML:
        cell = cls(html)
        cell.column = column
        return cell


def relative_time(value) -> str:
    """ "3 hours ago", with the absolute time and its zone on hover (and for screen readers in `datetime`)."""
    if value is None:
        return ""

    local = timezone.localtime(value)
    now = timezone.now()
    text = (
        "just now"
        if abs((now - value).total_seconds()) < 60
        else (
            f"{timesince(value, now).split(', ')[0]} ago"
            if value <= now
            else f"in {timesince(now, value).split(', ')[0]}"
        )
    )
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M %Z"),
        text.replace("\xa0", " "),
    )


def ci_names(record) -> str:
    """The record's CIs from the page's prefetch: the first two names, then "+n"."""
    names = sorted(ci.name for ci in record.configuration_items.all())
    return ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")


def most_urgent_timer(record) -> dict | None:
    """The list row's SLA: its most urgent timer (running or breached first, soonest due), from the
    page's prefetched timers."""
    ticket_timers = provided("ticket_timers")
    timers = ticket_timers(record)
    return timers[0] if timers else None


DEFAULT_COLUMNS = [
    Column("number", "Number", sort="number", render="link"),
    Column("short_description", "Short description", sort="short_description"),
    Column("priority", "Priority", sort="priority", render="priority"),
    Column("state", "State", sort="state", render="state"),
    Column("assignment_group", "Group", accessor="assignment_group.name"),
    Column("assigned_to", "Assigned to", accessor="assigned_to.username"),
    Column("opened_at", "Opened", sort="opened_at", render="reltime"),
    Column("sla", "SLA", accessor=most_urgent_timer, render="sla"),
    Column("updated_at", "Updated", sort="updated_at", render="reltime"),
    Column("ci", "CI", accessor=ci_names, prefetch="configuration_items"),
]
# Shown until a user picks their own; the SLA countdown sits next to the number, where triage starts.
DEFAULT_HIDDEN_COLUMNS = ("ci", "opened_at", "category", "major")
LEFT_COLUMNS = ("number", "sla")


# ----------------------------------------------------------------------------------------- saved views
@dataclass
class SavedView:
    """A named, counted slice of the list ("My work"). `filter(queryset, user)` narrows the visible
    records; `ordering` is the default sort inside the view; `counted=False` skips the badge count (for
    views whose count would scan the whole table)."""

    slug: str
    label: str
    filter: Callable[[QuerySet, Any], QuerySet]
    ordering: tuple[str, ...] = ("-opened_at", "-id")
    counted: bool = True
    help_text: str = ""


# The order of a view of work to pick up: most urgent first, then the newest.
URGENT_FIRST = ("priority", "-opened_at", "-id")


def open_states(model: type[TicketBase]) -> list[str]:
    return model.workflow.open_states


def default_saved_views(model: type[TicketBase], extra: Sequence[SavedView] = ()) -> list[SavedView]:
    """The views every ticket kind has, with the kind's own `extra` views (TicketListView.
    extra_saved_views) before "All", which stays last."""
    states = open_states(model)
    return [
        SavedView("open", "All open", lambda qs, user: qs.filter(state__in=states)),
        SavedView(
            "my_work",
            "My work",
            lambda qs, user: qs.filter(assigned_to=user, state__in=states),
            ordering=URGENT_FIRST,
        ),
        SavedView(
            "unassigned",
            "Unassigned in my groups",
            lambda qs, user: qs.filter(
                assigned_to__isnull=True,
                state__in=states,
                assignment_group__in=AssignmentGroup.objects.filter(members=user).values("pk"),
            ),
            ordering=("priority", "opened_at", "id"),
        ),
        *extra,
        SavedView("all", "All", lambda qs, user: qs, counted=False),
    ]
