"""One Content-Security-Policy on every page, and no inline styles for it to refuse.

A page of each blueprint (public, staff, admin, analyst, the error pages), each as the role
that sees it, is sent with the same policy, which never allows 'unsafe-inline'; its HTML has
no ``style`` attribute and no ``<style>`` element, inline SVG charts included."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from survey_app.web import CSP
from tests.support import ORG, Auth, csrf_token, issue_codes, store_random_answers

SLIP = {"unit": ORG.section, "procedure": ORG.procedure, "questionnaire": "sipas-2023@1"}
PUBLIC = ["/s", "/thanks", "/nope", "/s/ABCD-EFGH-JKMN-P"]
STAFF = ["/staff/", "/staff/batches", "/staff/rates", "/staff/password"]
ADMIN = ["/admin/units", "/admin/units/new", "/admin/procedures", "/admin/procedures/new",
         "/admin/procedures/import", "/admin/users", "/admin/users/new", "/admin/api-keys",
         "/admin/api-keys/new", "/admin/audit"]
ANALYST = ["/analyst/", "/analyst/criteria", "/analyst/units", "/analyst/priorities", "/analyst/trend",
           "/analyst/trend?period=month", "/analyst/expectations", "/analyst/comments", "/analyst/downloads"]


class InlineStyles(HTMLParser):
    """Every ``style`` attribute and ``<style>`` element of a page (SVG included)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"<{tag} style={value!r}>" for name, value in attrs if name == "style"]

    handle_startendtag = handle_starttag


def inline_styles(html: str) -> list[str]:
    parser = InlineStyles()
    parser.feed(html)
    parser.close()
    return parser.found


def signed_in(app, role: str):
    client = app.test_client()
    assert Auth(client).login(role).status_code == 302
    return client


@pytest.fixture
def pages(app) -> list[tuple[str, object]]:
    """(what, response) for a page of every kind, each fetched as the role that sees it."""
    store_random_answers(app, count=40, seed=1, comment="Thủ tục nhanh.")
    store_random_answers(app, unit=ORG.other_section, count=35, seed=2)
    fetched: list[tuple[str, object]] = []
    public = app.test_client()
    fetched.append(("survey form", public.get(f"/s/{issue_codes(app)[0]}")))
    fetched += [(path, public.get(path)) for path in PUBLIC]
    fetched.append(("staff login", public.get("/staff/login")))
    fetched.append(("CSRF error", public.post("/staff/login", data={"username": "staff"})))

    staff = signed_in(app, "staff")
    fetched += [(path, staff.get(path)) for path in STAFF]
    slip = staff.post("/staff/slip", data={**SLIP, "csrf_token": csrf_token(staff.get("/staff/").get_data(True))})
    assert slip.status_code == 303
    fetched.append(("slip", staff.get(slip.headers["Location"])))
    batch = staff.post("/staff/batches", data={**SLIP, "count": "5",
                                               "csrf_token": csrf_token(staff.get("/staff/").get_data(True))})
    assert batch.status_code == 303  # to the label sheet (a PDF); the batch's page is beside it
    fetched.append(("batch", staff.get(batch.headers["Location"].removesuffix(".pdf"))))
    fetched.append(("forbidden", staff.get("/analyst/")))

    admin = signed_in(app, "admin")
    fetched += [(path, admin.get(path)) for path in ADMIN]
    analyst = signed_in(app, "analyst")
    fetched += [(path, analyst.get(path)) for path in ANALYST]
    return fetched


def test_every_page_has_the_one_policy_and_no_inline_style(pages):
    assert "'unsafe-inline'" not in CSP and "style-src 'self';" in CSP
    statuses = {what: response.status_code for what, response in pages}
    assert statuses["survey form"] == statuses["/staff/"] == statuses["/analyst/"] == 200
    assert (statuses["/nope"], statuses["forbidden"], statuses["CSRF error"]) == (404, 403, 400)
    for what, response in pages:
        assert response.status_code < 300 or response.status_code >= 400, (what, response.status_code)
        assert response.headers.get("Content-Security-Policy") == CSP, what
        assert response.mimetype == "text/html", what
        html = response.get_data(as_text=True)
        assert inline_styles(html) == [], what


def test_the_charts_and_distribution_bars_are_on_the_pages_checked(pages):
    """What used to need inline styles is there: matplotlib charts, answer distributions,
    the slip's QR code (so the test above did look at them)."""
    html = {what: response.get_data(as_text=True) for what, response in pages}
    for path in ("/analyst/", "/analyst/criteria", "/analyst/units", "/analyst/priorities", "/analyst/trend"):
        assert re.search(r"<figure[^>]*>\s*<figcaption>[^<]+</figcaption>\s*<svg", html[path]), path
        assert "font-family=" in html[path] and "stroke-linejoin=" in html[path], path
    assert html["/analyst/criteria"].count('<svg class="dist"') >= 10  # one per criterion
    assert '<div class="qr"' in html["slip"] and "css/slip.css" in html["slip"]
    assert "css/slip.css" not in html["batch"]  # the 80 mm page size is the slip's alone
