"""Property tests: the calendar arithmetic agrees with a slow minute-by-minute reference.

The reference applies the definition literally (a minute is working when its local wall time, in the
calendar's zone, is on a weekday range and not on a holiday), so it needs no DST logic of its own. Starts
are drawn around DST changes, weekends and holidays; ranges and starts are minute-aligned, so the
reference is exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sla.calendar import DAY, Calendar, NoWorkingTime

ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC"]
# Instants near DST changes of 2024 in those zones, plus an ordinary week.
ANCHORS = [
    datetime(2024, 3, 31, 0, 0, tzinfo=UTC),
    datetime(2024, 10, 27, 0, 0, tzinfo=UTC),
    datetime(2024, 3, 10, 6, 0, tzinfo=UTC),
    datetime(2024, 11, 3, 5, 0, tzinfo=UTC),
    datetime(2024, 4, 6, 14, 0, tzinfo=UTC),
    datetime(2024, 10, 5, 15, 0, tzinfo=UTC),
    datetime(2024, 6, 12, 9, 0, tzinfo=UTC),
]


def reference_working(cal: Calendar, minute: datetime) -> bool:
    local = minute.astimezone(cal.tz)
    if local.date() in cal.holidays:
        return False
    second = local.hour * 3600 + local.minute * 60
    return any(start <= second < end for start, end in cal.weekly[local.weekday()])


def reference_between(cal: Calendar, start: datetime, end: datetime) -> float:
    total, t = 0, start
    while t < end:
        total += 60 if reference_working(cal, t) else 0
        t += timedelta(minutes=1)
    return float(total)


def reference_add(cal: Calendar, start: datetime, seconds: int) -> datetime:
    t, left = start, seconds
    while left > 0:
        if reference_working(cal, t):
            left -= 60
        t += timedelta(minutes=1)
    return t


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    hours = []
    for weekday in range(7):
        if draw(st.booleans()) and weekday < 5 or draw(st.integers(0, 4)) == 0:
            cuts = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=6)))
            for a, b in zip(cuts[::2], cuts[1::2], strict=False):
                hours.append((weekday, a * 900, b * 900))
    if not hours:
        hours.append((draw(st.integers(0, 6)), 9 * 3600, 17 * 3600))
    anchor = draw(st.sampled_from(ANCHORS))
    holidays = []
    for _ in range(draw(st.integers(0, 2))):
        first = anchor.date() + timedelta(days=draw(st.integers(-2, 6)))
        holidays.append((first, first + timedelta(days=draw(st.integers(0, 2)))))
    return Calendar.build(time_zone=zone, hours=hours, holidays=holidays), anchor


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=calendars(), offset_minutes=st.integers(-3 * 1440, 3 * 1440), minutes=st.integers(1, 3 * 1440))
def test_add_working_seconds_matches_reference(data, offset_minutes, minutes):
    cal, anchor = data
    # A calendar with a quarter hour a week cannot meet a three-day target within the engine's documented
    # search horizon (MAX_SEARCH_DAYS); such targets are refused with NoWorkingTime, tested separately.
    weekly_seconds = sum(end - begin for ranges in cal.weekly for begin, end in ranges)
    assume(minutes * 60 <= weekly_seconds * 52)
    start = anchor + timedelta(minutes=offset_minutes)
    due = cal.add_working_seconds(start, minutes * 60)
    assert due == reference_add(cal, start, minutes * 60)
    assert cal.working_seconds_between(start, due) == minutes * 60


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=calendars(), offset_minutes=st.integers(-3 * 1440, 3 * 1440), span=st.integers(0, 4 * 1440))
def test_working_seconds_between_matches_reference(data, offset_minutes, span):
    cal, anchor = data
    start = anchor + timedelta(minutes=offset_minutes)
    end = start + timedelta(minutes=span)
    assert cal.working_seconds_between(start, end) == reference_between(cal, start, end)


@settings(max_examples=40, deadline=None)
@given(
    data=calendars(),
    offset_minutes=st.integers(-1440, 1440),
    first=st.integers(0, 2 * 86400),
    second=st.integers(0, 2 * 86400),
)
def test_adding_in_two_steps_equals_adding_once(data, offset_minutes, first, second):
    """Pausing exactly at a due time and resuming is the same as one uninterrupted target."""
    cal, anchor = data
    # As above: the whole target must fit within the search horizon (a calendar with a quarter hour a week
    # and two days of target would need more than MAX_SEARCH_DAYS; that refusal is tested separately).
    weekly_seconds = sum(end - begin for ranges in cal.weekly for begin, end in ranges)
    assume(first + second <= weekly_seconds * 52)
    start = anchor + timedelta(minutes=offset_minutes)
    middle = cal.add_working_seconds(start, first)
    assert cal.add_working_seconds(middle, second) == cal.add_working_seconds(start, first + second)


def test_dst_autumn_hour_counts_twice_and_spring_hour_not_at_all():
    cal = Calendar.build(time_zone="Europe/Paris", hours=[(d, 2 * 3600, 3 * 3600) for d in range(7)])
    autumn = cal.working_seconds_between(
        datetime(2024, 10, 27, tzinfo=UTC), datetime(2024, 10, 28, tzinfo=UTC)
    )
    spring = cal.working_seconds_between(datetime(2024, 3, 31, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))
    assert (autumn, spring) == (7200, 0)


def test_multi_day_target_skips_weekend_and_holiday_range():
    """Thu 16:00 Paris + 6 working hours over 9-12/13-17 with Easter (Fri-Mon) off: due Tue 15:00 (CEST)."""
    hours = [(d, 9 * 3600, 12 * 3600) for d in range(5)] + [(d, 13 * 3600, 17 * 3600) for d in range(5)]
    cal = Calendar.build(
        time_zone="Europe/Paris", hours=hours, holidays=[(date(2024, 3, 29), date(2024, 4, 1))]
    )
    start = datetime(2024, 3, 28, 15, 0, tzinfo=UTC)  # 16:00 in Paris
    assert cal.add_working_seconds(start, 6 * 3600) == datetime(2024, 4, 2, 13, 0, tzinfo=UTC)


def test_calendar_without_hours_refuses():
    with pytest.raises(NoWorkingTime):
        Calendar.build(time_zone="UTC").add_working_seconds(datetime(2024, 1, 1, tzinfo=UTC), 60)


def test_always_calendar_is_plain_addition():
    start = datetime(2024, 3, 31, 0, 30, tzinfo=UTC)
    assert Calendar.always().add_working_seconds(start, DAY) == start + timedelta(days=1)
