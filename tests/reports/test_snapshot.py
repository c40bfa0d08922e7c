"""The backlog snapshot equals a live count of the open tickets, is replaced (never added to) on refresh, is
read while fresh and retaken when stale; the top-CI table sums past rollups and today's live rows in SQL."""

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from incidents.models import Incident
from reports import metrics, rollups, tasks
from reports.models import BacklogSnapshot


def live_backlog(now):
    """The backlog counted with the ORM, bucket by bucket, independently of the snapshot's SQL."""
    result = {}
    for key, spec in rollups.KINDS.items():
        aggregates = {}
        for i, (_label, lo, hi) in enumerate(rollups.AGE_BUCKETS):
            cond = Q()
            if lo is not None:
                cond &= Q(opened_at__lte=now - lo)
            if hi is not None:
                cond &= Q(opened_at__gt=now - hi)
            aggregates[f"age_{i}"] = Count("pk", filter=cond)
        rows = (
            spec.model.objects.filter(state__in=spec.model.workflow.open_states)
            .values("assignment_group_id")
            .annotate(**aggregates)
            .order_by()
        )
        for row in rows:
            result[(key, row["assignment_group_id"])] = [row[c] for c in rollups.AGE_COLUMNS]
    return result


def stored_backlog():
    return {
        (r.kind, r.group_id): [getattr(r, c) for c in rollups.AGE_COLUMNS]
        for r in BacklogSnapshot.objects.all()
    }


def test_snapshot_equals_live_count_and_is_replaced_on_refresh(dataset):
    now = timezone.now()
    rollups.refresh_backlog(now)
    rollups.refresh_backlog(now)  # a second run replaces the rows, it does not add to them
    assert stored_backlog() == live_backlog(now)
    assert stored_backlog()[("incident", dataset.desk.pk)] == [0, 0, 1, 0, 0]  # INC4, four days old
    assert set(BacklogSnapshot.objects.values_list("taken_at", flat=True)) == {now}
    later = now + dt.timedelta(days=2)  # INC5 (opened just now) is then two days old
    Incident.objects.filter(pk=dataset.incidents[4].pk).update(state="resolved")
    rollups.refresh_backlog(later)
    assert stored_backlog() == live_backlog(later)
    assert ("incident", dataset.desk.pk) not in stored_backlog()
    assert stored_backlog()[("incident", dataset.network.pk)] == [0, 1, 0, 0, 0]


def test_page_reads_a_fresh_snapshot_and_retakes_a_stale_one(dataset, manager):
    f = metrics.Filters(start=dataset.day, end=rollups.local_today())
    taken = rollups.refresh_backlog()
    Incident.objects.filter(pk=dataset.incidents[5].pk).update(state="resolved")
    rows = {(r[0].value, r[1].value): r[-1].value for r in metrics.backlog_table(manager, f).rows}
    assert rows[("incident", "network")] == 1  # as of the snapshot, a moment ago
    assert f"as of {timezone.localtime(taken):%H:%M}" in metrics.backlog_table(manager, f).note
    BacklogSnapshot.objects.update(taken_at=taken - metrics.BACKLOG_MAX_AGE - dt.timedelta(seconds=1))
    rows = {(r[0].value, r[1].value): r[-1].value for r in metrics.backlog_table(manager, f).rows}
    assert ("incident", "network") not in rows
    assert rows[("incident", "service-desk")] == 1


def test_backlog_links_count_from_the_snapshot_instant(dataset, manager):
    f = metrics.Filters(start=dataset.day, end=rollups.local_today())
    taken = rollups.refresh_backlog()
    row = next(r for r in metrics.backlog_table(manager, f).rows if r[1].value == "service-desk")
    assert (taken - dt.timedelta(days=7)).isoformat().replace("+", "%2B").replace(":", "%3A") in row[4].href


def test_beat_task_retakes_the_snapshot(dataset):
    BacklogSnapshot.objects.all().delete()
    assert tasks.refresh_backlog().startswith("backlog as of")
    assert stored_backlog() == live_backlog(BacklogSnapshot.objects.first().taken_at)


def test_top_cis_sum_past_days_and_today_per_group(dataset, manager):
    f = metrics.Filters(start=dataset.day, end=rollups.local_today(), groups=(dataset.network,))
    assert metrics.top_ci_counts(f, 10) == [(dataset.cis["db01"].pk, 3)]  # two past days, one today
    only_past = metrics.Filters(start=dataset.day, end=dataset.day)
    assert metrics.top_ci_counts(only_past, 1) == [(dataset.cis["db01"].pk, 2)]
    only_today = metrics.Filters(start=rollups.local_today(), end=rollups.local_today())
    assert metrics.top_ci_counts(only_today, 10) == [(dataset.cis["db01"].pk, 1)]


def test_today_is_read_from_rollups_refreshed_when_stale(dataset, manager):
    from reports.models import RefreshStamp

    f = metrics.Filters(start=rollups.local_today(), end=rollups.local_today())
    assert rollups.today_stamp() is None  # the fixture rolled up past days only
    opened = {(r[0].value, r[1].value): r[2].value for r in metrics.volume_table(manager, f).rows}
    assert opened[("incident", 4)] == 1  # INC5: today was computed on first read
    stamp = rollups.today_stamp()
    Incident.objects.filter(pk=dataset.incidents[5].pk).update(priority=3)
    opened = {(r[0].value, r[1].value): r[2].value for r in metrics.volume_table(manager, f).rows}
    assert opened[("incident", 4)] == 1  # fresh rows are read as they are
    assert f"as of {timezone.localtime(stamp):%H:%M}" in metrics.volume_table(manager, f).note
    RefreshStamp.objects.update(at=stamp - metrics.TODAY_MAX_AGE - dt.timedelta(seconds=1))
    opened = {(r[0].value, r[1].value): r[2].value for r in metrics.volume_table(manager, f).rows}
    assert (opened[("incident", 3)], opened[("incident", 4)]) == (1, 0)
    assert rollups.today_stamp() > stamp


def test_beat_task_recomputes_today_and_yesterday_after_midnight(dataset):
    from reports.models import DailyTicketStats, RefreshStamp

    yesterday = rollups.local_today() - dt.timedelta(days=1)
    Incident.objects.filter(pk=dataset.incidents[4].pk).update(opened_at=rollups.day_start(yesterday))
    # a stamp from yesterday: the last hours of yesterday were never counted
    RefreshStamp.objects.create(name=rollups.TODAY, at=rollups.day_start(yesterday))
    assert tasks.refresh_today().startswith("today as of")
    assert DailyTicketStats.objects.filter(day=yesterday, kind="incident", opened=1).exists()
    assert DailyTicketStats.objects.filter(day=rollups.local_today(), kind="incident", opened=1).exists()


def full_top(start, end, limit):
    return rollups.fetch(rollups.top_ci_select(start, end, [], limit))


def test_top_cis_pruned_by_windows_equal_the_full_sum(dataset, monkeypatch, django_assert_num_queries):
    from reports.models import RefreshStamp

    rollups.refresh_today()
    rollups.refresh_ci_windows()
    today = rollups.local_today()
    ranges = [(dataset.day, today), (dataset.day, today - dt.timedelta(days=1)), (today, today)]
    ranges += [(today - dt.timedelta(days=400), today), (dataset.day + dt.timedelta(days=1), today)]
    for candidates in (200, 1):
        monkeypatch.setattr(rollups, "TOP_CI_CANDIDATES", candidates)
        for start, end in ranges:
            for limit in (1, 10):
                assert rollups.top_cis(start, end, [], limit) == full_top(start, end, limit), (start, end)
    with django_assert_num_queries(1):  # one candidate (db01: 2 past), it has 3 with today: decided
        assert rollups.top_cis(dataset.day, today, [], 1) == [(dataset.cis["db01"].pk, 3)]
    rollups.refresh(dataset.day, dataset.day + dt.timedelta(days=1))  # past days changed: windows void
    assert not RefreshStamp.objects.filter(name=rollups.CI_WINDOWS).exists()
    with django_assert_num_queries(2):  # the window attempt, then the full sum
        assert rollups.top_cis(dataset.day, today, [], 1) == [(dataset.cis["db01"].pk, 3)]
