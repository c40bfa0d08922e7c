"""Real exports imported unedited: NetBox's five CSV exports and a GLPI inventory JSON, through the API
with a token; the report names the format and reports every line."""

import json
from pathlib import Path

import pytest

from cmdb.models import ConfigurationItem, Relationship
from tests.api_tokens import token_client

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent / "netbox"
IMPORT = "/api/v1/cmdb/import/"


@pytest.fixture
def cmdb_manager(make_user):
    return make_user("chris", roles=["cmdb_manager", "agent"])


def _post(client, name, **query):
    path = FILES / name
    with path.open("rb") as handle:
        suffix = "".join(f"&{k}={v}" for k, v in query.items())
        response = client.post(f"{IMPORT}?x=1{suffix}", {"file": handle}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def _lines(report):
    return {row["row"]: (row["action"], row.get("reason", "")) for row in report["rows"]}


def test_the_five_netbox_exports_import_unedited(cmdb_manager):
    client = token_client(cmdb_manager)

    sites = _post(client, "netbox_sites.csv")
    assert sites["format"] == "NetBox sites (CSV)"
    lines = _lines(sites)
    assert lines[2] == ("created", "") and lines[3] == ("created", "")
    assert lines[4][0] == "failed" and "name" in lines[4][1]
    paris = ConfigurationItem.objects.get(name="DC1 Paris")
    assert paris.ci_class.name == "location" and paris.attributes["facility"] == "Equinix PA3"
    assert ConfigurationItem.objects.get(name="DC2 Lyon").status == "planned"

    devices = _post(client, "netbox_devices.csv")
    assert devices["format"] == "NetBox devices (CSV)"
    lines = _lines(devices)
    assert [lines[n][0] for n in range(2, 7)] == ["created"] * 5
    assert lines[7][0] == "failed" and lines[7][1].startswith("name:")
    assert lines[8] == ("failed", "ip address: '10.10.1.300/24' is not an IP address.")
    classes = dict(
        ConfigurationItem.objects.filter(name__startswith="pa3-").values_list("name", "ci_class__name")
    )
    assert classes == {
        "pa3-core-sw1": "network_device",
        "pa3-core-sw2": "network_device",
        "pa3-web-01": "server",
        "pa3-fw1": "network_device",
        "pa3-san1": "storage",
    }
    web = ConfigurationItem.objects.get(name="pa3-web-01")
    assert web.serial_number == "8XK2M93" and web.attributes["os"] == "Debian 12"
    assert (web.attributes["primary_ipv4"], web.attributes["primary_ipv6"]) == ("10.10.1.11", "2001:db8::11")
    assert ConfigurationItem.objects.get(name="pa3-fw1").status == "planned"
    assert Relationship.objects.filter(source=paris, type="contains").count() == 5

    interfaces = _post(client, "netbox_interfaces.csv")
    assert interfaces["format"] == "NetBox interfaces (CSV)"
    lines = _lines(interfaces)
    assert lines[2] == ("updated", "") and lines[3] == ("updated", "") and lines[6] == ("updated", "")
    assert lines[7][0] == "failed" and "pa3-unknown-99" in lines[7][1]
    sw1 = ConfigurationItem.objects.get(name="pa3-core-sw1")
    assert [i["name"] for i in sw1.attributes["interfaces"]] == ["Ethernet1", "Ethernet2", "Management1"]
    assert sw1.attributes["interfaces"][2]["enabled"] is False

    addresses = _post(client, "netbox_ip_addresses.csv")
    assert addresses["format"] == "NetBox IP addresses (CSV)"
    lines = _lines(addresses)
    assert lines[2][0] == "updated" and lines[3][0] == "updated" and lines[4][0] == "updated"
    assert lines[5] == ("skipped", "assigned to no device")
    assert lines[6] == ("failed", "ip address: '10.10.1.999/24' is not an IP address.")
    web.refresh_from_db()
    assert web.attributes["ip_addresses"] == ["10.10.1.11", "10.10.1.12"]

    cables = _post(client, "netbox_cables.csv")
    assert cables["format"] == "NetBox cables (CSV)"
    lines = _lines(cables)
    assert lines[2][0] == "created" and lines[3][0] == "created"
    assert lines[4][0] == "failed" and "pa3-ghost-01" in lines[4][1]
    assert lines[5][0] == "skipped"
    assert cables["created"] == 2 and len(cables["failed"]) == 1 and cables["skipped"] == 1
    # The cables are in the impact graph.
    graph = client.get(f"/api/v1/cmdb/cis/{sw1.pk}/graph/").json()
    edges = json.dumps(graph)
    assert "connected_to" in edges and str(web.pk) in edges

    # Importing the same files again changes nothing.
    for name in ("netbox_sites.csv", "netbox_devices.csv", "netbox_interfaces.csv", "netbox_ip_addresses.csv",
                 "netbox_cables.csv"):  # fmt: skip
        again = _post(client, name)
        assert again["created"] == 0 and again["updated"] == 0, (name, again["rows"])


def test_cables_of_the_default_view_say_what_to_export(cmdb_manager):
    report = _post(token_client(cmdb_manager), "netbox_cables_current_view.csv")
    assert report["format"] == "NetBox cables (CSV)"
    assert "All data" in report["failed"][0]["reason"]


def test_dry_run_of_a_netbox_export_writes_nothing(cmdb_manager):
    report = _post(token_client(cmdb_manager), "netbox_sites.csv", dry_run="1")
    assert report["dry_run"] and report["created"] == 2
    assert not ConfigurationItem.objects.filter(name="DC1 Paris").exists()


GLPI_INVENTORY = [
    {
        "action": "inventory",
        "deviceid": "pc-042-2026-11-30-10-00-00",
        "itemtype": "Computer",
        "content": {
            "hardware": {"name": "pc-042", "memory": 16000, "workgroup": "EXAMPLE"},
            "bios": {"ssn": "G42XYZ", "smanufacturer": "Dell Inc.", "smodel": "Latitude 5440"},
            "operatingsystem": {"full_name": "Microsoft Windows 11 Pro", "version": "23H2"},
            "cpus": [{"core": 10, "name": "Intel(R) Core(TM) i7-1365U"}],
            "networks": [
                {"description": "Wi-Fi", "ipaddress": "192.168.1.42", "mac": "a4:b1:c1:00:00:42"},
                {"description": "Loopback", "ipaddress": "127.0.0.1"},
            ],
            "softwares": [{"name": "Firefox", "version": "133.0"}],
        },
    },
    {"action": "inventory", "deviceid": "broken", "content": {"hardware": {}}},
]


def test_a_glpi_inventory_json_imports_without_options(cmdb_manager):
    client = token_client(cmdb_manager)
    response = client.post(IMPORT, GLPI_INVENTORY, format="json")
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["format"] == "GLPI inventory (JSON)"
    assert _lines(report)[1] == ("created", "") and _lines(report)[2][0] == "failed"
    pc = ConfigurationItem.objects.get(name="pc-042")
    assert pc.serial_number == "G42XYZ" and pc.ci_class.name == "server"
    assert pc.attributes["os"] == "Microsoft Windows 11 Pro" and pc.attributes["cpu_count"] == 10
    assert pc.attributes["ip_addresses"] == ["192.168.1.42"] and pc.attributes["memory_gb"] == 15.6


def test_our_own_files_and_presets_are_unchanged(cmdb_manager):
    client = token_client(cmdb_manager)
    response = client.post(IMPORT, {"cis": [{"name": "srv9", "ci_class": "server"}]}, format="json")
    assert response.json()["created"] == 1 and "format" not in response.json()
    assert (
        token_client(cmdb_manager, scope="read").post(IMPORT, {"cis": []}, format="json").status_code == 403
    )
