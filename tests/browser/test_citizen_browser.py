"""The citizen's path in a real headless Chromium on a phone-sized screen, by tapping."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Response
from tests.support import answer_in_steps, issue_codes

pytestmark = pytest.mark.browser


def answer_by_tapping(page, questions: dict[str, str]) -> None:
    for code, value in questions.items():
        page.locator(f'input[name="{code}"][value="{value}"]').tap()


@pytest.mark.parametrize("lang,thanks", [("vi", "Cảm ơn"), ("en", "Thank you")])
def test_citizen_answers_on_a_phone(app, live_server, phone, lang, thanks):
    [code] = issue_codes(app)
    phone.goto(f"{live_server}/s/{code}" + ("?lang=en" if lang == "en" else ""))
    assert phone.locator("html").get_attribute("lang") == lang
    assert phone.locator("#progress").inner_text().startswith("Bước 1/8" if lang == "vi" else "Step 1 of 8")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling at 360 px"
    steps = answer_in_steps(phone, {"HL": "5", "TC1": "5", "TC2": "4", "TT1": "3", "CC1": "5", "KQ1": "4",
                                    "feedback_given": "co", "PA1": "2"},
                            selects={"age_group": "60+"}, comment="Rất tốt" if lang == "vi" else "Very good")
    assert steps == 8 and thanks in phone.content()
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        answers = dict(db.session.execute(select(Answer.item, Answer.value)).all())
    assert answers == {"TC1": 5, "TC2": 4, "TT1": 3, "CC1": 5, "KQ1": 4, "HL": 5, "PA1": 2}
    assert response.age_group == "60+" and response.feedback_given == "co"


def test_the_general_question_comes_first_and_is_said_in_words_when_missing(app, live_server, phone):
    """HL, the one required answer, is the first step; moving on without it says so in
    words (the question, then what to do), and going back keeps what was tapped."""
    [code] = issue_codes(app)
    phone.goto(f"{live_server}/s/{code}")
    answer_by_tapping(phone, {"respondent_type": "ca_nhan"} if phone.locator('input[name="respondent_type"]').count()
                      else {})
    with phone.expect_navigation():
        phone.locator("#next").tap()
    assert phone.locator("#HL-err").is_visible()
    summary = phone.locator("#errors").inner_text()
    assert "Nhìn chung, Ông/Bà hài lòng" in summary and "HL:" not in summary
    answer_by_tapping(phone, {"HL": "4"})
    with phone.expect_navigation():
        phone.locator("#next").tap()
    answer_by_tapping(phone, {"TC1": "2"})
    with phone.expect_navigation():
        phone.locator("#back").tap()
    assert phone.locator('input[name="HL"][value="4"]').is_checked()
    assert answer_in_steps(phone, {"CC2": "4"}) == 8
    assert "Cảm ơn" in phone.content()
    with app.app_context():
        answers = dict(db.session.execute(select(Answer.item, Answer.value)).all())
    assert answers == {"HL": 4, "TC1": 2, "CC2": 4}
