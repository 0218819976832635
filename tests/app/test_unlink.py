"""On PostgreSQL no transaction stamp (xmin) may pair a response with the code it used."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from survey_app.extensions import db
from tests.support import answer_over_http, cli_runner, csrf_token, full_answers, issue_codes

PAIRS = text("SELECT count(*) FROM responses r JOIN survey_codes c ON c.xmin::text = r.xmin::text")
COMMENT_PAIRS = text("SELECT count(*) FROM comments m JOIN survey_codes c ON c.xmin::text = m.xmin::text")
# A complaint's case must pair neither with its code nor with the answer it came with (the
# response row or its answers' rows, which name the response).
CASE_PAIRS = text("SELECT count(*) FROM feedback_cases f WHERE EXISTS (SELECT 1 FROM survey_codes c WHERE"
                  " c.xmin::text = f.xmin::text) OR EXISTS (SELECT 1 FROM responses r WHERE r.xmin::text ="
                  " f.xmin::text) OR EXISTS (SELECT 1 FROM answers a WHERE a.xmin::text = f.xmin::text)")


def submit_all(app, codes) -> None:
    client = app.test_client()
    for code in codes:
        html = client.get(f"/s/{code}").get_data(as_text=True)
        answers = {**full_answers(comment="Chờ lâu."), "case_kind": "complaint", "csrf_token": csrf_token(html)}
        assert client.post(f"/s/{code}", data=answers).status_code == 303


def pairs(app) -> tuple[int, int, int]:
    with app.app_context():
        return db.session.scalar(PAIRS), db.session.scalar(COMMENT_PAIRS), db.session.scalar(CASE_PAIRS)


def test_stamps_are_rewritten_after_submissions(postgres_app):
    postgres_app.config["SIPAS_UNLINK_SECONDS"] = 0
    submit_all(postgres_app, issue_codes(postgres_app, count=4))
    assert pairs(postgres_app) == (0, 0, 0)


def test_the_leak_is_real_until_sipas_unlink_runs(postgres_app):
    postgres_app.config["SIPAS_UNLINK_SECONDS"] = 10**9  # and no timer runs in this process
    submit_all(postgres_app, issue_codes(postgres_app, count=3))
    assert pairs(postgres_app) == (3, 3, 3)  # what this module exists to prevent
    result = cli_runner(postgres_app).invoke(["unlink"])
    assert "responses: 3 rows rewritten" in result.output
    assert pairs(postgres_app) == (0, 0, 0)


def test_unlink_is_a_no_op_on_sqlite(app):
    assert "Nothing to do" in cli_runner(app).invoke(["unlink"]).output


def test_the_timer_unlinks_within_the_bound_with_no_later_answer(postgres_app):
    """The last answers before a quiet spell: rewritten by the timer, no submission needed."""
    import threading

    from survey_app.services.unlink import start_timer

    postgres_app.config["SIPAS_UNLINK_SECONDS"] = 1
    stop = threading.Event()
    assert start_timer(postgres_app, stop) is not None
    try:
        submit_all(postgres_app, issue_codes(postgres_app, count=4))
        stored = time.monotonic()
        while pairs(postgres_app) != (0, 0, 0) and time.monotonic() - stored < 10:
            time.sleep(0.1)
        elapsed = time.monotonic() - stored
    finally:
        stop.set()
    assert pairs(postgres_app) == (0, 0, 0)
    assert elapsed <= 1 + 3, f"unlinked after {elapsed:.1f} s; the bound is the interval plus the rewrite"


@pytest.mark.slow
@pytest.mark.postgres
def test_served_answers_are_unlinked_within_the_bound(request, tmp_path):
    """Through `sipas serve` (gunicorn workers, each with its timer): four answers, then no
    traffic; within SIPAS_UNLINK_SECONDS (2 s here) plus the rewrite no stamp pairs them."""

    import psycopg

    from benchmarks.load.server import Server, fresh_site, prepare

    admin_url = request.getfixturevalue("postgres_admin_url")
    with fresh_site("postgres", tmp_path, admin_url) as site:
        site.settings["SIPAS_UNLINK_SECONDS"] = "2"
        codes = prepare(site, 4)
        with Server(site, workers=2, threads=2) as server:
            server.start()
            for code in codes:
                answer_over_http(site.port, code)
            stored = time.monotonic()
            plain = site.database_url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(plain, autocommit=True) as db_conn:
                count = None
                while time.monotonic() - stored < 15:
                    count = sum(db_conn.execute(query.text).fetchone()[0] for query in (PAIRS, COMMENT_PAIRS))
                    if count == 0:
                        break
                    time.sleep(0.2)
            elapsed = time.monotonic() - stored
            server.stop()
    assert count == 0, "stamps still pair answers with codes"
    assert elapsed <= 2 + 4, f"unlinked after {elapsed:.1f} s"
