# ruff: noqa: S608  (identifiers and state names below come from code, never from user input; values are bound)
"""The SQL behind the daily rollups: one SELECT per table that both fills it and answers for today.

`*_select(start, end)` returns (sql, params) for the grouped rows of the local days [start, end). The
Celery task upserts those rows (`refresh`), and the dashboards run the same SELECT for today, so a
rolled-up day and a live day can never disagree about what a number means.

Definitions (also shown on the dashboard):
- response: the first public comment, assignment or state change by someone other than the opener;
- resolution: the kind's resolved stamp (incident/problem `resolved_at`, request `fulfilled_at`);
- reopened: the ticket left its resolved state for a working state at least once;
- first-contact resolution: resolved, never reopened, and never moved from one assignment group to another.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from changes.models import Change
from core.models import TicketBase
from incidents.models import Incident
from problems.models import Problem
from requests_app.models import Request

from .models import (
    BacklogSnapshot,
    CIWindowCounts,
    DailyCIIncidents,
    DailySLAStats,
    DailyTicketStats,
    RefreshStamp,
)


@dataclass(frozen=True)
class KindSpec:
    """How one ticket kind maps onto the rollup: its model and the column that stamps its resolution."""

    key: str
    model: type[TicketBase]
    resolved_field: str | None

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def resolved_states(self) -> list[str]:
        workflow = self.model.workflow
        return sorted(set(workflow.done_states) | ({"closed"} & set(workflow.states)))

    def content_type_id(self) -> int:
        return ContentType.objects.get_for_model(self.model).pk


KINDS: dict[str, KindSpec] = {
    "incident": KindSpec("incident", Incident, "resolved_at"),
    "request": KindSpec("request", Request, "fulfilled_at"),
    "problem": KindSpec("problem", Problem, "resolved_at"),
    "change": KindSpec("change", Change, None),
}

TICKET_MEASURES = (
    "opened",
    "responded",
    "respond_seconds",
    "resolved",
    "resolve_seconds",
    "reopened",
    "first_contact",
)


def tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_today() -> dt.date:
    return dt.datetime.now(tz()).date()


def day_start(day: dt.date) -> dt.datetime:
    """The aware instant a local day starts."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz())


def _sql_list(values) -> str:
    # Only ever called with workflow state names from code, never with user input.
    return "ARRAY[" + ",".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]::text[]"


def _ticket_kind_select(spec: KindSpec) -> str:
    ct = spec.content_type_id()
    table = spec.table
    workflow = spec.model.workflow
    opened = f"""
        SELECT (t.opened_at AT TIME ZONE %(tz)s)::date AS day, t.assignment_group_id AS group_id, t.priority,
               1 AS opened,
               (r.at IS NOT NULL)::int AS responded,
               COALESCE(EXTRACT(EPOCH FROM r.at - t.opened_at), 0)::float AS respond_seconds,
               0 AS resolved, 0::float AS resolve_seconds, 0 AS reopened, 0 AS first_contact
        FROM {table} t
        LEFT JOIN LATERAL (
            SELECT min(a.created_at) AS at FROM core_activity a
            WHERE a.content_type_id = {ct} AND a.object_id = t.id AND a.actor_id IS NOT NULL
              AND a.actor_id <> t.opened_by_id
              AND (a.kind IN ('assignment', 'state_change') OR (a.kind = 'comment' AND a.public))
        ) r ON true
        WHERE t.opened_at >= %(start)s AND t.opened_at < %(end)s"""
    if spec.resolved_field is None:
        parts = [opened]
    else:
        col = spec.resolved_field
        # The reopen/reassign flags are a correlated aggregate (one index probe per ticket): written as
        # EXISTS, PostgreSQL plans them as hashed subplans over every activity of the kind, which made the
        # live figures for today grow with the whole timeline table.
        resolved = f"""
        SELECT (t.{col} AT TIME ZONE %(tz)s)::date, t.assignment_group_id, t.priority,
               0, 0, 0::float,
               1, EXTRACT(EPOCH FROM t.{col} - t.opened_at)::float,
               COALESCE(f.reopened, false)::int,
               (NOT COALESCE(f.reopened, false) AND NOT COALESCE(f.reassigned, false))::int
        FROM {table} t
        LEFT JOIN LATERAL (
            SELECT bool_or(
                       a.kind = 'state_change'
                       AND a.data->>'from' = ANY({_sql_list(workflow.done_states)})
                       AND NOT (a.data->>'to' = ANY({_sql_list(workflow.final_states)}))
                   ) AS reopened,
                   bool_or(
                       a.kind = 'assignment'
                       AND EXISTS (
                           SELECT 1 FROM jsonb_array_elements(
                               CASE WHEN jsonb_typeof(a.data->'changes') = 'array' THEN a.data->'changes'
                                    ELSE '[]' END
                           ) c
                           WHERE c->>'field' = 'assignment_group' AND COALESCE(c->>'old', '') <> ''
                       )
                   ) AS reassigned
            FROM core_activity a
            WHERE a.content_type_id = {ct} AND a.object_id = t.id AND a.kind IN ('state_change', 'assignment')
        ) f ON true
        WHERE t.state = ANY({_sql_list(spec.resolved_states)})
          AND t.{col} >= %(start)s AND t.{col} < %(end)s"""
        parts = [opened, resolved]
    union = "\nUNION ALL\n".join(parts)
    sums = ", ".join(f"sum({m})" for m in TICKET_MEASURES)
    return (
        f"SELECT day, '{spec.key}' AS kind, group_id, priority, {sums} FROM ({union}) x GROUP BY 1, 2, 3, 4"
    )


def _params(start: dt.date, end: dt.date) -> dict:
    return {"tz": settings.TIME_ZONE, "start": day_start(start), "end": day_start(end)}


def ticket_select(start: dt.date, end: dt.date, kinds=None) -> tuple[str, dict]:
    specs = [KINDS[k] for k in (kinds or KINDS)]
    return "\nUNION ALL\n".join(_ticket_kind_select(s) for s in specs), _params(start, end)


def sla_select(start: dt.date, end: dt.date, kinds=None) -> tuple[str, dict]:
    parts = []
    for key in kinds or KINDS:
        spec = KINDS[key]
        parts.append(f"""
        SELECT (COALESCE(tm.breached_at, tm.stopped_at) AT TIME ZONE %(tz)s)::date AS day, tm.definition_id,
               '{spec.key}' AS kind, t.assignment_group_id AS group_id,
               count(*) FILTER (WHERE tm.state = 'met') AS met,
               count(*) FILTER (WHERE tm.state = 'breached') AS breached
        FROM sla_timer tm JOIN {spec.table} t ON t.id = tm.object_id
        WHERE tm.content_type_id = {spec.content_type_id()} AND tm.state IN ('met', 'breached')
          AND COALESCE(tm.breached_at, tm.stopped_at) >= %(start)s
          AND COALESCE(tm.breached_at, tm.stopped_at) < %(end)s
        GROUP BY 1, 2, 3, 4""")
    return "\nUNION ALL\n".join(parts), _params(start, end)


def ci_select(start: dt.date, end: dt.date) -> tuple[str, dict]:
    through = Incident.configuration_items.through._meta.db_table
    sql = f"""
        SELECT (t.opened_at AT TIME ZONE %(tz)s)::date AS day, m.configurationitem_id AS ci_id,
               t.assignment_group_id AS group_id, count(*) AS incidents
        FROM {Incident._meta.db_table} t JOIN {through} m ON m.incident_id = t.id
        WHERE t.opened_at >= %(start)s AND t.opened_at < %(end)s
        GROUP BY 1, 2, 3"""
    return sql, _params(start, end)


def top_ci_select(start: dt.date, end: dt.date, group_ids: list[int], limit: int) -> tuple[str, dict]:
    """The `limit` CIs with most incidents on the local days [start, end] (both inclusive) as (ci id,
    incidents), from the daily CI rollup, optionally only `group_ids`.

    The database adds up, sorts and keeps the top rows: a year spans hundreds of thousands of (day, CI,
    group) rows, far too many to fetch and add up in Python.
    """
    groups = "AND group_id = ANY(%(groups)s)" if group_ids else ""
    sql = (
        f"SELECT ci_id, sum(incidents)::int AS n FROM {DailyCIIncidents._meta.db_table} "
        f"WHERE day >= %(start)s AND day <= %(end)s {groups} "
        "GROUP BY ci_id ORDER BY n DESC, ci_id LIMIT %(limit)s"
    )
    return sql, {"start": start, "end": end, "groups": list(group_ids), "limit": limit}


CI_WINDOWS = "ci_windows"
WINDOW_COLUMNS = ((30, "last_30"), (90, "last_90"), (365, "last_365"), (None, "all_days"))
TOP_CI_CANDIDATES = 200


def top_cis(start: dt.date, end: dt.date, group_ids: list[int], limit: int) -> list[tuple[int, int]]:
    """The `limit` CIs with most incidents on the local days [start, end], as (ci id, incidents), ties by id.

    Exact, and usually without adding up every CI of the range: a CI's count over the range is at most its
    count in the smallest CIWindowCounts window holding the range's past days, plus its count today. One
    statement takes the TOP_CI_CANDIDATES CIs with the largest window counts (every other CI has at most
    `theta`, the smallest of them) and today's CIs, and adds up only those, one (ci, day) index range each
    (LATERAL: joined, the planner scanned the whole range instead); when the last of the top
    `limit` has more than `theta`, no other CI can reach the list. Otherwise (a group filter, windows not
    rebuilt since midnight, or counts too flat to decide) it falls back to adding up the whole range.
    """
    today = local_today()
    yesterday = today - dt.timedelta(days=1)
    column = next(
        c for days, c in WINDOW_COLUMNS if days is None or start > yesterday - dt.timedelta(days=days)
    )
    if not group_ids:
        daily = DailyCIIncidents._meta.db_table
        sql = f"""
            WITH ok AS (
                SELECT count(*) > 0 AS ok FROM {RefreshStamp._meta.db_table}
                WHERE name = %(stamp)s AND at >= %(today_start)s
            ),
            cand AS (
                SELECT ci_id, {column} AS ub FROM {CIWindowCounts._meta.db_table}
                WHERE {column} > 0 ORDER BY {column} DESC LIMIT %(k)s
            ),
            theta AS (SELECT CASE WHEN count(*) < %(k)s THEN 0 ELSE min(ub) END AS theta FROM cand),
            ids AS (
                SELECT ci_id FROM cand
                UNION SELECT ci_id FROM {daily} WHERE day = %(today)s AND day <= %(end)s
            ),
            top AS (
                SELECT ids.ci_id, s.n FROM ids CROSS JOIN LATERAL (
                    SELECT sum(d.incidents)::int AS n FROM {daily} d
                    WHERE d.ci_id = ids.ci_id AND d.day >= %(start)s AND d.day <= %(end)s
                ) s
                WHERE s.n > 0 ORDER BY s.n DESC, ids.ci_id LIMIT %(limit)s
            )
            SELECT ok.ok, theta.theta, top.ci_id, top.n FROM ok CROSS JOIN theta LEFT JOIN top ON true
            ORDER BY top.n DESC, top.ci_id"""
        rows = fetch(
            (
                sql,
                {
                    "stamp": CI_WINDOWS,
                    "today_start": day_start(today),
                    "k": TOP_CI_CANDIDATES,
                    "today": today,
                    "start": start,
                    "end": end,
                    "limit": limit,
                },
            )
        )
        ok, theta = rows[0][0], rows[0][1]
        top = [(ci_id, n) for _ok, _theta, ci_id, n in rows if ci_id is not None]
        if ok and (theta == 0 or (len(top) == limit and top[-1][1] > theta)):
            return top
    return fetch(top_ci_select(start, end, group_ids, limit))


@transaction.atomic
def refresh_ci_windows() -> None:
    """Rebuild CIWindowCounts from the daily CI rollup's past days and stamp it (valid until midnight)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])
    started = timezone.now()
    today = started.astimezone(tz()).date()
    table = CIWindowCounts._meta.db_table
    sums = ", ".join(
        f"COALESCE(sum(incidents) FILTER (WHERE day >= %(today)s - {days}), 0)" if days else "sum(incidents)"
        for days, _column in WINDOW_COLUMNS
    )
    columns = ", ".join(column for _days, column in WINDOW_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            f"INSERT INTO {table} (ci_id, {columns}) SELECT ci_id, {sums} "
            f"FROM {DailyCIIncidents._meta.db_table} WHERE day < %(today)s GROUP BY ci_id",
            {"today": today},
        )
    RefreshStamp.objects.update_or_create(name=CI_WINDOWS, defaults={"at": started})


def fetch(select: tuple[str, dict]) -> list[tuple]:
    sql, params = select
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _upsert(
    model, select: tuple[str, dict], key: list[str], measures: list[str], start, end, conflict=None
) -> int:
    """Insert or update every grouped row of [start, end) and delete the range's rows that vanished.

    One statement: re-running it for the same days gives the same table (idempotent), and a ticket that
    moved to another group or day leaves no stale count behind.
    """
    sql, params = select
    table = model._meta.db_table
    columns = [*key, *measures]
    updates = ", ".join(f"{m} = EXCLUDED.{m}" for m in measures)
    statement = f"""
        WITH new AS ({sql}),
        up AS (
            INSERT INTO {table} ({", ".join(columns)}) SELECT * FROM new
            ON CONFLICT ({", ".join(conflict or key)}) DO UPDATE SET {updates}
            RETURNING id
        )
        DELETE FROM {table} WHERE day >= %(start_day)s AND day < %(end_day)s AND id NOT IN (SELECT id FROM up)"""
    with connection.cursor() as cursor:
        cursor.execute(statement, {**params, "start_day": start, "end_day": end})
        return cursor.rowcount


TODAY = "today"
ROLLUP_LOCK = 7_310_001  # pg advisory lock key: one rollup refresh at a time


@transaction.atomic
def refresh(start: dt.date, end: dt.date) -> None:
    """Recompute every rollup for the local days [start, end); stamp "today" when the range covers it.

    Refreshes take turns (a transaction-scoped advisory lock): the every-minute beat, the ten-minute beat
    and a page view finding today stale may all run at once, and interleaved upserts could deadlock.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])
    started = timezone.now()  # after the wait: the rows below count everything committed by now
    _upsert(
        DailyTicketStats,
        ticket_select(start, end),
        ["day", "kind", "group_id", "priority"],
        list(TICKET_MEASURES),
        start,
        end,
    )
    _upsert(
        DailySLAStats,
        sla_select(start, end),
        ["day", "definition_id", "kind", "group_id"],
        ["met", "breached"],
        start,
        end,
        conflict=["day", "definition_id", "group_id"],
    )
    _upsert(DailyCIIncidents, ci_select(start, end), ["day", "ci_id", "group_id"], ["incidents"], start, end)
    if start < started.astimezone(tz()).date():
        # Past days changed: the CI windows no longer bound them until refresh_ci_windows runs again.
        RefreshStamp.objects.filter(name=CI_WINDOWS).delete()
    if start <= started.astimezone(tz()).date() < end:
        RefreshStamp.objects.update_or_create(name=TODAY, defaults={"at": started})


def today_stamp() -> dt.datetime | None:
    """When today's rollup rows were last computed (None: never)."""
    return RefreshStamp.objects.filter(name=TODAY).values_list("at", flat=True).first()


def refresh_today(stamp: dt.datetime | None = None) -> dt.datetime:
    """Recompute today's rows, and the days since the last stamp when the day rolled over (so yesterday's
    last hours are counted); returns the new stamp."""
    today = local_today()
    start = today if stamp is None else min(today, stamp.astimezone(tz()).date())
    refresh(start, today + dt.timedelta(days=1))
    if start < today:
        refresh_ci_windows()
    return today_stamp()


def first_day() -> dt.date | None:
    """The local day of the oldest ticket of any kind (where a full rebuild starts)."""
    oldest = [
        spec.model.objects.order_by("opened_at").values_list("opened_at", flat=True).first()
        for spec in KINDS.values()
    ]
    oldest = [o for o in oldest if o is not None]
    return min(oldest).astimezone(tz()).date() if oldest else None


def rebuild(*, chunk_days: int = 31) -> int:
    """Recompute all history up to and including today, a month per transaction; returns the days done."""
    start = first_day()
    if start is None:
        return 0
    end = local_today() + dt.timedelta(days=1)
    cursor = start
    while cursor < end:
        stop = min(end, cursor + dt.timedelta(days=chunk_days))
        refresh(cursor, stop)
        cursor = stop
    refresh_ci_windows()
    return (end - start).days


# ------------------------------------------------------------------------------------------ backlog snapshot
AGE_BUCKETS = [  # (label, min age, max age) of open work; BacklogSnapshot.age_<i> holds bucket i
    ("< 1 day", None, dt.timedelta(days=1)),
    ("1-3 days", dt.timedelta(days=1), dt.timedelta(days=3)),
    ("3-7 days", dt.timedelta(days=3), dt.timedelta(days=7)),
    ("7-30 days", dt.timedelta(days=7), dt.timedelta(days=30)),
    ("> 30 days", dt.timedelta(days=30), None),
]
AGE_COLUMNS = [f"age_{i}" for i in range(len(AGE_BUCKETS))]


def backlog_select(now: dt.datetime, kinds=None) -> tuple[str, dict]:
    """Open tickets per kind and group, counted per age bucket as of `now`: (kind, group_id, age_0..4).

    Bucket i holds tickets opened in (now - max age, now - min age]. Each kind is one pass over its
    open states, answered from the (group, state, opened_at) index without reading the table.
    """
    params: dict = {}
    counts = []
    for i, (_label, lo, hi) in enumerate(AGE_BUCKETS):
        conditions = []
        if lo is not None:
            params[f"lo{i}"] = now - lo
            conditions.append(f"opened_at <= %(lo{i})s")
        if hi is not None:
            params[f"hi{i}"] = now - hi
            conditions.append(f"opened_at > %(hi{i})s")
        counts.append(f"count(*) FILTER (WHERE {' AND '.join(conditions)})")
    parts = [
        f"SELECT '{spec.key}' AS kind, assignment_group_id AS group_id, {', '.join(counts)} "
        f"FROM {spec.table} WHERE state = ANY({_sql_list(spec.model.workflow.open_states)}) "
        "GROUP BY assignment_group_id"
        for spec in (KINDS[k] for k in (kinds or KINDS))
    ]
    return "\nUNION ALL\n".join(parts), params


@transaction.atomic
def refresh_backlog(now: dt.datetime | None = None) -> dt.datetime:
    """Replace the backlog snapshot with the counts as of `now` (default: this instant); returns `now`.

    The table lock (which readers never wait for) serialises concurrent refreshes: two beats at once would
    otherwise each delete the old rows and both insert, doubling every count.
    """
    now = now or timezone.now()
    sql, params = backlog_select(now)
    table = BacklogSnapshot._meta.db_table
    columns = ", ".join(["taken_at", "kind", "group_id", *AGE_COLUMNS])
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT %(taken_at)s, x.* FROM ({sql}) x",
            {**params, "taken_at": now},
        )
    return now
