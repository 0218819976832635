"""The responses as one in-memory frame per process, kept current cheaply.

Dashboards read the same responses again and again; loading them from the long answers
table on every page would take seconds at a million responses. This cache loads them once,
then on each request asks the database for a cheap data version (the row count and the
latest date). When only new responses arrived it reloads just the days at and after the
latest cached date (responses are never edited, and their ids are random, so "new" can only
be told by date); when anything else changed (a restore, a purge) it reloads everything.
Results computed from the frame are cached by filter and data version.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select

import analysis

from ..models import QuestionnaireVersion, Response


@dataclass(frozen=True)
class DataVersion:
    count: int
    latest: dt.date | None


def data_version(engine: Engine, questionnaire_id: str) -> DataVersion:
    """Row count and latest date of one questionnaire's responses (one indexed query)."""
    query = (
        select(func.count(), func.max(Response.submitted_on))
        .select_from(Response)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
    )
    with engine.connect() as connection:
        count, latest = connection.execute(query).one()
    if isinstance(latest, str):  # SQLite returns max() of a date column as text
        latest = dt.date.fromisoformat(latest)
    return DataVersion(int(count), latest)


class _Entry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.frame: pd.DataFrame | None = None
        self.version: DataVersion | None = None
        self.results: OrderedDict[Hashable, Any] = OrderedDict()


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
        current = data_version(engine, questionnaire_id)
        with entry.lock:
            if entry.frame is not None and entry.version == current:
                return entry.frame, current
            previous = entry.version
            grew = (previous is not None and entry.frame is not None and current.count > previous.count
                    and previous.latest is not None and current.latest is not None
                    and current.latest >= previous.latest)
            if grew:
                recent = analysis.load_database(engine, questionnaire=questionnaire_id, date_from=previous.latest)
                kept = entry.frame[entry.frame["submitted_on"] < pd.Timestamp(previous.latest)]
                frame = pd.concat([kept, recent], ignore_index=True) if len(kept) else recent
                # The same row order as a fresh load, so results match to the last bit.
                frame = frame.sort_values(["submitted_on", "response_id"], kind="stable", ignore_index=True)
            else:
                frame = analysis.load_database(engine, questionnaire=questionnaire_id)
            if len(frame) != current.count:  # a response arrived meanwhile: reload next time
                current = DataVersion(len(frame), current.latest)
            entry.frame, entry.version = frame, current
            entry.results.clear()
            return frame, current

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

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()


cache = ResponseCache()
