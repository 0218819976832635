"""Engine set-up, schema migrations and questionnaire snapshots."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

import questionnaires

from .config import private_directory
from .extensions import db
from .models import AnswerPosition, QuestionnaireVersion

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MAX_VERSION = 2**31 - 1  # questionnaire_versions.version is an INTEGER


def configure_sqlite(engine: Engine) -> None:
    """WAL (readers never block the writer), foreign keys, and a generous busy timeout so
    concurrent submissions wait for the lock instead of failing."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted content is overwritten with zeros, not left in free space (purged comments).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def seal_wal() -> bool:
    """SQLite: copy the write-ahead log into the database file and truncate it to nothing.

    The WAL keeps every commit as its own frames: read commit by commit, it would pair a
    burned code with the response stored in the same commit, and it keeps deleted text.
    Sealed after each answer and each purge, it holds at most the commits of the moment.
    Returns False when a reader kept the log from being emptied this time (the next seal
    empties it); a no-op elsewhere."""
    if db.engine.dialect.name != "sqlite":
        return True
    try:
        with db.engine.connect() as connection:
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    except sa_exc.OperationalError:  # the answer is committed: the citizen must not see this
        log.warning("write-ahead log not sealed this time (database busy); the next seal empties it")
        return False
    return not busy


# A pooled connection unused for this long is tested before it is lent again.
IDLE_PING_SECONDS = 5.0


def ping_idle_connections(engine: Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Test a server connection at checkout only when it sat in the pool for a while.

    A database restart or failover kills pooled connections while nobody uses them;
    SQLAlchemy's ``pool_pre_ping`` finds them by a round trip at every checkout, which cost
    PostgreSQL a fifth of the citizens' surveys per second under load. Connections in steady
    use are not tested: one that dies in use fails its request (as with the ping), and the
    failure makes the pool drop every connection of that age."""
    if engine.dialect.name == "sqlite":  # a file cannot vanish under a pooled connection
        return

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info["sipas_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        since = record.info.get("sipas_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise sa_exc.DisconnectionError("pooled connection lost") from error  # the pool tries another
            raise


def prepare_sqlite_file(url: str, data_dir: str) -> None:
    """The SQLite file and its -wal and -shm files readable by their owner only (0600), in a
    data directory only the owner can enter (0700), whatever the umask. SQLite gives its -wal
    and -shm files the database file's mode, so the file is made 0600 before SQLite opens it."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    database = Path(parsed.database).expanduser().resolve()
    if database.parent == Path(data_dir):
        private_directory(database.parent)
    else:  # a place the operator chose: made private if we make it, left as it is otherwise
        database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, 0o600)


@contextlib.contextmanager
def reading() -> Iterator[Connection]:
    """A pooled connection for reads outside the session's transaction (in autocommit on
    PostgreSQL: no BEGIN and ROLLBACK round trips for a page that only reads). The citizen's
    pages read the code here and write in the session afterwards: one connection at a time."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade() -> None:
    """Create or upgrade the schema to the newest migration (inside an app context)."""
    with db.engine.begin() as connection:
        cfg = alembic_config(str(db.engine.url))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


class ImmutableVersionError(RuntimeError):
    """A questionnaire file changed under a version number the database already has."""


def sync_questionnaires() -> list[str]:
    """Snapshot every shipped questionnaire version; refuse a changed published version.

    Returns the keys (``id@version``) newly stored.
    """
    added = []
    for qid, version in questionnaires.available():
        q = questionnaires.load(qid, version)
        stored = db.session.scalar(
            select(QuestionnaireVersion).filter_by(questionnaire_id=qid, version=version)
        )
        if stored is None:
            stored = QuestionnaireVersion(questionnaire_id=qid, version=version, sha256=q.sha256, content=q.content)
            db.session.add(stored)
            db.session.flush()
            db.session.add_all(answer_positions(stored.id, q))
            added.append(q.key)
        elif stored.sha256 != q.sha256:
            db.session.rollback()
            raise ImmutableVersionError(
                f"{q.source}: questionnaire {q.key} was published with sha256 "
                f"{stored.sha256[:12]}… and its file has changed since (now {q.sha256[:12]}…). "
                f"A published version is immutable: restore the file, and put the changes in "
                f"{qid}/{version + 1}.toml with version = {version + 1}."
            )
    db.session.commit()
    return added


def answer_positions(version_id: int, q: questionnaires.Questionnaire) -> list[AnswerPosition]:
    """Each rated item's place in ``responses.answer_codes`` (migration 0005)."""
    columns = q.answer_columns
    if len(columns) > ANSWER_CODES_WIDTH:
        raise ValueError(f"{q.key}: {len(columns)} rated questions; at most {ANSWER_CODES_WIDTH} fit a response's "
                         "packed answers")
    return [AnswerPosition(questionnaire_version_id=version_id, item=item, position=i + 1, width=len(columns))
            for i, item in enumerate(columns)]


#: responses.answer_codes holds at most this many answers (one character each).
ANSWER_CODES_WIDTH = 250


def questionnaire_version(key: str) -> QuestionnaireVersion:
    """The stored snapshot for ``id`` or ``id@version`` (newest stored when no version)."""
    qid, version = questionnaires.parse_key(key)
    if version is not None and version > MAX_VERSION:  # no such version, and the driver would overflow on it
        raise LookupError(f"questionnaire '{key[:80]}' has no such version")
    query = select(QuestionnaireVersion).filter_by(questionnaire_id=qid)
    if version is not None:
        query = query.filter_by(version=version)
    found = db.session.scalar(query.order_by(QuestionnaireVersion.version.desc()).limit(1))
    if found is None:
        raise LookupError(f"questionnaire '{key}' is not loaded; run 'sipas init'")
    return found


def stored_questionnaire(version_id: int, qid: str, version: int, sha: str) -> questionnaires.Questionnaire:
    """The questionnaire as stored in the database snapshot (what respondents answered),
    given the snapshot's id and identity; its text is read only when this process has not
    parsed that version yet."""
    key = (qid, version, sha)
    if key not in _snapshots:
        with reading() as connection:
            content = connection.scalar(select(QuestionnaireVersion.content)
                                        .where(QuestionnaireVersion.id == version_id))
        _snapshots[key] = questionnaires.load_text(content, f"database snapshot {qid}@{version}")
    return _snapshots[key]


# A published snapshot never changes (sync_questionnaires refuses a changed file), and the
# sha256 is part of the key, so a parsed version stays valid for the life of the process.
_snapshots: dict[tuple[str, int, str], questionnaires.Questionnaire] = {}
