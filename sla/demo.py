"""Demo SLA configuration for `make run`: an office-hours calendar and response/resolution targets for
incidents by priority, escalating to the group manager and to the network team. Idempotent (by name)."""

from __future__ import annotations

from datetime import time

from .models import BusinessCalendar, SLADefinition

HOUR = 3600
# (name, target, priorities, duration, office hours?, escalations)
DEFINITIONS = [
    ("P1 response (15 min)", "response", [1], 15 * 60, False, [{"at": 90, "action": "notify_group"}]),
    (
        "P1 resolution (4 h)",
        "resolution",
        [1],
        4 * HOUR,
        False,
        [
            {"at": 75, "action": "notify_manager"},
            {"at": 100, "action": "reassign", "group": "network"},
        ],
    ),
    ("P2 resolution (8 h)", "resolution", [2], 8 * HOUR, False, [{"at": 90, "action": "notify_assignee"}]),
    (
        "P3-P5 resolution (3 business days)",
        "resolution",
        [3, 4, 5],
        3 * 8 * HOUR,
        True,
        [
            {"at": 100, "action": "raise_priority"},
        ],
    ),
]


def load(*, users, groups) -> None:
    calendar, created = BusinessCalendar.objects.get_or_create(
        name="Office hours (Paris)",
        defaults={"time_zone": "Europe/Paris", "description": "Mon-Fri 09:00-12:30 and 13:30-18:00"},
    )
    if created:
        for weekday in range(5):
            calendar.hours.create(weekday=weekday, start=time(9, 0), end=time(12, 30))
            calendar.hours.create(weekday=weekday, start=time(13, 30), end=time(18, 0))
        calendar.holidays.create(name="Christmas break", date="2026-12-24", end_date="2026-12-26")
    for name, target, priorities, duration, office, escalations in DEFINITIONS:
        if SLADefinition.objects.filter(name=name).exists():
            continue
        definition = SLADefinition(
            name=name,
            applies_to="incident",
            target=target,
            conditions={"priority": priorities},
            duration=duration,
            calendar=calendar if office else None,
            escalations=[e for e in escalations if e.get("group") in (None, *groups)],
        )
        definition.full_clean()
        definition.save()
