"""sipas backup and sipas restore on both backends: round trips, refusals, a running server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from survey_app.extensions import db
from survey_app.models import AuditEntry, Response, SurveyCode
from survey_app.services import catalog
from survey_app.services.backup import backup
from tests.support import cli_runner, csrf_token, full_answers, issue_codes

# Everything a restore must bring back exactly (the audit log is compared on its own: the
# backup and the restore are recorded in it).
TABLES = ("units", "procedures", "questionnaire_versions", "users", "api_keys", "code_batches", "survey_codes",
          "responses", "answers", "comments", "alembic_version")


def snapshot(app) -> dict[str, list[tuple]]:
    with app.app_context(), db.engine.connect() as connection:
        return {table: sorted((tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))),
                              key=repr)
                for table in TABLES}


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def answer(app, code: str, **overrides: str) -> int:
    client = app.test_client()
    page = client.get(f"/s/{code}")
    data = {**full_answers(**overrides), "csrf_token": csrf_token(page.get_data(as_text=True))}
    return client.post(f"/s/{code}", data=data).status_code


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_round_trip(backend_app, tmp_path):
    app, runner = backend_app, cli_runner(backend_app)
    first, kept, *_ = issue_codes(app, count=3)
    assert answer(app, first, comment="Rất tốt, cảm ơn") == 303
    before = snapshot(app)
    log_before = audit_actions(app)
    target = tmp_path / "sipas.backup"

    made = runner.invoke(["backup", "-o", str(target)])
    assert made.exit_code == 0, made.output
    assert "secret key" in made.output and target.stat().st_size > 0
    assert audit_actions(app)[-1] == "backup"

    # Life goes on after the backup: a response, a new unit, a voided batch, purged comments.
    assert answer(app, kept) == 303
    [later] = issue_codes(app)
    with app.app_context():
        catalog.add_unit("NEW", "Đơn vị mới", parent="DEPT")
    assert runner.invoke(["purge-comments", "--older-than", "1", "--yes"]).exit_code == 0
    assert snapshot(app) != before

    restored = runner.invoke(["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "secret key" in restored.output and "does not open" not in restored.output
    assert snapshot(app) == before
    # The backup was recorded after it was taken, so the restored log ends with the restore.
    assert audit_actions(app) == [*log_before, "restore"]
    # The app works on the restored data: the code kept unused answers again, the later one is unknown.
    client = app.test_client()
    assert client.get(f"/s/{kept}").status_code == 200
    assert client.get(f"/s/{first}").status_code == 409
    assert client.get(f"/s/{later}").status_code == 404
    assert answer(app, kept) == 303


def test_restore_asks_for_yes_and_changes_nothing_without_it(app, tmp_path):
    runner = cli_runner(app)
    target = tmp_path / "b.sqlite"
    assert runner.invoke(["backup", "-o", str(target)]).exit_code == 0
    issue_codes(app)
    before = snapshot(app)
    refused = runner.invoke(["restore", str(target)])
    assert refused.exit_code == 1 and "--yes" in refused.output
    assert snapshot(app) == before


def test_backup_does_not_overwrite_without_force(app, tmp_path):
    runner = cli_runner(app)
    target = tmp_path / "b.sqlite"
    target.write_text("keep me")
    refused = runner.invoke(["backup", "-o", str(target)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert target.read_text() == "keep me"
    assert runner.invoke(["backup", "-o", str(target), "--force"]).exit_code == 0
    assert target.read_bytes().startswith(b"SQLite format 3\x00")


def _restore_refused(app, path: Path, *expected: str) -> None:
    before = snapshot(app)
    result = cli_runner(app).invoke(["restore", str(path), "--yes"])
    assert result.exit_code == 1, result.output
    for phrase in expected:
        assert phrase in result.output, result.output
    assert "Traceback" not in result.output
    assert snapshot(app) == before


def test_backend_mismatch_is_refused(backend_app, tmp_path):
    url = backend_app.config["SQLALCHEMY_DATABASE_URI"]
    other = tmp_path / "other.backup"
    if make_url(url).get_backend_name() == "sqlite":
        other.write_bytes(b"PGDMP\x01\x0e\x00\x04\x08\x01\x01" + b"\x00" * 200)
        _restore_refused(backend_app, other, "PostgreSQL backup", "configured for SQLite")
    else:
        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
        _restore_refused(backend_app, other, "SQLite backup", "configured for PostgreSQL")


def test_files_that_are_not_sipas_backups_are_refused(app, tmp_path):
    runner = cli_runner(app)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    _restore_refused(app, text_file, "not a sipas backup")

    foreign = tmp_path / "foreign.sqlite"
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE users (id INTEGER)")
    connection.commit()
    connection.close()
    _restore_refused(app, foreign, "not a sipas database", "responses")

    damaged = tmp_path / "damaged.sqlite"
    assert runner.invoke(["backup", "-o", str(damaged)]).exit_code == 0
    data = bytearray(damaged.read_bytes())
    page = 4096
    for offset in range(page, len(data), page):  # break every b-tree page header but the first page's
        data[offset:offset + 12] = b"\xa5" * 12
    damaged.write_bytes(bytes(data))
    _restore_refused(app, damaged, "restore failed")


def test_backup_from_a_newer_sipas_is_refused(app, tmp_path):
    newer = tmp_path / "newer.sqlite"
    assert cli_runner(app).invoke(["backup", "-o", str(newer)]).exit_code == 0
    connection = sqlite3.connect(newer)
    connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    connection.commit()
    connection.close()
    _restore_refused(app, newer, "newer sipas")


def test_sqlite_backup_while_a_writer_holds_the_database(app, tmp_path):
    """The online backup does not wait for or include an open write transaction."""
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO units (code, name, kind, active) VALUES ('UNCOMMITTED', 'x', 'section', 1)")
    target = tmp_path / "live.sqlite"
    try:
        with app.app_context():
            db.engine.dispose()
            backup(app.config["SQLALCHEMY_DATABASE_URI"], target)
    finally:
        writer.execute("COMMIT")
        writer.close()
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT count(*) FROM units WHERE code = 'UNCOMMITTED'").fetchone() == (0,)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    copy.close()


def test_restore_into_a_database_another_connection_has_open(app, tmp_path):
    """A running server keeps its connections: after the restore it reads the restored data."""
    [code] = issue_codes(app)
    target = tmp_path / "b.sqlite"
    assert cli_runner(app).invoke(["backup", "-o", str(target)]).exit_code == 0
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    server = sqlite3.connect(database)
    assert answer(app, code) == 303
    assert server.execute("SELECT count(*) FROM responses").fetchone() == (1,)
    assert cli_runner(app).invoke(["restore", str(target), "--yes"]).exit_code == 0
    assert server.execute("SELECT count(*) FROM responses").fetchone() == (0,)
    assert server.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    server.close()
    assert count(app, Response) == 0 and answer(app, code) == 303


def test_restore_warns_when_the_secret_key_differs(make_app, tmp_path):
    from tests.support import seed_org

    app = make_app()
    with app.app_context():
        seed_org()
    issue_codes(app)
    target = tmp_path / "b.sqlite"
    assert cli_runner(app).invoke(["backup", "-o", str(target)]).exit_code == 0
    elsewhere = make_app(f"sqlite:///{tmp_path / 'elsewhere.sqlite'}", SIPAS_SECRET_KEY="another-key")
    result = cli_runner(elsewhere).invoke(["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert "does not open the codes" in result.output
    with elsewhere.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == 1


def test_pg_tools_are_found_on_path_or_in_the_debian_folder(monkeypatch):
    from survey_app.services import backup_tools

    monkeypatch.setattr(backup_tools.shutil, "which", lambda name: None)
    monkeypatch.setattr(backup_tools.glob, "glob", lambda pattern: [
        pattern.replace("*", "13"), pattern.replace("*", "15"), pattern.replace("*", "9.6")])
    assert backup_tools.find_pg_tool("pg_dump") == "/usr/lib/postgresql/15/bin/pg_dump"
    monkeypatch.setattr(backup_tools.glob, "glob", lambda pattern: [])
    with pytest.raises(backup_tools.BackupError, match="postgresql-client"):
        backup_tools.find_pg_tool("pg_restore")
