"""analysis.priorities: correlations, Shapley/Owen split of R², quadrants.

The Owen and Shapley values are checked against brute force on raw data: every ordering
of the predictors (consistent with the elements, for Owen), each R² from an OLS fit with
numpy's least squares — a computation that shares nothing with the module's
correlation-matrix shortcut.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import questionnaires
from analysis.priorities import (
    QUADRANTS,
    owen_values,
    pairwise_correlation,
    priorities,
    r2_from_correlation,
    shapley_values,
)

SIPAS = questionnaires.load("sipas-2023")
COUNTER = questionnaires.load("tt01-counter")


def _ols_r2(y: np.ndarray, x: np.ndarray, cols: tuple[int, ...]) -> float:
    if not cols:
        return 0.0
    design = np.column_stack([np.ones(len(y)), x[:, list(cols)]])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    return 1.0 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))


def _brute_force(y, x, groups):
    """Average marginal R² contribution over all orderings that keep each group together
    (Owen 1977); with one group this is the Shapley value."""
    p = x.shape[1]
    phi = np.zeros(p)
    count = 0
    for group_order in itertools.permutations(range(len(groups))):
        for inner in itertools.product(*[itertools.permutations(g) for g in groups]):
            order = [c for gi in group_order for c in inner[gi]]
            seen: tuple[int, ...] = ()
            for c in order:
                before = _ols_r2(y, x, seen)
                seen = tuple(sorted((*seen, c)))
                phi[c] += _ols_r2(y, x, seen) - before
            count += 1
    return phi / count


def _raw_data(seed=7, n=300, p=5):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 1))
    x = latent + rng.normal(size=(n, p)) * np.linspace(0.5, 2.0, p)
    y = x @ np.linspace(1.0, 0.2, p) + rng.normal(size=n) * 2
    return y, x


def test_shapley_equals_brute_force():
    y, x = _raw_data(p=4)
    corr = np.corrcoef(np.column_stack([y, x]), rowvar=False)
    ours = shapley_values(corr, [1, 2, 3, 4])[1:]
    assert ours == pytest.approx(_brute_force(y, x, [[0, 1, 2, 3]]), abs=1e-10)
    assert ours.sum() == pytest.approx(_ols_r2(y, x, (0, 1, 2, 3)), abs=1e-10)


def test_owen_equals_brute_force():
    y, x = _raw_data(p=5)
    corr = np.corrcoef(np.column_stack([y, x]), rowvar=False)
    groups = [[0, 1], [2, 3, 4]]
    ours = owen_values(corr, [[g + 1 for g in grp] for grp in groups])[1:]
    assert ours == pytest.approx(_brute_force(y, x, groups), abs=1e-10)
    # the sum over a group is that group's Shapley value in the game between groups
    r2_a, r2_b = _ols_r2(y, x, (0, 1)), _ols_r2(y, x, (2, 3, 4))
    full = _ols_r2(y, x, (0, 1, 2, 3, 4))
    assert ours[:2].sum() == pytest.approx((r2_a + full - r2_b) / 2, abs=1e-10)


def test_owen_with_singletons_is_shapley():
    y, x = _raw_data(p=4, seed=3)
    corr = np.corrcoef(np.column_stack([y, x]), rowvar=False)
    assert owen_values(corr, [[1], [2], [3], [4]]) == pytest.approx(
        shapley_values(corr, [1, 2, 3, 4]), abs=1e-12
    )


def test_r2_from_correlation_equals_ols():
    y, x = _raw_data(p=3)
    corr = np.corrcoef(np.column_stack([y, x]), rowvar=False)
    assert r2_from_correlation(corr, [1, 3]) == pytest.approx(_ols_r2(y, x, (0, 2)))


def test_pairwise_correlation_equals_pandas():
    rng = np.random.default_rng(1)
    data = rng.integers(1, 6, size=(200, 6)).astype(float)
    data[:, 1] += data[:, 0]
    data[rng.random(data.shape) < 0.3] = np.nan
    ours = pairwise_correlation(data)
    assert ours == pytest.approx(pd.DataFrame(data).corr().to_numpy(), abs=1e-12)


@pytest.mark.parametrize("shift", [0.0, 0.5, 100.0])
def test_scores_take_the_single_precision_path_with_the_same_result(shift):
    """Whole-number scores are summed in float32 blocks (exact below 2^24); fractions and
    large values in float64. Both give the result of unit weights summed in float64, to the
    last bit, over several blocks."""
    rng = np.random.default_rng(5)
    data = rng.integers(1, 6, size=(150_000, 5)).astype(float) + shift
    data[:, 2] += data[:, 0]  # correlated
    data[rng.random(data.shape) < 0.2] = np.nan
    assert np.array_equal(pairwise_correlation(data), pairwise_correlation(data, np.ones(len(data))), equal_nan=True)


def test_weighted_correlation_equals_numpy_on_complete_rows():
    rng = np.random.default_rng(2)
    data = rng.normal(size=(100, 3))
    w = rng.uniform(0.5, 3, size=100)
    cov = np.cov(data, rowvar=False, aweights=w)
    d = np.sqrt(np.diag(cov))
    assert pairwise_correlation(data, w) == pytest.approx(cov / np.outer(d, d), abs=1e-12)


# ----------------------------------------------------------------------------- on responses
def _responses(n=600, seed=11) -> pd.DataFrame:
    """Synthetic sipas-2023 answers: HL driven mostly by the CC criteria; TC4 low; PA
    answered by about a fifth (those who gave feedback)."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    cc = rng.normal(size=n)
    data = {}
    for c in SIPAS.criteria:
        level = 3.9 + (0.6 * cc if c.element == "CC" else 0.3 * latent)
        if c.code == "TC4":
            level = level - 1.0
        data[c.code] = np.clip(np.rint(level + rng.normal(scale=0.7, size=n)), 1, 5)
    feedback = rng.random(n) < 0.2
    for code in ("PA1", "PA2", "PA3"):
        data[code] = np.where(feedback, data[code], np.nan)
    data["HL"] = np.clip(np.rint(3.9 + 0.9 * cc + 0.2 * latent + rng.normal(0, 0.5, n)), 1, 5)
    df = pd.DataFrame(data)
    df["feedback_given"] = np.where(feedback, "co", "khong")
    return df


def test_importance_is_correlation_with_hl():
    df = _responses()
    res = priorities(df, SIPAS)
    assert res.target == "HL"
    for c in res.criteria:
        expected = df[[c.code, "HL"]].corr().iloc[0, 1]
        assert c.importance == pytest.approx(expected, abs=1e-12)
        assert c.importance_n == int(df[[c.code, "HL"]].notna().all(axis=1).sum())
    top = max(res.criteria, key=lambda c: c.importance)
    assert top.element == "CC"


def test_performance_is_the_criterion_index():
    df = _responses()
    res = priorities(df, SIPAS)
    for c in res.criteria:
        answered = df[c.code].notna()
        assert c.n == int(answered.sum())
        assert c.performance == pytest.approx(100 * (df.loc[answered, c.code] >= 4).mean())
        assert c.ci[0] < c.performance < c.ci[1]


def test_shapley_shares_sum_to_one_and_elements():
    df = _responses()
    res = priorities(df, SIPAS, measure="shapley")
    shares = [c.shapley for c in res.criteria]
    assert sum(shares) == pytest.approx(1.0)
    assert sum(res.element_shapley.values()) == pytest.approx(1.0)
    assert max(res.element_shapley, key=res.element_shapley.get) == "CC"
    assert 0 < res.r2 < 1


def test_shapley_on_complete_data_equals_brute_force_owen():
    # without missing answers the pairwise matrix is the ordinary one: compare with OLS
    df = _responses(n=300).drop(columns=["PA1", "PA2", "PA3"])
    q = COUNTER
    small = pd.DataFrame({"DG1": df["CC1"].clip(1, 3), "DG2": df["TT1"].clip(1, 3),
                          "DG3": df["KQ1"].clip(1, 3), "HL": df["HL"].clip(1, 3)})
    res = priorities(small, q, measure="shapley")
    y = small["HL"].to_numpy(float)
    x = small[["DG1", "DG2", "DG3"]].to_numpy(float)
    brute = _brute_force(y, x, [[0, 1, 2]])
    assert [c.r2 for c in res.criteria] == pytest.approx(brute, abs=1e-10)


def test_quadrants_split_at_means():
    df = _responses()
    res = priorities(df, SIPAS)
    imps = [c.importance for c in res.criteria]
    perfs = [c.performance for c in res.criteria]
    assert res.importance_cut == pytest.approx(np.mean(imps))
    assert res.performance_cut == pytest.approx(np.mean(perfs))
    for c in res.criteria:
        high_i = c.importance >= res.importance_cut
        high_p = c.performance >= res.performance_cut
        expected = {(True, False): "concentrate", (True, True): "keep_up",
                    (False, False): "low_priority", (False, True): "overkill"}[(high_i, high_p)]
        assert c.quadrant == expected
        assert c.quadrant in QUADRANTS
    med = priorities(df, SIPAS, split="median")
    assert med.importance_cut == pytest.approx(np.median(imps))


def test_concentrate_list():
    df = _responses()
    res = priorities(df, SIPAS)
    five = res.concentrate(5)
    assert len(five) == 5
    assert all(c.flag is None for c in five)
    quadrant_first = [c.quadrant == "concentrate" for c in five]
    assert quadrant_first == sorted(quadrant_first, reverse=True)
    in_quadrant = [c for c in five if c.quadrant == "concentrate"]
    assert [c.score for c in in_quadrant] == sorted((c.score for c in in_quadrant), reverse=True)
    assert res.to_json()["concentrate"] == [c.code for c in five]


def test_small_cells_are_flagged_and_not_listed():
    df = _responses(n=200)
    res = priorities(df, SIPAS)
    pa = [c for c in res.criteria if c.element == "PA"]
    assert all(c.flag == "insufficient data" for c in pa)  # ~40 answers, wide CI
    assert all(c.priority_rank is None for c in pa)
    assert not {c.code for c in res.concentrate(19)} & {"PA1", "PA2", "PA3"}


def test_without_hl_uses_mean_score():
    df = _responses().drop(columns=["HL"])
    res = priorities(df, SIPAS)
    assert res.target == "mean" and res.r2 is None
    scores = df[[c.code for c in SIPAS.criteria]]
    mean = scores.mean(axis=1)
    first = res.criteria[0]
    assert first.importance == pytest.approx(scores.iloc[:, 0].corr(mean), abs=1e-12)
    with pytest.raises(ValueError, match="^measure"):
        priorities(df, SIPAS, measure="shapley")


def test_weighted_performance():
    df = _responses(n=300)
    df["w"] = np.where(df["TC1"] >= 4, 2.0, 1.0)
    res = priorities(df, SIPAS, weight="w")
    answered = df["TC1"].notna()
    w = df.loc[answered, "w"]
    expected = 100 * (w * (df.loc[answered, "TC1"] >= 4)).sum() / w.sum()
    assert res.criteria[0].performance == pytest.approx(expected)


def test_constant_criterion_has_no_quadrant():
    df = _responses(n=300)
    df["TC2"] = 5.0
    res = priorities(df, SIPAS)
    tc2 = next(c for c in res.criteria if c.code == "TC2")
    assert math.isnan(tc2.importance) and tc2.quadrant is None and tc2.priority_rank is None
    assert res.to_json()["criteria"][1]["importance"] is None


def test_strings_and_out_of_scale_values_are_missing():
    df = _responses(n=100).astype(object)
    df.loc[0, "TC1"] = "9"
    df.loc[1, "TC1"] = ""
    res = priorities(df, SIPAS, small_n=1, max_width=100)
    assert res.criteria[0].n == 98


@pytest.mark.parametrize(
    "kwargs,name",
    [({"measure": "gini"}, "measure"), ({"split": "mode"}, "split"), ({"weight": "nope"}, "weight")],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        priorities(_responses(n=50), SIPAS, **kwargs)


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="CC3"):
        priorities(_responses(n=50).drop(columns=["CC3"]), SIPAS)


def test_questionnaire_by_id():
    res = priorities(_responses(n=100), "sipas-2023")
    assert res.questionnaire == "sipas-2023@1"
