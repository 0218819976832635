"""Calendar periods and PAR reporting windows (methodology §5)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis import (
    period_bounds,
    period_kind,
    period_labels,
    period_sort_key,
    previous_period,
)
from analysis.periods import period_codes, to_dates


@pytest.mark.parametrize(
    "kind,expected",
    [
        ("month", ["2024-01", "2024-03", "2024-12", None]),
        ("quarter", ["2024-Q1", "2024-Q1", "2024-Q4", None]),
        ("half", ["2024-H1", "2024-H1", "2024-H2", None]),
        ("year", ["2024", "2024", "2024", None]),
    ],
)
def test_calendar_labels(kind: str, expected: list) -> None:
    dates = pd.Series(["2024-01-01", "2024-03-31", "2024-12-31", ""], index=[5, 6, 7, 8])
    labels = period_labels(dates, kind)
    assert labels.tolist() == expected and labels.index.tolist() == [5, 6, 7, 8]


@pytest.mark.parametrize(
    "day,windows",
    [
        ("2023-12-14", ("2023-PAR-Y",)),
        ("2023-12-15", ("2024-PAR-Q1", "2024-PAR-6M", "2024-PAR-Y")),
        ("2024-03-14", ("2024-PAR-Q1", "2024-PAR-6M", "2024-PAR-Y")),
        ("2024-03-15", ("2024-PAR-6M", "2024-PAR-Y")),
        ("2024-06-14", ("2024-PAR-6M", "2024-PAR-Y")),
        ("2024-06-15", ("2024-PAR-Q3", "2024-PAR-Y")),
        ("2024-09-14", ("2024-PAR-Q3", "2024-PAR-Y")),
        ("2024-09-15", ("2024-PAR-Y",)),
        ("2024-12-14", ("2024-PAR-Y",)),
        ("2024-02-29", ("2024-PAR-Q1", "2024-PAR-6M", "2024-PAR-Y")),
    ],
)
def test_par_windows(day: str, windows: tuple[str, ...]) -> None:
    assert period_labels([day], "par").tolist() == [windows]
    for label in windows:
        start, end = period_bounds(label)
        assert start <= dt.date.fromisoformat(day) <= end


def test_par_every_day_of_a_year() -> None:
    days = pd.date_range("2023-12-15", "2024-12-14", freq="D")
    labels = period_labels(pd.Series(days), "par")
    assert all("2024-PAR-Y" in x for x in labels)
    counts = pd.Series([w for x in labels for w in x]).value_counts()
    assert counts["2024-PAR-Q1"] == (dt.date(2024, 3, 14) - dt.date(2023, 12, 14)).days
    assert counts["2024-PAR-6M"] == (dt.date(2024, 6, 14) - dt.date(2023, 12, 14)).days
    assert counts["2024-PAR-Q3"] == (dt.date(2024, 9, 14) - dt.date(2024, 6, 14)).days
    assert counts["2024-PAR-Y"] == 366


def test_period_codes_expand_rows() -> None:
    rows, codes = period_codes(to_dates(["2024-01-10", None, "2024-07-01"]), "par")
    pairs = sorted(zip(rows.tolist(), codes.tolist(), strict=True))
    assert pairs == [(0, 2024 * 4 + 0), (0, 2024 * 4 + 1), (0, 2024 * 4 + 3),
                     (2, 2024 * 4 + 2), (2, 2024 * 4 + 3)]


def test_calendar_parts_match_pandas_over_centuries() -> None:
    days = pd.Series(pd.date_range("1890-01-01", "2110-12-31", freq="13D"))
    assert period_labels(days, "month").tolist() == days.dt.strftime("%Y-%m").tolist()
    sparse = pd.Series(pd.to_datetime(["1900-02-28", "2000-02-29", "2100-03-01"]))
    assert period_labels(sparse, "quarter").tolist() == ["1900-Q1", "2000-Q1", "2100-Q1"]


def test_bounds_kinds_order_and_previous() -> None:
    assert period_bounds("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert period_bounds("2024-H2") == (dt.date(2024, 7, 1), dt.date(2024, 12, 31))
    assert period_bounds("2024") == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert period_bounds("2024-PAR-Q3") == (dt.date(2024, 6, 15), dt.date(2024, 9, 14))
    assert period_bounds("2024-PAR-Y") == (dt.date(2023, 12, 15), dt.date(2024, 12, 14))
    assert [period_kind(x) for x in ("2024-05", "2024-Q2", "2024-H1", "2024", "2024-PAR-Q1")] \
        == ["month", "quarter", "half", "year", "par"]
    labels = ["2024-PAR-Y", "2024-PAR-Q3", "2024-PAR-6M", "2024-PAR-Q1", "2023-PAR-Y"]
    assert sorted(labels, key=period_sort_key) == [
        "2023-PAR-Y", "2024-PAR-Q1", "2024-PAR-6M", "2024-PAR-Q3", "2024-PAR-Y"]
    assert previous_period("2024-H1") == "2023-H2" and previous_period("2024") == "2023"
    assert previous_period("2024-Q3") == "2024-Q2" and previous_period("2024-11") == "2024-10"
    for bad in ("2024-Q5", "2024-13", "24-Q1", "2024-PAR-Q2"):
        with pytest.raises(ValueError, match="period:"):
            period_bounds(bad)


def test_to_dates_accepts_dates_and_timestamps() -> None:
    values = [dt.date(2024, 1, 2), pd.Timestamp("2024-01-03 10:00"), "2024-01-04", np.nan]
    out = to_dates(values)
    assert out.astype(str).tolist() == ["2024-01-02", "2024-01-03", "2024-01-04", "NaT"]
    tz = pd.Series(pd.to_datetime(["2024-01-02 23:30"]).tz_localize("Asia/Ho_Chi_Minh"))
    assert to_dates(tz).astype(str).tolist() == ["2024-01-02"]
    with pytest.raises(ValueError, match="submitted_on: 'hôm qua' is not a date"):
        to_dates(["hôm qua"])
    with pytest.raises(ValueError, match="period: unknown kind 'week'"):
        period_labels(["2024-01-01"], "week")
