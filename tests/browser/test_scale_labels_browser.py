"""Every answer label of every rated question is shown whole on a 360 px phone, in
Vietnamese and in English (the English form once cut "Dissatisfied" to "Dissatisfie…")."""

from __future__ import annotations

import pytest

from tests.support import issue_codes

OVERFLOWING = """() => [...document.querySelectorAll('.opt span')].filter(span => {
    const box = span.closest('.opt').getBoundingClientRect();
    const text = span.getBoundingClientRect();
    return span.scrollWidth > span.clientWidth + 1 || text.left < box.left - 1 || text.right > box.right + 1;
}).map(span => span.closest('fieldset').id + ': ' + span.textContent)"""


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_answer_labels_fit_their_boxes_at_360_px(app, live_server, phone, lang):
    """On every step of the form (the general question answered to move on)."""
    [code] = issue_codes(app)
    phone.goto(f"{live_server}/s/{code}?lang={lang}")
    labels = 0
    while True:
        labels += phone.locator(".opt span").count()
        assert phone.evaluate(OVERFLOWING) == []
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the screen
        if not phone.locator("#next").count():
            break
        if phone.locator('input[type=radio][name="HL"]').count():
            phone.locator('input[type=radio][name="HL"][value="4"]').tap()
        with phone.expect_navigation():
            phone.locator("#next").tap()
    assert labels > 100
