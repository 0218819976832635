"""Guessing: unknown codes are rate-limited per client and logged; wrong, revoked and
under-scoped API keys are refused; repeated wrong passwords lock the account."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import SurveyCode
from survey_app.services import apikeys, codes
from tests.security.hostile import counts, digest, signed_in
from tests.support import ORG, PASSWORD, cli_runner


def _unknown_codes(app, n: int) -> list[str]:
    """Well-formed codes (right check symbol) that were never issued."""
    with app.app_context():
        return [codes.new_code() for _ in range(n)]


def test_code_guessing_is_limited_per_client_and_logged(app, world, caplog):
    limit = int(app.config["SIPAS_CODE_LOOKUP_LIMIT"].split()[0])
    guesser = app.test_client()
    caplog.set_level(logging.WARNING, logger="survey_app.public.views")
    statuses = [guesser.get(f"/s/{code}").status_code for code in _unknown_codes(app, limit)]
    assert statuses == [404] * limit
    assert not [r for r in caplog.records if "guessing" in r.getMessage()]
    # Past the limit: 429, whether the guess is well-formed, mistyped or typed in the box.
    [guess] = _unknown_codes(app, 1)
    for url in (f"/s/{guess}", f"/s/{guess[:-1]}{'0' if guess[-1] != '0' else '1'}", f"/s?code={guess}"):
        blocked = guesser.get(url, follow_redirects=True)
        assert blocked.status_code == 429, url
        assert "Quá nhiều lượt thử" in blocked.get_data(as_text=True)
    warnings = [r for r in caplog.records if "guessing" in r.getMessage() and r.levelno == logging.WARNING]
    assert warnings, "code guessing must be logged"
    assert all(guess not in r.getMessage() and "127.0.0.1" not in r.getMessage() for r in warnings), \
        "the log names neither the code nor the client address"
    # A real code still opens for that client (a citizen behind the same address is not locked
    # out of their own code), and other clients are not limited.
    assert guesser.get(f"/s/{world.code}").status_code == 200
    other = app.test_client()
    assert other.get(f"/s/{guess}", environ_base={"REMOTE_ADDR": "192.0.2.77"}).status_code == 404


def test_guessing_stores_nothing(app, world):
    guesser = app.test_client()
    before = digest(app)
    for code in _unknown_codes(app, 40):
        guesser.get(f"/s/{code}")
        guesser.post(f"/s/{code}", data={"HL": "5"})
    assert digest(app) == before


def test_wrong_and_revoked_api_keys_are_401(app, world):
    client = app.test_client()
    body = {"unit": ORG.section}
    good = client.post("/api/v1/codes", json=body, headers={"Authorization": f"Bearer {world.sec_key}"})
    assert good.status_code == 201
    before = counts(app)
    prefix = world.sec_key.split("_")[1]
    for key in (world.revoked_key, f"sipas_{prefix}_" + "A" * 43, "sipas_zzzzzzzz_" + world.sec_key.split("_")[2],
                world.sec_key + " extra", world.sec_key.replace("sipas_", "SIPAS_"), "null", ""):
        response = client.post("/api/v1/codes", json=body, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 401, key
        assert "invalid_token" in response.headers["WWW-Authenticate"] or not key
    for header in ({}, {"Authorization": world.sec_key}, {"Authorization": f"Basic {world.sec_key}"},
                   {"X-Api-Key": world.sec_key}):
        assert client.post("/api/v1/codes", json=body, headers=header).status_code == 401, header
    # The right key without the scope is 403; for another unit's code it is 403 too.
    scoped = client.post("/api/v1/codes", json=body, headers={"Authorization": f"Bearer {world.indices_key}"})
    assert scoped.status_code == 403
    other = client.get(f"/api/v1/codes/{world.code}/qr.svg", headers={"Authorization": f"Bearer {world.other_key}"})
    assert other.status_code == 403 and world.code.encode() not in other.get_data()
    assert counts(app) == before


def test_revoking_a_key_takes_effect_at_once(app, world):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world.sec_key}"}
    assert client.post("/api/v1/codes", json={"unit": ORG.section}, headers=headers).status_code == 201
    prefix = world.sec_key.split("_")[1]
    assert cli_runner(app).invoke(["apikey", "revoke", prefix]).exit_code == 0
    with app.app_context():
        issued = db.session.scalar(select(func.count()).select_from(SurveyCode))
    assert client.post("/api/v1/codes", json={"unit": ORG.section}, headers=headers).status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == issued
        assert apikeys.authenticate(world.sec_key) is None


def test_password_guessing_locks_the_account(app):
    client, token = signed_in(app, "anonymous")
    limit = app.config["SIPAS_LOGIN_MAX_FAILURES"]
    statuses = [client.post("/staff/login", data={"username": "admin", "password": f"guess {i}",
                                                  "csrf_token": token}).status_code for i in range(limit)]
    # Every failure looks the same, locked or not: the answer does not tell which names exist.
    assert statuses == [401] * limit
    right = client.post("/staff/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert right.status_code == 401, "the right password does not open a locked account"
    assert client.get("/staff/").status_code == 302
    with app.app_context():
        from sqlalchemy import select

        from survey_app.extensions import db
        from survey_app.models import User

        assert db.session.scalar(select(User).filter_by(username="admin")).locked_until is not None
