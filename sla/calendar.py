"""Business-calendar arithmetic, in pure Python (no Django), so it can be tested exhaustively.

Working time is defined on absolute instants: an instant is working time when its wall-clock time in the
calendar's time zone falls on a weekday range and its local date is not a holiday. That one definition
settles every daylight-saving question: an hour skipped in spring is not worked, an hour repeated in
autumn is worked twice when a range covers it. Ranges are seconds of the local day, `[start, end)`, with
`end` up to 86400 (midnight at the end of the day).

`add_working_seconds(start, seconds)` is the earliest instant `t >= start` with
`working_seconds_between(start, t) == seconds`: the due time of a target of `seconds` started at `start`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY = 86400
# A calendar whose working time is this far away is broken (every day a holiday); stop instead of looping.
MAX_SEARCH_DAYS = 3 * 366
# UTC offsets lie within ±14 h; a local day's instants are within this margin of its naive UTC reading.
_MARGIN = timedelta(hours=26)


class NoWorkingTime(ValueError):
    """The calendar has no working time in the searched span (no hours, or holidays cover everything)."""


@dataclass(frozen=True)
class Calendar:
    """`weekly[weekday]` (Monday = 0) is a sorted tuple of non-overlapping `(start, end)` second ranges."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    weekly: tuple[tuple[tuple[int, int], ...], ...] = ((),) * 7
    holidays: frozenset[date] = frozenset()

    @classmethod
    def always(cls) -> Calendar:
        """24x7: every second counts (the default when a definition names no calendar)."""
        return cls(weekly=(((0, DAY),),) * 7)

    @classmethod
    def build(
        cls,
        *,
        time_zone: str = "UTC",
        hours: Iterable[tuple[int, int, int]] = (),
        holidays: Iterable[tuple[date, date | None]] = (),
    ) -> Calendar:
        """From `(weekday, start_second, end_second)` rows and `(first_day, last_day_or_None)` holidays."""
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for weekday, start, end in hours:
            if not (0 <= weekday <= 6 and 0 <= start < end <= DAY):
                raise ValueError(f"Invalid working range {weekday} {start}-{end}")
            days[weekday].append((start, end))
        merged = []
        for ranges in days:
            out: list[tuple[int, int]] = []
            for start, end in sorted(ranges):
                if out and start <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], end))
                else:
                    out.append((start, end))
            merged.append(tuple(out))
        off: set[date] = set()
        for first, last in holidays:
            day = first
            while day <= (last or first):
                off.add(day)
                day += timedelta(days=1)
        return cls(tz=ZoneInfo(time_zone), weekly=tuple(merged), holidays=frozenset(off))

    @property
    def is_always(self) -> bool:
        return not self.holidays and all(ranges == ((0, DAY),) for ranges in self.weekly)

    @property
    def has_hours(self) -> bool:
        return any(self.weekly)

    # --- single instants ---------------------------------------------------------------------------
    def is_working(self, instant: datetime) -> bool:
        local = instant.astimezone(self.tz)
        if local.date() in self.holidays:
            return False
        second = local.hour * 3600 + local.minute * 60 + local.second
        return any(start <= second < end for start, end in self.weekly[local.weekday()])

    # --- intervals -----------------------------------------------------------------------------------
    def _utc_offset(self, naive_utc: datetime) -> timedelta:
        return naive_utc.replace(tzinfo=UTC).astimezone(self.tz).utcoffset() or timedelta(0)

    def _segments(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime, timedelta]]:
        """Split naive-UTC `[lo, hi)` into spans of constant UTC offset.

        Probes every six hours (zones never change offset twice within six hours), then bisects to the
        second between the last probe with the old offset and the first with a new one.
        """
        step = timedelta(hours=6)
        out = []
        start, offset = lo, self._utc_offset(lo)
        probe = lo
        while True:
            previous, probe = probe, min(probe + step, hi)
            if self._utc_offset(probe) != offset:
                good, bad = previous, probe
                while bad - good > timedelta(seconds=1):
                    mid = (good + (bad - good) / 2).replace(microsecond=0)
                    if mid <= good:
                        break
                    if self._utc_offset(mid) == offset:
                        good = mid
                    else:
                        bad = mid
                out.append((start, bad, offset))
                start, offset = bad, self._utc_offset(bad)
                probe = bad
                continue
            if probe >= hi:
                out.append((start, hi, offset))
                return out

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The naive-UTC intervals whose local wall time is a working range of local date `day`."""
        ranges = self.weekly[day.weekday()]
        if not ranges or day in self.holidays:
            return []
        midnight = datetime(day.year, day.month, day.day)
        if self.tz.key == "UTC":
            return [(midnight + timedelta(seconds=s), midnight + timedelta(seconds=e)) for s, e in ranges]
        out = []
        segments = self._segments(midnight - _MARGIN, midnight + timedelta(days=1) + _MARGIN)
        for start, end in ranges:
            local_a = midnight + timedelta(seconds=start)
            local_b = midnight + timedelta(seconds=end)
            for seg_lo, seg_hi, offset in segments:
                lo = max(local_a - offset, seg_lo)
                hi = min(local_b - offset, seg_hi)
                if lo < hi:
                    out.append((lo, hi))
        return out

    def intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (aware UTC datetimes) from `start` onwards, in order, clipped to `start`."""
        origin = start.astimezone(UTC).replace(tzinfo=None)
        if self.is_always:
            yield origin.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
            return
        if not self.has_hours:
            raise NoWorkingTime("The calendar has no working hours.")
        day = (origin - _MARGIN).date()
        pending: list[tuple[datetime, datetime]] = []
        last_yield = origin - _MARGIN
        for _ in range(MAX_SEARCH_DAYS):
            for interval in self._day_intervals(day):
                bisect.insort(pending, interval)
            day += timedelta(days=1)
            # Intervals of later local days start at or after this instant (offsets are within ±14 h).
            horizon = datetime(day.year, day.month, day.day) - timedelta(hours=14)
            while pending and pending[0][0] < horizon:
                lo, hi = pending.pop(0)
                lo = max(lo, origin)
                if lo < hi:
                    last_yield = hi
                    yield lo.replace(tzinfo=UTC), hi.replace(tzinfo=UTC)
            if last_yield - origin > timedelta(days=MAX_SEARCH_DAYS):
                break
        raise NoWorkingTime(f"No working time within {MAX_SEARCH_DAYS} days of {start.isoformat()}.")

    # --- the two operations the SLA engine needs -------------------------------------------------------
    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant at which `seconds` of working time have passed since `start`."""
        if seconds <= 0:
            return start
        if self.is_always:
            return start + timedelta(seconds=seconds)
        remaining = timedelta(seconds=seconds)
        for lo, hi in self.intervals(start):
            span = hi - lo
            if span >= remaining:
                return (lo + remaining).astimezone(start.tzinfo)
            remaining -= span
        raise NoWorkingTime("unreachable")  # intervals() raises first

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds in `[start, end)`; 0 when end is not after start."""
        if end <= start:
            return 0.0
        if self.is_always:
            return (end - start).total_seconds()
        total = timedelta(0)
        end_utc = end.astimezone(UTC)
        try:
            for lo, hi in self.intervals(start):
                if lo >= end_utc:
                    break
                total += min(hi, end_utc) - lo
        except NoWorkingTime:
            pass
        return total.total_seconds()
