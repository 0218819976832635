"""One writer at a time on a SQLite file, across threads and processes, without sleeping.

SQLite lets one connection write at a time; the others get SQLITE_BUSY and SQLite's busy
handler retries them after sleeps of up to 100 ms, so under load the lock is often free
while every waiter sleeps (the server idled with half its CPU unused). Writers that take
this lock first queue in the kernel instead (``flock`` on a file next to the database) and
the next one wakes as soon as the lock is released. Each acquisition opens its own file
description, so threads of one process queue like processes do, and a crashed process's
lock is released by the kernel with its descriptors.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine

_paths: dict[object, Path | None] = {}  # by engine URL


def lock_path(engine: Engine) -> Path | None:
    """``<database>.writelock`` for a SQLite file, else None (no lock needed or possible)."""
    key = engine.url
    if key not in _paths:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
        _paths[key] = None if in_memory else Path(database).expanduser().resolve().with_name(
            Path(database).name + ".writelock")
    return _paths[key]


@contextlib.contextmanager
def write_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's write lock for the block (a no-op but for SQLite files)."""
    path = lock_path(engine)
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without holding the GIL
        yield
    finally:
        os.close(fd)  # releases the lock
