"""Backups, restores and comment retention.

SQLite is copied with SQLite's online backup API (a consistent snapshot while the server
keeps answering) and restored with the same API into the configured database, in one write
transaction: other processes wait for the lock and then see the restored data, and a failure
half-way leaves the old data in place. PostgreSQL is dumped with ``pg_dump -Fc`` and restored
with ``pg_restore --clean --if-exists --single-transaction`` (all or nothing).

Every backup is checked before it is trusted: the file's kind must match the configured
backend, it must hold the sipas tables at a migration this version of sipas knows, and a
SQLite file must pass ``PRAGMA integrity_check``. A restore also refuses a backup whose schema
differs in anything from the schema the migrations create at the backup's revision
(backup_schema).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import make_url

from ..database import seal_wal
from ..extensions import db
from ..feedback.model import FeedbackCase
from ..models import Comment, utcnow
from . import audit
from .backup_schema import check_pg_schema, check_sqlite_schema
from .backup_tools import BackupError, find_pg_tool, run_tool
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
    cases: int = 0  # answered complaints and requests whose words were cleared


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
            check_sqlite_schema(copy, str(backup_file), revision)
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

def _pg_connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment that carries the password (so it
    never shows in the process list)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _check_pg_archive(backup_file: Path, env: dict[str, str]) -> str:
    """The archive's table of contents holds the sipas tables; returns its schema revision."""
    restore = find_pg_tool("pg_restore")
    listing = run_tool([restore, "--list", str(backup_file)], env, f"reading {backup_file}")
    tables = set(re.findall(r"\bTABLE \S+ (\w+)", listing))
    missing = SIPAS_TABLES - tables
    if missing:
        raise BackupError(f"{backup_file} is not a sipas backup (no table {', '.join(sorted(missing))}).")
    data = run_tool([restore, "--data-only", "--table=alembic_version", "--file=-", str(backup_file)], env,
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


def _pg_backup(url: str, output: Path) -> None:
    uri, env = _pg_connection(url)
    temporary = _temporary_beside(output, ".tmp")
    try:
        run_tool([find_pg_tool("pg_dump"), "--format=custom", f"--file={temporary}", f"--dbname={uri}"], env, "pg_dump")
        _check_pg_archive(temporary, env)
        _fsync(temporary)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)


def _pg_restore(url: str, backup_file: Path) -> str:
    uri, env = _pg_connection(url)
    revision = _check_pg_archive(backup_file, env)
    check_pg_schema(url, backup_file, revision, uri, env)
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout={PG_LOCK_TIMEOUT}".strip()
    try:
        run_tool([find_pg_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
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
    calendar), and clear the words (the citizen's text, the agency's answer) of complaints and
    requests answered before then: their dates, status and rating stay for the 766 items.
    Responses and answers are not touched: the numbers stay. Audited unless ``dry_run``,
    which only counts."""
    if older_than_days < 0:
        raise ValueError(f"older_than_days: must be 0 or more, got {older_than_days}")
    cutoff = (today or local_date(utcnow())) - dt.timedelta(days=older_than_days)
    old = Comment.submitted_on < cutoff
    old_cases = (FeedbackCase.status == "closed", FeedbackCase.closed_on < cutoff, FeedbackCase.text != "")
    if dry_run:
        count = db.session.scalar(select(func.count()).select_from(Comment).where(old)) or 0
        cases = db.session.scalar(select(func.count()).select_from(FeedbackCase).where(*old_cases)) or 0
        return PurgeResult(cutoff=cutoff, count=count, dry_run=True, cases=cases)
    result = db.session.execute(delete(Comment).where(old).execution_options(synchronize_session=False))
    count = getattr(result, "rowcount", 0) or 0  # a CursorResult for a DELETE
    cleared = db.session.execute(update(FeedbackCase).where(*old_cases).values(text="", outcome="")
                                 .execution_options(synchronize_session=False))
    cases = getattr(cleared, "rowcount", 0) or 0
    audit.record(actor, "comments.purge", None, older_than_days=older_than_days, before=cutoff.isoformat(),
                 deleted=count, **({"cases_cleared": cases} if cases else {}))
    db.session.commit()
    # SQLite: secure_delete zeroed the rows in their pages; the log still holds old copies.
    seal_wal()
    return PurgeResult(cutoff=cutoff, count=count, dry_run=False, cases=cases)
