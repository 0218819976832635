"""Backups, restores and comment retention.

SQLite is copied with SQLite's online backup API (a consistent snapshot while the server
keeps answering) and restored with the same API into the configured database, in one write
transaction: other processes wait for the lock and then see the restored data, and a failure
half-way leaves the old data in place. PostgreSQL is dumped with ``pg_dump -Fc`` and restored
with ``pg_restore --clean --if-exists --single-transaction`` (all or nothing).

Every backup is checked before it is trusted: the file's kind must match the configured
backend, it must hold the sipas tables at a migration this version of sipas knows, and a
SQLite file must pass ``PRAGMA integrity_check``. A restore also refuses a backup whose schema
differs in anything (a table, column, index, constraint, trigger, view or function) from the
schema the migrations create at the backup's revision: a trigger added to a backup would run
on every answer after the restore, and one dropped would unlock the append-only audit log.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..extensions import db
from ..models import Comment, utcnow
from . import audit
from .timekeeping import local_date

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_MAGIC = {SQLITE: b"SQLite format 3\x00", POSTGRESQL: b"PGDMP"}
_NAMES = {SQLITE: "SQLite", POSTGRESQL: "PostgreSQL"}
# Tables without which a file is not a sipas database.
SIPAS_TABLES = frozenset({
    "alembic_version", "units", "procedures", "questionnaire_versions", "users", "survey_codes",
    "responses", "answers", "comments", "audit_log",
})
# pg_restore waits this long for the app's locks before it gives up (and changes nothing).
PG_LOCK_TIMEOUT = "60s"

SECRET_KEY_REMINDER = (
    "Keep the secret key with this backup (DATA_DIR/secret_key, or SIPAS_SECRET_KEY): codes are "
    "stored hashed and sealed with it, so without the same key printed codes are not found and "
    "batches cannot be reprinted."
)


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    backend: str
    size: int


@dataclass(frozen=True)
class RestoreResult:
    backend: str
    revision: str
    head: str

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head


@dataclass(frozen=True)
class PurgeResult:
    cutoff: dt.date
    count: int
    dry_run: bool


def backend_of(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in _NAMES:
        raise BackupError(f"sipas backs up SQLite and PostgreSQL databases, not '{name}'.")
    return name


def kind_of_file(path: Path) -> str | None:
    """``sqlite`` or ``postgresql`` from the file's first bytes; None for anything else."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    for kind, magic in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"the SQLite database '{database or ':memory:'}' is not a file that can be backed up.")
    return Path(database).expanduser().resolve()


def _scripts() -> ScriptDirectory:
    from ..database import MIGRATIONS_DIR

    return ScriptDirectory(str(MIGRATIONS_DIR))


def _head() -> str:
    return _scripts().get_current_head() or ""


def _check_revision(revision: str | None, source: str) -> str:
    """The backup's migration, which must be one this version of sipas knows."""
    if not revision:
        raise BackupError(f"{source} is not a sipas backup: it has no schema version (alembic_version).")
    try:
        _scripts().get_revision(revision)
    except CommandError:
        raise BackupError(
            f"{source} was made by a newer sipas (schema version {revision}, unknown here): "
            "restore it with that version of sipas or newer."
        ) from None
    return revision


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
    """The first line (or else the first words) of ``found`` that none of ``forms`` has there."""
    lines = found.splitlines()
    shaped = [form.splitlines() for form in forms if len(form.splitlines()) == len(lines)]
    for i, line in enumerate(lines if shaped else []):
        if not any(_tokens(line) == _tokens(form[i]) for form in shaped):
            return f"'{line.strip()[:80]}' thay vì (instead of) '{shaped[0][i].strip()[:80]}'"
    theirs, ours = _tokens(found), _tokens(forms[0])
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


def _temporary_beside(path: Path, suffix: str) -> Path:
    """A new empty file beside ``path``, readable by its owner only whatever the umask: a
    backup holds comments and password hashes (os.replace keeps the mode)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(temporary, 0o600)
    return temporary


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# SQLite --------------------------------------------------------------------------------------

def _check_sqlite(connection: sqlite3.Connection, source: str) -> str:
    """Integrity and the sipas tables; returns the schema revision."""
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a readable SQLite database ({exc}).") from None
    if problems != ["ok"]:
        raise BackupError(f"{source} is damaged (integrity check: {'; '.join(problems[:3])}); use another backup.")
    missing = SIPAS_TABLES - tables
    if missing:
        raise BackupError(f"{source} is not a sipas database (no table {', '.join(sorted(missing))}).")
    try:
        versions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version LIMIT 2")]
    except sqlite3.DatabaseError:
        raise _broken_version_table(source) from None
    return _check_revision(_one_version(versions, source), source)


def _broken_version_table(source: str) -> BackupError:
    return BackupError(
        f"bảng alembic_version của {source} không có cột version_num, nên không biết phiên bản lược đồ; đây "
        "không phải bản sao lưu nguyên vẹn của sipas, hãy dùng bản khác (the alembic_version table of "
        f"{source} has no version_num column, so its schema version is unknown; use another backup)."
    )


def _one_version(versions: list[Any], source: str) -> str | None:
    if len(versions) > 1:
        raise BackupError(
            f"bảng alembic_version của {source} có nhiều phiên bản lược đồ; hãy dùng bản sao lưu khác (the "
            f"alembic_version table of {source} holds several schema versions; use another backup)."
        )
    return str(versions[0]) if versions and versions[0] is not None else None


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


def _check_sqlite_schema(connection: sqlite3.Connection, source: str, revision: str) -> None:
    _refuse_other_schema(_schema_differences(_sqlite_reference(revision), _sqlite_objects(connection)),
                         source, revision)


def _sqlite_backup(url: str, output: Path) -> None:
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupError(f"there is no database at {source} yet: nothing to back up ('sipas init' creates it).")
    temporary = _temporary_beside(output, ".tmp")
    try:
        live = sqlite3.connect(source, timeout=30)
        copy = sqlite3.connect(temporary)
        try:
            # One step: a consistent snapshot; in WAL mode writers are not blocked meanwhile.
            live.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check_sqlite(copy, f"the copy of {source}")
        finally:
            copy.close()
            live.close()
        _fsync(temporary)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)


def _sqlite_restore(url: str, backup_file: Path) -> str:
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Check a private copy, so the file cannot change between the check and the restore.
    staged = _temporary_beside(target, ".restore")
    try:
        copy = sqlite3.connect(staged)
        try:
            source = sqlite3.connect(f"{backup_file.as_uri()}?mode=ro", uri=True)
            try:
                source.backup(copy)
            finally:
                source.close()
        except sqlite3.DatabaseError as exc:
            copy.close()
            raise BackupError(f"{backup_file} is not a readable SQLite database ({exc}).") from None
        try:
            revision = _check_sqlite(copy, str(backup_file))
            _check_sqlite_schema(copy, str(backup_file), revision)
            live = sqlite3.connect(target, timeout=60)
            try:
                # The whole copy is one write transaction on the live database: atomic, and
                # safe while app processes have it open (they wait, then see the new data).
                copy.backup(live)
                live.execute("PRAGMA journal_mode=WAL")
                problems = [row[0] for row in live.execute("PRAGMA quick_check")]
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"could not write {target} ({exc}); it was left as it was. Stop the "
                                  "sipas servers and run the restore again.") from None
            finally:
                live.close()
        finally:
            copy.close()
        if problems != ["ok"]:
            raise BackupError(f"the restored database failed its check ({'; '.join(problems[:3])}).")
        return revision
    finally:
        staged.unlink(missing_ok=True)


# PostgreSQL ----------------------------------------------------------------------------------

def _version_key(path: str) -> tuple[int, ...]:
    match = re.search(r"/postgresql/([\d.]+)/bin/", path)
    return tuple(int(part) for part in match.group(1).split(".")) if match else (0,)


def find_pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on PATH, else the newest in /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key, reverse=True)
    if candidates:
        return candidates[0]
    raise BackupError(
        f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin: install the PostgreSQL client "
        "of the server's version (Debian: apt-get install postgresql-client)."
    )


def _pg_connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment that carries the password (so it
    never shows in the process list)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{what} could not start: {exc}") from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {' | '.join(message[-5:]) or f'exit status {done.returncode}'}")
    return done.stdout


def _check_pg_archive(backup_file: Path, env: dict[str, str]) -> str:
    """The archive's table of contents holds the sipas tables; returns its schema revision."""
    restore = find_pg_tool("pg_restore")
    listing = _run([restore, "--list", str(backup_file)], env, f"reading {backup_file}")
    tables = set(re.findall(r"\bTABLE \S+ (\w+)", listing))
    missing = SIPAS_TABLES - tables
    if missing:
        raise BackupError(f"{backup_file} is not a sipas backup (no table {', '.join(sorted(missing))}).")
    data = _run([restore, "--data-only", "--table=alembic_version", "--file=-", str(backup_file)], env,
                f"reading the schema version of {backup_file}")
    copied = re.search(r"^COPY \S*alembic_version \((.*?)\) FROM stdin;\n(.*?)^\\\.", data, re.M | re.S)
    if copied is None:
        return _check_revision(None, str(backup_file))
    columns = [column.strip().strip('"') for column in copied.group(1).split(",")]
    if "version_num" not in columns:
        raise _broken_version_table(str(backup_file))
    at = columns.index("version_num")
    versions = [line.split("\t")[at] for line in copied.group(2).splitlines() if line]
    return _check_revision(_one_version(versions, str(backup_file)), str(backup_file))


# pg_restore prints these itself, between objects, whenever they change; the values are the defaults.
_PG_NOISE = re.compile(r"^(\\(un)?restrict \S+|-- Dumped (from|by) .*|--|-- PostgreSQL database dump( complete)?"
                       r"|SET default_tablespace = '';|SET default_table_access_method = heap;)$")
_PG_HEADER = re.compile(r"^-- Name: (.*); Type: (.*); Schema: (.*); Owner: .*$", re.M)


def _pg_schema(archive: Path, env: dict[str, str]) -> str:
    """The SQL that pg_restore runs to create an archive's schema, without its own noise."""
    text = _run([find_pg_tool("pg_restore"), "--schema-only", "--no-owner", "--no-privileges", "--file=-",
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
                _run([find_pg_tool("pg_dump"), "--format=custom", "--schema-only", f"--schema={scratch}",
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


def _check_pg_schema(url: str, backup_file: Path, revision: str, uri: str, env: dict[str, str]) -> None:
    schema = _pg_schema(backup_file, env)
    home = _pg_home(schema)
    found = _pg_objects(schema, home)
    migrated, restored = _pg_reference(url, revision, home, uri, env)
    _refuse_other_schema(_schema_differences(migrated, found, restored), str(backup_file), revision)


def _pg_backup(url: str, output: Path) -> None:
    uri, env = _pg_connection(url)
    temporary = _temporary_beside(output, ".tmp")
    try:
        _run([find_pg_tool("pg_dump"), "--format=custom", f"--file={temporary}", f"--dbname={uri}"], env, "pg_dump")
        _check_pg_archive(temporary, env)
        _fsync(temporary)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)


def _pg_restore(url: str, backup_file: Path) -> str:
    uri, env = _pg_connection(url)
    revision = _check_pg_archive(backup_file, env)
    _check_pg_schema(url, backup_file, revision, uri, env)
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout={PG_LOCK_TIMEOUT}".strip()
    try:
        _run([find_pg_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
              "--no-owner", "--no-privileges", f"--dbname={uri}", str(backup_file)], env, "pg_restore")
    except BackupError as exc:
        raise BackupError(f"{exc}\nNothing was changed (the restore runs in one transaction). If it waited for "
                          "a lock, stop the sipas servers and run the restore again.") from None
    return revision


# The commands' entry points ------------------------------------------------------------------

def backup(url: str, output: Path) -> BackupResult:
    """Write a checked backup of the database at ``url`` to ``output`` (replaced atomically)."""
    backend = backend_of(url)
    output = output.expanduser().resolve()
    if not output.parent.is_dir():
        raise BackupError(f"the folder {output.parent} does not exist.")
    if backend == SQLITE:
        if output == _sqlite_path(url):
            raise BackupError("the backup file cannot be the database itself: choose another file.")
        _sqlite_backup(url, output)
    else:
        _pg_backup(url, output)
    return BackupResult(path=output, backend=backend, size=output.stat().st_size)


def check_matches(url: str, backup_file: Path) -> str:
    """The backend of ``backup_file``; BackupError unless it matches the configured one."""
    if not backup_file.is_file():
        raise BackupError(f"{backup_file} is not a file.")
    backend, kind = backend_of(url), kind_of_file(backup_file)
    if kind is None:
        raise BackupError(f"{backup_file} is not a sipas backup (neither a SQLite file nor a pg_dump -Fc archive).")
    if kind != backend:
        raise BackupError(
            f"{backup_file} is a {_NAMES[kind]} backup, but sipas is configured for {_NAMES[backend]} "
            f"({make_url(url).render_as_string(hide_password=True)}). Restore it into a {_NAMES[kind]} database "
            f"(set SIPAS_DATABASE_URL), then move the data with 'sipas export' if needed."
        )
    return kind


def restore(url: str, backup_file: Path) -> RestoreResult:
    """Replace everything in the database at ``url`` with ``backup_file`` (checked first)."""
    backup_file = backup_file.expanduser().resolve()
    backend = check_matches(url, backup_file)
    if backend == SQLITE:
        if backup_file == _sqlite_path(url):
            raise BackupError("that file is the configured database itself: nothing to restore.")
        revision = _sqlite_restore(url, backup_file)
    else:
        revision = _pg_restore(url, backup_file)
    return RestoreResult(backend=backend, revision=revision, head=_head())


# Retention -----------------------------------------------------------------------------------

def purge_comments(older_than_days: int, *, actor: str, dry_run: bool = False,
                   today: dt.date | None = None) -> PurgeResult:
    """Delete comments submitted more than ``older_than_days`` days before today (local
    calendar). Responses and answers are not touched: the numbers stay. Audited unless
    ``dry_run``, which only counts."""
    if older_than_days < 0:
        raise ValueError(f"older_than_days: must be 0 or more, got {older_than_days}")
    cutoff = (today or local_date(utcnow())) - dt.timedelta(days=older_than_days)
    old = Comment.submitted_on < cutoff
    if dry_run:
        count = db.session.scalar(select(func.count()).select_from(Comment).where(old)) or 0
        return PurgeResult(cutoff=cutoff, count=count, dry_run=True)
    result = db.session.execute(delete(Comment).where(old).execution_options(synchronize_session=False))
    count = getattr(result, "rowcount", 0) or 0  # a CursorResult for a DELETE
    audit.record(actor, "comments.purge", None, older_than_days=older_than_days, before=cutoff.isoformat(),
                 deleted=count)
    db.session.commit()
    return PurgeResult(cutoff=cutoff, count=count, dry_run=False)
