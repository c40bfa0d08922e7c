"""An agent works incidents in a real browser: the whole life of one incident, and a bulk assignment."""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Incident
from incidents.services import incident_create

pytestmark = pytest.mark.browser


def test_agent_creates_assigns_comments_holds_resolves_and_reopens(page, login, agent, service_desk):
    login(page, agent)
    page.goto("/incidents/new/")
    page.fill("#id_short_description", "Laptop will not boot")
    page.select_option("#id_impact", "2")
    page.select_option("#id_urgency", "1")
    page.fill("#id_assignment_group", "service-desk")  # a picker: the name is what it holds
    page.press("#id_assignment_group", "Tab")  # leave the picker (its list closes)
    page.click("button:has-text('Create')")
    expect(page.locator("[data-record-number]")).to_have_text(re.compile(r"INC\d{7}"))
    number = page.locator("[data-record-number]").inner_text()
    assert Incident.objects.get(number=number).priority == 2

    page.click("a:has-text('Edit')")
    page.fill("#id_assigned_to", agent.username)
    page.press("#id_assigned_to", "Tab")  # leave the picker (its list closes)
    page.click("button:has-text('Save')")
    expect(page.locator(".itsm-fields")).to_contain_text(agent.username)

    page.fill("#comment-form textarea[name=body]", "Asked the caller for the error code")
    page.check("#comment-form input[value=public]")
    page.click("#comment-form button[type=submit]")
    expect(page.locator("#ticket-activity .timeline-body").last).to_have_text(
        "Asked the caller for the error code"
    )
    expect(page.locator("#comment-form textarea[name=body]")).to_have_value("")

    page.click("[data-move=on_hold]")
    page.select_option("#transition-panel select[name=hold_reason]", "awaiting_caller")
    page.click("#transition-panel button[type=submit]")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "on_hold")

    page.click("[data-move=resolved]")
    page.click("#transition-panel button[type=submit]")  # nothing filled in: the form says what is missing
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    page.select_option("select[name=resolution_code]", "solved")
    page.fill("textarea[name=resolution_notes]", "Replaced the disk")
    page.click("#transition-panel button:has-text('Resolve')")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "resolved")

    page.click("[data-move=in_progress]")
    page.click("#transition-panel button[type=submit]")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "in_progress")
    incident = Incident.objects.get(number=number)
    assert incident.assigned_to == agent and incident.resolution_code == "" and incident.resolved_at is None
    assert incident.activities.filter(kind="state_change").count() == 3


def test_agent_bulk_assigns_twenty_incidents(page, login, agent, service_desk):
    numbers = [
        incident_create(actor=agent, short_description=f"Bulk {i:02d}", assignment_group=service_desk).number
        for i in range(20)
    ]
    login(page, agent)
    page.goto("/incidents/?view=unassigned&page_size=25")
    expect(page.locator("a[data-view=unassigned] [data-count]")).to_have_text("20")
    page.check("[data-bulk-select-all]")
    expect(page.locator("[data-bulk-count]")).to_have_text("20")
    page.select_option("#id_action", "assign")
    page.fill("#id_assigned_to", agent.username)
    page.press("#id_assigned_to", "Tab")  # leave the picker (its list closes)
    page.click("button:has-text('Apply to selected')")
    expect(page.locator(".alert-success")).to_contain_text("20 incidents updated")
    expect(page.locator("a[data-view=my_work] [data-count]")).to_have_text("20")
    assigned = Incident.objects.filter(number__in=numbers, assigned_to=agent).count()
    assert assigned == 20
