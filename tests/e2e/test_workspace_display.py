"""What an agent sees in Chromium (issue 21): spaces where the text needs them, seven equal calendar days,
an icon at /favicon.ico."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from changes.models import ChangeTemplate
from changes.services import change_create, change_transition
from incidents.services import incident_create

pytestmark = pytest.mark.browser


def test_titles_and_bulk_bar_read_with_their_spaces(page, login, agent, service_desk):
    incident = incident_create(
        actor=agent, short_description="[demo] VPN drops", assignment_group=service_desk
    )
    login(page, agent)
    page.goto(incident.get_absolute_url())
    assert page.locator(".page-title").inner_text().strip() == f"{incident.number} · [demo] VPN drops"
    page.goto("/incidents/")
    assert page.locator("[data-bulk-panel] summary").inner_text().strip() == "Bulk actions · 0 selected"
    page.check(f"input[name=selected][value={incident.number}]")
    expect(page.locator("[data-bulk-panel] summary")).to_have_text("Bulk actions · 1 selected")


def test_calendar_days_are_equal_whatever_their_entries(page, login, make_user):
    carol = make_user("carol", roles=["change_manager", "agent"])
    start = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    template = ChangeTemplate.objects.create(name="t", short_description="Routine")
    change = change_create(
        actor=carol, template=template, planned_start=start, planned_end=start + timedelta(hours=1),
        short_description="Rotate the certificates of every load balancer in the primary datacentre",
    )  # fmt: skip
    change_transition(change, to="scheduled", actor=carol)
    login(page, carol)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        for mode in ("week", "month"):
            page.goto(f"/changes/calendar/?view={mode}&date={start.date().isoformat()}")
            widths = page.eval_on_selector_all(
                ".itsm-calendar tbody tr:first-child td",
                "cells => cells.map(c => c.getBoundingClientRect().width)",
            )
            assert len(widths) == 7 and max(widths) - min(widths) < 2, widths
            entry = page.locator(f"[data-calendar-change={change.number}]")
            # The whole title is readable inside its day: it wraps instead of being cut off.
            box, cell = entry.bounding_box(), entry.locator("xpath=ancestor::td").bounding_box()
            assert box["x"] >= cell["x"] - 1 and box["x"] + box["width"] <= cell["x"] + cell["width"] + 1
            assert entry.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), (width, mode)
            page.screenshot(path=f"/tmp/i21-cal-{mode}-{width}.png")


def test_favicon_is_served(page, login, agent):
    response = page.request.get("/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in response.body()
