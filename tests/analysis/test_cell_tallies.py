"""Analyses from cell tallies (half-months or days × unit × channel × same-day) equal the
analyses of the rows they tally, to 1e-9, for every grouping the dashboard and the API ask."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.cell_tallies import DAY, CellTallies, Layout, analyze_cells, half_end, half_start, tally_cells

from .test_indb import assert_same


@pytest.fixture(scope="module")
def rows(sipas) -> pd.DataFrame:
    """2,000 correlated responses over 500 days, three units, two channels, blanks."""
    rng = np.random.default_rng(3)
    n = 2000
    latent = rng.normal(0.4, 1, n)
    data = {"unit": rng.choice(["A", "B", "C"], n), "channel": rng.choice(["single", "counter"], n),
            "same_day": np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 2, n)).astype("float32"),
            "submitted_on": pd.to_datetime(np.datetime64("2024-01-01") + rng.integers(0, 500, n))}
    for c in sipas.criteria:
        score = np.clip(np.rint(3.5 + latent + rng.normal(0, 1, n)), 1, 5)
        score[rng.random(n) < 0.1] = np.nan
        data[c.code] = score.astype("float32")
    data["HL"] = np.clip(np.rint(3.6 + latent), 1, 5)
    for e in sipas.expectations:
        data[e.code] = rng.integers(1, 4, n).astype(float)
    return pd.DataFrame(data)


@pytest.fixture(scope="module")
def halves(rows, sipas) -> CellTallies:
    return tally_cells(rows, sipas)


@pytest.mark.parametrize("options", [
    {}, {"by": "unit"}, {"period": "quarter"}, {"by": "same_day"}, {"by": ["unit", "channel"], "period": "par"},
    {"period": "month", "ci_method": "jeffreys", "confidence": 0.9, "small_n": 50, "max_width": 10.0},
])
def test_half_month_cells_give_the_rows_analysis(rows, halves, sipas, options):
    assert halves.n == len(rows) and len(halves) < len(rows) / 2
    assert_same(analyze_cells(halves, sipas, **options).to_json(), analysis.analyze(rows, sipas, **options).to_json())


def test_a_window_is_a_domain_of_whole_cells(rows, halves, sipas):
    """Cells outside the window still count in the variance's n, as rows outside it do."""
    window = {"date_from": dt.date(2024, 3, 15), "date_to": dt.date(2024, 9, 30)}  # half-month boundaries
    expected = analysis.analyze(rows, sipas, by="unit", period="quarter", **window).to_json()
    assert_same(analyze_cells(halves, sipas, by="unit", period="quarter", **window).to_json(), expected)
    days = tally_cells(rows, sipas, DAY)
    odd = {"date_from": dt.date(2024, 3, 10), "date_to": dt.date(2024, 9, 3)}
    assert_same(analyze_cells(days, sipas, **odd).to_json(), analysis.analyze(rows, sipas, **odd).to_json())
    with pytest.raises(ValueError, match="straddles"):
        analyze_cells(halves, sipas, **odd)


def test_selected_cells_are_the_selected_rows(rows, halves, sipas):
    mask = (halves.cells["unit"] == "A") & (halves.cells["channel"] == "single")
    chosen = rows[(rows["unit"] == "A") & (rows["channel"] == "single")]
    assert_same(analyze_cells(halves.select(mask), sipas, by="same_day").to_json(),
                analysis.analyze(chosen, sipas, by="same_day").to_json())
    nothing = halves.select(np.zeros(len(halves), dtype=bool))
    assert_same(analyze_cells(nothing, sipas).to_json(), analysis.analyze(rows.iloc[:0], sipas).to_json())


def test_stored_bytes_give_back_the_tallies(rows, halves, sipas):
    layout = Layout.of(sipas)
    decoded = layout.decode([layout.encode(halves.tallies, i) for i in range(len(halves))], halves.n)
    for code, _ in layout.items:
        np.testing.assert_array_equal(decoded.levels[code], halves.tallies.levels[code])
    np.testing.assert_array_equal(decoded.gram, halves.tallies.gram)
    both = CellTallies.concat([CellTallies(halves.cells, decoded), halves.select(halves.cells["unit"] == "B")], layout)
    doubled = pd.concat([rows, rows[rows["unit"] == "B"]], ignore_index=True)
    assert_same(analyze_cells(both, sipas, by="unit").to_json(), analysis.analyze(doubled, sipas, by="unit").to_json())
    with pytest.raises(ValueError, match="layout"):
        layout.decode([layout.encode(halves.tallies, 0)[:-3] + b"xyz"], 1)


def test_cells_refuse_what_they_do_not_keep(halves, sipas):
    with pytest.raises(ValueError, match="procedure"):
        analyze_cells(halves, sipas, by="procedure")


@pytest.mark.parametrize(("day", "start", "end"), [
    ("2024-02-14", "2024-02-01", "2024-02-14"), ("2024-02-15", "2024-02-15", "2024-02-29"),
    ("2023-02-28", "2023-02-15", "2023-02-28"), ("2024-12-31", "2024-12-15", "2024-12-31"),
    ("2025-01-01", "2025-01-01", "2025-01-14"),
])
def test_half_months(day, start, end):
    assert str(half_start([day])[0]) == start
    assert half_end(dt.date.fromisoformat(start)) == dt.date.fromisoformat(end)


@pytest.mark.parametrize("rows,groups", [(4000, 1434), (5000, 3), (300, 300), (45_000, 40), (10, 50)])
def test_the_two_ways_of_counting_pairs_agree(rows, groups, monkeypatch):
    """Σ x xᵀ per group by joint states of blocks (few groups) and row by row (many small
    groups, the day's cells of a province): the same counts, empty groups and row chunks
    included."""
    from analysis import tallies

    monkeypatch.setattr(tallies, "_ROW_CHUNK", 7_000)
    rng = np.random.default_rng(rows)
    criteria = tuple(f"C{i}" for i in range(19))
    codes = {k: rng.integers(0, 6, rows).astype(np.int8) for k in criteria}
    states = {k: np.array([0, 1, 1, 1, 2, 2], dtype=np.int16) for k in criteria}
    gid = rng.integers(0, groups, rows)
    by_rows = tallies._gram_by_rows(codes, states, criteria, gid, groups)
    assert np.array_equal(by_rows, tallies._gram_by_states(codes, states, criteria, gid, groups))
    assert by_rows.sum() > 0
