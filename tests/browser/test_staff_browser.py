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
    # A batch for the shift: a count and one click open the label sheet.
    desk.locator("#batch-form input[name=count]").fill("24")
    with desk.expect_response(lambda r: r.url.endswith(".pdf")) as sheet:
        desk.click("#issue-batch")
    assert sheet.value.ok and sheet.value.headers["content-type"] == "application/pdf"  # Chromium's viewer shows it
    # A poster: one click on the home page's second button.
    desk.goto(f"{live_server}/staff/")
    with desk.expect_response(lambda r: r.url.endswith(".pdf")) as poster:
        desk.click("#print-poster")
    assert poster.value.ok and poster.value.headers["content-type"] == "application/pdf"
    assert desk.request.get(poster.value.url).body().startswith(b"%PDF")


def test_the_html_slip_prints_on_one_80_mm_page_with_the_pdfs_words(app, live_server, desk, tmp_path):
    """Chromium's own print of the HTML slip: 80 mm wide, one page, and the words of the PDF
    slip (title, the sentence, the expiry, "Hoặc mở:")."""
    import subprocess

    from tests.support import issue_codes, require_tool

    pdfinfo, pdftotext = require_tool("pdfinfo"), require_tool("pdftotext")
    issue_codes(app)
    desk.goto(f"{live_server}/staff/login")
    desk.fill("#username", "staff")
    desk.fill("#password", PASSWORD)
    with desk.expect_navigation():
        desk.click("button[type=submit]")
    with app.app_context():
        from sqlalchemy import select

        from survey_app.extensions import db
        from survey_app.models import SurveyCode

        code_id = db.session.scalar(select(SurveyCode.id))
    desk.goto(f"{live_server}/staff/slip/{code_id}")
    desk.wait_for_selector(".slip .code")
    printed = tmp_path / "slip.pdf"
    printed.write_bytes(desk.pdf(prefer_css_page_size=True, print_background=False))
    info = subprocess.run([pdfinfo, str(printed)], capture_output=True, text=True, check=True).stdout
    width_pt = float(re.search(r"Page size:\s+([\d.]+) x", info).group(1))
    assert re.search(r"Pages:\s+1\n", info), info
    assert abs(width_pt - 80 / 25.4 * 72) < 1.5, info  # 80 mm, not A4's 210 mm
    words = subprocess.run([pdftotext, "-enc", "UTF-8", str(printed), "-"], capture_output=True, text=True,
                           check=True).stdout
    flat = " ".join(words.split())
    for expected in ("Đánh giá sự hài lòng", "Hoặc mở:", "Hạn trả lời:", "khoảng 4 phút"):
        assert expected in flat, flat
    assert "In lại" not in flat and "Hủy mã" not in flat  # only the slip prints
