"""On PostgreSQL no transaction stamp (xmin) may pair a response with the code it used."""

from __future__ import annotations

import time

from sqlalchemy import text

from survey_app.extensions import db
from tests.support import cli_runner, csrf_token, full_answers, issue_codes

PAIRS = text("SELECT count(*) FROM responses r JOIN survey_codes c ON c.xmin::text = r.xmin::text")
COMMENT_PAIRS = text("SELECT count(*) FROM comments m JOIN survey_codes c ON c.xmin::text = m.xmin::text")


def submit_all(app, codes) -> None:
    client = app.test_client()
    for code in codes:
        html = client.get(f"/s/{code}").get_data(as_text=True)
        assert client.post(f"/s/{code}", data={**full_answers(), "csrf_token": csrf_token(html)}).status_code == 303


def pairs(app) -> tuple[int, int]:
    with app.app_context():
        return db.session.scalar(PAIRS), db.session.scalar(COMMENT_PAIRS)


def test_stamps_are_rewritten_after_submissions(postgres_app):
    postgres_app.config["SIPAS_UNLINK_SECONDS"] = 0
    submit_all(postgres_app, issue_codes(postgres_app, count=4))
    assert pairs(postgres_app) == (0, 0)


def test_the_leak_is_real_until_sipas_unlink_runs(postgres_app):
    postgres_app.config["SIPAS_UNLINK_SECONDS"] = 10**9
    import survey_app.services.unlink as unlink

    unlink._last_run = time.monotonic()
    submit_all(postgres_app, issue_codes(postgres_app, count=3))
    assert pairs(postgres_app) == (3, 3)  # what this module exists to prevent
    result = cli_runner(postgres_app).invoke(["unlink"])
    assert "responses: 3 rows rewritten" in result.output
    assert pairs(postgres_app) == (0, 0)


def test_unlink_is_a_no_op_on_sqlite(app):
    assert "Nothing to do" in cli_runner(app).invoke(["unlink"]).output
