"""A manager opens the dashboard, narrows the date range, and clicks through to the records behind a number."""

import datetime as dt
import re

import pytest

from tests.reports import conftest as report_data

# The hand-computed data set of tests/reports (see tests/reports/conftest.py), reused here.
report_dataset = report_data.dataset
report_manager = report_data.manager

pytestmark = pytest.mark.browser


def test_dashboard_date_range_and_click_through_to_the_list(
    page, login, live_server, report_dataset, report_manager
):
    login(page, report_manager)
    page.goto(f"{live_server.url}/reports/")
    assert page.get_by_test_id("report-volume").is_visible()
    assert page.locator("canvas#chart-volume").is_visible()  # Chart.js drew into it (served locally)

    page.fill("#report-start", (report_dataset.day - dt.timedelta(days=1)).isoformat())
    page.get_by_test_id("report-apply").click()
    page.wait_for_url(re.compile(r"start=" + (report_dataset.day - dt.timedelta(days=1)).isoformat()))

    cis = page.get_by_test_id("report-top-cis")
    row = cis.locator("tr", has_text="db01")
    assert row.locator("a").inner_text() == "3"
    row.locator("a").click()
    page.wait_for_url(re.compile(r"/incidents/\?.*ci="))
    body = page.locator("main, body").first.inner_text()
    assert {"INC9000001", "INC9000002", "INC9000005"} <= set(re.findall(r"INC\d{7}", body))
    assert "INC9000003" not in body
