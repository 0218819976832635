"""sipas restore refuses a backup whose schema is not the one the migrations create.

A backup is altered where an attacker (or a mistake) would alter it: a trigger added that
links responses to codes, the audit log's append-only trigger dropped, a view added, the
schema version's table broken. Each is refused, by name, before the live database changes.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from survey_app.extensions import db
from survey_app.services import backup as backups
from survey_app.services import backup_schema
from tests.ops.test_backup import answer, snapshot
from tests.support import cli_runner, issue_codes, seed_org

# Alterations on each backend: (alter, undo) statements.
ADDED_TRIGGER = {
    "sqlite": ("CREATE TRIGGER record_code AFTER INSERT ON responses BEGIN INSERT INTO audit_log "
               "(at, actor, action, target) VALUES (CURRENT_TIMESTAMP, 'x', 'answer', NEW.id); END",
               "DROP TRIGGER record_code"),
    "postgresql": ("CREATE FUNCTION record_code() RETURNS trigger AS $$ BEGIN INSERT INTO audit_log "
                   "(at, actor, action, target) VALUES (now(), 'x', 'answer', NEW.id); RETURN NEW; END $$ "
                   "LANGUAGE plpgsql; "
                   "CREATE TRIGGER record_code AFTER INSERT ON responses FOR EACH ROW EXECUTE FUNCTION record_code()",
                   "DROP TRIGGER record_code ON responses; DROP FUNCTION record_code()"),
}
DROPPED_AUDIT_TRIGGER = {
    "sqlite": ("DROP TRIGGER audit_log_no_update",
               "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
               "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"),
    "postgresql": ("DROP TRIGGER audit_log_append_only ON audit_log",
                   "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"),
}
ADDED_VIEW = {backend: ("CREATE VIEW answered_codes AS SELECT id, unit_id FROM survey_codes",
                        "DROP VIEW answered_codes") for backend in ("sqlite", "postgresql")}


def _backend(app) -> str:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


def _execute(app, statements: str) -> None:
    with app.app_context():
        with db.engine.begin() as connection:
            if _backend(app) == "sqlite":
                connection.connection.driver_connection.executescript(statements)
            else:
                connection.exec_driver_sql(statements)
        db.session.remove()
        db.engine.dispose()


def _raw_backup(app, target: Path) -> None:
    """A backup made without sipas's checks (as someone could make one by hand)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if _backend(app) == "sqlite":
        live, copy = sqlite3.connect(make_url(url).database), sqlite3.connect(target)
        live.backup(copy)
        copy.close()
        live.close()
    else:
        uri, env = backups._pg_connection(url)
        subprocess.run([backups.find_pg_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={uri}"],
                       env=env, check=True, capture_output=True)


def _altered_backup(app, target: Path, change: dict[str, tuple[str, str]]) -> None:
    """A backup of the live database with ``change`` applied, the live database left as it was."""
    alter, undo = change[_backend(app)]
    _execute(app, alter)
    try:
        _raw_backup(app, target)
    finally:
        _execute(app, undo)


def _schema_objects(app) -> set[str]:
    query = ("SELECT type || ' ' || name FROM sqlite_master" if _backend(app) == "sqlite" else
             "SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal "
             "UNION ALL SELECT 'view ' || viewname FROM pg_views WHERE schemaname = 'public' "
             "UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
             "UNION ALL SELECT 'schema ' || nspname FROM pg_namespace")
    with app.app_context(), db.engine.connect() as connection:
        return set(connection.execute(text(query)).scalars())


def _refused(app, backup_file: Path, *expected: str) -> str:
    """Restore is refused with ``expected`` in its message, and nothing in the database changed."""
    before, objects = snapshot(app), _schema_objects(app)
    result = cli_runner(app).invoke(["restore", str(backup_file), "--yes"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for phrase in expected:
        assert phrase in result.output, result.output
    assert snapshot(app) == before
    assert _schema_objects(app) == objects, "the live schema changed (or a scratch schema was left behind)"
    return result.output


def _audit_log_is_append_only(app) -> bool:
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM audit_log")), "an empty log proves nothing"
        db.session.remove()
        try:
            with db.engine.begin() as connection:
                connection.execute(text("UPDATE audit_log SET actor = 'someone else'"))
        except DatabaseError:
            return True
        finally:
            db.engine.dispose()
    return False


@pytest.mark.parametrize(("change", "difference"), [
    pytest.param(ADDED_TRIGGER, "thừa (extra) trigger record_code on responses", id="added-trigger"),
    pytest.param(ADDED_VIEW, "thừa (extra) view answered_codes", id="added-view"),
])
def test_a_backup_with_an_added_object_is_refused(backend_app, tmp_path, change, difference):
    app = backend_app
    first, second = issue_codes(app, count=2)
    altered = tmp_path / "altered.backup"
    _altered_backup(app, altered, change)
    assert answer(app, first) == 303  # the live data moves on after the backup

    output = _refused(app, altered, "restore failed", "differs from the one sipas's migrations create", difference)
    assert str(altered) in output
    assert not {"record_code", "answered_codes"} & {name.split()[-1] for name in _schema_objects(app)}
    assert answer(app, second) == 303  # the app still works on its own data


def test_a_backup_without_the_audit_logs_append_only_trigger_is_refused(backend_app, tmp_path):
    app = backend_app
    issue_codes(app)
    altered = tmp_path / "unlocked.backup"
    _altered_backup(app, altered, DROPPED_AUDIT_TRIGGER)
    missing = "audit_log_no_update" if _backend(app) == "sqlite" else "audit_log_append_only"

    _refused(app, altered, f"thiếu (missing) trigger {missing} on audit_log")
    assert _audit_log_is_append_only(app)

    # The live schema is still the migrations' own: an untouched backup of it restores.
    untouched = tmp_path / "untouched.backup"
    runner = cli_runner(app)
    assert runner.invoke(["backup", "-o", str(untouched)]).exit_code == 0
    restored = runner.invoke(["restore", str(untouched), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _audit_log_is_append_only(app)


BROKEN_VERSION_TABLE = {
    "no version_num column": (
        "ALTER TABLE alembic_version RENAME COLUMN version_num TO revision",
        "ALTER TABLE alembic_version RENAME COLUMN revision TO version_num",
        "has no version_num column"),
    "no alembic_version table": (
        "ALTER TABLE alembic_version RENAME TO schema_version",
        "ALTER TABLE schema_version RENAME TO alembic_version",
        "no table alembic_version"),
    "no row in alembic_version": (
        "CREATE TABLE saved_version AS SELECT version_num FROM alembic_version; DELETE FROM alembic_version",
        "INSERT INTO alembic_version SELECT version_num FROM saved_version; DROP TABLE saved_version",
        "has no schema version"),
}


@pytest.mark.parametrize("breakage", list(BROKEN_VERSION_TABLE))
def test_a_backup_with_a_broken_alembic_version_gets_a_clear_message(backend_app, tmp_path, breakage):
    app = backend_app
    alter, undo, message = BROKEN_VERSION_TABLE[breakage]
    broken = tmp_path / "broken.backup"
    _altered_backup(app, broken, {backend: (alter, undo) for backend in ("sqlite", "postgresql")})
    issue_codes(app)
    _refused(app, broken, "restore failed", str(broken), message)

    # sipas backup checks the same on a live database in that state: a message, not a traceback.
    _execute(app, alter)
    try:
        made = cli_runner(app).invoke(["backup", "-o", str(tmp_path / "again.backup")])
    finally:
        _execute(app, undo)
    assert made.exit_code == 1 and "Backup failed" in made.output and message in made.output, made.output


def test_the_first_differences_are_named_and_the_rest_counted(app, tmp_path):
    runner = cli_runner(app)
    original = tmp_path / "b.sqlite"
    assert runner.invoke(["backup", "-o", str(original)]).exit_code == 0
    altered = tmp_path / "altered.sqlite"
    shutil.copy(original, altered)
    connection = sqlite3.connect(altered)
    indexes = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")]
    assert len(indexes) >= 7
    for name in indexes[:7]:
        connection.execute(f"DROP INDEX {name}")
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.commit()
    connection.close()

    output = _refused(app, altered, "thiếu (missing) index", "và 3 khác biệt nữa (and 3 more)")
    assert output.count("thiếu (missing) index") == 5 and "notes" not in output


def test_a_changed_table_shows_where_it_differs(app, tmp_path):
    target = tmp_path / "b.sqlite"
    assert cli_runner(app).invoke(["backup", "-o", str(target)]).exit_code == 0
    connection = sqlite3.connect(target)
    connection.execute("ALTER TABLE responses ADD COLUMN code_hash VARCHAR(64)")
    connection.commit()
    connection.close()
    _refused(app, target, "khác (changed) table responses", "code_hash")


def test_a_backup_of_a_restored_database_restores(backend_app, tmp_path):
    """PostgreSQL prints some constraints differently after a restore; a backup of a restored
    database is still the migrations' schema."""
    runner = cli_runner(backend_app)
    issue_codes(backend_app)
    for generation in range(2):
        target = tmp_path / f"generation-{generation}.backup"
        assert runner.invoke(["backup", "-o", str(target)]).exit_code == 0
        restored = runner.invoke(["restore", str(target), "--yes"])
        assert restored.exit_code == 0, restored.output


def test_one_object_may_mix_the_two_accepted_forms_line_by_line():
    def table(a: str, b: str) -> str:
        return f"CREATE TABLE t (\n    a CHECK (a = ANY ({a})),\n    b CHECK (b = ANY ({b}))\n);"

    migrated = table("(ARRAY['x'])::text[]", "(ARRAY['y'])::text[]")
    restored = table("ARRAY[('x')::text]", "ARRAY[('y')::text]")
    mixed = table("ARRAY[('x')::text]", "(ARRAY['y'])::text[]")
    key = ("table", "t")
    assert backup_schema._schema_differences({key: migrated}, {key: mixed}, {key: restored}) == []
    assert backup_schema._schema_differences({key: migrated}, {key: mixed}) != []
    altered = mixed.replace("'y'", "'z'")
    [difference] = backup_schema._schema_differences({key: migrated}, {key: altered}, {key: restored})
    assert difference.startswith("khác (changed) table t") and "'z'" in difference


def test_whitespace_does_not_count_but_quoted_text_does():
    tokens = backup_schema._tokens
    assert tokens("CREATE  TABLE t (\n\ta  INTEGER )") == tokens("CREATE TABLE t (a INTEGER)")
    assert tokens("CHECK (kind IN ('a  b'))") != tokens("CHECK (kind IN ('a b'))")
    assert tokens("AS $$ BEGIN  RAISE; END $$") != tokens("AS $$ BEGIN RAISE; END $$")


def test_postgres_restore_checks_the_schema_as_a_role_that_cannot_create_databases(postgres_admin_url, make_app,
                                                                                   tmp_path):
    """The deployment guide's role owns its database and nothing more: the reference schema is
    built in a scratch schema of that database, not in a database of its own."""
    import psycopg

    role, name = f"sipas_owner_{secrets.token_hex(4)}", f"sipas_owned_{secrets.token_hex(4)}"
    admin = make_url(postgres_admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
        connection.execute(f"CREATE DATABASE {name} OWNER {role}")
    app = None
    try:
        url = make_url(postgres_admin_url).set(username=role, password=None, database=name)
        app = make_app(url.render_as_string(hide_password=False))
        with app.app_context():
            seed_org()
        issue_codes(app)
        runner = cli_runner(app)
        untouched, altered = tmp_path / "untouched.dump", tmp_path / "altered.dump"
        assert runner.invoke(["backup", "-o", str(untouched)]).exit_code == 0
        _altered_backup(app, altered, ADDED_TRIGGER)
        _refused(app, altered, "thừa (extra) trigger record_code on responses")
        restored = runner.invoke(["restore", str(untouched), "--yes"])
        assert restored.exit_code == 0, restored.output
    finally:
        if app is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"DROP ROLE IF EXISTS {role}")



@contextmanager
def _empty_database(backend: str, tmp_path: Path, request) -> Iterator[str]:
    """The URL of a new, empty database of ``backend`` (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'empty-{secrets.token_hex(4)}.sqlite'}"
        return
    import psycopg

    admin_url = make_url(request.getfixturevalue("postgres_admin_url"))
    admin = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"sipas_empty_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_backup_from_an_older_migration_is_compared_at_its_own_revision(backend, make_app, tmp_path, request):
    """The reference is built at the backup's revision, not at the newest one."""
    from alembic.script import ScriptDirectory

    from survey_app.commands.server import initialise
    from survey_app.database import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision("head")
    if not isinstance(head.down_revision, str):
        pytest.skip("only one migration: no older revision to restore")
    older = tmp_path / "older.backup"
    with _empty_database(backend, tmp_path, request) as source, _empty_database(backend, tmp_path, request) as target:
        backup_schema._migrate(source, head.down_revision)
        backups.backup(source, older)
        app = make_app(target, init=False)
        runner = cli_runner(app)
        restored = runner.invoke(["restore", str(older), "--yes"])
        assert restored.exit_code == 0, restored.output
        assert f"schema {head.down_revision}, current {head.revision}" in restored.output
        with app.app_context():
            initialise()
            db.session.remove()
            db.engine.dispose()
        current = tmp_path / "current.backup"
        assert runner.invoke(["backup", "-o", str(current)]).exit_code == 0
        again = runner.invoke(["restore", str(current), "--yes"])
        assert again.exit_code == 0, again.output
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
