"""The schema check of a restore: a backup whose schema differs in any way (a table, column,
index, constraint, trigger, view or function) from what the migrations create at its revision
is refused before anything is written.

A trigger added to a backup would run on every answer after the restore, and one dropped
would unlock the append-only audit log. The reference is built by running the migrations in
a scratch place (a temporary SQLite file, or scratch schemas of the configured PostgreSQL
database) and compared object by object, token by token.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from .backup_tools import BackupError, find_pg_tool, run_tool


def _migrate(url: str, revision: str, **engine_options: Any) -> None:
    """Run the migrations up to ``revision`` on the database at ``url``, as 'sipas init' does."""
    from ..database import alembic_config, configure_sqlite

    engine = create_engine(url, poolclass=NullPool, **engine_options)
    configure_sqlite(engine)
    try:
        with engine.begin() as connection:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


# Schema comparison ---------------------------------------------------------------------------

# Whitespace between tokens does not count; quoted text (literals, identifiers, function
# bodies) is compared exactly.
_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|(\$\w*\$).*?\1|\w+|\S""", re.S)
# Object kinds whose name is "table object".
_ON_TABLE = {"trigger", "constraint", "fk constraint", "check constraint", "default", "rule", "policy"}
_SHOWN_DIFFERENCES = 5


def _tokens(sql: str | None) -> tuple[str, ...]:
    return tuple(match.group(0) for match in _TOKEN.finditer(sql or ""))


Objects = dict[tuple[str, ...], str]  # (kind, name[, table]) -> the object's SQL


def _add(objects: Objects, key: tuple[str, ...], sql: str) -> None:
    """A second object under a name already taken is kept apart (it must not hide the first)."""
    unique, seen = key, 1
    while unique in objects:
        seen += 1
        unique = (key[0], f"{key[1]} #{seen}", *key[2:])
    objects[unique] = sql


def _describe(kind: str, name: str, table: str = "") -> str:
    kind = kind.lower()
    if kind in _ON_TABLE and not table and " " in name:
        table, name = name.split(" ", 1)
    return f"{kind} {name} on {table}" if table and table != name else f"{kind} {name}".strip()


def _where_it_differs(found: str, forms: list[str]) -> str:
    """Around the first words of ``found`` that none of ``forms`` has there (within the first
    line that differs, when the two have as many lines)."""
    lines = found.splitlines()
    shaped = [form.splitlines() for form in forms if len(form.splitlines()) == len(lines)]
    for i, line in enumerate(lines if shaped else []):
        if not any(_tokens(line) == _tokens(form[i]) for form in shaped):
            return _first_difference(_tokens(line), _tokens(shaped[0][i]))
    return _first_difference(_tokens(found), _tokens(forms[0]))


def _first_difference(theirs: tuple[str, ...], ours: tuple[str, ...]) -> str:
    at = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs)))

    def excerpt(tokens: tuple[str, ...]) -> str:
        text = " ".join(tokens[max(at - 2, 0):at + 6])
        return f"'{text[:80]}'" if text else "(nothing)"

    return f"{excerpt(theirs)} thay vì (instead of) {excerpt(ours)}"


def _same(found: str, *forms: str) -> bool:
    """Whether ``found`` is one of ``forms``, or (same lines, each one of theirs) a mix of them:
    one table can hold a constraint from a restore beside one added by a later migration."""
    tokens = _tokens(found)
    if any(tokens == _tokens(form) for form in forms):
        return True
    lines = found.splitlines()
    alternatives = [form.splitlines() for form in forms if len(form.splitlines()) == len(lines)]
    return len(alternatives) > 1 and all(
        any(_tokens(line) == _tokens(form[i]) for form in alternatives) for i, line in enumerate(lines))


def _schema_differences(expected: Mapping[tuple[str, ...], str], found: Mapping[tuple[str, ...], str],
                        also: Mapping[tuple[str, ...], str] | None = None) -> list[str]:
    """What ``found`` has that ``expected`` lacks, lacks, or has otherwise, in readable lines.

    A definition in ``also`` (the same objects written another way) is accepted too."""
    differences = []
    for key, sql in expected.items():
        if key not in found:
            differences.append(f"thiếu (missing) {_describe(*key)}")
        else:
            forms = [sql, *([also[key]] if also and key in also else [])]
            if not _same(found[key], *forms):
                differences.append(f"khác (changed) {_describe(*key)}: {_where_it_differs(found[key], forms)}")
    differences += [f"thừa (extra) {_describe(*key)}" for key in found if key not in expected]
    return differences


def _refuse_other_schema(differences: list[str], source: str, revision: str) -> None:
    if not differences:
        return
    shown = "; ".join(differences[:_SHOWN_DIFFERENCES])
    more = len(differences) - _SHOWN_DIFFERENCES
    if more > 0:
        shown += f"; và {more} khác biệt nữa (and {more} more)"
    raise BackupError(
        f"lược đồ của {source} khác với lược đồ mà các migration của sipas tạo ra ở phiên bản {revision}, "
        "nên bản sao lưu này không được khôi phục và cơ sở dữ liệu không bị thay đổi. Hãy dùng một bản sao lưu "
        f"chưa bị sửa đổi (the schema of {source} differs from the one sipas's migrations create at schema "
        f"version {revision}, so it was not restored and the database was not changed; use a backup that was "
        f"not altered). Khác biệt (differences): {shown}."
    )


# SQLite --------------------------------------------------------------------------------------

def _sqlite_objects(connection: sqlite3.Connection) -> Objects:
    """Every schema object's definition; only the planner's statistics (ANALYZE) are left out."""
    objects: Objects = {}
    for kind, name, table, sql in connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"):
        if not (kind == "table" and re.fullmatch(r"sqlite_stat\d", name)):
            _add(objects, (kind, name, table), sql or "")
    return objects


@lru_cache(maxsize=4)
def _sqlite_reference(revision: str) -> Objects:
    """The schema the migrations create at ``revision``, in a scratch file."""
    with tempfile.TemporaryDirectory(prefix="sipas-schema-") as folder:
        path = Path(folder) / "reference.sqlite"
        _migrate(f"sqlite:///{path}", revision)
        connection = sqlite3.connect(path)
        try:
            return _sqlite_objects(connection)
        finally:
            connection.close()


def check_sqlite_schema(connection: sqlite3.Connection, source: str, revision: str) -> None:
    """BackupError unless the SQLite database on ``connection`` has the reference schema."""
    _refuse_other_schema(_schema_differences(_sqlite_reference(revision), _sqlite_objects(connection)),
                         source, revision)


# PostgreSQL ----------------------------------------------------------------------------------

# pg_restore prints these itself, between objects, whenever they change; the values are the defaults.
_PG_NOISE = re.compile(r"^(\\(un)?restrict \S+|-- Dumped (from|by) .*|--|-- PostgreSQL database dump( complete)?"
                       r"|SET default_tablespace = '';|SET default_table_access_method = heap;)$")
_PG_HEADER = re.compile(r"^-- Name: (.*); Type: (.*); Schema: (.*); Owner: .*$", re.M)


def _pg_schema(archive: Path, env: dict[str, str]) -> str:
    """The SQL that pg_restore runs to create an archive's schema, without its own noise."""
    text = run_tool([find_pg_tool("pg_restore"), "--schema-only", "--no-owner", "--no-privileges", "--file=-",
                 str(archive)], env, f"reading the schema of {archive}")
    return "\n".join(line for line in text.splitlines() if not _PG_NOISE.match(line))


def _pg_home(schema: str) -> str:
    """The schema that holds the sipas tables (public unless the database says otherwise)."""
    found = re.search(r"^-- Name: alembic_version; Type: TABLE; Schema: (.*); Owner: ", schema, re.M)
    return found.group(1) if found else "public"


def _pg_objects(schema: str, home: str) -> Objects:
    """Every object (by pg_restore's table of contents) and its SQL; names outside ``home``
    carry their schema."""
    parts = _PG_HEADER.split(schema)
    objects: Objects = {("preamble", ""): parts[0]}
    for name, kind, where, sql in zip(parts[1::4], parts[2::4], parts[3::4], parts[4::4], strict=True):
        if (kind, name) != ("SCHEMA", home):  # the schema is the database's, not the backup's
            _add(objects, (kind.lower(), name if where in ("-", home) else f"{where}.{name}"), sql)
    return objects


def _quoted(identifier: str) -> str:
    return identifier if re.fullmatch(r"[a-z_][a-z0-9_]*", identifier) else '"' + identifier.replace('"', '""') + '"'


def _pg_reference(url: str, revision: str, home: str, uri: str, env: dict[str, str]) -> tuple[Objects, Objects]:
    """The schema the migrations create at ``revision``, as pg_restore would create it: once as
    migrated, once as restored from a dump of that.

    PostgreSQL prints some expressions differently once they have been through a dump and a
    restore (``kind IN ('a', 'b')`` is stored as ``= ANY ((ARRAY[...])::text[])`` by the
    migration, as ``= ANY (ARRAY[(...)::text, ...])`` after a restore; a second round changes
    nothing), so a backup of a database that was once restored has the second form.

    Both are built in scratch schemas of the configured database (the sipas role owns the
    database, so it may create schemas; it need not be allowed to create databases), dumped
    and dropped again; the app's own tables are not touched. The scratch names are replaced by
    ``home`` in the descriptions."""
    migrated, restored = (f"sipas_restore_check_{secrets.token_hex(4)}" for _ in range(2))
    admin = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {migrated}")
    except SQLAlchemyError as exc:
        admin.dispose()
        raise BackupError(
            "không tạo được lược đồ tạm để kiểm tra bản sao lưu; vai trò của sipas cần quyền CREATE trên cơ sở dữ "
            "liệu (could not create a scratch schema to check the backup; the sipas role needs the CREATE "
            f"privilege on the database): {_reason(exc)}"
        ) from None
    try:
        with tempfile.TemporaryDirectory(prefix="sipas-schema-") as folder:
            def dumped(scratch: str) -> str:
                archive = Path(folder) / f"{scratch}.dump"
                run_tool([find_pg_tool("pg_dump"), "--format=custom", "--schema-only", f"--schema={scratch}",
                      f"--file={archive}", f"--dbname={uri}"], env, "pg_dump of the reference schema")
                return _pg_schema(archive, env)

            try:
                _migrate(url, revision, connect_args={"options": f"-c search_path={migrated}"})
                first = dumped(migrated)
                # Our own migrations' SQL (not the backup's), replayed as pg_restore would.
                with admin.connect() as connection, connection.begin():
                    # The driver's own cursor: several statements, and no placeholders in them.
                    connection.connection.cursor().execute(first.replace(migrated, restored))
            except (SQLAlchemyError, admin.dialect.loaded_dbapi.Error) as exc:
                raise BackupError(
                    "không dựng được lược đồ tham chiếu để so sánh; chưa thay đổi gì (could not build the "
                    f"reference schema to compare with; nothing was changed): {_reason(exc)}"
                ) from None
            second = dumped(restored)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {migrated}, {restored} CASCADE")
        admin.dispose()

    def described(schema: str, scratch: str) -> Objects:
        schema = schema.replace(f"Schema: {scratch};", f"Schema: {home};").replace(f"Name: {scratch};",
                                                                                  f"Name: {home};")
        return _pg_objects(schema.replace(f"{scratch}.", f"{_quoted(home)}."), home)

    return described(first, migrated), described(second, restored)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def check_pg_schema(url: str, backup_file: Path, revision: str, uri: str, env: dict[str, str]) -> None:
    """BackupError unless the archive ``backup_file`` has the reference schema (built in ``url``)."""
    schema = _pg_schema(backup_file, env)
    home = _pg_home(schema)
    found = _pg_objects(schema, home)
    migrated, restored = _pg_reference(url, revision, home, uri, env)
    _refuse_other_schema(_schema_differences(migrated, found, restored), str(backup_file), revision)
