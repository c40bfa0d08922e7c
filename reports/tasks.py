"""Celery tasks that keep the dashboard rollups current."""

import datetime as dt

from celery import shared_task

from . import rollups
from .models import DailyTicketStats

RECENT_DAYS = 7


@shared_task(name="reports.refresh_rollups")
def refresh_rollups(days: int = RECENT_DAYS) -> str:
    """Recompute the last `days` local days (and today); the first run on an empty table rebuilds all.

    Recent days are recomputed, not appended to, because tickets opened on a day keep changing after it
    (answered, resolved, reopened, reassigned); the upsert makes every run idempotent.
    """
    if not DailyTicketStats.objects.exists():
        return f"rebuilt {rollups.rebuild()} days"
    today = rollups.local_today()
    rollups.refresh(today - dt.timedelta(days=days), today + dt.timedelta(days=1))
    rollups.refresh_ci_windows()
    return f"refreshed {days + 1} days"


@shared_task(name="reports.refresh_backlog")
def refresh_backlog() -> str:
    """Retake the backlog snapshot (open tickets by group and age) the dashboard reads."""
    return f"backlog as of {rollups.refresh_backlog().isoformat()}"


@shared_task(name="reports.refresh_today")
def refresh_today() -> str:
    """Recompute today's rollup rows, which the dashboard reads (it no longer counts today live)."""
    return f"today as of {rollups.refresh_today(rollups.today_stamp()).isoformat()}"
