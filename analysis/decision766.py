"""The satisfaction items of Quyết định 766/QĐ-TTg that sipas's own data supports, per unit
and period, with intervals (docs/analysis.md, "The 766 satisfaction component").

Counts come from the database as aggregates (GROUP BY in SQL; a few rows per unit reach
this process); :func:`items` turns them into the items. Every item is a share x/n with a
Wilson interval (methodology §3.1); the items are counts of a whole population of cases or
dossiers, so the interval reads as the uncertainty of the underlying rate, not of a sample.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .intervals import proportion_ci_array
from .periods import period_bounds

#: item key -> (Vietnamese name, English name)
ITEMS = {
    "feedback_on_time": ("Tỷ lệ phản ánh, kiến nghị được xử lý đúng hạn",
                         "Complaints and requests handled on time"),
    "handling_satisfaction": ("Tỷ lệ hài lòng với việc xử lý phản ánh, kiến nghị",
                              "Satisfied with how complaints and requests were handled"),
    "procedure_satisfaction": ("Tỷ lệ hồ sơ không bị đánh giá không hài lòng (methodology §2.5)",
                               "Dossiers not rated dissatisfied (methodology §2.5)"),
    "complaint_or_dissatisfied": ("Tỷ lệ hồ sơ có phản ánh, kiến nghị hoặc đánh giá không hài lòng",
                                  "Dossiers with a complaint, a request or a dissatisfied rating"),
    "overdue": ("Tỷ lệ hồ sơ quá hạn (từ hệ thống một cửa)", "Overdue dossiers (from the one-stop system)"),
    "satisfaction_766": ("Mức độ hài lòng: 100 % − (% quá hạn + % có phản ánh hoặc không hài lòng)",
                         "Satisfaction: 100 % − (% overdue + % with a complaint or dissatisfied)"),
}

_PER_DOSSIER = {"procedure_satisfaction", "complaint_or_dissatisfied"}
COUNT_COLUMNS = ("dossiers", "answered", "dissatisfied", "cases", "cases_from_dossiers", "on_time", "late",
                 "pending", "rated", "rated_satisfied", "decided", "overdue")


@dataclass(frozen=True)
class Item:
    key: str
    x: float
    n: float
    estimate: float  # percent; NaN when n is 0
    low: float
    high: float
    note: str = ""


def items(counts: pd.Series | dict[str, Any], *, confidence: float = 0.95) -> list[Item]:
    """The 766 items from one unit's (or a total's) counts: :func:`items_of` for one row."""
    return items_of(pd.DataFrame([dict(counts)]), confidence=confidence)[0]


def items_of(counts: pd.DataFrame, *, confidence: float = 0.95) -> list[list[Item]]:
    """The 766 items of each row of ``counts`` (a unit's or a total's counts), a column at a
    time (a province's hundreds of units: one interval computation per item, not per unit);
    ``decided``/``overdue`` are NaN when the one-stop system's counts were not imported.

    - feedback handled on time: cases closed by their deadline / cases closed or past due
      (cases still open and not yet due are left out: ``pending``);
    - satisfaction with the handling: cases rated satisfied / cases rated;
    - procedure satisfaction (§2.5): (dossiers − dissatisfied) / dossiers;
    - share of dossiers with a complaint or request or a dissatisfied rating:
      (dissatisfied + cases from dossiers) / dossiers, the two counted apart (a case is not
      linked to its response, so a dissatisfied person who also complained counts twice:
      an upper bound, capped at the dossiers);
    - overdue dossiers: overdue / decided, imported;
    - satisfaction = 100 − (overdue % + complaint-or-dissatisfied %), its interval that of
      the second term (the overdue share is a count of every dossier, without sampling error).
    """
    c = {k: counts[k].to_numpy(np.float64) if k in counts else np.full(len(counts), np.nan) for k in COUNT_COLUMNS}
    flagged = np.minimum(c["dissatisfied"] + c["cases_from_dossiers"], c["dossiers"])
    pairs = {
        "feedback_on_time": (c["on_time"], c["on_time"] + c["late"]),
        "handling_satisfaction": (c["rated_satisfied"], c["rated"]),
        "procedure_satisfaction": (c["dossiers"] - c["dissatisfied"], c["dossiers"]),
        "complaint_or_dissatisfied": (flagged, c["dossiers"]),
        "overdue": (c["overdue"], c["decided"]),
    }
    columns = {key: _shares(key, x, n, confidence) for key, (x, n) in pairs.items()}
    out: list[list[Item]] = []
    for i in range(len(counts)):
        row = [Item(key, float(x[i]), float(n[i]), est[i], low[i], high[i], notes[i])
               for key, (x, n) in pairs.items() for est, low, high, notes in [columns[key]]]
        overdue, flagged_item = row[-1], row[-2]
        if np.isnan(overdue.estimate) or np.isnan(flagged_item.estimate):
            note = ("cần số hồ sơ quá hạn từ hệ thống một cửa (sipas dossiers import)" if np.isnan(overdue.estimate)
                    else "chưa có hồ sơ nào được phát mã trong kỳ")
            row.append(Item("satisfaction_766", np.nan, np.nan, np.nan, np.nan, np.nan, note))
        else:
            base = 100.0 - overdue.estimate
            row.append(Item("satisfaction_766", np.nan, np.nan, base - flagged_item.estimate,
                            base - flagged_item.high, base - flagged_item.low))
        if c["pending"][i] > 0:
            first = row[0]
            row[0] = Item(first.key, first.x, first.n, first.estimate, first.low, first.high,
                          f"{int(c['pending'][i])} chưa đến hạn, chưa tính")
        out.append(row)
    return out


def _shares(key: str, x: np.ndarray, n: np.ndarray, confidence: float) -> tuple[list, list, list, list[str]]:
    """Estimates and Wilson bounds in percent of x/n per row (NaN without data), and notes."""
    has = n > 0  # False for NaN too
    low, high = proportion_ci_array(np.where(has, x, 0.0), np.where(has, n, 0.0), "wilson", confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = np.where(has, 100.0 * x / n, np.nan)
    empty = "chưa phát mã nào trong kỳ" if key in _PER_DOSSIER else "không có trường hợp nào trong kỳ"
    notes = ["" if h else ("không có số liệu" if np.isnan(m) else empty) for h, m in zip(has, n, strict=True)]
    return estimate.tolist(), (100.0 * low).tolist(), (100.0 * high).tolist(), notes


def table(counts: pd.DataFrame, *, confidence: float = 0.95, lang: str = "vi") -> pd.DataFrame:
    """One row per unit (the index of ``counts``) and item: numerator, denominator, the
    estimate and interval in percent, and a note."""
    rows = [{"unit": unit, "item": item.key, "name": ITEMS[item.key][lang == "en"], "x": item.x, "n": item.n,
             "estimate": item.estimate, "ci_low": item.low, "ci_high": item.high, "note": item.note}
            for unit, found in zip(counts.index, items_of(counts, confidence=confidence), strict=True)
            for item in found]
    return pd.DataFrame(rows, columns=["unit", "item", "name", "x", "n", "estimate", "ci_low", "ci_high", "note"])


def dissatisfied_levels(scale_values: Iterable[int]) -> tuple[int, ...]:
    """The levels below a scale's midpoint: 1 on a 3-level scale, 1-2 on a 5-level one."""
    values = sorted(scale_values)
    middle = (values[0] + values[-1]) / 2
    return tuple(v for v in values if v < middle)


def local_bounds_utc(start: dt.date, end: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """The naive-UTC instants at which local ``start`` begins and local ``end`` ends."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)

    def utc(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC).replace(tzinfo=None)

    return utc(start), utc(end + dt.timedelta(days=1))


def roll_up(counts: pd.DataFrame, group_of: dict[str, str]) -> pd.DataFrame:
    """Per-unit counts summed into groups (``group_of``: unit code -> group; the total row
    ``*`` and units not in the mapping are left out); imported counts stay NaN for a group
    none of whose units imported any."""
    rows = counts.drop(index="*", errors="ignore")
    rows = rows[rows.index.isin(list(group_of))]
    return rows.groupby(rows.index.map(group_of)).sum(min_count=1).reindex(columns=counts.columns)


def load_counts(url: Any, period: str, *, units: Iterable[str] | str | None = None,
                as_of: dt.date | None = None, timezone: str = "Asia/Ho_Chi_Minh") -> pd.DataFrame:
    """The counts :func:`items` needs, per unit (merged units under their successor, by
    code) and a total row ``"*"``, for the period label (``2026-Q2``...): codes by the local
    date they were issued, answers by the date submitted, cases by the date received,
    imported one-stop counts by the months that start in the period. ``as_of`` (default
    today) decides which open cases are past their deadline."""
    from .decision766_sql import read_counts

    start, end = period_bounds(period)
    as_of = as_of or dt.date.today()
    per_unit = read_counts(url, start, end, local_bounds_utc(start, end, timezone), units, as_of)
    total = per_unit.sum(numeric_only=True, min_count=1).to_frame("*").T  # NaN where no unit imported counts
    return pd.concat([per_unit, total])
