"""GET /api/v1/indices returns what `sipas analyze --db --format json` prints."""

from __future__ import annotations

import json

import pytest

from tests.analysis.test_indb import assert_same
from tests.app.test_analyst import answer
from tests.support import ORG


@pytest.fixture
def data(app):
    answer(app, count=36, seed=11)
    answer(app, unit=ORG.other_section, count=33, seed=12)
    answer(app, unit=ORG.counter, count=5, seed=13)
    return app


def cli_json(runner, *args: str) -> dict:
    result = runner.invoke(["analyze", "--db", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("query,args", [
    ("", []),
    ("by=unit", ["--by", "unit"]),
    ("by=unit,channel&period=quarter", ["--by", "unit,channel", "--period", "quarter"]),
    ("period=month&ci_method=jeffreys&confidence=0.9", ["--period", "month", "--ci-method", "jeffreys",
                                                         "--confidence", "0.9"]),
    ("from=2000-01-01&to=2100-12-31&by=respondent_type", ["--from", "2000-01-01", "--to", "2100-12-31", "--by",
                                                          "respondent_type"]),
    (f"unit={ORG.section}&by=unit", ["--unit", ORG.section, "--by", "unit"]),
])
def test_api_equals_cli(data, client, auth, runner, query, args):
    auth.login("analyst")
    response = client.get(f"/api/v1/indices?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    # The API analyses the dashboard's cached rows, the command the database's aggregates:
    # the same numbers to 1e-9.
    assert_same(response.get_json(), cli_json(runner, *args))


def test_api_key_with_indices_scope_and_unit_binding(data, runner):
    client = data.test_client()
    key = runner.invoke(["apikey", "add", "bao-cao", "--scope", "indices:read"]).stdout.strip().split()[-1]
    response = client.get("/api/v1/indices?by=unit", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert {g["keys"]["unit"] for g in response.get_json()["groups"]} == {ORG.section, ORG.other_section, ORG.counter}
    bound = runner.invoke(["apikey", "add", "phong", "--scope", "indices:read", "--unit", ORG.section]).stdout
    bound_key = bound.strip().split()[-1]
    mine = client.get("/api/v1/indices?by=unit", headers={"Authorization": f"Bearer {bound_key}"}).get_json()
    assert {g["keys"]["unit"] for g in mine["groups"]} == {ORG.section, ORG.counter}
    other = client.get(f"/api/v1/indices?unit={ORG.other_section}", headers={"Authorization": f"Bearer {bound_key}"})
    assert other.status_code == 403


def test_api_refuses_without_the_right_credentials(data, client, auth, runner):
    assert client.get("/api/v1/indices").status_code == 401
    assert client.get("/api/v1/indices", headers={"Authorization": "Bearer sipas_nope_nope"}).status_code == 401
    codes_key = runner.invoke(["apikey", "add", "mot-cua", "--scope", "codes:issue", "--unit", ORG.section])
    key = codes_key.stdout.strip().split()[-1]
    assert client.get("/api/v1/indices", headers={"Authorization": f"Bearer {key}"}).status_code == 403
    auth.login("staff")
    assert client.get("/api/v1/indices").status_code == 403


@pytest.mark.parametrize("query,field", [("by=shoe_size", "by"), ("period=week", "period"),
                                         ("from=yesterday", "from"), ("ci_method=magic", "ci_method"),
                                         ("confidence=2", "confidence"), ("unit=NOPE", "unit")])
def test_api_bad_parameters_are_400_with_the_field(data, client, auth, query, field):
    auth.login("analyst")
    response = client.get(f"/api/v1/indices?{query}")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_a_bootstrap_too_large_for_a_web_request_is_refused(data, client, auth, monkeypatch):
    """Resamples × responses are bounded on the web (the command line has no bound)."""
    from survey_app.analyst import api

    monkeypatch.setattr(api, "BOOTSTRAP_BUDGET", 74 * 50)  # 74 responses in the data
    auth.login("analyst")
    refused = client.get("/api/v1/indices?bootstrap=51&seed=1")
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["field"] == "bootstrap" and "sipas analyze --bootstrap" in error["message"]
    assert client.get("/api/v1/indices?bootstrap=50&seed=1").status_code == 200


def test_analyze_db_reads_no_answer_rows_unless_it_needs_them(data, runner, monkeypatch):
    """`sipas analyze --db` counts in the database; only a design, the bootstrap or units
    against the rest load the responses (analysis.load_database)."""
    import analysis

    loads: list[object] = []
    real = analysis.load_database

    def recording(*args, **kwargs):
        loads.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "load_database", recording)
    assert cli_json(runner, "--by", "unit", "--period", "quarter")["groups"]
    assert loads == []
    cli_json(runner, "--compare", "units")
    assert len(loads) == 1
