"""Helpers of the hostile-input battery: a world with real codes and keys, clients for each
identity, and a digest of the data tables to prove that a refused request stored nothing.
The fixtures that use them are in conftest.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from flask import Flask
from hypothesis import HealthCheck, settings
from sqlalchemy import select, text

from survey_app.extensions import db
from survey_app.kiosk import service as kiosk_service
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


def _a_case(unit, procedure) -> str:
    """A complaint opened by an answer to a code of its own: its number."""
    import questionnaires
    from survey_app.services import responses

    _, [item] = codes.issue(unit=unit, procedure=procedure, count=1, actor="test")
    q = questionnaires.load("sipas-2023")
    submission = responses.validate(q, {"HL": "2", "comment": "Chờ lâu.", "case_kind": "complaint"})
    return responses.store(codes.find(item.code), q, submission).case_number


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
        kiosk, _ = kiosk_service.create(unit=section, name="Quầy 1", actor="test")
        values = {"number": _a_case(section, procedure)}
        values |= {
            "code_id": issued[0].id, "batch_id": batch.id, "unit_id": section.id, "procedure_id": procedure.id,
            "user_id": db.session.scalar(select(User.id).filter_by(username="staff")),
            "key_id": db.session.scalar(select(ApiKey.id).filter_by(name="sec")),
            "code": issued[0].code, "fmt": "csv", "kiosk_id": kiosk.id,
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


# Values past what a database id, the page arithmetic or the calendar can hold. Each query is one
# concern, so that refusing one parameter cannot hide a crash on another.
HUGE = "99999999999999999999"
HUGE_IDS = (str(2**63), str(2**64), HUGE, "9" * 5000)
HOSTILE_SEGMENTS = (HUGE, "9" * 5000, "-1", "..", "x" * 2000, "<b>x</b>", "\u0663", "%00", "sipas-2023@" + HUGE)
DATE_NAMES = ("from", "to", "date_from", "date_to", "start", "end", "since", "until")
NUMBER_NAMES = ("per_page", "count", "confidence", "bootstrap", "seed", "small_n", "max_width", "autoprint", "size")
EXTREME_QUERIES: tuple[dict[str, str], ...] = (
    {"page": HUGE},
    {"page": "9" * 5000},
    {"page": str(2**63 - 1)},  # fits the driver, but not once multiplied by the page size
    {"page": "-" + HUGE},
    {name: "0001-01-01" for name in DATE_NAMES},
    {name: "9999-12-31" for name in DATE_NAMES},
    {"from": "0001-01-01", "to": "9999-12-31", "date_from": "0001-01-01", "date_to": "9999-12-31"},
    {"from": "9999-12-31", "date_from": "9999-12-31"},
    {"to": "0001-01-01", "date_to": "0001-01-01", "period": "day"},
    {"from": "2000-01-01", "to": "2100-12-31", "date_from": "2000-01-01", "date_to": "2100-12-31", "period": "day"},
    {name: HUGE for name in NUMBER_NAMES},
    {name: "9" * 5000 for name in NUMBER_NAMES},
    {"confidence": "nan", "max_width": "inf", "bootstrap": "1e400", "seed": "-" + HUGE, "small_n": "-1"},
    {"q": "sipas-2023@" + HUGE, "questionnaire": "sipas-2023@" + HUGE},
    {"q": "x@" + HUGE, "questionnaire": "x@" + HUGE, "unit": HUGE, "procedure": HUGE, "channel": HUGE},
    {"report_period": "9999-Q4"},
    {"report_period": "0001"},
    {"report_period": HUGE, "period": "year"},
    {"format": "csv", "from": "0001-01-01", "to": "9999-12-31"},
)
EXTREME_FORM = {"count": HUGE, "questionnaire": "sipas-2023@" + HUGE, "unit": HUGE, "procedure": HUGE,
                "kind": "single", "code": HUGE, "parent": HUGE, "date_from": "0001-01-01", "date_to": "9999-12-31"}
# Bodies for the JSON API: huge numbers where text is expected, and numbers no float can hold.
EXTREME_JSON: tuple[bytes, ...] = (
    b'{"unit": "SEC", "questionnaire": "x@' + HUGE.encode() + b'"}',
    b'{"unit": "SEC", "questionnaire": "sipas-2023@' + HUGE.encode() + b'"}',
    b'{"unit": "SEC", "questionnaire": "sipas-2023@' + str(2**63).encode() + b'"}',
    b'{"unit": "SEC", "questionnaire": "sipas-2023@' + str(2**31).encode() + b'"}',
    b'{"unit": ' + HUGE.encode() + b', "kind": 1e400, "dossier": -1e400}',
    b'{"unit": "SEC", "procedure": ' + b"9" * 5000 + b"}",
    b"9" * 5000,
)

_SEGMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")  # <converter(args):name> in a rule


def path_with(rule, values: dict[str, object], **raw: str) -> str:
    """The path of ``rule`` with ``values`` (or the raw text in ``raw``) in its segments, built by
    hand: url_for would refuse the very values meant to test the route."""

    def segment(match: re.Match) -> str:
        converter, name = match.group(1) or "default", match.group(2)
        if name in raw:
            return quote(raw[name], safe="")
        if converter == "int":
            return str(values.get(name, 1))
        return quote(str(values.get(name, "csv" if name == "fmt" else "x")), safe="/" if converter == "path" else "")

    return _SEGMENT.sub(segment, rule.rule)


def segment_names(rule) -> tuple[list[str], list[str]]:
    """The names of ``rule``'s integer segments and of its other segments."""
    found = _SEGMENT.findall(rule.rule)
    return [name for kind, name in found if kind == "int"], [name for kind, name in found if kind != "int"]
