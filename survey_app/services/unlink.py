"""Erase PostgreSQL's transaction stamps that would link a response to its code.

PostgreSQL stamps every row version with the id of the transaction that wrote it (the
hidden column ``xmin``). Burning a single-use code and storing its response happen in one
transaction (so a response is stored exactly once), which stamps the code, the response and
its comment with the same id: ``responses.xmin = survey_codes.xmin`` would tie an answer to
the code, its batch and the clerk who printed it (and a complaint's case, or a poster
answer's one-time value, to both). This module rewrites the recent rows of each of these
tables in a transaction of its own, so all of a table's recent rows carry
one id and no id is shared between tables: nothing pairs them any more; then VACUUM drops
the old row versions, which still carry the shared stamp.

A timer in each server process (``start_timer``, started by ``sipas serve``) does it within
``SIPAS_UNLINK_SECONDS`` (default 60) of any answer that process stored, whether or not
another answer follows: the bound holds through a quiet night. ``SIPAS_UNLINK_SECONDS=0``
rewrites right after each answer (tests, or a paranoid deployment); ``sipas unlink`` does it
from cron. SQLite keeps no such stamp.
"""

from __future__ import annotations

import datetime as dt
import threading

from flask import Flask, current_app
from sqlalchemy import text

from ..extensions import db
from ..models import utcnow
from .background import repeat

_lock = threading.Lock()
_pending = threading.Event()  # an answer was committed in this process since the last rewrite


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
        # A complaint's case and a poster answer's one-time value share the answer's stamp too.
        "feedback_cases": ("UPDATE feedback_cases SET status = status WHERE received_on >= :day", {"day": since_day}),
        "answer_nonces": ("UPDATE answer_nonces SET seen_on = seen_on WHERE seen_on >= :day", {"day": since_day}),
    }
    counts = {}
    for table, (sql, params) in statements.items():
        # One transaction per table: all of a table's recent rows then share one stamp, and
        # no stamp is shared across tables.
        with db.engine.begin() as connection:
            counts[table] = connection.execute(text(sql), params).rowcount
    # The old row versions keep the shared stamp until vacuumed (VACUUM runs outside a
    # transaction; it only visits pages changed since the last one).
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM responses, comments, survey_codes, feedback_cases, answer_nonces"))
    return counts


def after_submission() -> None:
    """An answer was committed in this process: the timer rewrites within the interval (or
    now, with an interval of 0). Never lets a failure reach the citizen (the answer is stored)."""
    if db.engine.dialect.name != "postgresql":
        return
    if current_app.config["SIPAS_UNLINK_SECONDS"] > 0:
        _pending.set()
        return
    with _lock:
        _rewrite_logged(current_app._get_current_object())  # type: ignore[attr-defined]


def _rewrite_logged(app: Flask) -> bool:
    try:
        rewrite_recent()
        return True
    except Exception:  # noqa: BLE001  (logged; the next round tries again)
        app.logger.exception("could not rewrite transaction stamps")
        return False


def start_timer(app: Flask, stop: threading.Event | None = None) -> threading.Thread | None:
    """Rewrite every ``SIPAS_UNLINK_SECONDS`` while answers were stored since the last round
    (a daemon thread of this process; None on SQLite or with an interval of 0)."""
    interval = app.config["SIPAS_UNLINK_SECONDS"]
    with app.app_context():
        if db.engine.dialect.name != "postgresql" or interval <= 0:
            return None

    def round_() -> None:
        if not _pending.is_set():
            return
        _pending.clear()  # answers committed from now on wait for the next round
        with _lock:
            if not _rewrite_logged(app):
                _pending.set()

    return repeat(app, interval, round_, name="sipas-unlink", stop=stop)
