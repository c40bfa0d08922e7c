"""Workspace pages of SPEC §8: the contract list and its "Expiring" view, the detail page with covered
CIs and history, the forms, the panels on CI and incident/change pages, the compliance page; requesters
get 404 everywhere; fixed query counts on lists."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client

from cmdb.importer import import_file
from contracts.models import Contract, License, Software, Vendor

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_list_filters_and_expiring_view(agent, make_contract, vendor, django_assert_max_num_queries):
    soon = make_contract(name="Soon", days_left=20)
    later = make_contract(name="Later", days_left=300, type="warranty")
    client = as_user(agent)
    page = client.get("/contracts/").content.decode()
    assert soon.number in page and later.number in page and "Expiring" in page
    expiring = client.get("/contracts/?view=expiring").content.decode()
    assert soon.number in expiring and later.number not in expiring
    warranty = client.get("/contracts/?type=warranty").content.decode()
    assert later.number in warranty and soon.number not in warranty
    for i in range(10):
        make_contract(name=f"Extra {i}")
    with django_assert_max_num_queries(10):
        assert client.get("/contracts/").status_code == 200


def test_detail_shows_terms_covered_cis_support_contact_and_history(agent, make_contract, make_server):
    server = make_server("srv-db-01")
    contract = make_contract(cis=[server])
    page = as_user(agent).get(f"/contracts/{contract.number}/").content.decode()
    assert "srv-db-01" in page and "+1 555 0100" in page and "Contract opened" in page
    assert "Renew contract" not in page  # agents read only


def test_manager_creates_edits_and_renews_through_the_pages(cmdb_manager, vendor, make_server, today):
    server = make_server("srv-01")
    client = as_user(cmdb_manager)
    bad = client.post(
        "/contracts/new/",
        {
            "name": "X",
            "vendor": vendor.pk,
            "type": "support",
            "start_date": "2026-05-01",
            "end_date": "2026-01-01",
            "currency": "EUR",
            "renewal": "manual",
            "notice_days": 30,
        },
    )
    assert bad.status_code == 200 and "is before the start date" in bad.content.decode()
    assert not Contract.objects.exists()
    response = client.post(
        "/contracts/new/",
        {
            "name": "Array support",
            "vendor": vendor.pk,
            "type": "support",
            "start_date": str(today),
            "end_date": str(today + datetime.timedelta(days=100)),
            "currency": "EUR",
            "renewal": "manual",
            "notice_days": 30,
            "owner": "cora",
            "configuration_items": str(server.pk),
        },
    )
    contract = Contract.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/contracts/{contract.number}/"
    assert list(contract.configuration_items.all()) == [server]
    new_end = today + datetime.timedelta(days=465)
    client.post(f"/contracts/{contract.number}/renew/", {"end_date": str(new_end)})
    contract.refresh_from_db()
    assert contract.end_date == new_end
    assert "Renewed until" in client.get(f"/contracts/{contract.number}/").content.decode()
    edit = client.get(f"/contracts/{contract.number}/edit/")
    assert edit.status_code == 200 and "Array support" in edit.content.decode()


def test_panels_on_ci_incident_and_change_pages(agent, make_contract, make_server):
    from changes.models import Change
    from core.services import create_ticket
    from incidents.services import incident_create

    server = make_server("srv-db-01")
    contract = make_contract(cis=[server], days_left=400)
    incident = incident_create(actor=agent, short_description="Disk failed", configuration_items=[server])
    change = create_ticket(
        Change, actor=agent, fields={"short_description": "Replace disk"}, configuration_items=[server]
    )
    expected = f"until {contract.end_date:%Y-%m-%d}"
    client = as_user(agent)
    for url in (f"/incidents/{incident.number}/", f"/changes/{change.number}/", f"/cmdb/cis/{server.pk}/"):
        page = client.get(url).content.decode()
        assert contract.number in page and "+1 555 0100" in page and expected in page, url


def test_vendor_page_and_adding_a_vendor(cmdb_manager, agent, vendor):
    assert "+1 555 0100" in as_user(agent).get("/contracts/vendors/").content.decode()
    assert as_user(agent).post("/contracts/vendors/", {"name": "Initech"}).status_code == 403
    response = as_user(cmdb_manager).post(
        "/contracts/vendors/", {"name": "Initech", "support_phone": "+1 555 0111"}
    )
    assert response.status_code == 302 and Vendor.objects.filter(name="Initech").exists()


def test_compliance_page_shows_the_cis_behind_each_number(cmdb_manager, agent):
    rows = {"cis": [{"name": f"pc-{i}", "ci_class": "server", "software": ["Visio"]} for i in range(3)]}
    import_file(json.dumps(rows), format="json", actor=cmdb_manager)
    visio = Software.objects.get()
    client = as_user(cmdb_manager)
    from cmdb.models import ConfigurationItem

    pc0 = ConfigurationItem.objects.get(name="pc-0")
    added = client.post(
        f"/contracts/software/{visio.pk}/",
        {"metric": "per_device", "quantity": "1", "configuration_items": str(pc0.pk)},
    )
    assert added.status_code == 302 and License.objects.get().quantity == 1
    bad = client.post(f"/contracts/software/{visio.pk}/", {"metric": "per_core", "quantity": "-1"})
    assert bad.status_code == 200 and License.objects.count() == 1
    page = as_user(agent).get(f"/contracts/software/{visio.pk}/").content.decode()
    assert 'data-number="entitled">1<' in page and 'data-number="consumed">3<' in page
    assert 'data-number="shortfall">2<' in page
    unlicensed = page.split('id="software-unlicensed"')[1].split("</ul>")[0]
    assert "pc-1" in unlicensed and "pc-2" in unlicensed and "pc-0" not in unlicensed
    report = as_user(agent).get("/contracts/software/?short=1").content.decode()
    assert "Visio" in report
    # The form offers the unlicensed CIs it is installed on as checkboxes: ticking pc-1 licenses it.
    form = client.get(f"/contracts/software/{visio.pk}/").content.decode().split('id="license-form"')[1]
    form = form.split("</form>")[0]
    assert ">pc-1<" in form and ">pc-2<" in form and ">pc-0<" not in form
    pc1 = ConfigurationItem.objects.get(name="pc-1")
    ticked = client.post(
        f"/contracts/software/{visio.pk}/",
        {"metric": "per_device", "quantity": "1", "installed_on": [pc1.pk]},
    )
    assert ticked.status_code == 302
    assert list(License.objects.order_by("id").last().configuration_items.all()) == [pc1]
    page = as_user(agent).get(f"/contracts/software/{visio.pk}/").content.decode()
    assert 'data-number="shortfall">1<' in page
    ci_page = as_user(agent).get(f"/cmdb/cis/{pc0.pk}/").content.decode()
    assert "Visio" in ci_page


def test_requesters_get_404_everywhere(requester, make_contract, vendor):
    contract = make_contract()
    software = Software.objects.create(name="Visio", key="visio|")
    client = as_user(requester)
    for url in (
        "/contracts/",
        "/contracts/new/",
        "/contracts/vendors/",
        "/contracts/software/",
        f"/contracts/software/{software.pk}/",
        f"/contracts/{contract.number}/",
        f"/contracts/{contract.number}/edit/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/contracts/{contract.number}/renew/", {"end_date": "2030-01-01"}).status_code == 404
