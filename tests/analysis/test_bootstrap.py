"""BCa bootstrap intervals (methodology §3.4, analyze(bootstrap=N))."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import analyze
from analysis.bootstrap import FALLBACK


@pytest.fixture(scope="module")
def small(sipas, random_frame) -> pd.DataFrame:
    return random_frame.iloc[:240].reset_index(drop=True)


def test_bootstrap_agrees_with_scipy_for_a_criterion(sipas, small) -> None:
    result = analyze(small, sipas, bootstrap=999, seed=11)
    est = result.groups[0].criteria["TC1"]
    answered = small["TC1"].dropna().to_numpy() >= 4
    # Same statistic computed directly by scipy over the answerers (BCa, same resamples
    # count): the two differ only in Monte Carlo noise, since ours resamples respondents.
    ref = stats.bootstrap((answered.astype(float),), np.mean, n_resamples=999, method="BCa",
                          rng=np.random.default_rng(0))
    assert est.ci[0] == pytest.approx(ref.confidence_interval.low * 100, abs=2.0)
    assert est.ci[1] == pytest.approx(ref.confidence_interval.high * 100, abs=2.0)
    assert est.note == "BCa bootstrap interval (999 resamples of respondents)"
    assert est.se == analyze(small, sipas).groups[0].criteria["TC1"].se  # SE stays analytic


def test_bootstrap_close_to_linearisation_for_composites(sipas, small) -> None:
    boot = analyze(small, sipas, by="unit", bootstrap=1999, seed=3)
    plain = analyze(small, sipas, by="unit")
    for b, p in zip(boot.groups, plain.groups, strict=True):
        for code in ("TC", "CC", "PA"):
            low, high = b.elements[code].ci
            assert low < b.elements[code].index < high
            width, ref_width = high - low, p.elements[code].ci[1] - p.elements[code].ci[0]
            assert width == pytest.approx(ref_width, rel=0.25)
        assert b.overall.ci[0] == pytest.approx(p.overall.ci[0], abs=1.5)
        assert b.overall.ci[1] == pytest.approx(p.overall.ci[1], abs=1.5)
        assert b.general.note.startswith("BCa bootstrap")
        assert b.expectations["MD1"].top.note.startswith("BCa bootstrap")


def test_seed_makes_it_reproducible(sipas, small) -> None:
    one = analyze(small, sipas, bootstrap=199, seed=5).to_json()
    two = analyze(small, sipas, bootstrap=199, seed=5).to_json()
    assert one == two
    other = analyze(small, sipas, bootstrap=199, seed=6).to_json()
    assert other["groups"][0]["overall"]["ci"] != one["groups"][0]["overall"]["ci"]


def test_everyone_satisfied_falls_back_to_analytic(sipas, make_frame) -> None:
    df = make_frame([5] * 30 + [4] * 20)
    df["TC2"] = [5] * 25 + [2] * 25
    boot = analyze(df, sipas, bootstrap=199, seed=1).groups[0]
    plain = analyze(df, sipas).groups[0]
    assert boot.criteria["TC1"].ci == plain.criteria["TC1"].ci
    assert boot.criteria["TC1"].note == FALLBACK
    assert boot.criteria["TC2"].note.startswith("BCa bootstrap")
    assert boot.criteria["TC2"].ci != plain.criteria["TC2"].ci
    json.dumps(analyze(df, sipas, bootstrap=99, seed=1).to_json(), allow_nan=False)


def test_cluster_bootstrap_under_a_design(sipas, fixture_frame) -> None:
    options = {"weight": "weight", "strata": "stratum", "cluster": "cluster"}
    boot = analyze(fixture_frame, sipas, bootstrap=999, seed=2, **options).groups[0]
    plain = analyze(fixture_frame, sipas, **options).groups[0]
    assert boot.overall.note == "BCa bootstrap interval (999 resamples of PSUs within strata)"
    low, high = boot.overall.ci
    assert low < boot.overall.index < high
    # 18 PSUs in 4 strata: a rough agreement with the t-based logit interval is all one
    # can ask (the naive PSU bootstrap is narrower by about (n_h - 1)/n_h).
    assert (high - low) == pytest.approx(plain.overall.ci[1] - plain.overall.ci[0], rel=0.5)


def test_group_with_one_respondent_keeps_analytic_interval(sipas, make_frame) -> None:
    df = make_frame([5, 4, 2, 1, 5], unit=["A", "A", "A", "A", "B"])
    g = analyze(df, sipas, by="unit", bootstrap=99, seed=1).group(unit="B")
    assert g.criteria["TC1"].note == FALLBACK and g.criteria["TC1"].ci is not None
