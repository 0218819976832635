"""Ranking units: empirical-Bayes beta-binomial shrinkage (hyper-parameters by marginal
maximum likelihood)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from .differences import _check_confidence, _nan_to_none

#: Counts per unit: a sequence or a numpy array.
Counts = Sequence[float] | np.ndarray


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
