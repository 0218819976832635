"""A staff member in a real headless Chromium: log in, print a slip, issue a batch."""

from __future__ import annotations

import re

import pytest

from tests.support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    # Count print dialogs instead of opening one (headless Chromium has no printer).
    context.add_init_script("window.__printed = 0; window.print = function () { window.__printed += 1; };")
    page = context.new_page()
    yield page
    context.close()


def test_staff_logs_in_prints_a_slip_and_issues_a_batch(app, live_server, desk):
    desk.goto(f"{live_server}/staff/login")
    desk.fill("#username", "staff")
    desk.fill("#password", PASSWORD)
    with desk.expect_navigation():
        desk.click("button[type=submit]")
    assert desk.url.endswith("/staff/")
    desk.select_option("#unit", "SEC")
    desk.select_option("#procedure", "1.000001")
    # One click from the staff home page to the print dialog.
    with desk.expect_navigation():
        desk.click("#print-slip")
    desk.wait_for_function("window.__printed === 1")
    code = desk.locator(".slip .code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", code)
    assert desk.locator(".slip svg").count() == 1
    # The choice is remembered for the next slip.
    desk.goto(f"{live_server}/staff/")
    assert desk.locator("#unit").input_value() == "SEC"
    assert desk.locator("#procedure").input_value() == "1.000001"
    # A batch for the shift.
    desk.locator("#batch-form select[name=kind]").select_option("single")
    desk.locator("#batch-form input[name=count]").fill("24")
    with desk.expect_navigation():
        desk.click("#issue-batch")
    assert "Lô" in desk.locator("h1").inner_text()
    href = desk.locator("#download-pdf").get_attribute("href")
    pdf = desk.request.get(f"{live_server}{href}")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
