"""Tallies per cell of time × unit × channel × same-day, and the analysis from them.

A *cell* holds the responses of one unit, channel and same-day flag over a span of days: a
half-month (the 1st–14th or the 15th–end, so every calendar period and every PAR window is a
union of whole cells) or a single day. Its :class:`analysis.tallies.Tallies` — level counts
per question, the criteria's indicator cross-products, respondents answering each
composite — add up, so the analysis of any union of cells grouped by unit, channel,
same-day and period is the analysis of its rows (without a design), computed from a few
thousand cells instead of a million rows. The dashboard keeps the half-month cells in the
database (written by the nightly seal) and tallies the other days from their rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from questionnaires import Questionnaire

from .estimator import estimate, question_scales
from .intervals import check_confidence, normalize_ci_method
from .periods import group_rows
from .results import MAX_WIDTH, SMALL_N, AnalysisResult
from .tallies import Tallies, TallySource

#: What a cell is keyed by besides its days (columns of the export format).
CELL_COLUMNS = ("unit", "channel", "same_day")
#: The grains a cell's days can have.
HALF, DAY = "half", "day"


def half_start(days: Any) -> np.ndarray:
    """The first day of each date's half-month (the 1st or the 15th), datetime64[D]."""
    days = np.asarray(days, dtype="datetime64[D]")
    first = days.astype("datetime64[M]").astype("datetime64[D]")
    return np.where(days - first >= 14, first + 14, first)


def half_end(start: dt.date) -> dt.date:
    """The last day of the half-month that begins on ``start``."""
    if start.day == 1:
        return start.replace(day=14)
    following = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


@dataclass(frozen=True)
class Layout:
    """Which numbers a cell's tallies hold, in order: the level counts of each question
    (``items``: code and top level), the Gram matrix of ``criteria`` (upper triangle) and the
    answered counts of each composite (``composites``)."""

    items: tuple[tuple[str, int], ...]
    criteria: tuple[str, ...]
    composites: tuple[str, ...]

    @classmethod
    def of(cls, q: Questionnaire) -> Layout:
        scales = question_scales(q)
        codes = [c.code for c in q.criteria] + ([q.general.code] if q.general else []) \
            + [e.code for e in q.expectations]
        composites = [e.code for e in q.elements] + ["__overall__"]
        return cls(tuple((k, int(scales[k].max)) for k in codes), tuple(c.code for c in q.criteria),
                   tuple(composites))

    @property
    def key(self) -> str:
        """A short fingerprint: stored cells of another layout are not read."""
        text = json.dumps([self.items, self.criteria, self.composites])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def encode(self, t: Tallies, cell: int) -> bytes:
        """One cell's tallies as compressed little-endian int64s."""
        upper = np.triu_indices(2 * len(self.criteria))
        parts = [t.levels[k][cell] for k, _ in self.items]
        parts += [t.gram[cell][upper], np.array([t.answered[c][cell] for c in self.composites])]
        return zlib.compress(np.concatenate(parts).astype("<i8").tobytes(), 1)

    def decode(self, blobs: Sequence[bytes], n_rows: int) -> Tallies:
        """The tallies of cells stored by :meth:`encode` (one group per blob)."""
        size = 2 * len(self.criteria)
        width = sum(top + 1 for _, top in self.items) + size * (size + 1) // 2 + len(self.composites)
        try:
            data = np.frombuffer(b"".join(zlib.decompress(b) for b in blobs), dtype="<i8")
        except zlib.error:
            data = np.zeros(0, dtype="<i8")
        if data.size != width * len(blobs):
            raise ValueError("stored cell tallies do not match their layout; rebuild them (sipas seal)")
        data = data.reshape(len(blobs), width).astype(np.int64)
        levels, at = {}, 0
        for code, top in self.items:
            levels[code] = data[:, at:at + top + 1]
            at += top + 1
        upper = np.triu_indices(size)
        gram = np.zeros((len(blobs), size, size), dtype=np.int64)
        gram[:, upper[0], upper[1]] = data[:, at:at + len(upper[0])]
        gram[:, upper[1], upper[0]] = data[:, at:at + len(upper[0])]
        at += len(upper[0])
        answered = {c: data[:, at + j] for j, c in enumerate(self.composites)}
        return Tallies(levels, gram, self.criteria, answered, n_rows)


@dataclass(frozen=True)
class CellTallies:
    """Cells (``cells``: first and last day, the :data:`CELL_COLUMNS`, responses ``n``)
    and their tallies (group g of ``tallies`` is row g of ``cells``)."""

    cells: pd.DataFrame
    tallies: Tallies

    def __len__(self) -> int:
        return len(self.cells)

    @property
    def n(self) -> int:
        return int(self.cells["n"].sum())

    def select(self, mask: Any) -> CellTallies:
        mask = np.asarray(mask, dtype=bool)
        index = np.flatnonzero(mask)
        t = self.tallies
        picked = Tallies({k: v[index] for k, v in t.levels.items()}, t.gram[index], t.criteria,
                         {k: v[index] for k, v in t.answered.items()}, int(self.cells["n"].to_numpy()[index].sum()))
        return CellTallies(self.cells.iloc[index].reset_index(drop=True), picked)

    @staticmethod
    def concat(parts: Sequence[CellTallies], layout: Layout) -> CellTallies:
        parts = [p for p in parts if len(p)]
        if not parts:
            return empty_cells(layout)
        t = [p.tallies for p in parts]
        tallies = Tallies({k: np.concatenate([x.levels[k] for x in t]) for k, _ in layout.items},
                          np.concatenate([x.gram for x in t]), layout.criteria,
                          {c: np.concatenate([x.answered[c] for x in t]) for c in layout.composites},
                          sum(p.n for p in parts))
        return CellTallies(pd.concat([p.cells for p in parts], ignore_index=True), tallies)


_CELL_FRAME = {"first": "datetime64[s]", "last": "datetime64[s]", "unit": object, "channel": object,
               "same_day": "float64", "n": "int64"}


def empty_cells(layout: Layout) -> CellTallies:
    size = 2 * len(layout.criteria)
    tallies = Tallies({k: np.zeros((0, top + 1), dtype=np.int64) for k, top in layout.items},
                      np.zeros((0, size, size), dtype=np.int64), layout.criteria,
                      {c: np.zeros(0, dtype=np.int64) for c in layout.composites}, 0)
    return CellTallies(pd.DataFrame({k: pd.Series(dtype=v) for k, v in _CELL_FRAME.items()}), tallies)


def tally_cells(frame: pd.DataFrame, q: Questionnaire, grain: str = HALF) -> CellTallies:
    """The cells of ``frame`` (responses in the export format, every one dated) and their
    tallies, counted by the analysis itself (:func:`analysis.analyze` keeps the tallies it
    computes the composites from), so cells hold exactly what an analysis of the rows uses."""
    from .indices import analyze

    layout = Layout.of(q)
    if frame.empty:
        return empty_cells(layout)
    days = frame["submitted_on"].to_numpy().astype("datetime64[D]")
    if np.isnat(days).any():
        raise ValueError("every response needs its submitted_on day to be tallied")
    first = half_start(days) if grain == HALF else days
    # same_day as the export's float flag (0, 1 or blank), whatever width the frame kept it in
    keyed = frame.assign(_first=first.astype("datetime64[s]"),
                         same_day=pd.to_numeric(frame["same_day"]).astype("float64"))
    kept: list[Tallies] = []
    result = analyze(keyed, q, by=("_first", *CELL_COLUMNS), _tallies=kept, _counts_only=True)
    missing = [k for k, _ in layout.items if k not in kept[0].levels]
    if missing:
        raise ValueError(f"the responses have no column for {', '.join(missing)}")
    tallies = kept[0]
    cells = pd.DataFrame([dict(g.keys) for g in result.groups]).rename(columns={"_first": "first"})
    cells["first"] = cells["first"].astype("datetime64[s]")
    cells["last"] = cells["first"] if grain == DAY else pd.to_datetime(
        [half_end(d.date()) for d in cells["first"]]).astype("datetime64[s]")
    cells["same_day"] = cells["same_day"].astype("float64")
    cells["n"] = np.array([g.n for g in result.groups], dtype=np.int64)
    tallies = Tallies({k: tallies.levels[k] for k, _ in layout.items}, tallies.gram, tallies.criteria,
                      {c: tallies.answered[c] for c in layout.composites}, int(cells["n"].sum()))
    return CellTallies(cells[list(_CELL_FRAME)], tallies)


def analyze_cells(
    data: CellTallies, q: Questionnaire, *, by: str | Sequence[str] = (), period: str | None = None,
    date_from: dt.date | None = None, date_to: dt.date | None = None, ci_method: str = "wilson",
    confidence: float = 0.95, small_n: int = SMALL_N, max_width: float = MAX_WIDTH,
) -> AnalysisResult:
    """``analyze(rows, q, by=..., period=..., date_from=..., date_to=...)`` of the rows the
    cells tally (no design). ``by`` takes :data:`CELL_COLUMNS`; a date window is a domain
    (cells outside it still count in the variance's n) and every cell must lie wholly
    inside or outside it."""
    from .indices import check_options

    confidence = check_confidence(confidence)
    method = normalize_ci_method(ci_method)
    by_t, date_from, date_to = check_options(by, period, date_from, date_to, small_n, max_width)
    other = [column for column in by_t if column not in CELL_COLUMNS]
    if other:
        raise ValueError(f"by: cells are kept by {', '.join(CELL_COLUMNS)} only, not {', '.join(other)}")
    cells = data.cells.assign(submitted_on=data.cells["first"])
    inside = np.ones(len(cells), dtype=bool)
    if date_from is not None or date_to is not None:
        first, last = cells["first"].dt.date, cells["last"].dt.date
        low, high = date_from or dt.date.min, date_to or dt.date.max
        inside = ((first >= low) & (last <= high)).to_numpy()
        outside = ((last < low) | (first > high)).to_numpy()
        if not (inside | outside).all():
            raise ValueError("a cell straddles the date window; tally those days by day")
    grouping = group_rows(cells.loc[inside].reset_index(drop=True), by_t, period, None, None)
    columns = np.flatnonzero(inside)
    rows = columns if grouping.rows is None else columns[grouping.rows]
    mix = np.zeros((grouping.G, len(cells)))
    np.add.at(mix, (grouping.gid, rows), 1.0)
    tallies = dataclasses.replace(data.tallies.combine(mix), n_rows=data.n)
    src = TallySource(tallies, method=method, confidence=confidence)
    groups = estimate(q, src, small_n=int(small_n), max_width=float(max_width), grouping=grouping)
    return AnalysisResult(
        questionnaire=q, confidence=confidence, ci_method=method, weight=None, strata=None, cluster=None,
        df=None, by=by_t, period=period, date_from=date_from, date_to=date_to, bootstrap=None,
        small_n=int(small_n), max_width=float(max_width), groups=groups)
