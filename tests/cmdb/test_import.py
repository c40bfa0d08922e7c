"""Import: bad input gives per-row errors while the rest lands; a second import changes nothing."""

import json

import pytest

from cmdb.importer import ImportFileError, import_file
from cmdb.models import CIChange, ConfigurationItem, Relationship

pytestmark = pytest.mark.django_db

GOOD_AND_BAD_CSV = (
    "name,ci_class,serial_number,status,attributes.cpu_count,attributes.ip_addresses,runs_on\n"
    "srv1,server,S1,in_service,4,10.0.0.1;10.0.0.2,\n"
    "vm1,virtual_machine,,,2,,server:srv1\n"
    "mystery,quantum_computer,,,,,\n"
    "srv2,server,S2,,four,,\n"
    "vm2,virtual_machine,,,2,,server:missing\n"
    "too,many,columns,here,1,2,3,4\n"
    "latin,server,,,\xe9,,\n"
    "srv3,server,S3,planned,8,,\n"
).encode("latin-1")


def reasons(report):
    return {f["row"]: f["reason"] for f in report.failed}


def test_bad_rows_are_reported_and_the_rest_lands():
    report = import_file(GOOD_AND_BAD_CSV, format="csv", actor=None)
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    errors = reasons(report)
    assert set(errors) == {4, 5, 6, 7, 8}
    assert "unknown class 'quantum_computer'" in errors[4]
    assert errors[5].startswith("attributes.cpu_count:")
    assert "no server named 'missing'" in errors[6]
    assert "Malformed CSV line" in errors[7]
    assert "not valid utf-8" in errors[8]
    assert set(ConfigurationItem.objects.values_list("name", flat=True)) == {"srv1", "vm1", "srv3"}
    srv1 = ConfigurationItem.objects.get(name="srv1")
    assert srv1.attributes == {"cpu_count": 4, "ip_addresses": ["10.0.0.1", "10.0.0.2"]}
    assert Relationship.objects.filter(source__name="vm1", target=srv1, type="runs_on").exists()
    # a failed row leaves nothing behind: not even its CI when only its relationship was bad
    assert not ConfigurationItem.objects.filter(name="vm2").exists()
    assert CIChange.objects.filter(ci=srv1, action="created", source="import").exists()


def test_importing_the_same_file_twice_changes_nothing():
    import_file(GOOD_AND_BAD_CSV, format="csv", actor=None)
    before = (ConfigurationItem.objects.count(), Relationship.objects.count(), CIChange.objects.count())
    report = import_file(GOOD_AND_BAD_CSV, format="csv", actor=None)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert (
        ConfigurationItem.objects.count(),
        Relationship.objects.count(),
        CIChange.objects.count(),
    ) == before


def test_upsert_by_serial_renames_and_logs_each_field():
    import_file(
        "name,ci_class,serial_number,attributes.cpu_count\nold,server,SN9,2\n", format="csv", actor=None
    )
    report = import_file(
        "name,ci_class,serial_number,attributes.cpu_count\nnew,server,SN9,4\n", format="csv", actor=None
    )
    assert report.updated == 1
    ci = ConfigurationItem.objects.get(serial_number="SN9")
    assert ci.name == "new" and ci.attributes["cpu_count"] == 4
    changed = set(
        CIChange.objects.filter(ci=ci, action="updated").values_list("field", "old_value", "new_value")
    )
    assert changed == {("name", "old", "new"), ("attributes.cpu_count", 2, 4)}


def test_dry_run_reports_without_writing():
    report = import_file(GOOD_AND_BAD_CSV, format="csv", actor=None, dry_run=True)
    assert report.created == 3 and len(report.failed) == 5 and report.dry_run
    assert not ConfigurationItem.objects.exists() and not CIChange.objects.exists()


def test_json_with_relationships_to_cis_of_the_same_file():
    payload = {
        "cis": [
            {"name": "Shop", "ci_class": "business_service"},
            {"name": "shopdb", "ci_class": "database", "attributes": {"engine": "PostgreSQL", "port": 5432}},
            {"name": "db2", "ci_class": "database", "attributes": {"port": "five"}},
        ],
        "relationships": [
            {"source": "business_service:Shop", "target": "database:shopdb", "type": "depends_on"},
            {"source": "business_service:Shop", "target": "database:nowhere", "type": "depends_on"},
            {"source": "business_service:Shop", "target": "database:shopdb", "type": "likes"},
        ],
    }
    report = import_file(json.dumps(payload), format="json", actor=None)
    assert report.created == 3  # two CIs and one relationship
    failed = {(f["section"], f["row"]): f["reason"] for f in report.failed}
    assert failed[("cis", 3)].startswith("attributes.port:")
    assert "no database named 'nowhere'" in failed[("relationships", 2)]
    assert "unknown relationship type 'likes'" in failed[("relationships", 3)]
    again = import_file(json.dumps(payload), format="json", actor=None)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_netbox_preset_imports_an_unedited_export():
    export = (
        "ID,Name,Status,Site,Role,Manufacturer,Type,Platform,Serial number,IP Address\n"
        "17,dc1-web-01,Active,dc1,Web,Dell,R650,Debian 12,ABC123,10.1.0.5\n"
        "18,dc1-web-02,Decommissioning,dc1,Web,Dell,R650,,ABC124,\n"
    )
    report = import_file(export, format="csv", actor=None, preset="netbox")
    assert report.created == 2 and not report.failed
    web1 = ConfigurationItem.objects.get(name="dc1-web-01")
    assert web1.ci_class.name == "server" and web1.status == "in_service" and web1.serial_number == "ABC123"
    assert web1.attributes["os"] == "Debian 12" and web1.attributes["ip_addresses"] == ["10.1.0.5"]
    assert ConfigurationItem.objects.get(name="dc1-web-02").status == "retired"


def test_glpi_preset_and_explicit_mapping():
    export = "Name;Entity;Status;Serial number;Operating System - Name;Cores\npc-042;Root;In use;G42;Windows 11;8\n"
    report = import_file(
        export, format="csv", actor=None, preset="glpi", mapping={"Cores": "attributes.cpu_count"}
    )
    assert report.created == 1, report.failed
    ci = ConfigurationItem.objects.get(name="pc-042")
    assert (
        ci.status == "in_service" and ci.attributes["cpu_count"] == 8 and ci.attributes["os"] == "Windows 11"
    )


def test_unreadable_files_are_refused_whole():
    with pytest.raises(ImportFileError, match="Not valid JSON"):
        import_file("{nope", format="json", actor=None)
    with pytest.raises(ImportFileError, match='no "name" column'):
        import_file("hostname,ci_class\nx,server\n", format="csv", actor=None)


def _server_rows(count: int, *, cpu: int = 4) -> str:
    lines = ["name,ci_class,serial_number,attributes.cpu_count,runs_on"]
    lines += [f"host-{i},server,HS-{i},{cpu},{'server:host-0' if i else ''}" for i in range(count)]
    return "\n".join(lines) + "\n"


def test_round_trips_do_not_grow_with_the_number_of_rows(django_assert_max_num_queries):
    """One lookup per class and window, batched inserts: 300 rows cost what 30 rows cost."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for size in (30, 300):
        ConfigurationItem.objects.filter(name__startswith="host-").delete()
        with CaptureQueriesContext(connection) as first:
            report = import_file(_server_rows(size), format="csv", actor=None)
        assert report.created == size and not report.failed
        assert Relationship.objects.filter(target__name="host-0", type="runs_on").count() == size - 1
        with CaptureQueriesContext(connection) as again:
            report = import_file(_server_rows(size), format="csv", actor=None)
        assert report.unchanged == size
        counts[size] = (len(first), len(again))
    assert counts[30] == counts[300]
    assert counts[300][0] <= 15 and counts[300][1] <= 6, counts
    # An update still goes row by row through the services (a few queries each), and logs the change.
    with django_assert_max_num_queries(40):
        report = import_file(_server_rows(3, cpu=8), format="csv", actor=None)
    assert report.updated == 3
    assert CIChange.objects.filter(field="attributes.cpu_count", new_value=8).count() == 3


def test_a_key_taken_while_importing_fails_only_its_row(monkeypatch):
    """The batch lookup missed a CI (as when a concurrent writer takes a key after it): the batch insert
    fails, its savepoint rolls back, the rows are retried one by one with the unique checks, and only the
    row whose key is taken is reported."""
    from cmdb.importer import Importer
    from cmdb.models import CIClass

    racer = ConfigurationItem.objects.create(name="host-2", ci_class=CIClass.objects.get(name="server"))
    remember = Importer._remember

    def blind_to_the_racer(self, ci, **kwargs):
        if ci.pk != racer.pk:
            remember(self, ci, **kwargs)

    monkeypatch.setattr(Importer, "_remember", blind_to_the_racer)
    report = import_file(_server_rows(4), format="csv", actor=None)
    assert reasons(report) == {4: "name: A server named 'host-2' already exists."}
    assert report.created == 3
    assert [row["action"] for row in report.rows] == ["created", "created", "failed", "created"]
    racer.refresh_from_db()
    assert racer.serial_number == "" and not racer.outgoing.exists()  # untouched
    assert Relationship.objects.filter(target__name="host-0").count() == 2
    assert CIChange.objects.filter(action="created", source="import").count() == 3


def test_the_same_ci_twice_in_one_file_is_created_then_updated():
    data = "name,ci_class,attributes.cpu_count\ndup,server,2\ndup,server,2\ndup,server,6\n"
    report = import_file(data, format="csv", actor=None)
    assert [row["action"] for row in report.rows] == ["created", "unchanged", "updated"]
    assert ConfigurationItem.objects.get(name="dup").attributes == {"cpu_count": 6}
    edges = "source,target,type\nserver:dup,server:x,runs_on\n"
    ConfigurationItem.objects.create(name="x", ci_class=ConfigurationItem.objects.get(name="dup").ci_class)
    report = import_file(edges + "server:dup,server:x,runs_on\n", format="csv", actor=None)
    assert [row["action"] for row in report.rows] == ["created", "unchanged"]
    assert CIChange.objects.filter(action="related").count() == 2  # one row on each end
