"""Erase PostgreSQL's transaction stamps that would link a response to its code.

PostgreSQL stamps every row version with the id of the transaction that wrote it (the
hidden column ``xmin``). Burning a single-use code and storing its response happen in one
transaction (so a response is stored exactly once), which stamps the code, the response and
its comment with the same id: ``responses.xmin = survey_codes.xmin`` would tie an answer to
the code, its batch and the clerk who printed it. This module rewrites the recent rows of
each of the three tables in a transaction of its own, so all of a table's recent rows carry
one id and no id is shared between tables: nothing pairs them any more. It runs after
submissions at most every ``SIPAS_UNLINK_SECONDS`` (default 300) per process, and as
``sipas unlink`` for cron. SQLite keeps no such stamp.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from flask import current_app
from sqlalchemy import text

from ..extensions import db
from ..models import utcnow

_lock = threading.Lock()
_last_run = 0.0


def rewrite_recent(days: int = 2) -> dict[str, int]:
    """Rewrite the rows a recent submission may have stamped; returns rows per table."""
    if db.engine.dialect.name != "postgresql":
        return {}
    since_day = (utcnow() - dt.timedelta(days=days)).date()
    code_window = utcnow() - dt.timedelta(days=current_app.config["SIPAS_CODE_TTL_DAYS"] + days)
    statements = {
        "responses": ("UPDATE responses SET burst = burst WHERE submitted_on >= :day", {"day": since_day}),
        "comments": ("UPDATE comments SET text = text WHERE submitted_on >= :day", {"day": since_day}),
        "survey_codes": ("UPDATE survey_codes SET status = status WHERE status = 'answered' AND issued_at >= :since",
                         {"since": code_window}),
    }
    counts = {}
    for table, (sql, params) in statements.items():
        # One transaction per table: all of a table's recent rows then share one stamp, and
        # no stamp is shared across tables.
        with db.engine.begin() as connection:
            counts[table] = connection.execute(text(sql), params).rowcount
    return counts


def after_submission() -> None:
    """Rewrite when due; never lets a failure reach the citizen (the answer is stored)."""
    global _last_run
    interval = current_app.config["SIPAS_UNLINK_SECONDS"]
    if db.engine.dialect.name != "postgresql" or time.monotonic() - _last_run < interval:
        return
    if not _lock.acquire(blocking=False):
        return
    try:
        _last_run = time.monotonic()
        rewrite_recent()
    except Exception:  # noqa: BLE001  (logged; the next submission tries again)
        _last_run = 0.0
        current_app.logger.exception("could not rewrite transaction stamps")
    finally:
        _lock.release()
