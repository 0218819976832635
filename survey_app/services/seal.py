"""Rewrite the stored rows in the order of their keys, so that where a row lies on disk says
nothing about when it was written.

Inside a database page the newest rows lie apart from the older ones (SQLite allocates a new
cell below the others; PostgreSQL appends new row versions, so ``ctid`` follows time). Ranked
that way, the newest answers could be paired with the newest burned codes. The answer,
comment and code tables are keyed by random ids or by issue order, so rewriting them in key
order leaves only what the schema keeps by design (unit, procedure, day). It holds the write
lock while it runs (on SQLite a VACUUM of the whole file, on PostgreSQL a CLUSTER of each
table), so the server runs it itself once a night, in the hour ``SIPAS_SEAL_HOUR`` (local
time, default 3): one process of one host does it (a lock), once a day (the audit log says
when it last ran). ``sipas seal`` runs it at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import delete, select, text

from ..database import seal_wal
from ..extensions import db
from ..models import AnswerNonce, AuditEntry
from . import audit, cell_store
from .background import repeat
from .timekeeping import today, zone

ACTION = "database.seal"
_LOCK_KEY = zlib.crc32(b"sipas seal")  # PostgreSQL advisory lock: one host at a time

# PostgreSQL: each table with the index whose order carries no time.
# answer_counts: its newest row versions are the cells the newest response counted in.
_CLUSTER = (("responses", "pk_responses"), ("answers", "pk_answers"), ("comments", "pk_comments"),
            ("survey_codes", "pk_survey_codes"), ("answer_counts", "pk_answer_counts"),
            ("cell_tallies", "pk_cell_tallies"), ("feedback_cases", "pk_feedback_cases"),
            ("answer_nonces", "pk_answer_nonces"))


@dataclass(frozen=True)
class SealResult:
    backend: str
    tables: tuple[str, ...]


def rewrite_in_key_order() -> SealResult:
    """SQLite: VACUUM (every page rebuilt, rows in key order, free space dropped), then the
    write-ahead log emptied. PostgreSQL: CLUSTER each table on its primary key, then ANALYZE."""
    engine = db.engine
    db.session.remove()  # VACUUM and CLUSTER run outside any transaction
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("VACUUM")
            tables: tuple[str, ...] = ("*",)
        else:
            for table, index in _CLUSTER:
                connection.execute(text(f"CLUSTER {table} USING {index}"))
            connection.execute(text("ANALYZE " + ", ".join(table for table, _ in _CLUSTER)))
            tables = tuple(table for table, _ in _CLUSTER)
    seal_wal()
    return SealResult(engine.dialect.name, tables)


def seal(actor: str) -> tuple[SealResult, AuditEntry]:
    """The night's work: the cell tallies brought up to yesterday (local), then every table
    rewritten in key order, and an audit entry saying so (not committed). Poster answers'
    one-time values older than two days are forgotten first (a resend comes within minutes)."""
    db.session.execute(delete(AnswerNonce).where(AnswerNonce.seen_on < today() - dt.timedelta(days=2)))
    db.session.commit()
    refreshed = cell_store.refresh_all(db.engine, today() - dt.timedelta(days=1))
    result = rewrite_in_key_order()
    rebuilt = sum(len(r.halves) for r in refreshed)
    return result, audit.record(actor, ACTION, None, backend=result.backend, tally_halves=rebuilt)


@contextlib.contextmanager
def _only_one() -> Iterator[bool]:
    """True for the one process (of every host) that may seal now."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            got = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY}))
            try:
                yield got
            finally:
                if got:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
        return
    path = Path(current_app.config["SIPAS_DATA_DIR"]) / "seal.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _sealed_since(moment: dt.datetime) -> bool:
    return db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == ACTION, AuditEntry.at >= moment)
                             .limit(1)) is not None


def seal_if_due(now: dt.datetime, *, actor: str = "server") -> bool:
    """Seal when ``now`` (aware) falls in the seal hour and nobody sealed since that hour
    began; True when this call sealed."""
    hour = current_app.config["SIPAS_SEAL_HOUR"]
    local = now.astimezone(zone())
    if hour < 0 or local.hour != hour:
        return False
    began = local.replace(minute=0, second=0, microsecond=0).astimezone(dt.UTC).replace(tzinfo=None)
    if _sealed_since(began):
        return False
    with _only_one() as mine:
        if not mine or _sealed_since(began):
            db.session.remove()
            return False
        _result, entry = seal(actor)
        entry.at = now.astimezone(dt.UTC).replace(tzinfo=None)  # the clock the hour was judged by
        db.session.commit()
    return True


def start_nightly(app: Flask, stop: threading.Event | None = None, *, every: float = 300,
                  clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> threading.Thread | None:
    """Check every ``every`` seconds whether the night's seal is due (a daemon thread of this
    process; None when SIPAS_SEAL_HOUR is negative)."""
    if app.config["SIPAS_SEAL_HOUR"] < 0:
        return None
    return repeat(app, every, lambda: seal_if_due(clock()), name="sipas-seal", stop=stop)
