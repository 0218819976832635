"""A citizen's answer over real HTTP: the app served on a loopback port, not the test client."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Response
from tests.support import full_answers, issue_codes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_served_survey_is_stored_once(app, live_server):
    code = issue_codes(app)[0]
    with urllib.request.urlopen(f"{live_server}/healthz", timeout=10) as health:
        assert health.status == 200
    with urllib.request.urlopen(f"{live_server}/s/{code}", timeout=10) as page:
        html = page.read().decode("utf-8")
        assert page.status == 200 and "Set-Cookie" not in page.headers
    token = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert token, "the served form has no CSRF token"
    body = urllib.parse.urlencode({**full_answers(), "csrf_token": token.group(1)}).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(urllib.request.Request(f"{live_server}/s/{code}", data=body, method="POST"), timeout=10)
        raise AssertionError("the answer was not redirected to the thank-you page")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303, answer.read()[:500]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Response)) == 1
