"""Every number on the manager dashboard, computed once: the page, the charts and the CSV exports all call
the table builders here, so a CSV can never disagree with the page.

Past days come from the daily rollups (reports.models), today from the same SELECT run live
(reports.rollups). A section appears only for users who may see every record of its kind (the rollups are
counts over all records, so they cannot be narrowed to a requester's own tickets): agents see the ticket
sections, change managers the change section, admins everything. Every cell that counts records links to
the list page filtered to those records.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlencode

from django.apps import apps
from django.db.models import Avg, Count, Q, Sum
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from accounts.models import AssignmentGroup
from accounts.roles import AGENT, CHANGE_MANAGER, has_role
from changes.choices import ChangeType, CloseCode
from changes.models import Change
from cmdb.models import ConfigurationItem
from core.models import TicketBase
from core.selectors import can_see_all, visible_tickets
from portal.models import SatisfactionSurvey
from sla.models import SLADefinition

from . import rollups
from .models import BacklogSnapshot, DailySLAStats, DailyTicketStats
from .rollups import AGE_BUCKETS, KINDS, TICKET_MEASURES

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 3 * 366
NO_GROUP = "(no group)"


class FilterError(ValueError):
    """Bad dashboard filters; `errors` maps each bad field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Filters:
    """The dashboard's date range (local days, both inclusive) and the assignment groups to show."""

    start: dt.date
    end: dt.date
    groups: tuple[AssignmentGroup, ...] = ()

    @property
    def group_ids(self) -> list[int]:
        return [g.pk for g in self.groups]

    @property
    def group_names(self) -> list[str]:
        return [g.name for g in self.groups]

    def as_query(self) -> dict[str, str | list[str]]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "group": self.group_names}

    @property
    def opened_window(self) -> dict[str, str]:
        return window(self.start, self.end + dt.timedelta(days=1))


def window(start: dt.date, end: dt.date, prefix: str = "opened") -> dict[str, str]:
    """List filters for the local days [start, end)."""
    return {
        f"{prefix}_after": rollups.day_start(start).isoformat(),
        f"{prefix}_before": rollups.day_start(end).isoformat(),
    }


def default_filters() -> Filters:
    today = rollups.local_today()
    return Filters(start=today - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1), end=today)


def parse_filters(params) -> Filters:
    """Filters from a query string (`start`, `end` as YYYY-MM-DD, `group` repeated group names)."""
    errors: dict[str, str] = {}
    default = default_filters()
    dates = {}
    for name, fallback in (("start", default.start), ("end", default.end)):
        raw = (params.get(name) or "").strip()
        try:
            dates[name] = dt.date.fromisoformat(raw) if raw else fallback
        except ValueError:
            errors[name] = f"Give the {name} date as YYYY-MM-DD (got {raw[:20]!r})."
    if not errors:
        if dates["end"] < dates["start"]:
            errors["end"] = "The end date cannot be before the start date."
        elif (dates["end"] - dates["start"]).days >= MAX_RANGE_DAYS:
            errors["start"] = f"The range is limited to {MAX_RANGE_DAYS} days."
    names = (
        [n for raw in params.getlist("group") for n in raw.split(",") if n.strip()]
        if hasattr(params, "getlist")
        else []
    )
    groups = list(AssignmentGroup.objects.filter(name__in=names).order_by("name"))
    unknown = sorted(set(names) - {g.name for g in groups})
    if unknown:
        errors["group"] = "Unknown assignment group: " + ", ".join(unknown)
    if errors:
        raise FilterError(errors)
    return Filters(start=dates["start"], end=dates["end"], groups=tuple(groups))


@dataclass
class Cell:
    value: object
    href: str | None = None


@dataclass
class Table:
    """One dashboard table: what the page shows, what the CSV exports, and its chart."""

    slug: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    chart: dict | None = None
    note: str = ""

    def plain_rows(self) -> list[list[object]]:
        return [[cell.value for cell in row] for row in self.rows]

    def body_html(self) -> str:
        """The table's <tr> rows, rendered here rather than cell by cell in the template (a year's dashboard
        has some 600 cells, and template nodes per cell dominate the page). Values are localised and escaped
        as {{ }} would."""
        return mark_safe(  # noqa: S308  (every value and href below goes through format_html)
            "".join("<tr>" + "".join(_cell_html(cell) for cell in row) + "</tr>" for row in self.rows)
        )


def _cell_html(cell: Cell) -> str:
    if cell.value is None:
        return '<td><span class="text-secondary">\u2013</span></td>'
    if cell.href:
        return format_html('<td><a href="{}">{}</a></td>', cell.href, localize(cell.value))
    return format_html("<td>{}</td>", localize(cell.value))


@functools.lru_cache(maxsize=64)
def _list_base(kind: str, script_prefix: str) -> str | None:
    # reverse() costs ~40 us; a year's volume chart links 1,460 points.
    try:
        return reverse(f"{kind}-list")
    except NoReverseMatch:
        return None


def list_url(kind: str, **params) -> str | None:
    """The agent list page of `kind` filtered by `params`; None when that kind has no list page."""
    base = _list_base(kind, get_script_prefix())
    if base is None:
        return None
    # view=all: the list pages default to the "open" saved view, which would hide resolved records.
    clean = {"view": "all"}
    clean.update(
        {k: (",".join(map(str, v)) if isinstance(v, list | tuple) else v) for k, v in params.items()}
    )
    return base + "?" + urlencode({k: v for k, v in clean.items() if v not in (None, "", [])})


def _group_param(f: Filters, group_name: str | None = None) -> dict[str, str]:
    if group_name:
        return {"assignment_group": group_name}
    return {"assignment_group": ",".join(f.group_names)} if f.groups else {}


def _ratio(part: float, whole: float, scale: float = 100.0, digits: int = 1) -> float | None:
    return round(scale * part / whole, digits) if whole else None


def _hours(seconds: float, count: int) -> float | None:
    return round(seconds / count / 3600, 2) if count else None


def _group_names(ids) -> dict[int | None, str]:
    names = dict(AssignmentGroup.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name"))
    names[None] = NO_GROUP
    return names


# ---------------------------------------------------------------------------------------------- rollup reads
TODAY_MAX_AGE = dt.timedelta(minutes=5)
_today_as_of: ContextVar[dt.datetime | None] = ContextVar("reports_today_as_of", default=None)


def fresh_today() -> dt.datetime:
    """Make sure today's rollup rows are recent and return when they were computed.

    A Celery beat task recomputes today every minute, so the dashboard reads nothing but rollup rows (today
    live meant every ticket opened or resolved today, each with its timeline probes: half a second with a
    million incidents). When no beat has run for TODAY_MAX_AGE, or the day rolled over since, the view
    recomputes today itself.
    """
    stamp = rollups.today_stamp()
    now = timezone.now()
    if (
        stamp is None
        or now - stamp > TODAY_MAX_AGE
        or stamp.astimezone(rollups.tz()).date() < rollups.local_today()
    ):
        stamp = rollups.refresh_today(stamp)
    return stamp


@contextlib.contextmanager
def one_snapshot() -> Iterator[dt.datetime]:
    """One page view or export: today's rows are checked (and refreshed if stale) once for every table."""
    token = _today_as_of.set(fresh_today())
    try:
        yield _today_as_of.get()
    finally:
        _today_as_of.reset(token)


def _ensure_today(f: Filters) -> dt.datetime | None:
    """Today's stamp when the range includes today, refreshing stale rows first (once per one_snapshot;
    a table built on its own checks each time)."""
    if not (f.start <= rollups.local_today() <= f.end):
        return None
    return _today_as_of.get() or fresh_today()


def _as_of_note(f: Filters) -> str:
    stamp = _ensure_today(f)
    if stamp is None:
        return ""
    return f" Today's figures as of {timezone.localtime(stamp):%H:%M} (recomputed every minute)."


def ticket_totals(
    f: Filters, kinds: list[str], by: tuple[str, ...], measures: tuple[str, ...] = TICKET_MEASURES
) -> dict[tuple, dict[str, float]]:
    """Sums of the ticket measures over the range, grouped by any of day/kind/group_id/priority."""
    _ensure_today(f)
    totals: dict[tuple, dict[str, float]] = defaultdict(lambda: dict.fromkeys(measures, 0))
    rows = DailyTicketStats.objects.filter(kind__in=kinds, day__gte=f.start, day__lte=f.end)
    if f.groups:
        rows = rows.filter(group_id__in=f.group_ids)
    for row in rows.values(*by).annotate(**{f"s_{m}": Sum(m) for m in measures}).order_by():
        target = totals[tuple(row[k] for k in by)]
        for m in measures:
            target[m] += row[f"s_{m}"] or 0
    return totals


def sla_totals(f: Filters, kinds: list[str]) -> dict[tuple, dict[str, int]]:
    """Met and breached timers per (definition id, group id) over the range."""
    _ensure_today(f)
    totals: dict[tuple, dict[str, int]] = defaultdict(lambda: {"met": 0, "breached": 0})
    rows = DailySLAStats.objects.filter(kind__in=kinds, day__gte=f.start, day__lte=f.end)
    if f.groups:
        rows = rows.filter(group_id__in=f.group_ids)
    for row in rows.values("definition_id", "group_id").annotate(m=Sum("met"), b=Sum("breached")).order_by():
        target = totals[(row["definition_id"], row["group_id"])]
        target["met"] += row["m"]
        target["breached"] += row["b"]
    return totals


def top_ci_counts(f: Filters, limit: int) -> list[tuple[int, int]]:
    """The `limit` CIs with most incidents opened in the range, as (ci id, incidents), in one statement."""
    _ensure_today(f)
    return rollups.top_cis(f.start, f.end, f.group_ids, limit)


# ---------------------------------------------------------------------------------------------- the tables
def _ticket_kinds(user) -> list[str]:
    return [key for key, spec in KINDS.items() if can_see_all(spec.model, user)]


def volume_table(user, f: Filters) -> Table | None:
    """Tickets opened per day by kind (chart) and per kind and priority over the range (table)."""
    kinds = _ticket_kinds(user)
    if not kinds:
        return None
    # One pass over the rollup rows, folded two ways: a year of rows is too many to walk twice.
    by_day: dict[tuple, dict[str, float]] = defaultdict(lambda: {"opened": 0})
    by_priority: dict[tuple, dict[str, float]] = defaultdict(lambda: {"opened": 0})
    for (day, kind, priority), values in ticket_totals(
        f, kinds, ("day", "kind", "priority"), ("opened",)
    ).items():
        by_day[(day, kind)]["opened"] += values["opened"]
        by_priority[(kind, priority)]["opened"] += values["opened"]
    days = [f.start + dt.timedelta(days=i) for i in range((f.end - f.start).days + 1)]
    # One link per day and kind, the same as list_url(kind, **window(day, next day), **groups) but built by
    # appending the encoded day bounds: urlencode per point was half the render time of a year's page.
    bounds = [
        quote_plus(rollups.day_start(f.start + dt.timedelta(days=i)).isoformat())
        for i in range(len(days) + 1)
    ]
    datasets = []
    for kind in kinds:
        prefix = list_url(kind, **_group_param(f))
        links = [
            f"{prefix}&opened_after={bounds[i]}&opened_before={bounds[i + 1]}" if prefix else None
            for i in range(len(days))
        ]
        datasets.append(
            {
                "label": kind.capitalize(),
                "data": [int(by_day.get((d, kind), {}).get("opened", 0)) for d in days],
                "links": links,
            }
        )
    table = Table(
        slug="volume",
        title="Ticket volume by kind and priority",
        columns=["Kind", "Priority", "Opened"],
        chart={"type": "line", "labels": [d.isoformat() for d in days], "datasets": datasets},
        note="Tickets opened in the range. Click a point for that day's tickets." + _as_of_note(f),
    )
    for kind in kinds:
        for priority in range(1, 6):
            opened = int(by_priority.get((kind, priority), {}).get("opened", 0))
            href = list_url(kind, priority=priority, **f.opened_window, **_group_param(f))
            table.rows.append([Cell(kind), Cell(priority), Cell(opened, href)])
    return table


BACKLOG_MAX_AGE = dt.timedelta(minutes=5)


def backlog_snapshot() -> tuple[dt.datetime, list[BacklogSnapshot]]:
    """The current backlog snapshot and when it was taken.

    Celery beat retakes it every minute; when it is missing or older than BACKLOG_MAX_AGE (no beat running,
    a fresh install) the view retakes it itself, so the page is never more than a few minutes behind.
    """
    rows = list(BacklogSnapshot.objects.all())
    taken_at = rows[0].taken_at if rows else None
    if taken_at is None or timezone.now() - taken_at > BACKLOG_MAX_AGE:
        taken_at = rollups.refresh_backlog()
        rows = list(BacklogSnapshot.objects.all())
    return taken_at, rows


def backlog_table(user, f: Filters) -> Table | None:
    """Open work per kind and group, by age, from the minute-old snapshot (the date range does not apply)."""
    kinds = _ticket_kinds(user)
    if not kinds:
        return None
    now, snapshot = backlog_snapshot()
    rows = [r for r in snapshot if r.kind in kinds and (not f.groups or r.group_id in f.group_ids)]
    names = _group_names({r.group_id for r in rows})
    table = Table(
        slug="backlog",
        title="Backlog by group and age",
        columns=["Kind", "Group", *[label for label, _lo, _hi in AGE_BUCKETS], "Total"],
        note=(
            f"Open tickets as of {timezone.localtime(now):%H:%M}, by time since opened (refreshed every "
            "minute); the group filter applies, the date range does not."
        ),
    )
    chart_groups: dict[str, list[int]] = defaultdict(lambda: [0] * len(AGE_BUCKETS))
    chart_links: dict[str, list[str | None]] = {}
    order = {kind: i for i, kind in enumerate(kinds)}
    rows.sort(key=lambda r: (order[r.kind], names.get(r.group_id, "")))
    for row in rows:
        kind, group_id = row.kind, row.group_id
        states = KINDS[kind].model.workflow.open_states
        name = names.get(group_id, str(group_id))
        cells = [Cell(kind), Cell(name)]
        counts = [getattr(row, column) for column in rollups.AGE_COLUMNS]
        links = []
        for (_label, lo, hi), n in zip(AGE_BUCKETS, counts, strict=True):
            params = {"state": states}
            if hi is not None:
                params["opened_after"] = (now - hi).isoformat()
            if lo is not None:
                params["opened_before"] = (now - lo).isoformat()
            # The list pages cannot filter "no group".
            href = list_url(kind, **params, assignment_group=name) if group_id else None
            links.append(href)
            cells.append(Cell(n, href))
        total_href = list_url(kind, state=states, assignment_group=name) if group_id else None
        cells.append(Cell(sum(counts), total_href))
        table.rows.append(cells)
        key = f"{name} ({kind})" if len(kinds) > 1 else name
        for i, n in enumerate(counts):
            chart_groups[key][i] += n
        chart_links[key] = links
    labels = sorted(chart_groups)
    table.chart = {
        "type": "bar",
        "stacked": True,
        "labels": labels,
        "datasets": [
            {
                "label": label,
                "data": [chart_groups[g][i] for g in labels],
                "links": [chart_links[g][i] for g in labels],
            }
            for i, (label, _lo, _hi) in enumerate(AGE_BUCKETS)
        ],
    }
    return table


RESOLUTION_KINDS = ("incident",)


def resolution_table(user, f: Filters) -> Table | None:
    """Incident response and resolution times, reopen rate and first-contact resolution per group.

    Response is the first public comment, assignment or state change by someone other than the opener
    (counted for tickets opened in the range); resolution, reopen and first-contact figures count the
    incidents resolved in the range. First-contact resolution: resolved, never reopened, and never moved
    from one assignment group to another.
    """
    kinds = [k for k in RESOLUTION_KINDS if k in _ticket_kinds(user)]
    if not kinds:
        return None
    totals = ticket_totals(f, kinds, ("group_id",))
    names = _group_names([k[0] for k in totals])
    table = Table(
        slug="resolution",
        title="Incident response, resolution, reopen rate and first-contact resolution",
        columns=[
            "Group",
            "Opened",
            "Responded",
            "Mean time to respond (h)",
            "Resolved",
            "Mean time to resolve (h)",
            "Reopened",
            "Reopen rate (%)",
            "First-contact resolved",
            "First-contact resolution (%)",
        ],
        note=resolution_table.__doc__.split("\n\n")[1].replace("\n   ", "").strip() + _as_of_note(f),
    )
    order = sorted(totals, key=lambda k: names.get(k[0], ""))
    overall = dict.fromkeys(TICKET_MEASURES, 0)
    for key in order:
        for m in TICKET_MEASURES:
            overall[m] += totals[key][m]
    chart = {
        "type": "bar",
        "labels": [],
        "datasets": [{"label": "Mean time to resolve (h)", "data": [], "links": []}],
    }
    for group_id, values in [*((k[0], totals[k]) for k in order), ("all", overall)]:
        name = "All groups" if group_id == "all" else names.get(group_id, str(group_id))
        group_param = _group_param(f) if group_id == "all" else {"assignment_group": name}
        linkable = group_id is not None
        opened_href = list_url("incident", **f.opened_window, **group_param) if linkable else None
        resolved_window = window(f.start, f.end + dt.timedelta(days=1), "resolved")
        resolved_href = list_url("incident", **resolved_window, **group_param) if linkable else None
        reopened_href = (
            list_url("incident", reopened="true", **resolved_window, **group_param) if linkable else None
        )
        mttr = _hours(values["resolve_seconds"], int(values["resolved"]))
        table.rows.append(
            [
                Cell(name),
                Cell(int(values["opened"]), opened_href),
                Cell(int(values["responded"])),
                Cell(_hours(values["respond_seconds"], int(values["responded"]))),
                Cell(int(values["resolved"]), resolved_href),
                Cell(mttr),
                Cell(int(values["reopened"]), reopened_href),
                Cell(_ratio(values["reopened"], values["resolved"])),
                Cell(int(values["first_contact"])),
                Cell(_ratio(values["first_contact"], values["resolved"])),
            ]
        )
        if group_id != "all":
            chart["labels"].append(name)
            chart["datasets"][0]["data"].append(mttr or 0)
            chart["datasets"][0]["links"].append(resolved_href)
    table.chart = chart
    return table


def sla_table(user, f: Filters) -> Table | None:
    """SLA compliance per definition and group: met / (met + breached) over timers that ended in range."""
    kinds = _ticket_kinds(user)
    if not kinds:
        return None
    totals = sla_totals(f, kinds)
    definitions = {d.pk: d for d in SLADefinition.objects.filter(pk__in={k[0] for k in totals})}
    names = _group_names({k[1] for k in totals})
    table = Table(
        slug="sla",
        title="SLA compliance per definition and group",
        columns=["Definition", "Applies to", "Group", "Met", "Breached", "Compliance (%)"],
        note="Timers that were met or breached in the range (by the day they stopped or breached)."
        + _as_of_note(f),
    )
    per_definition: dict[int, dict[str, int]] = defaultdict(lambda: {"met": 0, "breached": 0})
    keys = sorted(totals, key=lambda k: (definitions[k[0]].name, names.get(k[1], "")))
    for definition_id, group_id in keys:
        values = totals[(definition_id, group_id)]
        definition = definitions[definition_id]
        name = names.get(group_id, str(group_id))
        per_definition[definition_id]["met"] += values["met"]
        per_definition[definition_id]["breached"] += values["breached"]
        breached_href = None
        if definition.applies_to == "incident" and group_id is not None:
            breached_href = list_url(
                "incident",
                sla_definition=definition_id,
                sla_state="breached",
                **window(f.start, f.end + dt.timedelta(days=1), "sla"),
                assignment_group=name,
            )
        met_href = breached_href.replace("sla_state=breached", "sla_state=met") if breached_href else None
        table.rows.append(
            [
                Cell(definition.name),
                Cell(definition.applies_to),
                Cell(name),
                Cell(values["met"], met_href),
                Cell(values["breached"], breached_href),
                Cell(_ratio(values["met"], values["met"] + values["breached"])),
            ]
        )
    ordered = sorted(per_definition, key=lambda d: definitions[d].name)
    table.chart = {
        "type": "bar",
        "labels": [definitions[d].name for d in ordered],
        "datasets": [
            {
                "label": "Compliance (%)",
                "data": [
                    _ratio(per_definition[d]["met"], sum(per_definition[d].values())) or 0 for d in ordered
                ],
                "links": [
                    list_url(
                        "incident",
                        sla_definition=d,
                        sla_state="breached",
                        **window(f.start, f.end + dt.timedelta(days=1), "sla"),
                        **_group_param(f),
                    )
                    if definitions[d].applies_to == "incident"
                    else None
                    for d in ordered
                ],
            }
        ],
    }
    return table


def change_table(user, f: Filters) -> Table | None:
    """Change success rate and emergency share, over the changes opened in the range, per type.

    Success rate: closed changes whose close code is successful or successful with issues, over all closed
    changes with a close code. Emergency share: emergency changes over all changes opened.
    """
    if not can_see_all(Change, user):
        return None
    changes = visible_tickets(Change, user).filter(
        opened_at__gte=rollups.day_start(f.start),
        opened_at__lt=rollups.day_start(f.end + dt.timedelta(days=1)),
    )
    if f.groups:
        changes = changes.filter(assignment_group_id__in=f.group_ids)
    counts = {
        row["type"]: row
        for row in changes.values("type")
        .annotate(
            opened=Count("id"),
            successful=Count("id", filter=Q(state="closed", close_code=CloseCode.SUCCESSFUL)),
            with_issues=Count("id", filter=Q(state="closed", close_code=CloseCode.SUCCESSFUL_WITH_ISSUES)),
            unsuccessful=Count("id", filter=Q(state="closed", close_code=CloseCode.UNSUCCESSFUL)),
        )
        .order_by()
    }
    table = Table(
        slug="changes",
        title="Change success rate and emergency share",
        columns=[
            "Type",
            "Opened",
            "Share of changes (%)",
            "Successful",
            "Successful with issues",
            "Unsuccessful",
            "Success rate (%)",
        ],
        note=change_table.__doc__.split("\n\n")[1].replace("\n   ", "").strip(),
    )
    total_opened = sum(r["opened"] for r in counts.values())
    all_row = dict.fromkeys(("opened", "successful", "with_issues", "unsuccessful"), 0)
    for change_type in [*ChangeType.values, "all"]:
        row = all_row if change_type == "all" else counts.get(change_type, dict.fromkeys(all_row, 0))
        if change_type != "all":
            for k in all_row:
                all_row[k] += row[k]
        type_param = {} if change_type == "all" else {"type": change_type}
        closed = row["successful"] + row["with_issues"] + row["unsuccessful"]
        closed_href = list_url("change", state="closed", **type_param, **f.opened_window, **_group_param(f))
        table.rows.append(
            [
                Cell(change_type),
                Cell(row["opened"], list_url("change", **type_param, **f.opened_window, **_group_param(f))),
                Cell(_ratio(row["opened"], total_opened)),
                Cell(row["successful"], closed_href),
                Cell(row["with_issues"], closed_href),
                Cell(row["unsuccessful"], closed_href),
                Cell(_ratio(row["successful"] + row["with_issues"], closed)),
            ]
        )
    table.chart = {
        "type": "doughnut",
        "labels": [r[0].value for r in table.rows[:-1]],
        "datasets": [
            {
                "label": "Changes opened",
                "data": [r[1].value for r in table.rows[:-1]],
                "links": [r[1].href for r in table.rows[:-1]],
            }
        ],
    }
    return table


TOP_CIS = 10


def ci_table(user, f: Filters) -> Table | None:
    """The configuration items with the most incidents opened against them in the range."""
    if "incident" not in _ticket_kinds(user):
        return None
    top = top_ci_counts(f, TOP_CIS)
    cis = ConfigurationItem.objects.select_related("ci_class").in_bulk([ci_id for ci_id, _n in top])
    table = Table(
        slug="top-cis",
        title="Top configuration items by incidents",
        columns=["Configuration item", "Class", "Incidents"],
        note="Incidents opened in the range that name the CI." + _as_of_note(f),
    )
    for ci_id, n in top:
        ci = cis.get(ci_id)
        href = list_url("incident", ci=ci_id, **f.opened_window, **_group_param(f))
        table.rows.append(
            [Cell(ci.name if ci else f"CI {ci_id}"), Cell(ci.ci_class if ci else ""), Cell(n, href)]
        )
    table.chart = {
        "type": "bar",
        "horizontal": True,
        "labels": [r[0].value for r in table.rows],
        "datasets": [
            {
                "label": "Incidents",
                "data": [r[2].value for r in table.rows],
                "links": [r[2].href for r in table.rows],
            }
        ],
    }
    return table


def csat_table(user, f: Filters) -> Table | None:
    """Customer satisfaction per ticket kind: the 1–5 surveys requesters answered in the range.

    Average rating, and the share of satisfied answers (4 or 5). Only kinds whose every record the user may
    see are counted; the group filter does not apply (a survey rates the whole ticket).
    """
    kinds = {
        model._meta.model_name: model
        for model in apps.get_models()
        if issubclass(model, TicketBase) and can_see_all(model, user)
    }
    if not kinds:
        return None
    rows = {
        row["content_type__model"]: row
        for row in SatisfactionSurvey.objects.filter(
            content_type__model__in=list(kinds),
            created_at__gte=rollups.day_start(f.start),
            created_at__lt=rollups.day_start(f.end + dt.timedelta(days=1)),
        )
        .values("content_type__model")
        .annotate(answers=Count("id"), average=Avg("rating"), satisfied=Count("id", filter=Q(rating__gte=4)))
        .order_by()
    }
    try:
        report_url = reverse("survey-report")
    except NoReverseMatch:
        report_url = None
    table = Table(
        slug="csat",
        title="Customer satisfaction (CSAT)",
        columns=["Kind", "Answers", "Average rating (1-5)", "Satisfied, 4 or 5 (%)"],
        note=csat_table.__doc__.split("\n\n")[1].replace("\n   ", "").strip(),
    )
    for name in sorted(kinds):
        row = rows.get(name, {"answers": 0, "average": None, "satisfied": 0})
        average = round(row["average"], 2) if row["average"] is not None else None
        table.rows.append(
            [
                Cell(kinds[name].KIND),
                Cell(row["answers"], report_url),
                Cell(average),
                Cell(_ratio(row["satisfied"], row["answers"])),
            ]
        )
    return table


TABLES: dict[str, Callable[..., Table | None]] = {
    "volume": volume_table,
    "backlog": backlog_table,
    "resolution": resolution_table,
    "sla": sla_table,
    "changes": change_table,
    "top-cis": ci_table,
    "csat": csat_table,
}


def can_view_dashboards(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and has_role(user, AGENT, CHANGE_MANAGER)


def dashboard(user, f: Filters) -> list[Table]:
    with one_snapshot():
        return [t for t in (build(user, f) for build in TABLES.values()) if t is not None]


def table(user, f: Filters, slug: str) -> Table | None:
    with one_snapshot():
        return TABLES[slug](user, f)
