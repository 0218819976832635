"""Write transactions for the citizen's hot path; on SQLite, concurrent ones share one.

SQLite has one write lock per database. Taken once per submission, it was held far longer
than its few statements need whenever its holder waited for a CPU (two cores shared by
dozens of threads under load): the lock, not the CPU, capped the throughput, and the
statements of every submission cost their own steps, pages and COMMIT. Here the first
thread to arrive leads: it takes the lock once for the items every thread of its process
has queued meanwhile, hands them all to one call of the batch writer (which stores them
with a few multi-row statements), commits, and gives each waiting thread its own result.
No caller returns before the COMMIT that holds its item. PostgreSQL locks rows, not the
database: there each item is written alone, concurrently.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .rawsql import Connection, connection

T = TypeVar("T")
R = TypeVar("R")

# Writes ``items`` in the connection's open transaction; returns one result per item.
BatchWriter = Callable[[Connection, list[T]], list[R]]


@dataclass
class _Job(Generic[T]):
    item: T
    result: Any = None
    error: BaseException | None = None
    done: bool = False


class _Group:
    """The queue of one batch writer on one database in one process."""

    def __init__(self, writer: BatchWriter) -> None:
        self._writer = writer
        self._changed = threading.Condition()
        self._queued: list[_Job] = []
        self._leading = False

    def run(self, conn: Connection, item: T) -> Any:
        job = _Job(item)
        with self._changed:
            self._queued.append(job)
            while self._leading and not job.done:
                self._changed.wait()
            lead = not job.done
            if lead:
                self._leading = True
        if lead:
            try:
                self._lead(conn)
            finally:
                with self._changed:
                    self._leading = False
                    self._changed.notify_all()
        if job.error is not None:
            raise job.error
        return job.result

    def _take(self) -> list[_Job]:
        with self._changed:
            batch, self._queued = self._queued, []
        return batch

    def _lead(self, conn: Connection) -> None:
        """Write what is queued once the database's write lock is ours (what queued while
        we waited for it goes too). Should that fail (rare: nothing in the hot path is
        expected to), each item is written again in a transaction of its own, so that only
        a failing item fails."""
        batch: list[_Job] = []
        try:
            try:
                with conn.transaction():
                    batch = self._take()
                    results = self._writer(conn, [job.item for job in batch])
                _deliver(batch, results)
            except Exception as exc:  # noqa: BLE001  (handed to the callers below)
                batch = batch or self._take()
                if len(batch) == 1:
                    batch[0].error = exc
                else:
                    for job in batch:
                        self._alone(conn, job)
        except BaseException as exc:
            for job in batch:  # nothing of the batch was committed
                job.error = job.error or exc
            raise
        finally:
            for job in batch:
                job.done = True

    def _alone(self, conn: Connection, job: _Job) -> None:
        try:
            with conn.transaction():
                results = self._writer(conn, [job.item])
            _deliver([job], results)
        except Exception as exc:  # noqa: BLE001  (handed to the job's caller)
            job.error = exc


def _deliver(jobs: list[_Job], results: list[Any]) -> None:
    for job, result in zip(jobs, results, strict=True):
        job.result = result


_groups: dict[Hashable, _Group] = {}
_groups_lock = threading.Lock()
os.register_at_fork(after_in_child=_groups.clear)  # a worker starts with no queue of its parent's


def write(writer: BatchWriter[T, R], item: T) -> R:
    """Write ``item`` with ``writer``, batched with other threads' items on SQLite; returns
    its result once committed."""
    conn = connection()
    if conn.engine.dialect.name != "sqlite":
        with conn.transaction():
            return writer(conn, [item])[0]
    key = (conn.engine.url, writer)
    with _groups_lock:
        group = _groups.get(key) or _groups.setdefault(key, _Group(writer))
    return group.run(conn, item)
