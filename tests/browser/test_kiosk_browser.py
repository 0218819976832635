"""A counter kiosk in real Chromium at tablet size (issue 16): the clerk pairs it with the
code on the clerk's screen, sends a dossier's code with one click, the citizen answers by
touch, the kiosk thanks and waits for the next person; left alone, a form starts again."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Response
from tests.support import ORG, PASSWORD, answer_in_steps

pytestmark = pytest.mark.browser

TABLET = {"viewport": {"width": 800, "height": 1280}, "has_touch": True, "is_mobile": True, "locale": "vi-VN"}


def clerk_page(browser, base: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{base}/staff/login")
    page.fill("#username", "staff")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def paired_kiosk(browser, base: str):
    """The clerk's page and a tablet paired as "Quầy 1"."""
    clerk = clerk_page(browser, base)
    clerk.goto(f"{base}/staff/kiosks/")
    clerk.select_option("#unit", ORG.section)
    clerk.fill("#name", "Quầy 1")
    with clerk.expect_navigation():
        clerk.click("#add-kiosk")
    digits = clerk.locator("#pairing-code").inner_text()
    assert re.fullmatch(r"\d{3} \d{3}", digits)
    tablet = browser.new_context(**TABLET).new_page()
    tablet.goto(f"{base}/k")
    tablet.locator("#pairing").fill(digits)
    with tablet.expect_navigation():
        tablet.locator("#pair").tap()
    return clerk, tablet


def test_pair_send_answer_thank_and_wait_for_the_next_person(app, live_server, browser):
    clerk, tablet = paired_kiosk(browser, live_server)
    assert tablet.locator("#kiosk-idle").is_visible()
    assert "Quầy 1" in tablet.locator("#kiosk-idle").inner_text()
    # The clerk hands back a dossier and presses one button beside "In phiếu".
    clerk.goto(f"{live_server}/staff/")
    clerk.select_option("#procedure", ORG.procedure)
    with clerk.expect_navigation():
        clerk.locator("button.kiosk-send").click()
    assert "Máy sẽ hiện phiếu" in clerk.content()
    # Within a few seconds the tablet shows the short questionnaire, with big targets.
    tablet.wait_for_selector("#progress", timeout=10_000)
    assert "Đánh giá việc giải quyết thủ tục hành chính" in tablet.content()
    box = tablet.locator(".opt").first.bounding_box()
    assert box["height"] >= 64 and tablet.evaluate("document.documentElement.scrollWidth") <= 800
    assert answer_in_steps(tablet, {"HL": "3", "DG1": "2", "DG2": "3", "DG3": "2"}) >= 1
    assert tablet.locator("#kiosk-thanks").is_visible()
    # Then it waits for the next person by itself.
    tablet.wait_for_selector("#kiosk-idle", timeout=15_000)
    with app.app_context():
        assert db.session.scalars(select(Response.channel)).one() == "kiosk"
    assert "DG1" not in clerk.content()


def test_a_form_left_alone_starts_again(app, live_server, browser):
    clerk, tablet = paired_kiosk(browser, live_server)
    tablet.clock.install()
    clerk.goto(f"{live_server}/staff/")
    with clerk.expect_navigation():
        clerk.locator("button.kiosk-send").click()
    tablet.wait_for_selector("#progress", timeout=10_000)
    tablet.locator('input[name="HL"][value="1"]').tap()  # someone started, then walked away
    with tablet.expect_navigation():
        tablet.clock.fast_forward(121_000)
    tablet.wait_for_selector("#kiosk-idle")
    with app.app_context():
        assert db.session.scalars(select(Response)).all() == []  # nothing half-answered is stored


def test_answers_given_while_the_link_is_down_are_queued_and_sent_once(app, live_server, browser):
    """The centre's link drops as the citizen sends: the tablet keeps the answers in a queue,
    clears the form and thanks; back online, it sends the queue, then waits for the next
    person; the answer is stored once, as a kiosk answer."""
    clerk, tablet = paired_kiosk(browser, live_server)
    clerk.goto(f"{live_server}/staff/")
    with clerk.expect_navigation():
        clerk.locator("button.kiosk-send").click()
    tablet.wait_for_selector("#progress", timeout=10_000)
    answer_in_steps(tablet, {"HL": "2", "DG1": "1", "DG2": "2", "DG3": "3"}, send=False)
    tablet.context.set_offline(True)
    tablet.locator("#send").tap()
    tablet.locator("#kiosk-queued").wait_for(state="visible")
    assert tablet.locator("form").is_hidden()  # the next person does not see these answers
    assert tablet.evaluate("JSON.parse(localStorage.getItem('sipas-kiosk-queue')).length") == 1
    with app.app_context():
        assert db.session.scalars(select(Response)).all() == []
    tablet.context.set_offline(False)
    tablet.wait_for_selector("#kiosk-idle", timeout=15_000)
    assert tablet.evaluate("localStorage.getItem('sipas-kiosk-queue')") is None
    with app.app_context():
        assert db.session.scalars(select(Response.channel)).all() == ["kiosk"]
