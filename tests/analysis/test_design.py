"""Design-based variance against a direct implementation of methodology §3.3.

The R reference (test_reference_r.py) covers no design, weights only, and weights + strata
+ clusters. Here a slow, literal implementation with pandas groupby checks every design
path, including strata without clusters and clusters without strata, for domains.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import SurveyDesign, analyze, korn_graubard_ci, proportion_ci

OPTIONS = [
    {},
    {"weight": "w"},
    {"strata": "stratum"},
    {"cluster": "psu"},
    {"strata": "stratum", "cluster": "psu"},
    {"weight": "w", "strata": "stratum", "cluster": "psu"},
]


def _literal(frame: pd.DataFrame, domain: np.ndarray, codes: list[list[str]],
             options: dict[str, str]) -> tuple[float, float, int]:
    """Composite = mean over elements (lists of criteria) of the mean of criterion ratios;
    returns (value, variance, df) with every row of ``frame`` in the design."""
    w = frame[options["weight"]].to_numpy() if "weight" in options else np.ones(len(frame))
    strata = frame[options["strata"]].to_numpy() if "strata" in options else np.zeros(len(frame))
    if "cluster" in options:
        psu = [f"{h}/{c}" for h, c in zip(strata, frame[options["cluster"]], strict=True)]
    else:
        psu = [f"row{i}" for i in range(len(frame))]
    z = np.zeros(len(frame))
    value = 0.0
    for element in codes:
        for code in element:
            a = 1.0 / (len(element) * len(codes))
            answered = frame[code].notna().to_numpy() & domain
            y = (frame[code] >= 4).to_numpy()
            total = (w * answered).sum()
            p = (w * answered * y).sum() / total
            value += a * p
            z += a * np.where(answered, w * (y - p) / total, 0.0)
    parts = pd.DataFrame({"z": z, "h": strata, "psu": psu})
    variance = 0.0
    for _, stratum in parts.groupby("h"):
        totals = stratum.groupby("psu")["z"].sum()
        n_h = len(totals)
        variance += n_h / (n_h - 1) * ((totals - totals.mean()) ** 2).sum()
    used = domain & frame[[c for e in codes for c in e]].notna().any(axis=1).to_numpy()
    df = len(set(np.asarray(psu)[used])) - len(set(strata[used]))
    return value, variance, df


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "+".join(o) or "none")
def test_composite_variance_matches_literal_formula(random_frame, sipas, options) -> None:
    result = analyze(random_frame, sipas, by="unit", **options)
    elements = [[c.code for c in e.criteria] for e in sipas.elements]
    for g in result.groups:
        domain = (random_frame["unit"] == g.keys["unit"]).to_numpy()
        value, variance, df = _literal(random_frame, domain, elements, options)
        assert g.overall.value == pytest.approx(value * 100, rel=1e-12)
        assert g.overall.se == pytest.approx(math.sqrt(variance) * 100, rel=1e-9)
        tt = [[c.code for c in sipas.elements[1].criteria]]
        value, variance, _ = _literal(random_frame, domain, tt, options)
        assert g.elements["TT"].se == pytest.approx(math.sqrt(variance) * 100, rel=1e-9)
        if options:
            assert g.overall.df == df
            q = stats.t.isf(0.025, df)
        else:
            assert g.overall.df is None
            q = stats.norm.isf(0.025)
        theta = g.overall.value / 100
        half = q * g.overall.se / 100 / (theta * (1 - theta))
        centre = math.log(theta / (1 - theta))
        assert g.overall.ci[0] == pytest.approx(100 / (1 + math.exp(-(centre - half))))


@pytest.mark.parametrize("options", OPTIONS[1:], ids=lambda o: "+".join(o))
def test_criterion_korn_graubard_and_deff(random_frame, sipas, options) -> None:
    g = analyze(random_frame, sipas, by="unit", **options).group(unit="B")
    domain = (random_frame["unit"] == "B").to_numpy()
    value, variance, df = _literal(random_frame, domain, [["CC3"]], options)
    est = g.criteria["CC3"]
    n = int((random_frame["CC3"].notna() & (random_frame["unit"] == "B")).sum())
    assert est.n == n and est.df == df
    assert est.se == pytest.approx(math.sqrt(variance) * 100, rel=1e-9)
    assert est.deff == pytest.approx(variance / (value * (1 - value) / n), rel=1e-9)
    assert est.n_eff == pytest.approx(min(n, n / est.deff))
    low, high = korn_graubard_ci(value, variance, n, df)
    assert est.ci == pytest.approx((low * 100, high * 100), rel=1e-12)


def test_korn_graubard_formula() -> None:
    p, v, n, df = 0.8, 0.0012, 150, 20
    n_eff = p * (1 - p) / v * (stats.t.ppf(0.025, n - 1) / stats.t.ppf(0.025, df)) ** 2
    low, high = korn_graubard_ci(p, v, n, df)
    assert float(low) == pytest.approx(stats.beta.ppf(0.025, n_eff * p, n_eff * (1 - p) + 1))
    assert float(high) == pytest.approx(stats.beta.ppf(0.975, n_eff * p + 1, n_eff * (1 - p)))
    # Design variance 0 (p = 0 or 1): effective n = n, i.e. Clopper-Pearson when df = n - 1.
    low, high = korn_graubard_ci(1.0, 0.0, 40, 39)
    assert (float(low), float(high)) == pytest.approx(proportion_ci(40, 40, method="beta"))
    low, high = korn_graubard_ci(0.0, 0.0, 40, 39)
    assert float(low) == 0.0
    # Undefined: one respondent or no degrees of freedom.
    assert np.isnan(korn_graubard_ci(0.5, 0.01, 1, 5)[0])
    assert np.isnan(korn_graubard_ci(0.5, 0.01, 10, 0)[1])


def test_survey_design_counts() -> None:
    df = pd.DataFrame({"h": ["a", "a", "a", "b", "b"], "c": [1, 1, 2, 1, 2],
                       "w": [1.0, 2.0, 3.0, 4.0, 5.0]})
    d = SurveyDesign.from_frame(df, weight="w", strata="h", cluster="c")
    assert d.n_psu.tolist() == [2, 2] and d.df() == 2
    assert d.df(np.array([0, 1, 3])) == 0  # one PSU in each of two strata
    # Cluster labels are nested in strata: c=1 in a and c=1 in b are different PSUs.
    d = SurveyDesign.from_frame(df, cluster="c")
    assert d.n_psu.tolist() == [2] and d.df() == 1
    assert not SurveyDesign.from_frame(df).is_design and SurveyDesign.from_frame(df).df() is None
