"""Single-proportion confidence intervals, the logit interval for composites, quantiles.

Everything here works on fractions (0–1); :mod:`analysis.indices` converts to percent.
The five single-proportion methods reproduce
``statsmodels.stats.proportion.proportion_confint`` (methodology §3.1) to the last bit,
including its clipping of the Wald, Agresti–Coull and Wilson bounds to [0, 1] and the
Clopper–Pearson bounds 0 at x = 0 and 1 at x = n — except that the Wilson bounds are
exactly 0 at x = 0 and 1 at x = n, where statsmodels leaves rounding noise of ~1e-17.
statsmodels is only a test dependency.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from scipy import stats

#: Method names accepted by :func:`proportion_ci` (``ci_method`` of ``analyze``).
CI_METHODS = ("wilson", "jeffreys", "clopper-pearson", "agresti-coull", "wald")

_ALIASES = {
    "wilson": "wilson",
    "jeffreys": "jeffreys",
    "clopper-pearson": "clopper-pearson",
    "clopper_pearson": "clopper-pearson",
    "beta": "clopper-pearson",
    "exact": "clopper-pearson",
    "agresti-coull": "agresti-coull",
    "agresti_coull": "agresti-coull",
    "wald": "wald",
    "normal": "wald",
}


def normalize_ci_method(method: str) -> str:
    """The canonical name of a single-proportion method; statsmodels' names are accepted.

    >>> normalize_ci_method("beta"), normalize_ci_method("Agresti_Coull")
    ('clopper-pearson', 'agresti-coull')
    """
    key = str(method).strip().lower()
    if key not in _ALIASES:
        raise ValueError(
            f"ci_method: unknown method {method!r}; use one of {', '.join(CI_METHODS)}"
        )
    return _ALIASES[key]


def check_confidence(confidence: Any) -> float:
    """Validate a confidence level (strictly between 0 and 1) and return it as float."""
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        raise ValueError(f"confidence: {confidence!r} is not a number") from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"confidence: must lie strictly between 0 and 1, got {confidence!r}")
    return value


def _alpha(confidence: float) -> float:
    # 1 - 0.95 is 0.05000000000000004 in binary; statsmodels is called with alpha=0.05.
    return round(1.0 - confidence, 15)


@functools.lru_cache(maxsize=64)
def normal_quantile(confidence: float) -> float:
    """The two-sided normal critical value, cached: one scalar scipy call costs about 0.1 ms,
    and a table of comparisons asks for the same few thousands of times."""
    return float(stats.norm.isf(_alpha(check_confidence(confidence)) / 2.0))


def normal_two_sided_p(z: float) -> float:
    """P(|Z| ≥ |z|) for a standard normal Z (= 2·norm.sf(|z|), without scipy's per-call cost)."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def critical_value(confidence: float = 0.95, df: Any = None) -> Any:
    """Two-sided critical value: the normal quantile, or Student's t with ``df`` degrees
    of freedom (scalar or array; ``df`` < 1 gives NaN).

    >>> round(critical_value(0.95), 6), round(critical_value(0.95, 10), 6)
    (1.959964, 2.228139)
    """
    if df is None:
        return normal_quantile(confidence)
    half = _alpha(check_confidence(confidence)) / 2.0
    df_arr = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        q = np.where(df_arr >= 1, stats.t.isf(half, np.maximum(df_arr, 1.0)), np.nan)
    return float(q) if q.ndim == 0 else q


def proportion_ci_array(
    x: Any, n: Any, method: str = "wilson", confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`proportion_ci`: arrays of lower and upper bounds (fractions).

    Where ``n`` is 0 both bounds are NaN; no error is raised.
    """
    method = normalize_ci_method(method)
    alpha = _alpha(check_confidence(confidence)) / 2.0
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    x, n = np.broadcast_arrays(x, n)
    ok = n > 0
    nn = np.where(ok, n, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = x / nn
        if method == "wald":
            half = stats.norm.isf(alpha) * np.sqrt(q * (1 - q) / nn)
            low, high = q - half, q + half
        elif method == "agresti-coull":
            crit = stats.norm.isf(alpha)
            n_c = nn + crit**2
            q_c = (x + crit**2 / 2.0) / n_c
            half = crit * np.sqrt(q_c * (1.0 - q_c) / n_c)
            low, high = q_c - half, q_c + half
        elif method == "wilson":
            crit = stats.norm.isf(alpha)
            crit2 = crit**2
            denom = 1 + crit2 / nn
            center = (q + crit2 / (2 * nn)) / denom
            half = crit * np.sqrt(q * (1.0 - q) / nn + crit2 / (4.0 * nn**2)) / denom
            low, high = center - half, center + half
        elif method == "jeffreys":
            low = stats.beta.ppf(alpha, x + 0.5, nn - x + 0.5)
            high = stats.beta.isf(alpha, x + 0.5, nn - x + 0.5)
        else:  # clopper-pearson
            low = np.where(q == 0, 0.0, stats.beta.ppf(alpha, x, nn - x + 1))
            high = np.where(q == 1, 1.0, stats.beta.isf(alpha, x + 1, nn - x))
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    if method in ("wald", "agresti-coull", "wilson"):
        low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
    if method == "wilson":
        # Exact ends instead of rounding noise (statsmodels gives ~1e-17 at x = 0).
        low = np.where(x == 0, 0.0, low)
        high = np.where(x == n, 1.0, high)
    low = np.where(ok, low, np.nan)
    high = np.where(ok, high, np.nan)
    return low, high


def proportion_ci(
    x: int, n: int, *, method: str = "wilson", confidence: float = 0.95
) -> tuple[float, float]:
    """Confidence interval for a single proportion x/n (simple random sample), as fractions.

    Methods (methodology §3.1), with p = x/n, z the normal quantile for ``confidence``:

    - ``wilson`` (default): (p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)
    - ``jeffreys``: quantiles of Beta(x + ½, n − x + ½)
    - ``clopper-pearson``: Beta(x, n − x + 1) and Beta(x + 1, n − x) quantiles
      (0 when x = 0, 1 when x = n)
    - ``agresti-coull``: Wald interval around (x + z²/2)/(n + z²) with n + z² trials
    - ``wald``: p ± z·sqrt(p(1−p)/n)

    Identical to ``statsmodels.stats.proportion.proportion_confint(x, n, 1 - confidence,
    method)`` with methods ``wilson``, ``jeffreys``, ``beta``, ``agresti_coull``,
    ``normal`` (those names are accepted too).

    Parameters
    ----------
    x, n : int
        Number satisfied and number who answered (0 <= x <= n, n >= 1).
    method : str
        One of ``CI_METHODS``.
    confidence : float
        Confidence level, default 0.95.

    Examples
    --------
    >>> [round(v, 6) for v in proportion_ci(37, 50)]
    [0.604468, 0.841285]
    >>> [round(v, 6) for v in proportion_ci(37, 50, method="clopper-pearson")]
    [0.596552, 0.853699]
    >>> proportion_ci(0, 10, method="beta")[0]
    0.0
    """
    for name, value in (("x", x), ("n", n)):
        if isinstance(value, bool) or not float(value).is_integer():
            raise ValueError(f"{name}: must be a whole number, got {value!r}")
    if n < 1:
        raise ValueError(f"n: must be at least 1, got {n!r}")
    if not 0 <= x <= n:
        raise ValueError(f"x: must lie between 0 and n={n}, got {x!r}")
    low, high = proportion_ci_array(x, n, method, confidence)
    return float(low), float(high)


def logit_ci(theta: Any, se: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    """Logit-scale interval for an index θ (fraction) with standard error ``se``.

    expit(logit θ ± q·se / (θ(1 − θ))), the delta method on the logit scale
    (methodology §3.2). The interval is undefined — NaN here — when θ is 0 or 1 or
    ``q`` is NaN; :func:`analysis.analyze` then applies the rule documented there
    (the interval of perfectly correlated criteria).

    >>> low, high = logit_ci(0.8, 0.04, 1.959964)
    >>> round(float(low), 4), round(float(high), 4)
    (0.7102, 0.8672)
    """
    theta = np.asarray(theta, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    inside = (theta > 0) & (theta < 1)
    t = np.where(inside, theta, 0.5)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        centre = np.log(t / (1 - t))
        half = q * se / (t * (1 - t))
        low = 1.0 / (1.0 + np.exp(-(centre - half)))
        high = 1.0 / (1.0 + np.exp(-(centre + half)))
    low = np.where(inside, low, np.nan)
    high = np.where(inside, high, np.nan)
    return low, high


def normal_ci(estimate: Any, se: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    """estimate ± q·se, element-wise (used for mean scores).

    >>> [float(v) for v in normal_ci(4.0, 0.1, 2.0)]
    [3.8, 4.2]
    """
    estimate = np.asarray(estimate, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        half = np.asarray(q, dtype=np.float64) * np.asarray(se, dtype=np.float64)
    return estimate - half, estimate + half


def _isfinite(value: Any) -> bool:
    return value is not None and math.isfinite(value)
