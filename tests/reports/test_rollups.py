"""The rollup tables equal the live computation, stay right when re-run, and forget vanished rows."""

import datetime as dt

from django.core.management import call_command

from incidents.models import Incident
from reports import rollups, tasks
from reports.models import DailyCIIncidents, DailySLAStats, DailyTicketStats


def stored_ticket_rows(start, end):
    rows = DailyTicketStats.objects.filter(day__gte=start, day__lt=end).values_list(
        "day", "kind", "group_id", "priority", *rollups.TICKET_MEASURES
    )
    return sorted(tuple(r) for r in rows)


def live_ticket_rows(start, end):
    return sorted(tuple(r) for r in rollups.fetch(rollups.ticket_select(start, end)))


def test_rollup_equals_live_and_is_idempotent(dataset):
    start, end = dataset.day, rollups.local_today() + dt.timedelta(days=1)
    rollups.refresh(start, end)
    first = stored_ticket_rows(start, end)
    assert first == live_ticket_rows(start, end)
    assert sum(r[4] for r in first) == 9  # 5 incidents + 4 changes opened
    rollups.refresh(start, end)
    assert stored_ticket_rows(start, end) == first
    sla = DailySLAStats.objects.filter(day__gte=start)
    assert sum(sla.values_list("met", flat=True)) == 2 and sum(sla.values_list("breached", flat=True)) == 2
    assert sum(DailyCIIncidents.objects.values_list("incidents", flat=True)) == 4


def test_a_ticket_moving_group_leaves_no_stale_row(dataset):
    start, end = dataset.day, dataset.day + dt.timedelta(days=1)
    Incident.objects.filter(number="INC9000003").update(assignment_group=dataset.network)
    rollups.refresh(start, end)
    assert stored_ticket_rows(start, end) == live_ticket_rows(start, end)
    assert not DailyTicketStats.objects.filter(day=start, kind="incident", group=dataset.desk).exists()


def test_command_and_task_rebuild_everything(dataset):
    DailyTicketStats.objects.all().delete()
    call_command("rebuild_rollups")
    end = rollups.local_today() + dt.timedelta(days=1)
    assert stored_ticket_rows(dataset.day, end) == live_ticket_rows(dataset.day, end)
    DailyTicketStats.objects.filter(day=dataset.day).delete()
    tasks.refresh_rollups()
    assert stored_ticket_rows(dataset.day, end) == live_ticket_rows(dataset.day, end)
