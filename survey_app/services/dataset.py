"""The responses as one in-memory frame per process, kept current cheaply.

Dashboards read the same responses again and again; loading them from the long answers
table takes about a minute and a half at a million responses. So each process loads them
once, then on each request asks the database for a cheap data version (the row count and
the latest date of the questionnaire's responses, read from one index, once per request).
When only new responses arrived it reloads just the days at and after the latest cached
date: citizens' answers are stored with the day they arrive and never edited, and their ids
are random, so "new" can only be told by date. It then checks that the older days still
hold as many rows as it kept; if anything else changed (a restore, backdated demo data) it
reloads everything. Results computed from the frame are cached by filter and data version.

A full load also leaves a signed snapshot of the frame in ``SIPAS_DATA_DIR/cache`` (see
``snapshots.py``), so a restarted server starts from it plus the days since, not from the
long table.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import Engine, func, select

import analysis

from ..models import QuestionnaireVersion, Response
from . import cell_store
from .lru import Lru
from .snapshots import SnapshotStore


@dataclass(frozen=True)
class DataVersion:
    count: int
    latest: dt.date | None


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # SQLite gives text


def _version_ids(connection, questionnaire_id: str) -> list[int]:
    return list(connection.scalars(
        select(QuestionnaireVersion.id).where(QuestionnaireVersion.questionnaire_id == questionnaire_id)))


def _count(connection, version_ids: list[int], *conditions: Any) -> int:
    return int(connection.scalar(select(func.count()).select_from(Response)
                                 .where(Response.questionnaire_version_id.in_(version_ids), *conditions)))


def data_version(engine: Engine, questionnaire_id: str) -> DataVersion:
    """Row count and latest date of one questionnaire's responses.

    Both come from the index on (questionnaire version, date): the count walks it, each
    maximum is one lookup per version. About the cost of ``SELECT count(*)``."""
    with engine.connect() as connection:
        ids = _version_ids(connection, questionnaire_id)
        if not ids:
            return DataVersion(0, None)
        count = _count(connection, ids)
        dates = [_date(connection.scalar(select(func.max(Response.submitted_on))
                                         .where(Response.questionnaire_version_id == i))) for i in ids]
    dates = [d for d in dates if d is not None]
    return DataVersion(count, max(dates) if dates else None)


def count_before(engine: Engine, questionnaire_id: str, day: dt.date) -> int:
    """Responses to the questionnaire dated before ``day`` (a range of the same index)."""
    with engine.connect() as connection:
        ids = _version_ids(connection, questionnaire_id)
        return _count(connection, ids, Response.submitted_on < day) if ids else 0


def current_version(engine: Engine, questionnaire_id: str) -> DataVersion:
    """The data version, asked once per request however many results the page needs (they
    then also agree with each other)."""
    if not has_request_context():
        return data_version(engine, questionnaire_id)
    memo = g.setdefault("sipas_data_versions", {})
    key = (str(engine.url), questionnaire_id)
    if key not in memo:
        memo[key] = data_version(engine, questionnaire_id)
    return memo[key]


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its answer columns (whole numbers 1-5 or blank, and the same-day flag)
    in float32, which holds them exactly in half the memory: a million responses take
    about 120 MB less per worker, and the copy made when new responses arrive (fresh
    memory, slow to touch on virtual machines) shrinks with it. A column that float32 would
    not hold exactly stays as it is."""
    narrowed = {}
    for column in frame.columns:
        values = frame[column].to_numpy()
        if values.dtype == np.float64:
            small = values.astype(np.float32)
            if np.array_equal(small, values, equal_nan=True):
                narrowed[column] = small
    return frame.assign(**narrowed) if narrowed else frame


def _load(engine: Engine, questionnaire_id: str, **options: Any) -> pd.DataFrame:
    return compact(analysis.load_database(engine, questionnaire=questionnaire_id, **options))


def _store() -> SnapshotStore | None:
    if not has_app_context() or not current_app.config.get("SIPAS_DASHBOARD_SNAPSHOTS", True):
        return None
    return SnapshotStore.for_app(current_app)


class _Entry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.frame: pd.DataFrame | None = None
        self.version: DataVersion | None = None
        self.results: OrderedDict[Hashable, Any] = OrderedDict()
        self.values = Lru(256)  # by (data version, key): results that need no frame
        self.snapshot_rows = 0  # rows in the newest snapshot written or read


class ResponseCache:
    """Per-process cache of response frames and of results derived from them."""

    def __init__(self, max_results: int = 256) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._guard = threading.Lock()
        self.max_results = max_results

    def _entry(self, engine: Engine, questionnaire_id: str) -> _Entry:
        key = (str(engine.url), questionnaire_id)
        with self._guard:
            return self._entries.setdefault(key, _Entry())

    def frame(self, engine: Engine, questionnaire_id: str) -> tuple[pd.DataFrame, DataVersion]:
        """All responses to ``questionnaire_id`` (every version), in the export format."""
        entry = self._entry(engine, questionnaire_id)
        current = current_version(engine, questionnaire_id)
        with entry.lock:
            if entry.frame is not None and entry.version == current:
                return entry.frame, current
            store = _store()
            if entry.frame is None and store is not None:
                self._restore(entry, store, engine, questionnaire_id)
            frame = self._grown(entry, engine, questionnaire_id, current)
            full = frame is None
            if full:
                frame = _load(engine, questionnaire_id)
            if len(frame) != current.count:  # a response arrived meanwhile: reload next time
                current = DataVersion(len(frame), current.latest)
            entry.frame, entry.version = frame, current
            entry.results.clear()
            if store is not None and (full or len(frame) - entry.snapshot_rows > max(1000, entry.snapshot_rows // 20)):
                entry.snapshot_rows = len(frame)
                store.save_later(engine, questionnaire_id, frame, current)
            return frame, current

    @staticmethod
    def _restore(entry: _Entry, store: SnapshotStore, engine: Engine, questionnaire_id: str) -> None:
        saved = store.load(engine, questionnaire_id)
        if saved is not None:
            frame, version = saved
            entry.frame = compact(frame)  # a snapshot from before float32 answers
            entry.version = DataVersion(*version)
            entry.snapshot_rows = len(entry.frame)

    @staticmethod
    def _grown(entry: _Entry, engine: Engine, questionnaire_id: str, current: DataVersion) -> pd.DataFrame | None:
        """The cached frame plus the days since its latest date, or None when a full load is
        needed (nothing cached, or rows before that date changed)."""
        previous = entry.version
        if (entry.frame is None or previous is None or previous.latest is None or current.latest is None
                or current.count < previous.count or current.latest < previous.latest):
            return None
        # Frames are sorted by date then id, so the older days are a prefix (no copy, no mask)
        # and the reloaded days, sorted the same way, follow them: the order of a fresh load,
        # so results match it to the last bit, without sorting a million rows again.
        dates = entry.frame["submitted_on"].to_numpy()
        kept = entry.frame.iloc[:int(dates.searchsorted(np.datetime64(previous.latest), side="left"))]
        if count_before(engine, questionnaire_id, previous.latest) != len(kept):
            return None
        recent = _load(engine, questionnaire_id, date_from=previous.latest)
        return pd.concat([kept, recent], ignore_index=True) if len(kept) else recent

    def result(self, engine: Engine, questionnaire_id: str, key: Hashable,
               compute: Callable[[pd.DataFrame], Any]) -> Any:
        """``compute(frame)``, cached by ``key`` until the data change."""
        frame, version = self.frame(engine, questionnaire_id)
        entry = self._entry(engine, questionnaire_id)
        with entry.lock:
            if entry.version == version and key in entry.results:
                entry.results.move_to_end(key)
                return entry.results[key]
        value = compute(frame)
        with entry.lock:
            if entry.version == version:
                entry.results[key] = value
                while len(entry.results) > self.max_results:
                    entry.results.popitem(last=False)
        return value

    def value(self, engine: Engine, questionnaire_id: str, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, cached by ``key`` until the data change, for results that do not
        read the frame (analyses from cell tallies, charts of results): a fresh process
        answers them without loading a single response."""
        version = current_version(engine, questionnaire_id)
        return self._entry(engine, questionnaire_id).values.get((version, key), compute)

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
        cell_store.memo.clear()


cache = ResponseCache()


def warm_in_background(app) -> threading.Thread:
    """Fill this process's cache from the snapshot (or the database) in a daemon thread, so
    that the first analyst after a restart does not wait for it. Called in each server worker."""
    def run() -> None:
        with app.app_context():
            from ..extensions import db

            try:
                with db.engine.connect() as connection:
                    ids = sorted(set(connection.scalars(select(QuestionnaireVersion.questionnaire_id))))
                for questionnaire_id in ids:
                    cache.frame(db.engine, questionnaire_id)
            except Exception:  # the first page load will try again and show the error
                app.logger.exception("warming the dashboard cache failed")

    thread = threading.Thread(target=run, name="sipas-warm-dashboard", daemon=True)
    thread.start()
    return thread
