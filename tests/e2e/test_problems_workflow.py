"""An agent links three incidents to a new problem, makes it a known error, publishes the workaround and
resolves the problem together with its incidents, all in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Incident
from incidents.services import incident_create
from problems.models import Problem

pytestmark = pytest.mark.browser


def test_agent_links_incidents_publishes_known_error_and_resolves(page, login, agent):
    numbers = [incident_create(actor=agent, short_description=f"Mail bounces {i}").number for i in range(3)]
    login(page, agent)
    page.goto("/problems/new/")
    page.fill("#id_short_description", "Outbound mail bounces")
    page.click("button:has-text('Create')")
    expect(page.locator("[data-record-number]")).to_have_text(re.compile(r"PRB\d{7}"))
    number = page.locator("[data-record-number]").inner_text()

    page.fill("#link-incidents-form input[name=incidents]", ", ".join(numbers))
    page.click("#link-incidents-form button[type=submit]")
    for incident in numbers:
        expect(page.locator(f"[data-linked-incident={incident}]")).to_be_visible()

    page.click("a:has-text('Edit')")
    page.fill("#id_workaround", "Send through the secondary relay smtp2.")
    page.check("#id_known_error")
    page.click("button:has-text('Save')")
    page.click("[data-action=publish-known-error]")
    expect(page.locator("[data-known-error-article]")).to_contain_text(re.compile(r"KB\d{7}"))

    for to in ("assess", "root_cause_analysis", "fix_in_progress"):
        page.click(f"[data-move={to}]")
        page.click("#transition-panel button[type=submit]")
        expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", to)
    page.click("[data-move=resolved]")
    page.fill("#transition-panel textarea[name=root_cause]", "The primary relay's IP was blocklisted.")
    expect(page.locator("#transition-panel input[name=resolve_incidents]")).to_be_checked()
    page.click("#transition-panel button[type=submit]")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "resolved")

    problem = Problem.objects.get(number=number)
    assert problem.known_error and problem.known_error_article.startswith("KB")
    assert set(Incident.objects.filter(problem=problem).values_list("state", flat=True)) == {"resolved"}
