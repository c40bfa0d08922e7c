"""The agent's triage flow and the requester's portal flow in Chromium (issue 21), on a laptop
(1280x800) and a phone (390x844): keyboard shortcuts, Assign to me, verbs, a move's errors in place,
no horizontal overflow; the portal's resolution, reopen and files.

`ITSM_SCREENSHOTS=1` also writes the README's screenshots to docs/screenshots/.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cmdb.models import CIClass, ConfigurationItem, Relationship
from incidents.models import Incident
from incidents.services import incident_create, incident_transition

pytestmark = pytest.mark.browser

VIEWPORTS = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shoot(page, name):
    if os.environ.get("ITSM_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"))


def no_horizontal_overflow(page):
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_agent_triages_with_the_keyboard(page, login, agent, service_desk, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    server = ConfigurationItem.objects.create(name="vpn-gw-1", ci_class=CIClass.objects.get(name="server"))
    incident_create(
        actor=agent, short_description="VPN drops every ten minutes", assignment_group=service_desk,
        impact=1, urgency=1, configuration_items=[server],
    )  # fmt: skip
    incident_create(actor=agent, short_description="Printer jams on floor 2", assignment_group=service_desk)
    login(page, agent)
    page.goto("/incidents/")
    assert no_horizontal_overflow(page)
    if viewport == "laptop":
        shoot(page, "incident-list")
        # The table itself fits: every column, up to the row actions, is on screen without scrolling.
        for column in ("sla", "assignment_group", "updated_at"):
            box = page.locator(f"th[data-column={column}]").bounding_box()
            assert box["x"] + box["width"] <= 1280, column
        actions = page.locator("[data-assign-to-me]").first.bounding_box()
        assert actions["x"] + actions["width"] <= 1280

    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    expect(page.locator("#shortcut-help")).to_contain_text("Assign the selected row")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcut-help")).to_be_hidden()

    rows = page.locator(".itsm-ticket-table tbody tr[data-number]")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("row-focused"))
    focused = rows.nth(0).get_attribute("data-number")
    page.keyboard.press("a")  # assign the focused row to me
    expect(page.locator(".alert, .toast").first).to_contain_text("assigned to you")
    assert Incident.objects.get(number=focused).assigned_to == agent

    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("[data-record-number]")).to_have_text(focused)
    page.keyboard.press("c")
    assert page.evaluate("document.activeElement.name") == "body"
    page.evaluate("document.activeElement.blur()")

    # Verbs, and a move's errors in place: the ticket stays on screen.
    expect(page.locator("[data-move=resolved]")).to_have_text("Resolve")
    page.click("[data-move=resolved]")
    page.click("#transition-panel button[type=submit]")
    expect(page.locator("#transition-panel .invalid-feedback").first).to_be_visible()
    expect(page.locator("[data-record-number]")).to_be_visible()
    page.select_option("#transition-panel select[name=resolution_code]", "solved")
    page.fill("#transition-panel textarea[name=resolution_notes]", "Replaced the VPN gateway's **firmware**")
    page.click("#transition-panel button[type=submit]")
    expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "resolved")
    expect(page.locator("[data-resolution]")).to_contain_text("Resolution: Solved")
    expect(page.locator("[data-move=in_progress]")).to_have_text("Reopen")
    assert no_horizontal_overflow(page)
    if viewport == "laptop":
        shoot(page, "incident")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_requester_reads_the_resolution_reopens_and_attaches(
    page, login, requester, agent, service_desk, viewport, tmp_path
):
    page.set_viewport_size(VIEWPORTS[viewport])
    login(page, requester)
    page.goto("/portal/report/")
    page.fill("#id_short_description", "Outlook asks for my password")
    shot = tmp_path / "prompt.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    page.set_input_files("#id_attachment", str(shot))
    page.click("[data-testid=report-form] button[type=submit]")
    expect(page.locator("[data-testid=attachments]")).to_contain_text("prompt.png")
    incident = Incident.objects.get(short_description="Outlook asks for my password")
    incident_transition(
        incident, to="resolved", actor=agent,
        fields={"resolution_code": "solved", "resolution_notes": "Reset the cached credentials"},
    )  # fmt: skip

    page.reload()
    expect(page.locator("[data-testid=resolution]")).to_contain_text("Reset the cached credentials")
    expect(page.locator("[data-testid=survey-form]")).to_be_visible()
    assert no_horizontal_overflow(page)
    if viewport == "laptop":
        shoot(page, "portal-ticket")
    page.click("[data-testid=reopen] summary")
    page.fill("[data-testid=reopen] textarea[name=body]", "It asks again every morning")
    page.click("[data-testid=reopen] button[type=submit]")
    expect(page.locator("[data-testid=ticket-state]")).to_contain_text("In progress")
    incident.refresh_from_db()
    assert incident.state == "in_progress"


def test_screens_for_the_readme(page, login, make_user):
    """The change list, calendar and a CMDB CI page (the other screenshots come from the flows above)."""
    from datetime import timedelta

    from django.utils import timezone

    from changes.models import ChangeTemplate
    from changes.services import change_create, change_transition

    page.set_viewport_size(VIEWPORTS["laptop"])
    carol = make_user("carol", roles=["change_manager", "agent", "cmdb_manager"])
    shop = ConfigurationItem.objects.create(
        name="Online shop", ci_class=CIClass.objects.get(name="business_service")
    )
    vm = ConfigurationItem.objects.create(
        name="vm-shop-01", ci_class=CIClass.objects.get(name="virtual_machine"), attributes={"cpu_count": 4}
    )
    Relationship.objects.create(source=shop, target=vm, type="runs_on")
    start = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    template = ChangeTemplate.objects.create(name="Restart", short_description="Restart the shop")
    change = change_create(
        actor=carol, template=template, planned_start=start, planned_end=start + timedelta(hours=1),
        configuration_items=[vm],
    )  # fmt: skip
    change_transition(change, to="scheduled", actor=carol)
    login(page, carol)
    for url, name in (
        ("/changes/?view=all", "change-list"),
        (f"/changes/calendar/?date={start.date().isoformat()}", "change-calendar"),
        (f"/cmdb/cis/{vm.pk}/", "cmdb-ci"),
    ):
        page.goto(url)
        body = page.locator("body").inner_text()
        assert "functools" not in body and "runs_on" not in body and "cpu_count" not in body
        assert no_horizontal_overflow(page), url
        shoot(page, name)
