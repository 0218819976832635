"""Reporting periods (methodology §5): calendar periods and the overlapping PAR windows.

Labels: month ``2024-03``, quarter ``2024-Q1``, half ``2024-H1``, year ``2024``, and the
administrative-reform (PAR) reporting windows of Bộ Nội vụ, whose data cut-off is the 14th:

=============== ============================================ ===============
label           window                                       ends
=============== ============================================ ===============
``2024-PAR-Q1`` 15/12/2023 – 14/03/2024                      14/03
``2024-PAR-6M`` 15/12/2023 – 14/06/2024                      14/06
``2024-PAR-Q3`` 15/06/2024 – 14/09/2024                      14/09
``2024-PAR-Y``  15/12/2023 – 14/12/2024                      14/12
=============== ============================================ ===============

PAR windows overlap, so a response belongs to one to three of them (every date belongs to
exactly one PAR year window; a date from 15 December on belongs to the next year's windows).
Grouping by ``par`` therefore duplicates a response into each window it falls in; each
window is then its own domain. PAR labels sort by the window's end date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .design import dense_unique

#: Values accepted by ``analyze(period=...)``.
PERIOD_KINDS = ("month", "quarter", "half", "year", "par")
#: PAR windows in order of their end date.
PAR_WINDOWS = ("Q1", "6M", "Q3", "Y")

_LABEL = re.compile(
    r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])|H(?P<half>[12])"
    r"|PAR-(?P<par>Q1|6M|Q3|Y)))?$"
)


def check_kind(kind: str) -> str:
    """Validate a period kind."""
    if kind not in PERIOD_KINDS:
        raise ValueError(f"period: unknown kind {kind!r}; use one of {', '.join(PERIOD_KINDS)}")
    return kind


def to_dates(values: Any, *, column: str = "submitted_on") -> np.ndarray:
    """Dates as ``datetime64[D]`` (NaT where blank); text must be ISO ``YYYY-MM-DD``.

    A value that is not a date raises ValueError naming ``column`` and the value.

    >>> to_dates(["2024-03-05", None, ""])
    array(['2024-03-05',        'NaT',        'NaT'], dtype='datetime64[D]')
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_localize(None)
        return series.to_numpy().astype("datetime64[D]")
    # Each distinct value parsed once (a year of answers holds 365 dates, not a million).
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype=object)
    blank = distinct.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    cleaned = distinct.where(~blank, None)
    try:
        parsed = pd.to_datetime(cleaned, format="ISO8601", errors="coerce")
    except (TypeError, ValueError):
        parsed = pd.to_datetime(cleaned.map(str).where(~blank, None), errors="coerce")
    bad = parsed.isna().to_numpy() & ~blank
    if bad.any():  # factorize keeps the order of first appearance: the first bad row's value
        raise ValueError(f"{column}: {distinct[np.flatnonzero(bad)[0]]!r} is not a date (expected YYYY-MM-DD)")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    days = np.append(parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"), np.datetime64("NaT"))
    return days[codes]  # code -1 (missing) picks the NaT


def to_date(value: Any, name: str) -> dt.date | None:
    """One date argument (``date_from``/``date_to``): None, a date or ``YYYY-MM-DD``."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a date (expected YYYY-MM-DD)") from None


def _parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1–12) and day of month of ``datetime64[D]`` values (NaT-free).

    Integer arithmetic (H. Hinnant's civil-from-days), several times faster than numpy's
    calendar conversions on a million dates.
    """
    z = days.astype(np.int64) + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def period_codes(dates: Any, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer period codes, expanded for overlapping windows.

    Returns ``(rows, codes)``: positions into ``dates`` and one code per membership,
    so a row appears once per period it belongs to (several times for ``par``, grouped
    by window; never for NaT). Codes sort chronologically; :func:`code_label` turns them into labels.
    """
    check_kind(kind)
    days = dates if isinstance(dates, np.ndarray) and dates.dtype == "datetime64[D]" else (
        to_dates(dates)
    )
    valid = ~np.isnat(days)
    rows = np.flatnonzero(valid)
    ints = days[rows].astype(np.int64)
    if len(ints) and int(ints.max()) - int(ints.min()) < 4 * len(ints) + 1000:
        # Few distinct days: compute the calendar once per day of the range, then gather.
        low = int(ints.min())
        span = np.arange(low, int(ints.max()) + 1, dtype=np.int64).astype("datetime64[D]")
        offsets = ints - low
        year, month, day = (part[offsets] for part in _parts(span))
    else:
        year, month, day = _parts(ints.astype("datetime64[D]"))
    if kind == "month":
        return rows, year * 12 + (month - 1)
    if kind == "quarter":
        return rows, year * 4 + (month - 1) // 3
    if kind == "half":
        return rows, year * 2 + (month - 1) // 6
    if kind == "year":
        return rows, year
    md = month * 100 + day
    late = md >= 1215  # from 15 December a date belongs to the next PAR year
    par_year = year + late
    member = {
        0: late | (md <= 314),
        1: late | (md <= 614),
        2: (md >= 615) & (md <= 914),
        3: np.ones(len(rows), dtype=bool),
    }
    out_rows, out_codes = [], []
    for index, mask in member.items():
        out_rows.append(rows[mask])
        out_codes.append(par_year[mask] * 4 + index)
    return np.concatenate(out_rows), np.concatenate(out_codes)


def code_label(code: int, kind: str) -> str:
    """The label of a code from :func:`period_codes`.

    >>> code_label(2024 * 4 + 0, "quarter"), code_label(2024 * 4 + 1, "par")
    ('2024-Q1', '2024-PAR-6M')
    """
    code = int(code)
    if kind == "month":
        return f"{code // 12}-{code % 12 + 1:02d}"
    if kind == "quarter":
        return f"{code // 4}-Q{code % 4 + 1}"
    if kind == "half":
        return f"{code // 2}-H{code % 2 + 1}"
    if kind == "year":
        return f"{code}"
    if kind == "par":
        return f"{code // 4}-PAR-{PAR_WINDOWS[code % 4]}"
    raise ValueError(f"period: unknown kind {kind!r}")


def period_labels(dates: Any, kind: str) -> pd.Series:
    """Period label of each date.

    For calendar kinds a Series of labels (None where the date is missing); for ``par`` a
    Series of tuples, since PAR windows overlap (``()`` where the date is missing).

    >>> period_labels(["2024-03-14", "2024-12-20"], "quarter").tolist()
    ['2024-Q1', '2024-Q4']
    >>> period_labels(["2024-03-14", "2024-03-15", "2024-12-20"], "par").tolist()
    [('2024-PAR-Q1', '2024-PAR-6M', '2024-PAR-Y'), ('2024-PAR-6M', '2024-PAR-Y'), \
('2025-PAR-Q1', '2025-PAR-6M', '2025-PAR-Y')]
    """
    index = dates.index if isinstance(dates, pd.Series) else None
    days = to_dates(dates)
    rows, codes = period_codes(days, kind)
    low = int(codes.min()) if len(codes) else 0
    uniques, inverse = dense_unique(codes - low)
    uniques = uniques + low
    names = np.array([code_label(c, kind) for c in uniques], dtype=object)
    if kind != "par":
        out = np.full(len(days), None, dtype=object)
        out[rows] = names[inverse]
        return pd.Series(out, index=index, dtype=object)
    lists: list[list[str]] = [[] for _ in range(len(days))]
    for row, name in zip(rows.tolist(), names[inverse].tolist(), strict=True):
        lists[row].append(name)
    return pd.Series([tuple(x) for x in lists], index=index, dtype=object)


def _parse_label(label: str) -> re.Match[str]:
    match = _LABEL.match(str(label))
    if not match:
        raise ValueError(f"period: {label!r} is not a period label such as 2024-Q1 or 2024-PAR-6M")
    return match


def period_bounds(label: str) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a period label.

    >>> period_bounds("2024-Q1")
    (datetime.date(2024, 1, 1), datetime.date(2024, 3, 31))
    >>> period_bounds("2024-PAR-6M")
    (datetime.date(2023, 12, 15), datetime.date(2024, 6, 14))
    """
    m = _parse_label(label)
    year = int(m["year"])
    if m["par"]:
        start = {"Q3": dt.date(year, 6, 15)}.get(m["par"], dt.date(year - 1, 12, 15))
        end = {"Q1": (3, 14), "6M": (6, 14), "Q3": (9, 14), "Y": (12, 14)}[m["par"]]
        return start, dt.date(year, *end)
    if m["month"]:
        first_month, months = int(m["month"]), 1
        if not 1 <= first_month <= 12:
            raise ValueError(f"period: {label!r} has no month {first_month}")
    elif m["quarter"]:
        first_month, months = 3 * (int(m["quarter"]) - 1) + 1, 3
    elif m["half"]:
        first_month, months = 6 * (int(m["half"]) - 1) + 1, 6
    else:
        first_month, months = 1, 12
    start = dt.date(year, first_month, 1)
    last_month = first_month + months  # first month after the period
    after = dt.date(year + (last_month > 12), (last_month - 1) % 12 + 1, 1)
    return start, after - dt.timedelta(days=1)


def period_kind(label: str) -> str:
    """The kind of a period label.

    >>> period_kind("2024-H2"), period_kind("2024-PAR-Y"), period_kind("2024")
    ('half', 'par', 'year')
    """
    m = _parse_label(label)
    for kind in ("month", "quarter", "half", "par"):
        if m[kind]:
            return kind
    return "year"


def period_sort_key(label: str) -> tuple[dt.date, dt.date]:
    """Chronological sort key: (end date, start date); PAR windows sort by their cut-off."""
    start, end = period_bounds(label)
    return end, start


def previous_period(label: str) -> str:
    """The period before ``label`` of the same kind; for PAR windows the same window one
    year earlier (the windows are not a sequence).

    >>> previous_period("2024-Q1"), previous_period("2024-01"), previous_period("2024-PAR-6M")
    ('2023-Q4', '2023-12', '2023-PAR-6M')
    """
    m = _parse_label(label)
    year = int(m["year"])
    if m["par"]:
        return f"{year - 1}-PAR-{m['par']}"
    if m["month"]:
        month = int(m["month"])
        return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    if m["quarter"]:
        q = int(m["quarter"])
        return f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"
    if m["half"]:
        return f"{year - 1}-H2" if m["half"] == "1" else f"{year}-H1"
    return f"{year - 1}"


# -- grouping by keys and periods ------------------------------------------------------------
@dataclass
class Grouping:
    """Analysed rows and their groups (see :func:`group_rows`)."""

    rows: np.ndarray | None  # input positions of the analysed rows (None: every row once)
    gid: np.ndarray  # group of each analysed row
    keys: list[dict[str, Any]]
    unique_rows: np.ndarray | None  # input rows analysed at least once (None: all)

    @property
    def G(self) -> int:
        return len(self.keys)


def _factorize(values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Sorted codes with blanks last (as their own group, key None)."""
    try:
        codes, uniques = pd.factorize(values, sort=True)
        labels = list(uniques)
    except TypeError:  # mixed types: sort by text
        codes, uniques = pd.factorize(values, sort=False)
        order = sorted(range(len(uniques)), key=lambda i: str(uniques[i]))
        remap = np.empty(len(order), dtype=np.int64)
        remap[order] = np.arange(len(order))
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        labels = [uniques[i] for i in order]
    codes = np.asarray(codes, dtype=np.int64)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(None)
    return codes, labels


def group_rows(
    df: pd.DataFrame, by: tuple[str, ...], period: str | None, date_from: dt.date | None,
    date_to: dt.date | None,
) -> Grouping:
    """Factorise the group keys once: the analysed rows (positions into ``df``, repeated
    for overlapping PAR windows), a group id per analysed row, and the keys of each group,
    sorted by the ``by`` values (blanks last) and then chronologically by period."""
    n_rows = len(df)
    rows: np.ndarray | None = None
    period_code = None
    if period is not None or date_from is not None or date_to is not None:
        days = to_dates(df["submitted_on"])
        if date_from is not None or date_to is not None:
            keep = ~np.isnat(days)
            if date_from is not None:
                keep &= days >= np.datetime64(date_from, "D")
            if date_to is not None:
                keep &= days <= np.datetime64(date_to, "D")
            rows = np.flatnonzero(keep)
        if period is not None:
            base = days if rows is None else days[rows]
            sub_rows, period_code = period_codes(base, period)
            rows = sub_rows if rows is None else rows[sub_rows]
    if rows is not None and period != "par" and len(rows) == n_rows:
        rows = None  # every row exactly once, in order
    parts: list[tuple[np.ndarray, list[Any]]] = []
    for column in by:
        codes, labels = _factorize(df[column])
        parts.append((codes if rows is None else codes[rows], labels))
    if period is not None and period_code is not None:
        low = int(period_code.min()) if len(period_code) else 0
        top = int(period_code.max()) if len(period_code) else 0
        labels = [code_label(c, period) for c in range(low, top + 1)]
        parts.append((period_code - low, labels))
    names = [*by, *(["period"] if period is not None else [])]
    n_analysed = n_rows if rows is None else len(rows)
    if not parts:
        gid = np.zeros(n_analysed, dtype=np.int64)
        keys: list[dict[str, Any]] = [{}]
    else:
        key = np.zeros(n_analysed, dtype=np.int64)
        radix = 1
        for codes, labels in reversed(parts):
            key += codes * radix
            radix *= len(labels)
        if radix <= 8 * n_analysed + 1024:
            present = np.bincount(key, minlength=radix) > 0
            uniq = np.flatnonzero(present)
            remap = np.cumsum(present) - 1
            gid = remap[key]
        else:
            uniq, gid = np.unique(key, return_inverse=True)
            gid = gid.ravel()
        keys = []
        for value in uniq.tolist():
            digits = []
            for _codes, labels in reversed(parts):
                digits.append(labels[value % len(labels)])
                value //= len(labels)
            keys.append(dict(zip(names, reversed(digits), strict=True)))
    unique_rows = None
    if rows is not None:
        seen = np.zeros(n_rows, dtype=bool)
        seen[rows] = True
        unique_rows = np.flatnonzero(seen)
    return Grouping(rows, gid.astype(np.int64), keys, unique_rows)
