"""analyze(): indices, the JSON shape, grouping, validation and edge cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import questionnaires
from analysis import INSUFFICIENT, analyze, proportion_ci

MINIMAL_TOML = """
id = "mini"
version = 1
[title]
vi = "Thử"
[[scales]]
code = "s"
satisfied = [2, 3]
levels = [{ value = 1, vi = "a" }, { value = 2, vi = "b" }, { value = 3, vi = "c" }]
[[elements]]
code = "E"
vi = "E"
[[criteria]]
code = "E1"
element = "E"
scale = "s"
vi = "e1"
"""


# -- values ----------------------------------------------------------------------------------
def test_indices_by_hand(sipas, make_frame) -> None:
    df = make_frame([5, 4, 3, 2, 1, 5, 4, 4], HL=[5, 5, 5, 4, 3, 2, None, 1],
                    MD1=[3, 3, 2, 1, None, 1, 2, 3])
    df.loc[0:2, "TC2"] = 1  # TC2: 0,0,0 then 3 satisfied of remaining 5 -> 3/8
    df["PA3"] = None
    g = analyze(df, sipas).groups[0]
    tc1 = g.criteria["TC1"]
    assert (tc1.index, tc1.n, tc1.satisfied) == (62.5, 8, 5)
    assert tc1.mean == pytest.approx(28 / 8)
    assert tc1.distribution == {"1": 1, "2": 1, "3": 1, "4": 3, "5": 2}
    assert tc1.ci == pytest.approx(tuple(100 * v for v in proportion_ci(5, 8)))
    assert g.criteria["TC2"].index == pytest.approx(37.5)
    assert g.elements["TC"].index == pytest.approx((62.5 * 3 + 37.5) / 4)
    assert g.elements["TT"].index == pytest.approx(62.5)
    assert g.elements["PA"].index == pytest.approx(62.5)  # PA1, PA2 only (available case)
    assert g.overall.index == pytest.approx(((62.5 * 3 + 37.5) / 4 + 62.5 * 4) / 5)
    assert g.general.index == pytest.approx(4 / 7 * 100) and g.general.n == 7
    md1 = g.expectations["MD1"]
    assert md1.n == 7
    assert md1.top.index == pytest.approx(3 / 7 * 100)
    assert md1.top_two.index == pytest.approx(5 / 7 * 100)
    assert md1.distribution == {"1": 2, "2": 2, "3": 3}


def test_linearised_se_without_design_by_hand(sipas, make_frame) -> None:
    """V = N/(N-1) Σ z_i², z_i = Σ_k a_k r_ik (y_ik - p_k)/n_k, one PSU per respondent."""
    rng = np.random.default_rng(3)
    df = make_frame([4] * 40)
    for code in ("TC1", "TC2", "TC3", "TC4"):
        scores = rng.integers(1, 6, size=40).astype(float)
        scores[rng.random(40) < 0.2] = np.nan
        df[code] = scores
    g = analyze(df, sipas).groups[0]
    z = np.zeros(40)
    for code in ("TC1", "TC2", "TC3", "TC4"):
        answered = df[code].notna().to_numpy()
        y = (df[code] >= 4).to_numpy()
        p = y[answered].mean()
        z += np.where(answered, (y - p) / answered.sum(), 0.0) / 4
    se = math.sqrt(40 / 39 * (z**2).sum()) * 100
    assert g.elements["TC"].se == pytest.approx(se, rel=1e-12)
    theta = g.elements["TC"].index / 100
    q = 1.959963984540054
    half = q * se / 100 / (theta * (1 - theta))
    logit = math.log(theta / (1 - theta))
    assert g.elements["TC"].ci[0] == pytest.approx(100 / (1 + math.exp(-(logit - half))))
    assert g.elements["TC"].ci[1] == pytest.approx(100 / (1 + math.exp(-(logit + half))))


@pytest.mark.parametrize("method", ["wilson", "jeffreys", "clopper-pearson", "agresti-coull",
                                    "wald"])
def test_ci_method_applies_to_criteria(sipas, make_frame, method: str) -> None:
    df = make_frame([5] * 37 + [2] * 13)
    g = analyze(df, sipas, ci_method=method).groups[0]
    assert g.criteria["TC1"].ci == pytest.approx(
        tuple(100 * v for v in proportion_ci(37, 50, method=method)))
    wilson = analyze(df, sipas).groups[0]
    assert g.elements["TC"].ci == wilson.elements["TC"].ci  # composites: logit interval


def test_weighted_proportion(sipas, make_frame) -> None:
    df = make_frame([5, 1, 1, 1], w=[3.0, 1.0, 1.0, 1.0])
    g = analyze(df, sipas, weight="w").groups[0]
    assert g.criteria["TC1"].index == pytest.approx(50.0)
    assert g.criteria["TC1"].n == 4 and g.criteria["TC1"].satisfied == 1
    assert g.criteria["TC1"].distribution_weighted == pytest.approx(
        {"1": 50.0, "2": 0.0, "3": 0.0, "4": 0.0, "5": 50.0})
    assert g.criteria["TC1"].mean == pytest.approx((5 * 3 + 3) / 6)


def test_three_level_questionnaire(counter) -> None:
    df = pd.DataFrame({"DG1": [1, 2, 3, 3], "DG2": [1, 1, 2, 3], "DG3": [2, 2, 2, None],
                       "HL": [1, 2, 3, 2]})
    g = analyze(df, counter).groups[0]
    assert g.criteria["DG1"].index == 75.0
    assert g.criteria["DG2"].index == 50.0
    assert g.criteria["DG3"].index == 100.0 and g.criteria["DG3"].n == 3
    assert g.elements["DG"].index == pytest.approx(75.0)
    assert g.general.index == 75.0
    assert g.criteria["DG1"].distribution == {"1": 1, "2": 1, "3": 2}


def test_group_n_counts_respondents_with_any_criterion(sipas, make_frame) -> None:
    df = make_frame([5, 4, None], HL=[5, 4, 4])
    g = analyze(df, sipas).groups[0]
    assert g.n == 2 and g.overall.n == 2 and g.general.n == 3
    df.loc[2, "PA1"] = 5
    g = analyze(df, sipas).groups[0]
    assert g.n == 3 and g.elements["PA"].n == 3 and g.elements["TC"].n == 2


# -- JSON ------------------------------------------------------------------------------------
def test_json_shape(sipas, random_frame) -> None:
    result = analyze(random_frame, sipas, by="unit", period="quarter")
    out = result.to_json()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    assert out["questionnaire"] == "sipas-2023" and out["confidence"] == 0.95
    assert out["design"] == {"weight": None, "strata": None, "cluster": None, "df": None}
    assert len(out["groups"]) == 8
    group = out["groups"][0]
    assert group["keys"] == {"unit": "A", "period": "2024-Q1"}
    assert {"keys", "n", "general", "overall", "elements", "criteria", "expectations"} <= set(group)
    for est in (group["general"], group["overall"], *group["elements"].values()):
        assert {"index", "se", "ci", "n", "flag"} <= set(est)
        assert isinstance(est["ci"], list) and len(est["ci"]) == 2
        assert "deff" not in est
    assert list(group["elements"]) == ["TC", "TT", "CC", "KQ", "PA"]
    assert list(group["criteria"]) == [c.code for c in sipas.criteria]
    crit = group["criteria"]["TC1"]
    assert {"index", "se", "ci", "n", "satisfied", "mean", "mean_ci", "distribution",
            "flag"} <= set(crit)
    assert list(crit["distribution"]) == ["1", "2", "3", "4", "5"]
    assert sum(crit["distribution"].values()) == crit["n"]
    assert set(group["expectations"]["MD1"]) >= {"n", "top", "top_two"}
    assert [g["keys"]["period"] for g in out["groups"][:4]] == [
        "2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]


def test_json_without_grouping_and_with_design(sipas, random_frame) -> None:
    result = analyze(random_frame, sipas, weight="w", strata="stratum", cluster="psu")
    out = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert [g["keys"] for g in out["groups"]] == [{}]
    assert out["design"] == {"weight": "w", "strata": "stratum", "cluster": "psu", "df": 12}
    assert out["ci_method"] == "korn-graubard"
    overall = out["groups"][0]["overall"]
    assert overall["deff"] > 0 and overall["n_eff"] == pytest.approx(
        overall["n"] / overall["deff"])
    assert overall["df"] == 12


def test_json_nulls_not_nan(sipas, make_frame) -> None:
    df = make_frame([5, 4])
    for code in ("PA1", "PA2", "PA3"):
        df[code] = None
    out = analyze(df, sipas).to_json()
    text = json.dumps(out, allow_nan=False)
    pa1 = json.loads(text)["groups"][0]["criteria"]["PA1"]
    assert pa1["index"] is None and pa1["se"] is None and pa1["ci"] is None
    assert pa1["mean"] is None and pa1["mean_ci"] is None
    assert pa1["n"] == 0 and pa1["flag"] == INSUFFICIENT
    assert json.loads(text)["groups"][0]["elements"]["PA"]["index"] is None
    assert json.loads(text)["groups"][0]["general"] is None  # no HL column


def test_general_is_null_without_general_question() -> None:
    mini = questionnaires.load_text(MINIMAL_TOML)
    out = analyze(pd.DataFrame({"E1": [1, 2, 3]}), mini).to_json()
    assert out["groups"][0]["general"] is None
    assert out["groups"][0]["overall"]["index"] == pytest.approx(200 / 3)


def test_to_frame(sipas, random_frame) -> None:
    frame = analyze(random_frame, sipas, by="unit").to_frame()
    per_group = 1 + 1 + 5 + 19 + 2 * 9
    assert len(frame) == 2 * per_group
    assert list(frame.columns[:4]) == ["unit", "group_n", "level", "code"]
    row = frame[(frame.unit == "A") & (frame.code == "TC1")].iloc[0]
    assert row["level"] == "criterion" and row["ci_low"] < row["index"] < row["ci_high"]


# -- grouping --------------------------------------------------------------------------------
def test_groups_sorted_and_blank_keys_kept(sipas, make_frame) -> None:
    df = make_frame([5, 4, 3, 2, 1], gender=["nu", None, "nam", "nu", None])
    result = analyze(df, sipas, by=["gender"])
    assert [g.keys for g in result.groups] == [{"gender": "nam"}, {"gender": "nu"},
                                               {"gender": None}]
    assert [g.n for g in result.groups] == [1, 2, 2]
    assert json.loads(json.dumps(result.to_json()))["groups"][2]["keys"] == {"gender": None}


def test_two_by_columns(sipas, random_frame) -> None:
    result = analyze(random_frame, sipas, by=("unit", "feedback_given"))
    assert [tuple(g.keys.values()) for g in result.groups] == [
        ("A", "co"), ("A", "khong"), ("B", "co"), ("B", "khong")]
    assert sum(g.n for g in result.groups) == analyze(random_frame, sipas).groups[0].n
    khong = result.group(unit="A", feedback_given="khong")
    assert khong.elements["PA"].index is None and khong.criteria["PA1"].n == 0
    assert khong.overall.note == "no answers to PA: mean of 4 of 5 elements"


def test_period_group_equals_date_window(sipas, random_frame) -> None:
    """Groups are domains of the same design, so a PAR window analysed as a group equals
    the same window selected with date_from/date_to (value, SE, interval, df)."""
    options = {"weight": "w", "strata": "stratum", "cluster": "psu"}
    by_par = analyze(random_frame, sipas, period="par", **options)
    labels = [g.keys["period"] for g in by_par.groups]
    assert labels == ["2024-PAR-Q1", "2024-PAR-6M", "2024-PAR-Q3", "2024-PAR-Y",
                      "2025-PAR-Q1", "2025-PAR-6M", "2025-PAR-Y"]
    windowed = analyze(random_frame, sipas, date_from="2023-12-15", date_to="2024-06-14",
                       **options).groups[0]
    grouped = by_par.group(period="2024-PAR-6M")
    assert grouped.n == windowed.n
    for a, b in [(grouped.overall, windowed.overall), (grouped.elements["CC"],
                 windowed.elements["CC"]), (grouped.criteria["KQ2"], windowed.criteria["KQ2"])]:
        assert a.value == pytest.approx(b.value, rel=1e-12)
        assert a.se == pytest.approx(b.se, rel=1e-10)
        assert a.ci == pytest.approx(b.ci, rel=1e-10)
        assert a.df == b.df


def test_par_windows_overlap(sipas, make_frame) -> None:
    df = make_frame([5, 4, 3], submitted_on=["2024-03-14", "2024-06-20", "2023-12-15"])
    result = analyze(df, sipas, period="par")
    n = {g.keys["period"]: g.n for g in result.groups}
    assert n == {"2024-PAR-Q1": 2, "2024-PAR-6M": 2, "2024-PAR-Q3": 1, "2024-PAR-Y": 3}


def test_rows_without_date_are_left_out_of_periods(sipas, make_frame) -> None:
    df = make_frame([5, 4, 3], submitted_on=["2024-01-05", None, "2024-02-01"])
    result = analyze(df, sipas, period="month")
    assert [(g.keys["period"], g.n) for g in result.groups] == [("2024-01", 1), ("2024-02", 1)]


def test_date_limits_are_inclusive(sipas, make_frame) -> None:
    df = make_frame([5, 4, 3, 2], submitted_on=["2024-01-01", "2024-01-31", "2024-02-01",
                                                "2023-12-31"])
    g = analyze(df, sipas, date_from="2024-01-01", date_to="2024-01-31").groups[0]
    assert g.n == 2 and g.criteria["TC1"].index == 100.0


# -- edge cases ------------------------------------------------------------------------------
def test_everyone_satisfied(sipas, make_frame) -> None:
    g = analyze(make_frame([5] * 40, HL=[4] * 40), sipas).groups[0]
    tc1 = g.criteria["TC1"]
    assert tc1.index == 100.0 and tc1.se == 0.0
    assert tc1.ci == pytest.approx((100 * proportion_ci(40, 40)[0], 100.0))
    for est in (g.overall, g.elements["TC"]):
        assert est.index == 100.0 and est.se == 0.0
        assert est.ci == pytest.approx((tc1.ci[0], 100.0))
        assert est.ci[1] == 100.0
        assert "perfectly correlated" in est.note
    assert g.general.index == 100.0 and g.general.flag is None


def test_nobody_satisfied(sipas, make_frame) -> None:
    g = analyze(make_frame([1, 2, 3] * 12), sipas).groups[0]
    assert g.criteria["TC1"].index == 0.0
    assert g.criteria["TC1"].ci[0] == 0.0
    assert g.overall.index == 0.0 and g.overall.ci[0] == 0.0
    assert g.overall.ci[1] == pytest.approx(100 * proportion_ci(0, 36)[1])
    assert g.overall.flag is None  # n = 36, width 9.6 points


def test_mixed_extremes_use_correlated_rule(sipas, make_frame) -> None:
    df = make_frame([5] * 10)
    df["TC2"] = 1
    g = analyze(df, sipas).groups[0]
    tc = g.elements["TC"]
    assert tc.index == 75.0 and tc.se == 0.0
    low1, high1 = proportion_ci(10, 10)
    low0, high0 = proportion_ci(0, 10)
    assert tc.ci == pytest.approx((100 * (3 * low1 + low0) / 4, 100 * (3 * high1 + high0) / 4))


def test_criterion_nobody_answered(sipas, make_frame) -> None:
    df = make_frame([5, 4, 2] * 12)
    df["PA1"] = None
    g = analyze(df, sipas).groups[0]
    pa1 = g.criteria["PA1"]
    assert (pa1.index, pa1.se, pa1.ci, pa1.n, pa1.mean, pa1.mean_ci) == (
        None, None, None, 0, None, None)
    assert pa1.flag == INSUFFICIENT and pa1.satisfied == 0
    assert pa1.distribution == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
    assert g.elements["PA"].index == pytest.approx(200 / 3)
    assert g.elements["PA"].note == "no answers to PA1: mean of 2 of 3 criteria"
    assert g.overall.index == pytest.approx(200 / 3) and g.overall.note is None


def test_group_with_one_respondent(sipas, make_frame) -> None:
    df = make_frame([5, 4, 2, 1, 5], unit=["A", "A", "A", "A", "B"])
    df.loc[4, "TC2"] = 1
    result = analyze(df, sipas, by="unit")
    g = result.group(unit="B")
    assert g.n == 1
    tc1 = g.criteria["TC1"]
    assert tc1.index == 100.0 and tc1.se == 0.0 and tc1.flag == INSUFFICIENT
    assert tc1.ci == pytest.approx((100 * proportion_ci(1, 1)[0], 100.0))
    assert g.elements["TC"].index == 75.0 and g.elements["TC"].se == 0.0
    assert g.elements["TC"].ci[0] < 75.0 < g.elements["TC"].ci[1]
    assert g.overall.flag == INSUFFICIENT
    json.dumps(result.to_json(), allow_nan=False)


def test_group_with_one_respondent_under_design(sipas, make_frame) -> None:
    df = make_frame([5, 4, 2, 1, 5], unit=["A", "A", "A", "A", "B"], w=[1.0, 2, 1, 2, 1],
                    h=["x", "x", "y", "y", "y"], c=[1, 2, 1, 2, 3])
    result = analyze(df, sipas, by="unit", weight="w", strata="h", cluster="c")
    g = result.group(unit="B")
    assert g.criteria["TC1"].index == 100.0
    assert g.criteria["TC1"].ci is None and g.criteria["TC1"].df == 0
    assert g.overall.ci is None and g.overall.flag == INSUFFICIENT
    json.dumps(result.to_json(), allow_nan=False)


def test_one_psu_in_a_stratum(sipas, make_frame) -> None:
    df = make_frame([5, 4, 2, 1, 5], h=["x", "x", "y", "y", "z"], c=[1, 2, 1, 2, 1],
                    submitted_on=["2024-01-02"] * 4 + ["2023-05-05"])
    with pytest.raises(ValueError, match=r"strata: stratum 'z' \(column 'h'\) has only one PSU"):
        analyze(df, sipas, strata="h", cluster="c")
    # Outside the analysed window the lonely stratum does no harm.
    g = analyze(df, sipas, strata="h", cluster="c", date_from="2024-01-01").groups[0]
    assert g.n == 4
    with pytest.raises(ValueError, match="cluster: the data hold a single PSU"):
        analyze(make_frame([5, 4], c=[1, 1]), sipas, cluster="c")


def test_small_cell_flags(sipas, make_frame) -> None:
    g = analyze(make_frame([5] * 29 + [1]), sipas).groups[0]
    assert g.criteria["TC1"].flag is None  # n = 30, width < 20
    g = analyze(make_frame([5] * 28 + [1]), sipas).groups[0]
    assert g.criteria["TC1"].flag == INSUFFICIENT  # n = 29
    g = analyze(make_frame([5, 1] * 20), sipas).groups[0]
    assert g.criteria["TC1"].ci[1] - g.criteria["TC1"].ci[0] > 20
    assert g.criteria["TC1"].flag == INSUFFICIENT  # wide interval
    g = analyze(make_frame([5, 1] * 20), sipas, small_n=10, max_width=40).groups[0]
    assert g.criteria["TC1"].flag is None


def test_empty_input(sipas, make_frame) -> None:
    result = analyze(make_frame([]), sipas)
    assert len(result.groups) == 1 and result.groups[0].n == 0
    assert result.groups[0].overall.index is None
    json.dumps(result.to_json(), allow_nan=False)
    assert analyze(make_frame([], unit=[]), sipas, by="unit").groups == ()


# -- validation ------------------------------------------------------------------------------
def test_missing_required_columns(sipas, make_frame) -> None:
    df = make_frame([5, 4]).drop(columns=["TC3"])
    with pytest.raises(ValueError, match="TC3: required column 'TC3'"):
        analyze(df, sipas)
    df = make_frame([5, 4])
    with pytest.raises(ValueError, match="by: column 'unit' is missing"):
        analyze(df, sipas, by="unit")
    with pytest.raises(ValueError, match="submitted_on: column 'submitted_on' is missing"):
        analyze(df, sipas, period="quarter")
    with pytest.raises(ValueError, match="weight: column 'w' is missing"):
        analyze(df, sipas, weight="w")
    with pytest.raises(ValueError, match="cluster: column 'psu' is missing"):
        analyze(df, sipas, cluster="psu")


def test_unknown_columns_ignored_and_optional_columns_optional(sipas, make_frame) -> None:
    plain = analyze(make_frame([5, 4, 1]), sipas).to_json()
    extra = analyze(make_frame([5, 4, 1], foo=["x", "y", "z"], comment=["", "", ""]),
                    sipas).to_json()
    assert plain == extra


def test_questionnaire_column_must_agree(sipas, make_frame) -> None:
    ok = make_frame([5, 4], questionnaire=["sipas-2023", None])
    assert analyze(ok, "sipas-2023").groups[0].n == 2
    bad = make_frame([5, 4], questionnaire=["sipas-2023", "tt01-counter"])
    with pytest.raises(ValueError, match="questionnaire: the data are answers to 'tt01-counter'"):
        analyze(bad, sipas)


@pytest.mark.parametrize("value,shown", [(6, "6"), (0, "0"), (4.5, "4.5"), ("rất tốt", "'rất tốt'")])
def test_values_outside_the_scale(sipas, make_frame, value, shown) -> None:
    df = make_frame([5, 4, 3]).astype(object)
    df.loc[1, "CC2"] = value
    with pytest.raises(ValueError, match=rf"CC2: value {shown} is not on the answer scale 1–5"):
        analyze(df, sipas)


def test_text_answers_are_accepted(sipas, make_frame) -> None:
    df = make_frame(["5", "4", "", None])
    g = analyze(df, sipas).groups[0]
    assert g.criteria["TC1"].n == 2 and g.criteria["TC1"].index == 100.0


@pytest.mark.parametrize(
    "options,message",
    [
        ({"period": "week"}, "period: unknown kind 'week'"),
        ({"ci_method": "bayes"}, "ci_method: unknown method"),
        ({"confidence": 95}, "confidence: must lie strictly between 0 and 1"),
        ({"date_from": "2024-02-01", "date_to": "2024-01-01"}, "date_from: 2024-02-01 is after"),
        ({"date_from": "01/02/2024"}, "date_from: '01/02/2024' is not a date"),
        ({"by": "period", "period": "month"}, "by: 'period' is the period key"),
        ({"bootstrap": 0}, "bootstrap: must be a whole number of at least 1"),
        ({"small_n": -1}, "small_n: must be a whole number"),
        ({"max_width": 0}, "max_width: must be a positive number"),
    ],
)
def test_bad_options(sipas, make_frame, options, message) -> None:
    df = make_frame([5, 4], submitted_on=["2024-01-01", "2024-01-02"], period=["a", "b"])
    with pytest.raises(ValueError, match=message):
        analyze(df, sipas, **options)


def test_bad_weights_and_dates(sipas, make_frame) -> None:
    with pytest.raises(ValueError, match="weight: column 'w' must hold positive numbers"):
        analyze(make_frame([5, 4], w=[1.0, 0.0]), sipas, weight="w")
    with pytest.raises(ValueError, match="strata: column 'h' is blank"):
        analyze(make_frame([5, 4], h=["a", None]), sipas, strata="h")
    with pytest.raises(ValueError, match="submitted_on: '2024-13-01' is not a date"):
        analyze(make_frame([5], submitted_on=["2024-13-01"]), sipas, period="year")


def test_questionnaire_by_id(make_frame) -> None:
    assert analyze(make_frame([5]), "sipas-2023@1").questionnaire.key == "sipas-2023@1"
    with pytest.raises(ValueError, match="questionnaire: unknown questionnaire 'nope'"):
        analyze(make_frame([5]), "nope")


# -- invariants on random data -----------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.lists(
            st.one_of(st.none(), st.integers(1, 5)), min_size=20, max_size=20)),
        min_size=1, max_size=40),
    design=st.booleans(),
)
def test_invariants(sipas, rows, design) -> None:
    codes = [c.code for c in sipas.criteria] + ["HL"]
    df = pd.DataFrame([dict(zip(codes, answers, strict=True)) for _, answers in rows],
                      columns=codes, dtype=float)
    df["unit"] = [unit for unit, _ in rows]
    df["w"] = np.linspace(1, 3, len(df))
    df["h"] = [i % 2 for i in range(len(df))]
    options = {"weight": "w"} if design else {}
    if design and len(df) == 1:
        with pytest.raises(ValueError, match="weight: the data hold a single respondent"):
            analyze(df, sipas, by="unit", **options)
        return
    result = analyze(df, sipas, by="unit", **options)
    json.dumps(result.to_json(), allow_nan=False)
    for g in result.groups:
        assert g.n == int(df.loc[df.unit == g.keys["unit"], codes[:-1]].notna().any(axis=1).sum())
        estimates = [g.overall, *g.elements.values(), *g.criteria.values()]
        for est in estimates:
            if est.value is None:
                assert est.flag == INSUFFICIENT
                continue
            assert 0 <= est.value <= 100 and est.se >= 0
            if est.ci is not None:
                assert 0 <= est.ci[0] <= est.value + 1e-9
                assert est.value - 1e-9 <= est.ci[1] <= 100
        values = [e.value for e in g.elements.values() if e.value is not None]
        if values:
            assert g.overall.value == pytest.approx(sum(values) / len(values))
        else:
            assert g.overall.value is None


@pytest.mark.parametrize(("value", "ci", "n", "reasons", "words"), [
    (80.0, (62.0, 83.0), 74, ("wide interval",), "khoảng tin cậy rộng 21,0 điểm, quá 20 điểm"),
    (80.0, (70.0, 88.0), 12, ("small n",), "n = 12, dưới 30 người trả lời"),
    (80.0, (50.0, 95.0), 9, ("small n", "wide interval"),
     "n = 9, dưới 30 người trả lời; khoảng tin cậy rộng 45,0 điểm, quá 20 điểm"),
    (None, None, 0, ("no estimate",), "chưa có ước lượng: không ai trả lời"),
    (80.0, (75.0, 85.0), 200, (), ""),
])
def test_a_flag_says_which_rule_raised_it(value, ci, n, reasons, words):
    """n = 74 is enough answers; the interval's width flags it, and the words say so."""
    from analysis.report.labels import flag_why
    from analysis.results import flag_reasons

    assert flag_reasons(value, ci, n, 30, 20.0) == reasons
    width = None if ci is None else ci[1] - ci[0]
    assert flag_why(reasons, n=n, width=width, small_n=30, max_width=20.0, lang="vi") == words
