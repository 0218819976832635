"""Every POST form refuses a missing or wrong CSRF token (400, with advice to reload) and
changes nothing; the API, which has no token, takes no cookies either."""

from __future__ import annotations

import pytest
from flask import url_for

from tests.security.hostile import digest, signed_in
from tests.support import ORG, PASSWORD, csrf_token, full_answers

# A plausible body for each form, so the only thing wrong is the token.
BODIES = {
    "staff.slip": {"unit": ORG.section, "procedure": ORG.procedure, "questionnaire": "sipas-2023@1"},
    "staff.batches": {"unit": ORG.section, "procedure": ORG.procedure, "questionnaire": "sipas-2023@1",
                      "kind": "single", "count": "3"},
    "staff.password": {"current": "correct horse battery", "new": "another long password", "confirm":
                       "another long password"},
    "staff.login": {"username": "admin", "password": "correct horse battery"},
    "admin.unit_new": {"code": "CSRF", "name": "Đơn vị giả"},
    "admin.procedure_new": {"code": "9.999999", "name": "Thủ tục giả"},
    "admin.user_new": {"username": "mallory", "password": "mallory password", "confirm": "mallory password",
                       "role": "admin"},
    "admin.user_password": {"password": "hijacked password", "confirm": "hijacked password"},
    "admin.api_key_new": {"name": "stolen", "scopes": "codes:issue", "unit": ORG.section},
}
WRONG_TOKENS = {
    "missing": None,
    "empty": "",
    "garbage": "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.aaaa.bbbb",
}


def _post_routes(app) -> list[tuple[str, object]]:
    return [(rule.endpoint, rule) for rule in app.url_map.iter_rules()
            if "POST" in (rule.methods or ()) and not rule.endpoint.startswith(("api.", "static"))]


def test_every_post_form_needs_its_token(app, world):
    # Another session's valid token is as wrong as no token.
    _, foreign = signed_in(app, "staff")
    routes = _post_routes(app)
    assert {"public.survey", "staff.login", "staff.slip", "admin.unit_new"} <= {endpoint for endpoint, _ in routes}
    before = digest(app)
    for who in ("admin", "staff", "anonymous"):
        client, _ = signed_in(app, who)
        for endpoint, rule in routes:
            with app.test_request_context():
                url = url_for(endpoint, **{name: world.values[name] for name in rule.arguments})
            body = {**(full_answers() if endpoint == "public.survey" else BODIES.get(endpoint, {})),
                    **({"code": world.code} if endpoint == "staff.void_code" else {})}
            for name, token in {**WRONG_TOKENS, "another session's": foreign}.items():
                data = body if token is None else {**body, "csrf_token": token}
                response = client.post(url, data=data)
                assert response.status_code == 400, f"{who} POST {url} with a {name} token: {response.status_code}"
                assert "tải lại trang" in response.get_data(as_text=True)
            header = client.post(url, data=body, headers={"X-CSRFToken": "wrong"})
            assert header.status_code == 400, f"{who} POST {url} with a wrong X-CSRFToken"
    assert digest(app) == before, "a request without a valid token changed data"


def test_login_without_token_starts_no_session(app):
    client = app.test_client()
    response = client.post("/staff/login", data={"username": "admin", "password": "correct horse battery"})
    assert response.status_code == 400
    assert client.get("/staff/").status_code == 302


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_the_api_ignores_session_cookies(app, world, who):
    """The API is exempt from CSRF tokens because a cookie never authenticates it: a forged
    cross-site POST with a logged-in browser's cookies is 401 and issues nothing."""
    client, _ = signed_in(app, who)
    before = digest(app)
    response = client.post("/api/v1/codes", json={"unit": ORG.section})
    assert response.status_code == 401
    simple = client.post("/api/v1/codes", data='{"unit": "SEC"}', content_type="text/plain")
    assert simple.status_code == 401
    assert digest(app) == before


def test_pages_cannot_be_framed(app, world):
    """Clickjacking: no page may be shown inside another site's frame."""
    admin, _ = signed_in(app, "admin")
    for url in ("/staff/", "/admin/units", f"/s/{world.code}", "/s", "/staff/login", "/nope"):
        response = admin.get(url)
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url


def test_forms_work_over_https_without_a_referer(app, world):
    """Behind TLS, browsers send no Referer (our Referrer-Policy is no-referrer); a form must
    still go through on its token alone. (Flask-WTF's strict HTTPS Referer check used to turn
    every form into "the page has expired".)"""
    https = {"base_url": "https://sipas.test"}
    client = app.test_client()
    page = client.get(f"/s/{world.code}", **https)
    token = csrf_token(page.get_data(as_text=True))
    answered = client.post(f"/s/{world.code}", data={**full_answers(), "csrf_token": token}, **https)
    assert answered.status_code == 303, answered.get_data(as_text=True)[:300]
    staff = app.test_client()
    login_token = csrf_token(staff.get("/staff/login", **https).get_data(as_text=True))
    login = staff.post("/staff/login", data={"username": "staff", "password": PASSWORD, "csrf_token": login_token},
                       **https)
    assert login.status_code == 302 and staff.get("/staff/", **https).status_code == 200
