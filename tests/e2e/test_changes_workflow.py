"""A change manager raises a normal change on a server; two CAB members approve it; it is scheduled,
implemented and closed. A second change on a database running on that server, in an overlapping window,
shows the conflict and is scheduled only with an override."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from changes.models import Change
from cmdb.models import CIClass, ConfigurationItem, Relationship

pytestmark = pytest.mark.browser


def move(page, to, fill=None):
    page.click(f"[data-move={to}]")
    for selector, value in (fill or {}).items():
        page.fill(selector, value)
    page.click("#transition-panel button[type=submit]")


def test_cab_approval_schedule_and_conflict_override(page, login, make_user):
    carol = make_user("carol", roles=["change_manager", "agent"])
    dave = make_user("dave", roles=["cab_member"])
    erin = make_user("erin", roles=["cab_member"])
    server = ConfigurationItem.objects.create(name="srv-db-01", ci_class=CIClass.objects.get(name="server"))
    database = ConfigurationItem.objects.create(name="shopdb", ci_class=CIClass.objects.get(name="database"))
    Relationship.objects.create(source=database, target=server, type="runs_on")
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    fmt = "%Y-%m-%dT%H:%M"

    login(page, carol)
    page.goto("/changes/new/")
    page.fill("#id_short_description", "Patch srv-db-01 kernel")
    page.fill("#id_configuration_items", f"{server.name} (Server)")
    page.press("#id_configuration_items", "Tab")  # leave the picker (its list closes)
    page.fill("#id_planned_start", start.strftime(fmt))
    page.fill("#id_planned_end", (start + timedelta(hours=2)).strftime(fmt))
    page.fill("#id_cab_approvers", "dave, erin")
    page.press("#id_cab_approvers", "Tab")  # leave the picker (its list closes)
    page.click("button:has-text('Create')")
    expect(page.locator("[data-record-number]")).to_have_text(re.compile(r"CHG\d{7}"))
    first = page.locator("[data-record-number]").inner_text()
    move(page, "assess")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "assess")
    move(page, "authorize")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "authorize")

    for member in (dave, erin):
        page.context.clear_cookies()
        login(page, member)
        page.goto(f"/changes/{first}/")
        page.fill("#cab-comment", f"OK from {member.username}")
        page.click("[data-action=approve]")
        expect(page.locator(f"[data-approver={member.username}]")).to_have_attribute(
            "data-approval-state", "approved"
        )
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "scheduled")

    page.context.clear_cookies()
    login(page, carol)
    page.goto("/changes/new/")
    page.fill("#id_short_description", "Upgrade shopdb")
    page.fill("#id_configuration_items", f"{database.name} (Database)")
    page.press("#id_configuration_items", "Tab")  # leave the picker (its list closes)
    page.fill("#id_planned_start", (start + timedelta(hours=1)).strftime(fmt))
    page.fill("#id_planned_end", (start + timedelta(hours=3)).strftime(fmt))
    page.fill("#id_cab_approvers", "dave")
    page.press("#id_cab_approvers", "Tab")  # leave the picker (its list closes)
    page.click("button:has-text('Create')")
    second = page.locator("[data-record-number]").inner_text()
    expect(page.locator(f"#change-conflicts [data-conflict={first}]")).to_contain_text("1 hop away")
    move(page, "assess")
    move(page, "authorize")
    page.context.clear_cookies()
    login(page, dave)
    page.goto(f"/changes/{second}/")
    page.click("[data-action=approve]")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "authorize")

    page.context.clear_cookies()
    login(page, carol)
    page.goto(f"/changes/{second}/")
    move(page, "scheduled")
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_contain_text("conflict")
    page.check("input[name=override_conflicts]")
    page.fill("textarea[name=override_reason]", "Same DBA team, sequenced in the runbook")
    page.click("#transition-panel button:has-text('Schedule')")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "scheduled")
    assert Change.objects.get(number=second).state == "scheduled"

    page.goto(f"/changes/{first}/")
    move(page, "implement")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "implement")
    page.click("[data-move=review]")
    page.select_option("#transition-panel select[name=close_code]", "successful")
    page.click("#transition-panel button[type=submit]")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "review")
    move(page, "closed", {"#transition-panel textarea[name=review_notes]": "Patched, no incidents."})
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "closed")
    change = Change.objects.get(number=first)
    assert change.close_code == "successful" and change.closed_at is not None
