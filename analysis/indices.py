"""SIPAS indices with confidence intervals from a frame of responses: :func:`analyze`
(methodology §2–§3).

The rows are a :class:`RowSource` of the shared estimator (:mod:`analysis.estimator`).
Everything is vectorised: group keys are factorised once, counts per group and answer
level come from one ``np.bincount`` per question, and influence values and variances
are per-row gathers plus bincounts. Python loops run over questions and groups only.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from questionnaires import Questionnaire

from . import bootstrap as _boot
from .design import BoundDesign, SurveyDesign
from .estimator import CompositeSpec, CompositeStats, Counted, Source, estimate, question_scales
from .intervals import check_confidence, normalize_ci_method
from .io import answer_codes, resolve_questionnaire
from .periods import Grouping, check_kind, group_rows, to_date
from .results import MAX_WIDTH, SMALL_N, AnalysisResult, PropArrays
from .tallies import Tallies, TallySource, count_rows


# -- rows in memory as a source of sufficient statistics -----------------------------------
class RowSource(Source):
    """The analysed rows of a frame: counts by ``np.bincount`` per question, influence
    values and variances by per-row gathers (see :mod:`analysis.estimator`)."""

    def __init__(
        self, df: pd.DataFrame, bound: BoundDesign, grouping: Grouping, *, is_design: bool,
        method: str, confidence: float,
    ) -> None:
        super().__init__(G=grouping.G, is_design=is_design, weighted=bound.w is not None,
                         method=method, confidence=confidence)
        self.df = df
        self.bound = bound
        self.gid = grouping.gid
        self.rows = grouping.rows
        self.codes: dict[str, np.ndarray] = {}
        self.level_counts: dict[str, np.ndarray] = {}
        self._tops: dict[str, int] = {}
        self._g_offsets: dict[int, np.ndarray] = {}
        self._index: dict[str, np.ndarray] = {}
        # (level, code) -> weighted influence value of each analysed row, when a caller
        # contrasts domains (analyze_with_influence); None otherwise (no memory spent).
        self.influence: dict[tuple[str, str], np.ndarray] | None = None
        # Without a design, a caller that keeps the tallies (units against the rest) gets
        # them here, and the composites' variances come from them instead of per-row passes.
        self.tallies: tuple[Questionnaire, list[Tallies]] | None = None

    def has(self, code: str) -> bool:
        return code in self.df.columns

    def index(self, code: str) -> np.ndarray:
        """Position of each analysed row in the (group, answer level) table; kept per
        question because the composites need it again (8 bytes a row)."""
        idx = self._index.get(code)
        if idx is None:
            top = self._tops[code]
            offsets = self._g_offsets.get(top)
            if offsets is None:
                offsets = self._g_offsets[top] = self.gid * (top + 1)
            idx = self._index[code] = offsets + self.codes[code]
        return idx

    def counts(self, code: str, top: int) -> Counted:
        cc = answer_codes(self.df[code], top, code)
        self.codes[code] = cc if self.rows is None else cc[self.rows]
        self._tops[code] = top
        idx = self.index(code)
        size = self.G * (top + 1)
        cnt = self.level_counts[code] = np.bincount(idx, minlength=size).reshape(self.G, top + 1)
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

    def level_variance(self, code: str, top: int, counted: Counted, lut: np.ndarray) -> np.ndarray:
        if self.bound.simple:
            return self.bound.variance_from_counts(counted[1], counted[2], lut)
        return self.bound.variance(self.bound.weighted(lut.ravel()[self.index(code)]))

    def df_of(self, code: str) -> np.ndarray | None:
        return self.bound.df_groups(self.codes[code] > 0) if self.is_design else None

    def keep(self, key: tuple[str, str], code: str, pr: PropArrays) -> None:
        """Remember the influence values of one proportion, if asked to."""
        if self.influence is not None:
            self.influence[key] = self.bound.weighted(pr.lut.ravel()[self.index(code)])

    def composites(self, specs: Sequence[CompositeSpec], props: dict[str, PropArrays]) -> list[CompositeStats]:
        if self.tallies is None or self.is_design or self.influence is not None:
            return [self._composite(spec, props) for spec in specs]
        q, out = self.tallies
        answered = {}
        for spec in specs:  # respondents answering at least one member
            any_member = np.zeros(len(self.gid), dtype=bool)
            for code in spec.members:
                any_member |= self.codes[code] > 0
            answered[spec.code] = np.bincount(self.gid[any_member], minlength=self.G).astype(np.int64)
        scales = question_scales(q)
        tallies = count_rows(self.codes, {k: scales[k] for k in self.codes}, self.gid, self.G, q,
                             self.bound.design.n_rows, levels=self.level_counts, answered=answered)
        out.append(tallies)
        return TallySource(tallies, method=self.method, confidence=self.confidence).composites(specs, props)

    def _composite(self, spec: CompositeSpec, props: dict[str, PropArrays]) -> CompositeStats:
        bound, gid = self.bound, self.gid
        n_rows = len(gid)
        z = np.zeros(n_rows)
        s = np.zeros(n_rows) if self.is_design else None
        answered = np.zeros(n_rows, dtype=bool)
        for code, a in spec.members.items():
            pr = props[code]
            idx = self.index(code)
            z += (pr.lut * a[:, None]).ravel()[idx]
            if s is not None:
                # Same influence value with the unweighted count n_k as denominator: V_srs.
                with np.errstate(divide="ignore", invalid="ignore"):
                    lut_s = np.where(pr.n[:, None] > 0,
                                     (pr.sat[None, :] - pr.p[:, None]) / pr.n[:, None], 0.0)
                lut_s[:, 0] = 0.0
                s += (lut_s * a[:, None]).ravel()[idx]
            answered |= self.codes[code] > 0
        if self.influence is not None:
            self.influence[(spec.level, "overall" if spec.level == "overall" else spec.code)] = bound.weighted(z)
        var = bound.variance(bound.weighted(z))
        n = np.bincount(gid, weights=answered, minlength=self.G).round().astype(np.int64)
        if s is None:
            return CompositeStats(var, n)
        w = bound.w if bound.w is not None else np.ones(n_rows)
        wn = np.bincount(gid, weights=w * answered, minlength=self.G)
        with np.errstate(divide="ignore", invalid="ignore"):
            v_srs = n / wn * np.bincount(gid, weights=w * s * s, minlength=self.G)
            deff = np.maximum(var, 0.0) / v_srs
        return CompositeStats(var, n, bound.df_groups(answered), deff)


@dataclass(frozen=True)
class Influence:
    """The weighted influence value of every analysed row for each estimate (``values`` keyed
    by (level, code)), with the design and the grouping they belong to: what a contrast of
    two domains of the one design needs (see :func:`domain_contrast_variance`)."""

    values: dict[tuple[str, str], np.ndarray]
    design: SurveyDesign
    grouping: Grouping

    @functools.cached_property
    def whole(self) -> BoundDesign:
        """The design bound to every analysed row as one group (bound once, for every contrast)."""
        return self.design.bind(self.grouping.rows, np.zeros(len(self.grouping.gid), dtype=np.int64), 1)


def domain_contrast_variance(influence: Influence, key: tuple[str, str], plus: int, minus: int) -> float:
    """Variance of (estimate of group ``plus`` − estimate of group ``minus``) over the whole
    design: the linearised difference summed per PSU of the design (zero where a PSU has no
    member of either group), so the covariance enters where the two share PSUs (R:
    ``svyby`` + ``svycontrast``). A result that is zero up to rounding, relative to the
    variance of either side, is 0."""
    z = influence.values[key]
    gid = influence.grouping.gid
    sign = np.where(gid == plus, 1.0, np.where(gid == minus, -1.0, 0.0))
    bound = influence.whole
    total = float(bound.variance(z * sign)[0])
    scale = float(bound.variance(z * (sign > 0))[0] + bound.variance(z * (sign < 0))[0])
    # Proportions are fractions here: a variance under 1e-24 is an SE of a trillionth.
    return 0.0 if total <= max(1e-12 * scale, 1e-24) else total


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


def check_options(by: str | Sequence[str], period: str | None, date_from: Any, date_to: Any, small_n: Any,
                  max_width: Any, bootstrap: Any = None) -> tuple[tuple[str, ...], dt.date | None, dt.date | None]:
    """The grouping, period, date window and small-cell options of an analysis, checked
    (ValueError naming the option); returns ``by`` as a tuple and the dates as dates."""
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
    return by, date_from, date_to


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
    for option, name in design.items():
        if name is not None and name not in df.columns:
            raise ValueError(f"{option}: column '{name}' is missing")
    if "questionnaire" in df.columns and not _all_equal(df["questionnaire"], q.id):
        # The distinct ids (in order of appearance), not a string per row: a million rows.
        other = [v for v in pd.unique(df["questionnaire"].dropna()) if str(v) != q.id]
        if other:
            raise ValueError(
                f"questionnaire: the data are answers to '{other[0]}', but the analysis "
                f"uses '{q.id}'; name the right questionnaire"
            )


def _all_equal(column: pd.Series, value: str) -> bool:
    """Whether every row holds ``value`` (one comparison pass: equal strings loaded from the
    database are one object, so this costs a tenth of hashing them)."""
    try:
        return bool((column.to_numpy(dtype=object) == value).all())
    except (TypeError, ValueError):
        return False


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
    small_n: int = SMALL_N,
    max_width: float = MAX_WIDTH,
    _influence: list[Influence] | None = None,
    _tallies: list[Tallies] | None = None,
    _counts_only: bool = False,
) -> AnalysisResult:
    """SIPAS indices with confidence intervals, per group (methodology §2–§3).

    Indices (percent) with p_k = Σ w_i r_ik y_ik / Σ w_i r_ik the criterion index
    (r answered, y satisfied, w weight — 1 without a design):

    - criterion: p_k, its mean score (1..max) and the answer distribution;
    - element: unweighted mean of its criterion indices (available case);
    - ``overall`` (composite): unweighted mean of the element indices;
    - ``general``: the share satisfied on the general question (HL), the SIPAS headline
      (None when the questionnaire has no general question or the data no HL column);
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
    by, date_from, date_to = check_options(by, period, date_from, date_to, small_n, max_width, bootstrap)
    design_cols = {"weight": weight, "strata": strata, "cluster": cluster}
    for option, column in design_cols.items():
        if column is not None and not isinstance(column, str):
            raise ValueError(f"{option}: expected a column name, got {column!r}")
    needs_date = period is not None or date_from is not None or date_to is not None
    _check_columns(df, q, by, needs_date, design_cols)

    design = SurveyDesign.from_frame(df, weight=weight, strata=strata, cluster=cluster)
    grouping = group_rows(df, by, period, date_from, date_to)
    design.check_lonely(grouping.unique_rows)
    bound = design.bind(grouping.rows, grouping.gid, grouping.G)
    src = RowSource(df, bound, grouping, is_design=design.is_design, method=method,
                    confidence=confidence)
    if _influence is not None:
        src.influence = {}
    if _tallies is not None:
        src.tallies = (q, _tallies)

    def boot(general: Any, expectations: list[str]) -> Any:
        return _boot.bootstrap_intervals(
            codes=src.codes, q=q, general=general, expectations=expectations, eng=src,
            design=design, grouping=grouping, n_resamples=int(bootstrap), seed=seed)

    groups = estimate(q, src, small_n=int(small_n), max_width=float(max_width),
                      grouping=grouping, bootstrap=None if bootstrap is None else boot, counts_only=_counts_only)
    if _influence is not None:
        _influence.append(Influence(src.influence or {}, design, grouping))
    return AnalysisResult(
        questionnaire=q, confidence=confidence,
        ci_method="korn-graubard" if design.is_design else method,
        weight=weight, strata=strata, cluster=cluster, df=design.df(grouping.unique_rows),
        by=by, period=period, date_from=date_from, date_to=date_to, bootstrap=bootstrap,
        small_n=int(small_n), max_width=float(max_width), groups=groups,
    )
