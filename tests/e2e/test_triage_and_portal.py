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
        if name == "change-list":  # the table itself fits, up to its last column
            last = page.locator(".itsm-ticket-table thead th").last.bounding_box()
            assert last["x"] + last["width"] <= 1280
        shoot(page, name)


def pick(page, selector, text, expected_value, shot=None):
    """Type into a picker, check the combobox's ARIA state, move with ArrowDown and pick with Enter."""
    box = page.locator(selector)
    box.focus()
    box.press("End")  # after what is already there (a multiple picker adds to its list)
    box.press_sequentially(text, delay=20)
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(listbox.locator("[role=option]").first).to_be_visible()
    if shot:
        shoot(page, shot)
    options = listbox.locator("[role=option]")
    for i in range(options.count()):
        box.press("ArrowDown")
        if options.nth(i).get_attribute("data-value") == expected_value:
            break
    else:
        raise AssertionError(f"{expected_value!r} not offered for {text!r}: {listbox.inner_text()}")
    expect(box).to_have_attribute("aria-activedescendant", options.nth(i).get_attribute("id"))
    box.press("Enter")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_agent_fills_an_incident_with_pickers_by_keyboard(
    page, login, agent, requester, service_desk, viewport
):
    page.set_viewport_size(VIEWPORTS[viewport])
    server = ConfigurationItem.objects.create(name="payroll-db", ci_class=CIClass.objects.get(name="server"))
    app = ConfigurationItem.objects.create(name="payroll", ci_class=CIClass.objects.get(name="application"))
    parent = incident_create(actor=agent, short_description="Payroll export fails for everyone")
    login(page, agent)
    page.goto("/incidents/new/")
    page.fill("#id_short_description", "Payroll export fails for me")
    pick(page, "#id_caller", "rit", "requester1")  # by first name
    pick(page, "#id_assignment_group", "serv", "service-desk")
    pick(page, "#id_assigned_to", "ali", "agent1")
    pick(
        page, "#id_configuration_items", "payroll", "payroll (Application)",
        shot="incident-form-picker" if viewport == "laptop" else None,
    )  # fmt: skip
    expect(page.locator("#id_configuration_items")).to_have_value("payroll (Application), ")
    pick(page, "#id_configuration_items", "payroll-d", "payroll-db (Server)")  # a second CI
    pick(page, "#id_parent", "export", parent.number)  # by words of its title
    # Escape closes the list and keeps what was typed.
    page.locator("#id_problem").press_sequentially("zz", delay=20)
    expect(page.locator("#" + page.locator("#id_problem").get_attribute("aria-controls"))).to_be_visible()
    page.locator("#id_problem").press("Escape")
    expect(page.locator("#id_problem")).to_have_attribute("aria-expanded", "false")
    page.fill("#id_problem", "")
    assert no_horizontal_overflow(page)
    page.locator("form [type=submit]").last.click()
    expect(page.locator("[data-record-number]")).to_be_visible()
    created = Incident.objects.get(short_description="Payroll export fails for me")
    assert created.caller == requester and created.assigned_to == agent and created.parent == parent
    assert created.assignment_group == service_desk
    assert set(created.configuration_items.all()) == {app, server}
    # The edit form shows names, never ids.
    page.goto(f"/incidents/{created.number}/edit/")
    expect(page.locator("#id_configuration_items")).to_have_value(re.compile(r"payroll \(Application\)"))
    expect(page.locator("#id_assignment_group")).to_have_value("service-desk")
    expect(page.locator("#id_caller")).to_have_value("requester1")


def test_requester_picker_offers_only_what_requesters_may_see(page, login, requester):
    """A catalog item asking for a CI: the portal's picker lists business services and applications only."""
    from requests_app.models import CatalogCategory, CatalogItem, CatalogVariable

    ConfigurationItem.objects.create(
        name="Mail service", ci_class=CIClass.objects.get(name="business_service")
    )
    ConfigurationItem.objects.create(name="mail-relay-01", ci_class=CIClass.objects.get(name="server"))
    item = CatalogItem.objects.create(
        name="Shared mailbox", category=CatalogCategory.objects.create(name="Mail")
    )
    CatalogVariable.objects.create(item=item, name="service", label="Which service", type="ci", required=True)
    page.set_viewport_size(VIEWPORTS["phone"])
    login(page, requester)
    page.goto(f"/portal/catalog/{item.pk}/")
    box = page.locator("input[name=service]")
    box.press_sequentially("mail", delay=20)
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    expect(listbox.locator("[role=option]")).to_have_count(1)
    expect(listbox).to_contain_text("Mail service")
    assert "mail-relay" not in listbox.inner_text()
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value("Mail service (Business service)")
    assert no_horizontal_overflow(page)
