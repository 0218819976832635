"""SQL-injection and script payloads in every text field that reaches the database, and every
page that shows such text: stored verbatim (parameters, never SQL text), shown escaped."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from markupsafe import escape
from sqlalchemy import func, inspect, select

from survey_app.extensions import db
from survey_app.models import AuditEntry, CodeBatch, Comment, Procedure, Response, Unit
from survey_app.services import catalog, codes
from tests.security.hostile import assert_no_server_error, digest, make_world, signed_in
from tests.support import ORG, cli_runner, csrf_token, full_answers, issue_codes

SQL = ["' OR '1'='1", "'; DROP TABLE responses; --", "\" OR 1=1 --", "1); DELETE FROM comments; --",
       "' UNION SELECT code_hash, sealed FROM survey_codes --", "%' AND 1=0 UNION SELECT 1 --", "\\'; --"]
# One script payload per place, so a leak names its source.
UNIT_XSS = "<script>alert('unit')</script>"
PROCEDURE_XSS = "<img src=x onerror=alert('procedure')>"
FIELD_XSS = "\"><svg onload=alert('field')>"
COMMENT_XSS = "<script>alert('comment')</script>"
LOGIN_XSS = "<script>alert('login')</script>"
KEY_XSS = "<iframe src=javascript:alert('key')>"
ALL_XSS = (UNIT_XSS, PROCEDURE_XSS, FIELD_XSS, COMMENT_XSS, LOGIN_XSS, KEY_XSS)
TEMPLATE = ["{{7*7}}", "${7*7}", "{% raw %}x", "#{7*7}"]
TABLES = {"units", "procedures", "responses", "answers", "comments", "survey_codes", "audit_log", "users"}


def _tables(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def _answer(client, code: str, **fields: str):
    token = csrf_token(client.get(f"/s/{code}").get_data(as_text=True))
    return client.post(f"/s/{code}", data={**full_answers(**fields), "csrf_token": token})


def test_comments_are_stored_verbatim_whatever_they_hold(app):
    client = app.test_client()
    payloads = [*SQL, COMMENT_XSS, *TEMPLATE, "Robert'); DROP TABLE comments;--"]
    for payload, code in zip(payloads, issue_codes(app, count=len(payloads)), strict=True):
        assert _answer(client, code, comment=payload).status_code == 303, payload
    with app.app_context():
        stored = sorted(db.session.scalars(select(Comment.text)))
        assert stored == sorted(payloads)
        assert db.session.scalar(select(func.count()).select_from(Response)) == len(payloads)
    assert _tables(app) >= TABLES


def test_payloads_in_choice_fields_and_answers_are_refused_and_store_nothing(app):
    client = app.test_client()
    [code] = issue_codes(app)
    token = csrf_token(client.get(f"/s/{code}").get_data(as_text=True))
    before = digest(app)
    for payload in [*SQL, FIELD_XSS, *TEMPLATE]:
        for field in ("gender", "HL", "TC1", "feedback_given"):
            response = client.post(f"/s/{code}", data={**full_answers(**{field: payload}), "csrf_token": token})
            assert response.status_code == 400, (field, payload)
            assert FIELD_XSS not in response.get_data(as_text=True)
    assert digest(app) == before


def test_payloads_in_the_code_path_are_not_found(app):
    client = app.test_client()
    before = digest(app)
    for payload in [*SQL, UNIT_XSS, *TEMPLATE]:
        for url in (f"/s/{quote(payload, safe='')}", f"/s?code={quote(payload, safe='')}"):
            response = client.get(url)
            assert_no_server_error(response, url)
            assert response.status_code in (404, 429), (url, response.status_code)
            assert UNIT_XSS not in response.get_data(as_text=True)
    assert digest(app) == before


def test_payloads_in_the_login_form_log_nobody_in(app):
    client, token = signed_in(app, "anonymous")
    for payload in [*SQL, LOGIN_XSS, "admin' --", "admin'/*", "' OR 1=1 LIMIT 1 --"]:
        response = client.post("/staff/login", data={"username": payload, "password": payload, "csrf_token": token})
        assert response.status_code == 401, (payload, response.status_code)
        assert LOGIN_XSS not in response.get_data(as_text=True)
        assert client.get("/staff/").status_code == 302, f"{payload!r} logged someone in"
    with app.app_context():
        actors = set(db.session.scalars(select(AuditEntry.actor).filter_by(action="login.failed")))
    assert LOGIN_XSS.lower() in actors and "admin' --" in actors  # kept as data


def test_catalogue_import_from_the_command_line(app, tmp_path):
    runner = cli_runner(app)
    good = tmp_path / "catalogue.csv"
    rows = [("2.000001", PROCEDURE_XSS, SQL[0]), ("2.000002", SQL[1], "Lĩnh vực"), ("2.000003", SQL[3], FIELD_XSS)]
    with good.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "field"])
        writer.writerows(rows)
    result = runner.invoke(["procedure", "import", str(good)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        stored = {p.code: (p.name, p.field) for p in db.session.scalars(select(Procedure))}
    for code, name, field in rows:
        assert stored[code] == (name, field)

    before = digest(app)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,field\n2.000009,Fine,x\n\"'; DROP TABLE procedures; --\",Bad,x\n", encoding="utf-8")
    refused = runner.invoke(["procedure", "import", str(bad)])
    assert refused.exit_code == 1 and "dòng 3" in refused.output
    assert digest(app) == before, "a file with an error imports nothing"
    assert _tables(app) >= TABLES


def test_catalogue_import_on_the_admin_page(app):
    client, token = signed_in(app, "admin")
    data = f"code,name,field\n3.000001,{PROCEDURE_XSS},x\n".encode()
    response = client.post("/admin/procedures/import", data={
        "csrf_token": token, "file": (io.BytesIO(data), "catalogue.csv")}, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with app.app_context():
        assert db.session.scalar(select(Procedure.name).filter_by(code="3.000001")) == PROCEDURE_XSS
    before = digest(app)
    bad = f"code,name,field\n{UNIT_XSS},x,y\n".encode()
    refused = client.post("/admin/procedures/import", data={
        "csrf_token": token, "file": (io.BytesIO(bad), "bad.csv")}, content_type="multipart/form-data")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and UNIT_XSS not in html and str(escape(UNIT_XSS)) in html
    assert digest(app) == before


def test_unit_names_from_the_command_line(app):
    runner = cli_runner(app)
    for index, name in enumerate([UNIT_XSS, *SQL]):
        result = runner.invoke(["unit", "add", f"X{index}", name, "--parent", ORG.section])
        assert result.exit_code == 0, result.output
    bad_code = runner.invoke(["unit", "add", "'; DROP TABLE units; --", "x"])
    assert bad_code.exit_code == 1
    with app.app_context():
        names = set(db.session.scalars(select(Unit.name)))
    assert {UNIT_XSS, *SQL} <= names
    assert _tables(app) >= TABLES


def test_searches_treat_payloads_as_text(app):
    """A search for "' OR '1'='1" finds nothing instead of everything."""
    admin, _ = signed_in(app, "admin")
    page = admin.get("/admin/procedures?q=" + quote("' OR '1'='1"))
    assert page.status_code == 200 and ORG.procedure not in page.get_data(as_text=True)
    page = admin.get("/admin/procedures?q=" + quote("%"))
    assert page.status_code == 200 and ORG.procedure not in page.get_data(as_text=True)
    client = app.test_client()
    [code] = issue_codes(app)
    assert _answer(client, code, comment="Nhân viên tận tình").status_code == 303
    for search in ("' OR '1'='1", "%", "_"):
        page = admin.get("/analyst/comments?search=" + quote(search))
        assert_no_server_error(page, search)
        if page.status_code == 200:
            assert "Nhân viên tận tình" not in page.get_data(as_text=True), search


def _plant_payloads(app) -> str:
    """Script payloads in every stored text a page shows; returns a usable code of the unit."""
    runner = cli_runner(app)
    assert runner.invoke(["unit", "add", "XSS", UNIT_XSS, "--parent", ORG.section]).exit_code == 0
    assert runner.invoke(["procedure", "add", "9.000001", PROCEDURE_XSS, "--field", FIELD_XSS]).exit_code == 0
    client = app.test_client()
    spare, answered = issue_codes(app, count=2, unit="XSS", procedure="9.000001")
    assert _answer(client, answered, comment=COMMENT_XSS).status_code == 303
    anonymous, token = signed_in(app, "anonymous")
    anonymous.post("/staff/login", data={"username": LOGIN_XSS, "password": "x" * 12, "csrf_token": token})
    from survey_app.services import apikeys

    with app.app_context():
        apikeys.create(KEY_XSS, ["indices:read"], actor="test")
    return spare


def _html_like(response) -> bool:
    return response.mimetype in ("text/html", "image/svg+xml", "application/xhtml+xml")


def test_every_page_shows_stored_payloads_escaped(app):
    """Every GET route (from app.url_map, so new pages are covered), as admin and as staff of
    the unit, plus the citizen's form: no stored script payload comes back as markup."""
    code = _plant_payloads(app)
    world = make_world(app)
    with app.app_context():
        unit = catalog.unit_by_code("XSS")
        batch = db.session.scalar(select(CodeBatch).filter_by(unit_id=unit.id))
        record = codes.find(code)
        values = {**world.values, "batch_id": batch.id, "code_id": record.id, "unit_id": unit.id,
                  "procedure_id": db.session.scalar(select(Procedure.id).filter_by(code="9.000001")), "code": code}
    seen: dict[str, set[str]] = {payload: set() for payload in ALL_XSS}
    checked = 0
    for who in ("admin", "staff"):
        client, _ = signed_in(app, who)
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint in ("static", "staff.login"):
                continue
            formats = ("html", "csv", "json", "xlsx") if "fmt" in rule.arguments else (None,)
            for fmt in formats:
                with app.test_request_context():
                    from flask import url_for

                    args = {name: values[name] for name in rule.arguments if name != "fmt"}
                    url = url_for(rule.endpoint, **args, **({"fmt": fmt} if fmt else {}))
                response = client.get(url)
                assert_no_server_error(response, f"{who} GET {url}")
                if not _html_like(response):
                    continue
                checked += 1
                body = response.get_data(as_text=True)
                for payload in ALL_XSS:
                    assert payload not in body, f"{who} GET {url}: {payload} shown unescaped"
                    if str(escape(payload)) in body:
                        seen[payload].add(rule.endpoint)
    public = app.test_client().get(f"/s/{code}")
    body = public.get_data(as_text=True)
    assert public.status_code == 200 and UNIT_XSS not in body and PROCEDURE_XSS not in body
    assert str(escape(UNIT_XSS)) in body and str(escape(PROCEDURE_XSS)) in body
    # The payloads really reached pages (else this test would prove nothing).
    assert checked > 20
    assert {"staff.home", "staff.batch", "admin.units"} <= seen[UNIT_XSS], seen[UNIT_XSS]
    assert {"staff.home", "admin.procedures"} <= seen[PROCEDURE_XSS], seen[PROCEDURE_XSS]
    assert "admin.audit" in seen[LOGIN_XSS] and "admin.api_keys" in seen[KEY_XSS]
    if "analyst.comments" in app.view_functions:
        assert "analyst.comments" in seen[COMMENT_XSS], seen[COMMENT_XSS]
