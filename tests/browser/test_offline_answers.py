"""A phone that loses the network does not lose the answers (issue 16), in real Chromium with
the network cut (Playwright's offline mode) or a request that dies on the way.

The form keeps what it sends in the tab and sends it again when the network returns, after a
reload too; a code takes one answer, so a second delivery shows "đã nhận" and stores nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Response
from tests.support import answer_in_steps, issue_codes

pytestmark = pytest.mark.browser

TAPS = {"HL": "5", "TC1": "4", "CC2": "2", "feedback_given": "khong"}


def stored(app) -> tuple[int, dict[str, int]]:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Response))
        return count, dict(db.session.execute(select(Answer.item, Answer.value)).all())


def to_the_last_step(app, live_server, phone, kind: str = "single") -> str:
    [code] = issue_codes(app, kind=kind)
    phone.goto(f"{live_server}/s/{code}")
    answer_in_steps(phone, TAPS, comment="Nhanh gọn", send=False)
    return code


def test_a_submission_without_network_waits_on_the_page_and_goes_when_it_returns(app, live_server, phone):
    to_the_last_step(app, live_server, phone)
    phone.context.set_offline(True)
    phone.locator("#send").click()
    notice = phone.locator("#offline-notice")
    notice.wait_for(state="visible")
    assert "mất kết nối" in notice.inner_text() and "không cần điền lại" in notice.inner_text()
    assert phone.locator('textarea[name="comment"]').input_value() == "Nhanh gọn"  # the page is still the form
    assert stored(app)[0] == 0
    with phone.expect_navigation():
        phone.context.set_offline(False)  # the browser says "online": the kept answers go
    assert "Cảm ơn" in phone.content()
    count, answers = stored(app)
    assert count == 1 and answers == {"HL": 5, "TC1": 4, "CC2": 2}


def test_the_answers_survive_a_failed_request_and_a_reload(app, live_server, phone):
    code = to_the_last_step(app, live_server, phone)
    phone.route("**/s/*", lambda route: route.abort("internetdisconnected") if route.request.method == "POST"
                else route.continue_())
    phone.locator("#send").click()
    phone.locator("#offline-notice").wait_for(state="visible")
    assert stored(app)[0] == 0
    phone.unroute("**/s/*")
    with phone.expect_navigation(url="**/thanks**"):
        phone.goto(f"{live_server}/s/{code}")  # the citizen opens the link again: the kept copy is sent
    count, answers = stored(app)
    assert count == 1 and answers["HL"] == 5
    assert phone.evaluate("Object.keys(sessionStorage).length") == 0  # nothing kept once it was received


@pytest.mark.parametrize("kind", ["single", "counter"])
def test_a_second_delivery_says_received_and_stores_nothing(app, live_server, phone, kind):
    """The answer reached the server but its reply was lost: sending again is refused with
    "đã nhận", once, and the response is stored once: a single-use code by its single use, a
    poster (many answers) by the one-time value the script sends with every delivery."""
    to_the_last_step(app, live_server, phone, kind)

    def lose_the_reply(route):
        if route.request.method == "POST":
            route.fetch()  # the server stores the answer...
            route.abort("connectionreset")  # ...and the phone never hears back
        else:
            route.continue_()

    phone.route("**/s/*", lose_the_reply)
    phone.locator("#send").click()
    phone.locator("#offline-notice").wait_for(state="visible")
    assert stored(app)[0] == 1
    phone.unroute("**/s/*")
    with phone.expect_navigation():
        phone.locator("#send-again").click()
    assert "Đã nhận đánh giá" in phone.content()
    assert stored(app)[0] == 1


def test_a_step_without_network_waits_too(app, live_server, phone):
    [code] = issue_codes(app)
    phone.goto(f"{live_server}/s/{code}")
    phone.locator('input[name="HL"][value="4"]').click()
    phone.context.set_offline(True)
    phone.locator("#next").click()
    phone.locator("#offline-notice").wait_for(state="visible")
    with phone.expect_navigation():
        phone.context.set_offline(False)
    assert phone.locator("#progress").inner_text().startswith("Bước 2/8")
    assert phone.locator('input[name="HL"]').input_value() == "4"  # carried to the next step


def test_without_javascript_the_form_still_posts(app, live_server, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    [code] = issue_codes(app)
    page.goto(f"{live_server}/s/{code}")
    assert page.locator("#offline-notice").is_hidden()
    assert answer_in_steps(page, TAPS) == 8 and "Cảm ơn" in page.content()
    assert stored(app)[0] == 1
    context.close()
