"""End to end in a real headless Chromium, as people use sipas: a staff member logs in, creates
a batch (or a counter poster) and downloads its PDF; the PDF is rendered with pdftoppm and a
QR code decoded with zbarimg; a citizen opens that URL on a phone and answers by tapping, in
Vietnamese, and sees the thank-you page. The citizen's phone is an ordinary Chromium, Zalo's
in-app browser, or a browser with JavaScript turned off.

Each step is a function (staff_prints, qr_urls, citizen_answers, ...) so that longer stories,
such as an analyst then seeing the new answer on the dashboard, compose them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Response, SurveyCode
from tests.support import ORG, PASSWORD, answer_in_steps, require_tool

pytestmark = pytest.mark.browser

# A real user agent of Zalo's in-app browser on Android (a WebView: "wv", "Zalo/...").
ZALO_UA = ("Mozilla/5.0 (Linux; Android 10; SM-A105F Build/QP1A.190711.020; wv) AppleWebKit/537.36 "
           "(KHTML, like Gecko) Version/4.0 Chrome/118.0.0.0 Mobile Safari/537.36 Zalo android/12100568 "
           "ZaloTheme/light ZaloLanguage/vi")
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2,
         "locale": "vi-VN"}
# What the citizen taps: a plausible, complete answer (PA items after saying "yes, I gave feedback").
TAPS = {"TC1": "4", "TC2": "5", "TT1": "4", "TT2": "3", "CC1": "5", "CC2": "4", "KQ1": "4", "feedback_given": "co",
        "PA1": "3", "HL": "4"}


# Staff -----------------------------------------------------------------------------------------

@contextmanager
def desk(browser) -> Iterator:
    """A staff member's desktop browser (print dialogs counted, not opened)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.add_init_script("window.print = function () {};")
    try:
        yield context.new_page()
    finally:
        context.close()


def staff_logs_in(page, base: str, username: str = "staff", password: str = PASSWORD) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.endswith("/staff/"), page.url


def staff_prints(page, base: str, *, kind: str = "single", count: int = 3, unit: str = ORG.section,
                 procedure: str = ORG.procedure) -> bytes:
    """On the home page, choose the target (the slip form's lists, which the batch uses too),
    then print a shift's batch (a count, one click) or a poster (the slip form's second
    button, one click); the PDF opens in the browser. Returns the PDF, fetched again with the
    logged-in session."""
    page.goto(f"{base}/staff/")
    if kind == "counter":
        assert count == 1, "a poster is one code"
        button = "#print-poster"
    else:
        button = "#issue-batch"
        page.locator("#batch-form input[name=count]").fill(str(count))
    form = page.locator("#slip-form")
    form.locator("select[name=unit]").select_option(unit)
    form.locator("select[name=procedure]").select_option(procedure)
    with page.expect_response(lambda r: r.url.endswith(".pdf")) as opened:
        page.click(button)
    assert opened.value.ok and "/staff/batches/" in opened.value.url, opened.value.url
    download = page.request.get(opened.value.url)
    assert download.ok, download.status
    assert download.headers["content-type"] == "application/pdf"
    pdf = download.body()
    assert pdf.startswith(b"%PDF")
    return pdf


def qr_urls(pdf: bytes, workdir: Path) -> list[str]:
    """Every URL in the QR codes of the PDF's first page (pdftoppm, then zbarimg)."""
    pdftoppm, zbarimg = require_tool("pdftoppm"), require_tool("zbarimg")
    source = workdir / "print.pdf"
    source.write_bytes(pdf)
    subprocess.run([pdftoppm, "-f", "1", "-l", "1", "-r", "150", "-png", "-singlefile", str(source),
                    str(workdir / "page1")], check=True)
    decoded = subprocess.run([zbarimg, "--raw", "-q", str(workdir / "page1.png")], capture_output=True, text=True)
    urls = [line.strip() for line in decoded.stdout.splitlines() if line.strip()]
    assert urls, f"no QR code decoded on page 1 (zbarimg: {decoded.stderr.strip()})"
    return urls


# Citizens --------------------------------------------------------------------------------------

@contextmanager
def citizen_phone(browser, *, user_agent: str | None = None, javascript: bool = True) -> Iterator:
    """A phone-sized touch screen; optionally Zalo's in-app browser or without JavaScript."""
    options = {**PHONE, "java_script_enabled": javascript, **({"user_agent": user_agent} if user_agent else {})}
    context = browser.new_context(**options)
    try:
        yield context.new_page()
    finally:
        context.close()


def citizen_answers(page, url: str, taps: dict[str, str] | None = None, *, comment: str = "Cán bộ tận tình.") -> None:
    """Open the URL from the QR code, answer in Vietnamese by tapping, send, see the thanks."""
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "Đơn vị" in page.content()
    answer_in_steps(page, taps or TAPS, comment=comment)
    assert page.url.split("?")[0].endswith("/thanks"), page.url
    assert "Cảm ơn" in page.locator("h1").inner_text()


def responses_for(app, unit: str = ORG.section) -> list[Response]:
    from survey_app.services import catalog

    with app.app_context():
        unit_id = catalog.unit_by_code(unit).id
        found = list(db.session.scalars(select(Response).filter_by(unit_id=unit_id)))
        for response in found:
            _ = response.answers  # load while the session is open
        db.session.expunge_all()
        return found


def staff_issues_and_scans(browser, base: str, workdir: Path, *, kind: str = "single", count: int = 1) -> list[str]:
    """The staff half of a story: log in, print, and read the QR codes of page 1."""
    with desk(browser) as page:
        staff_logs_in(page, base)
        pdf = staff_prints(page, base, kind=kind, count=count)
    urls = qr_urls(pdf, workdir)
    # Upper case, so that the QR code can use its compact alphanumeric mode.
    assert all(url.lower().startswith(f"{base}/s/") for url in urls), urls
    return urls


# The stories ------------------------------------------------------------------------------------
# Each story ends with the number of stored responses, n: a further step (an analyst who
# opens the dashboard and sees n) is added after that line.

CITIZENS = {
    "phone": {},
    "zalo": {"user_agent": ZALO_UA},
    "no-javascript": {"javascript": False},
}


@contextmanager
def device_page(browser, phone, device: str) -> Iterator:
    """The ``phone`` fixture's page for an ordinary phone; a new context for the others."""
    if device == "phone":
        yield phone
        return
    with citizen_phone(browser, **CITIZENS[device]) as page:
        yield page


@pytest.fixture
def exit_stack() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@contextmanager
def analyst_dashboard(browser, base: str) -> Iterator:
    """An analyst logged in on a desk-sized screen, on the dashboard overview."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(f"{base}/staff/login")
        page.fill("#username", "analyst")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(f"{base}/analyst/")
        yield page
    finally:
        context.close()


def dashboard_count(page) -> int:
    """The number of responses the overview shows (0 when there is none yet)."""
    page.reload()
    counter = page.locator("#response-count")
    return int(counter.inner_text()) if counter.count() else 0


def test_citizens_answer_codes_from_a_printed_batch(app, live_server, browser, phone, tmp_path, subtests,
                                                    exit_stack):
    """One shift's batch; three citizens, each with their own phone and browser, answer a code each."""
    urls = staff_issues_and_scans(browser, live_server, tmp_path, kind="single", count=len(CITIZENS))
    assert len(urls) == len(CITIZENS)
    analyst = exit_stack.enter_context(analyst_dashboard(browser, live_server))
    assert dashboard_count(analyst) == 0
    for answered, (device, url) in enumerate(zip(CITIZENS, urls, strict=True), start=1):
        with subtests.test(device=device), device_page(browser, phone, device) as page:
            if device == "zalo":
                assert "Zalo android/" in page.evaluate("navigator.userAgent")
            citizen_answers(page, url)
            # The same code again: already received, nothing stored twice.
            page.goto(url)
            assert "đã được nhận" in page.content()
            assert len(responses_for(app)) == answered
            assert dashboard_count(analyst) == answered  # the analyst sees n + 1 at once
    found = responses_for(app)
    assert {r.channel for r in found} == {"single"} and {r.same_day for r in found} == {True}
    for response in found:
        assert {a.item: a.value for a in response.answers} == {k: int(v) for k, v in TAPS.items()
                                                               if k != "feedback_given"}
        assert response.feedback_given == "co"
    with app.app_context():
        statuses = sorted(db.session.scalars(select(SurveyCode.status)))
    assert statuses == ["answered"] * len(CITIZENS)
    n = len(found)
    assert n == len(CITIZENS)


def test_citizen_answers_at_a_counter_poster(app, live_server, browser, phone, tmp_path):
    [url] = staff_issues_and_scans(browser, live_server, tmp_path, kind="counter", count=1)
    with analyst_dashboard(browser, live_server) as analyst:
        citizen_answers(phone, url)
        assert dashboard_count(analyst) == 1
        citizen_answers(phone, url, {**TAPS, "HL": "5"})  # a poster takes many answers
        assert dashboard_count(analyst) == 2
    found = responses_for(app)
    assert {r.channel for r in found} == {"counter"}
    assert sorted(next(a.value for a in r.answers if a.item == "HL") for r in found) == [4, 5]
    n = len(found)
    assert n == 2
