"""Single-proportion intervals against statsmodels (methodology §3.1) and helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from analysis import critical_value, logit_ci, proportion_ci, proportion_ci_array
from analysis.intervals import normalize_ci_method

# Oracle of methodology §3.1: x = 37, n = 50, 95 %.
ORACLE = {
    "wilson": (0.604468, 0.841285),
    "clopper-pearson": (0.596552, 0.853699),
    "jeffreys": (0.607392, 0.845733),
    "agresti-coull": (0.603324, 0.842429),
    "wald": (0.618419, 0.861581),
}
STATSMODELS = {
    "wilson": "wilson", "clopper-pearson": "beta", "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull", "wald": "normal",
}


@pytest.mark.parametrize("method", sorted(ORACLE))
def test_oracle_values(method: str) -> None:
    low, high = proportion_ci(37, 50, method=method)
    assert low == pytest.approx(ORACLE[method][0], abs=5e-7)
    assert high == pytest.approx(ORACLE[method][1], abs=5e-7)


@pytest.mark.parametrize("alias,method", [("beta", "clopper-pearson"), ("normal", "wald"),
                                          ("agresti_coull", "agresti-coull")])
def test_statsmodels_names_are_accepted(alias: str, method: str) -> None:
    assert proportion_ci(37, 50, method=alias) == proportion_ci(37, 50, method=method)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=3000),
    frac=st.floats(min_value=0, max_value=1),
    method=st.sampled_from(sorted(STATSMODELS)),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_identical_to_statsmodels(n: int, frac: float, method: str, confidence: float) -> None:
    x = round(frac * n)
    expected = proportion_confint(x, n, alpha=round(1 - confidence, 15),
                                  method=STATSMODELS[method])
    got = proportion_ci(x, n, method=method, confidence=confidence)
    assert got[0] == pytest.approx(expected[0], abs=1e-12)
    assert got[1] == pytest.approx(expected[1], abs=1e-12)


@pytest.mark.parametrize("method", sorted(STATSMODELS))
def test_extremes(method: str) -> None:
    for x, n in [(0, 20), (20, 20), (0, 1), (1, 1)]:
        expected = proportion_confint(x, n, alpha=0.05, method=STATSMODELS[method])
        got = proportion_ci(x, n, method=method)
        assert got == pytest.approx(expected, abs=1e-12)
        assert 0.0 <= got[0] <= got[1] <= 1.0


def test_array_version_gives_nan_for_no_answers() -> None:
    low, high = proportion_ci_array([3, 0], [0, 10])
    assert math.isnan(low[0]) and math.isnan(high[0])
    assert low[1] == 0.0 and high[1] == pytest.approx(0.277533, abs=1e-6)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"x": 3, "n": 0}, "n: must be at least 1"),
        ({"x": 11, "n": 10}, "x: must lie between 0 and n=10"),
        ({"x": 2.5, "n": 10}, "x: must be a whole number"),
        ({"x": 3, "n": 10, "method": "bayes"}, "ci_method: unknown method 'bayes'"),
        ({"x": 3, "n": 10, "confidence": 1.5}, "confidence: must lie strictly between 0 and 1"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        proportion_ci(**kwargs)


def test_normalize_method() -> None:
    assert normalize_ci_method("Clopper-Pearson") == "clopper-pearson"
    assert normalize_ci_method("exact") == "clopper-pearson"


def test_critical_values() -> None:
    assert critical_value(0.95) == pytest.approx(1.959963984540054)
    assert critical_value(0.90) == pytest.approx(1.644853626951472)
    assert critical_value(0.95, 14) == pytest.approx(2.144786687916927)
    values = critical_value(0.95, np.array([0, 1, 30]))
    assert math.isnan(values[0])
    assert values[1] == pytest.approx(12.70620473617471)
    assert values[2] == pytest.approx(2.042272456301238)


def test_logit_ci_formula_and_undefined_ends() -> None:
    low, high = logit_ci(np.array([0.75, 0.0, 1.0]), np.array([0.05, 0.0, 0.0]), 1.96)
    centre = math.log(3)
    half = 1.96 * 0.05 / (0.75 * 0.25)
    assert low[0] == pytest.approx(1 / (1 + math.exp(-(centre - half))))
    assert high[0] == pytest.approx(1 / (1 + math.exp(-(centre + half))))
    assert np.isnan(low[1:]).all() and np.isnan(high[1:]).all()
    # The logit interval is asymmetric and stays inside (0, 1).
    low, high = logit_ci(0.97, 0.03, 1.96)
    assert 0 < low < 0.97 < high < 1
    assert (high - 0.97) < (0.97 - low)
