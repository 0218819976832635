"""Who may open what: every route of the staff, admin and API blueprints against anonymous
visitors, each role, staff of another unit and API keys of another unit.

The routes come from ``app.url_map``, so a new route is tested the day it is added; a new
staff route must also be classified below (test_every_staff_route_is_classified)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

import pytest
from flask import Flask, url_for
from sqlalchemy import select

from survey_app import create_app
from survey_app.extensions import db
from survey_app.kiosk import service as kiosk_service
from survey_app.models import ApiKey, User
from survey_app.services import apikeys, catalog, codes
from tests.support import PASSWORD, csrf_token

BLUEPRINTS = ("staff", "kiosks", "admin", "api")
PUBLIC = {"staff.login"}
# Pages an analyst uses (rates; home redirects to the analysis; own password; logout).
ANALYST_ALLOWED = {"staff.home", "staff.rates", "staff.password", "staff.logout"}
# Issuing, printing and voiding: staff and admins only.
ISSUING = {"staff.slip", "staff.poster", "staff.show_slip", "staff.slip_pdf", "staff.batches", "staff.batch",
           "staff.batch_pdf", "staff.void_batch", "staff.void_code", "staff.void_slip",
           "kiosks.index", "kiosks.repair", "kiosks.revoke", "kiosks.send"}
# Routes about one unit's codes or batches: refused to staff (and keys) of another unit.
UNIT_SCOPED = {"staff.show_slip", "staff.slip_pdf", "staff.batch", "staff.batch_pdf", "staff.void_batch",
               "staff.void_slip", "staff.void_code", "api.code_qr_svg", "api.code_qr_png", "api.issue_code",
               "kiosks.repair", "kiosks.revoke", "kiosks.send"}
# API routes that also accept a logged-in staff or admin session (the QR images).
API_SESSION = {"api.code_qr_svg", "api.code_qr_png"}


def _rules() -> list[tuple[str, str, str]]:
    """(endpoint, method, path) of every route, read from a throwaway app at collection."""
    data_dir = tempfile.mkdtemp(prefix="sipas-routes-")
    app = create_app({"TESTING": True, "SIPAS_DATA_DIR": data_dir, "SIPAS_SECRET_KEY": "routes",
                      "SIPAS_DATABASE_URL": "sqlite://"})
    return sorted({(rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules()
                   for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}})


RULES = _rules()
ROUTES = sorted({(endpoint, method) for endpoint, method, _ in RULES if endpoint.split(".")[0] in BLUEPRINTS})
# Every route under /api/, whichever blueprint serves it (the indices API too).
ANY_API = sorted({(endpoint, method) for endpoint, method, path in RULES if path.startswith("/api/")})


@dataclass
class World:
    """Real ids for URLs: a batch of codes for SEC, keys for SEC and OTHER."""

    values: dict[str, object]
    code: str
    own_key: str
    other_key: str


@pytest.fixture
def world(app) -> World:
    with app.app_context():
        section = catalog.unit_by_code("SEC")
        batch, issued = codes.issue(unit=section, procedure=catalog.procedure_by_code("1.000001"), count=2,
                                    actor="test")
        _, own_key = apikeys.create("own", ["codes:issue"], unit="SEC", actor="test")
        _, other_key = apikeys.create("other", ["codes:issue"], unit="OTHER", actor="test")
        kiosk, _ = kiosk_service.create(unit=section, name="Quầy 1", actor="test")
        values = {
            "code_id": issued[0].id, "batch_id": batch.id, "unit_id": section.id,
            "procedure_id": catalog.procedure_by_code("1.000001").id,
            "user_id": db.session.scalar(select(User.id).filter_by(username="otherstaff")),
            "key_id": db.session.scalar(select(ApiKey.id).filter_by(name="own")),
            "code": issued[1].code, "kiosk_id": kiosk.id,
        }
    return World(values, issued[1].code, own_key, other_key)


def build_url(app: Flask, endpoint: str, world: World) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    missing = rule.arguments - set(world.values)
    assert not missing, f"{endpoint}: add a real value for {missing} to the world fixture"
    with app.test_request_context():
        return url_for(endpoint, **{name: world.values[name] for name in rule.arguments})


def client_for(app: Flask, who: str):
    """A client for ``who`` (anonymous or a username) and a CSRF token of its session."""
    client = app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    if who != "anonymous":
        response = client.post("/staff/login", data={"username": who, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, f"{who} could not log in"
        token = csrf_token(client.get("/staff/password").get_data(as_text=True))
    return client, token


def call(app: Flask, world: World, endpoint: str, method: str, who: str, key: str | None = None):
    url = build_url(app, endpoint, world)
    client, token = client_for(app, who)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if method == "GET":
        return client.get(url, headers=headers)
    if endpoint.startswith("api."):
        return client.post(url, json={"unit": "SEC"}, headers=headers)
    data = {"csrf_token": token}
    if endpoint == "staff.void_code":
        data["code"] = world.code
    return client.open(url, method=method, data=data, headers=headers)


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].split("?")[0].endswith("/staff/login")


def expected(endpoint: str, who: str) -> int | str:
    """What ``who`` should get: a status, "login" (redirect to the login page) or "allowed"."""
    blueprint = endpoint.split(".")[0]
    if who == "anonymous":
        return 401 if blueprint == "api" else "login"
    if blueprint == "api" and endpoint not in API_SESSION:
        return 401  # a session never authenticates the API: keys only
    if blueprint == "admin":
        return "allowed" if who == "admin" else 403
    if who == "analyst" and endpoint not in ANALYST_ALLOWED:
        return 403
    if who == "otherstaff" and endpoint in UNIT_SCOPED:
        return 403
    return "allowed"


def check(response, endpoint: str, want: int | str) -> str | None:
    """None when ``response`` is what was expected, else what went wrong."""
    got = response.status_code
    if want == "login":
        return None if is_login_redirect(response) else f"got {got}, not a redirect to the login page"
    if want == "allowed":
        if got in (401, 403, 404, 405) or got >= 500:
            return f"got {got}"
        if endpoint != "staff.logout" and is_login_redirect(response):
            return "sent to the login page"
        return None
    if got != want:
        return f"got {got}"
    if got == 401 and not response.headers.get("WWW-Authenticate", "").startswith("Bearer"):
        return "401 without WWW-Authenticate: Bearer"
    if endpoint.startswith("api.") and response.get_json(silent=True) is None:
        return "not JSON"
    return None


# Refusals first: what the allowed requests change (a voided batch, a new slip) cannot hide one.
WHO = ("anonymous", "analyst", "otherstaff", "staff", "admin")
CHECKED = [(e, m) for e, m in ROUTES if e not in PUBLIC]


@pytest.mark.parametrize(("endpoint", "method"), CHECKED, ids=[f"{e}-{m}" for e, m in CHECKED])
def test_access(app, world, endpoint, method):
    failures = []
    for who in WHO:
        want = expected(endpoint, who)
        problem = check(call(app, world, endpoint, method, who), endpoint, want)
        if problem:
            failures.append(f"{who}: expected {want}, {problem}")
    assert not failures, f"{method} {endpoint}:\n" + "\n".join(failures)


API_ROUTES = [(e, m) for e, m in ROUTES if e.startswith("api.")]


@pytest.mark.parametrize(("endpoint", "method"), API_ROUTES, ids=[f"{e}-{m}" for e, m in API_ROUTES])
def test_api_keys_of_another_unit_are_refused(app, world, endpoint, method):
    refused = call(app, world, endpoint, method, "anonymous", key=world.other_key)
    assert check(refused, endpoint, 403) is None, f"other unit's key {method} {endpoint}: {refused.status_code}"
    allowed = call(app, world, endpoint, method, "anonymous", key=world.own_key)
    assert allowed.status_code in (200, 201), f"own key {method} {endpoint}: {allowed.status_code}"


@pytest.mark.parametrize(("endpoint", "method"), ANY_API, ids=[f"{e}-{m}" for e, m in ANY_API])
def test_every_api_path_refuses_anonymous_callers(app, world, endpoint, method):
    response = call(app, world, endpoint, method, "anonymous")
    assert check(response, endpoint, 401) is None, f"{method} {endpoint}: {response.status_code}"


def test_every_staff_route_is_classified():
    staff = {endpoint for endpoint, _ in ROUTES if endpoint.startswith(("staff.", "kiosks."))}
    unknown = staff - PUBLIC - ANALYST_ALLOWED - ISSUING
    assert not unknown, f"classify these staff routes in test_access_matrix.py: {sorted(unknown)}"


def test_the_matrix_sees_every_blueprint_route(app):
    live = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            if rule.endpoint.split(".")[0] in BLUEPRINTS
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert live == set(ROUTES)
    assert {e.split(".")[0] for e, _ in ROUTES} == set(BLUEPRINTS)
