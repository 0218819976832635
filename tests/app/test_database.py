"""Schema and migrations on SQLite and PostgreSQL; anonymity by construction; the
append-only audit log; questionnaire snapshots are immutable."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DatabaseError

from survey_app.database import ImmutableVersionError, sync_questionnaires, upgrade
from survey_app.extensions import db
from survey_app.models import AuditEntry, QuestionnaireVersion, Response
from survey_app.services import audit
from tests.support import csrf_token, full_answers, issue_codes

EXPECTED_TABLES = {
    "units", "procedures", "questionnaire_versions", "survey_codes", "code_batches", "responses",
    "answers", "comments", "users", "api_keys", "audit_log", "alembic_version", "staff_sessions", "answer_counts",
    "answer_positions", "tally_seals", "cell_tallies", "kiosks", "unit_successions",
    "feedback_cases", "dossier_tallies", "answer_nonces",
}


def test_migrations_create_every_table_from_empty(backend_app):
    with backend_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert tables >= EXPECTED_TABLES
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == "0011"


def test_init_is_idempotent(backend_app):
    with backend_app.app_context():
        upgrade()
        assert sync_questionnaires() == []
        keys = {v.key for v in db.session.scalars(select(QuestionnaireVersion))}
        assert keys == {"sipas-2023@1", "tt01-counter@1"}


def test_response_row_cannot_identify_the_respondent(backend_app):
    with backend_app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("responses")}
        foreign = {fk["referred_table"] for fk in inspect(db.engine).get_foreign_keys("responses")}
        column_types = {c["name"]: str(c["type"]).upper() for c in inspect(db.engine).get_columns("responses")}
    assert "survey_codes" not in foreign
    forbidden = {"code", "code_id", "survey_code_id", "ip", "ip_address", "user_agent", "created_at",
                 "submitted_at", "batch_id", "session"}
    assert not columns & forbidden
    assert column_types["submitted_on"] == "DATE"
    assert not any("TIME" in kind for kind in column_types.values())


def test_stored_response_has_random_id_and_only_the_date(backend_app):
    client = backend_app.test_client()
    [code] = issue_codes(backend_app)
    html = client.get(f"/s/{code}").get_data(as_text=True)
    assert client.post(f"/s/{code}", data={**full_answers(), "csrf_token": csrf_token(html)}).status_code == 303
    with backend_app.app_context():
        row = db.session.execute(select(Response.__table__)).mappings().one()
    assert len(row["id"]) == 32 and code.replace("-", "") not in str(dict(row)).upper()
    assert set(row.keys()) == {c.name for c in Response.__table__.columns}


def test_sqlite_responses_have_no_rowid(app):
    with app.app_context():
        with pytest.raises(DatabaseError):
            db.session.execute(text("SELECT rowid FROM responses")).all()
        db.session.rollback()


def test_audit_log_is_append_only(backend_app):
    with backend_app.app_context():
        audit.record("tester", "test.action", "x")
        db.session.commit()
        for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError):
                db.session.execute(text(statement))
                db.session.commit()
            db.session.rollback()
        assert db.session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "test.action")) == "tester"


def test_changed_published_questionnaire_is_refused(backend_app):
    with backend_app.app_context():
        stored = db.session.scalar(select(QuestionnaireVersion).filter_by(questionnaire_id="sipas-2023"))
        stored.sha256 = "0" * 64  # as if the file had been edited after publication
        db.session.commit()
        with pytest.raises(ImmutableVersionError, match="raise|version = 2|immutable"):
            sync_questionnaires()


def _terminate_backends(app) -> int:
    """Kill the app's PostgreSQL connections from outside, as a restart or failover does."""
    with app.app_context():
        name = db.engine.url.database
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                            "AND pid <> pg_backend_pid()", (name,)).fetchall()
    return len(rows)


def test_idle_connections_lost_meanwhile_are_replaced_unseen(postgres_app, monkeypatch):
    """Pooled connections killed while idle (a database restart at night) are found by a
    ping at checkout and replaced: the citizen and the clerk see pages, not errors. Busy
    connections are not pinged: that round trip cost a fifth of the survey throughput."""
    import time

    from survey_app import database

    codes = issue_codes(postgres_app, count=3)
    client = postgres_app.test_client()
    pings: list[int] = []
    with postgres_app.app_context():
        dialect = db.engine.dialect
    real_ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: pings.append(1) or real_ping(connection))
    assert client.get(f"/s/{codes[0]}").status_code == 200
    assert client.get(f"/s/{codes[0]}").status_code == 200
    assert pings == [], "a connection in steady use is not pinged"
    assert _terminate_backends(postgres_app) >= 1
    later = time.monotonic() + 2 * database.IDLE_PING_SECONDS
    monkeypatch.setattr(database.time, "monotonic", lambda: later)
    page = client.get(f"/s/{codes[1]}")
    assert page.status_code == 200, page.get_data(as_text=True)[:200]
    assert pings, "an idle connection is pinged before it is lent"
    token = csrf_token(page.get_data(as_text=True))
    assert client.post(f"/s/{codes[1]}", data={**full_answers(), "csrf_token": token}).status_code == 303
