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
    [code] = issue_codes(app)
    phone.goto(f"{live_server}/s/{code}?lang={lang}")
    assert phone.locator(".opt span").count() > 100
    assert phone.evaluate(OVERFLOWING) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the screen
