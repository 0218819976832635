"""An analyst in a real headless Chromium: log in, change filters, download the CSV,
open the report."""

from __future__ import annotations

import csv
import io

import pytest

from tests.app.test_analyst import answer
from tests.support import ORG, PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def office(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def login_as_analyst(page, base: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("#username", "analyst")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_analyst_filters_downloads_and_opens_the_report(app, live_server, office, tmp_path):
    answer(app, count=34, seed=21)
    answer(app, unit=ORG.other_section, count=31, seed=22)
    login_as_analyst(office, live_server)
    office.goto(f"{live_server}/analyst/")
    assert office.locator("#response-count").inner_text() == "65"
    # Change filters: one section, monthly periods; the choice is kept in the URL.
    office.select_option("#f-unit", ORG.section)
    office.select_option("#f-period", "month")
    with office.expect_navigation():
        office.click("#apply-filters")
    assert f"unit={ORG.section}" in office.url and "period=month" in office.url
    assert office.locator("#response-count").inner_text() == "34"
    office.click("text=Diễn biến")
    office.wait_for_selector("#trend-table")
    assert "period=month" in office.url and f"unit={ORG.section}" in office.url
    # Download the responses of the filtered view.
    office.click("text=Tải về")
    office.wait_for_selector("#dl-responses-csv")
    with office.expect_download() as info:
        office.click("#dl-responses-csv")
    with open(info.value.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert len(rows) == 34 and {r["unit"] for r in rows} == {ORG.section}
    # The plan report is a document to keep: downloaded, then opened from disk with its styles.
    with office.expect_download() as info:
        office.click("#dl-report-html")
    report = tmp_path / info.value.suggested_filename
    info.value.save_as(report)
    assert report.suffix == ".html"
    office.goto(report.as_uri())
    assert office.locator("svg").count() >= 1
    assert "Kế hoạch" in office.content() or "kế hoạch" in office.content()
    assert office.evaluate("getComputedStyle(document.querySelector('table')).borderCollapse") == "collapse"
