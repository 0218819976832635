"""SIPAS indices with confidence intervals: :func:`analyze` (methodology §2–§3).

Everything is vectorised: group keys are factorised once, counts per group and answer
level come from one ``np.bincount`` per question, and influence values and variances
are per-row gathers plus bincounts. Python loops run over questions and groups only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from questionnaires import Questionnaire

from . import bootstrap as _boot
from .design import BoundDesign, SurveyDesign, korn_graubard_ci
from .intervals import (
    check_confidence,
    critical_value,
    logit_ci,
    normal_ci,
    normalize_ci_method,
    proportion_ci_array,
)
from .io import answer_codes, resolve_questionnaire
from .periods import check_kind, code_label, period_codes, to_date, to_dates
from .results import (
    INSUFFICIENT,
    AnalysisResult,
    CriterionEstimate,
    Estimate,
    ExpectationEstimate,
    GroupResult,
)


# -- grouping ---------------------------------------------------------------------------------
@dataclass
class _Grouping:
    rows: np.ndarray | None  # input positions of the analysed rows (None: every row once)
    gid: np.ndarray  # group of each analysed row
    keys: list[dict[str, Any]]
    unique_rows: np.ndarray | None  # input rows analysed at least once (None: all)

    @property
    def G(self) -> int:
        return len(self.keys)


def _factorize(values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Sorted codes with blanks last (as their own group, key None)."""
    try:
        codes, uniques = pd.factorize(values, sort=True)
        labels = list(uniques)
    except TypeError:  # mixed types: sort by text
        codes, uniques = pd.factorize(values, sort=False)
        order = sorted(range(len(uniques)), key=lambda i: str(uniques[i]))
        remap = np.empty(len(order), dtype=np.int64)
        remap[order] = np.arange(len(order))
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        labels = [uniques[i] for i in order]
    codes = np.asarray(codes, dtype=np.int64)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(None)
    return codes, labels


def _group(
    df: pd.DataFrame, by: tuple[str, ...], period: str | None, date_from: dt.date | None,
    date_to: dt.date | None,
) -> _Grouping:
    n_rows = len(df)
    rows: np.ndarray | None = None
    period_code = None
    if period is not None or date_from is not None or date_to is not None:
        days = to_dates(df["submitted_on"])
        if date_from is not None or date_to is not None:
            keep = ~np.isnat(days)
            if date_from is not None:
                keep &= days >= np.datetime64(date_from, "D")
            if date_to is not None:
                keep &= days <= np.datetime64(date_to, "D")
            rows = np.flatnonzero(keep)
        if period is not None:
            base = days if rows is None else days[rows]
            sub_rows, period_code = period_codes(base, period)
            rows = sub_rows if rows is None else rows[sub_rows]
    if rows is not None and period != "par" and len(rows) == n_rows:
        rows = None  # every row exactly once, in order
    parts: list[tuple[np.ndarray, list[Any]]] = []
    for column in by:
        codes, labels = _factorize(df[column])
        parts.append((codes if rows is None else codes[rows], labels))
    if period_code is not None:
        low = int(period_code.min()) if len(period_code) else 0
        top = int(period_code.max()) if len(period_code) else 0
        labels = [code_label(c, period) for c in range(low, top + 1)]
        parts.append((period_code - low, labels))
    names = [*by, *(["period"] if period is not None else [])]
    n_analysed = n_rows if rows is None else len(rows)
    if not parts:
        gid = np.zeros(n_analysed, dtype=np.int64)
        keys: list[dict[str, Any]] = [{}]
    else:
        key = np.zeros(n_analysed, dtype=np.int64)
        radix = 1
        for codes, labels in reversed(parts):
            key += codes * radix
            radix *= len(labels)
        if radix <= 8 * n_analysed + 1024:
            present = np.bincount(key, minlength=radix) > 0
            uniq = np.flatnonzero(present)
            remap = np.cumsum(present) - 1
            gid = remap[key]
        else:
            uniq, gid = np.unique(key, return_inverse=True)
            gid = gid.ravel()
        keys = []
        for value in uniq.tolist():
            digits = []
            for _codes, labels in reversed(parts):
                digits.append(labels[value % len(labels)])
                value //= len(labels)
            keys.append(dict(zip(names, reversed(digits), strict=True)))
    unique_rows = None if rows is None else np.unique(rows)
    return _Grouping(rows, gid.astype(np.int64), keys, unique_rows)


# -- the engine -------------------------------------------------------------------------------
@dataclass
class _Prop:
    """Arrays over groups for one proportion (fractions)."""

    n: np.ndarray
    x: np.ndarray
    p: np.ndarray
    var: np.ndarray
    low: np.ndarray
    high: np.ndarray
    df: np.ndarray | None
    deff: np.ndarray | None
    lut: np.ndarray  # (G, L+1) influence value per unit weight
    sat: np.ndarray  # levels counted (bool, L+1)


class _Engine:
    def __init__(
        self, bound: BoundDesign, grouping: _Grouping, *, is_design: bool, method: str,
        confidence: float,
    ) -> None:
        self.bound = bound
        self.gid = grouping.gid
        self.rows = grouping.rows
        self.G = grouping.G
        self.is_design = is_design
        self.method = method
        self.confidence = confidence
        self.z = critical_value(confidence)
        self._g_offsets: dict[int, np.ndarray] = {}

    def take(self, codes: np.ndarray) -> np.ndarray:
        return codes if self.rows is None else codes[self.rows]

    def index(self, cc: np.ndarray, top: int) -> np.ndarray:
        offsets = self._g_offsets.get(top)
        if offsets is None:
            offsets = self.gid * (top + 1)
            self._g_offsets[top] = offsets
        return offsets + cc

    def counts(self, cc: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per group and level 0..top: counts, weight sums, squared-weight sums."""
        idx = self.index(cc, top)
        size = self.G * (top + 1)
        cnt = np.bincount(idx, minlength=size).reshape(self.G, top + 1)
        w = self.bound.w
        if w is None:
            wc = cnt.astype(np.float64)
            return cnt, wc, wc
        w1 = np.bincount(idx, weights=w, minlength=size).reshape(self.G, top + 1)
        w2 = (
            np.bincount(idx, weights=w * w, minlength=size).reshape(self.G, top + 1)
            if self.bound.simple else w1
        )
        return cnt, w1, w2

    def q(self, df: np.ndarray | None) -> Any:
        return self.z if df is None else critical_value(self.confidence, df)

    def _variance(self, cc: np.ndarray, top: int, w1: np.ndarray, w2: np.ndarray,
                  lut: np.ndarray) -> np.ndarray:
        if self.bound.simple:
            return self.bound.variance_from_counts(w1, w2, lut)
        z = lut.ravel()[self.index(cc, top)]
        return self.bound.variance(self.bound.weighted(z))

    def proportion(self, cc: np.ndarray, top: int, sat: np.ndarray,
                   counted: tuple[np.ndarray, np.ndarray, np.ndarray],
                   df: np.ndarray | None) -> _Prop:
        cnt, w1, w2 = counted
        n = cnt[:, 1:].sum(axis=1)
        x = cnt[:, sat].sum(axis=1)
        wn = w1[:, 1:].sum(axis=1)
        wx = w1[:, sat].sum(axis=1)
        has = n > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(has, wx / np.where(has, wn, 1.0), np.nan)
            lut = np.where(has[:, None], (sat[None, :] - p[:, None]) / wn[:, None], 0.0)
        lut[:, 0] = 0.0
        var = self._variance(cc, top, w1, w2, lut)
        var = np.where(has, np.maximum(var, 0.0), np.nan)
        deff = None
        if self.is_design:
            with np.errstate(invalid="ignore", divide="ignore"):
                deff = var / (p * (1 - p) / n)
            low, high = korn_graubard_ci(p, var, n, df, confidence=self.confidence)
        else:
            low, high = proportion_ci_array(x, n, self.method, self.confidence)
        return _Prop(n, x, p, var, low, high, df, deff, lut, sat)

    def mean(self, cc: np.ndarray, top: int, counted: tuple[np.ndarray, np.ndarray, np.ndarray],
             df: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        _cnt, w1, w2 = counted
        levels = np.arange(top + 1, dtype=np.float64)
        wn = w1[:, 1:].sum(axis=1)
        has = wn > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.where(has, (w1 * levels).sum(axis=1) / np.where(has, wn, 1.0), np.nan)
            lut = np.where(has[:, None], (levels[None, :] - m[:, None]) / wn[:, None], 0.0)
        lut[:, 0] = 0.0
        var = np.where(has, np.maximum(self._variance(cc, top, w1, w2, lut), 0.0), np.nan)
        se = np.sqrt(var)
        low, high = normal_ci(m, se, self.q(df))
        return m, se, np.clip(low, 1, top), np.clip(high, 1, top)


def _flag(value: float | None, ci: tuple[float, float] | None, n: int, small_n: int,
          max_width: float) -> str | None:
    if value is None or ci is None or n < small_n or (ci[1] - ci[0]) > max_width:
        return INSUFFICIENT
    return None


def _none(value: Any) -> Any:
    """NaN and infinities to None (values already Python floats or ints)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def _f(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _ci(low: Any, high: Any, scale: float = 100.0) -> tuple[float, float] | None:
    low, high = float(low), float(high)
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    return (low * scale, high * scale)


def _as_tuple(value: str | Iterable[str] | None, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    out = tuple(value)
    if not all(isinstance(v, str) for v in out):
        raise ValueError(f"{name}: column names must be text, got {value!r}")
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: a column is named twice in {list(out)}")
    return out


def _check_columns(df: pd.DataFrame, q: Questionnaire, by: tuple[str, ...], needs_date: bool,
                   design: dict[str, str | None]) -> None:
    for code in (c.code for c in q.criteria):
        if code not in df.columns:
            raise ValueError(f"{code}: required column '{code}' (criterion of {q.key}) is missing")
    for column in by:
        if column not in df.columns:
            raise ValueError(f"by: column '{column}' is missing")
    if needs_date and "submitted_on" not in df.columns:
        raise ValueError("submitted_on: column 'submitted_on' is missing (needed for periods "
                         "and date limits)")
    for option, column in design.items():
        if column is not None and column not in df.columns:
            raise ValueError(f"{option}: column '{column}' is missing")
    if "questionnaire" in df.columns:
        ids = df["questionnaire"]
        other = ids[ids.notna() & (ids.astype(str) != q.id)]
        if len(other):
            raise ValueError(
                f"questionnaire: the data are answers to '{other.iloc[0]}', but the analysis "
                f"uses '{q.id}'; name the right questionnaire"
            )


def analyze(
    df: pd.DataFrame,
    questionnaire: Questionnaire | str,
    *,
    by: str | Sequence[str] = (),
    period: str | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    ci_method: str = "wilson",
    confidence: float = 0.95,
    weight: str | None = None,
    strata: str | None = None,
    cluster: str | None = None,
    bootstrap: int | None = None,
    seed: int | None = None,
    small_n: int = 30,
    max_width: float = 20.0,
) -> AnalysisResult:
    """SIPAS indices with confidence intervals, per group (methodology §2–§3).

    Indices (percent) with p_k = Σ w_i r_ik y_ik / Σ w_i r_ik the criterion index
    (r answered, y satisfied, w weight — 1 without a design):

    - criterion: p_k, its mean score (1..max) and the answer distribution;
    - element: unweighted mean of its criterion indices (available case);
    - ``overall`` (composite): unweighted mean of the element indices;
    - ``general``: the share satisfied on the general question (HL), the SIPAS headline;
    - expectations: share answering the top level and the top two levels per item.

    Uncertainty:

    - criteria and ``general`` without a design: ``ci_method`` (Wilson by default;
      identical to statsmodels ``proportion_confint``); under a design Korn–Graubard
      (R ``svyciprop(method="beta")``) whatever ``ci_method`` says;
    - standard errors by linearisation, z_ik = w_i r_ik (y_ik − p_k)/Σ_j w_j r_jk and for a
      composite z_i = Σ_k a_k z_ik, variance Σ_h n_h/(n_h−1) Σ_j (z_hj − z̄_h)² (see
      :mod:`analysis.design`; groups and the date window are domains of the design);
    - elements and overall: logit interval logit θ ± q·SE/(θ(1−θ)), q = z without a
      design, t with the estimate's design df with one;
    - mean scores: mean ± q·SE, clipped to the scale;
    - design effect deff = V / V_srs and effective n = n/deff, where V_srs is the
      variance under simple random sampling of the same n: p(1−p)/n for a proportion,
      (n/Σw) Σ_i w_i (Σ_k a_k r_ik (y_ik − p_k)/n_k)² for a composite.

    Rules where the formulas give no answer:

    - a criterion nobody in the group answered: index, se, ci and mean are None, n is 0,
      flag "insufficient data"; elements and the overall index average the criteria and
      elements that have answers (available case) and say so in ``note``; with none at all
      they are None too;
    - θ = 0 or 100 % (more generally, every criterion of the composite at 0 or 100 % in
      the group, where the linearised SE is 0 and the logit interval is undefined): the
      interval is [Σ_k a_k L_k, Σ_k a_k U_k] over the criteria's own intervals — the
      interval if the criteria were perfectly correlated — stated in ``note``;
    - a group with one respondent: criteria get their single-proportion interval
      (Wilson: [20.7, 100] for one satisfied answer), composites the rule above, se 0;
      under a design the Korn–Graubard interval needs n ≥ 2 and df ≥ 1, otherwise
      ci is None; all flagged;
    - a stratum with a single PSU: ValueError naming the stratum (as R's default).

    Parameters
    ----------
    df : DataFrame
        Responses in the export format (columns read by name; unknown columns ignored).
        Required: the criterion columns, ``submitted_on`` when ``period``/dates are used,
        the ``by`` and design columns. Missing → ValueError naming the column.
    questionnaire : Questionnaire or ``"id[@version]"``
        A ``questionnaire`` column, if present, must hold this id.
    by : column name(s)
        Group by these columns (blank values form their own group, key None).
    period : ``month``, ``quarter``, ``half``, ``year`` or ``par``
        Also group by period of ``submitted_on`` (rows without a date are left out);
        PAR windows overlap and a response counts in each window it falls in.
    date_from, date_to : date or ``YYYY-MM-DD``
        Inclusive limits on ``submitted_on``.
    ci_method : ``wilson``, ``jeffreys``, ``clopper-pearson``, ``agresti-coull``, ``wald``
    confidence : float
    weight, strata, cluster : column names of the design (PSUs with replacement).
    bootstrap : int, optional
        Replace index intervals by BCa bootstrap intervals with this many resamples
        (:mod:`analysis.bootstrap`); ``seed`` makes them reproducible.
    small_n, max_width : the small-cell rule (flag when n < small_n or the interval is
        wider than max_width points).

    Returns
    -------
    AnalysisResult
        ``.groups`` (sorted by keys, periods chronologically) and ``.to_json()``.

    Examples
    --------
    >>> import pandas as pd, questionnaires
    >>> q = questionnaires.load("sipas-2023")
    >>> answers = {c.code: [5, 4, 4, 2] for c in q.criteria}
    >>> answers.update(PA1=[None] * 4, HL=[5, 4, 3, 4])
    >>> result = analyze(pd.DataFrame(answers), q)
    >>> g = result.groups[0]
    >>> g.n, g.criteria["TC1"].index, g.general.index, g.elements["PA"].index
    (4, 75.0, 75.0, 75.0)
    >>> [round(v, 2) for v in g.criteria["TC1"].ci]
    [30.06, 95.44]
    >>> g.criteria["PA1"].index is None, g.criteria["PA1"].flag
    (True, 'insufficient data')
    """
    q = resolve_questionnaire(questionnaire)
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
    confidence = check_confidence(confidence)
    method = normalize_ci_method(ci_method)
    by = _as_tuple(by, "by")
    if period is not None:
        check_kind(period)
        if "period" in by:
            raise ValueError("by: 'period' is the period key; use period=... instead")
    date_from = to_date(date_from, "date_from")
    date_to = to_date(date_to, "date_to")
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValueError(f"date_from: {date_from} is after date_to {date_to}")
    for name, value in (("small_n", small_n), ("bootstrap", bootstrap)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | np.integer)
                                  or value < (1 if name == "bootstrap" else 0)):
            raise ValueError(f"{name}: must be a whole number"
                             f"{' of at least 1' if name == 'bootstrap' else ' >= 0'}, "
                             f"got {value!r}")
    if not isinstance(max_width, int | float) or not max_width > 0:
        raise ValueError(f"max_width: must be a positive number of points, got {max_width!r}")
    design_cols = {"weight": weight, "strata": strata, "cluster": cluster}
    for option, column in design_cols.items():
        if column is not None and not isinstance(column, str):
            raise ValueError(f"{option}: expected a column name, got {column!r}")
    needs_date = period is not None or date_from is not None or date_to is not None
    _check_columns(df, q, by, needs_date, design_cols)

    design = SurveyDesign.from_frame(df, weight=weight, strata=strata, cluster=cluster)
    grouping = _group(df, by, period, date_from, date_to)
    design.check_lonely(grouping.unique_rows)
    bound = design.bind(grouping.rows, grouping.gid, grouping.G)
    engine = _Engine(bound, grouping, is_design=design.is_design, method=method,
                     confidence=confidence)
    groups = _estimate(df, q, engine, small_n=int(small_n), max_width=float(max_width),
                       bootstrap=bootstrap, seed=seed, design=design, grouping=grouping)
    return AnalysisResult(
        questionnaire=q, confidence=confidence,
        ci_method="korn-graubard" if design.is_design else method,
        weight=weight, strata=strata, cluster=cluster, df=design.df(grouping.unique_rows),
        by=by, period=period, date_from=date_from, date_to=date_to, bootstrap=bootstrap,
        small_n=int(small_n), max_width=float(max_width), groups=groups,
    )


def _sat_mask(scale: Any, values: Iterable[int]) -> np.ndarray:
    mask = np.zeros(scale.max + 1, dtype=bool)
    mask[list(values)] = True
    return mask


def _estimate(
    df: pd.DataFrame, q: Questionnaire, eng: _Engine, *, small_n: int, max_width: float,
    bootstrap: int | None, seed: int | None, design: SurveyDesign, grouping: _Grouping,
) -> tuple[GroupResult, ...]:
    G, gid, bound = eng.G, eng.gid, eng.bound
    is_design = eng.is_design
    criteria = q.criteria
    codes: dict[str, np.ndarray] = {}
    props: dict[str, _Prop] = {}
    dists: dict[str, np.ndarray] = {}
    wdists: dict[str, np.ndarray] = {}
    means: dict[str, tuple[np.ndarray, ...]] = {}

    def question(code: str, scale: Any, sets: Sequence[np.ndarray]) -> list[_Prop]:
        cc = eng.take(answer_codes(df[code], scale.max, code))
        codes[code] = cc
        counted = eng.counts(cc, scale.max)
        dists[code] = counted[0][:, 1:]
        if design.weights is not None:
            wdists[code] = counted[1][:, 1:]
        df_k = bound.df_groups(cc > 0) if is_design else None
        means[code] = eng.mean(cc, scale.max, counted, df_k)
        return [eng.proportion(cc, scale.max, s, counted, df_k) for s in sets]

    for c in criteria:
        props[c.code] = question(c.code, c.scale, [_sat_mask(c.scale, c.scale.satisfied)])[0]
    general = q.general if q.general is not None and q.general.code in df.columns else None
    if general is not None:
        props[general.code] = question(
            general.code, general.scale, [_sat_mask(general.scale, general.scale.satisfied)])[0]
    expectation_props: dict[str, tuple[_Prop, _Prop]] = {}
    for item in q.expectations:
        if item.code in df.columns:
            top = item.scale.max
            pair = question(item.code, item.scale,
                            [_sat_mask(item.scale, [top]), _sat_mask(item.scale, [top - 1, top])])
            expectation_props[item.code] = (pair[0], pair[1])

    # -- composites: elements and overall ---------------------------------------------------
    elements = q.elements
    avail = {c.code: props[c.code].n > 0 for c in criteria}
    k_avail = {e.code: sum(avail[c.code].astype(np.int64) for c in e.criteria) for e in elements}
    e_avail = sum((k_avail[e.code] > 0).astype(np.int64) for e in elements)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_e = np.where(e_avail > 0, 1.0 / e_avail, 0.0)
    comp: dict[str, dict[str, Any]] = {}
    n_rows = len(gid)
    z_all = np.zeros(n_rows)
    s_all = np.zeros(n_rows) if is_design else None
    any_all = np.zeros(n_rows, dtype=bool)
    inv_e_rows = inv_e[gid]
    for e in elements:
        k = k_avail[e.code]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_k = np.where(k > 0, 1.0 / k, 0.0)
        z_e = np.zeros(n_rows)
        s_e = np.zeros(n_rows) if is_design else None
        any_e = np.zeros(n_rows, dtype=bool)
        value = np.zeros(G)
        for c in e.criteria:
            pr = props[c.code]
            a = np.where(avail[c.code], inv_k, 0.0)
            value += np.where(avail[c.code], pr.p, 0.0) * a
            idx = eng.index(codes[c.code], c.scale.max)
            z_e += (pr.lut * a[:, None]).ravel()[idx]
            if s_e is not None:
                # Same influence value with the unweighted count n_k as denominator: V_srs.
                with np.errstate(divide="ignore", invalid="ignore"):
                    lut_s = np.where(pr.n[:, None] > 0,
                                     (pr.sat[None, :] - pr.p[:, None]) / pr.n[:, None], 0.0)
                lut_s[:, 0] = 0.0
                s_e += (lut_s * a[:, None]).ravel()[idx]
            any_e |= codes[c.code] > 0
        value = np.where(k > 0, value, np.nan)
        comp[e.code] = _composite(eng, z_e, s_e, any_e, value)
        z_all += z_e * inv_e_rows
        if s_all is not None:
            s_all += s_e * inv_e_rows
        any_all |= any_e
        del z_e, s_e
    overall_value = np.where(
        e_avail > 0,
        sum(np.where(k_avail[e.code] > 0, np.nan_to_num(comp[e.code]["value"]), 0.0)
            for e in elements) * inv_e,
        np.nan,
    )
    comp["__overall__"] = _composite(eng, z_all, s_all, any_all, overall_value)
    del z_all, s_all

    boot = None
    if bootstrap is not None:
        boot = _boot.bootstrap_intervals(
            codes=codes, q=q, general=general, expectations=list(expectation_props),
            eng=eng, design=design, grouping=grouping, n_resamples=int(bootstrap), seed=seed,
        )
    return _assemble(q, eng, props, comp, dists, wdists, means, expectation_props, general,
                     small_n, max_width, boot, grouping)


def _composite(eng: _Engine, z: np.ndarray, s: np.ndarray | None, answered: np.ndarray,
               value: np.ndarray) -> dict[str, Any]:
    bound = eng.bound
    var = np.maximum(bound.variance(bound.weighted(z)), 0.0)
    n = np.bincount(eng.gid, weights=answered, minlength=eng.G).round().astype(np.int64)
    out: dict[str, Any] = {"value": value, "var": var, "n": n, "df": None, "deff": None}
    if s is not None:
        df = bound.df_groups(answered)
        w = bound.w if bound.w is not None else np.ones(len(z))
        wn = np.bincount(eng.gid, weights=w * answered, minlength=eng.G)
        with np.errstate(divide="ignore", invalid="ignore"):
            v_srs = n / wn * np.bincount(eng.gid, weights=w * s * s, minlength=eng.G)
            out["deff"] = var / v_srs
        out["df"] = df
    q = eng.q(out["df"])
    out["low"], out["high"] = logit_ci(value, np.sqrt(var), q)
    out["q"] = q
    return out


def _assemble(
    q: Questionnaire, eng: _Engine, props: dict[str, _Prop], comp: dict[str, dict[str, Any]],
    dists: dict[str, np.ndarray], wdists: dict[str, np.ndarray],
    means: dict[str, tuple[np.ndarray, ...]], expectation_props: dict[str, tuple[_Prop, _Prop]],
    general: Any, small_n: int, max_width: float, boot: Any, grouping: _Grouping,
) -> tuple[GroupResult, ...]:
    is_design = eng.is_design
    boot_note = None if boot is None else boot.note

    def design_parts(deff: Any, n: int, df: Any) -> dict[str, Any]:
        if not is_design:
            return {}
        d = _none(float(deff)) if deff is not None else None
        return {"deff": d, "n_eff": None if not d else n / d,
                "df": None if df is None else int(df)}

    def with_boot(key: tuple[str, str], g: int, ci: tuple[float, float] | None,
                  notes: list[str]) -> tuple[float, float] | None:
        if boot is None:
            return ci
        got = boot.get(key, g)
        if got is None:
            notes.append(boot.fallback_note)
            return ci
        notes.append(boot_note)
        return got

    cache: dict[int, dict[str, list[Any]]] = {}

    def lists(pr: _Prop) -> dict[str, list[Any]]:
        # Arrays to Python lists once per question: building ~2,000 result objects from
        # numpy scalars one by one would cost more than all the arithmetic.
        got = cache.get(id(pr))
        if got is None:
            has = pr.n > 0
            nan = np.nan
            with np.errstate(invalid="ignore"):
                got = {
                    "n": pr.n.tolist(), "x": pr.x.tolist(),
                    "value": np.where(has, pr.p * 100, nan).tolist(),
                    "se": np.where(has, np.sqrt(pr.var) * 100, nan).tolist(),
                    "low": np.where(has, pr.low * 100, nan).tolist(),
                    "high": np.where(has, pr.high * 100, nan).tolist(),
                    "zero_var": (has & (pr.var == 0)).tolist(),
                    "deff": [None] * eng.G if pr.deff is None else pr.deff.tolist(),
                    "df": [None] * eng.G if pr.df is None else pr.df.tolist(),
                }
            cache[id(pr)] = got
        return got

    mean_lists = {code: [a.tolist() for a in arrays] for code, arrays in means.items()}
    dist_lists = {code: d.tolist() for code, d in dists.items()}
    level_labels = {code: [str(v) for v in range(1, d.shape[1] + 1)] for code, d in dists.items()}
    wdist_lists = {code: (d / d.sum(axis=1, keepdims=True).clip(min=1e-300) * 100).tolist()
                   for code, d in wdists.items()}

    def proportion_estimate(code: str, pr: _Prop, g: int, key: tuple[str, str],
                            criterion: bool) -> Estimate:
        li = lists(pr)
        n = li["n"][g]
        notes: list[str] = []
        value = _none(li["value"][g])
        ci = None
        if n:
            low, high = li["low"][g], li["high"][g]
            ci = (low, high) if low == low and high == high else None
            if is_design and li["zero_var"][g]:
                notes.append("design variance 0: effective n taken as n")
            ci = with_boot(key, g, ci, notes)
        common = dict(
            value=value, se=_none(li["se"][g]), ci=ci, n=n,
            flag=_flag(value, ci, n, small_n, max_width), note="; ".join(notes) or None,
            **design_parts(li["deff"][g] if n else None, n, li["df"][g]),
        )
        if not criterion:
            return Estimate(**common)
        m, _m_se, m_low, m_high = (values[g] for values in mean_lists[code])
        dist = dist_lists[code][g]
        labels = level_labels[code]
        weighted = None
        if code in wdist_lists:
            weighted = dict(zip(labels, (_none(v) if n else None for v in wdist_lists[code][g]),
                                strict=True))
        return CriterionEstimate(
            **common, satisfied=li["x"][g], mean=_none(m) if n else None,
            mean_ci=(m_low, m_high) if n and m_low == m_low and m_high == m_high else None,
            distribution=dict(zip(labels, dist, strict=True)),
            distribution_weighted=weighted,
        )

    def composite_estimate(code: str, members: Sequence[str], g: int, label: str) -> Estimate:
        cp = comp[code]
        n = int(cp["n"][g])
        value = _f(cp["value"][g] * 100)
        notes: list[str] = []
        missing = [m for m in members if not _has(m, g)]
        if value is not None and missing:
            notes.append(f"no answers to {', '.join(missing)}: mean of "
                         f"{len(members) - len(missing)} of {len(members)} {label}")
        ci = None
        if value is not None:
            ci = _ci(cp["low"][g], cp["high"][g])
            crits = _criteria_of(code)
            if all(_extreme(c, g) for c in crits if props[c].n[g] > 0):
                ci = _correlated_ci(code, g)
                notes.append("all its criteria at 0 or 100 %: interval of perfectly "
                             "correlated criteria")
            ci = with_boot(("composite", code), g, ci, notes)
        se = _f(np.sqrt(cp["var"][g]) * 100) if value is not None else None
        return Estimate(
            value=value, se=se, ci=ci, n=n, flag=_flag(value, ci, n, small_n, max_width),
            note="; ".join(notes) or None,
            **design_parts(cp["deff"][g] if cp["deff"] is not None and value is not None
                           else None, n, cp["df"][g] if cp["df"] is not None else None),
        )

    element_codes = {e.code: [c.code for c in e.criteria] for e in q.elements}

    def _has(member: str, g: int) -> bool:
        if member in props:
            return bool(props[member].n[g] > 0)
        return bool(np.isfinite(comp[member]["value"][g]))

    def _criteria_of(code: str) -> list[str]:
        if code == "__overall__":
            return [c.code for c in q.criteria]
        return element_codes[code]

    def _extreme(code: str, g: int) -> bool:
        pr = props[code]
        return bool(pr.x[g] == 0 or pr.x[g] == pr.n[g])

    def _weights(code: str, g: int) -> dict[str, float]:
        if code != "__overall__":
            members = [c for c in element_codes[code] if props[c].n[g] > 0]
            return {c: 1.0 / len(members) for c in members}
        present = [e for e in element_codes if np.isfinite(comp[e]["value"][g])]
        out: dict[str, float] = {}
        for e in present:
            for c, a in _weights(e, g).items():
                out[c] = a / len(present)
        return out

    def _correlated_ci(code: str, g: int) -> tuple[float, float] | None:
        weights = _weights(code, g)
        low = math.fsum(a * props[c].low[g] for c, a in weights.items())
        high = math.fsum(a * props[c].high[g] for c, a in weights.items())
        theta = float(comp[code]["value"][g])
        # Clip to [0, 1] and around θ (rounding of the averages).
        return _ci(min(max(low, 0.0), theta), max(min(high, 1.0), theta))

    results = []
    for g, keys in enumerate(grouping.keys):
        crit = {c.code: proportion_estimate(c.code, props[c.code], g, ("prop", c.code), True)
                for c in q.criteria}
        elems = {e: composite_estimate(e, members, g, "criteria")
                 for e, members in element_codes.items()}
        overall = composite_estimate("__overall__", list(element_codes), g, "elements")
        gen = None
        if general is not None:
            gen = proportion_estimate(general.code, props[general.code], g,
                                      ("prop", general.code), True)
        expectations = {}
        for code, (top, top_two) in expectation_props.items():
            expectations[code] = ExpectationEstimate(
                n=int(top.n[g]),
                top=proportion_estimate(code, top, g, ("top", code), False),
                top_two=proportion_estimate(code, top_two, g, ("top_two", code), False),
                distribution={str(v + 1): int(c) for v, c in enumerate(dists[code][g])},
            )
        df_group = overall.df
        results.append(GroupResult(
            keys=keys, n=overall.n, general=gen, overall=overall, elements=elems,
            criteria=crit, expectations=expectations, df=df_group,
        ))
    return tuple(results)
