"""The Content-Security-Policy (style-src 'self', no 'unsafe-inline') in a real headless
Chromium: staff and analyst pages apply every style they have (no "Refused to apply inline
style", no securitypolicyviolation event) and lay out as designed; a chart whose CSS became
presentation attributes draws pixel for pixel as matplotlib's original."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from analysis import charts  # noqa: E402
from analysis.charts.figure import STYLE  # noqa: E402
from tests.support import PASSWORD, store_random_answers  # noqa: E402

pytestmark = pytest.mark.browser

# Chromium's document-level listener, added before any of the page's own content.
LISTEN = ("window.__violations = [];"
          "document.addEventListener('securitypolicyviolation', e => window.__violations.push("
          "e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || '')));"
          "window.print = function () {};")


class Watched:
    """A 1280 px wide page that records what the policy refused."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        self.violations: list[str] = []

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.settle()

    def settle(self) -> None:
        self.page.wait_for_load_state("load")
        self.violations += self.page.evaluate("window.__violations")

    def refused(self) -> list[str]:
        policy = [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]
        return policy + self.violations

    def login(self, base: str, username: str) -> None:
        self.visit(f"{base}/staff/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")
        self.settle()


@pytest.fixture
def watched(browser):
    made: list[Watched] = []

    def open_page() -> Watched:
        made.append(Watched(browser))
        return made[-1]

    yield open_page
    for page in made:
        page.context.close()


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def test_staff_login_and_slip_apply_their_styles(app, live_server, watched):
    desk = watched()
    desk.visit(f"{live_server}/staff/login")
    login = box(desk.page, ".login-box")
    assert 400 <= login["width"] <= 460  # 28rem, centred: not the full 1280 px
    assert abs(login["x"] - (1280 - login["x"] - login["width"])) < 20
    desk.login(live_server, "staff")
    desk.page.select_option("#unit", "SEC")
    with desk.page.expect_navigation():
        desk.page.click("#print-slip")
    desk.settle()
    slip, actions = box(desk.page, ".slip"), box(desk.page, ".slip-actions")
    assert 260 <= slip["width"] <= 285  # 72 mm at 96 dpi (272 px)
    assert actions["y"] - (slip["y"] + slip["height"]) >= 15  # 1rem between the slip and its buttons
    qr = box(desk.page, ".slip svg")
    assert 165 <= qr["width"] <= 180  # 46 mm
    assert desk.refused() == []


def test_analyst_pages_apply_their_styles_and_draw_their_charts(app, live_server, watched):
    store_random_answers(app, count=35, seed=3)
    office = watched()
    office.login(live_server, "analyst")
    office.visit(f"{live_server}/analyst/")
    assert office.page.locator("figure svg").count() >= 1
    drawn = office.page.evaluate("""() => {
        const svg = document.querySelector('figure svg');
        const text = svg.querySelector('text'), line = svg.querySelector('path[stroke]:not([stroke-linejoin])');
        return {font: getComputedStyle(text).fontFamily, size: getComputedStyle(text).fontSize,
                join: getComputedStyle(line).strokeLinejoin, stroke: getComputedStyle(line).stroke};
    }""")
    assert "DejaVu Sans" in drawn["font"] and drawn["size"].endswith("px")
    assert drawn["join"] == "round" and drawn["stroke"].startswith("rgb(")
    tabs = box(office.page, ".tabs a[aria-current=page]")
    assert tabs["width"] < 300  # analyst.css applies
    office.visit(f"{live_server}/analyst/criteria")
    bar = box(office.page, "svg.dist")
    assert 155 <= bar["width"] <= 165  # 10rem
    widths = office.page.evaluate("""() => Array.from(document.querySelector('svg.dist').querySelectorAll('rect'))
        .map(r => r.getBoundingClientRect().width)""")
    assert abs(sum(widths) - (bar["width"] - 2)) < 1.5  # the levels fill the bar (inside its border)
    assert office.page.evaluate("getComputedStyle(document.querySelector('svg.dist rect.d5')).fill") \
        == "rgb(0, 114, 178)"
    office.visit(f"{live_server}/analyst/priorities")
    office.visit(f"{live_server}/analyst/units")
    assert office.refused() == []


def test_a_chart_draws_the_same_with_attributes_as_with_its_css(browser):
    """matplotlib's SVG as written (style attributes and sheet) and after svg_without_css,
    each in a page without any policy: the same pixels."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([0, 1, 2], [1, 3, 2], "-o", color="#0072B2", ms=5, mfc="white", label="Chỉ số")
        ax.plot([0, 2], [2, 2], ls="--", lw=1.2, color="#D55E00", alpha=0.6)
        ax.fill_between([0, 1, 2], [0, 1, 1], [1, 2, 2], color="#E69F00", alpha=0.2, lw=0)
        ax.errorbar([1], [1], xerr=[[0.2], [0.3]], fmt="s", capsize=3, color="#009E73")
        ax.bar([1.5], [1.2], width=0.3, hatch="//", edgecolor="#000000", fill=False)
        ax.set_title("Tiêu đề", loc="left", fontweight="bold", fontstyle="italic")
        ax.legend(loc="lower right")
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        plt.close(fig)
    original = buf.getvalue()
    original = original[original.index("<svg"):]
    rewritten = charts.svg_without_css(original)
    assert "<style" in original and "<style" not in rewritten
    context = browser.new_context(viewport={"width": 500, "height": 400}, device_scale_factor=2)
    try:
        page = context.new_page()
        shots = []
        for svg in (original, rewritten):
            page.set_content(f"<!doctype html><body style='margin:0'>{svg}</body>")
            shots.append(page.locator("svg").first.screenshot())
        assert shots[0] == shots[1]
    finally:
        context.close()
