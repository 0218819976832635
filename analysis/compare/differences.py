"""Differences between two estimates: two proportions (Newcombe interval, pooled z test)
and linearised estimates (methodology §4)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..intervals import normal_quantile, normal_two_sided_p


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
