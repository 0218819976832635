"""A unit against the rest as two domains of one design, against R's survey package
(tests/analysis/reference/rest_reference.R on rest_fixture.csv): svytotal of the domain
numerators and denominators, then svycontrast of the difference (issue 20).

Tolerances: differences and the two sides' indices 1e-7 points, SEs 1e-5 points, interval
ends 1e-3 points. Without a design a proportion is compared as two independent samples
(Newcombe, methodology §4), so only its estimate is checked there; composites match R."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis
import questionnaires
from analysis.compare import compare_units

HERE = Path(__file__).with_name("reference")
R = json.loads((HERE / "rest_reference.json").read_text())
DESIGNS = {
    "srs": {},
    "weights": {"weight": "weight"},
    "unit_psus": {"weight": "weight", "strata": "stratum", "cluster": "psu_unit"},
    "shared_psus": {"weight": "weight", "strata": "stratum", "cluster": "psu_shared"},
}
CODES = {("general", "general"): "general", ("overall", "overall"): "overall", ("criterion", "DG1"): "DG1",
         ("criterion", "DG2"): "DG2", ("criterion", "DG3"): "DG3"}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(HERE / "rest_fixture.csv")


@pytest.mark.parametrize("name", list(DESIGNS))
def test_unit_against_the_rest_equals_r(data, name):
    q = questionnaires.load("tt01-counter")
    started = time.monotonic()
    result = compare_units(data, q, levels=("general", "overall", "criterion"), **DESIGNS[name])
    assert time.monotonic() - started < 10
    expected = R[name]
    found = {(c.label, c.level, c.code): c.difference for c in result.comparisons}
    assert {label for label, _, _ in found} == set(expected["units"])
    for unit, ref in expected["units"].items():
        for (level, code), r_code in CODES.items():
            d = found[(unit, level, code)]
            assert d.estimate == pytest.approx(ref["difference"][r_code], abs=1e-7), (unit, code)
            if name == "srs" and level in ("general", "criterion"):
                continue  # Newcombe for two independent samples (methodology §4)
            assert d.se == pytest.approx(ref["se"][r_code], abs=1e-5), (unit, code, name)
            q_t = stats.t.ppf(0.975, expected["df"]) if name != "srs" else stats.norm.ppf(0.975)
            r_ci = (ref["difference"][r_code] - q_t * ref["se"][r_code],
                    ref["difference"][r_code] + q_t * ref["se"][r_code])
            assert d.ci == pytest.approx(r_ci, abs=1e-3), (unit, code, name)
        for side_level in ("general", "overall"):
            d = found[(unit, side_level, side_level)]
            assert d.a == pytest.approx(ref["sides"][f"{side_level}_unit"], abs=1e-7)
            assert d.b == pytest.approx(ref["sides"][f"{side_level}_rest"], abs=1e-7)


def test_shared_psus_carry_a_covariance(data):
    """Units that share PSUs: the difference's SE is not that of independent samples."""
    q = questionnaires.load("tt01-counter")
    shared = compare_units(data, q, levels=("overall",), **DESIGNS["shared_psus"])
    for c in shared.comparisons:
        independent = np.hypot(*_side_ses(data, q, c.label))
        assert abs(c.difference.se - independent) > 1e-3 * independent, c.label


def _side_ses(data, q, label):
    from analysis import analyze

    sides = data.assign(side=np.where(data["unit"] == label, "unit", "rest"))
    groups = analyze(sides, q, by="side", **DESIGNS["shared_psus"]).groups
    return [g.overall.se for g in groups]


def test_a_valid_design_with_a_unit_in_one_psu_is_not_refused(data):
    """VP's answers lie in one PSU of a stratum with ten: the design is valid, so is VP
    against the rest and LS against a rest that has one PSU in stratum A."""
    q = questionnaires.load("tt01-counter")
    result = compare_units(data, q, levels=("general",), **DESIGNS["unit_psus"])
    assert {c.label for c in result.comparisons} == {"BG", "HTQT", "LS", "VP"}
    assert all(np.isfinite(c.difference.se) for c in result.comparisons)


def test_the_issues_hanging_design_finishes_in_seconds(data):
    """Stratum A = {LS, HTQT, VP} with VP in one PSU, B = {BG}: VP's domain variance is 0 up
    to rounding; its effective n stays at most its n and the rankings finish."""
    q = questionnaires.load("tt01-counter")
    regrouped = data.assign(stratum=np.where(data["unit"] == "BG", "B", "A"))
    started = time.monotonic()
    result = compare_units(regrouped, q, levels=("general", "overall"), weight="weight", strata="stratum",
                           cluster="psu_unit")
    assert time.monotonic() - started < 10
    assert {c.label for c in result.comparisons} == {"BG", "HTQT", "LS", "VP"}
    observed = data.groupby("unit")["HL"].count().to_dict()
    (ranking,) = [r for r in result.rankings if r.level == "general"]
    units = ranking.to_json()["shrinkage"]["units"]
    assert {u["label"] for u in units} == set(observed)
    for u in units:
        assert 0 < u["n"] <= observed[u["label"]], u  # effective n never above n


@pytest.mark.parametrize("options", [
    {},
    {"by": "channel", "period": "quarter"},
    {"period": "par", "ci_method": "jeffreys", "confidence": 0.9},
])
def test_the_rest_by_subtraction_equals_analysing_each_unit_against_the_rest(options):
    """Without a design the rest comes from tallies (total minus unit, one count); it gives
    what analysing the whole sample once per unit gives."""
    import numpy as np
    import pandas as pd

    from analysis import compare
    from analysis.compare.units import _against_rest as against_rest

    rng = np.random.default_rng(9)
    q = questionnaires.load("sipas-2023")
    n = 1500
    skew = rng.random(n)
    frame = pd.DataFrame({c.code: np.where(rng.random(n) < 0.1, np.nan,
                                           np.where(rng.random(n) < skew, 5, rng.integers(1, 6, n)))
                          for c in q.criteria})
    frame["HL"] = rng.integers(1, 6, n).astype(float)
    frame["MD1"] = rng.integers(1, 4, n).astype(float)
    frame["unit"] = rng.choice(["A", "B", "C", "D"], n, p=[0.5, 0.3, 0.15, 0.05])
    frame["channel"] = rng.choice(["single", "counter"], n)
    frame["submitted_on"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, n), unit="D")
    options = dict(options)
    by = (options.pop("by"),) if "by" in options else ()
    period = options.pop("period", None)
    fast = compare.compare_units(frame, q, unit="unit", by=by, period=period, **options)
    result = analysis.analyze(frame, q, by=("unit", *by), period=period, **options)
    slow = []
    for label in ["A", "B", "C", "D"]:
        slow += against_rest(frame, q, unit="unit", label=label, by=by, period=period,
                                      levels=("criterion", "element", "overall", "general"),
                                      confidence=result.confidence, analyze_options=options)
    assert len(fast.comparisons) == len(slow) > 0
    for a, b in zip(fast.comparisons, slow, strict=True):
        assert (a.label, dict(a.keys), a.level, a.code, a.flag) == (b.label, dict(b.keys), b.level, b.code, b.flag)
        for field in ("estimate", "se", "p_value"):
            x, y = getattr(a.difference, field), getattr(b.difference, field)
            assert (x is None and y is None) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12), (field, a, b)
        assert all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
                   for x, y in zip(a.difference.ci, b.difference.ci, strict=True))


def test_packed_states_equal_the_state_tables_whatever_levels_are_satisfied():
    """The tallies pack each row's criterion states by comparisons when the satisfied levels
    are the top ones, and through the state table otherwise: the same numbers."""
    from analysis.tallies import _packed

    rng = np.random.default_rng(3)
    codes = {k: rng.integers(0, 6, 500).astype(np.int8) for k in ("a", "b", "c")}
    top = np.array([0, 1, 1, 1, 2, 2], dtype=np.int16)
    middle = np.array([0, 1, 2, 2, 1, 1], dtype=np.int16)  # satisfied 2-3: not the top levels
    states = {"a": top, "b": middle, "c": top}
    expected = sum(states[k][codes[k]].astype(np.int64) * 3 ** j for j, k in enumerate(("a", "b", "c")))
    assert _packed(codes, states, ("a", "b", "c")).tolist() == expected.tolist()
