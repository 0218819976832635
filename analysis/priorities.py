"""Importance–performance analysis: which criteria to concentrate on (methodology §4).

For each criterion k:

* **performance** = its index ``p_k`` (share satisfied among those who answered, percent,
  weighted when a weight column is given);
* **importance (correlation)** = Pearson correlation of its score (1..5) with the
  respondent's answer to the general question HL, over the respondents who answered both
  (pairwise complete). Without HL (no general question, or nobody answered it) the
  respondent's mean score over the criteria they answered stands in for HL; that mean
  includes criterion k itself (as the contract says), which inflates every correlation a
  little and equally, so the ordering is what matters;
* **importance (Shapley / dominance)** = criterion k's share of the R² of the linear
  regression of HL on all criteria, split by the Owen value (see below). Needs HL.

Quadrants split at the **mean** importance and the **mean** performance over the criteria
that have both (``split="median"`` is available); a value equal to the cut counts as
high. "concentrate" = high importance, low performance; "keep_up" = high, high;
"low_priority" = low, low; "overkill" = low importance, high performance (Martilla &
James 1977).

Shapley split of R²: exact Shapley over 19 criteria needs 2¹⁹ subsets per criterion, too
slow. The questionnaire already groups the criteria into elements, so we use the **Owen
value** (Shapley value with a-priori unions, Owen 1977): exact, it first splits R² between
the elements exactly as the Shapley value of the element game (each element's criteria
entering together) and then splits each element's part between its criteria by their
Shapley values within the element, averaged over all coalitions of the other elements.
It costs ``Σ_e 2^(E−1) · K_e · 2^(K_e−1)`` R² evaluations (2,688 for sipas-2023) instead
of ``19 · 2¹⁸``. With one element (tt01-counter) or one criterion per element it equals
the exact Shapley value, i.e. general dominance (Budescu 1993; Grömping 2007).
R² of a subset S is computed from the correlation matrix as ``r_Sᵀ R_SS⁻¹ r_S``; the
matrix is pairwise complete (the PA criteria are answered by few respondents, so listwise
deletion would discard most of the data) and, when that leaves it indefinite, projected to
the nearest positive semi-definite correlation matrix by clipping eigenvalues at zero and
rescaling to a unit diagonal.

>>> import pandas as pd
>>> q = questionnaires.load("tt01-counter")
>>> df = pd.DataFrame({"DG1": [3, 3, 2, 1, 1, 2, 1, 3], "DG2": [3, 2, 2, 2, 3, 3, 2, 2],
...                    "DG3": [2, 3, 2, 1, 3, 1, 1, 3], "HL": [3, 3, 2, 1, 1, 2, 1, 3]})
>>> res = priorities(df, q, small_n=1, max_width=100)
>>> [(c.code, round(c.importance, 3), round(c.performance, 1)) for c in res.criteria]
[('DG1', 1.0, 62.5), ('DG2', 0.0, 100.0), ('DG3', 0.5, 62.5)]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

import questionnaires

from .results import MAX_WIDTH, SMALL_N

__all__ = [
    "QUADRANTS",
    "CriterionPriority",
    "Priorities",
    "owen_values",
    "pairwise_correlation",
    "priorities",
    "r2_from_correlation",
    "shapley_values",
]

QUADRANTS = ("concentrate", "keep_up", "low_priority", "overkill")
INSUFFICIENT = "insufficient data"


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# --------------------------------------------------------------------------- correlations
_BLOCK = 65_536


# float32 holds whole numbers up to 2^24 exactly; a block's largest sum is rows × 16².
_EXACT_IN_FLOAT32 = 16
assert _BLOCK * _EXACT_IN_FLOAT32**2 <= 2**24


def _small_whole_numbers(block: np.ndarray) -> bool:
    """Whether every value is a whole number of magnitude at most 16 (scores are 1-5)."""
    return bool(np.abs(block).max(initial=0.0) <= _EXACT_IN_FLOAT32 and np.array_equal(block, np.rint(block)))


def pairwise_correlation(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted Pearson correlations over pairwise-complete rows.

    For columns j and k, only rows where both are present count; means and variances are
    those of that pair's rows (as ``pandas.DataFrame.corr()`` does without weights).
    Fewer than two rows, or no variation, gives NaN.

    Parameters
    ----------
    values : (N, p) array with NaN for missing
    weights : (N,) array, optional

    Examples
    --------
    >>> x = np.array([[1, 2], [2, np.nan], [3, 5], [4, 4.0]])
    >>> pairwise_correlation(x).round(4).tolist()
    [[1.0, 0.7857], [0.7857, 1.0]]
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 2:
        raise ValueError("values: must be a two-dimensional array")
    w = np.ones(x.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (x.shape[0],):
        raise ValueError("weights: must have one weight per row")
    p = x.shape[1]
    count, sw, sx, sxx, sxy = (np.zeros((p, p)) for _ in range(5))
    # Sums over blocks of rows: at a million responses the temporaries of one pass would take
    # hundreds of megabytes; blocks of 64k rows stay in cache and reuse their memory.
    for start in range(0, x.shape[0], _BLOCK):
        xb = x[start:start + _BLOCK]
        present = ~np.isnan(xb)
        x0 = np.where(present, xb, 0.0)
        if weights is None:
            # Unit weights: Σ w is the count. Answer scores are small whole numbers, and then
            # every sum of a block is a whole number below 2^24, which float32 holds exactly:
            # single precision does the products in half the time with the same result.
            kind = np.float32 if _small_whole_numbers(x0) else np.float64
            m, x0 = present.astype(kind), x0.astype(kind, copy=False)
            block_count = m.T @ m
            count += block_count  # rows present in both columns, for the "two rows" rule
            sw += block_count
            sx += x0.T @ m  # [j, k]: Σ x_j over rows where j and k are present
            sxx += (x0 * x0).T @ m  # [j, k]: Σ x_j² over those rows
            sxy += x0.T @ x0  # [j, k]: Σ x_j x_k
            continue
        wb = w[start:start + _BLOCK, None]
        m = present.astype(float)
        wx = x0 * wb
        count += m.T @ m
        sw += m.T @ (m * wb)  # Σ w over pairwise rows
        sx += wx.T @ m  # [j, k]: Σ w x_j over rows where j and k are present
        sxx += (wx * x0).T @ m  # [j, k]: Σ w x_j² over those rows
        sxy += wx.T @ x0  # [j, k]: Σ w x_j x_k
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_j = sx / sw
        mean_k = sx.T / sw
        cov = sxy / sw - mean_j * mean_k
        var_j = sxx / sw - mean_j**2
        var_k = sxx.T / sw - mean_k**2
        corr = cov / np.sqrt(var_j * var_k)
    tiny = 1e-12
    corr[(count < 2) | (var_j <= tiny) | (var_k <= tiny)] = np.nan
    corr = np.clip(corr, -1.0, 1.0)
    idx = np.arange(x.shape[1])
    diag_ok = (count[idx, idx] >= 2) & (var_j[idx, idx] > tiny)
    corr[idx, idx] = np.where(diag_ok, 1.0, np.nan)
    return corr


def _nearest_psd_correlation(corr: np.ndarray) -> np.ndarray:
    """Clip negative eigenvalues at zero and rescale to a unit diagonal."""
    vals, vecs = np.linalg.eigh((corr + corr.T) / 2.0)
    if vals.min() >= -1e-10:
        return corr
    fixed = (vecs * np.clip(vals, 0.0, None)) @ vecs.T
    d = np.sqrt(np.clip(np.diag(fixed), 1e-12, None))
    return fixed / np.outer(d, d)


def r2_from_correlation(corr: np.ndarray, subset: Sequence[int], target: int = 0) -> float:
    """R² of regressing column ``target`` on the columns ``subset``: ``r_Sᵀ R_SS⁻¹ r_S``.

    >>> c = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.0], [0.5, 0.0, 1.0]])
    >>> round(r2_from_correlation(c, [1, 2]), 6)
    0.5
    """
    idx = np.asarray(list(subset), dtype=np.intp)
    if idx.size == 0:
        return 0.0
    r = corr[idx, target]
    rss = corr[idx][:, idx]
    try:
        value = float(r @ np.linalg.solve(rss, r))
    except np.linalg.LinAlgError:
        value = math.nan
    if not (math.isfinite(value) and -1e-9 <= value <= 1 + 1e-9):
        # singular or nearly so (e.g. two criteria answered identically): least squares
        value = float(r @ np.linalg.lstsq(rss, r, rcond=None)[0])
    return min(max(value, 0.0), 1.0)


def owen_values(
    corr: np.ndarray, groups: Sequence[Sequence[int]], *, target: int = 0
) -> np.ndarray:
    """Owen values of R² (Shapley value with a-priori unions) for every predictor.

    For predictor i in union g (size K_g) among E unions:
    ``φ_i = Σ_{T ⊆ unions∖{g}} Σ_{S ⊆ g∖{i}} |T|!(E−1−|T|)!/E! · |S|!(K_g−1−|S|)!/K_g!
    · [R²(∪T ∪ S ∪ {i}) − R²(∪T ∪ S)]``. The values sum to the full R²; the sum over a
    union is that union's Shapley value in the game between unions.

    Parameters
    ----------
    corr : (p, p) correlation matrix (target included)
    groups : sequences of column indices, a partition of the predictors
    target : column of the dependent variable

    Returns
    -------
    ndarray of length p (0 for the target and any column not in a group)

    Examples
    --------
    >>> c = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.0], [0.5, 0.0, 1.0]])
    >>> owen_values(c, [[1], [2]]).round(6).tolist()
    [0.0, 0.25, 0.25]
    """
    groups = [list(g) for g in groups if len(g)]
    cache: dict[frozenset[int], float] = {}

    def v(cols: frozenset[int]) -> float:
        if cols not in cache:
            cache[cols] = r2_from_correlation(corr, sorted(cols), target)
        return cache[cols]

    n_groups = len(groups)
    phi = np.zeros(corr.shape[0])
    fact = math.factorial
    for g_index, group in enumerate(groups):
        others = [g for j, g in enumerate(groups) if j != g_index]
        k = len(group)
        for t_size in range(len(others) + 1):
            w_t = fact(t_size) * fact(n_groups - 1 - t_size) / fact(n_groups)
            for chosen in itertools.combinations(others, t_size):
                base = frozenset(c for g in chosen for c in g)
                for i in group:
                    rest = [c for c in group if c != i]
                    for s_size in range(k):
                        w_s = fact(s_size) * fact(k - 1 - s_size) / fact(k)
                        for s in itertools.combinations(rest, s_size):
                            coalition = base | frozenset(s)
                            phi[i] += w_t * w_s * (v(coalition | {i}) - v(coalition))
    return phi


def shapley_values(corr: np.ndarray, predictors: Sequence[int], *, target: int = 0) -> np.ndarray:
    """Exact Shapley values (general dominance) of R²; feasible up to ~15 predictors.

    >>> c = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.0], [0.5, 0.0, 1.0]])
    >>> shapley_values(c, [1, 2]).round(6).tolist()
    [0.0, 0.25, 0.25]
    """
    if len(predictors) > 15:
        raise ValueError("predictors: exact Shapley values are limited to 15 predictors")
    return owen_values(corr, [list(predictors)], target=target)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class CriterionPriority:
    """One criterion's place in the importance–performance analysis.

    ``performance`` and ``ci`` in percent; ``importance`` a correlation (−1..1);
    ``shapley`` the criterion's share of R² (0..1, None without HL); ``quadrant`` one of
    :data:`QUADRANTS` or None when importance or performance is missing.
    """

    code: str
    element: str
    performance: float
    ci: tuple[float, float]
    n: int
    importance: float
    importance_n: int
    shapley: float | None
    r2: float | None
    quadrant: str | None
    flag: str | None
    score: float
    priority_rank: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "element": self.element,
            "performance": _nan_to_none(self.performance),
            "ci": [_nan_to_none(v) for v in self.ci],
            "n": self.n,
            "importance": _nan_to_none(self.importance),
            "importance_n": self.importance_n,
            "shapley": _nan_to_none(self.shapley),
            "r2": _nan_to_none(self.r2),
            "quadrant": self.quadrant,
            "flag": self.flag,
            "score": _nan_to_none(self.score),
            "priority_rank": self.priority_rank,
        }


@dataclass(frozen=True)
class Priorities:
    """The importance–performance analysis of one group of respondents."""

    questionnaire: str
    target: str  # the general question's code, or "mean" (mean criterion score)
    measure: str  # importance used for the quadrants: "correlation" or "shapley"
    split: str
    importance_cut: float
    performance_cut: float
    r2: float | None
    element_shapley: Mapping[str, float] | None
    criteria: tuple[CriterionPriority, ...]
    n: int

    def concentrate(self, k: int = 5) -> tuple[CriterionPriority, ...]:
        """The ``k`` criteria to concentrate on, best candidate first."""
        ranked = [c for c in self.criteria if c.priority_rank is not None]
        return tuple(sorted(ranked, key=lambda c: c.priority_rank or 0)[:k])

    def to_json(self) -> dict[str, Any]:
        return {
            "questionnaire": self.questionnaire,
            "target": self.target,
            "measure": self.measure,
            "split": self.split,
            "importance_cut": _nan_to_none(self.importance_cut),
            "performance_cut": _nan_to_none(self.performance_cut),
            "r2": _nan_to_none(self.r2),
            "element_shapley": (
                None
                if self.element_shapley is None
                else {k: _nan_to_none(v) for k, v in self.element_shapley.items()}
            ),
            "n": self.n,
            "criteria": [c.to_json() for c in self.criteria],
            "concentrate": [c.code for c in self.concentrate()],
        }


def _numeric(df: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float, copy=True)


def _member(values: np.ndarray, allowed: Any) -> np.ndarray:
    """``np.isin`` for the handful of values of an answer scale: one comparison per value
    instead of sorting a million floats."""
    found = np.zeros(values.shape, dtype=bool)
    for value in allowed:
        found |= values == value
    return found


def _wilson(x: float, n: float, confidence: float) -> tuple[float, float]:
    if n <= 0 or not math.isfinite(x):
        return (math.nan, math.nan)
    z = float(stats.norm.isf((1.0 - confidence) / 2.0))
    centre = (x + z * z / 2.0) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(max(x * (n - x) / n, 0.0) + z * z / 4.0)
    return (100.0 * max(0.0, centre - half), 100.0 * min(1.0, centre + half))


def priorities(
    df: pd.DataFrame,
    questionnaire: questionnaires.Questionnaire | str,
    *,
    weight: str | None = None,
    measure: str = "correlation",
    split: str = "mean",
    confidence: float = 0.95,
    small_n: int = SMALL_N,
    max_width: float = MAX_WIDTH,
) -> Priorities:
    """Importance–performance analysis of the criteria (see the module docstring).

    Parameters
    ----------
    df : DataFrame
        Responses with the questionnaire's criterion columns (scores, blank = missing) and,
        when it has one, the general question's column.
    questionnaire : Questionnaire or str
        The questionnaire or its ``id[@version]``.
    weight : str, optional
        A column of survey weights (non-negative); performance and correlations are
        weighted.
    measure : {"correlation", "shapley"}
        The importance used for the quadrants and the score. "shapley" needs HL.
    split : {"mean", "median"}
        Where the quadrants are split, over the criteria that have both values.
    confidence : float
        For the performance interval (Wilson, unweighted counts; weighted Wilson with the
        weighted proportion and the unweighted n when ``weight`` is given).
    small_n, max_width : int, float
        A criterion with fewer answers than ``small_n`` (or fewer pairs with the target),
        or a performance interval wider than ``max_width`` points, is flagged
        "insufficient data" and never listed among the criteria to concentrate on.

    Returns
    -------
    Priorities
        ``criteria`` in questionnaire order. ``concentrate(5)`` lists the criteria to
        concentrate on: those in the "concentrate" quadrant first, then the rest, each
        ordered by ``score = z(importance) − z(performance)`` (standardised over the
        criteria), flagged criteria excluded.

    Examples
    --------
    >>> import pandas as pd
    >>> q = questionnaires.load("tt01-counter")
    >>> df = pd.DataFrame({"DG1": [3, 3, 2, 1, 1, 2, 1, 3], "DG2": [3, 2, 2, 2, 3, 3, 2, 2],
    ...                    "DG3": [2, 3, 2, 1, 3, 1, 1, 3], "HL": [3, 3, 2, 1, 1, 2, 1, 3]})
    >>> res = priorities(df, q, measure="shapley", small_n=1, max_width=100)
    >>> [(c.quadrant, round(c.shapley, 3)) for c in res.criteria]
    [('concentrate', 0.875), ('overkill', 0.0), ('low_priority', 0.125)]
    >>> [c.code for c in res.concentrate(2)]
    ['DG1', 'DG3']
    """
    if isinstance(questionnaire, str):
        questionnaire = questionnaires.load(questionnaire)
    if not isinstance(df, pd.DataFrame):
        raise ValueError("df: must be a pandas DataFrame")
    if measure not in ("correlation", "shapley"):
        raise ValueError(f"measure: must be 'correlation' or 'shapley', got {measure!r}")
    if split not in ("mean", "median"):
        raise ValueError(f"split: must be 'mean' or 'median', got {split!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: must be between 0 and 1, got {confidence!r}")
    criteria = questionnaire.criteria
    missing = [c.code for c in criteria if c.code not in df.columns]
    if missing:
        raise ValueError(f"df: missing criterion column(s) {', '.join(missing)}")
    if weight is not None:
        if weight not in df.columns:
            raise ValueError(f"weight: column {weight!r} is not in the data")
        w = _numeric(df, weight)
        if np.any(~np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weight: column {weight!r} must hold non-negative numbers")
    else:
        w = np.ones(len(df))

    # Column-major: every step below works a criterion at a time, and filling a row-major
    # matrix column by column took a second at a million rows. Column 0 is for the target
    # (filled below), so the correlations need no copy of the scores.
    matrix = np.empty((len(df), len(criteria) + 1), order="F")
    scores = matrix[:, 1:]
    for j, criterion in enumerate(criteria):
        col = _numeric(df, criterion.code)
        col[~_member(col, criterion.scale.values)] = np.nan  # out-of-scale = not answered
        scores[:, j] = col

    general = questionnaire.general
    hl = None
    if general is not None and general.code in df.columns:
        hl = _numeric(df, general.code)
        hl[~_member(hl, general.scale.values)] = np.nan
        if np.sum(~np.isnan(hl)) < 2:
            hl = None
    if hl is not None:
        target_name = general.code  # type: ignore[union-attr]
        target = hl
    else:
        if measure == "shapley":
            raise ValueError(
                "measure: 'shapley' needs answers to the general question; use 'correlation'"
            )
        target_name = "mean"
        with np.errstate(invalid="ignore"):
            answered = (~np.isnan(scores)).sum(axis=1)
            target = np.where(answered > 0, np.nansum(scores, axis=1) / np.maximum(answered, 1),
                              np.nan)

    matrix[:, 0] = target
    corr = pairwise_correlation(matrix, None if weight is None else w)
    present = ~np.isnan(matrix)
    pair_n = (present[:, :1] & present[:, 1:]).sum(axis=0)
    importance = corr[0, 1:]

    shapley = r2_contrib = element_share = None
    r2_full = None
    if hl is not None:
        usable = [j + 1 for j in range(len(criteria)) if not np.isnan(importance[j])]
        sub = corr[np.ix_([0, *usable], [0, *usable])]
        if np.isnan(sub).any():
            # pairs of criteria never answered together: treat as uncorrelated
            sub = np.where(np.isnan(sub), 0.0, sub)
        sub = _nearest_psd_correlation(sub)
        position = {col: i + 1 for i, col in enumerate(usable)}
        groups = [
            [position[j + 1] for j, c in enumerate(criteria) if c.element == e.code
             and (j + 1) in position]
            for e in questionnaire.elements
        ]
        phi = owen_values(sub, groups)
        r2_full = float(phi.sum())
        r2_contrib = np.full(len(criteria), np.nan)
        for column, i in position.items():
            r2_contrib[column - 1] = phi[i]
        shapley = r2_contrib / r2_full if r2_full > 0 else np.full(len(criteria), np.nan)
        element_share = {
            e.code: float(np.nansum([r2_contrib[j] for j, c in enumerate(criteria)
                                     if c.element == e.code]) / r2_full) if r2_full > 0
            else math.nan
            for e in questionnaire.elements
        }

    perf, cis, ns = [], [], []
    for j, criterion in enumerate(criteria):
        answered = ~np.isnan(scores[:, j])
        sat = _member(scores[:, j], criterion.scale.satisfied)
        n = int(np.count_nonzero(answered))
        if weight is None:  # unit weights: the sums are counts
            wsum, wsat = float(n), float(np.count_nonzero(sat))
        else:
            wsum, wsat = float(w[answered].sum()), float(w[sat].sum())
        p = wsat / wsum if wsum > 0 else math.nan
        perf.append(100.0 * p)
        cis.append(_wilson(p * n, n, confidence))
        ns.append(n)

    imp_for_quadrant = (
        np.asarray(shapley, dtype=float) if measure == "shapley" else importance
    )
    perf_arr = np.asarray(perf)
    valid = ~np.isnan(imp_for_quadrant) & ~np.isnan(perf_arr)
    agg = np.mean if split == "mean" else np.median
    imp_cut = float(agg(imp_for_quadrant[valid])) if valid.any() else math.nan
    perf_cut = float(agg(perf_arr[valid])) if valid.any() else math.nan

    def z(values: np.ndarray) -> np.ndarray:
        sd = float(np.std(values[valid])) if valid.sum() > 1 else 0.0
        if not sd > 0:
            return np.zeros_like(values)
        return (values - np.mean(values[valid])) / sd

    score = z(imp_for_quadrant) - z(perf_arr)

    flags: list[str | None] = []
    quadrants: list[str | None] = []
    for j in range(len(criteria)):
        width = cis[j][1] - cis[j][0]
        small = (
            ns[j] < small_n or int(pair_n[j]) < small_n
            or not math.isfinite(width) or width > max_width
        )
        flags.append(INSUFFICIENT if small else None)
        if not valid[j]:
            quadrants.append(None)
            continue
        high_imp = imp_for_quadrant[j] >= imp_cut
        high_perf = perf_arr[j] >= perf_cut
        quadrants.append(
            ("keep_up" if high_perf else "concentrate") if high_imp
            else ("overkill" if high_perf else "low_priority")
        )

    eligible = [j for j in range(len(criteria)) if valid[j] and flags[j] is None]
    eligible.sort(key=lambda j: (quadrants[j] != "concentrate", -score[j], j))
    ranks = {j: r + 1 for r, j in enumerate(eligible)}

    items = tuple(
        CriterionPriority(
            code=c.code, element=c.element, performance=perf[j], ci=cis[j], n=ns[j],
            importance=float(importance[j]), importance_n=int(pair_n[j]),
            shapley=None if shapley is None else float(shapley[j]),
            r2=None if r2_contrib is None else float(r2_contrib[j]),
            quadrant=quadrants[j], flag=flags[j], score=float(score[j]) if valid[j] else math.nan,
            priority_rank=ranks.get(j),
        )
        for j, c in enumerate(criteria)
    )
    return Priorities(
        questionnaire=questionnaire.key, target=target_name, measure=measure, split=split,
        importance_cut=imp_cut, performance_cut=perf_cut, r2=r2_full,
        element_shapley=element_share, criteria=items,
        n=int(np.sum(np.any(~np.isnan(scores), axis=1))),
    )
