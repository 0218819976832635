"""Rewrite the stored rows in the order of their keys, so that where a row lies on disk says
nothing about when it was written.

Inside a database page the newest rows lie apart from the older ones (SQLite allocates a new
cell below the others; PostgreSQL appends new row versions, so ``ctid`` follows time). Ranked
that way, the newest answers could be paired with the newest burned codes. The answer,
comment and code tables are keyed by random ids or by issue order, so rewriting them in key
order leaves only what the schema keeps by design (unit, procedure, day). ``sipas seal`` runs
it; run it nightly from cron (it holds the write lock for its duration: on SQLite a VACUUM of
the whole file, on PostgreSQL a CLUSTER of each table).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from ..database import seal_wal
from ..extensions import db

# PostgreSQL: each table with the index whose order carries no time.
_CLUSTER = (("responses", "pk_responses"), ("answers", "pk_answers"), ("comments", "pk_comments"),
            ("survey_codes", "pk_survey_codes"))


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
