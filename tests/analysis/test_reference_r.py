"""analyze() against R's survey package (tests/analysis/reference/make_reference.R).

r_values.json was produced by ``Rscript tests/analysis/reference/make_reference.R`` from
fixture.csv (R 4.2.2, survey 4.1.1) and holds, for three designs — none (``ids=~1``),
weights only, and weights + strata + clusters (``nest=TRUE``) — and for the whole sample,
each unit and each quarter (domains via ``des[domain, ]``, checked against ``svyby`` in the
script): criterion proportions with linearised SEs, Korn–Graubard intervals
(``svyciprop(method="beta")``), design df and deff; mean scores and their SEs; composites
(elements, overall) via ``svycontrast`` of ``svytotal`` ratios with SEs, logit intervals
and deff; the general question; expectation shares.

Tolerance: 1e-8 relative (R wrote 15 significant digits).
"""

from __future__ import annotations

from typing import Any

import pytest
from scipy import stats

from analysis import analyze

REL = 1e-8
DESIGNS = {
    "srs": {},
    "weights": {"weight": "weight"},
    "full": {"weight": "weight", "strata": "stratum", "cluster": "cluster"},
}


def _approx(value: float) -> Any:
    return pytest.approx(value, rel=REL, abs=1e-10)


def _run(frame, design: str, keys: dict[str, str]):
    options = dict(DESIGNS[design])
    if "unit" in keys:
        options["by"] = "unit"
    if "quarter" in keys:
        options["period"] = "quarter"
    result = analyze(frame, "sipas-2023", **options)
    wanted = {"period" if k == "quarter" else k: v for k, v in keys.items()}
    return result, result.group(**wanted)


def _cases(r_values: dict[str, Any]) -> list[tuple[str, int]]:
    return [(d, i) for d, spec in r_values["designs"].items() for i in range(len(spec["groups"]))]


def _check_proportion(est: Any, ref: dict[str, Any], design: str, q_mean: float | None) -> None:
    assert est.n == ref["n"]
    assert est.value == _approx(ref["p"] * 100)
    assert est.se == _approx(ref["se"] * 100)
    if design != "srs":
        assert est.ci[0] == _approx(ref["ci"][0] * 100)
        assert est.ci[1] == _approx(ref["ci"][1] * 100)
        assert est.df == ref["df"]
        assert est.deff == _approx(ref["deff"])
        assert est.n_eff == _approx(min(ref["n"], ref["n"] / ref["deff"]))  # never above n (§4)
    if "mean" in ref:
        assert est.mean == _approx(ref["mean"])
        q = stats.t.isf(0.025, est.df) if design != "srs" else q_mean
        assert est.mean_ci[0] == _approx(ref["mean"] - q * ref["mean_se"])
        assert est.mean_ci[1] == _approx(ref["mean"] + q * ref["mean_se"])


def _check_composite(est: Any, ref: dict[str, Any], design: str) -> None:
    assert est.n == ref["n"]
    assert est.value == _approx(ref["value"] * 100)
    assert est.se == _approx(ref["se"] * 100)
    assert est.ci[0] == _approx(ref["ci"][0] * 100)
    assert est.ci[1] == _approx(ref["ci"][1] * 100)
    if design != "srs":
        assert est.df == ref["df"]
        assert est.deff == _approx(ref["deff"])
    else:
        assert est.df is None and est.deff is None


@pytest.fixture(scope="module")
def cases(r_values: dict[str, Any]) -> list[tuple[str, int]]:
    return _cases(r_values)


def test_reference_covers_designs_and_domains(r_values: dict[str, Any]) -> None:
    assert set(r_values["designs"]) == set(DESIGNS)
    for spec in r_values["designs"].values():
        keys = [tuple(g["keys"]) for g in spec["groups"]]
        assert keys.count(()) == 1 and keys.count(("unit",)) == 3
        assert keys.count(("quarter",)) == 4
    assert r_values["designs"]["full"]["df"] == 18 - 4  # 18 PSUs in 4 strata


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_design_df(fixture_frame, r_values: dict[str, Any], design: str) -> None:
    result = analyze(fixture_frame, "sipas-2023", **DESIGNS[design])
    assert result.df == r_values["designs"][design]["df"]
    assert result.to_json()["design"]["df"] == r_values["designs"][design]["df"]


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_against_r(fixture_frame, r_values: dict[str, Any], design: str) -> None:
    z = stats.norm.isf(0.025)
    checked = 0
    for group in r_values["designs"][design]["groups"]:
        _, g = _run(fixture_frame, design, group["keys"])
        ref = group["values"]
        for code, crit in ref["criteria"].items():
            _check_proportion(g.criteria[code], crit, design, z)
            checked += 1
        _check_proportion(g.general, ref["general"], design, z)
        for code, element in ref["elements"].items():
            _check_composite(g.elements[code], element, design)
        _check_composite(g.overall, ref["overall"], design)
        assert g.n == ref["overall"]["n"]
        md1 = g.expectations["MD1"]
        _check_proportion(md1.top, ref["expectations"]["MD1"]["top"], design, z)
        _check_proportion(md1.top_two, ref["expectations"]["MD1"]["top_two"], design, z)
    assert checked == 19 * 8


def test_composite_se_is_not_the_sum_of_criterion_variances(fixture_frame, r_values) -> None:
    """The linearised composite captures the correlation between criteria (§3.2)."""
    ref = r_values["designs"]["srs"]["groups"][0]["values"]
    tc = [ref["criteria"][c] for c in ("TC1", "TC2", "TC3", "TC4")]
    naive = (sum(c["se"] ** 2 for c in tc) / 16) ** 0.5
    g = analyze(fixture_frame, "sipas-2023").groups[0]
    assert g.elements["TC"].se == _approx(ref["elements"]["TC"]["se"] * 100)
    assert g.elements["TC"].se > 1.2 * naive * 100  # positively correlated criteria
