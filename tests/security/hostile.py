"""Helpers of the hostile-input battery: a world with real codes and keys, clients for each
identity, and a digest of the data tables to prove that a refused request stored nothing.
The fixtures that use them are in conftest.py."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from hypothesis import HealthCheck, settings
from sqlalchemy import select, text

from survey_app.extensions import db
from survey_app.models import ApiKey, User
from survey_app.services import apikeys, catalog, codes
from tests.support import ORG, PASSWORD, csrf_token

# Fast and bounded, in CI too: enough examples to find the usual crashes in seconds.
FUZZ = settings(max_examples=60, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])

# What a refused request must leave exactly as it was. Login counters, key usage times and the
# audit log legitimately record refusals, so they are left out.
DATA_COLUMNS = {
    "units": "*", "procedures": "*", "questionnaire_versions": "id, sha256", "code_batches": "*",
    "survey_codes": "*", "responses": "*", "answers": "*", "comments": "*",
    "users": "id, username, password_hash, role, unit_id, active, session_token",
    "api_keys": "id, prefix, key_hash, scopes, unit_id, revoked_at",
}


def digest(app: Flask) -> dict[str, list[tuple]]:
    with app.app_context(), db.engine.connect() as connection:
        return {table: sorted((tuple(row) for row in connection.execute(text(f"SELECT {columns} FROM {table}"))),
                              key=repr)
                for table, columns in DATA_COLUMNS.items()}


def counts(app: Flask) -> dict[str, int]:
    with app.app_context(), db.engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in DATA_COLUMNS}


@dataclass
class World:
    """Real things to aim at: a batch of SEC codes (one printed code kept secret), keys."""

    code: str  # a usable SEC code: it must never show up where it does not belong
    spare: list[str]
    batch_id: int
    code_id: int
    sec_key: str
    other_key: str
    indices_key: str
    revoked_key: str
    values: dict[str, object]


def make_world(app: Flask) -> World:
    with app.app_context():
        section = catalog.unit_by_code(ORG.section)
        procedure = catalog.procedure_by_code(ORG.procedure)
        batch, issued = codes.issue(unit=section, procedure=procedure, count=4, actor="test")
        _, sec_key = apikeys.create("sec", ["codes:issue"], unit=ORG.section, actor="test")
        _, other_key = apikeys.create("other", ["codes:issue"], unit=ORG.other_section, actor="test")
        _, indices_key = apikeys.create("indices", ["indices:read"], actor="test")
        revoked, revoked_key = apikeys.create("revoked", ["codes:issue", "indices:read"], unit=ORG.section,
                                              actor="test")
        apikeys.revoke(revoked, actor="test")
        values = {
            "code_id": issued[0].id, "batch_id": batch.id, "unit_id": section.id, "procedure_id": procedure.id,
            "user_id": db.session.scalar(select(User.id).filter_by(username="staff")),
            "key_id": db.session.scalar(select(ApiKey.id).filter_by(name="sec")),
            "code": issued[0].code, "fmt": "csv",
        }
        world = World(code=issued[0].code, spare=[i.code for i in issued[1:]], batch_id=batch.id,
                      code_id=issued[0].id, sec_key=sec_key, other_key=other_key, indices_key=indices_key,
                      revoked_key=revoked_key, values=values)
    return world


def signed_in(app: Flask, who: str):
    """A test client for ``who`` ("anonymous" or a username) and a valid CSRF token of its session."""
    client = app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    if who != "anonymous":
        response = client.post("/staff/login", data={"username": who, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, f"{who} could not log in ({response.status_code})"
        token = csrf_token(client.get("/staff/password").get_data(as_text=True))
    return client, token


def assert_no_server_error(response, what: str) -> None:
    body = response.get_data()
    assert response.status_code < 500, f"{what}: {response.status_code}\n{body[:800]!r}"
    assert b"Traceback (most recent call last)" not in body, f"{what}: a traceback was shown"
