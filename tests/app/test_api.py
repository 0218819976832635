"""The JSON API for one-stop-shop software and the `sipas apikey` commands."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import subprocess

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import ApiKey, AuditEntry, SurveyCode
from survey_app.printing import qr_payload
from survey_app.services import apikeys, catalog, codes
from tests.support import csrf_token, full_answers, issue_codes, require_tool

KEY_PATTERN = re.compile(r"^sipas_[a-z0-9]{8}_[0-9A-Za-z]{43}$")


def make_key(runner, *scopes: str, unit: str | None = "SEC", name: str = "Một cửa") -> str:
    args = ["apikey", "add", name]
    for scope in scopes or ("codes:issue",):
        args += ["--scope", scope]
    if unit:
        args += ["--unit", unit]
    result = runner.invoke(args)
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert KEY_PATTERN.match(key), result.stdout
    return key


@pytest.fixture
def key(runner) -> str:
    return make_key(runner)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def post(client, key: str | None, body=None, **kwargs):
    headers = bearer(key) if key else {}
    if body is None and "data" not in kwargs:
        body = {"unit": "SEC"}
    if body is not None:
        kwargs["json"] = body
    return client.post("/api/v1/codes", headers=headers, **kwargs)


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == status and error["message"]
    assert error["field"] == field
    return error


# Keys and the CLI ----------------------------------------------------------------------------

def test_cli_add_prints_the_key_once_and_stores_only_its_hash(app, runner):
    result = runner.invoke(["apikey", "add", "Một cửa Sở", "--scope", "codes:issue", "--scope", "indices:read",
                            "--unit", "SEC"])
    assert result.exit_code == 0, result.output
    full_key = result.stdout.strip()
    assert KEY_PATTERN.match(full_key)
    assert "not shown again" in result.stderr
    with app.app_context():
        stored = db.session.scalars(select(ApiKey)).one()
        assert stored.prefix == full_key.split("_")[1]
        assert stored.key_hash == hashlib.sha256(full_key.encode()).hexdigest()
        assert full_key.split("_", 2)[2] not in (stored.key_hash + stored.scopes + stored.name + stored.prefix)
        assert stored.scope_set == {"codes:issue", "indices:read"} and stored.unit.code == "SEC"
        entry = db.session.scalars(select(AuditEntry).filter_by(action="apikey.add")).one()
        assert entry.actor == "cli" and entry.target == stored.prefix
        assert full_key.split("_", 2)[2] not in (entry.details or "")
    listed = runner.invoke(["apikey", "list"])
    assert stored.prefix in listed.output and "codes:issue indices:read" in listed.output
    assert full_key not in listed.output


def test_keys_are_unique_and_random(app, runner):
    first, second = make_key(runner), make_key(runner)
    assert first != second and first.split("_")[1] != second.split("_")[1]


def test_cli_refuses_issue_key_without_unit_and_unknown_units(runner):
    result = runner.invoke(["apikey", "add", "x", "--scope", "codes:issue"])
    assert result.exit_code == 1 and "cần một đơn vị" in result.output
    result = runner.invoke(["apikey", "add", "x", "--scope", "codes:issue", "--unit", "NOPE"])
    assert result.exit_code == 1 and "NOPE" in result.output
    result = runner.invoke(["apikey", "add", "x", "--scope", "everything"])
    assert result.exit_code == 2
    assert runner.invoke(["apikey", "add", "x", "--scope", "indices:read"]).exit_code == 0


def test_cli_revoke(app, client, runner, key):
    prefix = key.split("_")[1]
    assert post(client, key).status_code == 201
    result = runner.invoke(["apikey", "revoke", prefix])
    assert result.exit_code == 0 and "Revoked" in result.output
    assert_error(post(client, key), 401)
    again = runner.invoke(["apikey", "revoke", prefix])
    assert again.exit_code == 0 and "already revoked" in again.output
    unknown = runner.invoke(["apikey", "revoke", "zzzzzzzz"])
    assert unknown.exit_code == 1 and "zzzzzzzz" in unknown.output
    [line] = [row for row in runner.invoke(["apikey", "list"]).output.splitlines() if row.startswith(prefix)]
    assert line.split("\t")[-1].endswith("Z")  # the revoked column holds a time


def test_key_made_on_the_admin_page_works(app, client, auth):
    auth.login("admin")
    page = client.get("/admin/api-keys/new")
    response = client.post("/admin/api-keys/new", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "name": "Phần mềm một cửa",
        "scopes": ["codes:issue"], "unit": "SEC"})
    assert response.status_code == 201
    full_key = re.search(r"sipas_[a-z0-9]{8}_[0-9A-Za-z]{43}", response.get_data(as_text=True)).group(0)
    auth.logout()
    assert post(client, full_key).status_code == 201


def test_authenticate_updates_last_used_and_refuses_tampering(app, key):
    with app.app_context():
        assert db.session.scalars(select(ApiKey)).one().last_used_at is None
        assert apikeys.authenticate(key) is not None
        assert db.session.scalars(select(ApiKey)).one().last_used_at is not None
        tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
        assert apikeys.authenticate(tampered) is None
        assert apikeys.authenticate(key + "x") is None
        assert apikeys.authenticate("") is None and apikeys.authenticate(None) is None


# Issuing -------------------------------------------------------------------------------------

def test_issue_returns_code_url_expiry_and_qr(app, client, key):
    response = post(client, key, {"unit": "SEC", "procedure": "1.000001"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert {"code", "url", "expires_at", "qr_svg", "unit", "procedure", "questionnaire"} <= set(body)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", body["code"])
    assert body["url"] == f"http://sipas.test/s/{body['code']}"
    assert body["unit"] == "SEC" and body["procedure"] == "1.000001"
    assert body["questionnaire"].startswith("sipas-2023@") and body["kind"] == "single"
    expires = dt.datetime.fromisoformat(body["expires_at"].rstrip("Z"))
    assert dt.timedelta(days=29) < expires - dt.datetime.now(dt.UTC).replace(tzinfo=None) <= dt.timedelta(days=30)
    assert body["qr_svg"].startswith("<svg") and "<path" in body["qr_svg"]
    with app.app_context():
        record = codes.find(body["code"])
        assert record.batch.source == "api" and record.unit.code == "SEC"
        entry = db.session.scalars(select(AuditEntry).filter_by(action="codes.issue")).one()
        assert entry.actor == f"apikey:{key.split('_')[1]}" and '"source": "api"' in entry.details
    # The public page opens with it.
    assert client.get(f"/s/{body['code']}").status_code == 200


def test_issue_for_a_unit_below_the_keys_unit(client, key):
    response = post(client, key, {"unit": "SEC-Q1"})
    assert response.status_code == 201 and response.get_json()["unit"] == "SEC-Q1"


def test_unit_may_be_left_out_only_when_the_key_covers_one_unit(client, runner, key):
    assert_error(post(client, key, {}), 400, "unit")
    counter_key = make_key(runner, unit="SEC-Q1")
    response = post(client, counter_key, {})
    assert response.status_code == 201 and response.get_json()["unit"] == "SEC-Q1"


def test_counter_code_has_no_expiry(client, key):
    response = post(client, key, {"unit": "SEC", "kind": "counter"})
    assert response.status_code == 201
    assert response.get_json()["kind"] == "counter" and response.get_json()["expires_at"] is None


DOSSIER = "000.00.12.H56-240101-0001"


def test_same_dossier_gives_the_same_code_and_another_dossier_another(app, client, key):
    first = post(client, key, {"unit": "SEC", "dossier": DOSSIER})
    assert first.status_code == 201
    repeat = post(client, key, {"unit": "SEC", "dossier": DOSSIER})
    assert repeat.status_code == 200
    assert repeat.get_json()["code"] == first.get_json()["code"]
    assert repeat.get_json()["url"] == first.get_json()["url"]
    spaced = post(client, key, {"unit": "SEC", "dossier": f"  {DOSSIER.lower()} "})
    assert spaced.status_code == 200 and spaced.get_json()["code"] == first.get_json()["code"]
    other = post(client, key, {"unit": "SEC", "dossier": DOSSIER + "-2"})
    assert other.status_code == 201 and other.get_json()["code"] != first.get_json()["code"]
    other_unit = post(client, key, {"unit": "SEC-Q1", "dossier": DOSSIER})
    assert other_unit.status_code == 201 and other_unit.get_json()["code"] != first.get_json()["code"]
    with app.app_context():
        assert len(db.session.scalars(select(SurveyCode)).all()) == 3
        actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("codes.%")))]
        assert actions.count("codes.issue") == 3 and actions.count("codes.issue.repeat") == 2


def test_a_used_up_code_gives_the_dossier_a_new_one(app, client, key):
    first = post(client, key, {"unit": "SEC", "dossier": DOSSIER}).get_json()["code"]
    with app.app_context():
        codes.void_codes([codes.find(first)], actor="test")
    again = post(client, key, {"unit": "SEC", "dossier": DOSSIER})
    assert again.status_code == 201 and again.get_json()["code"] != first
    assert post(client, key, {"unit": "SEC", "dossier": DOSSIER}).get_json()["code"] == again.get_json()["code"]


def answer_code(app, code: str) -> None:
    citizen = app.test_client()
    form = citizen.get(f"/s/{code}").get_data(as_text=True)
    assert citizen.post(f"/s/{code}", data={**full_answers(), "csrf_token": csrf_token(form)}).status_code == 303


def test_an_answered_dossier_gets_no_new_code(app, client, key):
    """One dossier, one answer: once its code was answered, a repeat is 409 with the state."""
    first = post(client, key, {"unit": "SEC", "dossier": DOSSIER}).get_json()["code"]
    answer_code(app, first)
    again = post(client, key, {"unit": "SEC", "dossier": DOSSIER})
    assert_error(again, 409, "dossier")
    assert again.get_json()["error"]["state"] == "answered" and "code" not in again.get_json()
    with app.app_context():
        from survey_app.models import SurveyCode

        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == 1


def test_the_dossier_number_is_stored_and_logged_nowhere(app, client, key, caplog):
    caplog.set_level(logging.DEBUG)
    assert post(client, key, {"unit": "SEC", "dossier": DOSSIER}).status_code == 201
    assert post(client, key, {"unit": "SEC", "dossier": DOSSIER}).status_code == 200
    assert_error(post(client, key, {"unit": "OTHER", "dossier": DOSSIER}), 403, "unit")
    assert_error(post(client, key, {"unit": "SEC", "dossier": DOSSIER, "kind": "counter"}), 400, "dossier")
    assert DOSSIER not in caplog.text and DOSSIER.lower() not in caplog.text.lower()
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            dump = "\n".join(connection.driver_connection.iterdump())
        finally:
            connection.close()
    assert "0001" in DOSSIER and DOSSIER.upper() not in dump.upper() and "H56-240101" not in dump.upper()


# Errors --------------------------------------------------------------------------------------

def test_missing_key_is_401_with_bearer_challenge(client):
    response = post(client, None)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [
    "Bearer sipas_abcdefgh_" + "A" * 43,
    "Bearer not-a-key",
    "Bearer ",
    "Basic YWRtaW46cGFzc3dvcmQ=",
    "sipas_abcdefgh_" + "A" * 43,
])
def test_wrong_keys_are_401(client, key, header):
    response = client.post("/api/v1/codes", headers={"Authorization": header}, json={"unit": "SEC"})
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_right_prefix_with_a_wrong_secret_is_401(client, key):
    prefix = key.split("_")[1]
    assert_error(post(client, f"sipas_{prefix}_" + "0" * 43), 401)


def test_revoked_key_is_401(app, client, key):
    with app.app_context():
        apikeys.revoke(apikeys.by_prefix(key.split("_")[1]), actor="test")
    assert_error(post(client, key), 401)


def test_session_cookies_never_authenticate_issuing(client, auth):
    auth.login("admin")
    assert_error(post(client, None), 401)


def test_wrong_scope_is_403(client, runner):
    reader = make_key(runner, "indices:read", unit=None)
    assert_error(post(client, reader), 403)


def test_other_unit_is_403(client, key):
    assert_error(post(client, key, {"unit": "OTHER"}), 403, "unit")
    assert_error(post(client, key, {"unit": "DEPT"}), 403, "unit")


@pytest.mark.parametrize(("data", "field"), [
    ("{not json", None),
    ("[1, 2]", None),
    ('"SEC"', None),
    ("", None),
    (b"\xff\xfe{}", None),
    ('{"unit": "SEC", "dosier": "1"}', "dosier"),
    ('{"unit": 5}', "unit"),
    ('{"unit": "NOPE"}', "unit"),
    ('{"unit": "SEC", "procedure": "9.999999"}', "procedure"),
    ('{"unit": "SEC", "procedure": ["1.000001"]}', "procedure"),
    ('{"unit": "SEC", "questionnaire": "no-such-questionnaire"}', "questionnaire"),
    ('{"unit": "SEC", "questionnaire": "sipas-2023@x"}', "questionnaire"),
    ('{"unit": "SEC", "questionnaire": "sipas-2023@99"}', "questionnaire"),
    ('{"unit": "SEC", "kind": "many"}', "kind"),
    ('{"unit": "SEC", "dossier": 12345}', "dossier"),
    ('{"unit": "SEC", "dossier": ""}', "dossier"),
    ('{"unit": "SEC", "dossier": "a\\nb"}', "dossier"),
    ('{"unit": "SEC", "dossier": "' + "9" * 101 + '"}', "dossier"),
    ('{"unit": "' + "S" * 40 + '"}', "unit"),
])
def test_bad_bodies_are_400_with_the_field(client, key, data, field):
    response = client.post("/api/v1/codes", data=data, headers={**bearer(key), "Content-Type": "application/json"})
    assert_error(response, 400, field)


def test_inactive_unit_or_procedure_is_400(app, client, key):
    with app.app_context():
        catalog.update_unit(catalog.unit_by_code("SEC-Q1"), name="Quầy 1", parent="SEC", active=False, actor="t")
        procedure = catalog.procedure_by_code("1.000001")
        catalog.update_procedure(procedure, name=procedure.name, field=None, active=False, actor="t")
    assert_error(post(client, key, {"unit": "SEC-Q1"}), 400, "unit")
    assert_error(post(client, key, {"unit": "SEC", "procedure": "1.000001"}), 400, "procedure")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_non_json_is_415(client, key, content_type):
    headers = bearer(key) | ({"Content-Type": content_type} if content_type else {})
    response = client.post("/api/v1/codes", data='{"unit": "SEC"}', headers=headers)
    assert_error(response, 415)


def test_big_bodies_are_refused_as_json(client, key):
    response = client.post("/api/v1/codes", data='{"unit": "' + "x" * 200_000 + '"}',
                           headers={**bearer(key), "Content-Type": "application/json"})
    assert_error(response, 413)


def test_wrong_method_and_unknown_path_answer_json(client, key):
    wrong = client.get("/api/v1/codes", headers=bearer(key))
    assert wrong.status_code == 405 and wrong.get_json()["error"]["status"] == 405
    missing = client.get("/api/v1/nothing", headers=bearer(key))
    assert missing.status_code == 404 and missing.get_json()["error"]["status"] == 404


def test_errors_never_500(client, key):
    for body in ['{"unit": null, "procedure": null, "questionnaire": null, "dossier": null, "kind": null}',
                 '{"unit": {"a": 1}}', '{"unit": "SEC", "questionnaire": ""}', "1e999", '{"unit": "SEC\\u0000"}',
                 '{"unit": "SEC", "dossier": "\\u00e9\\u00e9"}', "null", "true"]:
        response = client.post("/api/v1/codes", data=body, headers={**bearer(key), "Content-Type": "application/json"})
        assert response.status_code < 500, (body, response.get_data(as_text=True))


# QR images -----------------------------------------------------------------------------------

def issue_via_api(client, key: str, unit: str = "SEC") -> dict:
    response = post(client, key, {"unit": unit})
    assert response.status_code == 201
    return response.get_json()


def test_qr_svg_and_png(client, key, tmp_path):
    issued = issue_via_api(client, key)
    svg = client.get(f"/api/v1/codes/{issued['code']}/qr.svg", headers=bearer(key))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).startswith("<svg")
    assert "no-store" in svg.headers["Cache-Control"]
    png = client.get(f"/api/v1/codes/{issued['code'].lower()}/qr.png", headers=bearer(key))
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data[:8] == b"\x89PNG\r\n\x1a\n"
    zbarimg = require_tool("zbarimg")
    path = tmp_path / "qr.png"
    path.write_bytes(png.data)
    decoded = subprocess.run([zbarimg, "--raw", "-q", str(path)], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert decoded == qr_payload(issued["url"])
    assert decoded.lower() == issued["url"].lower()


def test_qr_for_a_logged_in_staff_member_of_the_unit(app, client, auth):
    [code] = issue_codes(app, unit="SEC-Q1")
    assert client.get(f"/api/v1/codes/{code}/qr.svg").status_code == 401
    auth.login("staff")
    assert client.get(f"/api/v1/codes/{code}/qr.svg").status_code == 200
    auth.logout()
    auth.login("otherstaff")
    assert_error(client.get(f"/api/v1/codes/{code}/qr.png"), 403)
    auth.logout()
    auth.login("analyst")
    assert_error(client.get(f"/api/v1/codes/{code}/qr.png"), 403)


def test_qr_refusals(app, client, runner, key):
    [other_code] = issue_codes(app, unit="OTHER")
    issued = issue_via_api(client, key)
    assert_error(client.get(f"/api/v1/codes/{other_code}/qr.svg", headers=bearer(key)), 403)
    reader = make_key(runner, "indices:read", unit="SEC")
    assert_error(client.get(f"/api/v1/codes/{issued['code']}/qr.svg", headers=bearer(reader)), 403)
    missing = client.get(f"/api/v1/codes/{issued['code']}/qr.svg")
    assert_error(missing, 401)
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.get(f"/api/v1/codes/{issued['code']}/qr.svg", headers=bearer(key + "x")), 401)


def test_qr_unknown_codes_are_404(client, key):
    unknown = codes.new_code()
    assert_error(client.get(f"/api/v1/codes/{unknown}/qr.svg", headers=bearer(key)), 404)
    assert_error(client.get("/api/v1/codes/not-a-code/qr.png", headers=bearer(key)), 404)
    typo = issue_via_api(client, key)["code"]
    typo = typo[:-1] + ("0" if typo[-1] != "0" else "1")
    assert_error(client.get(f"/api/v1/codes/{typo}/qr.png", headers=bearer(key)), 404)
