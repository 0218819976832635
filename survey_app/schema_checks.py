"""Changing a CHECK constraint of a large table in a migration, without rebuilding it.

PostgreSQL drops the constraint and adds the new one. SQLite cannot alter a constraint, and
rebuilding a table (``responses`` holds millions of rows, triggers and the answers that
cascade from it) is what a migration must not risk; SQLite's documented way for a change
that no stored row can violate and that leaves the file format alone
(https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes",
and ``PRAGMA writable_schema``) is to rewrite the table's SQL in ``sqlite_schema``, bump the
schema version and check the file's integrity. Only widening (every stored row already
satisfies the new constraint) is done this way; narrowing must check the rows first.
"""

from __future__ import annotations

from alembic import op


def replace_check(table: str, name: str, old: str, new: str) -> None:
    """Replace the CHECK ``old`` (SQL text as the table's DDL writes it) of ``table`` by ``new``;
    ``name`` is the constraint's full name (PostgreSQL)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(op.f(name), table, new)
        return
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).scalar_one()
    if old not in sql:
        raise RuntimeError(f"{table}: expected the constraint {old!r} in its SQL, found {sql!r}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                         (sql.replace(old, new), table))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"{table}: the file's integrity check failed after changing {name}: {problems}")
