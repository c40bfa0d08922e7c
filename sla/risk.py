"""At-risk SLA timers (SPEC §7): which running timers will breach unless someone acts, before 75% warns.

Two beat jobs, so a list filter is one indexed Exists and never a history query per row:

- `refresh_duration_stats` (hourly) rebuilds DurationStat: for each (ticket kind, timer target, priority,
  assignment group), and for each (kind, target, priority) over all groups, 21 quantiles of the working
  seconds timers needed to reach their stop, from timers stopped (met or breached, then stopped) in the
  last HISTORY_DAYS days. One SQL statement per ticket kind (percentile_cont with GROUPING SETS).
- `refresh_at_risk` (every minute) sets `Timer.at_risk` and `predicted_breach_at` on running timers.

The prediction: the remaining work is the conditional median of similar tickets' durations given the time
this timer has already run (the median of what is left for the similar tickets that had not stopped by
now); a resolution timer whose ticket nobody is assigned to, or that is still new, is predicted to need at
least a whole median from now (no one has started). The timer is at risk when that remaining time exceeds
the working time left before its due time; its predicted breach is then its due time. With fewer than
MIN_SAMPLES similar stops the group is widened to every group of the same kind, target and priority, and
without those either the plain rule applies: at risk from 75% elapsed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from core.models import TicketBase

from .models import DurationStat, Target, Timer, TimerState

HISTORY_DAYS = 90
MIN_SAMPLES = 5
QUANTILE_POINTS = [i / 20 for i in range(21)]  # 0%, 5%, ... 100%
FALLBACK_PERCENT = 75.0
ALL_GROUPS = 0
NO_GROUP = -1


def _ticket_models() -> list:
    found, stack = [], list(TicketBase.__subclasses__())
    while stack:
        model = stack.pop()
        stack.extend(model.__subclasses__())
        if not model._meta.abstract and not model._meta.proxy and hasattr(model, "KIND"):
            found.append(model)
    return found


_STATS_SQL = """
SELECT t.target, i.priority,
       CASE WHEN GROUPING(i.assignment_group_id) = 1 THEN 0 ELSE coalesce(i.assignment_group_id, -1) END,
       count(*),
       percentile_cont(%(points)s::float8[]) WITHIN GROUP (ORDER BY t.elapsed_seconds)
FROM sla_timer t
JOIN {table} i ON i.id = t.object_id
WHERE t.content_type_id = %(ct)s AND t.stopped_at >= %(since)s AND t.state IN ('met', 'breached')
GROUP BY GROUPING SETS ((t.target, i.priority, i.assignment_group_id), (t.target, i.priority))
"""


def refresh_duration_stats(*, now: datetime | None = None) -> int:
    """Rebuild the DurationStat table from the last HISTORY_DAYS days of stopped timers; returns its rows."""
    now = now or timezone.now()
    rows = []
    for model in _ticket_models():
        ct = ContentType.objects.get_for_model(model)
        with connection.cursor() as cursor:
            cursor.execute(
                _STATS_SQL.format(table=connection.ops.quote_name(model._meta.db_table)),
                {"points": QUANTILE_POINTS, "ct": ct.pk, "since": now - timedelta(days=HISTORY_DAYS)},
            )
            for target, priority, group_id, samples, quantiles in cursor.fetchall():
                rows.append(
                    DurationStat(
                        kind=model.KIND,
                        target=target,
                        priority=priority,
                        group_id=group_id,
                        samples=samples,
                        quantiles=[float(q) for q in quantiles],
                        computed_at=now,
                    )
                )
    with transaction.atomic():
        DurationStat.objects.all().delete()
        DurationStat.objects.bulk_create(rows)
    return len(rows)


def _quantile(q: list[float], p: float) -> float:
    """The p-quantile read off the 21-point grid, linearly interpolated."""
    position = max(0.0, min(1.0, p)) * (len(q) - 1)
    low = int(position)
    high = min(low + 1, len(q) - 1)
    return q[low] + (q[high] - q[low]) * (position - low)


def _rank(q: list[float], value: float) -> float:
    """The share of similar tickets that had stopped by `value` seconds (inverse of `_quantile`)."""
    if value <= q[0]:
        return 0.0
    if value >= q[-1]:
        return 1.0
    step = 1 / (len(q) - 1)
    for index in range(1, len(q)):
        if value < q[index]:
            span = q[index] - q[index - 1]
            return step * (index - 1 + ((value - q[index - 1]) / span if span else 0))
    return 1.0


def predicted_remaining(q: list[float], elapsed: float, *, unworked: bool) -> float:
    """Working seconds this timer is predicted to still need before its stop (see the module docstring)."""
    median = _quantile(q, 0.5)
    # Longer than every similar ticket: the tail is unknown, assume a quarter of the median is left.
    tail = elapsed >= q[-1]
    remaining = 0.25 * median if tail else _quantile(q, (_rank(q, elapsed) + 1) / 2) - elapsed
    if unworked:
        remaining = max(remaining, median)
    return max(0.0, remaining)


def assess(
    timer: Timer, ticket, stats: dict, *, now: datetime, kind: str, initial_state: str
) -> tuple[bool, datetime | None]:
    """(at_risk, predicted_breach_at) of one running timer."""
    duration = timer.definition.duration
    elapsed = timer.live_elapsed(now)
    time_left = duration - elapsed
    if time_left <= 0:
        return True, timer.due_at
    stat = None
    for group_id in (ticket.assignment_group_id or NO_GROUP, ALL_GROUPS):
        candidate = stats.get((kind, timer.target, ticket.priority, group_id))
        if candidate is not None and candidate.samples >= MIN_SAMPLES:
            stat = candidate
            break
    if stat is None:
        at_risk = 100.0 * elapsed / max(1, duration) >= FALLBACK_PERCENT
    else:
        unworked = timer.target == Target.RESOLUTION and (
            ticket.assigned_to_id is None or ticket.state == initial_state
        )
        at_risk = predicted_remaining(stat.quantiles, elapsed, unworked=unworked) > time_left
    return at_risk, (timer.due_at if at_risk else None)


def refresh_at_risk(*, now: datetime | None = None) -> int:
    """Recompute at_risk/predicted_breach_at on every running timer; returns how many timers changed.

    One query for the statistics, one for the running timers, one per ticket kind for the tickets, and
    one UPDATE for the timers whose answer changed."""
    now = now or timezone.now()
    stats = {(s.kind, s.target, s.priority, s.group_id): s for s in DurationStat.objects.all()}
    timers = list(
        Timer.objects.filter(state=TimerState.RUNNING)
        .select_related("definition__calendar")
        .prefetch_related("definition__calendar__hours", "definition__calendar__holidays")
    )
    by_type: dict[int, list[Timer]] = defaultdict(list)
    for timer in timers:
        by_type[timer.content_type_id].append(timer)
    changed = []
    for ct_id, group in by_type.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        tickets = model.objects.only(
            "id", "priority", "assignment_group_id", "assigned_to_id", "state"
        ).in_bulk([t.object_id for t in group])
        for timer in group:
            ticket = tickets.get(timer.object_id)
            if ticket is None:
                continue
            at_risk, breach_at = assess(
                timer, ticket, stats, now=now, kind=model.KIND, initial_state=model.workflow.initial
            )
            if (at_risk, breach_at) != (timer.at_risk, timer.predicted_breach_at):
                timer.at_risk, timer.predicted_breach_at = at_risk, breach_at
                changed.append(timer)
    Timer.objects.bulk_update(changed, ["at_risk", "predicted_breach_at"], batch_size=1000)
    stale = Timer.objects.filter(at_risk=True).exclude(state=TimerState.RUNNING)
    return len(changed) + stale.update(at_risk=False, predicted_breach_at=None)
