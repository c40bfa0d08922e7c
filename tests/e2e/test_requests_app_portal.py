"""The life of a laptop order in a real browser: a requester orders it in the portal, their manager
approves from the portal, an agent completes both fulfillment tasks, the requester sees it fulfilled and
rates it."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import SatisfactionSurvey
from requests_app.models import CatalogCategory, CatalogItem, CatalogTaskTemplate, CatalogVariable, Request

pytestmark = pytest.mark.browser


def _laptop(service_desk) -> CatalogItem:
    hardware = CatalogCategory.objects.create(name="Hardware", icon="device-laptop")
    item = CatalogItem.objects.create(
        name="Laptop", category=hardware, icon="device-laptop", approval="manager", description="A laptop"
    )
    CatalogVariable.objects.create(
        item=item,
        name="model",
        label="Model",
        type="choice",
        required=True,
        choices=["Standard", "Developer"],
    )
    CatalogVariable.objects.create(
        item=item, name="justification", label="Justification", type="text", required=True
    )
    CatalogVariable.objects.create(item=item, name="needed_by", label="Needed by", type="date", required=True)
    CatalogTaskTemplate.objects.create(
        item=item, short_description="Prepare laptop", assignment_group=service_desk, order=1
    )
    CatalogTaskTemplate.objects.create(
        item=item, short_description="Hand over", assignment_group=service_desk, order=2
    )
    return item


def _switch(page, login, user) -> None:
    page.context.clear_cookies()
    login(page, user)


def test_laptop_order_approved_fulfilled_and_rated(page, login, make_user, agent, service_desk):
    _laptop(service_desk)
    manager = make_user("manager1", first_name="Mary")
    requester = make_user("requester1", first_name="Rita", manager=manager)

    # The requester orders: a wrong date is refused next to its field, then the order goes through.
    login(page, requester)
    page.goto("/portal/catalog/")
    page.click("[data-testid=catalog-item]:has-text('Laptop')")
    page.select_option("#id_model", "Developer")
    page.fill("#id_justification", "New developer starting in January")
    page.click("button:has-text('Submit request')")
    expect(page.locator("#id_needed_by_errors")).to_contain_text("required")
    page.fill("#id_needed_by", "2027-01-15")
    page.click("button:has-text('Submit request')")
    expect(page.locator("[data-testid=ticket-state]")).to_contain_text("Pending approval")
    number = re.search(r"REQ\d{7}", page.title()).group(0)

    # The manager approves from the portal inbox (htmx swaps the row).
    _switch(page, login, manager)
    page.goto("/portal/approvals/")
    row = page.locator(".approval-item", has_text=number)
    row.locator("input[name=comment]").fill("Welcome aboard")
    row.locator("button:has-text('Approve')").click()
    expect(page.locator(".approval-item", has_text=number)).to_contain_text("You approved")

    # An agent completes both fulfillment tasks from the workspace.
    _switch(page, login, agent)
    page.goto(f"/requests/{number}/")
    expect(page.locator("#request-tasks")).to_contain_text("Prepare laptop")
    tasks = [link.inner_text() for link in page.locator("#request-tasks a").all()]
    assert len(tasks) == 2
    for task in tasks:
        page.goto(f"/requests/tasks/{task}/")
        page.click("[data-move=done]")
        page.click("#transition-panel button[type=submit]")
        expect(page.locator("[data-record-state]")).to_have_attribute("data-record-state", "done")

    # The requester sees it fulfilled, with its steps, and rates it.
    _switch(page, login, requester)
    page.goto("/portal/tickets/")
    page.click(f"text={number}")
    expect(page.locator("[data-testid=ticket-state]")).to_contain_text("Fulfilled")
    expect(page.locator("[data-testid=request-tasks]")).to_contain_text("Hand over")
    page.click("label[for=rating-5]")
    page.fill("#id_comment", "Fast and friendly")
    page.click("button:has-text('Send feedback')")
    expect(page.locator("[data-testid=survey-done]")).to_contain_text("5/5")
    request = Request.objects.get(number=number)
    assert request.state == "fulfilled"
    assert SatisfactionSurvey.objects.get().rating == 5
