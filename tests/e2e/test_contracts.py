"""An agent sees the support contract and the vendor's phone on an incident of a covered server; a CMDB
manager sees the compliance page of a software title with a shortfall, and the CIs behind it.

`ITSM_SCREENSHOTS=1` also writes the README's screenshots of these pages to docs/screenshots/.
"""

import datetime
import json
import os
from pathlib import Path

import pytest
from django.utils import timezone

from cmdb.ci_classes import ensure_default_classes
from cmdb.importer import import_file
from cmdb.models import CIClass, ConfigurationItem
from contracts.models import Software, Vendor
from contracts.services import contract_create, license_save
from incidents.services import incident_create

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shot(page, name: str) -> None:
    if os.environ.get("ITSM_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.mark.browser
def test_agent_sees_the_contract_and_vendor_phone_on_an_incident(page, login, make_user, live_server):
    ensure_default_classes()
    agent = make_user("gina", roles=["agent"])
    manager = make_user("cora", roles=["cmdb_manager"])
    server = ConfigurationItem.objects.create(name="srv-db-01", ci_class=CIClass.objects.get(name="server"))
    acme = Vendor.objects.create(name="Acme", support_phone="+1 555 0100")
    today = timezone.localdate()
    contract = contract_create(
        actor=manager,
        fields={
            "name": "Server support",
            "vendor": acme,
            "type": "support",
            "start_date": today - datetime.timedelta(days=10),
            "end_date": datetime.date(today.year + 1, 3, 31),
        },
        configuration_items=[server],
    )
    incident = incident_create(actor=agent, short_description="Disk failed", configuration_items=[server])

    login(page, agent)
    page.goto(f"/incidents/{incident.number}/")
    panel = page.locator("#contract-coverage")
    text = " ".join(panel.inner_text().split())
    assert f"Covered by {contract.number} (Acme support, +1 555 0100) until {today.year + 1}-03-31" in text
    panel.scroll_into_view_if_needed()
    shot(page, "incident-contract")
    panel.get_by_role("link", name=contract.number).click()
    page.wait_for_url(f"**/contracts/{contract.number}/")
    assert "srv-db-01" in page.locator("#contract-cis").inner_text()
    assert "+1 555 0100" in page.locator("#vendor-support").inner_text()
    shot(page, "contract")
    page.goto("/contracts/")
    assert contract.number in page.locator("#contract-table").inner_text()
    shot(page, "contract-list")


@pytest.mark.browser
def test_cmdb_manager_sees_a_compliance_shortfall(page, login, make_user, live_server):
    ensure_default_classes()
    manager = make_user("cora", roles=["cmdb_manager"])
    others = [
        {"name": "Microsoft Edge", "version": "131.0", "publisher": "Microsoft Corporation"},
        {"name": "Zabbix Agent", "version": "7.0.5", "publisher": "Zabbix"},
    ]
    rows = {
        "cis": [
            {"name": f"pc-{i}", "ci_class": "server", "software": ["Visio", *others[: i % 3]]}
            for i in range(3)
        ]
    }
    import_file(json.dumps(rows), format="json", actor=manager)
    edge = Software.objects.get(name="Microsoft Edge")
    license_save(actor=manager, fields={"software": edge, "metric": "per_device", "quantity": 10})
    visio = Software.objects.get(name="Visio")
    license_save(
        actor=manager,
        fields={"software": visio, "metric": "per_device", "quantity": 1},
        configuration_items=[ConfigurationItem.objects.get(name="pc-0")],
    )

    login(page, manager)
    page.goto("/contracts/software/")
    shot(page, "software-compliance")
    page.goto("/contracts/software/?short=1")
    page.get_by_role("link", name="Visio").click()
    page.wait_for_url(f"**/contracts/software/{visio.pk}/")
    assert page.locator('[data-number="entitled"]').inner_text() == "1"
    assert page.locator('[data-number="consumed"]').inner_text() == "3"
    assert page.locator('[data-number="shortfall"]').inner_text() == "2"
    unlicensed = page.locator("#software-unlicensed").inner_text()
    assert "pc-1" in unlicensed and "pc-2" in unlicensed and "pc-0" not in unlicensed
    shot(page, "software-title")
