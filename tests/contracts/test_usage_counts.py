"""The kept per-title counts behind the compliance report (Software.installed_cis): moved by the import
in its own transaction, by a CI's deletion, checked against a recount (`check_software_usage`); and the
report itself, paged in SQL with a fixed number of queries."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from cmdb.importer import import_file
from cmdb.models import ConfigurationItem
from cmdb.services import delete_ci
from contracts.models import Installation, Software
from contracts.selectors import ComplianceReport, compliance
from contracts.services import license_save
from contracts.software import usage_drift
from tests.cmdb.test_import_recognised import GLPI_INVENTORY

from .conftest import inventory

pytestmark = pytest.mark.django_db


def kept() -> dict[str, int]:
    return dict(Software.objects.filter(installed_cis__gt=0).values_list("name", "installed_cis"))


def rows(name: str, titles) -> str:
    return json.dumps({"cis": [{"name": name, "ci_class": "server", "software": list(titles)}]})


def test_counts_follow_installs_upgrades_removals_and_deletions(cmdb_manager):
    import_file(inventory("srv-app-01"), format="json", actor=cmdb_manager)
    import_file(inventory("ws-042"), format="json", actor=cmdb_manager)
    assert kept()["Zabbix Agent"] == 2 and kept()["nginx"] == 1
    # Two versions of one title on one CI are one CI.
    two = [{"name": "Zabbix Agent", "version": v, "publisher": "Zabbix"} for v in ("7.0", "6.4")]
    import_file(rows("db-1", two), format="json", actor=cmdb_manager)
    assert kept()["Zabbix Agent"] == 3
    import_file(rows("db-1", two[:1]), format="json", actor=cmdb_manager)  # one version goes
    assert kept()["Zabbix Agent"] == 3
    import_file(rows("db-1", ["htop"]), format="json", actor=cmdb_manager)  # Zabbix goes
    assert kept()["Zabbix Agent"] == 2 and kept()["htop"] == 1
    delete_ci(ConfigurationItem.objects.get(name="db-1"), actor=cmdb_manager)
    assert "htop" not in kept() and kept()["Zabbix Agent"] == 2
    assert usage_drift() == []
    # A dry run changes no count.
    import_file(rows("db-2", ["htop"]), format="json", actor=cmdb_manager, dry_run=True)
    assert "htop" not in kept() and usage_drift() == []


def test_the_glpi_inventory_of_the_cmdb_import_tests_brings_its_software(cmdb_manager):
    """The GLPI inventory the CMDB import tests already post (pc-042 with Firefox): the installation
    comes in, a second import changes nothing, and an inventory without the package ends it."""
    first = import_file(json.dumps(GLPI_INVENTORY), format="json", actor=cmdb_manager)
    assert first.as_dict()["software"] == {"installed": 1, "ended": 0, "unchanged": 0}
    firefox = Installation.objects.get(ci__name="pc-042")
    assert (firefox.software.name, firefox.version, firefox.ended_at) == ("Firefox", "133.0", None)
    second = import_file(json.dumps(GLPI_INVENTORY), format="json", actor=cmdb_manager)
    assert second.as_dict()["software"] == {"installed": 0, "ended": 0, "unchanged": 1}
    assert list(Installation.objects.values_list("id", "ended_at")) == [(firefox.pk, None)]
    without = json.loads(json.dumps(GLPI_INVENTORY))
    without[0]["content"]["softwares"] = []
    third = import_file(json.dumps(without), format="json", actor=cmdb_manager)
    assert third.as_dict()["software"] == {"installed": 0, "ended": 1, "unchanged": 0}
    firefox.refresh_from_db()
    assert firefox.ended_at is not None
    assert compliance(firefox.software)["consumed"] == 0 and usage_drift() == []


def test_the_reconciliation_check_finds_and_fixes_drift(cmdb_manager, capsys):
    import_file(inventory("srv-app-01"), format="json", actor=cmdb_manager)
    call_command("check_software_usage")
    assert "matches" in capsys.readouterr().out
    nginx = Software.objects.get(name="nginx")
    Software.objects.filter(pk=nginx.pk).update(installed_cis=7)  # as if a write had bypassed the count
    assert usage_drift() == [(nginx.pk, 7, 1)]
    with pytest.raises(CommandError, match="1 title"):
        call_command("check_software_usage")
    call_command("check_software_usage", "--fix")
    assert f"software {nginx.pk}: kept 7, counted 1" in capsys.readouterr().out
    assert usage_drift() == [] and compliance(nginx)["consumed"] == 1
    # Beat runs the same correction every day.
    from contracts.tasks import reconcile_software_usage
    from itsm.celery import app

    assert "contracts.reconcile_software_usage" in {e["task"] for e in app.conf.beat_schedule.values()}
    Software.objects.filter(pk=nginx.pk).update(installed_cis=0)
    assert reconcile_software_usage() == 1 and usage_drift() == []


def test_the_report_pages_in_sql_largest_shortfall_first(
    api_client, agent, cmdb_manager, django_assert_max_num_queries
):
    cis = [
        {"name": f"pc-{i}", "ci_class": "server", "software": [f"App {n}" for n in range(i + 1)]}
        for i in range(5)
    ]
    import_file(json.dumps({"cis": cis}), format="json", actor=cmdb_manager)
    # App n is on 5 - n CIs. Five seats of App 0: no shortfall; App 1 (4 CIs) has 1 seat.
    license_save(
        actor=cmdb_manager,
        fields={"software": Software.objects.get(name="App 0"), "metric": "per_device", "quantity": 5},
    )
    license_save(
        actor=cmdb_manager,
        fields={"software": Software.objects.get(name="App 1"), "metric": "per_device", "quantity": 1},
    )
    unused = Software.objects.create(name="Unused", key="unused|")
    license_save(actor=cmdb_manager, fields={"software": unused, "metric": "per_device", "quantity": 2})
    client = api_client(agent)
    first = client.get("/api/v1/software/compliance/?page_size=2").json()
    assert first["count"] == 6 and first["next"] and first["previous"] is None
    assert [(r["name"], r["shortfall"]) for r in first["results"]] == [("App 1", 3), ("App 2", 3)]
    rest = client.get("/api/v1/software/compliance/?page_size=2&page=3").json()["results"]
    assert [(r["name"], r["entitled"], r["consumed"], r["shortfall"]) for r in rest] == [
        ("App 0", 5, 5, 0),
        ("Unused", 2, 0, 0),
    ]
    assert [r["name"] for r in ComplianceReport(only_short=True)] == ["App 1", "App 2", "App 3", "App 4"]
    searched = client.get("/api/v1/software/compliance/?q=APP 4&short=true").json()
    assert [r["name"] for r in searched["results"]] == ["App 4"] and searched["count"] == 1
    assert list(ComplianceReport(q="app 0")) == [
        {
            "software": Software.objects.get(name="App 0").pk,
            "name": "App 0",
            "publisher": "",
            "entitled": 5,
            "consumed": 5,
            "shortfall": 0,
        }
    ]
    page = Client()
    page.force_login(agent)
    page.get("/contracts/software/")  # warm the per-process caches
    with django_assert_max_num_queries(8):
        html = page.get("/contracts/software/?q=App").content.decode()
    assert "App 1" in html and "Unused" not in html
