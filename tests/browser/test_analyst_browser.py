"""An analyst in a real headless Chromium: log in, change filters, download the CSV,
open the report."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

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


# What each chart is read by: its whole figure's width, type of at least 12 px at 100 % zoom,
# no text on another text, and a name and description for a screen reader.
CHART_PAGES = ("/analyst/", "/analyst/criteria", "/analyst/trend", "/analyst/units", "/analyst/priorities")
READ_CHARTS = """() => [...document.querySelectorAll('figure.chart')].map(figure => {
  const svg = figure.querySelector('svg');
  const inner = figure.clientWidth - parseFloat(getComputedStyle(figure).paddingLeft)
                - parseFloat(getComputedStyle(figure).paddingRight);
  const scale = svg.getScreenCTM().a;
  const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim());
  const boxes = texts.map(t => { const r = t.getBoundingClientRect();
                                 return {text: t.textContent.trim(), x: r.x, y: r.y, r: r.right, b: r.bottom}; });
  return {width: svg.getBoundingClientRect().width, inner,
          smallest: Math.min(...texts.map(t => parseFloat(t.getAttribute('font-size')
                                                 || getComputedStyle(t).fontSize) * scale)),
          boxes, words: texts.map(t => t.textContent.trim()).join(' | ')};
})"""


def _overlapping(boxes: list[dict], slack: float = 1.0) -> list[tuple[str, str]]:
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if min(a["r"], b["r"]) - max(a["x"], b["x"]) > slack and min(a["b"], b["b"]) - max(a["y"], b["y"]) > slack:
                pairs.append((a["text"], b["text"]))
    return pairs


def test_charts_are_full_width_readable_and_described_in_words(app, live_server, office, subtests):
    answer(app, count=120, seed=31)
    answer(app, unit=ORG.other_section, count=90, seed=32)
    login_as_analyst(office, live_server)
    for path in CHART_PAGES:
        with subtests.test(page=path):
            office.goto(f"{live_server}{path}")
            charts = office.evaluate(READ_CHARTS)
            assert charts, f"{path} shows no chart"
            for chart in charts:
                assert chart["width"] >= 0.98 * chart["inner"], chart["width"]
                assert chart["smallest"] >= 12, f"{path}: text of {chart['smallest']:.1f} px"
                assert _overlapping(chart["boxes"]) == []
                assert not any(code in chart["words"].split(" | ") for code in ("SEC", "OTHER")), chart["words"]
            for figure in office.locator("figure.chart").all():
                caption = figure.locator("figcaption").inner_text()
                image = figure.get_by_role("img")
                expect(image).to_have_accessible_name(caption)
                expect(image).to_have_accessible_description(re.compile(r"\d+,\d %"))
    # Words, not codes: criteria by their text, units by their name, the funnel from n = 0.
    office.goto(f"{live_server}/analyst/criteria")
    words = office.evaluate(READ_CHARTS)[0]["words"]
    assert "Công chức" in words and "hướng dẫn" in words
    office.goto(f"{live_server}/analyst/units")
    units, funnel = office.evaluate(READ_CHARTS)
    assert "Phòng Lãnh sự" in units["words"] and "Phòng Hợp tác quốc tế" in funnel["words"]
    assert "0" in funnel["words"].split(" | ")  # the n axis starts at 0 (the percent axis says "%")


def test_a_chart_keeps_its_type_on_a_phone_and_scrolls_sideways(app, live_server, browser):
    answer(app, count=60, seed=33)
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, locale="vi-VN")
    page = context.new_page()
    login_as_analyst(page, live_server)
    page.goto(f"{live_server}/analyst/criteria")
    chart = page.evaluate(READ_CHARTS)[0]
    assert chart["smallest"] >= 10, chart["smallest"]
    width, scrolled, shown = page.evaluate("""() => { const f = document.querySelector('figure.chart');
        return [f.getBoundingClientRect().width, f.scrollWidth, f.clientWidth]; }""")
    assert width <= 360 and scrolled > shown  # the chart scrolls inside its figure
    context.close()
