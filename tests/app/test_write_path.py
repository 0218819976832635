"""The mechanisms under the survey's write: the SQLite write lock across processes, group
commit, and raw statements that still behave like SQLAlchemy's."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import Integer, String, bindparam, column, exc, insert, select, table

from survey_app import group_commit, rawsql
from survey_app.extensions import db
from survey_app.sqlite_lock import lock_path, write_lock

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""

NOTES = table("write_path_notes", column("id", Integer), column("text", String))
INSERT_NOTE = rawsql.Statement(insert(NOTES), column_keys=("id", "text"))
NOTES_IN_ORDER = rawsql.Statement(select(NOTES.c.id, NOTES.c.text).order_by(NOTES.c.id))


@pytest.fixture
def notes(backend_app):
    with backend_app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE write_path_notes (id INTEGER PRIMARY KEY, text VARCHAR(20))")
    return backend_app


def _notes(app) -> list[tuple[int, str]]:
    with app.app_context():
        return rawsql.connection().rows(NOTES_IN_ORDER)


def test_the_sqlite_write_lock_waits_for_another_process(app):
    with app.app_context():
        path = lock_path(db.engine)
        assert path is not None and path.name == "sipas.sqlite.writelock"
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), "0.6"], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            started = time.monotonic()
            with write_lock(db.engine):
                waited = time.monotonic() - started
        finally:
            holder.wait(timeout=10)
    assert 0.4 < waited < 5, "the lock is the other process's for 0.6 s and is ours as soon as it lets go"


def test_threads_of_one_process_take_the_sqlite_write_lock_in_turn(app):
    inside, overlaps = [0], []

    def writer() -> None:
        with app.app_context(), write_lock(db.engine):
            inside[0] += 1
            overlaps.append(inside[0])
            time.sleep(0.01)
            inside[0] -= 1

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [1] * 8


def test_no_write_lock_file_for_postgresql_or_memory(postgres_app, make_app):
    with postgres_app.app_context():
        assert lock_path(db.engine) is None
    with make_app("sqlite://", init=False).app_context():
        assert lock_path(db.engine) is None


def test_group_commit_writes_concurrent_items_together_and_returns_each_its_result(notes):
    calls: list[int] = []

    def writer(connection: rawsql.Connection, items: list[int]) -> list[str]:
        calls.append(len(items))
        time.sleep(0.02)  # long enough for the other threads to queue
        connection.insert_rows(INSERT_NOTE, [{"id": item, "text": f"n{item}"} for item in items])
        return [f"stored {item}" for item in items]

    results: dict[int, str] = {}

    def submit(item: int) -> None:
        with notes.app_context():
            results[item] = group_commit.write(writer, item)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: f"stored {n}" for n in range(12)}
    assert _notes(notes) == [(n, f"n{n}") for n in range(12)]
    if notes.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert sum(calls) == 12 and len(calls) < 12, calls
    else:
        assert calls == [1] * 12  # PostgreSQL: each alone, concurrently


def test_a_failing_item_fails_alone_and_the_rest_of_its_batch_is_stored(notes):
    def writer(connection: rawsql.Connection, items: list[int]) -> list[int]:
        time.sleep(0.02)
        # 3 collides with the row stored first: an IntegrityError for its caller only.
        connection.insert_rows(INSERT_NOTE, [{"id": 0 if item == 3 else item, "text": "x"} for item in items])
        return items

    with notes.app_context():
        group_commit.write(writer, 0)
    errors: dict[int, BaseException] = {}

    def submit(item: int) -> None:
        with notes.app_context():
            try:
                group_commit.write(writer, item)
            except exc.IntegrityError as error:
                errors[item] = error

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(errors) == {3}
    assert [row[0] for row in _notes(notes)] == [0, 1, 2, 4, 5, 6]


def test_raw_statements_raise_sqlalchemy_errors_without_their_parameters(notes):
    secret = "0912345678"
    with notes.app_context():
        connection = rawsql.connection()
        connection.insert_rows(INSERT_NOTE, [{"id": 1, "text": "first"}])
        with pytest.raises(exc.IntegrityError) as raised:
            connection.insert_rows(INSERT_NOTE, [{"id": 1, "text": secret}])
        assert secret not in str(raised.value)
        assert connection.rows(NOTES_IN_ORDER) == [(1, "first")]  # the connection is still usable
        with pytest.raises(exc.DBAPIError):
            connection.rows(rawsql.Statement(select(column("nope")).select_from(NOTES)))


def test_a_multi_row_insert_holds_more_rows_than_one_statement_takes(notes):
    with notes.app_context():
        connection = rawsql.connection()
        with connection.transaction():
            connection.insert_rows(INSERT_NOTE, [{"id": n, "text": str(n)} for n in range(1234)])
    assert len(_notes(notes)) == 1234


def test_a_postgresql_connection_goes_back_to_the_pool_as_it_came(postgres_app):
    """Reads run in autocommit (no BEGIN/ROLLBACK round trips); the ORM must get a
    transactional connection back from the pool all the same."""
    statement = rawsql.Statement(select(bindparam("x", type_=Integer)))
    with postgres_app.app_context():
        connection = rawsql.connection()
        dbapi_connection = connection._fairy.dbapi_connection
        assert connection.rows(statement, x=1) == [(1,)]
        assert dbapi_connection.autocommit is True
    assert dbapi_connection.autocommit is False
