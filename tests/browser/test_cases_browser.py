"""A complaint from a phone in a real headless Chromium: marked on the last step, its number
on the thank-you page, followed from there; the answer and the rating once staff reply."""

from __future__ import annotations

import re

import pytest

from survey_app.extensions import db
from survey_app.feedback import service as cases
from survey_app.feedback.model import FeedbackCase
from tests.support import answer_in_steps, issue_codes

pytestmark = pytest.mark.browser


def test_a_citizen_sends_a_complaint_follows_it_and_rates_the_answer(app, live_server, phone):
    [code] = issue_codes(app)
    phone.goto(f"{live_server}/s/{code}")
    answer_in_steps(phone, {"HL": "2", "case_kind": "complaint"}, comment="Phải chờ hai tiếng mới được tiếp.")
    shown = phone.locator("#case-opened")
    assert shown.is_visible() and "phản ánh số PA-" in shown.inner_text()
    number = re.search(r"PA-[2-9A-Z]{4}-[2-9A-Z]{4}", shown.inner_text())[0]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    with phone.expect_navigation():
        phone.get_by_text("Tra cứu phản ánh, kiến nghị đã gửi").tap()
    assert phone.locator("#case-status").inner_text() == "Đang xử lý"
    assert "Phải chờ hai tiếng" in phone.content() and not phone.locator("#rate-form").count()
    with app.app_context():
        cases.close(cases.by_number(number), outcome="Đã bố trí thêm một quầy buổi sáng.", actor="staff")
    phone.goto(f"{live_server}/s/{code}")  # the receipt's QR again: the answered page leads to the case
    with phone.expect_navigation():
        phone.locator("#follow-case a").tap()
    assert "Đã bố trí thêm một quầy" in phone.locator("#case-outcome").inner_text()
    phone.locator('input[name="rating"][value="satisfied"]').tap()
    with phone.expect_navigation():
        phone.locator("#rate-form button").tap()
    assert "Hài lòng" in phone.locator("#case-rated").inner_text()
    with app.app_context():
        assert db.session.scalar(db.select(FeedbackCase.rating)) == "satisfied"
