"""Software and license compliance benchmark (issue 23): 100,000 CIs with 2,000,000 installations of
5,000 titles. Targets: compliance of one title p95 < 50 ms; the compliance report over all titles < 2 s
(its slowest of three runs); re-importing 10,000 GLPI inventories whose software did not change < 60 s.
The grouped count the report used before the kept per-title counts is timed in the same run.

Run: `pytest bench/contracts_software.py -s -p no:xdist` (`BENCH_SCALE=0.1` for a tenth of the data).
90% of the CIs and their installations are written by SQL; the other 10% (10,000 at full scale) come
from GLPI inventories through the CMDB import, timed once (creating) and again (unchanged). Prints the
figures and appends a JSON line to bench/results/contracts.json; the tables are flushed afterwards.
"""

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count, Sum

from cmdb.importer import import_file
from cmdb.models import CIClass
from contracts.models import Installation, License, Software
from contracts.selectors import ComplianceReport, compliance, compliance_report
from contracts.software import fix_usage_drift, usage_drift

sys.path.insert(0, str(Path(__file__).parent))
from results import write  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
CI_COUNT = int(100_000 * SCALE)
TITLES = 5_000
PER_CI = 20  # 2,000,000 installations at full scale
INVENTORIES = int(10_000 * SCALE)
SAMPLES = 200


def p95(values):
    return statistics.quantiles(values, n=100)[94]


def titles_of(ci_number: int) -> list[int]:
    """The PER_CI distinct title numbers (0-based) installed on CI number `ci_number`."""
    return [(ci_number * 7 + k * 251) % TITLES for k in range(PER_CI)]


def build() -> None:
    from cmdb.ci_classes import ensure_default_classes

    ensure_default_classes()
    server = CIClass.objects.get(name="server").pk
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO contracts_software (name, publisher, key, created_at)
            SELECT 'Title ' || g, 'Publisher ' || (g %% 50), 'title ' || g || '|publisher ' || (g %% 50), now()
            FROM generate_series(0, %s - 1) g
            """,
            [TITLES],
        )
        cur.execute("SELECT min(id) FROM contracts_software")
        first_title = cur.fetchone()[0]
        cur.execute(
            """
            INSERT INTO cmdb_configurationitem
                (name, ci_class_id, status, environment, serial_number, attributes, description,
                 created_at, updated_at)
            SELECT 'bench-pc-' || g, %s, 'in_service', 'production', 'BSN' || g, '{}', '', now(), now()
            FROM generate_series(%s, %s - 1) g
            """,
            [server, INVENTORIES, CI_COUNT],
        )
        cur.execute(
            """
            INSERT INTO contracts_installation (ci_id, software_id, version, installed_at)
            SELECT ci.id, %s + ((n * 7 + k * 251) %% %s), '1.' || k, now()
            FROM (SELECT id, substring(name from 10)::int AS n FROM cmdb_configurationitem
                  WHERE name LIKE 'bench-pc-%%') ci,
                 generate_series(0, %s - 1) k
            """,
            [first_title, TITLES, PER_CI],
        )
        # Licenses: about 80% of the installations' worth of seats, spread over every title.
        cur.execute(
            """
            INSERT INTO contracts_license (software_id, metric, quantity, created_at)
            SELECT id, 'per_device', (random() * %s)::int, now() FROM contracts_software
            """,
            [int(2 * 0.8 * CI_COUNT * PER_CI / TITLES)],
        )


def grouped_count_report() -> int:
    """The report as it was before the kept counts (issue 23, first version): seats grouped by title, and
    the distinct CIs of every title's current installations counted by one grouped query over the 2,000,000
    rows. Timed in the same run as the kept-count report, for the README's before/after."""
    seats = dict(License.objects.order_by().values_list("software_id").annotate(s=Sum("quantity")))
    consumed = dict(
        Installation.objects.filter(ended_at__isnull=True)
        .order_by()
        .values_list("software_id")
        .annotate(n=Count("ci_id", distinct=True))
        .values_list("software_id", "n")
    )
    names = dict(Software.objects.filter(pk__in=set(seats) | set(consumed)).values_list("id", "name"))
    return len(names)


def inventories() -> bytes:
    items = []
    for i in range(INVENTORIES):
        items.append(
            {
                "action": "inventory",
                "deviceid": f"inv-pc-{i}",
                "itemtype": "Computer",
                "content": {
                    "hardware": {"name": f"bench-pc-{i}", "memory": 8192},
                    "bios": {"ssn": f"BSN{i}"},
                    "operatingsystem": {"full_name": "Debian GNU/Linux 12"},
                    "softwares": [
                        {"name": f"Title {t}", "version": f"1.{k}", "publisher": f"Publisher {t % 50}"}
                        for k, t in enumerate(titles_of(i))
                    ],
                },
            }
        )
    return json.dumps(items).encode()


@pytest.mark.django_db(transaction=True)  # committed and vacuumed data; the tables are flushed afterwards
def test_contracts_software_benchmark():
    started = time.perf_counter()
    build()
    # The SQL-written installations bypass the import: the reconciliation sets the titles' kept counts.
    t0 = time.perf_counter()
    assert len(fix_usage_drift()) == TITLES
    fill_seconds = time.perf_counter() - t0
    data = inventories()
    t0 = time.perf_counter()
    first = import_file(data, format="json", actor=None)
    import_seconds = time.perf_counter() - t0
    assert first.created == INVENTORIES and not first.failed, first.failed[:3]
    with connection.cursor() as cur:
        for table in (
            "contracts_installation",
            "contracts_software",
            "contracts_license",
            "cmdb_configurationitem",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")
    build_seconds = time.perf_counter() - started
    installations = Installation.objects.filter(ended_at__isnull=True).count()
    assert installations == CI_COUNT * PER_CI
    t0 = time.perf_counter()
    assert usage_drift() == []  # the import kept every count right
    check_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    second = import_file(data, format="json", actor=None)
    reimport_seconds = time.perf_counter() - t0
    assert second.unchanged == INVENTORIES and second.software == {
        "installed": 0,
        "ended": 0,
        "unchanged": INVENTORIES * PER_CI,
    }

    ids = list(Software.objects.values_list("id", flat=True))
    rng = random.Random(23)
    compliance(Software(pk=ids[0]))  # warm up
    timings = []
    for pk in rng.sample(ids, SAMPLES):
        t0 = time.perf_counter()
        numbers = compliance(Software(pk=pk))
        timings.append((time.perf_counter() - t0) * 1000)
    assert numbers["consumed"] > 0
    report_timings, before_timings, page_timings = [], [], []
    for _ in range(3):  # interleaved, so both see the same load
        t0 = time.perf_counter()
        rows = compliance_report()
        report_timings.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert grouped_count_report() == TITLES
        before_timings.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        report = ComplianceReport()
        assert report.count() == TITLES and len(report[0:50]) == 50  # what the page reads
        page_timings.append((time.perf_counter() - t0) * 1000)
    assert len(rows) == TITLES
    assert rows[0]["shortfall"] == max(row["shortfall"] for row in rows)
    load = os.getloadavg()

    result = {
        "bench": "contracts",
        "scale": SCALE,
        "cis": CI_COUNT,
        "installations": installations,
        "titles": TITLES,
        "build_seconds": round(build_seconds, 1),
        "import_inventories": INVENTORIES,
        "import_inventories_seconds": round(import_seconds, 2),
        "reimport_unchanged_seconds": round(reimport_seconds, 2),
        "compliance_one_title_p50_ms": round(statistics.median(timings), 2),
        "compliance_one_title_p95_ms": round(p95(timings), 2),
        "compliance_report_all_titles_seconds": round(min(report_timings), 3),
        "compliance_report_all_titles_max_seconds": round(max(report_timings), 3),
        "compliance_report_first_page_ms": round(min(page_timings), 1),
        "before_grouped_count_report_seconds": round(min(before_timings), 3),
        "before_grouped_count_report_max_seconds": round(max(before_timings), 3),
        "fill_counts_seconds": round(fill_seconds, 2),
        "reconciliation_check_seconds": round(check_seconds, 2),
        "load_average": [round(value, 1) for value in load],
    }
    print(json.dumps(result, indent=2))
    write("contracts", result)
    assert result["compliance_one_title_p95_ms"] < 50
    assert result["compliance_report_all_titles_max_seconds"] < 2
    assert reimport_seconds < 60
