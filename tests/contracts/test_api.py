"""The API of SPEC §8: numbering, validation (400 naming the field, nothing saved), expiring lists,
scoping (requesters 404, agents read, cmdb managers write), contracts on incidents, renewals."""

from __future__ import annotations

import datetime

import pytest

from contracts.models import Contract, ContractEvent, License, Vendor

pytestmark = pytest.mark.django_db


def contract_body(vendor_obj, server, today, **overrides):
    return {
        "name": "Disk array support",
        "vendor": vendor_obj.pk,
        "type": "support",
        "start_date": str(today),
        "end_date": str(today + datetime.timedelta(days=365)),
        "cost": "1200.00",
        "currency": "usd",
        "renewal": "manual",
        "notice_days": 30,
        "configuration_items": [server.pk],
        "owner": "cora",
        **overrides,
    }


def test_contracts_are_numbered_from_a_sequence(api_client, cmdb_manager, vendor, make_server, today):
    client = api_client(cmdb_manager)
    server = make_server("srv-01")
    first = client.post("/api/v1/contracts/", contract_body(vendor, server, today), format="json")
    second = client.post(
        "/api/v1/contracts/", contract_body(vendor, server, today, name="Two"), format="json"
    )
    assert first.status_code == 201, first.json()
    a, b = first.json()["number"], second.json()["number"]
    assert a.startswith("CTR") and len(a) == 10
    assert int(b[3:]) == int(a[3:]) + 1
    assert first.json()["currency"] == "USD"
    assert first.json()["configuration_items"] == [server.pk]
    assert first.json()["support_contact"] == "+1 555 0100, support@acme.example.com"
    # Read back by number; history has the creation.
    got = client.get(f"/api/v1/contracts/{a.lower()}/")
    assert got.status_code == 200 and got.json()["number"] == a
    history = client.get(f"/api/v1/contracts/{a}/history/").json()["results"]
    assert [row["kind"] for row in history] == ["created"]
    # The number is read-only.
    client.patch(f"/api/v1/contracts/{a}/", {"number": "CTR9999999"}, format="json")
    assert Contract.objects.filter(number=a).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end_date": "2020-01-01", "start_date": "2021-01-01"}, "end_date"),
        ({"vendor": 999999}, "vendor"),
        ({"vendor": 2**70}, "vendor"),
        ({"configuration_items": [999999]}, "configuration_items"),
        ({"type": "rental"}, "type"),
        ({"renewal": "sometimes"}, "renewal"),
        ({"notice_days": -1}, "notice_days"),
        ({"owner": "nobody"}, "owner"),
        ({"cost": "-5"}, "cost"),
    ],
)
def test_bad_contract_input_is_a_400_naming_the_field_and_saves_nothing(
    api_client, cmdb_manager, vendor, make_server, today, overrides, field
):
    server = make_server("srv-01")
    response = api_client(cmdb_manager).post(
        "/api/v1/contracts/", contract_body(vendor, server, today, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Contract.objects.exists()


def test_update_with_end_before_start_is_a_400_naming_end_date(
    api_client, cmdb_manager, make_contract, today
):
    contract = make_contract()
    response = api_client(cmdb_manager).patch(
        f"/api/v1/contracts/{contract.number}/",
        {"end_date": str(today - datetime.timedelta(days=400))},
        format="json",
    )
    assert response.status_code == 400 and "end_date" in response.json()
    contract.refresh_from_db()
    assert contract.end_date > today


def test_expiring_within_lists_contracts_ending_in_that_many_days(api_client, agent, make_contract):
    soon = make_contract(name="Soon", days_left=10)
    make_contract(name="Later", days_left=200)
    make_contract(name="Ended", days_left=-5, start_date=datetime.date(2020, 1, 1))
    client = api_client(agent)
    numbers = [row["number"] for row in client.get("/api/v1/contracts/?expiring_within=30").json()["results"]]
    assert numbers == [soon.number]
    assert client.get("/api/v1/contracts/?expiring_within=-1").status_code == 400
    assert client.get("/api/v1/contracts/?expiring_within=abc").status_code == 400


def test_renewal_extends_the_dates_and_is_in_the_history(api_client, cmdb_manager, make_contract, today):
    contract = make_contract(days_left=10)
    client = api_client(cmdb_manager)
    new_end = today + datetime.timedelta(days=375)
    response = client.post(
        f"/api/v1/contracts/{contract.number}/renew/", {"end_date": str(new_end)}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["end_date"] == str(new_end)
    event = ContractEvent.objects.get(contract=contract, kind="renewed")
    assert event.data["end_date"] == [str(today + datetime.timedelta(days=10)), str(new_end)]
    assert event.actor_name == "cora"
    backwards = client.post(
        f"/api/v1/contracts/{contract.number}/renew/", {"end_date": str(today)}, format="json"
    )
    assert backwards.status_code == 400 and "end_date" in backwards.json()


def test_scoping_requesters_404_agents_read_managers_write(
    api_client, requester, agent, cmdb_manager, make_contract, vendor, make_server, today
):
    contract = make_contract()
    for url in (
        "/api/v1/contracts/",
        f"/api/v1/contracts/{contract.number}/",
        "/api/v1/vendors/",
        f"/api/v1/vendors/{vendor.pk}/",
        "/api/v1/software/",
        "/api/v1/licenses/",
        "/api/v1/software/compliance/",
    ):
        assert api_client(requester).get(url).status_code == 404, url
        assert api_client(agent).get(url).status_code == 200, url
        assert api_client().get(url).status_code in (401, 403), url
    body = contract_body(vendor, make_server("srv-9"), today)
    assert api_client(requester).post("/api/v1/contracts/", body, format="json").status_code == 404
    assert api_client(agent).post("/api/v1/contracts/", body, format="json").status_code == 403
    assert api_client(agent).post("/api/v1/vendors/", {"name": "X"}, format="json").status_code == 403
    assert (
        api_client(cmdb_manager).post("/api/v1/vendors/", {"name": "Globex"}, format="json").status_code
        == 201
    )
    assert Vendor.objects.filter(name="Globex").exists()
    duplicate = api_client(cmdb_manager).post("/api/v1/vendors/", {"name": "globex"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()


def test_incident_lists_contracts_covering_its_cis(
    api_client, agent, requester, make_contract, make_server, vendor
):
    from incidents.services import incident_create

    covered = make_server("srv-db-01")
    other = make_server("srv-web-01")
    contract = make_contract(cis=[covered])
    make_contract(name="Lapsed", cis=[covered], days_left=-1, start_date=datetime.date(2020, 1, 1))
    incident = incident_create(
        actor=agent, short_description="Disk failed", configuration_items=[covered, other]
    )
    plain = incident_create(actor=agent, short_description="Printer", configuration_items=[other])
    mine = incident_create(actor=requester, short_description="Slow", configuration_items=[covered])
    client = api_client(agent)
    detail = client.get(f"/api/v1/incidents/{incident.number}/").json()
    assert detail["contracts"] == [
        {
            "number": contract.number,
            "name": "Server support",
            "vendor": "Acme",
            "type": "support",
            "end_date": str(contract.end_date),
            "support_contact": "+1 555 0100, support@acme.example.com",
            "support_phone": "+1 555 0100",
            "support_email": "support@acme.example.com",
        }
    ]
    assert client.get(f"/api/v1/incidents/{plain.number}/").json()["contracts"] == []
    # A list row is for choosing an incident; the contracts are in the record's answer only.
    listed = {row["number"]: row for row in client.get("/api/v1/incidents/").json()["results"]}
    assert "contracts" not in listed[incident.number]
    # The caller's own incident, through the requester's eyes: no contracts.
    assert api_client(requester).get(f"/api/v1/incidents/{mine.number}/").json()["contracts"] == []


def test_incident_list_query_count_does_not_grow_with_covered_cis(
    api_client, agent, make_contract, make_server, django_assert_max_num_queries
):
    from incidents.services import incident_create

    client = api_client(agent)
    for i in range(3):
        server = make_server(f"srv-{i}")
        make_contract(name=f"C{i}", cis=[server])
        incident_create(actor=agent, short_description=f"Down {i}", configuration_items=[server])
    client.get("/api/v1/incidents/")  # warm the per-process caches
    with django_assert_max_num_queries(8) as few:
        assert len(client.get("/api/v1/incidents/").json()["results"]) == 3
    for i in range(3, 15):
        server = make_server(f"srv-{i}")
        make_contract(name=f"C{i}", cis=[server])
        incident_create(actor=agent, short_description=f"Down {i}", configuration_items=[server])
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = client.get("/api/v1/incidents/").json()["results"]
    assert len(rows) == 15 and all("contracts" not in row for row in rows)  # the detail carries them


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metric": "per_core", "quantity": 1}, "metric"),
        ({"metric": "per_device", "quantity": -1}, "quantity"),
        ({"metric": "per_device", "quantity": 1, "configuration_items": [424242]}, "configuration_items"),
        ({"metric": "per_device", "quantity": 1, "contract": "CTR9999999"}, "contract"),
        ({"metric": "per_device", "quantity": 1, "users": ["ghost"]}, "users"),
    ],
)
def test_bad_license_input_is_a_400_naming_the_field(api_client, cmdb_manager, db, body, field):
    from contracts.models import Software

    software = Software.objects.create(name="Office", publisher="Microsoft", key="office|microsoft")
    response = api_client(cmdb_manager).post(
        "/api/v1/licenses/", {"software": software.pk, **body}, format="json"
    )
    assert response.status_code == 400 and field in response.json()
    assert not License.objects.exists()
    unknown = api_client(cmdb_manager).post(
        "/api/v1/licenses/", {"software": 999999, "metric": "per_device", "quantity": 1}, format="json"
    )
    assert unknown.status_code == 400 and "software" in unknown.json()
