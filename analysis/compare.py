"""Comparisons between periods and units, multiplicity adjustment, shrinkage and funnel plots.

Methodology §4. All values are in percent (differences in percentage points), like the
rest of the package.

* Two independent proportions (a criterion or the general index, no design): the
  difference ``p1 − p2`` with Newcombe's hybrid-score interval (method 10 of Newcombe 1998;
  statsmodels ``confint_proportions_2indep(..., method="newcomb")``) and the pooled
  two-proportion z test (statsmodels ``proportions_ztest``).
* Composites (element, overall) and anything under a design: the difference of two
  linearised estimates with ``Var = V1 + V2`` (independent samples), normal quantile, or t
  with ``df = df1 + df2`` under a design.
* Many comparisons: Holm (family-wise error) or Benjamini–Hochberg (false discovery rate),
  identical to statsmodels ``multipletests(..., method="holm" | "fdr_bh")``.
* Ranking units: empirical-Bayes beta-binomial shrinkage, hyper-parameters by marginal
  maximum likelihood; funnel-plot data with exact binomial control limits.

>>> d = diff_proportions(x1=37, n1=50, x2=30, n2=50)
>>> round(d.estimate, 4), [round(v, 4) for v in d.ci], round(d.p_value, 4)
(14.0, [-4.3641, 31.133], 0.1366)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from .intervals import normal_quantile, normal_two_sided_p

__all__ = [
    "ADJUST_METHODS",
    "BetaBinomialFit",
    "LEVELS",
    "Comparison",
    "ComparisonSet",
    "Ranking",
    "Difference",
    "Funnel",
    "FunnelPoint",
    "ShrunkEstimate",
    "Shrinkage",
    "adjust_pvalues",
    "compare_estimates",
    "compare_groups",
    "compare_periods",
    "compare_units",
    "comparisons_json",
    "diff_estimates",
    "diff_proportions",
    "fit_beta_binomial",
    "funnel",
    "funnel_limits",
    "shrink",
    "two_proportion_ztest",
    "wilson_interval",
]

ADJUST_METHODS = ("holm", "bh")
#: Counts per unit: a sequence or a numpy array.
Counts = Sequence[float] | np.ndarray


# --------------------------------------------------------------------------- helpers
def _check_confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not (
        0.0 < confidence < 1.0
    ):
        raise ValueError(f"confidence: must be strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def _check_count(name: str, value: float, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}: must be a number, got {value!r}")
    if not math.isfinite(float(value)) or value < 0:
        raise ValueError(f"{name}: must be a finite number ≥ 0, got {value!r}")
    return float(value)


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, tuple | list):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _nan_to_none(v) for k, v in value.items()}
    return value


def _count(value: float) -> int | float | None:
    """An n for JSON: a whole number as int, NaN as None."""
    if not _finite(value):
        return None
    return int(value) if float(value).is_integer() else float(value)


def wilson_interval(*, x: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``x`` successes in ``n`` trials, as proportions.

    ``(x + z²/2)/(n + z²) ± z/(n + z²) · √(x(n − x)/n + z²/4)``.

    >>> [round(v, 6) for v in wilson_interval(x=37, n=50)]
    [0.604468, 0.841285]
    """
    confidence = _check_confidence(confidence)
    x, n = _check_count("x", x), _check_count("n", n)
    if x > n:
        raise ValueError(f"x: {x} is more than n = {n}")
    if n == 0:
        return (math.nan, math.nan)
    z = normal_quantile(confidence)
    centre = (x + z * z / 2.0) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(x * (n - x) / n + z * z / 4.0)
    return (max(0.0, centre - half), min(1.0, centre + half))


# --------------------------------------------------------------------------- differences
@dataclass(frozen=True)
class Difference:
    """A difference ``a − b`` between two independent estimates, in percentage points.

    Attributes
    ----------
    estimate : float
        ``a − b`` (percentage points).
    se : float
        Standard error of the difference. For the Newcombe method this is the unpooled
        Wald SE ``√(p1(1−p1)/n1 + p2(1−p2)/n2)``, given for information; the interval does
        not use it.
    ci : (float, float)
        Confidence interval of the difference.
    p_value : float
        Two-sided p-value for "no difference".
    method : {"newcombe", "linearised"}
    test : {"z-pooled", "z", "t"}
    a, b : float
        The two estimates (percent).
    n_a, n_b : float
        Their n.
    df : float or None
        Degrees of freedom of the t quantile (designs only).
    """

    estimate: float
    se: float
    ci: tuple[float, float]
    p_value: float
    method: str
    test: str
    a: float
    b: float
    n_a: float
    n_b: float
    df: float | None
    confidence: float

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 0."""
        return _finite(self.ci[0]) and (self.ci[0] > 0 or self.ci[1] < 0)

    def to_json(self) -> dict[str, Any]:
        return _nan_to_none(
            {
                "difference": self.estimate,
                "se": self.se,
                "ci": list(self.ci),
                "p_value": self.p_value,
                "method": self.method,
                "test": self.test,
                "df": self.df,
            }
        )


def two_proportion_ztest(*, x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """Pooled two-proportion z test of ``p1 = p2``: ``(z, two-sided p)``.

    ``z = (p1 − p2) / √(p̄(1 − p̄)(1/n1 + 1/n2))`` with ``p̄ = (x1 + x2)/(n1 + n2)``
    (statsmodels ``proportions_ztest([x1, x2], [n1, n2])``). When ``p̄`` is 0 or 1 both
    samples agree perfectly: ``z = 0``, ``p = 1``. An empty sample gives NaN.

    >>> z, p = two_proportion_ztest(x1=37, n1=50, x2=30, n2=50)
    >>> round(z, 6), round(p, 6)
    (1.488688, 0.13657)
    """
    x1, n1 = _check_count("x1", x1), _check_count("n1", n1)
    x2, n2 = _check_count("x2", x2), _check_count("n2", n2)
    if x1 > n1:
        raise ValueError(f"x1: {x1} is more than n1 = {n1}")
    if x2 > n2:
        raise ValueError(f"x2: {x2} is more than n2 = {n2}")
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan)
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if var <= 0:
        return (0.0, 1.0)
    z = (x1 / n1 - x2 / n2) / math.sqrt(var)
    return (z, normal_two_sided_p(z))


def diff_proportions(
    *, x1: float, n1: float, x2: float, n2: float, confidence: float = 0.95
) -> Difference:
    """Difference of two independent proportions with Newcombe's hybrid-score interval.

    With Wilson limits ``(l_i, u_i)`` of each proportion and ``d = p1 − p2``:
    ``low = d − √((p1 − l1)² + (u2 − p2)²)``, ``high = d + √((u1 − p1)² + (p2 − l2)²)``.
    The p-value is the pooled two-proportion z test (:func:`two_proportion_ztest`).

    Parameters
    ----------
    x1, n1 : float
        Satisfied and answered in the first sample (e.g. the later period).
    x2, n2 : float
        The same for the second sample.
    confidence : float
        Default 0.95.

    Returns
    -------
    Difference
        In percentage points; NaN everywhere when a sample is empty.

    Examples
    --------
    >>> d = diff_proportions(x1=50, n1=50, x2=45, n2=50)   # everyone satisfied in sample 1
    >>> round(d.estimate, 1), [round(v, 2) for v in d.ci]
    (10.0, [0.9, 21.36])
    """
    confidence = _check_confidence(confidence)
    _, p_value = two_proportion_ztest(x1=x1, n1=n1, x2=x2, n2=n2)
    if n1 == 0 or n2 == 0:
        nan = math.nan
        a = 100.0 * x1 / n1 if n1 else nan
        b = 100.0 * x2 / n2 if n2 else nan
        return Difference(nan, nan, (nan, nan), nan, "newcombe", "z-pooled", a, b,
                          float(n1), float(n2), None, confidence)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x=x1, n=n1, confidence=confidence)
    l2, u2 = wilson_interval(x=x2, n=n2, confidence=confidence)
    d = p1 - p2
    # clipped to [-1, 1] against rounding (statsmodels can give -1.0000000000000003)
    low = max(-1.0, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
    high = min(1.0, d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return Difference(
        estimate=100.0 * d, se=100.0 * se, ci=(100.0 * low, 100.0 * high), p_value=p_value,
        method="newcombe", test="z-pooled", a=100.0 * p1, b=100.0 * p2,
        n_a=float(n1), n_b=float(n2), df=None, confidence=confidence,
    )


def diff_estimates(
    *,
    a: float,
    se_a: float,
    b: float,
    se_b: float,
    n_a: float = math.nan,
    n_b: float = math.nan,
    df: float | None = None,
    confidence: float = 0.95,
) -> Difference:
    """Difference of two independent linearised estimates (composites, or under a design).

    ``d = a − b``, ``SE = √(SE_a² + SE_b²)``, interval ``d ± q · SE`` with ``q`` the normal
    quantile, or Student's t with ``df`` (under a design ``df = df_a + df_b``: the PSUs
    minus the strata of both samples). p-value ``2 · P(|T| ≥ |d| / SE)``. When ``SE = 0``
    (both estimates 0 % or 100 %) the interval is the point and p is 1 if ``d = 0`` else 0.

    Parameters
    ----------
    a, se_a, b, se_b : float
        Estimates and standard errors, in percent.
    n_a, n_b : float, optional
        Their n (reported only).
    df : float, optional
        Degrees of freedom for a t quantile; None for the normal.
    confidence : float

    Examples
    --------
    >>> d = diff_estimates(a=83.1, se_a=2.0, b=80.0, se_b=1.5)
    >>> round(d.estimate, 2), round(d.se, 2), [round(v, 3) for v in d.ci], round(d.p_value, 4)
    (3.1, 2.5, [-1.8, 8.0], 0.215)
    """
    confidence = _check_confidence(confidence)
    for name, value in (("se_a", se_a), ("se_b", se_b)):
        if _finite(value) and value < 0:
            raise ValueError(f"{name}: must be ≥ 0, got {value!r}")
    if df is not None and (not _finite(df) or df <= 0):
        df = None  # no usable df: fall back to the normal quantile
    if not all(_finite(v) for v in (a, se_a, b, se_b)):
        nan = math.nan
        return Difference(nan, nan, (nan, nan), nan, "linearised", "t" if df else "z",
                          float(a) if _finite(a) else nan, float(b) if _finite(b) else nan,
                          float(n_a), float(n_b), df, confidence)
    return diff_with_se(a=float(a), b=float(b), se=math.sqrt(float(se_a) ** 2 + float(se_b) ** 2),
                        n_a=n_a, n_b=n_b, df=df, confidence=confidence)


def diff_with_se(*, a: float, b: float, se: float, n_a: float = math.nan, n_b: float = math.nan,
                 df: float | None = None, confidence: float = 0.95) -> Difference:
    """``a − b`` with a given standard error (of the difference itself, covariance included):
    interval ``d ± q · SE`` (t with ``df``, else normal) and the two-sided p-value. An SE of
    0 gives the point as interval and p = 1 if d = 0 else 0."""
    confidence = _check_confidence(confidence)
    if df is not None and (not _finite(df) or df <= 0):
        df = None
    if not all(_finite(v) for v in (a, b, se)):
        nan = math.nan
        return Difference(nan, nan, (nan, nan), nan, "linearised", "t" if df else "z",
                          float(a) if _finite(a) else nan, float(b) if _finite(b) else nan,
                          float(n_a), float(n_b), df, confidence)
    d = float(a) - float(b)
    se = float(se)
    q = float(stats.t(df).isf((1.0 - confidence) / 2.0)) if df is not None else normal_quantile(confidence)
    if se == 0:
        p_value = 1.0 if d == 0 else 0.0
        ci = (d, d)
    else:
        p_value = float(2.0 * stats.t(df).sf(abs(d) / se)) if df is not None else normal_two_sided_p(d / se)
        ci = (d - q * se, d + q * se)
    return Difference(
        estimate=d, se=se, ci=ci, p_value=p_value, method="linearised",
        test="t" if df is not None else "z", a=float(a), b=float(b),
        n_a=float(n_a), n_b=float(n_b), df=df, confidence=confidence,
    )


# --------------------------------------------------------------------------- multiplicity
def adjust_pvalues(p_values: Iterable[float], *, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple comparisons.

    Holm: ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))``;
    Benjamini–Hochberg: ``p̃_(i) = min_{j ≥ i} min(1, m p_(j) / j)``, for the ascending
    p-values ``p_(1) ≤ … ≤ p_(m)``. NaN p-values are left NaN and not counted in ``m``.

    Parameters
    ----------
    p_values : iterable of float
    method : {"holm", "bh"}

    Examples
    --------
    >>> p = [0.001, 0.01, 0.02, 0.04, 0.3]
    >>> adjust_pvalues(p, method="holm").round(4).tolist()
    [0.005, 0.04, 0.06, 0.08, 0.3]
    >>> adjust_pvalues(p, method="bh").round(4).tolist()
    [0.005, 0.025, 0.0333, 0.05, 0.3]
    """
    if method not in ADJUST_METHODS:
        raise ValueError(f"method: must be one of {', '.join(ADJUST_METHODS)}, got {method!r}")
    p = np.asarray(list(p_values), dtype=float)
    if p.ndim != 1:
        raise ValueError("p_values: must be one-dimensional")
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError("p_values: must lie between 0 and 1")
    out = np.full(p.shape, np.nan)
    values = p[ok]
    m = values.size
    if m == 0:
        return out
    order = np.argsort(values, kind="mergesort")
    ranked = values[order]
    if method == "holm":
        adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * ranked))
    else:
        adjusted = np.minimum.accumulate((m / np.arange(1, m + 1) * ranked)[::-1])[::-1]
        adjusted = np.minimum(1.0, adjusted)
    result = np.empty(m)
    result[order] = adjusted
    out[ok] = result
    return out


# --------------------------------------------------------------------------- shrinkage
@dataclass(frozen=True)
class BetaBinomialFit:
    """The fitted prior Beta(α0, β0) of units' true proportions.

    ``mean = α0 / (α0 + β0)`` (percent) and ``precision = α0 + β0``; an infinite precision
    means no extra-binomial variation between units was found (the marginal likelihood
    is largest at the boundary), so every unit is shrunk all the way to the pooled mean.
    """

    alpha: float
    beta: float
    mean: float
    precision: float
    log_likelihood: float
    method: str = "marginal maximum likelihood"

    def to_json(self) -> dict[str, Any]:
        return _nan_to_none(
            {
                "alpha": self.alpha if math.isfinite(self.alpha) else None,
                "beta": self.beta if math.isfinite(self.beta) else None,
                "mean": self.mean,
                "precision": self.precision if math.isfinite(self.precision) else None,
                "log_likelihood": self.log_likelihood,
                "method": self.method,
            }
        )


_MAX_PRECISION = 1e7
_MIN_PRECISION = 1e-3


def _bb_loglik(x: np.ndarray, n: np.ndarray, mu: float, precision: float) -> float:
    """Beta-binomial log-likelihood without the binomial coefficients (they do not
    depend on the parameters); works for non-integer (effective) counts."""
    a, b = mu * precision, (1.0 - mu) * precision
    return float(np.sum(special.betaln(x + a, n - x + b) - special.betaln(a, b)))


def _as_counts(x: Counts, n: Counts) -> tuple[np.ndarray, np.ndarray]:
    xs = np.asarray(x, dtype=float)
    ns = np.asarray(n, dtype=float)
    if xs.shape != ns.shape or xs.ndim != 1:
        raise ValueError("x: must be a one-dimensional sequence as long as n")
    if np.any(~np.isfinite(xs)) or np.any(~np.isfinite(ns)):
        raise ValueError("x: counts must be finite numbers (drop units without an estimate)")
    if np.any(ns <= 0):
        raise ValueError("n: every unit needs n > 0")
    if np.any(xs < 0) or np.any(xs > ns):
        raise ValueError("x: every count must lie between 0 and its n")
    return xs, ns


def fit_beta_binomial(*, x: Counts, n: Counts) -> BetaBinomialFit:
    """Fit the beta prior of units' proportions by marginal maximum likelihood.

    Maximises ``ℓ(μ, M) = Σ_i [ln B(x_i + μM, n_i − x_i + (1 − μ)M) − ln B(μM, (1 − μ)M)]``
    over ``μ ∈ (0, 1)`` and ``M = α0 + β0`` in ``[10⁻³, 10⁷]`` (L-BFGS-B on ``logit μ`` and
    ``log M`` from several starting points). An optimum at the upper bound is reported as
    ``M = ∞`` with ``μ = Σx / Σn``. When every answer is satisfied (or none is),
    ``μ`` is 1 (or 0) and ``M = ∞``.

    Parameters
    ----------
    x, n : sequences of float
        Satisfied and answered per unit (at least two units).

    Examples
    --------
    >>> fit = fit_beta_binomial(x=[30, 45, 60, 70, 18], n=[50, 60, 70, 75, 40])
    >>> round(fit.mean, 2), round(fit.precision, 2)
    (72.33, 6.77)
    """
    xs, ns = _as_counts(x, n)
    if xs.size < 2:
        raise ValueError("x: shrinkage needs at least two units")
    pooled = float(xs.sum() / ns.sum())
    if pooled in (0.0, 1.0):
        return BetaBinomialFit(math.inf, math.inf, 100.0 * pooled, math.inf, 0.0)

    def negative(theta: np.ndarray) -> float:
        return -_bb_loglik(xs, ns, float(special.expit(theta[0])), float(np.exp(theta[1])))

    bounds = [(-30.0, 30.0), (math.log(_MIN_PRECISION), math.log(_MAX_PRECISION))]
    best = None
    for start_m in (1.0, 10.0, 100.0, 1000.0, 1e5):
        res = optimize.minimize(
            negative, np.array([special.logit(pooled), math.log(start_m)]),
            method="L-BFGS-B", bounds=bounds,
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None  # for type checkers; the loop runs at least once
    mu, precision = float(special.expit(best.x[0])), float(np.exp(best.x[1]))
    boundary = -_bb_loglik(xs, ns, pooled, _MAX_PRECISION)
    if precision >= _MAX_PRECISION / 10.0 or boundary <= best.fun + 1e-9:
        return BetaBinomialFit(math.inf, math.inf, 100.0 * pooled, math.inf, -boundary)
    return BetaBinomialFit(mu * precision, (1.0 - mu) * precision, 100.0 * mu, precision,
                           -float(best.fun))


@dataclass(frozen=True)
class ShrunkEstimate:
    """One unit's raw and shrunk index (percent) with its posterior interval."""

    label: str
    x: float
    n: float
    raw: float
    shrunk: float
    weight: float  # n / (n + α0 + β0): the weight of the unit's own data
    interval: tuple[float, float]
    flag: str | None = None
    rank: int | None = None

    def to_json(self) -> dict[str, Any]:
        return _nan_to_none(
            {
                "label": self.label, "x": self.x, "n": self.n, "raw": self.raw,
                "shrunk": self.shrunk, "weight": self.weight, "interval": list(self.interval),
                "flag": self.flag, "rank": self.rank,
            }
        )


@dataclass(frozen=True)
class Shrinkage:
    fit: BetaBinomialFit
    units: tuple[ShrunkEstimate, ...]
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {
            "prior": self.fit.to_json(),
            "confidence": self.confidence,
            "units": [u.to_json() for u in self.units],
        }


def shrink(
    *,
    x: Counts,
    n: Counts,
    labels: Sequence[str] | None = None,
    flags: Sequence[str | None] | None = None,
    confidence: float = 0.95,
) -> Shrinkage:
    """Empirical-Bayes beta-binomial shrinkage of unit proportions toward the mean.

    With the prior Beta(α0, β0) of :func:`fit_beta_binomial`, unit i's posterior is
    Beta(x_i + α0, n_i − x_i + β0); its mean ``(x_i + α0)/(n_i + α0 + β0)`` is the shrunk
    index and the equal-tailed posterior quantiles give the interval (ignoring the
    uncertainty of α0, β0). Units are ranked by the shrunk index, except flagged
    (small-cell) units, which get no rank.

    Parameters
    ----------
    x, n : sequences of float
        Satisfied and answered per unit (effective counts are allowed).
    labels : sequence of str, optional
        Unit names (default "1", "2", ...).
    flags : sequence of str or None, optional
        Small-cell flags; a flagged unit is never ranked.
    confidence : float

    Examples
    --------
    >>> s = shrink(x=[30, 45, 60, 70, 9], n=[50, 60, 70, 75, 10], labels=list("ABCDE"))
    >>> [(u.label, round(u.raw, 1), round(u.shrunk, 1)) for u in s.units][-1]
    ('E', 90.0, 84.4)
    """
    confidence = _check_confidence(confidence)
    xs, ns = _as_counts(x, n)
    labels = [str(i + 1) for i in range(xs.size)] if labels is None else [str(v) for v in labels]
    flags = [None] * xs.size if flags is None else list(flags)
    if len(labels) != xs.size:
        raise ValueError("labels: must have one label per unit")
    if len(flags) != xs.size:
        raise ValueError("flags: must have one flag per unit")
    fit = fit_beta_binomial(x=xs, n=ns)
    tail = (1.0 - confidence) / 2.0
    shrunk, intervals, weights = [], [], []
    for xi, ni in zip(xs, ns, strict=True):
        if math.isinf(fit.precision):
            mean = float(fit.mean / 100.0)
            shrunk.append(mean)
            intervals.append((100.0 * mean, 100.0 * mean))
            weights.append(0.0)
            continue
        a, b = xi + fit.alpha, ni - xi + fit.beta
        shrunk.append(float(a / (a + b)))
        intervals.append(
            (100.0 * float(stats.beta.ppf(tail, a, b)), 100.0 * float(stats.beta.isf(tail, a, b)))
        )
        weights.append(ni / (ni + fit.precision))
    order = sorted(
        (i for i in range(xs.size) if flags[i] is None), key=lambda i: -shrunk[i]
    )
    ranks = {i: r + 1 for r, i in enumerate(order)}
    units = tuple(
        ShrunkEstimate(
            label=labels[i], x=float(xs[i]), n=float(ns[i]), raw=100.0 * float(xs[i] / ns[i]),
            shrunk=100.0 * shrunk[i], weight=float(weights[i]), interval=intervals[i],
            flag=flags[i], rank=ranks.get(i),
        )
        for i in range(xs.size)
    )
    return Shrinkage(fit, units, confidence)


# --------------------------------------------------------------------------- funnel plot
def funnel_limits(
    *, p: float, n: float | Counts, coverage: float = 0.95, method: str = "exact"
) -> tuple[np.ndarray, np.ndarray]:
    """Funnel-plot control limits (percent) around a proportion ``p`` for sample sizes n.

    ``method="exact"`` (default): Spiegelhalter's (2005) interpolated binomial limits —
    for the quantile ``q`` (e.g. 0.025 and 0.975), ``r = F⁻¹(q)`` of Binomial(n, p),
    ``α = (F(r) − q)/(F(r) − F(r − 1))`` and the limit ``(r − α)/n``.
    ``method="normal"``: ``p ± z √(p(1 − p)/n)``, clipped to [0, 1].

    Parameters
    ----------
    p : float
        The overall proportion (0–1).
    n : float or sequence
        Sample sizes.
    coverage : float
        0.95 and 0.998 are the usual two pairs of limits.
    method : {"exact", "normal"}

    Examples
    --------
    >>> low, high = funnel_limits(p=0.8, n=[100], coverage=0.95, method="normal")
    >>> round(float(low[0]), 2), round(float(high[0]), 2)
    (72.16, 87.84)
    >>> low, high = funnel_limits(p=0.8, n=[100], coverage=0.95)
    >>> round(float(low[0]), 2), round(float(high[0]), 2)
    (71.35, 87.03)
    """
    coverage = _check_confidence(coverage)
    if not _finite(p) or not 0.0 <= p <= 1.0:
        raise ValueError(f"p: must be a proportion between 0 and 1, got {p!r}")
    if method not in ("exact", "normal"):
        raise ValueError(f"method: must be 'exact' or 'normal', got {method!r}")
    ns = np.atleast_1d(np.asarray(n, dtype=float))
    if np.any(~np.isfinite(ns)) or np.any(ns <= 0):
        raise ValueError("n: sample sizes must be positive")
    tail = (1.0 - coverage) / 2.0
    if method == "normal":
        z = stats.norm.isf(tail)
        half = z * np.sqrt(p * (1.0 - p) / ns)
        return 100.0 * np.clip(p - half, 0.0, 1.0), 100.0 * np.clip(p + half, 0.0, 1.0)

    def limit(q: float) -> np.ndarray:
        m = np.round(ns)  # the binomial needs whole numbers of trials
        r = stats.binom.ppf(q, m, p)
        f_r = stats.binom.cdf(r, m, p)
        f_r1 = stats.binom.cdf(r - 1, m, p)
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = np.where(f_r > f_r1, (f_r - q) / (f_r - f_r1), 0.0)
        return np.clip((r - alpha) / m, 0.0, 1.0)

    return 100.0 * limit(tail), 100.0 * limit(1.0 - tail)


@dataclass(frozen=True)
class FunnelPoint:
    label: str
    x: float
    n: float
    index: float
    limits95: tuple[float, float]
    limits998: tuple[float, float]
    signal: str | None  # "above 99.8", "above 95", "below 95", "below 99.8" or None
    flag: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _nan_to_none(
            {
                "label": self.label, "x": self.x, "n": self.n, "index": self.index,
                "limits95": list(self.limits95), "limits998": list(self.limits998),
                "signal": self.signal, "flag": self.flag,
            }
        )


@dataclass(frozen=True)
class Funnel:
    """Data for a funnel plot: points per unit and limit curves over a grid of n."""

    centre: float
    method: str
    points: tuple[FunnelPoint, ...]
    curve: Mapping[str, tuple[float, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def to_json(self) -> dict[str, Any]:
        return _nan_to_none(
            {
                "centre": self.centre,
                "method": self.method,
                "points": [p.to_json() for p in self.points],
                "curve": {k: list(v) for k, v in self.curve.items()},
            }
        )


def funnel(
    *,
    x: Counts,
    n: Counts,
    labels: Sequence[str] | None = None,
    flags: Sequence[str | None] | None = None,
    centre: float | None = None,
    method: str = "exact",
    grid: int = 60,
) -> Funnel:
    """Funnel-plot data: each unit's index against n, with 95 % and 99.8 % limits.

    The centre line is the pooled proportion ``Σx / Σn`` (percent) unless ``centre`` (a
    target, in percent) is given. A unit outside the 95 % limits is a warning, outside
    99.8 % an alarm (Spiegelhalter 2005). The curve holds ``n`` and the four limits on a
    grid from the smallest to the largest n (log-spaced).

    Examples
    --------
    >>> f = funnel(x=[40, 180, 290], n=[50, 200, 400], labels=["A", "B", "C"])
    >>> round(f.centre, 2), [p.signal for p in f.points]
    (78.46, [None, 'above 99.8', 'below 95'])
    """
    xs, ns = _as_counts(x, n)
    labels = [str(i + 1) for i in range(xs.size)] if labels is None else [str(v) for v in labels]
    flags = [None] * xs.size if flags is None else list(flags)
    if len(labels) != xs.size or len(flags) != xs.size:
        raise ValueError("labels: must have one label (and flag) per unit")
    if centre is None:
        p = float(xs.sum() / ns.sum())
    else:
        if not _finite(centre) or not 0 <= centre <= 100:
            raise ValueError(f"centre: must be a percentage, got {centre!r}")
        p = centre / 100.0
    lo95, hi95 = funnel_limits(p=p, n=ns, coverage=0.95, method=method)
    lo998, hi998 = funnel_limits(p=p, n=ns, coverage=0.998, method=method)
    points = []
    for i in range(xs.size):
        index = 100.0 * float(xs[i] / ns[i])
        signal = None
        if index > hi998[i]:
            signal = "above 99.8"
        elif index < lo998[i]:
            signal = "below 99.8"
        elif index > hi95[i]:
            signal = "above 95"
        elif index < lo95[i]:
            signal = "below 95"
        points.append(
            FunnelPoint(labels[i], float(xs[i]), float(ns[i]), index,
                        (float(lo95[i]), float(hi95[i])), (float(lo998[i]), float(hi998[i])),
                        signal, flags[i])
        )
    low_n, high_n = max(1.0, float(ns.min())), float(ns.max())
    grid_n = np.unique(np.round(np.geomspace(low_n, max(high_n, low_n + 1), grid)))
    c_lo95, c_hi95 = funnel_limits(p=p, n=grid_n, coverage=0.95, method=method)
    c_lo998, c_hi998 = funnel_limits(p=p, n=grid_n, coverage=0.998, method=method)
    curve = MappingProxyType(
        {
            "n": tuple(float(v) for v in grid_n),
            "low95": tuple(float(v) for v in c_lo95),
            "high95": tuple(float(v) for v in c_hi95),
            "low998": tuple(float(v) for v in c_lo998),
            "high998": tuple(float(v) for v in c_hi998),
        }
    )
    return Funnel(100.0 * p, method, tuple(points), curve)


# --------------------------------------------------------------------------- results
#: What the adjustment family is (shown in the JSON).
FAMILY = "one indicator across the units (groups) for the same pair of periods or context"


@dataclass(frozen=True)
class Comparison:
    """One indicator of one group compared with its reference.

    ``keys`` are the group keys the two sides share (the context); ``dimension`` is what
    differs (``"period"`` or the unit column); ``label`` is the compared side (the later
    period, the unit) and ``reference`` the other (the earlier period, ``"rest"`` = all
    other units, or another unit). ``flag`` is ``"insufficient data"`` when either side is
    flagged.
    """

    keys: Mapping[str, Any]
    dimension: str
    label: str
    reference: str
    level: str  # "general" | "overall" | "element" | "criterion"
    code: str
    difference: Difference
    p_adjusted: float | None = None
    flag: str | None = None

    def to_json(self) -> dict[str, Any]:
        d = self.difference
        return _nan_to_none(
            {
                "keys": dict(self.keys),
                "dimension": self.dimension,
                "label": self.label,
                "reference": self.reference,
                "level": self.level,
                "code": self.code,
                "index": d.a,
                "n": _count(d.n_a),
                "reference_index": d.b,
                "reference_n": _count(d.n_b),
                "difference": d.estimate,
                "se": d.se,
                "ci": list(d.ci),
                "p_value": d.p_value,
                "p_adjusted": self.p_adjusted,
                "method": d.method,
                "test": d.test,
                "df": d.df,
                "flag": self.flag,
            }
        )


@dataclass(frozen=True)
class Ranking:
    """Empirical-Bayes ranking and funnel-plot data of the units in one context."""

    keys: Mapping[str, Any]
    level: str
    code: str
    counts: str  # "observed" (satisfied / n) or "effective" (from index and SE)
    shrinkage: Shrinkage | None
    funnel: Funnel | None

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": _nan_to_none(dict(self.keys)),
            "level": self.level,
            "code": self.code,
            "counts": self.counts,
            "shrinkage": None if self.shrinkage is None else self.shrinkage.to_json(),
            "funnel": None if self.funnel is None else self.funnel.to_json(),
        }


@dataclass(frozen=True)
class ComparisonSet:
    """The comparisons of :func:`compare_periods` or :func:`compare_units`."""

    kind: str  # "previous" | "units"
    adjust: str
    confidence: float
    design: bool
    comparisons: tuple[Comparison, ...]
    rankings: tuple[Ranking, ...] = ()
    reference: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (no NaN): the ``comparisons`` key of ``sipas analyze --json``."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "adjust": self.adjust,
            "family": FAMILY,
            "confidence": self.confidence,
            "design": self.design,
            "items": [c.to_json() for c in self.comparisons],
        }
        if self.kind == "units":
            out["reference"] = self.reference
            out["rankings"] = [r.to_json() for r in self.rankings]
        return out


def _value(est: Any) -> float:
    value: Any = None if est is None else getattr(est, "value", None)
    return float(value) if _finite(value) else math.nan


def _se(est: Any) -> float:
    se: Any = None if est is None else getattr(est, "se", None)
    return float(se) if _finite(se) else math.nan


def _indicators(group: Any, levels: Sequence[str]) -> list[tuple[str, str, Any]]:
    """(level, code, estimate) of a GroupResult in report order."""
    out: list[tuple[str, str, Any]] = []
    if "general" in levels and getattr(group, "general", None) is not None:
        out.append(("general", "general", group.general))
    if "overall" in levels:
        out.append(("overall", "overall", group.overall))
    if "element" in levels:
        out += [("element", k, e) for k, e in group.elements.items()]
    if "criterion" in levels:
        out += [("criterion", k, c) for k, c in group.criteria.items()]
    return out


LEVELS = ("general", "overall", "element", "criterion")


def compare_estimates(
    a: Any, b: Any, *, level: str, design: bool, confidence: float = 0.95
) -> Difference:
    """Compare two estimates of the core (:class:`analysis.Estimate`) from independent samples.

    A proportion (``level`` "general" or "criterion") without a design uses
    :func:`diff_proportions` on the unweighted counts ``satisfied`` / ``n``; composites,
    and anything under a design, use :func:`diff_estimates` with ``V1 + V2`` — under a
    design with a t quantile on ``df = df_a + df_b`` (each side's PSUs minus strata;
    conservative when the sides share strata), normal when a side has no df.
    """
    proportion = level in ("general", "criterion")
    if proportion and not design:
        n_a = getattr(a, "n", 0) or 0 if a is not None else 0
        n_b = getattr(b, "n", 0) or 0 if b is not None else 0
        x_a = getattr(a, "satisfied", 0) if n_a else 0
        x_b = getattr(b, "satisfied", 0) if n_b else 0
        return diff_proportions(x1=x_a, n1=n_a, x2=x_b, n2=n_b, confidence=confidence)
    df = None
    if design:
        df_a: Any = getattr(a, "df", None)
        df_b: Any = getattr(b, "df", None)
        if _finite(df_a) and _finite(df_b):
            df = float(df_a) + float(df_b)
    return diff_estimates(
        a=_value(a), se_a=_se(a), b=_value(b), se_b=_se(b),
        n_a=float(getattr(a, "n", math.nan) if a is not None else math.nan),
        n_b=float(getattr(b, "n", math.nan) if b is not None else math.nan),
        df=df, confidence=confidence,
    )


def compare_groups(
    a: Any,
    b: Any,
    *,
    design: bool,
    confidence: float = 0.95,
    levels: Sequence[str] = LEVELS,
    keys: Mapping[str, Any] | None = None,
    dimension: str = "period",
    label: str = "",
    reference: str = "",
) -> list[Comparison]:
    """Every indicator of group ``a`` against the same indicator of group ``b``."""
    for level in levels:
        if level not in LEVELS:
            raise ValueError(f"levels: unknown level {level!r}; use {', '.join(LEVELS)}")
    flag_name = "insufficient data"
    out = []
    b_items = {(lv, code): est for lv, code, est in _indicators(b, levels)}
    for level, code, est in _indicators(a, levels):
        other = b_items.get((level, code))
        if other is None and level != "general":
            continue
        flagged = any(getattr(e, "flag", None) for e in (est, other) if e is not None)
        out.append(
            Comparison(
                keys=MappingProxyType(dict(keys or {})), dimension=dimension, label=label,
                reference=reference, level=level, code=code,
                difference=compare_estimates(est, other, level=level, design=design,
                                             confidence=confidence),
                flag=flag_name if flagged or other is None else None,
            )
        )
    return out


def _with_adjustment(comparisons: list[Comparison], method: str) -> tuple[Comparison, ...]:
    if method not in ADJUST_METHODS:
        raise ValueError(f"adjust: must be one of {', '.join(ADJUST_METHODS)}, got {method!r}")
    families: dict[Any, list[int]] = {}
    for i, c in enumerate(comparisons):
        if c.dimension == "period":
            # one indicator, one pair of periods, across the groups (units)
            family: tuple[Any, ...] = (c.level, c.code, c.label, c.reference)
        else:
            # one indicator in one context (period, other keys), across the units
            family = (c.level, c.code, tuple(sorted((k, str(v)) for k, v in c.keys.items())))
        families.setdefault(family, []).append(i)
    adjusted: list[float | None] = [None] * len(comparisons)
    for members in families.values():
        values = adjust_pvalues([comparisons[i].difference.p_value for i in members],
                                method=method)
        for i, v in zip(members, values, strict=True):
            adjusted[i] = float(v) if math.isfinite(v) else None
    return tuple(
        Comparison(c.keys, c.dimension, c.label, c.reference, c.level, c.code, c.difference,
                   adjusted[i], c.flag)
        for i, c in enumerate(comparisons)
    )


def _analyze(data: Any, questionnaire: Any, **kwargs: Any) -> Any:
    from . import analyze  # late import: the core imports nothing from here

    if questionnaire is None:
        raise ValueError("questionnaire: needed when a DataFrame is given")
    return analyze(data, questionnaire, **kwargs)


def _is_result(obj: Any) -> bool:
    return hasattr(obj, "groups") and hasattr(obj, "questionnaire") and hasattr(obj, "to_json")


def compare_periods(
    result_or_df: Any,
    questionnaire: Any = None,
    *,
    by: str | Sequence[str] = (),
    period: str | None = None,
    adjust: str = "holm",
    levels: Sequence[str] = LEVELS,
    **analyze_options: Any,
) -> ComparisonSet:
    """Each period against the period before it, per group (methodology §4).

    "The period before" is the previous period of the same kind (2024-Q1 before 2024-Q2,
    2023-12 before 2024-01); for the overlapping PAR windows it is the same window one year
    earlier (:func:`analysis.previous_period`). A period whose previous period has no data in
    that group is not compared. The two periods are independent samples (different
    respondents); see :func:`compare_estimates` for the methods. p-values are adjusted
    (``adjust`` = "holm" or "bh") within each family: one indicator, one pair of periods,
    across the groups.

    Parameters
    ----------
    result_or_df : AnalysisResult or DataFrame
        A result of ``analyze(..., period=...)``, or responses to analyse with ``by``,
        ``period`` and ``analyze_options`` (``confidence``, ``weight``, ...).
    questionnaire : Questionnaire or str
        Needed with a DataFrame.
    by, period : as for :func:`analysis.analyze` (DataFrame input only).
    adjust : {"holm", "bh"}
    levels : which indicators to compare (default all: general, overall, elements, criteria).

    Examples
    --------
    >>> import pandas as pd, questionnaires
    >>> q = questionnaires.load("tt01-counter")
    >>> df = pd.DataFrame({"DG1": [3, 2, 1, 3] * 25 + [3, 3, 2, 3] * 25,
    ...                    "DG2": [3] * 200, "DG3": [2] * 200,
    ...                    "HL": [3, 2, 1, 1] * 25 + [3, 3, 2, 1] * 25,
    ...                    "submitted_on": ["2024-02-01"] * 100 + ["2024-05-01"] * 100})
    >>> res = compare_periods(df, q, period="quarter")
    >>> c = next(c for c in res.comparisons if c.level == "general")
    >>> d = c.difference
    >>> c.label, c.reference, round(d.estimate, 1), [round(v, 2) for v in d.ci]
    ('2024-Q2', '2024-Q1', 25.0, [11.62, 37.17])
    """
    from .periods import period_sort_key, previous_period

    if _is_result(result_or_df):
        result = result_or_df
        if result.period is None:
            raise ValueError("result_or_df: the result has no periods; analyse with period=...")
    else:
        if period is None:
            raise ValueError("period: needed to compare periods (month, quarter, half, year, par)")
        result = _analyze(result_or_df, questionnaire, by=by, period=period, **analyze_options)
    design = bool(result.is_design)
    by_context: dict[tuple[Any, ...], dict[str, Any]] = {}
    for g in result.groups:
        keys = dict(g.keys)
        label = keys.pop("period")
        context = tuple(keys.items())
        by_context.setdefault(context, {})[label] = g
    comparisons: list[Comparison] = []
    for context, periods in by_context.items():
        for label in sorted(periods, key=period_sort_key):
            before = previous_period(label)
            if before not in periods:
                continue
            comparisons += compare_groups(
                periods[label], periods[before], design=design, confidence=result.confidence,
                levels=levels, keys=dict(context), dimension="period", label=label,
                reference=before,
            )
    return ComparisonSet(
        kind="previous", adjust=adjust, confidence=result.confidence, design=design,
        comparisons=_with_adjustment(comparisons, adjust),
    )


def _counts_for_ranking(est: Any, level: str, design: bool) -> tuple[float, float, str]:
    """(x, n, kind) for shrinkage and the funnel: observed counts for a proportion without
    a design; otherwise effective counts n_eff = θ(1 − θ)/SE², x = θ · n_eff (the counts of
    a simple random sample with the same index and SE), never more than the observed n (a
    variance that is zero up to rounding would otherwise give n_eff ≈ 10³³ and send the
    funnel's quantiles searching without end), and the observed n when SE is 0 or θ is 0
    or 1."""
    if est is None or not _finite(getattr(est, "value", None)) or not getattr(est, "n", 0):
        return math.nan, math.nan, "observed"
    if level in ("general", "criterion") and not design:
        return float(est.satisfied), float(est.n), "observed"
    theta = float(est.value) / 100.0
    se = _se(est) / 100.0
    if not (math.isfinite(se) and se > 0 and 0 < theta < 1):
        return theta * float(est.n), float(est.n), "effective"
    n_eff = min(theta * (1.0 - theta) / se**2, float(est.n))
    return theta * n_eff, n_eff, "effective"


def _rankings(groups_by_context: Mapping[tuple[Any, ...], Mapping[str, Any]], level: str,
              code: str, design: bool, confidence: float) -> tuple[Ranking, ...]:
    out = []
    for context, units in groups_by_context.items():
        labels, xs, ns, flags = [], [], [], []
        kind = "observed"
        for unit_label, g in units.items():
            est = g.general if level == "general" else g.overall
            x, n, kind_i = _counts_for_ranking(est, level, design)
            if not (math.isfinite(x) and math.isfinite(n) and n > 0):
                continue
            kind = kind_i
            labels.append(str(unit_label))
            xs.append(min(max(x, 0.0), n))
            ns.append(n)
            flags.append(getattr(est, "flag", None))
        shrunk = fun = None
        if len(labels) >= 2:
            shrunk = shrink(x=xs, n=ns, labels=labels, flags=flags, confidence=confidence)
            fun = funnel(x=xs, n=ns, labels=labels, flags=flags)
        out.append(Ranking(MappingProxyType(dict(context)), level, code, kind, shrunk, fun))
    return tuple(out)


def compare_units(
    result_or_df: Any,
    questionnaire: Any = None,
    *,
    unit: str = "unit",
    reference: str = "rest",
    by: str | Sequence[str] = (),
    period: str | None = None,
    adjust: str = "holm",
    levels: Sequence[str] = LEVELS,
    **analyze_options: Any,
) -> ComparisonSet:
    """Each unit against the others, with adjusted p-values, shrinkage and funnel data.

    ``reference="rest"`` (default): each unit against all the other units together, in
    the same context (the other ``by`` keys and period) — two independent samples; needs
    the responses (a DataFrame), since "the rest" is analysed afresh.
    ``reference="pairwise"``: every pair of units (works on an AnalysisResult too).
    p-values are adjusted within each family (one indicator in one context, across the
    units or pairs). Rankings: per context, empirical-Bayes shrinkage
    (:func:`shrink`) and funnel-plot data (:func:`funnel`) of the general index (HL), or of
    the composite when the questionnaire has no general question; flagged units are not
    ranked.

    Parameters
    ----------
    result_or_df : DataFrame, or AnalysisResult grouped by ``unit`` (pairwise only)
    questionnaire : Questionnaire or str (DataFrame input)
    unit : the unit column
    reference : {"rest", "pairwise"}
    by, period : further grouping (the context); DataFrame input only
    adjust : {"holm", "bh"}
    levels : indicators to compare

    Examples
    --------
    >>> import pandas as pd, questionnaires
    >>> q = questionnaires.load("tt01-counter")
    >>> df = pd.DataFrame({"DG1": [3, 2] * 60, "DG2": [3] * 120, "DG3": [2] * 120,
    ...                    "HL": [3, 1, 2, 3] * 20 + [1, 1, 2, 3] * 10,
    ...                    "unit": ["A"] * 40 + ["B"] * 40 + ["C"] * 40})
    >>> res = compare_units(df, q, levels=["general"])
    >>> [(c.label, round(c.difference.estimate, 1)) for c in res.comparisons]
    [('A', 12.5), ('B', 12.5), ('C', -25.0)]
    """
    if reference not in ("rest", "pairwise"):
        raise ValueError(f"reference: must be 'rest' or 'pairwise', got {reference!r}")
    by_t = tuple(c for c in ((by,) if isinstance(by, str) else tuple(by)) if c != unit)
    tallies: list[Any] = []  # the analysis's counts, when it has no design (the rest by subtraction)
    if _is_result(result_or_df):
        if reference == "rest":
            raise ValueError(
                "reference: 'rest' needs the responses (a DataFrame); use 'pairwise' with a result"
            )
        result = result_or_df
        if unit not in result.by:
            raise ValueError(f"unit: the result is not grouped by {unit!r}")
        data = None
    else:
        data = result_or_df
        if not hasattr(data, "columns") or unit not in data.columns:
            raise ValueError(f"unit: column {unit!r} is missing")
        result = _analyze(data, questionnaire, by=(unit, *by_t), period=period, _tallies=tallies,
                          **analyze_options)
    design = bool(result.is_design)
    confidence = result.confidence
    contexts = _by_context(result.groups, unit)

    comparisons: list[Comparison] = []
    if reference == "pairwise":
        for context, units in contexts.items():
            for (la, ga), (lb, gb) in itertools.combinations(units.items(), 2):
                comparisons += compare_groups(
                    ga, gb, design=design, confidence=confidence, levels=levels,
                    keys=dict(context), dimension=unit, label=str(la), reference=str(lb),
                )
    elif tallies and not analyze_options.get("bootstrap"):
        comparisons += _against_rest_by_subtraction(tallies[0], result, unit=unit, levels=levels)
    else:
        assert data is not None
        for label in sorted({u for units in contexts.values() for u in units if u is not None}, key=str):
            comparisons += _against_rest(data, result.questionnaire, unit=unit, label=label, by=by_t,
                                         period=period, levels=levels, confidence=confidence,
                                         analyze_options=analyze_options)
    has_general = result.questionnaire.general is not None
    level, code = ("general", "general") if has_general else ("overall", "overall")
    return ComparisonSet(
        kind="units", adjust=adjust, confidence=confidence, design=design,
        comparisons=_with_adjustment(comparisons, adjust),
        rankings=_rankings(contexts, level, code, design, confidence),
        reference=reference,
    )


_SIDE = "__side__"


def _by_context(groups: Sequence[Any], column: str) -> dict[tuple[Any, ...], dict[Any, Any]]:
    """Groups by their other keys (the context), then by their value of ``column``."""
    contexts: dict[tuple[Any, ...], dict[Any, Any]] = {}
    for g in groups:
        keys = dict(g.keys)
        value = keys.pop(column)
        contexts.setdefault(tuple(keys.items()), {})[value] = g
    return contexts


def _against_rest_by_subtraction(tallies: Any, result: Any, *, unit: str,
                                 levels: Sequence[str]) -> list[Comparison]:
    """Every unit against the rest without a design, in one pass: the tallies of each group
    of the analysis by unit (:mod:`analysis.tallies`: level counts, indicator cross-products,
    answered counts) add up, so the rest of a unit is its context's total minus the unit,
    and its estimates come from the shared estimator. The same numbers as analysing the
    sample once per unit with the unit and the rest as two groups (:func:`_against_rest`),
    at the cost of one count."""
    from .estimator import estimate
    from .tallies import TallySource

    grouping = _Keys([dict(g.keys) for g in result.groups])
    members: dict[tuple[Any, ...], list[int]] = {}
    for g, keys in enumerate(grouping.keys):
        context = tuple((k, v) for k, v in keys.items() if k != unit)
        members.setdefault(context, []).append(g)
    pairs = [(g, context) for g, keys in enumerate(grouping.keys) if keys[unit] is not None
             for context in [tuple((k, v) for k, v in keys.items() if k != unit)] if len(members[context]) > 1]
    if not pairs:
        return []
    mix = np.zeros((len(pairs), tallies.G))
    for row, (g, context) in enumerate(pairs):
        mix[row, members[context]] = 1.0
        mix[row, g] -= 1.0
    source = TallySource(tallies.combine(mix), method=result.ci_method, confidence=result.confidence)
    rest = estimate(result.questionnaire, source, small_n=result.small_n, max_width=result.max_width,
                    grouping=_Keys([{} for _ in pairs]))
    out: list[Comparison] = []
    order = sorted(range(len(pairs)), key=lambda i: str(grouping.keys[pairs[i][0]][unit]))
    for i in order:
        g, context = pairs[i]
        label = grouping.keys[g][unit]
        out += compare_groups(result.groups[g], rest[i], design=False, confidence=result.confidence,
                              levels=levels, keys=dict(context), dimension=unit, label=str(label),
                              reference="rest")
    return out


@dataclass(frozen=True)
class _Keys:
    """The group keys an estimate is assembled under (all a grouping gives the estimator)."""

    keys: list[dict[str, Any]]


def _against_rest(data: Any, questionnaire: Any, *, unit: str, label: Any, by: tuple[str, ...],
                  period: str | None, levels: Sequence[str], confidence: float,
                  analyze_options: Mapping[str, Any]) -> list[Comparison]:
    """One unit against the rest, as two domains of the one design (methodology §4).

    The whole sample is analysed once with each row marked "unit" or "rest", so each side is
    a domain of the whole design (its PSU counts, strata and df are the design's). Without a
    design the two sides share no respondent and are compared as independent samples
    (Newcombe for a proportion). Under a design the difference's variance is that of the
    linearised difference summed per PSU over the whole design
    (:func:`analysis.indices.domain_contrast_variance`), so it carries the covariance of
    sides that share PSUs, with t on the design's df (PSUs − strata of the whole sample).
    """
    from .indices import Influence, analyze, domain_contrast_variance

    sides = np.where(data[unit].astype(object) == label, "unit", "rest")
    kept: list[Influence] = []
    result = analyze(data.assign(**{_SIDE: sides}), questionnaire, by=(_SIDE, *by), period=period,
                     _influence=kept, **analyze_options)
    influence = kept[0]
    design = bool(result.is_design)
    gids = {tuple(keys.items()): g for g, keys in enumerate(influence.grouping.keys)}
    out: list[Comparison] = []
    for context, pair in _by_context(result.groups, _SIDE).items():
        if "unit" not in pair or "rest" not in pair:
            continue
        common = dict(keys=dict(context), dimension=unit, label=str(label), reference="rest")
        if not design:
            out += compare_groups(pair["unit"], pair["rest"], design=False, confidence=confidence,
                                  levels=levels, **common)
            continue
        plus = gids[tuple({_SIDE: "unit", **dict(context)}.items())]
        minus = gids[tuple({_SIDE: "rest", **dict(context)}.items())]
        rest_items = {(lv, code): est for lv, code, est in _indicators(pair["rest"], levels)}
        for level, code, est in _indicators(pair["unit"], levels):
            other = rest_items.get((level, code))
            if other is None:
                continue
            variance = domain_contrast_variance(influence, (level, code), plus, minus)
            flagged = any(getattr(e, "flag", None) for e in (est, other))
            out.append(Comparison(
                keys=MappingProxyType(dict(context)), dimension=unit, label=str(label), reference="rest",
                level=level, code=code,
                difference=diff_with_se(a=_value(est), b=_value(other), se=100.0 * math.sqrt(variance),
                                        n_a=float(est.n), n_b=float(other.n),
                                        df=float(result.df) if result.df else None, confidence=confidence),
                flag="insufficient data" if flagged else None,
            ))
    return out


def comparisons_json(comparisons: ComparisonSet) -> dict[str, Any]:
    """The JSON-ready dict of a :class:`ComparisonSet` (same as its ``to_json()``)."""
    return comparisons.to_json()
