"""The dashboard page, its CSV exports, the links to the lists behind the numbers, and permissions."""

import csv
import io
import re
from html import unescape

import pytest
from django.urls import reverse

from reports import metrics


@pytest.fixture
def query(dataset):
    from reports import rollups

    return f"?start={dataset.day.isoformat()}&end={rollups.local_today().isoformat()}"


def test_every_csv_equals_the_page(client, dataset, manager, query):
    client.force_login(manager)
    page = client.get(reverse("reports-dashboard") + query)
    assert page.status_code == 200
    tables = page.context["tables"]
    assert [t.slug for t in tables] == list(metrics.TABLES)
    html = page.content.decode()
    for table in tables:
        response = client.get(reverse("reports-export", args=[table.slug]) + query)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == table.columns
        expected = [["" if v is None else str(v) for v in row] for row in table.plain_rows()]
        assert rows[1:] == expected
        for row in expected:  # and each number is what the page prints
            for value in row:
                if value:
                    assert f">{value}<" in html


def test_links_lead_to_exactly_the_records_counted(client, dataset, manager, query):
    client.force_login(manager)
    tables = {t.slug: t for t in client.get(reverse("reports-dashboard") + query).context["tables"]}
    network = next(r for r in tables["resolution"].rows if r[0].value == "network")
    cases = [
        (network[4], {"INC9000001", "INC9000002"}),  # resolved
        (network[6], {"INC9000002"}),  # reopened
        (next(r for r in tables["sla"].rows if r[2].value == "network")[4], {"INC9000002", "INC9000005"}),
        (
            next(r for r in tables["top-cis"].rows if r[0].value == "db01")[2],
            {"INC9000001", "INC9000002", "INC9000005"},
        ),
    ]
    for cell, numbers in cases:
        listed = set(re.findall(r"INC900000\d", client.get(unescape(cell.href)).content.decode()))
        assert listed == numbers, cell.href
        assert cell.value == len(numbers)


def test_requesters_get_404_and_change_managers_see_changes_only(client, dataset, make_user, query):
    client.force_login(make_user("someone"))
    assert client.get(reverse("reports-dashboard")).status_code == 404
    assert client.get(reverse("reports-export", args=["volume"])).status_code == 404
    client.force_login(make_user("cm", roles=["change_manager"]))
    page = client.get(reverse("reports-dashboard") + query)
    tables = {t.slug: t for t in page.context["tables"]}
    assert list(tables) == ["volume", "backlog", "sla", "changes", "csat"]  # no incident-only tables
    assert {r[0].value for r in tables["volume"].rows} == {"change"}
    assert {r[0].value for r in tables["csat"].rows} == {"change"}
    assert {r[0].value for r in tables["backlog"].rows} <= {"change"}
    assert client.get(reverse("reports-export", args=["resolution"]) + query).status_code == 404


def test_bad_filter_is_named_on_the_page_and_refused_by_the_export(client, dataset, manager):
    client.force_login(manager)
    page = client.get(reverse("reports-dashboard") + "?start=nope")
    assert page.status_code == 200 and "start" in page.context["errors"]
    response = client.get(reverse("reports-export", args=["volume"]) + "?start=nope")
    assert response.status_code == 400 and b"start" in response.content


def test_dashboard_query_count_is_fixed(client, dataset, manager, django_assert_max_num_queries):
    """Same count for a month, a year and one group: every table reads small precomputed rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports import rollups

    client.force_login(manager)
    rollups.refresh_backlog()
    rollups.refresh_today()
    counts = []
    for query in ("", "?start=2026-01-01", "?group=network"):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("reports-dashboard") + query).status_code == 200
        counts.append(len(captured))
    # A group filter adds its lookup, and the top-CI table then sums the group's rows directly (no window).
    assert counts[0] == counts[1] and counts[2] == counts[0]
    with django_assert_max_num_queries(25):
        client.get(reverse("reports-dashboard"))
