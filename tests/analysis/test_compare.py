"""analysis.compare: differences, p-values, multiplicity, shrinkage and funnel limits.

Reference values: statsmodels (Newcombe, z test, multipletests) computed in the test, and
R (p.adjust, prop.test, survey::svycontrast) stored in reference/compare_reference.json by
reference/compare_reference.R. Tolerances are stated per test.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from analysis import compare
from analysis.compare import (
    adjust_pvalues,
    diff_estimates,
    diff_proportions,
    fit_beta_binomial,
    funnel,
    funnel_limits,
    shrink,
    two_proportion_ztest,
)

REFERENCE = Path(__file__).parent / "reference"
R_VALUES = json.loads((REFERENCE / "compare_reference.json").read_text())


# --------------------------------------------------------------------- Newcombe, z test
def test_newcombe_oracle():
    d = diff_proportions(x1=37, n1=50, x2=30, n2=50)
    assert d.estimate == pytest.approx(14.0)
    assert d.ci == pytest.approx((-4.3641, 31.1330), abs=5e-5)
    assert d.method == "newcombe"
    assert d.a == pytest.approx(74.0) and d.b == pytest.approx(60.0)


@pytest.mark.parametrize(
    "x1,n1,x2,n2",
    [(37, 50, 30, 50), (0, 20, 0, 25), (20, 20, 25, 25), (1, 3, 2, 2), (500, 600, 420, 560),
     (0, 10, 10, 10), (7, 31, 19, 44)],
)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_newcombe_equals_statsmodels(x1, n1, x2, n2, confidence):
    d = diff_proportions(x1=x1, n1=n1, x2=x2, n2=n2, confidence=confidence)
    low, high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb",
                                           alpha=1 - confidence)
    assert d.ci[0] == pytest.approx(100 * low, abs=1e-9)
    assert d.ci[1] == pytest.approx(100 * high, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 400), st.integers(1, 400), st.data())
def test_newcombe_property(n1, n2, data):
    x1 = data.draw(st.integers(0, n1))
    x2 = data.draw(st.integers(0, n2))
    d = diff_proportions(x1=x1, n1=n1, x2=x2, n2=n2)
    low, high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb")
    assert d.ci == pytest.approx((100 * low, 100 * high), abs=1e-8)
    assert -100 <= d.ci[0] <= d.estimate <= d.ci[1] <= 100


@pytest.mark.parametrize("case", R_VALUES["prop_test"])
def test_z_test_equals_r_prop_test(case):
    z, p = two_proportion_ztest(x1=case["x1"], n1=case["n1"], x2=case["x2"], n2=case["n2"])
    assert p == pytest.approx(case["p_value"], rel=1e-9)
    assert z**2 == pytest.approx(case["statistic"], rel=1e-9)


def test_z_test_equals_statsmodels():
    z, p = two_proportion_ztest(x1=37, n1=50, x2=30, n2=50)
    z_sm, p_sm = proportions_ztest([37, 30], [50, 50])
    assert (z, p) == pytest.approx((z_sm, p_sm), rel=1e-12)
    assert diff_proportions(x1=37, n1=50, x2=30, n2=50).p_value == pytest.approx(p_sm)


def test_everyone_and_nobody_satisfied():
    # pooled proportion 1: no evidence of a difference
    assert two_proportion_ztest(x1=20, n1=20, x2=30, n2=30) == (0.0, 1.0)
    d = diff_proportions(x1=0, n1=20, x2=0, n2=30)
    assert d.estimate == 0 and d.p_value == 1.0 and d.ci[0] < 0 < d.ci[1]


def test_empty_sample_gives_nan():
    d = diff_proportions(x1=0, n1=0, x2=3, n2=5)
    assert math.isnan(d.estimate) and math.isnan(d.p_value)
    assert d.to_json()["difference"] is None  # JSON-ready: no NaN


@pytest.mark.parametrize(
    "kwargs,name",
    [({"x1": 6, "n1": 5, "x2": 1, "n2": 5}, "x1"), ({"x1": 1, "n1": -5, "x2": 1, "n2": 5}, "n1"),
     ({"x1": 1, "n1": 5, "x2": 1, "n2": 5, "confidence": 95}, "confidence")],
)
def test_bad_input_names_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        diff_proportions(**kwargs)


# --------------------------------------------------------------------- linearised differences
def test_linearised_difference_normal():
    d = diff_estimates(a=83.1, se_a=2.0, b=80.0, se_b=1.5)
    z = stats.norm.isf(0.025)
    assert d.se == pytest.approx(2.5)
    assert d.ci == pytest.approx((3.1 - z * 2.5, 3.1 + z * 2.5))
    assert d.p_value == pytest.approx(2 * stats.norm.sf(3.1 / 2.5))
    assert d.test == "z" and d.df is None


def test_linearised_difference_t_matches_r_survey():
    r = R_VALUES["design"]
    assert r["covariance"] == 0  # independent samples: the contract's V1 + V2
    d = diff_estimates(a=100 * r["mean_a"], se_a=100 * r["se_a"], b=100 * r["mean_b"],
                       se_b=100 * r["se_b"], df=r["df_a"] + r["df_b"])
    assert d.estimate == pytest.approx(100 * r["difference"], rel=1e-12)
    assert d.se == pytest.approx(100 * r["se_difference"], rel=1e-9)
    assert r["df_a"] + r["df_b"] == r["df"]
    q = stats.t.isf(0.025, r["df"])
    assert d.ci == pytest.approx((d.estimate - q * d.se, d.estimate + q * d.se))
    assert d.test == "t"


def test_linearised_difference_zero_se():
    assert diff_estimates(a=100, se_a=0, b=100, se_b=0).p_value == 1.0
    d = diff_estimates(a=100, se_a=0, b=0, se_b=0)
    assert d.p_value == 0.0 and d.ci == (100.0, 100.0)


def test_linearised_difference_missing_estimate():
    d = diff_estimates(a=float("nan"), se_a=1, b=80, se_b=1)
    assert math.isnan(d.estimate) and d.to_json()["ci"] == [None, None]


def test_linearised_difference_bad_se():
    with pytest.raises(ValueError, match="^se_a"):
        diff_estimates(a=80, se_a=-1, b=80, se_b=1)


# --------------------------------------------------------------------- multiplicity
P_ORACLE = [0.001, 0.01, 0.02, 0.04, 0.3]


def test_adjust_oracle():
    assert adjust_pvalues(P_ORACLE, method="holm") == pytest.approx([0.005, 0.04, 0.06, 0.08, 0.3])
    assert adjust_pvalues(P_ORACLE, method="bh") == pytest.approx(
        [0.005, 0.025, 0.033333333, 0.05, 0.3]
    )


@pytest.mark.parametrize("method,r_key,sm", [("holm", "q_holm", "holm"), ("bh", "q_bh", "fdr_bh")])
def test_adjust_equals_r_and_statsmodels(method, r_key, sm):
    q = R_VALUES["p_adjust"]["q"]
    ours = adjust_pvalues(q, method=method)
    assert ours == pytest.approx(R_VALUES["p_adjust"][r_key], rel=1e-12)
    assert ours == pytest.approx(multipletests(q, method=sm)[1], rel=1e-12)


def _naive_holm(p):
    """Holm straight from the definition, O(m²)."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    for rank, i in enumerate(order):
        out[i] = min(1.0, max((m - r) * p[order[r]] for r in range(rank + 1)))
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_adjust_property(p):
    # statsmodels' Holm is slow (~0.1 s a call), so the property uses the definition
    assert adjust_pvalues(p, method="holm") == pytest.approx(_naive_holm(p), abs=1e-12)
    assert adjust_pvalues(p, method="bh") == pytest.approx(
        multipletests(p, method="fdr_bh")[1], abs=1e-12
    )


def test_adjust_leaves_nan_out_of_the_family():
    out = adjust_pvalues([0.01, float("nan"), 0.04], method="holm")
    assert math.isnan(out[1])
    assert out[[0, 2]] == pytest.approx([0.02, 0.04])


def test_adjust_bad_method():
    with pytest.raises(ValueError, match="^method"):
        adjust_pvalues([0.1], method="bonferroni")
    with pytest.raises(ValueError, match="^p_values"):
        adjust_pvalues([1.5], method="holm")


# --------------------------------------------------------------------- shrinkage
X = np.array([30, 45, 60, 70, 18, 12, 95])
N = np.array([50, 60, 70, 75, 40, 14, 120])


def _brute_force_fit(x, n):
    """Grid search of the beta-binomial likelihood with scipy.stats.betabinom."""
    mu = np.linspace(0.5, 0.95, 181)[:, None, None]
    m = np.exp(np.linspace(0, 6, 241))[None, :, None]
    ll = stats.betabinom.logpmf(x, n, mu * m, (1 - mu) * m).sum(axis=2)
    i, j = np.unravel_index(np.argmax(ll), ll.shape)
    return ll[i, j], float(mu[i, 0, 0]), float(m[0, j, 0])


def test_beta_binomial_fit_is_the_marginal_mle():
    fit = fit_beta_binomial(x=X, n=N)
    ll, mu, m = _brute_force_fit(X, N)
    assert fit.mean / 100 == pytest.approx(mu, abs=0.003)
    assert math.log(fit.precision) == pytest.approx(math.log(m), abs=0.03)
    # our optimum is at least as good as the grid's (same likelihood up to the constant)
    ours = stats.betabinom.logpmf(X, N, fit.alpha, fit.beta).sum()
    assert ours >= ll - 1e-9
    assert fit.alpha / (fit.alpha + fit.beta) == pytest.approx(fit.mean / 100)


def test_posterior_mean_formula():
    s = shrink(x=X, n=N, labels=list("ABCDEFG"))
    a0, b0 = s.fit.alpha, s.fit.beta
    for unit, xi, ni in zip(s.units, X, N, strict=True):
        assert unit.shrunk == pytest.approx(100 * (xi + a0) / (ni + a0 + b0))
        assert unit.raw == pytest.approx(100 * xi / ni)
        assert unit.interval[0] <= unit.shrunk <= unit.interval[1]
        # shrunk lies between the raw value and the prior mean
        lo, hi = sorted((unit.raw, s.fit.mean))
        assert lo - 1e-9 <= unit.shrunk <= hi + 1e-9
    # the small unit F (n = 14) moves most
    moves = {u.label: abs(u.shrunk - u.raw) / max(abs(u.raw - s.fit.mean), 1e-9)
             for u in s.units}
    assert max(moves, key=moves.get) == "F"


def test_no_overdispersion_pools_everything():
    # identical proportions: the likelihood grows without bound in the precision
    s = shrink(x=[40, 80, 20], n=[50, 100, 25])
    assert math.isinf(s.fit.precision)
    assert all(u.shrunk == pytest.approx(80.0) for u in s.units)
    assert s.fit.to_json()["precision"] is None


def test_everyone_satisfied_everywhere():
    s = shrink(x=[10, 20], n=[10, 20])
    assert s.fit.mean == 100.0 and all(u.shrunk == 100.0 for u in s.units)


def test_flagged_units_are_never_ranked():
    s = shrink(x=X, n=N, labels=list("ABCDEFG"),
               flags=[None, None, None, None, None, "insufficient data", None])
    ranks = {u.label: u.rank for u in s.units}
    assert ranks["F"] is None
    assert sorted(r for r in ranks.values() if r is not None) == list(range(1, 7))
    best = min((u for u in s.units if u.rank), key=lambda u: u.rank)
    assert best.shrunk == max(u.shrunk for u in s.units if u.rank)


def test_shrink_bad_input():
    with pytest.raises(ValueError, match="^x"):
        shrink(x=[5], n=[10])
    with pytest.raises(ValueError, match="^x"):
        shrink(x=[11, 3], n=[10, 5])
    with pytest.raises(ValueError, match="^n"):
        shrink(x=[0, 3], n=[0, 5])


# --------------------------------------------------------------------- funnel
def test_funnel_normal_limits():
    low, high = funnel_limits(p=0.8, n=[25, 100, 400], coverage=0.998, method="normal")
    z = stats.norm.isf(0.001)
    half = z * np.sqrt(0.16 / np.array([25, 100, 400]))
    assert low == pytest.approx(100 * (0.8 - half))
    assert high == pytest.approx(100 * np.minimum(1, 0.8 + half))


def test_funnel_exact_limits_definition():
    # Spiegelhalter (2005): interpolated binomial quantile, checked by hand at n = 60
    p, n, q = 0.75, 60, 0.975
    r = stats.binom.ppf(q, n, p)
    alpha = (stats.binom.cdf(r, n, p) - q) / (stats.binom.cdf(r, n, p) - stats.binom.cdf(r - 1, n, p))
    _, high = funnel_limits(p=p, n=[n], coverage=0.95)
    assert high[0] == pytest.approx(100 * (r - alpha) / n)
    # and approaches the normal limits for large n
    lo_e, hi_e = funnel_limits(p=p, n=[20000], coverage=0.95)
    lo_n, hi_n = funnel_limits(p=p, n=[20000], coverage=0.95, method="normal")
    assert lo_e == pytest.approx(lo_n, abs=0.02) and hi_e == pytest.approx(hi_n, abs=0.02)


def test_funnel_points_and_curve():
    f = funnel(x=[40, 180, 290], n=[50, 200, 400], labels=["A", "B", "C"])
    assert f.centre == pytest.approx(100 * 510 / 650)
    assert [p.signal for p in f.points] == [None, "above 99.8", "below 95"]
    curve = f.curve
    assert curve["n"][0] == 12 and curve["n"][-1] == 440  # a quarter of the smallest n to 1.1 × the largest
    assert all(a <= b for a, b in zip(curve["low998"], curve["low95"], strict=True))
    assert all(a <= b for a, b in zip(curve["high95"], curve["high998"], strict=True))
    doc = f.to_json()
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc


def test_funnel_with_target_centre():
    f = funnel(x=[40, 45], n=[50, 50], centre=80)
    assert f.centre == 80
    with pytest.raises(ValueError, match="^centre"):
        funnel(x=[40, 45], n=[50, 50], centre=180)


# --------------------------------------------------------------------- on analysis results
import pandas as pd  # noqa: E402

import analysis  # noqa: E402
import questionnaires  # noqa: E402
from analysis.compare import compare_periods, compare_units, rank_units  # noqa: E402

SIPAS = questionnaires.load("sipas-2023")


def _responses(n=1200, seed=5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    units = rng.choice(["A", "B", "C", "D"], size=n, p=[0.4, 0.3, 0.25, 0.05])
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, n), unit="D")
    shift = pd.Series(units).map({"A": 0.3, "B": 0.0, "C": -0.4, "D": 0.0}).to_numpy()
    trend = (days.month.to_numpy() - 6) / 12
    data = {}
    for c in SIPAS.criteria:
        data[c.code] = np.clip(np.rint(3.8 + shift + trend + rng.normal(0, 0.9, n)), 1, 5)
    feedback = rng.random(n) < 0.25
    for code in ("PA1", "PA2", "PA3"):
        data[code] = np.where(feedback, data[code], np.nan)
    data["HL"] = np.clip(np.rint(3.8 + shift + trend + rng.normal(0, 0.9, n)), 1, 5)
    df = pd.DataFrame(data)
    df["unit"] = units
    df["submitted_on"] = days
    df["stratum"] = units
    df["psu"] = [f"{u}-{i}" for u, i in zip(units, rng.integers(0, 8, n), strict=True)]
    df["weight"] = rng.uniform(1, 3, n)
    return df


@pytest.fixture(scope="module")
def responses():
    return _responses()


def test_compare_periods_matches_hand_computation(responses):
    result = analysis.analyze(responses, SIPAS, by="unit", period="quarter")
    res = compare_periods(result, adjust="holm")
    assert res.kind == "previous" and not res.design
    pairs = {(c.keys["unit"], c.label, c.reference) for c in res.comparisons}
    assert ("A", "2024-Q2", "2024-Q1") in pairs and ("A", "2024-Q1", "2023-Q4") not in pairs
    c = next(c for c in res.comparisons
             if c.keys == {"unit": "B"} and c.label == "2024-Q3" and c.level == "general")
    now, before = result.group(unit="B", period="2024-Q3"), result.group(unit="B", period="2024-Q2")
    expected = diff_proportions(x1=now.general.satisfied, n1=now.general.n,
                                x2=before.general.satisfied, n2=before.general.n)
    assert c.difference == expected
    o = next(c for c in res.comparisons
             if c.keys == {"unit": "B"} and c.label == "2024-Q3" and c.level == "overall")
    assert o.difference.method == "linearised"
    assert o.difference.estimate == pytest.approx(now.overall.index - before.overall.index)
    assert o.difference.se == pytest.approx(math.hypot(now.overall.se, before.overall.se))
    el = next(c for c in res.comparisons
              if c.keys == {"unit": "B"} and c.label == "2024-Q3" and c.code == "CC")
    assert el.level == "element" and el.difference.method == "linearised"
    cr = next(c for c in res.comparisons
              if c.keys == {"unit": "B"} and c.label == "2024-Q3" and c.code == "CC1")
    assert cr.difference.method == "newcombe"


def test_compare_periods_adjusts_across_units(responses):
    res = compare_periods(responses, SIPAS, by="unit", period="quarter", adjust="bh")
    family = [c for c in res.comparisons
              if c.level == "general" and c.label == "2024-Q2"]
    assert len(family) == 4
    expected = adjust_pvalues([c.difference.p_value for c in family], method="bh")
    assert [c.p_adjusted for c in family] == pytest.approx(list(expected))
    doc = res.to_json()
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    assert doc["items"][0]["keys"]["unit"] in "ABCD"


def test_compare_periods_par_windows_compare_same_window_a_year_before(responses):
    two_years = pd.concat([responses, responses.assign(
        submitted_on=responses["submitted_on"] + pd.DateOffset(years=1))])
    res = compare_periods(two_years, SIPAS, period="par", levels=["general"])
    assert {(c.label, c.reference) for c in res.comparisons} >= {
        ("2025-PAR-Q1", "2024-PAR-Q1"), ("2025-PAR-6M", "2024-PAR-6M")}
    assert all(c.label[:4] == str(int(c.reference[:4]) + 1) for c in res.comparisons)


def test_compare_periods_needs_periods(responses):
    with pytest.raises(ValueError, match="^result_or_df"):
        compare_periods(analysis.analyze(responses, SIPAS))
    with pytest.raises(ValueError, match="^period"):
        compare_periods(responses, SIPAS)
    with pytest.raises(ValueError, match="^adjust"):
        compare_periods(responses, SIPAS, period="half", adjust="sidak")


def test_compare_periods_under_a_design_uses_t(responses):
    res = compare_periods(responses, SIPAS, period="half", weight="weight", strata="stratum",
                          cluster="psu", levels=["general", "overall"])
    result = analysis.analyze(responses, SIPAS, period="half", weight="weight",
                              strata="stratum", cluster="psu")
    h1, h2 = result.groups
    for c in res.comparisons:
        assert c.difference.method == "linearised" and c.difference.test == "t"
        a, b = (h2.general, h1.general) if c.level == "general" else (h2.overall, h1.overall)
        assert c.difference.df == a.df + b.df
        assert c.difference.se == pytest.approx(math.hypot(a.se, b.se))
    assert res.design and res.to_json()["design"] is True


def test_compare_units_rest(responses):
    res = compare_units(responses, SIPAS, levels=["general", "overall"])
    general = {c.label: c for c in res.comparisons if c.level == "general"}
    assert set(general) == {"A", "B", "C", "D"}
    hl = responses["HL"]
    a = responses["unit"] == "A"
    expected = diff_proportions(x1=int((hl[a] >= 4).sum()), n1=int(hl[a].notna().sum()),
                                x2=int((hl[~a] >= 4).sum()), n2=int(hl[~a].notna().sum()))
    assert general["A"].difference == expected
    assert general["A"].reference == "rest"
    assert general["A"].difference.estimate > 0 > general["C"].difference.estimate
    expected_adj = adjust_pvalues([general[u].difference.p_value for u in "ABCD"], method="holm")
    assert [general[u].p_adjusted for u in "ABCD"] == pytest.approx(list(expected_adj))


def test_compare_units_rankings(responses):
    res = compare_units(responses, SIPAS, levels=["general"], small_n=30)
    (ranking,) = res.rankings
    assert ranking.level == "general" and ranking.counts == "observed"
    units = {u.label: u for u in ranking.shrinkage.units}
    assert units["A"].rank is not None
    assert {u.label for u in ranking.funnel.points} == {"A", "B", "C", "D"}
    ranked = sorted((u for u in units.values() if u.rank), key=lambda u: u.rank)
    assert [u.shrunk for u in ranked] == sorted((u.shrunk for u in ranked), reverse=True)
    doc = res.to_json()
    assert doc["reference"] == "rest" and len(doc["rankings"]) == 1
    json.dumps(doc, allow_nan=False)


def test_compare_units_small_unit_is_flagged_and_not_ranked(responses):
    small = responses[(responses["unit"] != "D") | (responses.index % 10 == 0)]
    res = compare_units(small, SIPAS, levels=["general"])
    d = next(c for c in res.comparisons if c.label == "D")
    assert d.flag == "insufficient data"
    units = {u.label: u for u in res.rankings[0].shrinkage.units}
    assert units["D"].rank is None and units["D"].flag == "insufficient data"


def test_compare_units_pairwise_from_result(responses):
    result = analysis.analyze(responses, SIPAS, by="unit", period="half")
    res = compare_units(result, reference="pairwise", levels=["general"])
    pairs = {(c.keys["period"], c.label, c.reference) for c in res.comparisons}
    assert len(pairs) == 2 * 6
    with pytest.raises(ValueError, match="^reference"):
        compare_units(result)
    with pytest.raises(ValueError, match="^unit"):
        compare_units(analysis.analyze(responses, SIPAS), reference="pairwise")
    with pytest.raises(ValueError, match="^unit"):
        compare_units(responses.drop(columns=["unit"]), SIPAS)


def test_rank_units_is_what_compare_units_ranks_without_comparing(responses):
    """The dashboard ranks a province's units from the analysis by unit: the same rankings as
    compare_units (pairwise or against the rest), per context, with no comparison made."""
    result = analysis.analyze(responses, SIPAS, by="unit", period="half")
    rankings = rank_units(result)
    assert rankings == compare_units(result, reference="pairwise", levels=["general"]).rankings
    assert rankings == compare_units(responses, SIPAS, period="half", levels=["general"]).rankings
    assert [r.keys["period"] for r in rankings] == sorted({g.keys["period"] for g in result.groups})
    with pytest.raises(ValueError, match="^unit"):
        rank_units(analysis.analyze(responses, SIPAS))


def test_compare_units_under_design_uses_effective_counts(responses):
    res = compare_units(responses, SIPAS, levels=["general"], weight="weight",
                        strata="stratum", cluster="psu")
    assert all(c.difference.method == "linearised" for c in res.comparisons)
    assert res.rankings[0].counts == "effective"


def test_public_names_exist():
    for name in compare.__all__:
        assert hasattr(compare, name), name
