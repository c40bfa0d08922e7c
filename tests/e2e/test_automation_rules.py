"""Automation in a real browser: an admin builds a rule in the editor (a condition and an assign action),
previews it and saves it; a requester's portal incident lands with the rule's group and assignee; an agent
applies a macro from the incident's page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from automation import services
from incidents.models import Incident

pytestmark = pytest.mark.browser

# htmx inserts swapped-in content with the class `htmx-added` and wires its hx- attributes only when it
# settles, on a 20 ms timer that a loaded machine delays much longer: a pick made on a row before then fires
# a `change` nobody listens to, so the row is never re-rendered (the cause of this test's timeouts on
# 2026-12-06). Each wait below is for a row htmx has settled, i.e. one without `htmx-added`.
CONDITION_ROW = "[data-testid=condition-row]:not(.htmx-added)"
ACTION_ROW = "[data-testid=action-row]:not(.htmx-added)"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_admin_builds_rule_portal_incident_is_routed_agent_applies_macro(
    page, browser, live_server, login, make_user, make_group, admin_user, agent
):
    members = [make_user(f"net{i}", roles=["agent"]) for i in (1, 2)]
    make_group("network", members=members)
    requester = make_user("rita")

    login(page, admin_user)
    page.goto("/automation/rules/new/")
    page.fill("#rule-name", "Portal incidents to network")
    page.get_by_test_id("add-condition").click()
    page.locator(CONDITION_ROW).wait_for()
    page.locator(CONDITION_ROW).get_by_test_id("condition-field").select_option(label="Assignment group")
    # htmx swaps the row: the value becomes a group picker, and the operators those of a group field.
    page.locator(f"{CONDITION_ROW} select[data-testid=condition-value]").wait_for()
    page.locator(CONDITION_ROW).get_by_test_id("condition-op").select_option("is_empty")
    page.locator(f"{CONDITION_ROW} .form-control-plaintext").wait_for()  # "no value needed"
    page.get_by_test_id("add-action").click()
    action = page.locator(ACTION_ROW)
    action.wait_for()
    action.get_by_test_id("action-group").select_option("network")
    action.get_by_test_id("action-strategy").select_option("round_robin")
    page.get_by_test_id("preview-rule").click()
    preview = page.get_by_test_id("preview-result")
    preview.wait_for()
    assert "Nothing was changed" in preview.inner_text()
    if os.environ.get("ITSM_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "automation-rule-editor.png"))
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url("**/automation/")
    assert "Portal incidents to network" in page.get_by_test_id("rules").inner_text()

    portal = browser.new_context(base_url=live_server.url)
    requester_page = portal.new_page()
    login(requester_page, requester)
    requester_page.goto("/portal/report/")
    requester_page.fill("input[name=short_description]", "Cannot reach the file share")
    requester_page.get_by_role("button", name="Send to the service desk").click()
    requester_page.wait_for_url(re.compile(r"/portal/tickets/INC\d+/$"))
    portal.close()
    incident = Incident.objects.select_related("assignment_group", "assigned_to").get(
        short_description="Cannot reach the file share"
    )
    assert incident.assignment_group.name == "network"
    assert incident.assigned_to.username == "net1"

    services.macro_save(
        actor=admin_user,
        data={
            "name": "Ask for the path",
            "applies_to": "incident",
            "actions": [
                {"type": "comment", "body": "Which share path fails on {{ number }}?", "public": True}
            ],
        },
    )
    page.context.clear_cookies()
    login(page, agent)
    page.goto(f"/incidents/{incident.number}/")
    menu = page.get_by_test_id("macro-menu")
    menu.wait_for()
    menu.get_by_role("button", name="Apply macro").click()
    expect(page.locator("body")).to_contain_text(f"Which share path fails on {incident.number}?")
    expect(page.get_by_test_id("via-macro").first).to_be_visible()
