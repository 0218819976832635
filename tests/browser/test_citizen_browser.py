"""The citizen's path in a real headless Chromium on a phone-sized screen, by tapping."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Response
from tests.support import issue_codes

pytestmark = pytest.mark.browser


def answer_by_tapping(page, questions: dict[str, str]) -> None:
    for code, value in questions.items():
        page.locator(f'input[name="{code}"][value="{value}"]').tap()


@pytest.mark.parametrize("lang,thanks", [("vi", "Cảm ơn"), ("en", "Thank you")])
def test_citizen_answers_on_a_phone(app, live_server, phone, lang, thanks):
    [code] = issue_codes(app)
    phone.goto(f"{live_server}/s/{code}" + ("?lang=en" if lang == "en" else ""))
    assert phone.locator("html").get_attribute("lang") == lang
    # The PA items stay hidden until the person says they gave feedback.
    assert not phone.locator('input[name="PA1"]').first.is_visible()
    answer_by_tapping(phone, {"TC1": "5", "TC2": "4", "TT1": "3", "CC1": "5", "KQ1": "4", "HL": "5",
                              "feedback_given": "co"})
    assert phone.locator('input[name="PA1"]').first.is_visible()
    answer_by_tapping(phone, {"PA1": "2"})
    phone.select_option('select[name="age_group"]', "60+")
    phone.fill('textarea[name="comment"]', "Rất tốt" if lang == "vi" else "Very good")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, "the form must not scroll sideways on a 360 px phone"
    with phone.expect_navigation():
        phone.locator("button[type=submit]").tap()
    assert thanks in phone.content()
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        answers = dict(db.session.execute(select(Answer.item, Answer.value)).all())
    assert answers == {"TC1": 5, "TC2": 4, "TT1": 3, "CC1": 5, "KQ1": 4, "HL": 5, "PA1": 2}
    assert response.age_group == "60+" and response.feedback_given == "co"


def test_missing_general_question_shows_errors_and_keeps_answers(app, live_server, phone):
    [code] = issue_codes(app)
    phone.goto(f"{live_server}/s/{code}")
    answer_by_tapping(phone, {"TC1": "2", "CC2": "4"})
    with phone.expect_navigation():
        phone.locator("button[type=submit]").tap()
    assert phone.locator("#HL-err").is_visible()
    assert phone.locator('input[name="TC1"][value="2"]').is_checked()
    answer_by_tapping(phone, {"HL": "4"})
    with phone.expect_navigation():
        phone.locator("button[type=submit]").tap()
    assert "Cảm ơn" in phone.content()
