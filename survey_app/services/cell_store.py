"""The responses' cell tallies (analysis/cell_tallies.py) kept in the database.

The nightly seal writes, per questionnaire, the half-month cells of every day before today
(``refresh``). A reader (:func:`cells_for`) takes the stored cells whose response count
still matches the responses' and tallies every other day from its rows: the days since the
seal, halves whose cells are missing or out of date (a restore, backdated data), and the
halves a date window cuts (by day). So a fresh process analyses a million responses from a
few thousand cells and the rows of one day, and a stale cell can cost time but never a
wrong number. The cells are derived data: the answers stay the source; a cell is as
anonymous as ``answer_counts`` (unit, channel, half-month) and rows keep no order of time.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, select

import analysis
import questionnaires
from analysis.cell_tallies import DAY, HALF, CellTallies, Layout, empty_cells, half_end, tally_cells

from ..models import CellTally, QuestionnaireVersion, Response, TallySeal, Unit
from .lru import Lru

log = logging.getLogger(__name__)

#: same_day as stored (a key column cannot be NULL) and as the export format has it.
_BLANK = 2


def _versions(conn: Connection, qid: str) -> list[int]:
    return list(conn.scalars(select(QuestionnaireVersion.id).where(QuestionnaireVersion.questionnaire_id == qid)))


def _day_counts(conn: Connection, qid: str) -> dict[dt.date, int]:
    """Responses per day (one range of the (version, day) index per version)."""
    ids = _versions(conn, qid)
    if not ids:
        return {}
    rows = conn.execute(select(Response.submitted_on, func.count()).where(Response.questionnaire_version_id.in_(ids))
                        .group_by(Response.submitted_on))
    return {_date(day): int(n) for day, n in rows}


def _date(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # SQLite gives text


def _per_half(days: dict[dt.date, int], through: dt.date | None = None) -> dict[dt.date, int]:
    out: dict[dt.date, int] = {}
    for day, n in days.items():
        if through is None or day <= through:
            start = _half_of(day)
            out[start] = out.get(start, 0) + n
    return out


def _half_of(day: dt.date) -> dt.date:
    return day.replace(day=1 if day.day < 15 else 15)


def _stored_halves(conn: Connection, qid: str) -> dict[dt.date, int]:
    rows = conn.execute(select(CellTally.starts_on, func.sum(CellTally.n)).where(CellTally.questionnaire_id == qid)
                        .group_by(CellTally.starts_on))
    return {_date(start): int(n) for start, n in rows}


def _rows(engine: Engine, qid: str, layout: Layout, first: dt.date, last: dt.date) -> pd.DataFrame:
    """The responses of [first, last], with a column for every item of the layout (a span
    holding only an older version lacks the newer items: blank there)."""
    frame = analysis.load_database(engine, questionnaire=qid, date_from=first, date_to=last)
    missing = {code: np.nan for code, _ in layout.items if code not in frame.columns}
    return frame.assign(**missing) if missing else frame


@dataclass(frozen=True)
class Refreshed:
    questionnaire: str
    through: dt.date
    halves: tuple[dt.date, ...]  # the half-months whose cells were (re)written


def refresh(engine: Engine, qid: str, through: dt.date) -> Refreshed:
    """Rewrite the cells of every half-month whose stored count differs from the responses
    of its days up to ``through`` (all of them when the questionnaire's layout changed)."""
    q = questionnaires.load(qid)
    layout = Layout.of(q)
    with engine.begin() as conn:
        seal = conn.execute(select(TallySeal).where(TallySeal.questionnaire_id == qid)).first()
        if seal is not None and seal.layout != layout.key:
            conn.execute(delete(CellTally).where(CellTally.questionnaire_id == qid))
        stored = _stored_halves(conn, qid)
        actual = _per_half(_day_counts(conn, qid), through)
        stale = sorted(h for h in set(stored) | set(actual) if stored.get(h) != actual.get(h))
        units = {code: uid for code, uid in conn.execute(select(Unit.code, Unit.id))}
        for start in stale:
            conn.execute(delete(CellTally).where(CellTally.questionnaire_id == qid, CellTally.starts_on == start))
            if start not in actual:
                continue
            cells = tally_cells(_rows(engine, qid, layout, start, min(half_end(start), through)), q, HALF)
            conn.execute(insert(CellTally), [
                {"questionnaire_id": qid, "starts_on": start, "unit_id": units[row.unit], "channel": row.channel,
                 "same_day": _BLANK if np.isnan(row.same_day) else int(row.same_day), "n": int(row.n),
                 "tallies": layout.encode(cells.tallies, i)}
                for i, row in enumerate(cells.cells.itertuples())])
        values = {"layout": layout.key, "through": through}
        if seal is None:
            conn.execute(insert(TallySeal).values(questionnaire_id=qid, **values))
        else:
            conn.execute(TallySeal.__table__.update().where(TallySeal.questionnaire_id == qid).values(**values))
    return Refreshed(qid, through, tuple(stale))


def refresh_all(engine: Engine, through: dt.date) -> list[Refreshed]:
    with engine.connect() as conn:
        ids = sorted(set(conn.scalars(select(QuestionnaireVersion.questionnaire_id))))
    return [refresh(engine, qid, through) for qid in ids]


#: Decoded stored cells and tallied row spans, per process.
memo = Lru(64)


def _stored_cells(conn: Connection, qid: str, layout: Layout, through: dt.date) -> CellTallies:
    """Every stored cell, its last day the half's or ``through``."""
    rows = conn.execute(select(CellTally.starts_on, Unit.code, CellTally.channel, CellTally.same_day, CellTally.n,
                               CellTally.tallies).join(Unit, Unit.id == CellTally.unit_id)
                        .where(CellTally.questionnaire_id == qid)
                        .order_by(CellTally.starts_on, Unit.code, CellTally.channel, CellTally.same_day)).all()
    if not rows:
        return empty_cells(layout)
    starts = [_date(r[0]) for r in rows]
    cells = pd.DataFrame({
        "first": pd.to_datetime(starts).astype("datetime64[s]"),
        "last": pd.to_datetime([min(half_end(s), through) for s in starts]).astype("datetime64[s]"),
        "unit": [r[1] for r in rows], "channel": [r[2] for r in rows],
        "same_day": np.array([np.nan if r[3] == _BLANK else float(r[3]) for r in rows]),
        "n": np.array([r[4] for r in rows], dtype=np.int64)})
    return CellTallies(cells, layout.decode([r[5] for r in rows], int(cells["n"].sum())))


def cells_for(engine: Engine, qid: str, *,
              window: tuple[dt.date | None, dt.date | None] = (None, None)) -> CellTallies:
    """Cells holding every response to ``qid`` exactly once: stored half-months that are
    current, the other days tallied from their rows. A half-month that ``window`` (first
    and last day, either open) cuts comes by day, so the window is a union of whole cells."""
    q = questionnaires.load(qid)
    layout = Layout.of(q)
    with engine.connect() as conn:
        days = _day_counts(conn, qid)
        seal = conn.execute(select(TallySeal).where(TallySeal.questionnaire_id == qid)).first()
        stored_n = _stored_halves(conn, qid) if seal is not None and seal.layout == layout.key else {}
        through = _date(seal.through) if stored_n else None
        actual = _per_half(days, through)
        cut_halves = _cut(*window)
        usable = {h for h, n in stored_n.items() if actual.get(h) == n and h not in cut_halves}
        parts = []
        if usable:
            key = ("stored", str(engine.url), qid, layout.key, through, tuple(sorted(stored_n.items())))
            try:
                stored = memo.get(key, lambda: _stored_cells(conn, qid, layout, through))
            except ValueError:  # damaged cells: the rows give the same numbers, slower
                log.exception("stored cell tallies of %s unreadable; reading responses instead", qid)
                usable = set()
            else:
                starts = stored.cells["first"].dt.date
                parts.append(stored.select(starts.isin(usable).to_numpy()))
    for first, last, grain in _spans(days, usable, through, cut_halves):
        count = sum(n for d, n in days.items() if first <= d <= last)
        key = ("rows", str(engine.url), qid, layout.key, first, last, grain, count)
        parts.append(memo.get(key, lambda f=first, t=last, g=grain: tally_cells(
            _rows(engine, qid, layout, f, t), q, g)))
    return CellTallies.concat(parts, layout)


def _cut(first: dt.date | None, last: dt.date | None) -> set[dt.date]:
    """The half-months a window cuts (a window that begins or ends on their boundary does not)."""
    out = set()
    if first is not None and first != _half_of(first):
        out.add(_half_of(first))
    if last is not None and last != half_end(_half_of(last)):
        out.add(_half_of(last))
    return out


def _spans(days: dict[dt.date, int], usable: set[dt.date], through: dt.date | None,
           cut: set[dt.date]) -> list[tuple[dt.date, dt.date, str]]:
    """The days that usable stored cells do not hold, as (first, last, grain) spans to
    tally from rows: a cut half-month by day, other half-months (and a stored half's days
    after ``through``) by half, adjacent ones read together."""
    spans: list[tuple[dt.date, dt.date, str]] = []
    for start in sorted({_half_of(d) for d in days}):
        end = half_end(start)
        if start in usable:
            if through >= end:
                continue
            start = through + dt.timedelta(days=1)
        grain = DAY if start in cut or _half_of(start) in cut else HALF
        if spans and spans[-1][2] == grain == HALF and spans[-1][1] + dt.timedelta(days=1) == start:
            spans[-1] = (spans[-1][0], end, grain)
        else:
            spans.append((start, end, grain))
    return spans


__all__ = ["Refreshed", "cells_for", "memo", "refresh", "refresh_all"]
