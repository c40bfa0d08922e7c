"""Software installations from the CMDB import (SPEC §8): GLPI inventories and `software` lists on JSON
CI rows, reconciled like the rest of the import; compliance over what was imported."""

from __future__ import annotations

import json

import pytest

from cmdb.importer import import_file
from cmdb.models import CIChange, ConfigurationItem
from contracts.models import Installation, Software
from contracts.selectors import compliance, compliance_report
from contracts.software import normalize_version, software_key

from .conftest import inventory

pytestmark = pytest.mark.django_db


def current(ci_name: str) -> set[tuple[str, str]]:
    return set(
        Installation.objects.filter(ci__name=ci_name, ended_at__isnull=True).values_list(
            "software__name", "version"
        )
    )


def test_glpi_inventory_brings_the_computer_and_its_software(cmdb_manager):
    report = import_file(inventory("srv-app-01"), format="json", actor=cmdb_manager)
    assert report.failed == [] and report.created == 1
    ci = ConfigurationItem.objects.get(name="srv-app-01")
    assert ci.serial_number == "7X0RNK2"
    assert ci.attributes["os"] == "Debian GNU/Linux 12 (bookworm)" and ci.attributes["memory_gb"] == 32.0
    assert current("srv-app-01") == {
        ("openssl", "3.0.15-1~deb12u1"),
        ("PostgreSQL", "16.4"),  # "v16.4.0" normalised
        ("nginx", "1.22.1"),
        ("Zabbix Agent", "7.0.5"),
    }
    assert report.as_dict()["software"] == {"installed": 4, "ended": 0, "unchanged": 0}
    added = CIChange.objects.filter(ci=ci, field="software", action="installed")
    assert added.count() == 4 and all(change.source == "import" for change in added)


def test_a_second_import_of_the_same_inventory_changes_nothing(cmdb_manager):
    import_file(inventory("srv-app-01"), format="json", actor=cmdb_manager)
    rows = list(Installation.objects.values_list("id", "installed_at", "ended_at"))
    history = CIChange.objects.count()
    report = import_file(inventory("srv-app-01"), format="json", actor=cmdb_manager)
    assert report.unchanged == 1 and report.created == report.updated == 0
    assert report.as_dict()["software"] == {"installed": 0, "ended": 0, "unchanged": 4}
    assert list(Installation.objects.values_list("id", "installed_at", "ended_at")) == rows
    assert CIChange.objects.count() == history


def test_a_package_no_longer_reported_is_ended_with_history(cmdb_manager):
    import_file(inventory("srv-app-01"), format="json", actor=cmdb_manager)
    data = json.loads(inventory("srv-app-01"))
    data["content"]["softwares"] = [s for s in data["content"]["softwares"] if s["name"] != "nginx"]
    report = import_file(json.dumps(data), format="json", actor=cmdb_manager)
    assert report.as_dict()["software"] == {"installed": 0, "ended": 1, "unchanged": 3}
    ended = Installation.objects.get(software__name="nginx")
    assert ended.ended_at is not None
    assert ("nginx", "1.22.1") not in current("srv-app-01")
    change = CIChange.objects.get(field="software", action="uninstalled")
    assert change.old_value == "nginx 1.22.1" and change.ci.name == "srv-app-01"
    # It comes back: a new installation, the old one stays ended.
    import_file(inventory("srv-app-01"), format="json", actor=cmdb_manager)
    assert Installation.objects.filter(software__name="nginx").count() == 2
    assert ("nginx", "1.22.1") in current("srv-app-01")


def test_an_upgrade_ends_the_old_version_and_installs_the_new_one(cmdb_manager):
    import_file(inventory("srv-app-01"), format="json", actor=cmdb_manager)
    data = json.loads(inventory("srv-app-01"))
    for entry in data["content"]["softwares"]:
        if entry["name"] == "PostgreSQL":
            entry["version"] = "16.6"
    import_file(json.dumps(data), format="json", actor=cmdb_manager)
    assert ("PostgreSQL", "16.6") in current("srv-app-01") and ("PostgreSQL", "16.4") not in current(
        "srv-app-01"
    )


def test_software_entries_without_a_name_are_reported_and_the_rest_imports(cmdb_manager):
    report = import_file(inventory("ws-042"), format="json", actor=cmdb_manager)
    assert report.created == 1
    assert [(f["row"], f["section"], f["reason"]) for f in report.failed] == [
        (1, "software", "software[4]: name: required."),
        (1, "software", "software[5]: name: required."),
    ]
    assert {name for name, _v in current("ws-042")} == {
        "Mozilla Firefox",
        "Microsoft Office Professional Plus 2021",
        "Zabbix Agent",
    }


def test_a_list_of_inventories_and_json_rows_with_software(cmdb_manager):
    both = b"[" + inventory("srv-app-01") + b"," + inventory("ws-042") + b"]"
    import_file(both, format="json", actor=cmdb_manager)
    assert ConfigurationItem.objects.filter(name__in=["srv-app-01", "ws-042"]).count() == 2
    # Zabbix Agent is one title from both computers.
    assert Software.objects.filter(name="Zabbix Agent").count() == 1
    rows = {
        "cis": [
            {
                "name": "db-1",
                "ci_class": "server",
                "software": [
                    {
                        "name": "PostgreSQL",
                        "version": "16.4.0",
                        "publisher": "PostgreSQL Global Development Group",
                    },
                    "htop",
                ],
            },
            {"name": "db-2", "ci_class": "server", "software": 42},
        ]
    }
    report = import_file(json.dumps(rows), format="json", actor=cmdb_manager)
    assert report.created == 2
    assert [f["reason"] for f in report.failed] == ["software: must be a list of {name, version, publisher}."]
    assert current("db-1") == {("PostgreSQL", "16.4"), ("htop", "")}
    assert Software.objects.filter(name="PostgreSQL").count() == 1


def test_a_dry_run_reports_software_and_writes_nothing(cmdb_manager):
    report = import_file(inventory("srv-app-01"), format="json", actor=cmdb_manager, dry_run=True)
    assert report.as_dict()["software"]["installed"] == 4
    assert not Installation.objects.exists() and not Software.objects.exists()


def test_rows_without_a_software_list_leave_installations_alone(cmdb_manager):
    import_file(inventory("srv-app-01"), format="json", actor=cmdb_manager)
    rows = {
        "cis": [{"name": "srv-app-01", "ci_class": "server", "serial_number": "7X0RNK2", "description": "x"}]
    }
    report = import_file(json.dumps(rows), format="json", actor=cmdb_manager)
    assert report.updated == 1
    assert len(current("srv-app-01")) == 4


def test_compliance_one_seat_three_installations(api_client, cmdb_manager, agent, make_server):
    rows = {
        "cis": [
            {
                "name": f"pc-{i}",
                "ci_class": "server",
                "software": [{"name": "Visio", "publisher": "Microsoft Corp."}],
            }
            for i in range(3)
        ]
    }
    import_file(json.dumps(rows), format="json", actor=cmdb_manager)
    visio = Software.objects.get(name="Visio")
    licensed = ConfigurationItem.objects.get(name="pc-0")
    created = api_client(cmdb_manager).post(
        "/api/v1/licenses/",
        {"software": visio.pk, "metric": "per_device", "quantity": 1, "configuration_items": [licensed.pk]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    answer = api_client(agent).get(f"/api/v1/software/{visio.pk}/compliance/")
    assert answer.status_code == 200
    assert answer.json() == {"entitled": 1, "consumed": 3, "shortfall": 2}
    installs = api_client(agent).get(f"/api/v1/software/{visio.pk}/installations/").json()
    assert installs["count"] == 3 and {row["ci_name"] for row in installs["results"]} == {
        "pc-0",
        "pc-1",
        "pc-2",
    }
    report = api_client(agent).get("/api/v1/software/compliance/?short=true").json()
    assert report["results"] == [
        {
            "software": visio.pk,
            "name": "Visio",
            "publisher": "Microsoft Corp.",
            "entitled": 1,
            "consumed": 3,
            "shortfall": 2,
        }
    ]


def test_per_user_licenses_count_people(cmdb_manager, make_user, make_server):
    from contracts.services import license_save

    alice = make_user("alice")
    for i, owner in enumerate([alice, alice, None]):
        make_server(f"lap-{i}", owner=owner)
    rows = {"cis": [{"name": f"lap-{i}", "ci_class": "server", "software": ["Slack"]} for i in range(3)]}
    import_file(json.dumps(rows), format="json", actor=cmdb_manager)
    slack = Software.objects.get(name="Slack")
    license_save(
        actor=cmdb_manager, fields={"software": slack, "metric": "per_user", "quantity": 1}, users=[alice]
    )
    # alice's two laptops are one person; the ownerless laptop is another.
    assert compliance(slack) == {"entitled": 1, "consumed": 2, "shortfall": 1}
    assert compliance_report() == [
        {"software": slack.pk, "name": "Slack", "publisher": "", "entitled": 1, "consumed": 2, "shortfall": 1}
    ]


def test_normalisation():
    assert normalize_version(" v1.2.0 ") == "1.2"
    assert normalize_version("1.0") == "1.0"
    assert normalize_version("16.0.14332.20776") == "16.0.14332.20776"
    assert software_key("Mozilla  Firefox", "Mozilla Corporation") == software_key(
        "mozilla firefox", "Mozilla"
    )
    assert software_key("Office", "Microsoft Corp.") == software_key("Office", "Microsoft Corporation")


def test_a_csv_software_column_lists_names(cmdb_manager):
    report = import_file(
        "name,ci_class,software\nkiosk-1,server,Firefox; VLC \n", format="csv", actor=cmdb_manager
    )
    assert report.created == 1 and not report.failed
    assert current("kiosk-1") == {("Firefox", ""), ("VLC", "")}
