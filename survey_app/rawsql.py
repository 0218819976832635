"""SQL for the citizen's hot path: Core statements compiled once per dialect and run on the
request's pooled DB-API connection.

SQLAlchemy's per-execution machinery (ORM, cache keys, execution contexts, result objects)
costs several times the query itself on SQLite; a survey's few statements do not need it.
The statements are still written with the models' tables, bound values still go through
the column types (SQLite keeps datetimes as text), and DB-API errors are re-raised as
SQLAlchemy's exceptions, so the app's handlers (DataError -> 400, OperationalError -> 503)
see what they always saw. Parameters are never put into those errors' messages: they may
hold a comment or a code's hash.
"""

from __future__ import annotations

import contextlib
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, g
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import UpdateBase

from .extensions import db
from .sqlite_lock import write_lock

Processor = Callable[[Any], Any]
# A one-row INSERT with positional parameters, which repeats its VALUES group for more rows.
_ONE_ROW = re.compile(r"(INSERT INTO .+? VALUES )(\([?, ]+\))", re.DOTALL)
# Rows per multi-row INSERT: far below SQLite's 32,766 parameters for any of our tables.
_ROWS_PER_INSERT = 500


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter names in order for positional paramstyles
    defaults: dict[str, Any]  # values bound in the statement itself
    binds: tuple[tuple[str, Processor], ...]  # parameters whose type converts the value
    results: tuple[Processor | None, ...]
    row_values: tuple[str, str] | None  # "INSERT ... VALUES ", "(?, ?)": positional one-row INSERTs

    def many_rows_sql(self, count: int) -> str:
        assert self.row_values is not None
        head, group = self.row_values
        return head + ", ".join([group] * count)

    def params(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        merged = {**self.defaults, **values}
        for name, process in self.binds:
            if merged[name] is not None:
                merged[name] = process(merged[name])
        return merged if self.order is None else tuple(merged[name] for name in self.order)

    def params_many(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """:meth:`params` for many rows; a plain pick by position when no value needs its
        type's conversion (an answer is text, text and a small integer)."""
        if self.binds or self.defaults or self.order is None or len(self.order) < 2:
            return [self.params(row) for row in rows]
        pick = operator.itemgetter(*self.order)
        return [pick(row) for row in rows]

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(value if process is None or value is None else process(value)
                     for process, value in zip(self.results, raw, strict=True))


class Statement:
    """A Core statement (bound parameters by name) ready for a raw DB-API cursor."""

    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None) -> None:
        self.statement, self.column_keys = statement, list(column_keys) if column_keys else None
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}

    def compiled(self, engine: Engine) -> _Compiled:
        dialect = engine.dialect
        key = (dialect.name, dialect.driver, dialect.paramstyle)  # what the SQL text depends on
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(engine)
        return found

    def _compile(self, engine: Engine) -> _Compiled:
        dialect = engine.dialect
        compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        names = compiled.bind_names  # every bound parameter -> its name in the SQL
        processors = ((name, bind.type.dialect_impl(dialect).bind_processor(dialect)) for bind, name in names.items())
        binds = tuple((name, process) for name, process in processors if process is not None)
        defaults = {name: bind.value for bind, name in names.items() if not bind.required}
        results = tuple(kind.dialect_impl(dialect).result_processor(dialect, None) for kind in self._result_types())
        single_row = _ONE_ROW.fullmatch(compiled.string) if order is not None else None
        row_values = (single_row.group(1), single_row.group(2)) if single_row else None
        return _Compiled(compiled.string, order, defaults, binds, results, row_values)

    def bind(self, engine: Engine, values: Mapping[str, Any]) -> Any:
        """The DB-API parameters for ``values``, types converted: rows prepared ahead of
        :meth:`Connection.insert_rows` (``bound=True``), say before taking a lock."""
        return self.compiled(engine).params(values)

    def bind_many(self, engine: Engine, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """:meth:`bind` for each of ``rows``."""
        return self.compiled(engine).params_many(rows)

    def _result_types(self) -> list[Any]:
        if isinstance(self.statement, UpdateBase):  # INSERT, UPDATE or DELETE ... RETURNING
            return [column["type"] for column in self.statement.returning_column_descriptions]
        return [column.type for column in getattr(self.statement, "selected_columns", ())]


class Connection:
    """One pooled DB-API connection, used by one request at a time.

    Outside :meth:`transaction` every statement commits on its own: a read then costs
    PostgreSQL no BEGIN and ROLLBACK round trips (SQLite's module reads without a
    transaction anyway), and a single statement is atomic by itself.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dbapi = engine.dialect.loaded_dbapi
        try:
            self._fairy = engine.raw_connection()
        except self._dbapi.Error as error:  # the database is down: 503, as for the ORM
            raise sa_exc.DBAPIError.instance(None, None, error, self._dbapi.Error, hide_parameters=True,
                                             dialect=engine.dialect) from error
        self._autocommit = engine.dialect.name == "postgresql"
        self._set_autocommit(True)

    def rows(self, statement: Statement, **values: Any) -> list[tuple[Any, ...]]:
        compiled = statement.compiled(self.engine)
        rows = self._execute(compiled.sql, compiled.params(values), fetch=True)
        return [compiled.row(raw) for raw in rows]

    def insert_rows(self, statement: Statement, rows: Sequence[Any], *, bound: bool = False) -> None:
        """A one-row INSERT for many rows (mappings, or with ``bound`` what
        :meth:`Statement.bind` made of them): with positional parameters (SQLite), as one
        multi-row INSERT per 500 rows, one step of SQLite where executemany takes one (and
        one wait for the GIL) per row; otherwise with executemany."""
        compiled = statement.compiled(self.engine)
        params = rows if bound else compiled.params_many(rows)
        if compiled.row_values is None:
            self._execute(compiled.sql, params, many=True)
            return
        for start in range(0, len(params), _ROWS_PER_INSERT):
            chunk = params[start:start + _ROWS_PER_INSERT]
            self._execute(compiled.many_rows_sql(len(chunk)), [value for row in chunk for value in row])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back when it raises.

        On SQLite, writers first queue on a file lock shared by every process of the
        database, then take SQLite's write lock at once (BEGIN IMMEDIATE), so no writer
        waits in SQLite's busy handler, which sleeps instead of waking when the lock frees.
        """
        with write_lock(self.engine):
            self._set_autocommit(False)
            try:
                if self.engine.dialect.name == "sqlite":
                    # The sqlite3 module has no transaction open here (reads run in
                    # autocommit), so BEGIN is ours to say, and IMMEDIATE takes the lock.
                    self.execute("BEGIN IMMEDIATE")
                yield self
                self._finish(self._fairy.commit)
            except BaseException:
                with contextlib.suppress(sa_exc.DBAPIError):  # the first error is the one to report
                    self._finish(self._fairy.rollback)
                    self._set_autocommit(True)
                raise
            self._set_autocommit(True)

    def close(self) -> None:
        """Back to the pool as the pool lent it (the pool rolls back whatever is open)."""
        try:
            self._set_autocommit(False)
        except sa_exc.DBAPIError:
            self._fairy.invalidate()  # in a state that cannot be undone: never lend it again
        finally:
            self._fairy.close()

    def execute(self, sql: str) -> None:
        """A statement without parameters (transaction control)."""
        self._execute(sql, None)

    def _execute(self, sql: str, params: Any, fetch: bool = False, many: bool = False) -> list[Any]:
        """The rows fetched (with ``fetch``); plain DB-API calls, no context managers: this is
        the hot path."""
        cursor = self._fairy.cursor()
        try:
            if many:
                cursor.executemany(sql, params)
            elif params is None:
                cursor.execute(sql)
            else:
                cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
        except self._dbapi.Error as error:
            raise self._translate(error, sql, cursor) from error
        finally:
            cursor.close()

    def _finish(self, end: Callable[[], None]) -> None:
        try:
            end()
        except self._dbapi.Error as error:
            raise self._translate(error, "COMMIT/ROLLBACK", None) from error

    def _set_autocommit(self, on: bool) -> None:
        if self._autocommit and self._fairy.is_valid:
            try:
                self._fairy.dbapi_connection.autocommit = on
            except self._dbapi.Error as error:
                raise self._translate(error, "(autocommit)", None) from error

    def _translate(self, error: Exception, sql: str, cursor: Any) -> sa_exc.DBAPIError:
        """SQLAlchemy's exception for a DB-API error; a lost connection is not lent again."""
        dialect = self.engine.dialect
        lost = dialect.is_disconnect(error, self._fairy.dbapi_connection, cursor)
        if lost:
            self._fairy.invalidate(error)
        return sa_exc.DBAPIError.instance(sql, None, error, self._dbapi.Error, hide_parameters=True,
                                          connection_invalidated=lost, dialect=dialect)


def connection() -> Connection:
    """The current request's (or app context's) connection, checked out on first use."""
    found = g.get("_rawsql")
    if found is None:
        found = g._rawsql = Connection(db.engine)
    return found


def _release(_exc: BaseException | None) -> None:
    found = g.pop("_rawsql", None)
    if found is not None:
        found.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_release)
